package rest

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Roles: /roles and /roles/{id}.

func (a *API) roleRoutes() []route {
	const tag = "Roles"
	return []route{
		handle(op("list-roles", http.MethodGet, "/roles", "List roles", tag), a.listRoles),
		handle(created(op("create-role", http.MethodPost, "/roles", "Create a custom role (R9, R22)", tag)), a.createRole),
		handle(op("get-role", http.MethodGet, "/roles/{id}", "Get a role", tag), a.getRole),
		handle(withErrors(op("update-role", http.MethodPatch, "/roles/{id}", "Edit a role (R9, R22)", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.updateRole),
		handle(withErrors(op("delete-role", http.MethodDelete, "/roles/{id}", "Delete a role (R7: refused while assigned, listing the holders)", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.deleteRole),
	}
}

type roleOut = versioned[api.RoleBody]

func (a *API) roleOut(committed int64, r domain.Role) *roleOut {
	rev := a.revision(committed)
	return withETag(r.Version, rev, api.RoleBody{Role: apiRole(r), Revision: rev})
}

func (a *API) roleVersion(ctx context.Context, id string) versionOf {
	return func() (int64, error) {
		r, err := a.svc.GetRole(ctx, caller(ctx), id)
		return r.Version, err
	}
}

type listRolesIn struct {
	ListParams
	Scope string `query:"scope" enum:"system,project,"`
}

func (a *API) listRoles(ctx context.Context, in *listRolesIn) (*pageOut[api.Role], error) {
	q := in.query()
	q.Scope = domain.Scope(in.Scope)
	p, err := a.svc.ListRoles(ctx, caller(ctx), q)
	if err != nil {
		return nil, a.problem(err)
	}
	return pageOf(a, in.r, p, apiRole), nil
}

func (a *API) createRole(ctx context.Context, in *bodyIn[api.CreateRoleRequest]) (*roleOut, error) {
	b := in.Body
	r, rev, err := a.svc.CreateRole(ctx, caller(ctx), domain.Role{ID: b.ID, Name: b.Name, Description: b.Description, Scope: domain.Scope(b.Scope), Permissions: nonNil(b.Permissions)})
	if err != nil {
		return nil, a.problem(err)
	}
	return a.roleOut(rev, r), nil
}

func (a *API) getRole(ctx context.Context, in *IDPath) (*roleOut, error) {
	r, err := a.svc.GetRole(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.roleOut(0, r), nil
}

func (a *API) updateRole(ctx context.Context, in *versionedIn[api.UpdateRoleRequest]) (*roleOut, error) {
	b := in.Body
	r, rev, err := updateVersioned(a, in.IfMatch, a.roleVersion(ctx, in.ID), func(version int64) (domain.Role, int64, error) {
		return a.svc.UpdateRole(ctx, caller(ctx), in.ID, service.RoleUpdate{Name: b.Name, Description: b.Description, Permissions: b.Permissions, Version: version})
	})
	if err != nil {
		return nil, err
	}
	return a.roleOut(rev, r), nil
}

func (a *API) deleteRole(ctx context.Context, in *idIfMatchIn) (*RevisionOut, error) {
	if err := a.checkIfMatch(in.IfMatch, a.roleVersion(ctx, in.ID)); err != nil {
		return nil, err
	}
	rev, err := a.svc.DeleteRole(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return a.revisionOut(rev), nil
}
