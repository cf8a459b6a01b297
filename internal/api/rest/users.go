package rest

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// UserBody is a user as the API shows it, with the revision of the answer.
type UserBody struct {
	domain.User
	Revision int64 `json:"revision,omitempty" doc:"For writes: the revision the change committed at (use it as at_least)."`
}

// UserOut is a user with its ETag.
type UserOut struct {
	ETag string `header:"ETag"`
	Revisioned
	Body UserBody
}

func (a *API) userOut(ctx context.Context, u domain.User) (*UserOut, error) {
	rev := a.revision(ctx)
	return &UserOut{ETag: etag(u.Version), Revisioned: Revisioned{rev}, Body: UserBody{User: u, Revision: rev}}, nil
}

// IDPath is the {id} of a path.
type IDPath struct {
	ID string `path:"id" maxLength:"200"`
}

// IfMatchHeader is the optional If-Match of an update.
type IfMatchHeader struct {
	IfMatch string `header:"If-Match" doc:"The ETag of the object as you read it; 412 when it changed since. Optional: without it the write is unconditional."`
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty" doc:"Pass as cursor to get the next page; absent on the last page."`
}

type pageOut[T any] struct {
	Body Page[T]
}

func (l ListParams) query() service.ListQuery {
	return service.ListQuery{Search: l.Search, Sort: l.Sort, Desc: l.Order == "desc", Cursor: l.Cursor, Limit: l.Limit}
}

// RevisionOut is the answer of a write that returns no object.
type RevisionOut struct {
	Revisioned
	Body RevisionBody
}

// RevisionBody carries the revision a write committed at.
type RevisionBody struct {
	Revision int64 `json:"revision" doc:"The revision the change committed at (use it as at_least)."`
}

func (a *API) revisionOut(ctx context.Context) *RevisionOut {
	rev := a.revision(ctx)
	return &RevisionOut{Revisioned{rev}, RevisionBody{rev}}
}

// CreateUserRequest creates a user.
type CreateUserRequest struct {
	ID           string            `json:"id,omitempty" maxLength:"200" doc:"Optional: chosen by the server when absent."`
	Username     string            `json:"username" maxLength:"1000"`
	Email        string            `json:"email,omitempty" maxLength:"1000"`
	DisplayName  string            `json:"display_name,omitempty" maxLength:"1000"`
	Source       domain.UserSource `json:"source,omitempty" enum:"local,scim,oidc"`
	ExternalID   string            `json:"external_id,omitempty" maxLength:"1000"`
	Password     string            `json:"password,omitempty" maxLength:"1024"`
	SystemRoleID string            `json:"system_role_id,omitempty" maxLength:"200"`
}

type createUserIn struct{ Body CreateUserRequest }

// UpdateUserRequest changes a user's profile; absent fields stay.
type UpdateUserRequest struct {
	Username    *string `json:"username,omitempty" maxLength:"1000"`
	Email       *string `json:"email,omitempty" maxLength:"1000"`
	DisplayName *string `json:"display_name,omitempty" maxLength:"1000"`
}

type updateUserIn struct {
	IDPath
	IfMatchHeader
	Body UpdateUserRequest
}

type statusIn struct {
	IDPath
	IfMatchHeader
	Body struct {
		Status domain.UserStatus `json:"status" enum:"active,disabled" doc:"disabled users hold no permission (R11)"`
	}
}

type passwordIn struct {
	IDPath
	Body struct {
		Password        string `json:"password" minLength:"1" maxLength:"1024" doc:"The new password: 8 to 256 characters (15 or more for administrators when the server says so), not a common password, no NUL (docs/security.md)."`
		CurrentPassword string `json:"current_password,omitempty" maxLength:"1024" doc:"Your current password: required when you change your own password, ignored when you reset someone else's."`
	}
}

type userRoleIn struct {
	IDPath
	IfMatchHeader
	Body struct {
		RoleID string `json:"role_id" maxLength:"200" doc:"A system role id, or empty for none."`
	}
}

type prefIn struct {
	IDPath
	IfMatchHeader
	Body struct {
		ShowPersonalInfo bool `json:"show_personal_info" doc:"R18: personal information is shown to you only while this is on."`
	}
}

// RightsRequest sets rights on a project: a project role and/or permission keys.
type RightsRequest struct {
	RoleID      string   `json:"role_id,omitempty" maxLength:"200"`
	Permissions []string `json:"permissions,omitempty" maxItems:"100" doc:"Project permission keys; empty with no role keeps a member with no access."`
}

type userRightsIn struct {
	IDPath
	ProjectID string `path:"project_id" maxLength:"200"`
	Body      RightsRequest
}

type userProjectIn struct {
	IDPath
	ProjectID string `path:"project_id" maxLength:"200"`
}

// GrantBody is a project grant with the revision the change committed at.
type GrantBody struct {
	domain.ProjectGrant
	Revision int64 `json:"revision"`
}

type grantOut struct {
	Revisioned
	Body GrantBody
}

func (a *API) grantOut(ctx context.Context, g domain.ProjectGrant) *grantOut {
	rev := a.revision(ctx)
	return &grantOut{Revisioned{rev}, GrantBody{g, rev}}
}

type listUsersIn struct{ ListParams }

// userVersion checks If-Match against the user the caller sees.
func (a *API) userVersion(ctx context.Context, id, header string) (int64, error) {
	want, err := ifMatch(header)
	if err != nil {
		return 0, err
	}
	return want, a.checkIfMatch(header, func() (int64, error) {
		u, err := a.svc.GetUser(ctx, caller(ctx), id)
		return u.Version, err
	})
}

func (a *API) registerUsers() {
	api := a.huma
	huma.Register(api, op("list-users", http.MethodGet, "/users", "List users", "Users"),
		func(ctx context.Context, in *listUsersIn) (*pageOut[domain.User], error) {
			p, err := a.svc.ListUsers(ctx, caller(ctx), in.query())
			if err != nil {
				return nil, a.problem(err)
			}
			return pageOf(ctx, p), nil
		})
	o := op("create-user", http.MethodPost, "/users", "Create a user", "Users")
	o.DefaultStatus = http.StatusCreated
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *createUserIn) (*UserOut, error) {
		b := in.Body
		u, err := a.svc.CreateUser(ctx, caller(ctx), service.NewUser{ID: b.ID, Username: b.Username, Email: b.Email,
			DisplayName: b.DisplayName, Source: b.Source, ExternalID: b.ExternalID, Password: b.Password, SystemRoleID: b.SystemRoleID})
		if err != nil {
			return nil, a.problem(err)
		}
		return a.userOut(ctx, u)
	})
	huma.Register(api, op("get-me", http.MethodGet, "/me", "The signed-in user", "Users"),
		func(ctx context.Context, _ *struct{}) (*UserOut, error) {
			c := caller(ctx)
			u, err := a.svc.GetUser(ctx, c, c.UserID)
			if err != nil {
				return nil, a.problem(err)
			}
			return a.userOut(ctx, u)
		})
	huma.Register(api, op("get-user", http.MethodGet, "/users/{id}", "Get a user", "Users"),
		func(ctx context.Context, in *IDPath) (*UserOut, error) {
			u, err := a.svc.GetUser(ctx, caller(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return a.userOut(ctx, u)
		})
	o = op("update-user", http.MethodPatch, "/users/{id}", "Edit a user's profile", "Users")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *updateUserIn) (*UserOut, error) {
		want, err := ifMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		b := in.Body
		u, err := a.svc.UpdateUser(ctx, caller(ctx), in.ID, service.UserUpdate{Username: b.Username, Email: b.Email, DisplayName: b.DisplayName, Version: want})
		if err != nil {
			return nil, a.staleOr(err, want, func() (int64, error) {
				u, err := a.svc.GetUser(ctx, caller(ctx), in.ID)
				return u.Version, err
			})
		}
		return a.userOut(ctx, u)
	})
	o = op("delete-user", http.MethodDelete, "/users/{id}", "Delete a user", "Users")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
	}) (*RevisionOut, error) {
		if _, err := a.userVersion(ctx, in.ID, in.IfMatch); err != nil {
			return nil, err
		}
		if err := a.svc.DeleteUser(ctx, caller(ctx), in.ID); err != nil {
			return nil, a.problemAt(err, "id", "path.id")
		}
		return a.revisionOut(ctx), nil
	})
	o = op("set-user-status", http.MethodPut, "/users/{id}/status", "Disable or enable a user", "Users")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *statusIn) (*UserOut, error) {
		if _, err := a.userVersion(ctx, in.ID, in.IfMatch); err != nil {
			return nil, err
		}
		u, err := a.svc.SetUserStatus(ctx, caller(ctx), in.ID, in.Body.Status)
		if err != nil {
			return nil, a.problem(err)
		}
		return a.userOut(ctx, u)
	})
	huma.Register(api, op("set-user-password", http.MethodPut, "/users/{id}/password", "Set or reset a user's password", "Users"),
		func(ctx context.Context, in *passwordIn) (*RevisionOut, error) {
			c := caller(ctx)
			var err error
			if c.UserID != "" && in.ID == c.UserID {
				err = a.svc.ChangeOwnPassword(ctx, c, in.Body.CurrentPassword, in.Body.Password)
			} else {
				err = a.svc.SetPassword(ctx, c, in.ID, in.Body.Password)
			}
			if err != nil {
				return nil, a.problem(err)
			}
			return a.revisionOut(ctx), nil
		})
	o = op("set-user-system-role", http.MethodPut, "/users/{id}/system-role", "Set a user's individual system role", "Users")
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *userRoleIn) (*UserOut, error) {
		if _, err := a.userVersion(ctx, in.ID, in.IfMatch); err != nil {
			return nil, err
		}
		u, err := a.svc.SetUserSystemRole(ctx, caller(ctx), in.ID, in.Body.RoleID)
		if err != nil {
			return nil, a.problem(err)
		}
		return a.userOut(ctx, u)
	})
	o = op("set-user-preferences", http.MethodPut, "/users/{id}/preferences", "Set a user's personal-information preference (R18)", "Users")
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *prefIn) (*UserOut, error) {
		if _, err := a.userVersion(ctx, in.ID, in.IfMatch); err != nil {
			return nil, err
		}
		u, err := a.svc.SetShowPersonalInfo(ctx, caller(ctx), in.ID, in.Body.ShowPersonalInfo)
		if err != nil {
			return nil, a.problem(err)
		}
		return a.userOut(ctx, u)
	})
	o = op("set-user-project-rights", http.MethodPut, "/users/{id}/projects/{project_id}", "Set a user's individual rights on a project", "Users")
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *userRightsIn) (*grantOut, error) {
		g, err := a.svc.SetUserProjectRights(ctx, caller(ctx), in.ID, in.ProjectID, in.Body.RoleID, in.Body.Permissions)
		if err != nil {
			return nil, a.problemAt(err, "project_id", "path.project_id", "user_id", "path.id")
		}
		return a.grantOut(ctx, g), nil
	})
	huma.Register(api, op("remove-user-from-project", http.MethodDelete, "/users/{id}/projects/{project_id}", "Remove a user's individual grant on a project", "Users"),
		func(ctx context.Context, in *userProjectIn) (*RevisionOut, error) {
			if err := a.svc.RemoveUserFromProject(ctx, caller(ctx), in.ID, in.ProjectID); err != nil {
				return nil, a.problem(err)
			}
			return a.revisionOut(ctx), nil
		})
}
