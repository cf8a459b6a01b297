package rest

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Projects: /projects, /projects/{id} and its grants.

func (a *API) projectRoutes() []route {
	const tag = "Projects"
	return []route{
		handle(op("list-projects", http.MethodGet, "/projects", "List projects", tag), a.listProjects),
		handle(created(op("create-project", http.MethodPost, "/projects", "Create a project", tag)), a.createProject),
		handle(op("get-project", http.MethodGet, "/projects/{id}", "Get a project", tag), a.getProject),
		handle(withErrors(op("update-project", http.MethodPatch, "/projects/{id}", "Edit a project (membership_mode: R23)", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.updateProject),
		handle(withErrors(op("delete-project", http.MethodDelete, "/projects/{id}", "Delete a project with its groups and grants", tag),
			http.StatusPreconditionFailed), a.deleteProject),
		handle(op("list-project-grants", http.MethodGet, "/projects/{id}/grants", "Who is a member of a project, with which rights", tag), a.listProjectGrants),
	}
}

type projectOut = versioned[api.ProjectBody]

func (a *API) projectOut(committed int64, p domain.Project) *projectOut {
	rev := a.revision(committed)
	return withETag(p.Version, rev, api.ProjectBody{Project: apiProject(p), Revision: rev})
}

func (a *API) projectVersion(ctx context.Context, id string) versionOf {
	return func() (int64, error) {
		p, err := a.svc.GetProject(ctx, caller(ctx), id)
		return p.Version, err
	}
}

type listProjectsIn struct{ ListParams }

func (a *API) listProjects(ctx context.Context, in *listProjectsIn) (*pageOut[api.Project], error) {
	p, err := a.svc.ListProjects(ctx, caller(ctx), in.query())
	if err != nil {
		return nil, a.problem(err)
	}
	return pageOf(a, in.r, p, apiProject), nil
}

func (a *API) createProject(ctx context.Context, in *bodyIn[api.CreateProjectRequest]) (*projectOut, error) {
	b := in.Body
	mode := domain.MembershipMode(b.MembershipMode)
	if mode == "" {
		mode = domain.ModeMultiple
	}
	p, rev, err := a.svc.CreateProject(ctx, caller(ctx), domain.Project{ID: b.ID, Name: b.Name, Description: b.Description, MembershipMode: mode})
	if err != nil {
		return nil, a.problem(err)
	}
	return a.projectOut(rev, p), nil
}

func (a *API) getProject(ctx context.Context, in *IDPath) (*projectOut, error) {
	p, err := a.svc.GetProject(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.projectOut(0, p), nil
}

func (a *API) updateProject(ctx context.Context, in *versionedIn[api.UpdateProjectRequest]) (*projectOut, error) {
	b := in.Body
	var mode *domain.MembershipMode
	if b.MembershipMode != nil {
		m := domain.MembershipMode(*b.MembershipMode)
		mode = &m
	}
	p, rev, err := updateVersioned(a, in.IfMatch, a.projectVersion(ctx, in.ID), func(version int64) (domain.Project, int64, error) {
		return a.svc.UpdateProject(ctx, caller(ctx), in.ID, service.ProjectUpdate{Name: b.Name, Description: b.Description, MembershipMode: mode, Version: version})
	})
	if err != nil {
		return nil, err
	}
	return a.projectOut(rev, p), nil
}

func (a *API) deleteProject(ctx context.Context, in *idIfMatchIn) (*RevisionOut, error) {
	if err := a.checkIfMatch(in.IfMatch, a.projectVersion(ctx, in.ID)); err != nil {
		return nil, err
	}
	rev, err := a.svc.DeleteProject(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return a.revisionOut(rev), nil
}

func (a *API) listProjectGrants(ctx context.Context, in *IDPath) (*itemsOut[api.GrantsBody], error) {
	gs, err := a.svc.ListProjectGrants(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return &itemsOut[api.GrantsBody]{api.GrantsBody{Items: apiList(gs, apiGrant)}}, nil
}
