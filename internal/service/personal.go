package service

import (
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Personal information (R18). A user's personal fields are their email
// and display name (docs/model.md, docs/security.md); the username is an
// account name, not personal information. Every answer about users, on
// every transport (REST, SCIM, the CLI, the console), goes through these:
// a caller who does not hold personal_info.view (or holds it with the
// preference off, which the engine applies) gets the fields empty, except
// in their own record, and their searches match usernames only.

// seesPersonal reports whether the caller may see other users' personal
// fields.
func (p *perms) seesPersonal() bool { return p.has(domain.PermPersonalInfoView) }

// maskUser empties u's personal fields for a caller who may not see them.
func (p *perms) maskUser(u *domain.User) {
	u.PasswordHash = ""
	if u.ID != p.c.UserID && !p.seesPersonal() {
		u.Email, u.DisplayName = "", ""
	}
}

// personalQuery narrows a user or member search to what the caller may
// see: usernames only, no sorting by hidden fields.
func (p *perms) personalQuery(q store.ListQuery) store.ListQuery {
	q.AccountOnly = !p.seesPersonal()
	return q
}
