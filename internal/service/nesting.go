package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Nested groups (issue 20, docs/model.md §3, docs/decisions.md "Nested
// groups"): a group as a member of another group. Every rule is the
// engine's; this file validates the writes (scope, cycle, depth, R23) and
// reports what they did (R24, R25). The kernel bounds what they grant
// (R22) and keeps an administrator (R3) on effective membership.

// NestingOptions are the installation's nesting settings.
type NestingOptions struct {
	// MaxDepth bounds the longest chain of group memberships; 0 means
	// DefaultNestingDepth.
	MaxDepth int
	// InAdministrators lets groups be members of Administrators. R3 then
	// counts their members: removing one may be refused as a lock-out.
	InAdministrators bool
}

// DefaultNestingDepth is the depth limit when none is configured.
const DefaultNestingDepth = 10

// GroupMemberInput is one group to add as a member, with an optional
// expiry (R6).
type GroupMemberInput struct {
	GroupID   string     `json:"group_id"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// GroupMembersResult is the answer to a change of a group's group members.
type GroupMembersResult struct {
	Groups []string `json:"groups"`
	// Users are the users who became, or stopped being, effective members
	// of the group through the change.
	Users []string `json:"users"`
	// Projects are where the group or one of its ancestors is present:
	// those the users now belong to (R24), or keep with no rights (R25).
	Projects      []ProjectRef  `json:"projects"`
	RightsDropped []UserProject `json:"rights_dropped,omitempty"`
}

// AddGroupMembers adds groups as members of a group, or changes their
// expiry, in one transaction with one audit record per group. Who may is
// authorizeMembers'; Administrators takes groups only when the setting
// allows it. Refused: a group the caller cannot see, Everyone or Public,
// a group outside the scope rules, a cycle (named), a chain deeper than
// the limit (named), and a user reached through two groups present in an
// exclusive project (R23, both paths named).
func (s *Service) AddGroupMembers(ctx context.Context, c Caller, groupID string, in []GroupMemberInput) (GroupMembersResult, int64, error) {
	const op, action = "service.AddGroupMembers", "group.group_member_add"
	var res GroupMembersResult
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		res = GroupMembersResult{Groups: []string{}, Users: []string{}, Projects: []ProjectRef{}}
		return s.addGroupMembers(ctx, tx, c, op, groupID, in, restGroups, &res)
	})
	return res, rev, err
}

// groupInputs says where a change of group members comes from, for its
// errors and audit records: REST names its inputs groups[i].group_id,
// SCIM members[j].value, and SCIM's audit details end "; over SCIM".
type groupInputs struct {
	field func(i int) string // the i-th group's input, "groups[0]"
	id    string             // the sub-field naming its id, ".group_id"
	via   string
}

// restGroups are the inputs of AddGroupMembers and RemoveGroupMembers.
var restGroups = groupInputs{field: func(i int) string { return fmt.Sprintf("groups[%d]", i) }, id: ".group_id"}

func (s *Service) addGroupMembers(ctx context.Context, tx store.Tx, c Caller, op, groupID string, in []GroupMemberInput, src groupInputs, res *GroupMembersResult) error {
	p, err := s.perms(op, c)
	if err != nil {
		return err
	}
	parent, err := s.loadParent(ctx, tx, p, op, groupID)
	if err != nil {
		return err
	}
	if len(in) == 0 {
		return invalid(op, "groups", "name at least one group")
	}
	before := p.eng
	for i, mi := range in {
		if err := s.addGroupMember(ctx, tx, p, op, src.field(i), src, &parent, mi); err != nil {
			return err
		}
		res.Groups = append(res.Groups, mi.GroupID)
	}
	after, err := before.Stage(tx.Pending())
	if err != nil {
		return failClosed("the change cannot be evaluated", err)
	}
	if err := s.checkDepth(op, after, parent.ID, in, src); err != nil {
		return err
	}
	if res.Projects, err = s.presentThroughNesting(ctx, tx, after, &parent); err != nil {
		return err
	}
	for _, mi := range in {
		ms, err := after.EffectiveMembers(mi.GroupID, p.now)
		if err != nil {
			return failClosed("the members cannot be evaluated", err)
		}
		for _, m := range ms {
			if !slices.Contains(res.Users, m.UserID) {
				res.Users = append(res.Users, m.UserID)
			}
		}
	}
	slices.Sort(res.Users)
	return s.exclusiveAfterNesting(ctx, tx, op, before, after, res)
}

// loadParent reads the group whose members change and checks who may
// change them (authorizeMembers) and that it may contain groups.
func (s *Service) loadParent(ctx context.Context, tx store.Tx, p *perms, op, groupID string) (domain.Group, error) {
	parent, err := loadGroup(ctx, tx, p, op, groupID)
	if err != nil {
		return parent, err
	}
	if err := authorizeMembers(p, op, &parent); err != nil {
		return parent, err
	}
	if parent.Builtin == domain.BuiltinAdministrators && !s.nesting.InAdministrators {
		return parent, invalid(op, "group_id", "%s contains users only: groups may be members of it only when the server runs with --nest-in-administrators, as R3 then counts their members (docs/decisions.md)", parent.Name)
	}
	return parent, nil
}

// addGroupMember validates and writes one group member of parent.
func (s *Service) addGroupMember(ctx context.Context, tx store.Tx, p *perms, op, field string, src groupInputs, parent *domain.Group, mi GroupMemberInput) error {
	child, err := loadGroup(ctx, tx, p, op, mi.GroupID)
	if domain.Is(err, domain.KindNotFound) {
		return invalid(op, field+src.id, "group %s does not exist", mi.GroupID)
	} else if err != nil {
		return err
	}
	if err := nestingScope(op, field+src.id, parent, &child); err != nil {
		return err
	}
	if mi.ExpiresAt != nil && !mi.ExpiresAt.After(p.now) {
		return invalid(op, field+".expires_at", "must be in the future, or absent for a membership that does not expire")
	}
	staged, err := p.eng.Stage(tx.Pending())
	if err != nil {
		return failClosed("the change cannot be evaluated", err)
	}
	if cycle := staged.NestingCycle(parent.ID, child.ID); cycle != "" {
		return domain.E(op, domain.KindConflict, domain.FieldError{Field: field + src.id,
			Message: fmt.Sprintf("group %q cannot be a member of %q: that would make the cycle %s (docs/model.md §3)", child.Name, parent.Name, cycle)})
	}
	var old any
	if m, err := tx.GetGroupMembership(ctx, parent.ID, child.ID); err == nil {
		old = m
	} else if !domain.Is(err, domain.KindNotFound) {
		return err
	}
	m := domain.GroupMembership{GroupID: parent.ID, MemberGroupID: child.ID, ExpiresAt: mi.ExpiresAt}
	if err := m.Validate(); err != nil {
		return err
	}
	if err := tx.PutGroupMembership(ctx, &m); err != nil {
		return err
	}
	return audit(ctx, tx, p.c, "group.group_member_add", "group", parent.ID, old, m, "group "+child.Name+src.via)
}

// nestingScope is the scope rule of nested groups (docs/model.md §3): a
// project group contains groups of its own project and system groups; a
// system group contains system groups; Everyone and Public take no part.
func nestingScope(op, field string, parent, child *domain.Group) error {
	switch {
	case child.Builtin == domain.BuiltinEveryone || child.Builtin == domain.BuiltinPublic:
		return invalid(op, field, "%s has implicit members and cannot be a member of another group (R4, R5)", child.Name)
	case child.ID == parent.ID:
		return invalid(op, field, "a group cannot be a member of itself")
	case child.Scope == domain.ScopeProject && parent.Scope == domain.ScopeSystem:
		return invalid(op, field, "%s is a group of project %s: a system group contains system groups only, or the project's members would gain rights outside it", child.Name, child.ProjectID)
	case child.Scope == domain.ScopeProject && child.ProjectID != parent.ProjectID:
		return invalid(op, field, "%s is a group of project %s: a project group contains groups of its own project and system groups only", child.Name, child.ProjectID)
	}
	return nil
}

// checkDepth refuses a chain of memberships longer than the limit.
func (s *Service) checkDepth(op string, after *engine.Engine, parentID string, in []GroupMemberInput, src groupInputs) error {
	limit := s.nesting.MaxDepth
	if limit <= 0 {
		limit = DefaultNestingDepth
	}
	for i, mi := range in {
		chain := after.NestingChain(parentID, mi.GroupID)
		if depth := len(chain) - 1; depth > limit {
			return invalid(op, src.field(i)+src.id, "this would make a chain of %d group memberships (%s), deeper than the limit of %d",
				depth, strings.Join(chain, " → "), limit)
		}
	}
	return nil
}

// presentThroughNesting lists the projects where g or a group it is a
// member of (in after) is present: the projects g's members belong to
// through it (R24, R25).
func (s *Service) presentThroughNesting(ctx context.Context, r store.Reader, after *engine.Engine, g *domain.Group) ([]ProjectRef, error) {
	out, err := presentIn(ctx, r, g)
	if err != nil {
		return nil, err
	}
	for _, id := range after.GroupAncestors(g.ID, s.now()) {
		a, err := r.GetGroup(ctx, id)
		if err != nil {
			return nil, err
		}
		more, err := presentIn(ctx, r, &a)
		if err != nil {
			return nil, err
		}
		for _, pr := range more {
			if !slices.Contains(out, pr) {
				out = append(out, pr)
			}
		}
	}
	slices.SortFunc(out, func(a, b ProjectRef) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// exclusiveAfterNesting is R23 for a nesting: in each exclusive project of
// res.Projects, a user whom the change puts in a second group present
// there is refused, naming both paths; a user whom it puts in a first one
// joins it, so their individual rights there are emptied.
func (s *Service) exclusiveAfterNesting(ctx context.Context, tx store.Tx, op string, before, after *engine.Engine, res *GroupMembersResult) error {
	now := s.now()
	for _, pr := range res.Projects {
		proj, err := tx.GetProject(ctx, pr.ID)
		if err != nil {
			return err
		}
		if proj.MembershipMode != domain.ModeExclusive {
			continue
		}
		for _, uid := range res.Users {
			was, err := groupsIn(before, uid, proj.ID, now)
			if err != nil {
				return err
			}
			is, err := groupsIn(after, uid, proj.ID, now)
			if err != nil {
				return err
			}
			if len(is) > 1 && !slices.Equal(was, is) {
				return s.exclusiveConflict(ctx, tx, op, after, &proj, uid, is)
			}
			if len(was) == 0 && len(is) == 1 {
				emptied, err := emptyIndividualRights(ctx, tx, uid, proj.ID)
				if err != nil {
					return err
				}
				if emptied {
					res.RightsDropped = append(res.RightsDropped, UserProject{UserID: uid, ProjectID: proj.ID})
				}
			}
		}
	}
	return nil
}

func groupsIn(e *engine.Engine, userID, projectID string, now time.Time) ([]string, error) {
	gs, err := e.GroupsInProject(userID, projectID, "", now)
	if domain.Is(err, domain.KindNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, failClosed("the user's groups cannot be evaluated", err)
	}
	return gs, nil
}

// exclusiveConflict names the two paths by which a user would be in two
// groups of an exclusive project (R23).
func (s *Service) exclusiveConflict(ctx context.Context, r store.Reader, op string, after *engine.Engine, proj *domain.Project, userID string, groups []string) error {
	name := userID
	if u, err := r.GetUser(ctx, userID); err == nil {
		name = u.Username
	}
	paths := make([]string, 0, 2)
	for _, g := range groups[:2] {
		paths = append(paths, strings.Join(append([]string{name}, after.MembershipPath(userID, g, s.now())...), " → "))
	}
	return domain.E(op, domain.KindConflict, domain.FieldError{Field: "groups",
		Message: fmt.Sprintf("project %q is exclusive and %s would be in two of its groups (R23): %s and %s; remove one path first", proj.Name, name, paths[0], paths[1])})
}

// RemoveGroupMembers removes groups from a group's members in one
// transaction, one audit record per group. The users who thereby stop
// being effective members keep their membership of the projects where the
// group (or a group above it) is present, with no rights from it (R25).
func (s *Service) RemoveGroupMembers(ctx context.Context, c Caller, groupID string, memberGroupIDs []string) (GroupMembersResult, int64, error) {
	const op, action = "service.RemoveGroupMembers", "group.group_member_remove"
	var res GroupMembersResult
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		res = GroupMembersResult{Groups: []string{}, Users: []string{}, Projects: []ProjectRef{}}
		return s.removeGroupMembers(ctx, tx, c, op, groupID, memberGroupIDs, restGroups, &res)
	})
	return res, rev, err
}

func (s *Service) removeGroupMembers(ctx context.Context, tx store.Tx, c Caller, op, groupID string, ids []string, src groupInputs, res *GroupMembersResult) error {
	p, err := s.perms(op, c)
	if err != nil {
		return err
	}
	parent, err := loadGroup(ctx, tx, p, op, groupID)
	if err != nil {
		return err
	}
	if err := authorizeMembers(p, op, &parent); err != nil {
		return err
	}
	if len(ids) == 0 {
		return invalid(op, "groups", "name at least one group")
	}
	for i, id := range ids {
		m, err := tx.GetGroupMembership(ctx, parent.ID, id)
		if domain.Is(err, domain.KindNotFound) {
			return invalid(op, src.field(i), "group %s is not a member of %s", id, parent.Name)
		} else if err != nil {
			return err
		}
		if err := tx.DeleteGroupMembership(ctx, parent.ID, id); err != nil {
			return err
		}
		detail := "group " + id
		if g, err := tx.GetGroup(ctx, id); err == nil {
			detail = "group " + g.Name
		}
		if err := audit(ctx, tx, c, "group.group_member_remove", "group", parent.ID, m, nil, detail+src.via); err != nil {
			return err
		}
		res.Groups = append(res.Groups, id)
	}
	after, err := p.eng.Stage(tx.Pending())
	if err != nil {
		return failClosed("the change cannot be evaluated", err)
	}
	if res.Projects, err = s.presentThroughNesting(ctx, tx, p.eng, &parent); err != nil {
		return err
	}
	return s.keepInProjects(ctx, tx, p.eng, after, parent.ID, res)
}

// keepInProjects is R25 for a nesting removed: each user who was an
// effective member of the group and is no longer keeps an (empty)
// individual row in its projects.
func (s *Service) keepInProjects(ctx context.Context, tx store.Tx, before, after *engine.Engine, groupID string, res *GroupMembersResult) error {
	was, err := before.EffectiveMembers(groupID, s.now())
	if err != nil {
		return failClosed("the members cannot be evaluated", err)
	}
	for _, m := range was {
		if after.MemberAt(m.UserID, groupID, s.now()) {
			continue
		}
		res.Users = append(res.Users, m.UserID)
		for _, pr := range res.Projects {
			if _, err := ensureIndividualRow(ctx, tx, m.UserID, pr.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// GroupMemberRow is one group in a group's member list, or one group a
// group is a member of, with the membership.
type GroupMemberRow struct {
	Group      domain.Group           `json:"group"`
	Membership domain.GroupMembership `json:"membership"`
}

// ListGroupMemberGroups lists the groups that are direct members of a
// group (groups.view, or moderation of a project group's project), the
// ones the caller may see, ordered by id.
func (s *Service) ListGroupMemberGroups(ctx context.Context, c Caller, groupID string) ([]GroupMemberRow, error) {
	return s.groupRows(ctx, c, "service.ListGroupMemberGroups", groupID, s.st.ListGroupMembers, func(m domain.GroupMembership) string { return m.MemberGroupID })
}

// ListGroupParents lists the groups a group is a direct member of, the
// ones the caller may see, ordered by id.
func (s *Service) ListGroupParents(ctx context.Context, c Caller, groupID string) ([]GroupMemberRow, error) {
	return s.groupRows(ctx, c, "service.ListGroupParents", groupID, s.st.ListGroupParents, func(m domain.GroupMembership) string { return m.GroupID })
}

func (s *Service) groupRows(ctx context.Context, c Caller, op, groupID string, list func(context.Context, string) ([]domain.GroupMembership, error), other func(domain.GroupMembership) string) ([]GroupMemberRow, error) {
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if _, err := loadGroup(ctx, s.st, p, op, groupID); err != nil {
		return nil, domain.E(op, err)
	}
	ms, err := list(ctx, groupID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	out := []GroupMemberRow{}
	for _, m := range ms {
		g, err := s.st.GetGroup(ctx, other(m))
		if err != nil {
			return nil, domain.E(op, err)
		}
		if p.mayViewGroup(&g) {
			out = append(out, GroupMemberRow{Group: g, Membership: m})
		}
	}
	return out, nil
}

// EffectiveMemberRow is one user who is a member of a group now, directly
// or through nested groups, with the path.
type EffectiveMemberRow struct {
	User domain.User `json:"user"`
	// Through names the groups between the user and the group, from the
	// user's direct group up; empty for a direct member.
	Through []string   `json:"through"`
	Until   *time.Time `json:"until,omitempty"`
}

// ListEffectiveMembers lists every user who is a member of a group now,
// directly or through nested groups, as the engine answers it, ordered by
// user id. It needs what ListMembers needs.
func (s *Service) ListEffectiveMembers(ctx context.Context, c Caller, groupID string) ([]EffectiveMemberRow, error) {
	const op = "service.ListEffectiveMembers"
	p, ms, err := s.effectiveMembers(ctx, c, op, groupID, true)
	if err != nil {
		return nil, err
	}
	return s.effectiveRows(ctx, p, op, ms)
}

// effectiveMembers authorizes a list of a group's effective members (what
// ListMembers needs) and asks the engine for them, with their paths or
// without (engine.EffectiveMembersNoPaths).
func (s *Service) effectiveMembers(ctx context.Context, c Caller, op, groupID string, paths bool) (*perms, []engine.EffectiveMember, error) {
	p, err := s.mayListEffective(ctx, c, op, groupID)
	if err != nil {
		return nil, nil, err
	}
	list := p.eng.EffectiveMembersNoPaths
	if paths {
		list = p.eng.EffectiveMembers
	}
	ms, err := list(groupID, p.now)
	if err != nil {
		return nil, nil, domain.E(op, err)
	}
	return p, ms, nil
}

// mayListEffective authorizes a list of a group's effective members:
// what ListMembers needs.
func (s *Service) mayListEffective(ctx context.Context, c Caller, op, groupID string) (*perms, error) {
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, s.st, p, op, groupID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	if !p.has(domain.PermUsersView) && !(g.Scope == domain.ScopeProject && p.moderates(g.ProjectID)) {
		return nil, forbidden(op, "missing permission %s: listing members shows users", domain.PermUsersView)
	}
	return p, nil
}

// effectiveRows reads the users of ms, masked for the caller (R18).
func (s *Service) effectiveRows(ctx context.Context, p *perms, op string, ms []engine.EffectiveMember) ([]EffectiveMemberRow, error) {
	out := make([]EffectiveMemberRow, 0, len(ms))
	for _, m := range ms {
		u, err := s.st.GetUser(ctx, m.UserID)
		if err != nil {
			return nil, domain.E(op, err)
		}
		p.maskUser(&u)
		row := EffectiveMemberRow{User: u, Through: append([]string{}, m.Through...)}
		if !m.Until.IsZero() {
			until := m.Until
			row.Until = &until
		}
		out = append(out, row)
	}
	return out, nil
}

// joinThroughNesting finishes adding users to a group that is itself a
// member of others: the users join the projects where those are present
// too (R24), and R23 holds there, on effective membership. A group in no
// other group has nothing to do here.
func (s *Service) joinThroughNesting(ctx context.Context, tx store.Tx, op string, before *engine.Engine, nested []ProjectRef, added *MembersResult) error {
	if len(nested) == len(added.Projects) {
		return nil
	}
	after, err := before.Stage(tx.Pending())
	if err != nil {
		return failClosed("the change cannot be evaluated", err)
	}
	r := GroupMembersResult{Users: added.Users}
	for _, pr := range nested {
		if !slices.Contains(added.Projects, pr) {
			r.Projects = append(r.Projects, pr)
		}
	}
	if err := s.exclusiveAfterNesting(ctx, tx, op, before, after, &r); err != nil {
		return err
	}
	added.RightsDropped = append(added.RightsDropped, r.RightsDropped...)
	added.Projects = nested
	return nil
}

// effectivePage is ListMembers' effective list, as member rows, a page at
// a time (ListEffectiveMembersPage): sorted by username (the default) or
// by "through", ascending or descending; "none" and the store's columns
// do not order it.
func (s *Service) effectivePage(ctx context.Context, c Caller, groupID string, q MemberQuery) (Page[MemberRow], error) {
	const op = "service.ListMembers"
	var out Page[MemberRow]
	lq := ListQuery{Search: q.Search, Sort: q.Sort, Cursor: q.Cursor, Limit: q.Limit}
	switch q.Order {
	case "", OrderAsc:
	case OrderDesc:
		lq.Desc = true
	default:
		return out, invalid(op, "order", "must be asc or desc with effective, not %q", q.Order)
	}
	if q.AllUsers {
		return out, invalid(op, "all_users", "lists every user, not the effective members: leave it out with effective")
	}
	rows, err := s.ListEffectiveMembersPage(ctx, c, groupID, lq)
	if err != nil {
		return out, err
	}
	out.Next = rows.Next
	out.Items = make([]MemberRow, len(rows.Items))
	for i, r := range rows.Items {
		out.Items[i] = MemberRow{User: r.User, Member: true, ExpiresAt: r.Until, RoleID: r.User.SystemRoleID, Email: r.User.Email, Through: r.Through}
	}
	return out, nil
}
