package rest

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Groups: /groups, /groups/{id} and its grants, domains and projects.
// Members are in members.go, rules in rules.go, folder levels in folders.go.

func (a *API) groupRoutes() []route {
	const tag = "Groups"
	return []route{
		handle(op("list-groups", http.MethodGet, "/groups", "List groups", tag), a.listGroups),
		handle(created(op("create-group", http.MethodPost, "/groups", "Create a group", tag)), a.createGroup),
		handle(op("get-group", http.MethodGet, "/groups/{id}", "Get a group", tag), a.getGroup),
		handle(withErrors(op("update-group", http.MethodPatch, "/groups/{id}", "Rename or describe a group", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.updateGroup),
		handle(withErrors(op("delete-group", http.MethodDelete, "/groups/{id}", "Delete a group (R2, R26, R27)", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.deleteGroup),
		handle(withErrors(op("set-group-system-grants", http.MethodPut, "/groups/{id}/system-grants", "Set a system group's role and permission checkboxes (R8, R9, R22)", tag),
			http.StatusPreconditionFailed), a.setGroupSystemGrants),
		handle(withErrors(op("set-group-default-project-rights", http.MethodPut, "/groups/{id}/default-project-rights", "Set the rights a system group brings into projects", tag),
			http.StatusPreconditionFailed), a.setGroupDefaultProjectRights),
		handle(op("get-group-domains", http.MethodGet, "/groups/{id}/domains", "List a group's accessible domains", tag), a.getGroupDomains),
		handle(withErrors(op("set-group-domains", http.MethodPut, "/groups/{id}/domains", "Replace a group's accessible domains", tag),
			http.StatusPreconditionFailed), a.setGroupDomains),
		handle(op("set-group-project-rights", http.MethodPut, "/groups/{id}/projects/{project_id}", "Set a group's rights in a project where it is present", tag),
			a.setGroupProjectRights),
		handle(withErrors(op("import-group", http.MethodPost, "/groups/{id}/projects/import", "Import a system group into projects", tag),
			http.StatusConflict), a.importGroup),
		handle(op("remove-group-from-projects", http.MethodPost, "/groups/{id}/projects/remove", "Remove a system group from projects (R27)", tag),
			a.removeGroupFromProjects),
	}
}

type groupOut = versioned[api.GroupBody]

func (a *API) groupOut(committed int64, g domain.Group) *groupOut {
	rev := a.revision(committed)
	return withETag(g.Version, rev, api.GroupBody{Group: apiGroup(g), Revision: rev})
}

// groupVersion reads the version of the group the caller sees.
func (a *API) groupVersion(ctx context.Context, id string) versionOf {
	return func() (int64, error) {
		g, err := a.svc.GetGroup(ctx, caller(ctx), id)
		return g.Version, err
	}
}

type listGroupsIn struct {
	ListParams
	Scope     string `query:"scope" enum:"system,project," doc:"Only groups of this scope."`
	ProjectID string `query:"project_id" maxLength:"200" doc:"Only the groups of this project."`
}

func (a *API) listGroups(ctx context.Context, in *listGroupsIn) (*pageOut[api.Group], error) {
	q := in.query()
	q.Scope, q.ProjectID = domain.Scope(in.Scope), in.ProjectID
	p, err := a.svc.ListGroups(ctx, caller(ctx), q)
	if err != nil {
		return nil, a.problem(err)
	}
	return pageOf(a, in.r, p, apiGroup), nil
}

func (a *API) createGroup(ctx context.Context, in *bodyIn[api.CreateGroupRequest]) (*groupOut, error) {
	b := in.Body
	g, rev, err := a.svc.CreateGroup(ctx, caller(ctx), domain.Group{ID: b.ID, Name: b.Name, Description: b.Description, Scope: domain.Scope(b.Scope),
		ProjectID: b.ProjectID, SystemRoleID: b.SystemRoleID, SystemPermissions: b.SystemPermissions,
		DefaultProjectRoleID: b.DefaultProjectRoleID, DefaultProjectPermissions: b.DefaultProjectPermissions})
	if err != nil {
		return nil, a.problem(err)
	}
	return a.groupOut(rev, g), nil
}

func (a *API) getGroup(ctx context.Context, in *IDPath) (*groupOut, error) {
	g, err := a.svc.GetGroup(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.groupOut(0, g), nil
}

func (a *API) updateGroup(ctx context.Context, in *versionedIn[api.UpdateGroupRequest]) (*groupOut, error) {
	g, rev, err := updateVersioned(a, in.IfMatch, a.groupVersion(ctx, in.ID), func(version int64) (domain.Group, int64, error) {
		return a.svc.UpdateGroup(ctx, caller(ctx), in.ID, service.GroupUpdate{Name: in.Body.Name, Description: in.Body.Description, Version: version})
	})
	if err != nil {
		return nil, err
	}
	return a.groupOut(rev, g), nil
}

type deleteGroupIn struct {
	IDPath
	IfMatchHeader
	Members string `query:"members" enum:"keep_users,remove_users," doc:"Project groups (R26): keep_users (default) keeps the members in the project with no access; remove_users removes them from it."`
	Confirm bool   `query:"confirm" doc:"Must be true to delete a system group: it is removed from every project, and its members leave them (R27)."`
}

func (a *API) deleteGroup(ctx context.Context, in *deleteGroupIn) (*bodyOut[api.DeleteGroupBody], error) {
	if err := a.checkIfMatch(in.IfMatch, a.groupVersion(ctx, in.ID)); err != nil {
		return nil, err
	}
	r, rev, err := a.svc.DeleteGroup(ctx, caller(ctx), in.ID, service.DeleteGroupOptions{Members: in.Members, Confirm: in.Confirm})
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id", "members", "query.members", "confirm", "query.confirm")
	}
	rev = a.revision(rev)
	return &bodyOut[api.DeleteGroupBody]{Revisioned{rev}, api.DeleteGroupBody{GroupRemoval: api.GroupRemoval{Projects: apiProjectRefs(r.Projects), Users: r.Users}, Revision: rev}}, nil
}

// setGroup is a write of one of a group's settings, conditional on the
// If-Match header.
func (a *API) setGroup(ctx context.Context, id, ifMatchHeader string, set func() (domain.Group, int64, error)) (*groupOut, error) {
	if err := a.checkIfMatch(ifMatchHeader, a.groupVersion(ctx, id)); err != nil {
		return nil, err
	}
	g, rev, err := set()
	if err != nil {
		return nil, a.problem(err)
	}
	return a.groupOut(rev, g), nil
}

func (a *API) setGroupSystemGrants(ctx context.Context, in *versionedIn[api.SystemGrantsRequest]) (*groupOut, error) {
	return a.setGroup(ctx, in.ID, in.IfMatch, func() (domain.Group, int64, error) {
		return a.svc.SetGroupSystemGrants(ctx, caller(ctx), in.ID, in.Body.SystemRoleID, in.Body.SystemPermissions)
	})
}

func (a *API) setGroupDefaultProjectRights(ctx context.Context, in *versionedIn[api.DefaultRightsRequest]) (*groupOut, error) {
	return a.setGroup(ctx, in.ID, in.IfMatch, func() (domain.Group, int64, error) {
		return a.svc.SetGroupDefaultProjectRights(ctx, caller(ctx), in.ID, in.Body.DefaultProjectRoleID, in.Body.DefaultProjectPermissions)
	})
}

type domainsOut = bodyOut[api.DomainsBody]

func (a *API) domainsOut(committed int64, d []string) *domainsOut {
	rev := a.revision(committed)
	return &domainsOut{Revisioned{rev}, api.DomainsBody{Domains: nonNil(d), Revision: rev}}
}

func (a *API) getGroupDomains(ctx context.Context, in *IDPath) (*domainsOut, error) {
	d, err := a.svc.GroupDomains(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.domainsOut(0, d), nil
}

func (a *API) setGroupDomains(ctx context.Context, in *versionedIn[api.DomainsRequest]) (*domainsOut, error) {
	if err := a.checkIfMatch(in.IfMatch, a.groupVersion(ctx, in.ID)); err != nil {
		return nil, err
	}
	d, rev, err := a.svc.SetGroupDomains(ctx, caller(ctx), in.ID, in.Body.Domains)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.domainsOut(rev, d), nil
}

type groupRightsIn struct {
	IDPath
	ProjectID string `path:"project_id" maxLength:"200"`
	Body      api.RightsRequest
}

func (a *API) setGroupProjectRights(ctx context.Context, in *groupRightsIn) (*grantOut, error) {
	g, rev, err := a.svc.SetGroupProjectRights(ctx, caller(ctx), in.ID, in.ProjectID, in.Body.RoleID, in.Body.Permissions)
	if err != nil {
		return nil, a.problemAt(err, "project_id", "path.project_id", "group_id", "path.id")
	}
	return a.grantOut(rev, g), nil
}

func (a *API) importGroup(ctx context.Context, in *idBodyIn[api.ImportGroupRequest]) (*bodyOut[api.ProjectsBody], error) {
	ps, rev, err := a.svc.ImportGroup(ctx, caller(ctx), in.ID, in.Body.ProjectIDs)
	if err != nil {
		return nil, a.problemAt(err, "group_id", "path.id")
	}
	rev = a.revision(rev)
	return &bodyOut[api.ProjectsBody]{Revisioned{rev}, api.ProjectsBody{Projects: nonNil(apiProjectRefs(ps)), Revision: rev}}, nil
}

func (a *API) removeGroupFromProjects(ctx context.Context, in *idBodyIn[api.RemoveGroupRequest]) (*bodyOut[api.RemoveGroupBody], error) {
	r, rev, err := a.svc.RemoveGroupFromProjects(ctx, caller(ctx), in.ID, in.Body.ProjectIDs, in.Body.Confirm)
	if err != nil {
		return nil, a.problemAt(err, "group_id", "path.id")
	}
	rev = a.revision(rev)
	return &bodyOut[api.RemoveGroupBody]{Revisioned{rev}, api.RemoveGroupBody{GroupRemoval: api.GroupRemoval{Projects: apiProjectRefs(r.Projects), Users: r.Users}, Revision: rev}}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
