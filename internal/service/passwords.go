package service

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Passwords (docs/security.md, "Passwords"): every password set through
// the service — at creation, by an administrator's reset, by the user
// themselves, at bootstrap — meets password.Policy (NIST SP 800-63B
// §5.1.1.2), with the administrators' minimum length for members of the
// built-in Administrators group.

// checkPasswordOf checks pw as the new password of u, inside the write
// that sets it, so that membership of Administrators is read as of that
// write.
func (s *Service) checkPasswordOf(ctx context.Context, tx store.Reader, op string, u domain.User, pw string) error {
	_, err := tx.GetMembership(ctx, domain.GroupAdministratorsID, u.ID)
	if err != nil && !domain.Is(err, domain.KindNotFound) {
		return err
	}
	if err := s.policy.Check(pw, u.Username, err == nil); err != nil {
		return invalid(op, "password", "%v", err)
	}
	return nil
}

// ChangeOwnPassword sets the caller's own password after checking their
// current one, so that a session or API token left behind cannot be used
// to take the account over (the console asks for it too). A wrong current
// password is refused and audited like any refused write (R29).
func (s *Service) ChangeOwnPassword(ctx context.Context, c Caller, current, pw string) (int64, error) {
	const op, action = "service.ChangeOwnPassword", "user.set_password"
	if err := s.authenticated(op, c); err != nil {
		return 0, err
	}
	if current == "" {
		return 0, invalid(op, "current_password", "is required to change your own password")
	}
	u, err := s.st.GetUser(ctx, c.UserID)
	if err != nil {
		return 0, domain.E(op, err)
	}
	if u.PasswordHash == "" {
		return 0, invalid(op, "current_password", "you have no password yet: an administrator sets the first one")
	}
	// Checked outside the write: argon2id is slow on purpose and should
	// not hold the write lock.
	if err := password.Verify(current, u.PasswordHash); err != nil {
		if !errors.Is(err, password.ErrMismatch) {
			return 0, domain.E(op, err)
		}
		return 0, s.refuse(ctx, c, op, action, &denial{missing: "the current password is not right", kind: "user", id: c.UserID})
	}
	return s.SetPassword(ctx, c, c.UserID, pw)
}
