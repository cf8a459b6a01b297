package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The result types of the service carry no JSON tags: the API encodes
// its own types (pkg/gatehouse/api), converted field by field in
// internal/api/rest, so that a rename here cannot change the API.

// MemberInput is one user to add, with an optional expiry (R6).
type MemberInput struct {
	UserID    string
	ExpiresAt *time.Time
	// Source is who makes the membership: an administrator (the zero
	// value, whatever the transport) or the OIDC group mapping.
	Source domain.MembershipSource
}

// UserProject names one user in one project.
type UserProject struct {
	UserID    string
	ProjectID string
}

// MembersResult is the answer to a membership change.
type MembersResult struct {
	Users []string
	// Projects are the projects where the group is present: those the
	// added users now belong to (R24), or those where removed users keep
	// their membership with no rights from the group (R25).
	Projects []ProjectRef
	// RightsDropped lists, on adds, the exclusive projects where a user's
	// individual rights were emptied because the group's replace them (R23).
	RightsDropped []UserProject
}

// authorizeMembers checks who may change a group's members: nobody for
// Everyone (R4) and Public (R5), server.manage holders for Administrators
// (R3), groups.members holders or moderators of a project group's project
// for the others (R21).
func authorizeMembers(p *perms, op string, g *domain.Group) error {
	switch g.Builtin {
	case domain.BuiltinEveryone:
		return invalid(op, "group_id", "every active user is implicitly a member of %s; its member list is not editable (R4)", g.Name)
	case domain.BuiltinPublic:
		return invalid(op, "group_id", "%s represents everyone including anonymous requests and has no member list (R5)", g.Name)
	case domain.BuiltinAdministrators:
		if !p.has(domain.PermServerManage) {
			return deny("group", g.ID, "missing permission %s: only its holders change the members of %s (R3)", domain.PermServerManage, g.Name)
		}
		return nil
	}
	if !p.mayAdministerGroup(g, domain.PermGroupsMembers) {
		if g.Scope == domain.ScopeProject {
			return deny("group", g.ID, "missing permission %s, or %s on project %s (R21)", domain.PermGroupsMembers, domain.PermProjectModerate, g.ProjectID)
		}
		return deny("group", g.ID, "missing permission %s (R21)", domain.PermGroupsMembers)
	}
	return p.needsAlongside(g, domain.PermGroupsMembers, "group", g.ID)
}

// AddMembers adds users to a group, or changes their expiry, in one
// transaction with one audit record per user. See authorizeMembers for
// who may (the kernel bounds what the memberships grant, R22, and keeps
// an administrator, R3); R23 refuses a second group in an exclusive
// project and empties the user's individual rights there; the answer
// lists the projects the users now belong to (R24).
func (s *Service) AddMembers(ctx context.Context, c Caller, groupID string, in []MemberInput) (MembersResult, int64, error) {
	res, _, rev, err := s.changeMembers(ctx, c, "service.AddMembers", "group.member_add", groupID, in, nil)
	return res, rev, err
}

// RemoveMembers removes users from a group in one transaction, one audit
// record per user. They keep their membership of every project where the
// group is present, with no rights from it (an empty individual grant row
// is kept or created there, R25); the answer lists those projects.
func (s *Service) RemoveMembers(ctx context.Context, c Caller, groupID string, userIDs []string) (MembersResult, int64, error) {
	_, res, rev, err := s.changeMembers(ctx, c, "service.RemoveMembers", "group.member_remove", groupID, nil, userIDs)
	return res, rev, err
}

// ChangeMembers adds and removes members of one group in one
// transaction: a form that ticks some users and unticks others is one
// write, refused or committed as a whole. Either list may be empty, not
// both.
func (s *Service) ChangeMembers(ctx context.Context, c Caller, groupID string, add []MemberInput, remove []string) (added, removed MembersResult, rev int64, err error) {
	return s.changeMembers(ctx, c, "service.ChangeMembers", "group.members_change", groupID, add, remove)
}

// MemberPreview is what adding one user would do: nil Refusal when the
// user would be added.
type MemberPreview struct {
	UserID  string
	Refusal error
}

// PreviewMembers tries adding each user to the group, as AddMembers would
// with every check (R21–R24, the kernel's R3 and R22), and writes
// nothing: the bulk-membership preview's "who would be refused, and why".
// The whole list is tried first; only when it would be refused is each
// user tried alone, to say which.
func (s *Service) PreviewMembers(ctx context.Context, c Caller, groupID string, in []MemberInput) ([]MemberPreview, error) {
	const op = "service.PreviewMembers"
	out := make([]MemberPreview, len(in))
	for i, m := range in {
		out[i].UserID = m.UserID
	}
	if len(in) == 0 || s.try(ctx, c, op, s.membersTx(c, op, groupID, in, nil, new(MembersResult), new(MembersResult))) == nil {
		return out, nil
	}
	for i := range in {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out[i].Refusal = s.try(ctx, c, op, s.membersTx(c, op, groupID, in[i:i+1], nil, new(MembersResult), new(MembersResult)))
	}
	return out, nil
}

func (s *Service) changeMembers(ctx context.Context, c Caller, op, action, groupID string, add []MemberInput, remove []string) (added, removed MembersResult, rev int64, err error) {
	rev, err = s.write(ctx, c, op, action, s.membersTx(c, op, groupID, add, remove, &added, &removed))
	return added, removed, rev, err
}

// membersTx is the transaction of changeMembers, filling added and removed.
func (s *Service) membersTx(c Caller, op, groupID string, add []MemberInput, remove []string, added, removed *MembersResult) func(context.Context, store.Tx) error {
	return func(ctx context.Context, tx store.Tx) error {
		*added, *removed = MembersResult{Users: []string{}}, MembersResult{Users: []string{}}
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, err := loadGroup(ctx, tx, p, op, groupID)
		if err != nil {
			return err
		}
		return s.changeMembersOf(ctx, tx, p, c, op, &g, memberChange{add: add, remove: remove, added: added, removed: removed})
	}
}

// memberChange is what changeMembersOf does to a group's members and
// where it reports it; via ends each audit detail ("; over SCIM").
type memberChange struct {
	add            []MemberInput
	remove         []string
	added, removed *MembersResult
	via            string
}

// changeMembersOf is the add/remove-members use case inside a
// transaction, for every transport (REST, the console and SCIM): who may
// (authorizeMembers), R23's exclusive projects and R25's kept project
// memberships, one audit record per user; the kernel bounds it (R3,
// R22).
func (s *Service) changeMembersOf(ctx context.Context, tx store.Tx, p *perms, c Caller, op string, g *domain.Group, ch memberChange) error {
	if err := authorizeMembers(p, op, g); err != nil {
		return err
	}
	if len(ch.add) == 0 && len(ch.remove) == 0 {
		return invalid(op, "users", "name at least one user")
	}
	projects, err := presentIn(ctx, tx, g)
	if err != nil {
		return err
	}
	// With nested groups, members belong to the projects of the groups
	// above g too (R24, R25).
	nested, err := s.presentThroughNesting(ctx, tx, p.eng, g)
	if err != nil {
		return err
	}
	if len(ch.remove) > 0 {
		ch.removed.Projects = nested
		if err := s.removeMembers(ctx, tx, c, op, g, ch.remove, ch.removed, ch.via); err != nil {
			return err
		}
	}
	if len(ch.add) > 0 {
		ch.added.Projects = projects
		if err := s.addMembers(ctx, tx, c, op, g, ch.add, ch.added, ch.via); err != nil {
			return err
		}
		return s.joinThroughNesting(ctx, tx, op, p.eng, nested, ch.added)
	}
	return nil
}

// addMembers is AddMembers inside a transaction, for every transport;
// res.Projects is where g is present, via ends each audit detail.
func (s *Service) addMembers(ctx context.Context, tx store.Tx, c Caller, op string, g *domain.Group, in []MemberInput, res *MembersResult, via string) error {
	var exclusive []domain.Project
	for _, pr := range res.Projects {
		proj, err := tx.GetProject(ctx, pr.ID)
		if err != nil {
			return err
		}
		if proj.MembershipMode == domain.ModeExclusive {
			exclusive = append(exclusive, proj)
		}
	}
	now := s.now()
	for i, mi := range in {
		field := fmt.Sprintf("users[%d]", i)
		u, err := tx.GetUser(ctx, mi.UserID)
		if domain.Is(err, domain.KindNotFound) {
			return invalid(op, field+".user_id", "user %s does not exist", mi.UserID)
		} else if err != nil {
			return err
		}
		if mi.ExpiresAt != nil && !mi.ExpiresAt.After(now) {
			return invalid(op, field+".expires_at", "must be in the future, or absent for a membership that does not expire")
		}
		if err := s.exclusiveJoinOf(ctx, tx, op, field+".user_id", &u, g, exclusive); err != nil {
			return err
		}
		var before any
		if old, err := tx.GetMembership(ctx, g.ID, u.ID); err == nil {
			before = old
		} else if !domain.Is(err, domain.KindNotFound) {
			return err
		}
		m := domain.Membership{GroupID: g.ID, UserID: u.ID, ExpiresAt: mi.ExpiresAt, Source: mi.Source}
		if err := m.Validate(); err != nil {
			return err
		}
		if err := tx.PutMembership(ctx, &m); err != nil {
			return err
		}
		var dropped []string
		for _, proj := range exclusive {
			emptied, err := emptyIndividualRights(ctx, tx, u.ID, proj.ID)
			if err != nil {
				return err
			}
			if !emptied {
				continue
			}
			res.RightsDropped = append(res.RightsDropped, UserProject{UserID: u.ID, ProjectID: proj.ID})
			dropped = append(dropped, proj.Name)
		}
		res.Users = append(res.Users, u.ID)
		detail := "user " + u.Username + projectsDetail(res.Projects)
		if len(dropped) > 0 {
			detail += "; individual rights dropped in " + strings.Join(dropped, ", ") + " (R23)"
		}
		if err := audit(ctx, tx, c, "group.member_add", "group", g.ID, before, m, detail+via); err != nil {
			return err
		}
	}
	return nil
}

// exclusiveJoinOf is R23 for one user joining g: in an exclusive project
// where g is present, the user may be in no other (non-built-in) group
// present there.
func (s *Service) exclusiveJoinOf(ctx context.Context, tx store.Tx, op, field string, u *domain.User, g *domain.Group, exclusive []domain.Project) error {
	for _, proj := range exclusive {
		others, err := s.exclusiveGroups(ctx, tx, u.ID, proj.ID, g.ID)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			o := others[0]
			return domain.E(op, domain.KindConflict, domain.FieldError{Field: field,
				Message: fmt.Sprintf("project %q is exclusive and %s is already in group %q there (R23); remove them from %q first", proj.Name, u.Username, o.Name, o.Name)})
		}
	}
	return nil
}

func projectsDetail(ps []ProjectRef) string {
	if len(ps) == 0 {
		return ""
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return "; projects: " + strings.Join(names, ", ")
}

// removeMembers is RemoveMembers inside a transaction; res.Projects is
// where g is present.
func (s *Service) removeMembers(ctx context.Context, tx store.Tx, c Caller, op string, g *domain.Group, userIDs []string, res *MembersResult, via string) error {
	for i, uid := range userIDs {
		m, err := tx.GetMembership(ctx, g.ID, uid)
		if domain.Is(err, domain.KindNotFound) {
			return invalid(op, fmt.Sprintf("users[%d]", i), "user %s is not a member of %s", uid, g.Name)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteMembership(ctx, g.ID, uid); err != nil {
			return err
		}
		for _, pr := range res.Projects {
			if _, err := ensureIndividualRow(ctx, tx, uid, pr.ID); err != nil {
				return err
			}
		}
		res.Users = append(res.Users, uid)
		name := uid
		if u, err := tx.GetUser(ctx, uid); err == nil {
			name = u.Username
		}
		if err := audit(ctx, tx, c, "group.member_remove", "group", g.ID, m, nil, "user "+name+projectsDetail(res.Projects)+via); err != nil {
			return err
		}
	}
	return nil
}
