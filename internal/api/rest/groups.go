package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// GroupBody is a group with the revision of the answer.
type GroupBody struct {
	domain.Group
	Revision int64 `json:"revision,omitempty" doc:"For writes: the revision the change committed at."`
}

// GroupOut is a group with its ETag.
type GroupOut struct {
	ETag string `header:"ETag"`
	Revisioned
	Body GroupBody
}

func (a *API) groupOut(ctx context.Context, g domain.Group) *GroupOut {
	rev := a.revision(ctx)
	return &GroupOut{ETag: etag(g.Version), Revisioned: Revisioned{rev}, Body: GroupBody{g, rev}}
}

// CreateGroupRequest creates a group. The scope is fixed from now on (R1).
type CreateGroupRequest struct {
	ID                        string       `json:"id,omitempty" maxLength:"200"`
	Name                      string       `json:"name" maxLength:"1000"`
	Description               string       `json:"description,omitempty" maxLength:"10000"`
	Scope                     domain.Scope `json:"scope" enum:"system,project" doc:"Fixed at creation (R1)."`
	ProjectID                 string       `json:"project_id,omitempty" maxLength:"200" doc:"Required for a project group."`
	SystemRoleID              string       `json:"system_role_id,omitempty" maxLength:"200"`
	SystemPermissions         []string     `json:"system_permissions,omitempty" maxItems:"100"`
	DefaultProjectRoleID      string       `json:"default_project_role_id,omitempty" maxLength:"200"`
	DefaultProjectPermissions []string     `json:"default_project_permissions,omitempty" maxItems:"100"`
}

// UpdateGroupRequest renames or describes a group; absent fields stay.
type UpdateGroupRequest struct {
	Name        *string `json:"name,omitempty" maxLength:"1000"`
	Description *string `json:"description,omitempty" maxLength:"10000"`
}

// SystemGrantsRequest sets a system group's role and checkboxes; the
// names are the group's own fields.
type SystemGrantsRequest struct {
	SystemRoleID      string   `json:"system_role_id,omitempty" maxLength:"200"`
	SystemPermissions []string `json:"system_permissions,omitempty" maxItems:"100"`
}

// DefaultRightsRequest sets the rights a system group brings into the
// projects it is imported into; the names are the group's own fields.
type DefaultRightsRequest struct {
	DefaultProjectRoleID      string   `json:"default_project_role_id,omitempty" maxLength:"200"`
	DefaultProjectPermissions []string `json:"default_project_permissions,omitempty" maxItems:"100"`
}

type listGroupsIn struct {
	ListParams
	Scope     string `query:"scope" enum:"system,project," doc:"Only groups of this scope."`
	ProjectID string `query:"project_id" maxLength:"200" doc:"Only the groups of this project."`
}

type deleteGroupIn struct {
	IDPath
	IfMatchHeader
	Members string `query:"members" enum:"keep_users,remove_users," doc:"Project groups (R26): keep_users (default) keeps the members in the project with no access; remove_users removes them from it."`
	Confirm bool   `query:"confirm" doc:"Must be true to delete a system group: it is removed from every project, and its members leave them (R27)."`
}

// DeleteGroupBody says what a deletion did.
type DeleteGroupBody struct {
	service.DeleteGroupResult
	Revision int64 `json:"revision"`
}

type deleteGroupOut struct {
	Revisioned
	Body DeleteGroupBody
}

type projectIDsIn struct {
	IDPath
	Body struct {
		ProjectIDs []string `json:"project_ids" minItems:"1" maxItems:"1000"`
	}
}

type removeFromProjectsIn struct {
	IDPath
	Body struct {
		ProjectIDs []string `json:"project_ids" minItems:"1" maxItems:"1000"`
		Confirm    bool     `json:"confirm,omitempty" doc:"Must be true: the group's members leave these projects (R27)."`
	}
}

// ProjectsBody lists projects a change concerned.
type ProjectsBody struct {
	Projects []service.ProjectRef `json:"projects"`
	Revision int64                `json:"revision"`
}

type projectsOut struct {
	Revisioned
	Body ProjectsBody
}

// RemoveGroupBody says what removing a system group from projects did.
type RemoveGroupBody struct {
	service.RemoveGroupResult
	Revision int64 `json:"revision"`
}

type removeGroupOut struct {
	Revisioned
	Body RemoveGroupBody
}

type domainsIn struct {
	IDPath
	IfMatchHeader
	Body struct {
		Domains []string `json:"domains" maxItems:"1000" doc:"The group's accessible domains; replaces the list."`
	}
}

// DomainsBody lists a group's accessible domains.
type DomainsBody struct {
	Domains  []string `json:"domains"`
	Revision int64    `json:"revision"`
}

type domainsOut struct {
	Revisioned
	Body DomainsBody
}

type groupRightsIn struct {
	IDPath
	ProjectID string `path:"project_id" maxLength:"200"`
	Body      RightsRequest
}

// ---- members ----

type listMembersIn struct {
	IDPath
	Search   string `query:"search" maxLength:"256" doc:"Username, display name or email contains this (R28)."`
	Sort     string `query:"sort" enum:"username,display_name,email,created_at,role," doc:"Column (default username)."`
	Order    string `query:"order" enum:"asc,desc,none," doc:"asc (default), desc, or none: the order users were created in."`
	Cursor   string `query:"cursor" maxLength:"1024"`
	Limit    int    `query:"limit" minimum:"1" maximum:"1000"`
	AllUsers bool   `query:"all_users" doc:"List every user with a member flag, as a checkbox list."`
	// Effective lists every user who is a member now, directly or through
	// nested groups, each with the path (issue 20).
	Effective bool `query:"effective" doc:"List every user who is a member now, directly or through nested groups, with the groups between (through); one page."`
}

// AddMembersRequest adds users to a group, or changes their expiry.
type AddMembersRequest struct {
	Members []MemberInput `json:"members" minItems:"1" maxItems:"1000"`
}

// MemberInput is one user to add, with an optional expiry (R6).
type MemberInput struct {
	UserID    string     `json:"user_id" minLength:"1" maxLength:"200"`
	ExpiresAt *time.Time `json:"expires_at,omitempty" doc:"When the membership stops counting (R6); absent for never."`
}

type addMembersIn struct {
	IDPath
	Body AddMembersRequest
}

type removeMembersIn struct {
	IDPath
	Body struct {
		UserIDs []string `json:"user_ids" minItems:"1" maxItems:"1000"`
	}
}

type removeMemberIn struct {
	IDPath
	UserID string `path:"user_id" maxLength:"200"`
}

// MembersBody is the answer to a membership change: the projects concerned (R24, R25).
type MembersBody struct {
	service.MembersResult
	Revision int64 `json:"revision"`
}

type membersOut struct {
	Revisioned
	Body MembersBody
}

func (a *API) membersOut(ctx context.Context, r service.MembersResult) *membersOut {
	rev := a.revision(ctx)
	if r.Projects == nil {
		r.Projects = []service.ProjectRef{}
	}
	return &membersOut{Revisioned{rev}, MembersBody{r, rev}}
}

// groupVersion checks If-Match against the group the caller sees.
func (a *API) groupVersion(ctx context.Context, id, header string) (int64, error) {
	want, err := ifMatch(header)
	if err != nil {
		return 0, err
	}
	return want, a.checkIfMatch(header, func() (int64, error) {
		g, err := a.svc.GetGroup(ctx, caller(ctx), id)
		return g.Version, err
	})
}

func (a *API) registerGroups() {
	api := a.huma
	huma.Register(api, op("list-groups", http.MethodGet, "/groups", "List groups", "Groups"),
		func(ctx context.Context, in *listGroupsIn) (*pageOut[domain.Group], error) {
			q := in.query()
			q.Scope, q.ProjectID = domain.Scope(in.Scope), in.ProjectID
			p, err := a.svc.ListGroups(ctx, caller(ctx), q)
			if err != nil {
				return nil, a.problem(err)
			}
			return pageOf(ctx, p), nil
		})
	o := op("create-group", http.MethodPost, "/groups", "Create a group", "Groups")
	o.DefaultStatus = http.StatusCreated
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *struct{ Body CreateGroupRequest }) (*GroupOut, error) {
		b := in.Body
		g, err := a.svc.CreateGroup(ctx, caller(ctx), domain.Group{ID: b.ID, Name: b.Name, Description: b.Description, Scope: b.Scope,
			ProjectID: b.ProjectID, SystemRoleID: b.SystemRoleID, SystemPermissions: b.SystemPermissions,
			DefaultProjectRoleID: b.DefaultProjectRoleID, DefaultProjectPermissions: b.DefaultProjectPermissions})
		if err != nil {
			return nil, a.problem(err)
		}
		return a.groupOut(ctx, g), nil
	})
	huma.Register(api, op("get-group", http.MethodGet, "/groups/{id}", "Get a group", "Groups"),
		func(ctx context.Context, in *IDPath) (*GroupOut, error) {
			g, err := a.svc.GetGroup(ctx, caller(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return a.groupOut(ctx, g), nil
		})
	o = op("update-group", http.MethodPatch, "/groups/{id}", "Rename or describe a group", "Groups")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
		Body UpdateGroupRequest
	}) (*GroupOut, error) {
		want, err := ifMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		g, err := a.svc.UpdateGroup(ctx, caller(ctx), in.ID, service.GroupUpdate{Name: in.Body.Name, Description: in.Body.Description, Version: want})
		if err != nil {
			return nil, a.staleOr(err, want, func() (int64, error) {
				g, err := a.svc.GetGroup(ctx, caller(ctx), in.ID)
				return g.Version, err
			})
		}
		return a.groupOut(ctx, g), nil
	})
	o = op("delete-group", http.MethodDelete, "/groups/{id}", "Delete a group (R2, R26, R27)", "Groups")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *deleteGroupIn) (*deleteGroupOut, error) {
		if _, err := a.groupVersion(ctx, in.ID, in.IfMatch); err != nil {
			return nil, err
		}
		r, err := a.svc.DeleteGroup(ctx, caller(ctx), in.ID, service.DeleteGroupOptions{Members: in.Members, Confirm: in.Confirm})
		if err != nil {
			return nil, a.problemAt(err, "id", "path.id", "members", "query.members", "confirm", "query.confirm")
		}
		rev := a.revision(ctx)
		return &deleteGroupOut{Revisioned{rev}, DeleteGroupBody{r, rev}}, nil
	})
	o = op("set-group-system-grants", http.MethodPut, "/groups/{id}/system-grants", "Set a system group's role and permission checkboxes (R8, R9, R22)", "Groups")
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
		Body SystemGrantsRequest
	}) (*GroupOut, error) {
		if _, err := a.groupVersion(ctx, in.ID, in.IfMatch); err != nil {
			return nil, err
		}
		g, err := a.svc.SetGroupSystemGrants(ctx, caller(ctx), in.ID, in.Body.SystemRoleID, in.Body.SystemPermissions)
		if err != nil {
			return nil, a.problem(err)
		}
		return a.groupOut(ctx, g), nil
	})
	o = op("set-group-default-project-rights", http.MethodPut, "/groups/{id}/default-project-rights", "Set the rights a system group brings into projects", "Groups")
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
		Body DefaultRightsRequest
	}) (*GroupOut, error) {
		if _, err := a.groupVersion(ctx, in.ID, in.IfMatch); err != nil {
			return nil, err
		}
		g, err := a.svc.SetGroupDefaultProjectRights(ctx, caller(ctx), in.ID, in.Body.DefaultProjectRoleID, in.Body.DefaultProjectPermissions)
		if err != nil {
			return nil, a.problem(err)
		}
		return a.groupOut(ctx, g), nil
	})
	huma.Register(api, op("get-group-domains", http.MethodGet, "/groups/{id}/domains", "List a group's accessible domains", "Groups"),
		func(ctx context.Context, in *IDPath) (*domainsOut, error) {
			d, err := a.svc.GroupDomains(ctx, caller(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			if d == nil {
				d = []string{}
			}
			rev := a.revision(ctx)
			return &domainsOut{Revisioned{rev}, DomainsBody{d, rev}}, nil
		})
	o = op("set-group-domains", http.MethodPut, "/groups/{id}/domains", "Replace a group's accessible domains", "Groups")
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *domainsIn) (*domainsOut, error) {
		if _, err := a.groupVersion(ctx, in.ID, in.IfMatch); err != nil {
			return nil, err
		}
		d, err := a.svc.SetGroupDomains(ctx, caller(ctx), in.ID, in.Body.Domains)
		if err != nil {
			return nil, a.problem(err)
		}
		if d == nil {
			d = []string{}
		}
		rev := a.revision(ctx)
		return &domainsOut{Revisioned{rev}, DomainsBody{d, rev}}, nil
	})
	o = op("set-group-project-rights", http.MethodPut, "/groups/{id}/projects/{project_id}", "Set a group's rights in a project where it is present", "Groups")
	huma.Register(api, o, func(ctx context.Context, in *groupRightsIn) (*grantOut, error) {
		g, err := a.svc.SetGroupProjectRights(ctx, caller(ctx), in.ID, in.ProjectID, in.Body.RoleID, in.Body.Permissions)
		if err != nil {
			return nil, a.problemAt(err, "project_id", "path.project_id", "group_id", "path.id")
		}
		return a.grantOut(ctx, g), nil
	})
	o = op("import-group", http.MethodPost, "/groups/{id}/projects/import", "Import a system group into projects", "Groups")
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *projectIDsIn) (*projectsOut, error) {
		ps, err := a.svc.ImportGroup(ctx, caller(ctx), in.ID, in.Body.ProjectIDs)
		if err != nil {
			return nil, a.problemAt(err, "group_id", "path.id")
		}
		if ps == nil {
			ps = []service.ProjectRef{}
		}
		rev := a.revision(ctx)
		return &projectsOut{Revisioned{rev}, ProjectsBody{ps, rev}}, nil
	})
	o = op("remove-group-from-projects", http.MethodPost, "/groups/{id}/projects/remove", "Remove a system group from projects (R27)", "Groups")
	huma.Register(api, o, func(ctx context.Context, in *removeFromProjectsIn) (*removeGroupOut, error) {
		r, err := a.svc.RemoveGroupFromProjects(ctx, caller(ctx), in.ID, in.Body.ProjectIDs, in.Body.Confirm)
		if err != nil {
			return nil, a.problemAt(err, "group_id", "path.id")
		}
		rev := a.revision(ctx)
		return &removeGroupOut{Revisioned{rev}, RemoveGroupBody{r, rev}}, nil
	})

	// Members.
	huma.Register(api, op("list-members", http.MethodGet, "/groups/{id}/members", "List a group's members (R28)", "Members"),
		func(ctx context.Context, in *listMembersIn) (*pageOut[service.MemberRow], error) {
			p, err := a.svc.ListMembers(ctx, caller(ctx), in.ID, service.MemberQuery{Search: in.Search, Sort: in.Sort, Order: in.Order,
				Cursor: in.Cursor, Limit: in.Limit, AllUsers: in.AllUsers, Effective: in.Effective})
			if err != nil {
				return nil, a.problem(err)
			}
			return pageOf(ctx, p), nil
		})
	o = op("add-members", http.MethodPost, "/groups/{id}/members", "Add users to a group, or change their expiry (R3, R4, R5, R23, R24)", "Members")
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *addMembersIn) (*membersOut, error) {
		ms := make([]service.MemberInput, len(in.Body.Members))
		for i, m := range in.Body.Members {
			ms[i] = service.MemberInput{UserID: m.UserID, ExpiresAt: m.ExpiresAt}
		}
		r, err := a.svc.AddMembers(ctx, caller(ctx), in.ID, ms)
		if err != nil {
			return nil, a.problem(err)
		}
		return a.membersOut(ctx, r), nil
	})
	o = op("remove-members", http.MethodPost, "/groups/{id}/members/remove", "Remove users from a group (R3, R25)", "Members")
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *removeMembersIn) (*membersOut, error) {
		r, err := a.svc.RemoveMembers(ctx, caller(ctx), in.ID, in.Body.UserIDs)
		if err != nil {
			return nil, a.problem(err)
		}
		return a.membersOut(ctx, r), nil
	})
	o = op("remove-member", http.MethodDelete, "/groups/{id}/members/{user_id}", "Remove one user from a group (R3, R25)", "Members")
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *removeMemberIn) (*membersOut, error) {
		r, err := a.svc.RemoveMembers(ctx, caller(ctx), in.ID, []string{in.UserID})
		if err != nil {
			return nil, a.problem(err)
		}
		return a.membersOut(ctx, r), nil
	})
}

func (a *API) register() {
	a.registerQueries()
	a.registerUsers()
	a.registerGroups()
	a.registerNesting()
	a.registerResources()
	a.registerAuditChain()
	a.registerChanges()
}
