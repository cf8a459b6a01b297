package rest

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Users: /users, /users/{id} and its settings, /me.

func (a *API) userRoutes() []route {
	const tag = "Users"
	return []route{
		handle(op("list-users", http.MethodGet, "/users", "List users", tag), a.listUsers),
		handle(created(op("create-user", http.MethodPost, "/users", "Create a user", tag)), a.createUser),
		handle(op("get-me", http.MethodGet, "/me", "The signed-in user", tag), a.getMe),
		handle(op("get-user", http.MethodGet, "/users/{id}", "Get a user", tag), a.getUser),
		handle(withErrors(op("update-user", http.MethodPatch, "/users/{id}", "Edit a user's profile", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.updateUser),
		handle(withErrors(op("delete-user", http.MethodDelete, "/users/{id}", "Delete a user", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.deleteUser),
		handle(withErrors(op("set-user-status", http.MethodPut, "/users/{id}/status", "Disable or enable a user", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.setUserStatus),
		handle(op("set-user-password", http.MethodPut, "/users/{id}/password", "Set or reset a user's password", tag), a.setUserPassword),
		handle(withErrors(op("set-user-system-role", http.MethodPut, "/users/{id}/system-role", "Set a user's individual system role", tag),
			http.StatusPreconditionFailed), a.setUserSystemRole),
		handle(withErrors(op("set-user-preferences", http.MethodPut, "/users/{id}/preferences", "Set a user's personal-information preference (R18)", tag),
			http.StatusPreconditionFailed), a.setUserPreferences),
		handle(withErrors(op("set-user-project-rights", http.MethodPut, "/users/{id}/projects/{project_id}", "Set a user's individual rights on a project", tag),
			http.StatusConflict), a.setUserProjectRights),
		handle(op("remove-user-from-project", http.MethodDelete, "/users/{id}/projects/{project_id}", "Remove a user's individual grant on a project", tag),
			a.removeUserFromProject),
	}
}

type userOut = versioned[api.UserBody]

func (a *API) userOut(committed int64, u domain.User) *userOut {
	rev := a.revision(committed)
	return withETag(u.Version, rev, api.UserBody{User: apiUser(u), Revision: rev})
}

// userVersion reads the version of the user the caller sees.
func (a *API) userVersion(ctx context.Context, id string) versionOf {
	return func() (int64, error) {
		u, err := a.svc.GetUser(ctx, caller(ctx), id)
		return u.Version, err
	}
}

// userProjectIn is a user and a project in the path.
type userProjectIn struct {
	IDPath
	ProjectID string `path:"project_id" maxLength:"200"`
}

type userRightsIn struct {
	IDPath
	ProjectID string `path:"project_id" maxLength:"200"`
	Body      api.RightsRequest
}

type listUsersIn struct{ ListParams }

func (a *API) listUsers(ctx context.Context, in *listUsersIn) (*pageOut[api.User], error) {
	p, err := a.svc.ListUsers(ctx, caller(ctx), in.query())
	if err != nil {
		return nil, a.problem(err)
	}
	return pageOf(a, in.r, p, apiUser), nil
}

func (a *API) createUser(ctx context.Context, in *bodyIn[api.CreateUserRequest]) (*userOut, error) {
	b := in.Body
	u, rev, err := a.svc.CreateUser(ctx, caller(ctx), service.NewUser{ID: b.ID, Username: b.Username, Email: b.Email,
		DisplayName: b.DisplayName, Source: domain.UserSource(b.Source), ExternalID: b.ExternalID, Password: b.Password, SystemRoleID: b.SystemRoleID})
	if err != nil {
		return nil, a.problem(err)
	}
	return a.userOut(rev, u), nil
}

func (a *API) getMe(ctx context.Context, _ *struct{}) (*userOut, error) {
	c := caller(ctx)
	u, err := a.svc.GetUser(ctx, c, c.UserID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.userOut(0, u), nil
}

func (a *API) getUser(ctx context.Context, in *IDPath) (*userOut, error) {
	u, err := a.svc.GetUser(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.userOut(0, u), nil
}

func (a *API) updateUser(ctx context.Context, in *versionedIn[api.UpdateUserRequest]) (*userOut, error) {
	b := in.Body
	u, rev, err := updateVersioned(a, in.IfMatch, a.userVersion(ctx, in.ID), func(version int64) (domain.User, int64, error) {
		return a.svc.UpdateUser(ctx, caller(ctx), in.ID, service.UserUpdate{Username: b.Username, Email: b.Email, DisplayName: b.DisplayName, Version: version})
	})
	if err != nil {
		return nil, err
	}
	return a.userOut(rev, u), nil
}

func (a *API) deleteUser(ctx context.Context, in *idIfMatchIn) (*RevisionOut, error) {
	if err := a.checkIfMatch(in.IfMatch, a.userVersion(ctx, in.ID)); err != nil {
		return nil, err
	}
	rev, err := a.svc.DeleteUser(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return a.revisionOut(rev), nil
}

// setUser is a write of one of a user's settings, conditional on the
// If-Match header.
func (a *API) setUser(ctx context.Context, id, ifMatchHeader string, set func() (domain.User, int64, error)) (*userOut, error) {
	if err := a.checkIfMatch(ifMatchHeader, a.userVersion(ctx, id)); err != nil {
		return nil, err
	}
	u, rev, err := set()
	if err != nil {
		return nil, a.problem(err)
	}
	return a.userOut(rev, u), nil
}

func (a *API) setUserStatus(ctx context.Context, in *versionedIn[api.UserStatusRequest]) (*userOut, error) {
	return a.setUser(ctx, in.ID, in.IfMatch, func() (domain.User, int64, error) {
		return a.svc.SetUserStatus(ctx, caller(ctx), in.ID, domain.UserStatus(in.Body.Status))
	})
}

func (a *API) setUserSystemRole(ctx context.Context, in *versionedIn[api.UserRoleRequest]) (*userOut, error) {
	return a.setUser(ctx, in.ID, in.IfMatch, func() (domain.User, int64, error) {
		return a.svc.SetUserSystemRole(ctx, caller(ctx), in.ID, in.Body.RoleID)
	})
}

func (a *API) setUserPreferences(ctx context.Context, in *versionedIn[api.PreferencesRequest]) (*userOut, error) {
	return a.setUser(ctx, in.ID, in.IfMatch, func() (domain.User, int64, error) {
		return a.svc.SetShowPersonalInfo(ctx, caller(ctx), in.ID, in.Body.ShowPersonalInfo)
	})
}

func (a *API) setUserPassword(ctx context.Context, in *idBodyIn[api.PasswordRequest]) (*RevisionOut, error) {
	c := caller(ctx)
	var rev int64
	var err error
	if c.UserID != "" && in.ID == c.UserID {
		rev, err = a.svc.ChangeOwnPassword(ctx, c, in.Body.CurrentPassword, in.Body.Password)
	} else {
		rev, err = a.svc.SetPassword(ctx, c, in.ID, in.Body.Password)
	}
	if err != nil {
		return nil, a.problem(err)
	}
	return a.revisionOut(rev), nil
}

type grantOut = bodyOut[api.GrantBody]

func (a *API) grantOut(committed int64, g domain.ProjectGrant) *grantOut {
	rev := a.revision(committed)
	return &grantOut{Revisioned{rev}, api.GrantBody{ProjectGrant: apiGrant(g), Revision: rev}}
}

func (a *API) setUserProjectRights(ctx context.Context, in *userRightsIn) (*grantOut, error) {
	g, rev, err := a.svc.SetUserProjectRights(ctx, caller(ctx), in.ID, in.ProjectID, in.Body.RoleID, in.Body.Permissions)
	if err != nil {
		return nil, a.problemAt(err, "project_id", "path.project_id", "user_id", "path.id")
	}
	return a.grantOut(rev, g), nil
}

func (a *API) removeUserFromProject(ctx context.Context, in *userProjectIn) (*RevisionOut, error) {
	rev, err := a.svc.RemoveUserFromProject(ctx, caller(ctx), in.ID, in.ProjectID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.revisionOut(rev), nil
}
