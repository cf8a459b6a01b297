package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// revisionBody is the answer of a write that returns no object.
type revisionBody struct {
	Revision int64 `json:"revision"`
}

// ---- authentication ----

// Login signs in with a username and password: the session cookie is kept
// in the client's jar and sent with the next requests (unless the client
// has a token, which wins). Every failure is the same 401; a throttled
// sign-in is a 429 whose Error.RetryAfter says how long to wait.
func (c *Client) Login(ctx context.Context, username, password string) (Session, error) {
	var s Session
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/login", body: map[string]string{"username": username, "password": password}}, &s)
	return s, err
}

// Logout ends the session on the server and drops its cookie.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/logout"}, nil)
	return err
}

// Me is the signed-in user (401 when anonymous).
func (c *Client) Me(ctx context.Context) (domain.User, error) {
	var u domain.User
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/me"}, &u)
	return u, err
}

// CreateToken makes an API token; its Secret is shown this once.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (NewToken, error) {
	var t NewToken
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/tokens", body: req}, &t)
	return t, err
}

// ListTokens lists a user's tokens (userID "": yours), never their secrets.
func (c *Client) ListTokens(ctx context.Context, userID string) ([]domain.APIToken, error) {
	q := url.Values{}
	set(q, "user_id", userID)
	var p Page[domain.APIToken]
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/tokens", query: q}, &p)
	return p.Items, err
}

// RevokeToken revokes an API token.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/tokens/" + seg(id)}, nil)
	return err
}

// ---- users ----

// ListUsers lists one page of users.
func (c *Client) ListUsers(ctx context.Context, o ListOptions) (Page[domain.User], error) {
	var p Page[domain.User]
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/users", query: o.values()}, &p)
	return p, err
}

// GetUser reads a user; its Version is the ETag for conditional writes.
func (c *Client) GetUser(ctx context.Context, id string) (domain.User, error) {
	return call[domain.User](ctx, c, request{method: http.MethodGet, path: "/users/" + seg(id)})
}

// CreateUser creates a user.
func (c *Client) CreateUser(ctx context.Context, u NewUser) (domain.User, error) {
	return call[domain.User](ctx, c, request{method: http.MethodPost, path: "/users", body: u})
}

// UpdateUser edits a user's profile.
func (c *Client) UpdateUser(ctx context.Context, id string, u UserUpdate) (domain.User, error) {
	return call[domain.User](ctx, c, request{method: http.MethodPatch, path: "/users/" + seg(id), body: u, header: ifMatch(u.Version)})
}

// DeleteUser deletes a user; it returns the revision of the change.
func (c *Client) DeleteUser(ctx context.Context, id string) (int64, error) {
	r, err := call[revisionBody](ctx, c, request{method: http.MethodDelete, path: "/users/" + seg(id)})
	return r.Revision, err
}

// SetUserStatus disables (domain.UserDisabled) or enables a user. A
// disabled user holds no permission and is signed out (R11).
func (c *Client) SetUserStatus(ctx context.Context, id string, status domain.UserStatus) (domain.User, error) {
	return call[domain.User](ctx, c, request{method: http.MethodPut, path: "/users/" + seg(id) + "/status", body: map[string]any{"status": status}})
}

// SetPassword sets or resets a user's password (their sessions end).
func (c *Client) SetPassword(ctx context.Context, id, password string) error {
	_, err := c.do(ctx, request{method: http.MethodPut, path: "/users/" + seg(id) + "/password", body: map[string]string{"password": password}}, nil)
	return err
}

// SetUserSystemRole sets a user's individual system role ("" for none).
func (c *Client) SetUserSystemRole(ctx context.Context, id, roleID string) (domain.User, error) {
	return call[domain.User](ctx, c, request{method: http.MethodPut, path: "/users/" + seg(id) + "/system-role", body: map[string]string{"role_id": roleID}})
}

// SetUserProjectRights sets a user's individual rights on a project.
func (c *Client) SetUserProjectRights(ctx context.Context, userID, projectID string, r Rights) (domain.ProjectGrant, error) {
	return call[domain.ProjectGrant](ctx, c, request{method: http.MethodPut, path: "/users/" + seg(userID) + "/projects/" + seg(projectID), body: r})
}

// RemoveUserFromProject removes a user's individual grant on a project.
func (c *Client) RemoveUserFromProject(ctx context.Context, userID, projectID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/users/" + seg(userID) + "/projects/" + seg(projectID)}, nil)
	return err
}

// ---- groups ----

// ListGroups lists one page of groups.
func (c *Client) ListGroups(ctx context.Context, q GroupQuery) (Page[domain.Group], error) {
	v := q.values()
	set(v, "scope", string(q.Scope))
	set(v, "project_id", q.ProjectID)
	return call[Page[domain.Group]](ctx, c, request{method: http.MethodGet, path: "/groups", query: v})
}

// GetGroup reads a group.
func (c *Client) GetGroup(ctx context.Context, id string) (domain.Group, error) {
	return call[domain.Group](ctx, c, request{method: http.MethodGet, path: "/groups/" + seg(id)})
}

// CreateGroup creates a group.
func (c *Client) CreateGroup(ctx context.Context, g NewGroup) (domain.Group, error) {
	return call[domain.Group](ctx, c, request{method: http.MethodPost, path: "/groups", body: g})
}

// UpdateGroup renames or describes a group.
func (c *Client) UpdateGroup(ctx context.Context, id string, u GroupUpdate) (domain.Group, error) {
	return call[domain.Group](ctx, c, request{method: http.MethodPatch, path: "/groups/" + seg(id), body: u, header: ifMatch(u.Version)})
}

// DeleteGroup deletes a group (R2, R26, R27).
func (c *Client) DeleteGroup(ctx context.Context, id string, o DeleteGroupOptions) (DeleteGroupResult, error) {
	v := url.Values{}
	set(v, "members", o.Members)
	if o.Confirm {
		v.Set("confirm", "true")
	}
	return call[DeleteGroupResult](ctx, c, request{method: http.MethodDelete, path: "/groups/" + seg(id), query: v, header: ifMatch(o.Version)})
}

// SetGroupSystemGrants sets a system group's role and permission
// checkboxes (R8, R9, R22).
func (c *Client) SetGroupSystemGrants(ctx context.Context, id, roleID string, permissions []string) (domain.Group, error) {
	return call[domain.Group](ctx, c, request{method: http.MethodPut, path: "/groups/" + seg(id) + "/system-grants",
		body: map[string]any{"system_role_id": roleID, "system_permissions": nonNil(permissions)}})
}

// SetGroupDefaultProjectRights sets the rights a system group brings into
// the projects it is imported into.
func (c *Client) SetGroupDefaultProjectRights(ctx context.Context, id string, r Rights) (domain.Group, error) {
	return call[domain.Group](ctx, c, request{method: http.MethodPut, path: "/groups/" + seg(id) + "/default-project-rights",
		body: map[string]any{"default_project_role_id": r.RoleID, "default_project_permissions": nonNil(r.Permissions)}})
}

// SetGroupDomains replaces a group's accessible domains.
func (c *Client) SetGroupDomains(ctx context.Context, id string, domains []string) ([]string, error) {
	r, err := call[struct {
		Domains []string `json:"domains"`
	}](ctx, c, request{method: http.MethodPut, path: "/groups/" + seg(id) + "/domains", body: map[string]any{"domains": nonNil(domains)}})
	return r.Domains, err
}

// SetGroupProjectRights sets a group's rights in a project where it is present.
func (c *Client) SetGroupProjectRights(ctx context.Context, groupID, projectID string, r Rights) (domain.ProjectGrant, error) {
	return call[domain.ProjectGrant](ctx, c, request{method: http.MethodPut, path: "/groups/" + seg(groupID) + "/projects/" + seg(projectID), body: r})
}

// ImportGroup imports a system group into projects.
func (c *Client) ImportGroup(ctx context.Context, id string, projectIDs []string) ([]ProjectRef, error) {
	r, err := call[struct {
		Projects []ProjectRef `json:"projects"`
	}](ctx, c, request{method: http.MethodPost, path: "/groups/" + seg(id) + "/projects/import", body: map[string]any{"project_ids": projectIDs}})
	return r.Projects, err
}

// RemoveGroupFromProjects removes a system group from projects; confirm
// must be true, as its members leave them (R27).
func (c *Client) RemoveGroupFromProjects(ctx context.Context, id string, projectIDs []string, confirm bool) (RemoveGroupResult, error) {
	return call[RemoveGroupResult](ctx, c, request{method: http.MethodPost, path: "/groups/" + seg(id) + "/projects/remove",
		body: map[string]any{"project_ids": projectIDs, "confirm": confirm}})
}

// ---- members ----

// ListMembers lists one page of a group's members (R28).
func (c *Client) ListMembers(ctx context.Context, groupID string, q MemberQuery) (Page[MemberRow], error) {
	v := url.Values{}
	set(v, "search", q.Search)
	set(v, "sort", q.Sort)
	set(v, "order", q.Order)
	set(v, "cursor", q.Cursor)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.AllUsers {
		v.Set("all_users", "true")
	}
	if q.Effective {
		v.Set("effective", "true")
	}
	return call[Page[MemberRow]](ctx, c, request{method: http.MethodGet, path: "/groups/" + seg(groupID) + "/members", query: v})
}

// AddMembers adds users to a group, or changes their expiry.
func (c *Client) AddMembers(ctx context.Context, groupID string, members ...MemberInput) (MembersResult, error) {
	return call[MembersResult](ctx, c, request{method: http.MethodPost, path: "/groups/" + seg(groupID) + "/members", body: map[string]any{"members": members}})
}

// RemoveMembers removes users from a group.
func (c *Client) RemoveMembers(ctx context.Context, groupID string, userIDs ...string) (MembersResult, error) {
	return call[MembersResult](ctx, c, request{method: http.MethodPost, path: "/groups/" + seg(groupID) + "/members/remove", body: map[string]any{"user_ids": userIDs}})
}

// ---- roles ----

// ListRoles lists one page of roles; scope "" lists both scopes.
func (c *Client) ListRoles(ctx context.Context, scope domain.Scope, o ListOptions) (Page[domain.Role], error) {
	v := o.values()
	set(v, "scope", string(scope))
	return call[Page[domain.Role]](ctx, c, request{method: http.MethodGet, path: "/roles", query: v})
}

// GetRole reads a role.
func (c *Client) GetRole(ctx context.Context, id string) (domain.Role, error) {
	return call[domain.Role](ctx, c, request{method: http.MethodGet, path: "/roles/" + seg(id)})
}

// CreateRole creates a custom role.
func (c *Client) CreateRole(ctx context.Context, r NewRole) (domain.Role, error) {
	r.Permissions = nonNil(r.Permissions)
	return call[domain.Role](ctx, c, request{method: http.MethodPost, path: "/roles", body: r})
}

// UpdateRole edits a role.
func (c *Client) UpdateRole(ctx context.Context, id string, u RoleUpdate) (domain.Role, error) {
	return call[domain.Role](ctx, c, request{method: http.MethodPatch, path: "/roles/" + seg(id), body: u, header: ifMatch(u.Version)})
}

// DeleteRole deletes a role; while it is assigned the *Error lists its
// Holders (R7).
func (c *Client) DeleteRole(ctx context.Context, id string) (int64, error) {
	r, err := call[revisionBody](ctx, c, request{method: http.MethodDelete, path: "/roles/" + seg(id)})
	return r.Revision, err
}

// ---- projects ----

// ListProjects lists one page of projects.
func (c *Client) ListProjects(ctx context.Context, o ListOptions) (Page[domain.Project], error) {
	return call[Page[domain.Project]](ctx, c, request{method: http.MethodGet, path: "/projects", query: o.values()})
}

// GetProject reads a project.
func (c *Client) GetProject(ctx context.Context, id string) (domain.Project, error) {
	return call[domain.Project](ctx, c, request{method: http.MethodGet, path: "/projects/" + seg(id)})
}

// CreateProject creates a project.
func (c *Client) CreateProject(ctx context.Context, p NewProject) (domain.Project, error) {
	return call[domain.Project](ctx, c, request{method: http.MethodPost, path: "/projects", body: p})
}

// UpdateProject edits a project; switching to exclusive is refused while
// users are in several of its groups, and the error lists them (R23).
func (c *Client) UpdateProject(ctx context.Context, id string, u ProjectUpdate) (domain.Project, error) {
	return call[domain.Project](ctx, c, request{method: http.MethodPatch, path: "/projects/" + seg(id), body: u, header: ifMatch(u.Version)})
}

// DeleteProject deletes a project with its groups and grants.
func (c *Client) DeleteProject(ctx context.Context, id string) (int64, error) {
	r, err := call[revisionBody](ctx, c, request{method: http.MethodDelete, path: "/projects/" + seg(id)})
	return r.Revision, err
}

// ListProjectGrants lists who is a member of a project, with which rights.
func (c *Client) ListProjectGrants(ctx context.Context, id string) ([]domain.ProjectGrant, error) {
	p, err := call[Page[domain.ProjectGrant]](ctx, c, request{method: http.MethodGet, path: "/projects/" + seg(id) + "/grants"})
	return p.Items, err
}

// ---- folders ----

// ListFolderTypes lists the folder types.
func (c *Client) ListFolderTypes(ctx context.Context) ([]domain.FolderType, error) {
	p, err := call[Page[domain.FolderType]](ctx, c, request{method: http.MethodGet, path: "/folder-types"})
	return p.Items, err
}

// CreateFolderType creates a folder type.
func (c *Client) CreateFolderType(ctx context.Context, t FolderTypeRequest) (domain.FolderType, error) {
	return call[domain.FolderType](ctx, c, request{method: http.MethodPost, path: "/folder-types", body: t})
}

// ListFolders lists one page of a folder's children (parentID "": the roots).
func (c *Client) ListFolders(ctx context.Context, parentID string, o ListOptions) (Page[domain.Folder], error) {
	v := o.values()
	set(v, "parent_id", parentID)
	return call[Page[domain.Folder]](ctx, c, request{method: http.MethodGet, path: "/folders", query: v})
}

// GetFolder reads a folder.
func (c *Client) GetFolder(ctx context.Context, id string) (domain.Folder, error) {
	return call[domain.Folder](ctx, c, request{method: http.MethodGet, path: "/folders/" + seg(id)})
}

// CreateFolder registers a folder.
func (c *Client) CreateFolder(ctx context.Context, f NewFolder) (domain.Folder, error) {
	return call[domain.Folder](ctx, c, request{method: http.MethodPost, path: "/folders", body: f})
}

// UpdateFolder renames, moves or re-describes a folder.
func (c *Client) UpdateFolder(ctx context.Context, id string, u FolderUpdate) (domain.Folder, error) {
	return call[domain.Folder](ctx, c, request{method: http.MethodPatch, path: "/folders/" + seg(id), body: u, header: ifMatch(u.Version)})
}

// DeleteFolder deletes a folder and its subtree.
func (c *Client) DeleteFolder(ctx context.Context, id string) (int64, error) {
	r, err := call[revisionBody](ctx, c, request{method: http.MethodDelete, path: "/folders/" + seg(id)})
	return r.Revision, err
}

// ListFolderLevels lists the group levels set on a folder.
func (c *Client) ListFolderLevels(ctx context.Context, folderID string) ([]domain.FolderLevel, error) {
	p, err := call[Page[domain.FolderLevel]](ctx, c, request{method: http.MethodGet, path: "/folders/" + seg(folderID) + "/levels"})
	return p.Items, err
}

// SetFolderLevel sets a group's level on a folder (R15, R22).
func (c *Client) SetFolderLevel(ctx context.Context, folderID, groupID string, level domain.Level) (domain.FolderLevel, error) {
	return call[domain.FolderLevel](ctx, c, request{method: http.MethodPut, path: "/folders/" + seg(folderID) + "/levels/" + seg(groupID),
		body: map[string]any{"level": level}})
}

// DeleteFolderLevel removes a group's entry on a folder.
func (c *Client) DeleteFolderLevel(ctx context.Context, folderID, groupID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/folders/" + seg(folderID) + "/levels/" + seg(groupID)}, nil)
	return err
}

// ListRules lists a group's rules.
func (c *Client) ListRules(ctx context.Context, groupID string) ([]domain.Rule, error) {
	p, err := call[Page[domain.Rule]](ctx, c, request{method: http.MethodGet, path: "/groups/" + seg(groupID) + "/rules"})
	return p.Items, err
}

// CreateRule adds a rule to a group (R10, R16, R22).
func (c *Client) CreateRule(ctx context.Context, groupID string, r RuleRequest) (domain.Rule, error) {
	return call[domain.Rule](ctx, c, request{method: http.MethodPost, path: "/groups/" + seg(groupID) + "/rules", body: r})
}

// DeleteRule deletes a rule.
func (c *Client) DeleteRule(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/rules/" + seg(id)}, nil)
	return err
}

// ---- checks ----

// Check asks whether a subject may do a permission on a resource.
func (c *Client) Check(ctx context.Context, req CheckRequest) (CheckResult, error) {
	return call[CheckResult](ctx, c, request{method: http.MethodPost, path: "/check", body: req})
}

// BatchCheck answers up to 1000 checks on one revision.
func (c *Client) BatchCheck(ctx context.Context, cons Consistency, checks ...CheckItem) (BatchCheckResult, error) {
	return call[BatchCheckResult](ctx, c, request{method: http.MethodPost, path: "/check/batch", body: struct {
		Checks []CheckItem `json:"checks"`
		Consistency
	}{checks, cons}})
}

// Explain says why a check is allowed or denied (R19).
func (c *Client) Explain(ctx context.Context, req CheckRequest) (Explanation, error) {
	return call[Explanation](ctx, c, request{method: http.MethodPost, path: "/explain", body: req})
}

// ListResources lists the resources a subject may act on.
func (c *Client) ListResources(ctx context.Context, q ResourcesQuery) (Resources, error) {
	v := url.Values{}
	set(v, "subject", q.Subject)
	set(v, "permission", q.Permission)
	set(v, "kind", q.Kind)
	set(v, "under", q.Under)
	return call[Resources](ctx, c, request{method: http.MethodGet, path: "/resources", query: q.Consistency.values(v)})
}

// ListSubjects lists the users allowed a permission on a resource
// (needs users.view).
func (c *Client) ListSubjects(ctx context.Context, permission, resource string, cons Consistency) (Subjects, error) {
	v := url.Values{}
	set(v, "permission", permission)
	set(v, "resource", resource)
	return call[Subjects](ctx, c, request{method: http.MethodGet, path: "/subjects", query: cons.values(v)})
}

// EffectivePermissions lists every permission a subject ("" for the
// caller) holds on a resource.
func (c *Client) EffectivePermissions(ctx context.Context, subject, resource string, cons Consistency) (Effective, error) {
	v := url.Values{}
	set(v, "subject", subject)
	set(v, "resource", resource)
	return call[Effective](ctx, c, request{method: http.MethodGet, path: "/effective-permissions", query: cons.values(v)})
}

// ---- audit ----

// ListAudit lists one page of the audit log, newest first (audit.view).
func (c *Client) ListAudit(ctx context.Context, q AuditQuery) (Page[domain.AuditEvent], error) {
	v := url.Values{}
	set(v, "actor_id", q.ActorID)
	set(v, "target_kind", q.TargetKind)
	set(v, "target_id", q.TargetID)
	set(v, "action", q.Action)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	set(v, "cursor", q.Cursor)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return call[Page[domain.AuditEvent]](ctx, c, request{method: http.MethodGet, path: "/audit", query: v})
}

// call sends req and decodes the answer as a T.
func call[T any](ctx context.Context, c *Client, req request) (T, error) {
	var out T
	_, err := c.do(ctx, req, &out)
	return out, err
}

// nonNil sends an empty list as [] rather than null: for the replacing
// PUTs, "none" is a list, not an absent field.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ---- configuration as code (gatehouse export / apply) ----

// SetShowPersonalInfo sets a user's personal-information preference (R18).
func (c *Client) SetShowPersonalInfo(ctx context.Context, id string, show bool) (domain.User, error) {
	return call[domain.User](ctx, c, request{method: http.MethodPut, path: "/users/" + seg(id) + "/preferences", body: map[string]bool{"show_personal_info": show}})
}

// GroupDomains lists a group's accessible domains.
func (c *Client) GroupDomains(ctx context.Context, id string) ([]string, error) {
	r, err := call[struct {
		Domains []string `json:"domains"`
	}](ctx, c, request{method: http.MethodGet, path: "/groups/" + seg(id) + "/domains"})
	return r.Domains, err
}

// UpdateFolderType renames a folder type or adds contexts and properties
// (none can be removed).
func (c *Client) UpdateFolderType(ctx context.Context, id string, t FolderTypeRequest) (domain.FolderType, error) {
	t.ID = ""
	return call[domain.FolderType](ctx, c, request{method: http.MethodPut, path: "/folder-types/" + seg(id), body: t})
}

// DeleteFolderType deletes a folder type no folder or rule uses.
func (c *Client) DeleteFolderType(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/folder-types/" + seg(id)}, nil)
	return err
}

// UpdateRule replaces a rule's name, criteria and matrix.
func (c *Client) UpdateRule(ctx context.Context, id string, r RuleRequest) (domain.Rule, error) {
	r.ID = ""
	return call[domain.Rule](ctx, c, request{method: http.MethodPut, path: "/rules/" + seg(id), body: r})
}

// RemoveMember removes one user from a group (R3, R25).
func (c *Client) RemoveMember(ctx context.Context, groupID, userID string) (MembersResult, error) {
	return call[MembersResult](ctx, c, request{method: http.MethodDelete, path: "/groups/" + seg(groupID) + "/members/" + seg(userID)})
}

// Call sends one request to the API (path under /api/v1, its ids already
// escaped with url.PathEscape) and returns the JSON answer as the server
// sent it: the command line prints it for --json, so that its output is
// the API's own, and decodes it for its tables.
func (c *Client) Call(ctx context.Context, method, path string, query url.Values, body any) (json.RawMessage, error) {
	var raw json.RawMessage
	_, err := c.do(ctx, request{method: method, path: path, query: query, body: body}, &raw)
	return raw, err
}
