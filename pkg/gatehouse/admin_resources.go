package gatehouse

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Roles, projects, folder types, folders, folder levels and rules.

// ListRoles lists one page of roles; scope "" lists both scopes.
func (c *Client) ListRoles(ctx context.Context, scope string, o ListOptions) (api.Page[api.Role], error) {
	v := o.values()
	setQuery(v, "scope", scope)
	return read[api.Page[api.Role]](ctx, c, withQuery("/roles", v))
}

// GetRole reads a role.
func (c *Client) GetRole(ctx context.Context, id string) (api.RoleBody, error) {
	return read[api.RoleBody](ctx, c, "/roles/"+seg(id))
}

// CreateRole creates a custom role.
func (c *Client) CreateRole(ctx context.Context, r api.CreateRoleRequest) (api.RoleBody, error) {
	r.Permissions = nonNil(r.Permissions)
	return write[api.RoleBody](ctx, c, http.MethodPost, "/roles", r, 0)
}

// UpdateRole edits a role (conditional on version when not 0).
func (c *Client) UpdateRole(ctx context.Context, id string, u api.UpdateRoleRequest, version int64) (api.RoleBody, error) {
	return write[api.RoleBody](ctx, c, http.MethodPatch, "/roles/"+seg(id), u, version)
}

// DeleteRole deletes a role; while it is assigned the *Error lists its
// Holders (R7).
func (c *Client) DeleteRole(ctx context.Context, id string, version int64) (int64, error) {
	return writeRevision(ctx, c, http.MethodDelete, "/roles/"+seg(id), nil, version)
}

// ListProjects lists one page of projects.
func (c *Client) ListProjects(ctx context.Context, o ListOptions) (api.Page[api.Project], error) {
	return read[api.Page[api.Project]](ctx, c, withQuery("/projects", o.values()))
}

// GetProject reads a project.
func (c *Client) GetProject(ctx context.Context, id string) (api.ProjectBody, error) {
	return read[api.ProjectBody](ctx, c, "/projects/"+seg(id))
}

// CreateProject creates a project.
func (c *Client) CreateProject(ctx context.Context, p api.CreateProjectRequest) (api.ProjectBody, error) {
	return write[api.ProjectBody](ctx, c, http.MethodPost, "/projects", p, 0)
}

// UpdateProject edits a project (conditional on version when not 0).
func (c *Client) UpdateProject(ctx context.Context, id string, u api.UpdateProjectRequest, version int64) (api.ProjectBody, error) {
	return write[api.ProjectBody](ctx, c, http.MethodPatch, "/projects/"+seg(id), u, version)
}

// DeleteProject deletes a project with its groups and grants.
func (c *Client) DeleteProject(ctx context.Context, id string, version int64) (int64, error) {
	return writeRevision(ctx, c, http.MethodDelete, "/projects/"+seg(id), nil, version)
}

// ListProjectGrants lists who is a member of a project, with which rights.
func (c *Client) ListProjectGrants(ctx context.Context, id string) ([]api.ProjectGrant, error) {
	b, err := read[api.GrantsBody](ctx, c, "/projects/"+seg(id)+"/grants")
	return b.Items, err
}

// ListFolderTypes lists every folder type.
func (c *Client) ListFolderTypes(ctx context.Context) ([]api.FolderType, error) {
	p, err := read[api.Page[api.FolderType]](ctx, c, "/folder-types")
	return p.Items, err
}

// GetFolderType reads a folder type.
func (c *Client) GetFolderType(ctx context.Context, id string) (api.FolderTypeBody, error) {
	return read[api.FolderTypeBody](ctx, c, "/folder-types/"+seg(id))
}

// CreateFolderType creates a folder type.
func (c *Client) CreateFolderType(ctx context.Context, t api.FolderTypeRequest) (api.FolderTypeBody, error) {
	return write[api.FolderTypeBody](ctx, c, http.MethodPost, "/folder-types", t, 0)
}

// UpdateFolderType renames a folder type or adds contexts and properties
// (none can be removed); conditional on version when not 0.
func (c *Client) UpdateFolderType(ctx context.Context, id string, t api.FolderTypeRequest, version int64) (api.FolderTypeBody, error) {
	t.ID = ""
	return write[api.FolderTypeBody](ctx, c, http.MethodPut, "/folder-types/"+seg(id), t, version)
}

// DeleteFolderType deletes a folder type no folder or rule uses.
func (c *Client) DeleteFolderType(ctx context.Context, id string) (int64, error) {
	return writeRevision(ctx, c, http.MethodDelete, "/folder-types/"+seg(id), nil, 0)
}

// ListFolders lists one page of a folder's children (parentID "": the roots).
func (c *Client) ListFolders(ctx context.Context, parentID string, o ListOptions) (api.Page[api.Folder], error) {
	v := o.values()
	setQuery(v, "parent_id", parentID)
	return read[api.Page[api.Folder]](ctx, c, withQuery("/folders", v))
}

// GetFolder reads a folder.
func (c *Client) GetFolder(ctx context.Context, id string) (api.FolderBody, error) {
	return read[api.FolderBody](ctx, c, "/folders/"+seg(id))
}

// CreateFolder registers a folder.
func (c *Client) CreateFolder(ctx context.Context, f api.CreateFolderRequest) (api.FolderBody, error) {
	return write[api.FolderBody](ctx, c, http.MethodPost, "/folders", f, 0)
}

// UpdateFolder renames, moves or re-describes a folder (conditional on
// version when not 0).
func (c *Client) UpdateFolder(ctx context.Context, id string, u api.UpdateFolderRequest, version int64) (api.FolderBody, error) {
	return write[api.FolderBody](ctx, c, http.MethodPatch, "/folders/"+seg(id), u, version)
}

// DeleteFolder deletes a folder and its subtree.
func (c *Client) DeleteFolder(ctx context.Context, id string, version int64) (int64, error) {
	return writeRevision(ctx, c, http.MethodDelete, "/folders/"+seg(id), nil, version)
}

// ListFolderLevels lists the group levels set on a folder.
func (c *Client) ListFolderLevels(ctx context.Context, folderID string) ([]api.FolderLevel, error) {
	b, err := read[api.LevelsBody](ctx, c, "/folders/"+seg(folderID)+"/levels")
	return b.Items, err
}

// SetFolderLevel sets a group's level on a folder (R15, R22): none, view,
// download, edit, upload, delete, create_folder or delete_folder.
func (c *Client) SetFolderLevel(ctx context.Context, folderID, groupID, level string) (api.LevelBody, error) {
	return write[api.LevelBody](ctx, c, http.MethodPut, "/folders/"+seg(folderID)+"/levels/"+seg(groupID), api.LevelRequest{Level: level}, 0)
}

// DeleteFolderLevel removes a group's entry on a folder (the level inherits again).
func (c *Client) DeleteFolderLevel(ctx context.Context, folderID, groupID string) (int64, error) {
	return writeRevision(ctx, c, http.MethodDelete, "/folders/"+seg(folderID)+"/levels/"+seg(groupID), nil, 0)
}

// ListRules lists a group's rules.
func (c *Client) ListRules(ctx context.Context, groupID string) ([]api.Rule, error) {
	b, err := read[api.RulesBody](ctx, c, "/groups/"+seg(groupID)+"/rules")
	return b.Items, err
}

// GetRule reads a rule.
func (c *Client) GetRule(ctx context.Context, id string) (api.RuleBody, error) {
	return read[api.RuleBody](ctx, c, "/rules/"+seg(id))
}

// CreateRule adds a rule to a group (R10, R16, R22).
func (c *Client) CreateRule(ctx context.Context, groupID string, r api.RuleRequest) (api.RuleBody, error) {
	return write[api.RuleBody](ctx, c, http.MethodPost, "/groups/"+seg(groupID)+"/rules", r, 0)
}

// UpdateRule replaces a rule's name, criteria and matrix (conditional on
// version when not 0).
func (c *Client) UpdateRule(ctx context.Context, id string, r api.RuleRequest, version int64) (api.RuleBody, error) {
	r.ID = ""
	return write[api.RuleBody](ctx, c, http.MethodPut, "/rules/"+seg(id), r, version)
}

// DeleteRule deletes a rule.
func (c *Client) DeleteRule(ctx context.Context, id string) (int64, error) {
	return writeRevision(ctx, c, http.MethodDelete, "/rules/"+seg(id), nil, 0)
}
