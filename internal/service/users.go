package service

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/identifier"
	"github.com/gatehouse/gatehouse/internal/store"
)

// NewUser is the input of CreateUser.
type NewUser struct {
	ID          string            `json:"id,omitempty"`
	Username    string            `json:"username"`
	Email       string            `json:"email,omitempty"`
	DisplayName string            `json:"display_name,omitempty"`
	Source      domain.UserSource `json:"source,omitempty"`
	ExternalID  string            `json:"external_id,omitempty"`
	// Password, when set, is hashed with argon2id; a local user without
	// one cannot sign in until it is set.
	Password string `json:"password,omitempty"`
	// SystemRoleID is the individual system role; none by default (the
	// console preselects System Manager as [S5] does).
	SystemRoleID string `json:"system_role_id,omitempty"`
}

// CreateUser creates a user (users.edit; an individual role is checked as
// SetUserSystemRole checks it).
func (s *Service) CreateUser(ctx context.Context, c Caller, in NewUser) (domain.User, int64, error) {
	const op, action = "service.CreateUser", "user.create"
	u := domain.User{ID: in.ID, Username: in.Username, Email: in.Email, DisplayName: in.DisplayName, Status: domain.UserActive,
		Source: in.Source, ExternalID: in.ExternalID, SystemRoleID: in.SystemRoleID, ShowPersonalInfo: true}
	var hash string
	if in.Password != "" {
		// A new user is in no group yet, so the administrators' length
		// does not apply.
		if err := s.policy.Check(in.Password, strings.TrimSpace(in.Username), false); err != nil {
			return u, 0, invalid(op, "password", "%v", err)
		}
		var err error
		// Hashed before the transaction: argon2id is slow on purpose and
		// should not hold the write lock.
		if hash, err = password.Hash(in.Password, s.params); err != nil {
			return u, 0, invalid(op, "password", "%v", err)
		}
	}
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		return s.insertUser(ctx, tx, c, op, action, &u, hash, "")
	})
	return u, rev, err
}

// insertUser creates u (users.edit; an individual role as
// SetUserSystemRole checks it) with its password hash, if any, and its
// audit record: CreateUser and SCIM's create.
func (s *Service) insertUser(ctx context.Context, tx store.Tx, c Caller, op, action string, u *domain.User, hash, detail string) error {
	p, err := s.perms(op, c)
	if err != nil {
		return err
	}
	if !p.has(domain.PermUsersEdit) {
		return deny("user", "", "missing permission %s (R21)", domain.PermUsersEdit)
	}
	if err := valid(u, nil, identifier.User); err != nil {
		return err
	}
	if _, err := checkSystemGrant(ctx, tx, p, op, "user", "", u.SystemRoleID, nil, ""); err != nil {
		return err
	}
	if u.ID == "" {
		u.ID = domain.NewID()
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return err
	}
	if hash != "" {
		if err := tx.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
	}
	return audit(ctx, tx, c, action, "user", u.ID, nil, *u, detail)
}

// UserUpdate changes a user's profile; nil leaves a field as it is.
type UserUpdate struct {
	Username    *string
	Email       *string
	DisplayName *string
	Version     int64 // when not zero, must be the stored version
}

// UpdateUser edits a user's profile (users.edit, on a user who holds no
// more than the caller).
func (s *Service) UpdateUser(ctx context.Context, c Caller, id string, up UserUpdate) (domain.User, int64, error) {
	return s.changeUser(ctx, c, "service.UpdateUser", "user.update", id, domain.PermUsersEdit, func(ctx context.Context, tx store.Tx, p *perms, u *domain.User) error {
		if up.Version != 0 && up.Version != u.Version {
			return conflict("service.UpdateUser", "user %s changed meanwhile (version %d, not %d)", id, u.Version, up.Version)
		}
		setProfile(u, up.Username, up.Email, up.DisplayName)
		return nil
	})
}

// setProfile sets the profile fields that are not nil.
func setProfile(u *domain.User, username, email, displayName *string) {
	for _, f := range []struct{ to, from *string }{{&u.Username, username}, {&u.Email, email}, {&u.DisplayName, displayName}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
}

// SetUserStatus disables or enables a user (users.edit). Disabling the
// last active administrator is refused (R3).
func (s *Service) SetUserStatus(ctx context.Context, c Caller, id string, status domain.UserStatus) (domain.User, int64, error) {
	const op = "service.SetUserStatus"
	action := "user.enable"
	if status == domain.UserDisabled {
		action = "user.disable"
	}
	return s.changeUser(ctx, c, op, action, id, domain.PermUsersEdit, func(ctx context.Context, tx store.Tx, p *perms, u *domain.User) error {
		if status != domain.UserActive && status != domain.UserDisabled {
			return invalid(op, "status", "must be active or disabled, not %q", status)
		}
		return setStatus(ctx, tx, c, op, "status", u, status)
	})
}

// setStatus sets u's status: nobody disables themselves, and disabling
// signs the user out everywhere. Requests of a disabled user are refused
// anyway (R11); revoking the sessions makes enabling them again require
// a new sign-in. field names the input at fault.
func setStatus(ctx context.Context, tx store.Tx, c Caller, op, field string, u *domain.User, status domain.UserStatus) error {
	if status == domain.UserDisabled && u.Status != domain.UserDisabled {
		if u.ID == c.UserID {
			return invalid(op, field, "you cannot disable yourself")
		}
		if _, err := authn.RevokeSessionsInTx(ctx, tx, c, u.ID, "account disabled"); err != nil {
			return err
		}
	}
	u.Status = status
	return nil
}

// SetUserSystemRole sets a user's individual system role (users.edit).
// The caller must hold every permission the role adds, and
// roles.assign_admin for an administrator role (R22).
func (s *Service) SetUserSystemRole(ctx context.Context, c Caller, id, roleID string) (domain.User, int64, error) {
	const op = "service.SetUserSystemRole"
	return s.changeUser(ctx, c, op, "user.set_role", id, domain.PermUsersEdit, func(ctx context.Context, tx store.Tx, p *perms, u *domain.User) error {
		if _, err := checkSystemGrant(ctx, tx, p, op, "user", id, roleID, nil, u.SystemRoleID); err != nil {
			return err
		}
		u.SystemRoleID = roleID
		return nil
	})
}

// SetShowPersonalInfo sets a user's personal-information preference (R18).
// A user may always change their own; others need users.edit.
func (s *Service) SetShowPersonalInfo(ctx context.Context, c Caller, id string, show bool) (domain.User, int64, error) {
	key := domain.PermUsersEdit
	if id == c.UserID {
		key = ""
	}
	return s.changeUser(ctx, c, "service.SetShowPersonalInfo", "user.set_preference", id, key, func(ctx context.Context, tx store.Tx, p *perms, u *domain.User) error {
		u.ShowPersonalInfo = show
		return nil
	})
}

// changeUser is the shape shared by the user edits: load, look (gates:
// refusals that must come before the caller learns anything of the
// user's power, such as SCIM's "not one of mine"), authorize (key, ""
// for a user acting on themselves), change, validate, store, audit.
func (s *Service) changeUser(ctx context.Context, c Caller, op, action, id, key string, change func(context.Context, store.Tx, *perms, *domain.User) error, gates ...func(*domain.User) error) (domain.User, int64, error) {
	var u domain.User
	var seen *perms
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		seen = p
		if u, err = s.loadUser(ctx, tx, p, op, id); err != nil {
			return err
		}
		for _, gate := range gates {
			if err := gate(&u); err != nil {
				return err
			}
		}
		if key != "" {
			if err := p.actOnUser(id, key); err != nil {
				return err
			}
		}
		before := u
		if err := change(ctx, tx, p, &u); err != nil {
			return err
		}
		if err := valid(&u, &before, identifier.User); err != nil {
			return err
		}
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "user", id, before, u, "")
	})
	if seen != nil {
		seen.maskUser(&u) // the answer is about a user too (R18)
	}
	return u, rev, err
}

// loadUser reads a user the caller may see: users.view holders see
// everyone, and everyone sees themselves.
func (s *Service) loadUser(ctx context.Context, r store.Reader, p *perms, op, id string) (domain.User, error) {
	if id != p.c.UserID && !p.has(domain.PermUsersView) {
		return domain.User{}, notFound(op, "user", id)
	}
	u, err := r.GetUser(ctx, id)
	u.PasswordHash = ""
	return u, err
}

// DeleteUser deletes a user with their memberships and grants
// (users.delete, on a user who holds no more than the caller). Deleting
// yourself, or the last active administrator (R3), is refused.
func (s *Service) DeleteUser(ctx context.Context, c Caller, id string) (int64, error) {
	return s.deleteUser(ctx, c, "service.DeleteUser", id, nil)
}

// deleteUser is DeleteUser; precondition, if not nil, is asked about the
// user as the transaction read it (SCIM's source and If-Match), so
// nothing can change in between.
func (s *Service) deleteUser(ctx context.Context, c Caller, op, id string, precondition func(*domain.User) error) (int64, error) {
	const action = "user.delete"
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		u, err := s.loadUser(ctx, tx, p, op, id)
		if err != nil {
			return err
		}
		if precondition != nil {
			if err := precondition(&u); err != nil {
				return err
			}
		}
		if err := p.actOnUser(id, domain.PermUsersDelete); err != nil {
			return err
		}
		if id == c.UserID {
			return invalid(op, "id", "you cannot delete yourself")
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "user", id, u, nil, "")
	})
}

// SetPassword sets a local user's password: users.edit on a user who holds
// no more than the caller, or the user themselves. The hash never enters
// the change log or the audit record.
func (s *Service) SetPassword(ctx context.Context, c Caller, id, pw string) (int64, error) {
	const op, action = "service.SetPassword", "user.set_password"
	if err := s.policy.Check(pw, "", false); err != nil {
		return 0, invalid(op, "password", "%v", err)
	}
	hash, herr := password.Hash(pw, s.params)
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		u, err := s.loadUser(ctx, tx, p, op, id)
		if err != nil {
			return err
		}
		if id != c.UserID {
			if err := p.actOnUser(id, domain.PermUsersEdit); err != nil {
				return err
			}
		}
		if herr != nil {
			return invalid(op, "password", "%v", herr)
		}
		if err := s.checkPasswordOf(ctx, tx, op, u, pw); err != nil {
			return err
		}
		if u.Source != domain.SourceLocal {
			return invalid(op, "password", "user %s signs in through %s; only local users have a password", u.Username, u.Source)
		}
		if err := tx.SetPasswordHash(ctx, id, hash); err != nil {
			return err
		}
		// Whoever knew the old password may hold a session: a new password
		// signs the user out everywhere.
		if _, err := authn.RevokeSessionsInTx(ctx, tx, c, id, "password reset"); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "user", id, nil, nil, "password set for "+u.Username)
	})
}

// SetUserProjectRights sets a user's individual rights on a project,
// which also makes them a project member (an empty set keeps them a member
// with no access). Needs users.edit or project.moderate on the project
// (R21); R22 bounds what is added. In an exclusive project a user in one
// of its groups holds that group's rights instead, so non-empty individual
// rights are refused there (R23).
func (s *Service) SetUserProjectRights(ctx context.Context, c Caller, userID, projectID, roleID string, keys []string) (domain.ProjectGrant, int64, error) {
	const op, action = "service.SetUserProjectRights", "user.set_project_rights"
	var pg domain.ProjectGrant
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if !p.has(domain.PermUsersEdit) && !p.moderates(projectID) {
			return deny("user", userID, "missing permission %s, or %s on project %s (R21)", domain.PermUsersEdit, domain.PermProjectModerate, projectID)
		}
		u, err := tx.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		proj, err := tx.GetProject(ctx, projectID)
		if err != nil {
			return err
		}
		var before any
		if old, err := tx.GetProjectGrant(ctx, projectID, domain.SubjectUser, userID); err == nil {
			before = old
		} else if !domain.Is(err, domain.KindNotFound) {
			return err
		}
		pg = domain.ProjectGrant{ProjectID: projectID, SubjectKind: domain.SubjectUser, SubjectID: userID, RoleID: roleID, Permissions: keys}
		if err := pg.Validate(); err != nil {
			return err
		}
		if err := checkProjectGrant(ctx, tx, op, projectID, roleID, keys); err != nil {
			return err
		}
		if proj.MembershipMode == domain.ModeExclusive && (roleID != "" || len(keys) > 0) {
			gs, err := s.exclusiveGroups(ctx, tx, userID, projectID, "")
			if err != nil {
				return err
			}
			if len(gs) > 0 {
				return domain.E(op, domain.KindConflict, domain.FieldError{Field: "permissions",
					Message: "project " + proj.Name + " is exclusive and " + u.Username + " is in group " + gs[0].Name + ", whose rights replace individual rights there (R23)"})
			}
		}
		if err := tx.PutProjectGrant(ctx, &pg); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "user", userID, before, pg, "project "+proj.Name)
	})
	return pg, rev, err
}

// RemoveUserFromProject removes a user's individual grant row on a
// project (users.edit or project.moderate on it). They stay a member
// through any group present there.
func (s *Service) RemoveUserFromProject(ctx context.Context, c Caller, userID, projectID string) (int64, error) {
	const op, action = "service.RemoveUserFromProject", "user.remove_from_project"
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if !p.has(domain.PermUsersEdit) && !p.moderates(projectID) {
			return deny("user", userID, "missing permission %s, or %s on project %s (R21)", domain.PermUsersEdit, domain.PermProjectModerate, projectID)
		}
		old, err := tx.GetProjectGrant(ctx, projectID, domain.SubjectUser, userID)
		if err != nil {
			return err
		}
		if err := tx.DeleteProjectGrant(ctx, projectID, domain.SubjectUser, userID); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "user", userID, old, nil, "project "+projectID)
	})
}
