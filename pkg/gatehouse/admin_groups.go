package gatehouse

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Groups, members and group rights.

// GroupQuery filters ListGroups.
type GroupQuery struct {
	ListOptions
	Scope     string // api.ScopeSystem or api.ScopeProject; empty: both
	ProjectID string
}

// ListGroups lists one page of groups.
func (c *Client) ListGroups(ctx context.Context, q GroupQuery) (api.Page[api.Group], error) {
	v := q.values()
	setQuery(v, "scope", q.Scope)
	setQuery(v, "project_id", q.ProjectID)
	return read[api.Page[api.Group]](ctx, c, withQuery("/groups", v))
}

// GetGroup reads a group.
func (c *Client) GetGroup(ctx context.Context, id string) (api.GroupBody, error) {
	return read[api.GroupBody](ctx, c, "/groups/"+seg(id))
}

// CreateGroup creates a group; its scope is fixed from then on (R1).
func (c *Client) CreateGroup(ctx context.Context, g api.CreateGroupRequest) (api.GroupBody, error) {
	return write[api.GroupBody](ctx, c, http.MethodPost, "/groups", g, 0)
}

// UpdateGroup renames or describes a group (conditional on version when not 0).
func (c *Client) UpdateGroup(ctx context.Context, id string, u api.UpdateGroupRequest, version int64) (api.GroupBody, error) {
	return write[api.GroupBody](ctx, c, http.MethodPatch, "/groups/"+seg(id), u, version)
}

// DeleteGroupOptions are R26's and R27's choices.
type DeleteGroupOptions struct {
	Members string // project groups: keep_users (default) or remove_users
	Confirm bool   // system groups: required
	Version int64  // when not 0, the delete is conditional
}

// DeleteGroup deletes a group (R2, R26, R27).
func (c *Client) DeleteGroup(ctx context.Context, id string, o DeleteGroupOptions) (api.DeleteGroupBody, error) {
	v := url.Values{}
	setQuery(v, "members", o.Members)
	if o.Confirm {
		v.Set("confirm", "true")
	}
	return write[api.DeleteGroupBody](ctx, c, http.MethodDelete, withQuery("/groups/"+seg(id), v), nil, o.Version)
}

// SetGroupSystemGrants sets a system group's role and permission
// checkboxes (R8, R9, R22).
func (c *Client) SetGroupSystemGrants(ctx context.Context, id string, r api.SystemGrantsRequest) (api.GroupBody, error) {
	r.SystemPermissions = nonNil(r.SystemPermissions)
	return write[api.GroupBody](ctx, c, http.MethodPut, "/groups/"+seg(id)+"/system-grants", r, 0)
}

// SetGroupDefaultProjectRights sets the rights a system group brings into
// the projects it is imported into.
func (c *Client) SetGroupDefaultProjectRights(ctx context.Context, id string, r api.DefaultRightsRequest) (api.GroupBody, error) {
	r.DefaultProjectPermissions = nonNil(r.DefaultProjectPermissions)
	return write[api.GroupBody](ctx, c, http.MethodPut, "/groups/"+seg(id)+"/default-project-rights", r, 0)
}

// GroupDomains lists a group's accessible domains.
func (c *Client) GroupDomains(ctx context.Context, id string) (api.DomainsBody, error) {
	return read[api.DomainsBody](ctx, c, "/groups/"+seg(id)+"/domains")
}

// SetGroupDomains replaces a group's accessible domains.
func (c *Client) SetGroupDomains(ctx context.Context, id string, domains []string) (api.DomainsBody, error) {
	return write[api.DomainsBody](ctx, c, http.MethodPut, "/groups/"+seg(id)+"/domains", api.DomainsRequest{Domains: nonNil(domains)}, 0)
}

// SetGroupProjectRights sets a group's rights in a project where it is present.
func (c *Client) SetGroupProjectRights(ctx context.Context, groupID, projectID string, r api.RightsRequest) (api.GrantBody, error) {
	return write[api.GrantBody](ctx, c, http.MethodPut, "/groups/"+seg(groupID)+"/projects/"+seg(projectID), r, 0)
}

// ImportGroup imports a system group into projects.
func (c *Client) ImportGroup(ctx context.Context, id string, projectIDs []string) (api.ProjectsBody, error) {
	return write[api.ProjectsBody](ctx, c, http.MethodPost, "/groups/"+seg(id)+"/projects/import", api.ImportGroupRequest{ProjectIDs: projectIDs}, 0)
}

// RemoveGroupFromProjects removes a system group from projects; confirm
// must be true, as its members leave them (R27).
func (c *Client) RemoveGroupFromProjects(ctx context.Context, id string, projectIDs []string, confirm bool) (api.RemoveGroupBody, error) {
	return write[api.RemoveGroupBody](ctx, c, http.MethodPost, "/groups/"+seg(id)+"/projects/remove",
		api.RemoveGroupRequest{ProjectIDs: projectIDs, Confirm: confirm}, 0)
}

// ListGroupFolderLevels lists the folder levels a group holds.
func (c *Client) ListGroupFolderLevels(ctx context.Context, groupID string) ([]api.FolderLevel, error) {
	b, err := read[api.LevelsBody](ctx, c, "/groups/"+seg(groupID)+"/folder-levels")
	return b.Items, err
}

// ---- members ----

// MemberQuery pages, searches and sorts a group's members (R28).
type MemberQuery struct {
	Search   string
	Sort     string // username (default), display_name, email, created_at, role
	Order    string // asc (default), desc, or none
	Cursor   string
	Limit    int
	AllUsers bool // every user, with a Member flag
	// Effective lists every user who is a member now, directly or
	// through nested groups, with the groups between (MemberRow.Through);
	// one page.
	Effective bool
}

// ListMembers lists one page of a group's members (R28).
func (c *Client) ListMembers(ctx context.Context, groupID string, q MemberQuery) (api.Page[api.MemberRow], error) {
	v := url.Values{}
	setQuery(v, "search", q.Search)
	setQuery(v, "sort", q.Sort)
	setQuery(v, "order", q.Order)
	setQuery(v, "cursor", q.Cursor)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.AllUsers {
		v.Set("all_users", "true")
	}
	if q.Effective {
		v.Set("effective", "true")
	}
	return read[api.Page[api.MemberRow]](ctx, c, withQuery("/groups/"+seg(groupID)+"/members", v))
}

// AddMembers adds users to a group, or changes their expiry.
func (c *Client) AddMembers(ctx context.Context, groupID string, members ...api.MemberInput) (api.MembersBody, error) {
	return write[api.MembersBody](ctx, c, http.MethodPost, "/groups/"+seg(groupID)+"/members", api.AddMembersRequest{Members: members}, 0)
}

// RemoveMembers removes users from a group.
func (c *Client) RemoveMembers(ctx context.Context, groupID string, userIDs ...string) (api.MembersBody, error) {
	return write[api.MembersBody](ctx, c, http.MethodPost, "/groups/"+seg(groupID)+"/members/remove", api.RemoveMembersRequest{UserIDs: userIDs}, 0)
}

// RemoveMember removes one user from a group (R3, R25).
func (c *Client) RemoveMember(ctx context.Context, groupID, userID string) (api.MembersBody, error) {
	return write[api.MembersBody](ctx, c, http.MethodDelete, "/groups/"+seg(groupID)+"/members/"+seg(userID), nil, 0)
}
