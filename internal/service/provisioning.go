package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/identifier"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Provisioning: the use cases of the users and groups an identity
// provider provisions (over SCIM, internal/api/scim), beyond the REST use
// cases they build on (membership changes go through changeMembersOf,
// deletions through deleteUser and deleteGroup). The rules, as docs/decisions.md ("SCIM provisioning") says:
//
//   - SCIM needs scim.provision AND, for each operation, the users.* or
//     groups.* permission that the same REST write needs, held by the
//     token's user. scim.provision never implies them: it only lets a token
//     whose limit is scim.provision use its user's user and group
//     administration rights through /scim/v2 (SCIMCaller), and R21–R29 then
//     apply exactly as over REST (same checks, same audit log).
//   - The IdP owns what it provisioned, and nothing else: SCIM sees, changes
//     and deletes only users whose source is scim; a SCIM group's member
//     list is its scim users, so replacing it never removes a local user
//     an administrator put there.

// ErrStaleVersion is the cause of the KindConflict error a SCIM write
// returns when the object's version is not the one the client named
// (If-Match); the transport answers 412.
var ErrStaleVersion = errors.New("the object changed meanwhile")

// scimRights are the permissions a token limited to scim.provision may
// use through /scim/v2, when its user holds them.
var scimRights = []string{
	domain.PermScimProvision,
	domain.PermUsersView, domain.PermUsersEdit, domain.PermUsersDelete,
	domain.PermGroupsView, domain.PermGroupsEdit, domain.PermGroupsDelete, domain.PermGroupsMembers,
	domain.PermRolesView, // groups.edit works only alongside it (R9)
	// An identity provider reads back the emails and names it wrote;
	// without this its user's answers are masked like anyone's (R18).
	domain.PermPersonalInfoView,
}

// SCIMCaller checks that c may use SCIM at all (it holds scim.provision,
// within its token's limit) and returns the caller SCIM operations run
// as: for a limited token, its limit widened to the user and group
// administration keys. The engine still intersects them with what the
// user holds, so the token never holds more than its user.
func (s *Service) SCIMCaller(ctx context.Context, c Caller) (Caller, error) {
	const op = "service.SCIMCaller"
	p, err := s.reader(op, c)
	if err != nil {
		return c, err
	}
	if !p.has(domain.PermScimProvision) {
		// Audited: a token knocking on SCIM without the right is worth a
		// record.
		return c, s.refuse(ctx, c, op, "scim.access", &denial{kind: "system", id: "scim",
			missing: "missing permission " + domain.PermScimProvision})
	}
	if c.Limited() {
		c.Limit = union(c.Limit, scimRights)
	}
	return c, nil
}

func notSCIM(op, id string) error {
	return domain.Errorf(op, domain.KindNotFound, "user %s not found among the users provisioned over SCIM", id)
}

// hiddenFromSCIM is the refusal, inside a write, to touch an object SCIM
// does not manage (a local user, a built-in or project group): not found,
// as for SCIM it does not exist, and audited like every refused write.
func hiddenFromSCIM(kind, id, what string) *denial {
	return &denial{kind: kind, id: id, hidden: true, missing: "not managed over SCIM: " + what,
		notFound: fmt.Sprintf("%s %s not found among the %ss provisioned over SCIM", kind, id, kind)}
}

// GetSCIMUser returns a user provisioned over SCIM (users.view).
func (s *Service) GetSCIMUser(ctx context.Context, c Caller, id string) (domain.User, error) {
	const op = "service.GetSCIMUser"
	u, err := s.GetUser(ctx, c, id)
	if err != nil {
		return u, err
	}
	if u.Source != domain.SourceSCIM {
		return domain.User{}, notSCIM(op, id)
	}
	return u, nil
}

// ListSCIMUsers returns every user provisioned over SCIM (users.view), by
// username. SCIM filters, sorts and pages in memory over this list.
func (s *Service) ListSCIMUsers(ctx context.Context, c Caller) ([]domain.User, error) {
	all, err := collect(ctx, func(cur string) (store.Page[domain.User], error) {
		p, err := s.ListUsers(ctx, c, ListQuery{Cursor: cur, Limit: 1000})
		return store.Page[domain.User](p), err
	})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, u := range all {
		if u.Source == domain.SourceSCIM {
			out = append(out, u)
		}
	}
	return out, nil
}

// CreateSCIMUser creates a user with source scim, active or disabled, in
// one transaction (users.edit).
func (s *Service) CreateSCIMUser(ctx context.Context, c Caller, in NewUser, active bool) (domain.User, int64, error) {
	const op, action = "service.CreateSCIMUser", "user.create"
	u := domain.User{ID: in.ID, Username: in.Username, Email: in.Email, DisplayName: in.DisplayName, Status: domain.UserActive,
		Source: domain.SourceSCIM, ExternalID: in.ExternalID, ShowPersonalInfo: true}
	if !active {
		u.Status = domain.UserDisabled
	}
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		return s.insertUser(ctx, tx, c, op, action, &u, "", "provisioned over SCIM")
	})
	return u, rev, err
}

// SCIMUserUpdate is the new state of a SCIM user's fields; nil leaves a
// field as it is.
type SCIMUserUpdate struct {
	Username    *string
	Email       *string
	DisplayName *string
	ExternalID  *string
	Active      *bool
	Version     int64 // when not zero, must be the stored version (ErrStaleVersion)
}

// UpdateSCIMUser changes a SCIM user's profile and status in one
// transaction (users.edit, on a user who holds no more than the caller).
// Disabling signs the user out everywhere, as SetUserStatus does.
func (s *Service) UpdateSCIMUser(ctx context.Context, c Caller, id string, up SCIMUserUpdate) (domain.User, int64, error) {
	const op = "service.UpdateSCIMUser"
	// One audit record: the status change shows in its before and after.
	mine := func(u *domain.User) error {
		if u.Source != domain.SourceSCIM {
			return hiddenFromSCIM("user", id, "its source is "+string(u.Source))
		}
		return nil
	}
	u, rev, err := s.changeUser(ctx, c, op, "user.update", id, domain.PermUsersEdit, func(ctx context.Context, tx store.Tx, p *perms, u *domain.User) error {
		if up.Version != 0 && up.Version != u.Version {
			return domain.E(op, domain.KindConflict, fmt.Errorf("user %s: %w (version %d, not %d)", id, ErrStaleVersion, u.Version, up.Version))
		}
		before := *u
		setProfile(u, up.Username, up.Email, up.DisplayName)
		if up.ExternalID != nil {
			u.ExternalID = *up.ExternalID
		}
		if up.Active != nil {
			status := domain.UserActive
			if !*up.Active {
				status = domain.UserDisabled
			}
			if err := setStatus(ctx, tx, c, op, "active", u, status); err != nil {
				return err
			}
		}
		if sameSCIMProfile(before, *u) {
			return errSCIMUnchanged // rolls the transaction back: nothing is written
		}
		return nil
	}, mine)
	if errors.Is(err, errSCIMUnchanged) {
		return u, 0, nil
	}
	return u, rev, err
}

// errSCIMUnchanged ends a SCIM write that would change nothing: RFC 7644
// §3.5.2.1 and §3.5.2.3 (an add or replace of the current value, a remove
// of an unset attribute) and an identical PUT keep meta.version and
// meta.lastModified, and since nothing changes there is nothing for the
// audit log either (R29 records changes and refusals; a no-op is neither).
// The caller was authorized all the same: changeUser checks before the
// change function runs.
var errSCIMUnchanged = errors.New("the SCIM write changes nothing")

// sameSCIMProfile reports whether after, once trimmed as Validate will
// trim it, keeps every field SCIM can change of before.
func sameSCIMProfile(before, after domain.User) bool {
	if after.Validate() != nil {
		return false // the write fails with the validation error
	}
	return after.Username == before.Username && after.Email == before.Email && after.DisplayName == before.DisplayName &&
		after.ExternalID == before.ExternalID && after.Status == before.Status
}

// DeleteSCIMUser deletes a user provisioned over SCIM, as DeleteUser does.
// version, when not zero, must be the stored one: it is compared in the
// deletion's own transaction, under the write.
func (s *Service) DeleteSCIMUser(ctx context.Context, c Caller, id string, version int64) (int64, error) {
	const op = "service.DeleteSCIMUser"
	return s.deleteUser(ctx, c, op, id, func(u *domain.User) error {
		if u.Source != domain.SourceSCIM {
			return hiddenFromSCIM("user", id, "its source is "+string(u.Source))
		}
		if version != 0 && version != u.Version {
			return domain.E(op, domain.KindConflict, fmt.Errorf("user %s: %w", id, ErrStaleVersion))
		}
		return nil
	})
}

// isSCIMGroup reports whether g is exposed as a SCIM Group: a system
// group that is not built in (Everyone and Public have no member list,
// and Administrators is not for an IdP to fill).
func isSCIMGroup(g *domain.Group) bool {
	return g.Scope == domain.ScopeSystem && g.Builtin == domain.BuiltinNone
}

// SCIMGroup is a SCIM Group: a system group and its SCIM members.
type SCIMGroup struct {
	Group   domain.Group
	Members []domain.User  // members whose source is scim, by username
	Groups  []domain.Group // group members that are SCIM groups, by name
}

// GetSCIMGroup returns a SCIM group with its SCIM members (groups.view
// and users.view).
func (s *Service) GetSCIMGroup(ctx context.Context, c Caller, id string) (SCIMGroup, error) {
	const op = "service.GetSCIMGroup"
	p, err := s.reader(op, c)
	if err != nil {
		return SCIMGroup{}, err
	}
	g, err := loadGroup(ctx, s.st, p, op, id)
	if err != nil {
		return SCIMGroup{}, domain.E(op, err)
	}
	if !isSCIMGroup(&g) {
		return SCIMGroup{}, domain.Errorf(op, domain.KindNotFound, "group %s not found among the groups provisioned over SCIM", id)
	}
	return s.scimGroup(ctx, p, op, g, nil)
}

// RefuseSCIMChange is for a SCIM change (PATCH) that must read its
// target before writing: when err, from GetSCIMUser or GetSCIMGroup, says
// the object exists but is not managed over SCIM (a local user, a built-in
// or project group), the refused change is audited like any refused write
// (R29) and still answered as not found. Other errors pass through.
func (s *Service) RefuseSCIMChange(ctx context.Context, c Caller, kind, id string, err error) error {
	if !domain.Is(err, domain.KindNotFound) {
		return err
	}
	op, action, what := "service.ChangeSCIMUser", "user.update", "a local user"
	exists := func() bool { _, e := s.st.GetUser(ctx, id); return e == nil }
	if kind == "group" {
		op, action, what = "service.ChangeSCIMGroup", "group.update", "a built-in or project group"
		exists = func() bool { _, e := s.st.GetGroup(ctx, id); return e == nil }
	}
	if !exists() {
		return err
	}
	return s.refuse(ctx, c, op, action, hiddenFromSCIM(kind, id, what))
}

// scimGroup reads g's current SCIM members: its users whose source is
// scim and its member groups that are SCIM groups (nested groups, issue
// 20). known, when not nil, holds the SCIM groups already read.
func (s *Service) scimGroup(ctx context.Context, p *perms, op string, g domain.Group, known map[string]domain.Group) (SCIMGroup, error) {
	if !p.has(domain.PermUsersView) {
		return SCIMGroup{}, forbidden(op, "missing permission %s: a group's members are users", domain.PermUsersView)
	}
	ms, err := allMembers(ctx, s.st, g.ID)
	if err != nil {
		return SCIMGroup{}, domain.E(op, err)
	}
	out := SCIMGroup{Group: g, Members: []domain.User{}}
	for _, m := range ms {
		if m.User.Source == domain.SourceSCIM && m.Membership.ActiveAt(s.now()) {
			p.maskUser(&m.User) // R18: a member's display name is personal
			out.Members = append(out.Members, m.User)
		}
	}
	if out.Groups, err = s.scimGroupMembers(ctx, p, g.ID, known); err != nil {
		return SCIMGroup{}, domain.E(op, err)
	}
	return out, nil
}

// scimGroupMembers lists the SCIM groups that are current members of
// group id and that the caller may see, by name.
func (s *Service) scimGroupMembers(ctx context.Context, p *perms, id string, known map[string]domain.Group) ([]domain.Group, error) {
	gms, err := s.st.ListGroupMembers(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []domain.Group{}
	for _, gm := range gms {
		if !gm.ActiveAt(s.now()) {
			continue
		}
		child, ok := known[gm.MemberGroupID]
		if !ok {
			if child, err = s.st.GetGroup(ctx, gm.MemberGroupID); err != nil {
				return nil, err
			}
		}
		if isSCIMGroup(&child) && p.mayViewGroup(&child) {
			out = append(out, child)
		}
	}
	slices.SortFunc(out, func(a, b domain.Group) int { return strings.Compare(domain.NameKey(a.Name), domain.NameKey(b.Name)) })
	return out, nil
}

// ListSCIMGroups returns every SCIM group with its SCIM members (groups.view
// and users.view), by name.
func (s *Service) ListSCIMGroups(ctx context.Context, c Caller) ([]SCIMGroup, error) {
	const op = "service.ListSCIMGroups"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	gs, err := collect(ctx, func(cur string) (store.Page[domain.Group], error) {
		p, err := s.ListGroups(ctx, c, ListQuery{Cursor: cur, Limit: 1000, Scope: domain.ScopeSystem})
		return store.Page[domain.Group](p), err
	})
	if err != nil {
		return nil, err
	}
	known := map[string]domain.Group{}
	for _, g := range gs {
		if isSCIMGroup(&g) {
			known[g.ID] = g
		}
	}
	out := []SCIMGroup{}
	for _, g := range gs {
		if !isSCIMGroup(&g) {
			continue
		}
		sg, err := s.scimGroup(ctx, p, op, g, known)
		if err != nil {
			return nil, err
		}
		out = append(out, sg)
	}
	return out, nil
}

// SCIMUserGroups returns the SCIM groups a user is directly and currently
// a member of (groups.view and users.view), for User.groups.
func (s *Service) SCIMUserGroups(ctx context.Context, c Caller, userID string) ([]domain.Group, error) {
	const op = "service.SCIMUserGroups"
	p, err := s.reader(op, c)
	if err != nil {
		return nil, err
	}
	if !p.has(domain.PermGroupsView) || !p.has(domain.PermUsersView) {
		return nil, forbidden(op, "missing permission %s and %s", domain.PermGroupsView, domain.PermUsersView)
	}
	ms, err := s.st.ListUserMemberships(ctx, userID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	out := []domain.Group{}
	now := s.now()
	for _, m := range ms {
		if !m.ActiveAt(now) {
			continue
		}
		g, err := s.st.GetGroup(ctx, m.GroupID)
		if domain.Is(err, domain.KindNotFound) {
			continue
		} else if err != nil {
			return nil, domain.E(op, err)
		}
		if isSCIMGroup(&g) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b domain.Group) int { return strings.Compare(domain.NameKey(a.Name), domain.NameKey(b.Name)) })
	return out, nil
}

// SCIMGroupChange is the new state of a SCIM group: its name when not nil,
// and its SCIM member list when Members is not nil (users provisioned over
// SCIM and SCIM groups; members of another source, and member groups SCIM
// does not see, are kept as they are).
type SCIMGroupChange struct {
	Name       *string
	ExternalID *string
	Members    *[]SCIMMember
	Version    int64 // when not zero, must be the stored version (ErrStaleVersion)
}

// SCIMMember is one member of a SCIM group as the IdP names it (RFC 7643
// §4.2): its id and its type, "User", "Group" (in any case) or empty. A
// member without a type is the user with that id if there is one, else
// the group with that id (docs/scim.md).
type SCIMMember struct {
	ID   string
	Type string
}

// CreateSCIMGroup creates a system group with its members in one
// transaction: groups.edit (with roles.view, R9), and groups.members
// (with users.view) when it has members.
func (s *Service) CreateSCIMGroup(ctx context.Context, c Caller, name, externalID string, members []SCIMMember) (SCIMGroup, int64, error) {
	const op, action = "service.CreateSCIMGroup", "group.create"
	g := domain.Group{Name: name, ExternalID: externalID, Scope: domain.ScopeSystem}
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if !p.mayAdministerGroup(&g, domain.PermGroupsEdit) {
			return deny("group", "", "missing permission %s (R21)", domain.PermGroupsEdit)
		}
		if err := p.needsAlongside(&g, domain.PermGroupsEdit, "group", ""); err != nil {
			return err
		}
		if err := valid(&g, nil, identifier.Group); err != nil {
			return err
		}
		g.ID = domain.NewID()
		if err := tx.CreateGroup(ctx, &g); err != nil {
			return err
		}
		if err := audit(ctx, tx, c, action, "group", g.ID, nil, g, "provisioned over SCIM"); err != nil {
			return err
		}
		if len(members) == 0 {
			return nil
		}
		return s.setSCIMMembers(ctx, tx, p, c, &g, members)
	})
	if err != nil {
		return SCIMGroup{}, 0, err
	}
	sg, err := s.GetSCIMGroup(ctx, c, g.ID)
	return sg, rev, err
}

// ChangeSCIMGroup renames a SCIM group and/or sets its SCIM member list in
// one transaction, authorized as UpdateGroup, AddMembers and RemoveMembers
// are (R21–R25), one audit record per change.
func (s *Service) ChangeSCIMGroup(ctx context.Context, c Caller, id string, ch SCIMGroupChange) (SCIMGroup, int64, error) {
	const op = "service.ChangeSCIMGroup"
	action := "group.update"
	if ch.Name == nil && ch.ExternalID == nil {
		action = "group.member_add"
	}
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, err := loadGroup(ctx, tx, p, op, id)
		if err != nil {
			return err
		}
		if !isSCIMGroup(&g) {
			return hiddenFromSCIM("group", id, "a built-in or project group")
		}
		if ch.Version != 0 && ch.Version != g.Version {
			return domain.E(op, domain.KindConflict, fmt.Errorf("group %s: %w (version %d, not %d)", id, ErrStaleVersion, g.Version, ch.Version))
		}
		next := g
		if ch.Name != nil {
			next.Name = *ch.Name
		}
		if ch.ExternalID != nil {
			next.ExternalID = *ch.ExternalID
		}
		// Validate trims, so that a value equal but for spaces is no
		// change; its error counts only once the caller may change the group.
		verr := next.Validate()
		if next.Name != g.Name || next.ExternalID != g.ExternalID {
			if !p.mayAdministerGroup(&g, domain.PermGroupsEdit) {
				return deny("group", id, "missing permission %s (R21)", domain.PermGroupsEdit)
			}
			if err := p.needsAlongside(&g, domain.PermGroupsEdit, "group", id); err != nil {
				return err
			}
			if verr != nil {
				return verr
			}
			before := g
			if err := identifier.Group(&next, &before); err != nil {
				return err
			}
			g = next
			if err := tx.UpdateGroup(ctx, &g); err != nil {
				return err
			}
			if err := audit(ctx, tx, c, "group.update", "group", id, before, g, "over SCIM"); err != nil {
				return err
			}
		}
		if ch.Members != nil {
			return s.setSCIMMembers(ctx, tx, p, c, &g, *ch.Members)
		}
		return nil
	})
	if err != nil {
		return SCIMGroup{}, 0, err
	}
	sg, err := s.GetSCIMGroup(ctx, c, id)
	return sg, rev, err
}

// setSCIMMembers makes the group's SCIM members exactly want, through
// the use cases REST and the console use, only when something changes:
// changeMembersOf for users, removeGroupMembers and addGroupMembers for
// groups (every nesting rule: scope, cycle, depth, R22, R23). Groups
// leave first and join last, so that a member list swapping one nested
// group for another is judged on the list it asks for (R23).
func (s *Service) setSCIMMembers(ctx context.Context, tx store.Tx, p *perms, c Caller, g *domain.Group, want []SCIMMember) error {
	const op = "service.setSCIMMembers"
	d, err := scimMemberDiff(ctx, tx, op, g.ID, want)
	if err != nil {
		return err
	}
	if len(d.removeGroups) > 0 {
		if err := s.removeGroupMembers(ctx, tx, c, op, g.ID, d.removeGroups, scimGroupInputs(nil), new(GroupMembersResult)); err != nil {
			return err
		}
	}
	if len(d.addUsers) > 0 || len(d.removeUsers) > 0 {
		if err := s.changeMembersOf(ctx, tx, p, c, op, g, memberChange{add: d.addUsers, remove: d.removeUsers,
			added: new(MembersResult), removed: new(MembersResult), via: "; over SCIM"}); err != nil {
			return err
		}
	}
	if len(d.addGroups) > 0 {
		return s.addGroupMembers(ctx, tx, c, op, g.ID, d.addGroups, scimGroupInputs(d.addAt), new(GroupMembersResult))
	}
	return nil
}

// scimGroupInputs names the i-th group added members[at[i]].value, where
// the IdP put it.
func scimGroupInputs(at []int) groupInputs {
	return groupInputs{id: ".value", via: "; over SCIM", field: func(i int) string {
		if i < len(at) {
			i = at[i]
		}
		return fmt.Sprintf("members[%d]", i)
	}}
}

// scimDiff is what setting a SCIM group's member list changes.
type scimDiff struct {
	addUsers     []MemberInput
	removeUsers  []string
	addGroups    []GroupMemberInput
	addAt        []int // the index in the wanted list of each of addGroups
	removeGroups []string
}

// scimMemberDiff compares the group's SCIM members with want: the users
// and groups to add (each one provisioned over SCIM, else
// members[i].value is invalid) and the SCIM members to remove. Members
// from elsewhere stay.
func scimMemberDiff(ctx context.Context, tx store.Tx, op, groupID string, want []SCIMMember) (scimDiff, error) {
	var d scimDiff
	users, groups, err := currentSCIMMembers(ctx, tx, groupID)
	if err != nil {
		return d, err
	}
	have := map[string]bool{}
	for _, id := range append(slices.Clone(users), groups...) {
		have[id] = true
	}
	wanted := map[string]bool{}
	for i, m := range want {
		isGroup, err := resolveSCIMMember(ctx, tx, op, fmt.Sprintf("members[%d]", i), m)
		if err != nil {
			return d, err
		}
		if wanted[m.ID] {
			continue
		}
		wanted[m.ID] = true
		switch {
		case have[m.ID]:
		case isGroup:
			d.addGroups = append(d.addGroups, GroupMemberInput{GroupID: m.ID})
			d.addAt = append(d.addAt, i)
		default:
			d.addUsers = append(d.addUsers, MemberInput{UserID: m.ID})
		}
	}
	for _, id := range users {
		if !wanted[id] {
			d.removeUsers = append(d.removeUsers, id)
		}
	}
	for _, id := range groups {
		if !wanted[id] {
			d.removeGroups = append(d.removeGroups, id)
		}
	}
	return d, nil
}

// currentSCIMMembers lists the group's members SCIM manages, expired
// memberships included: its users whose source is scim, and its member
// groups that are SCIM groups.
func currentSCIMMembers(ctx context.Context, tx store.Tx, groupID string) (users, groups []string, err error) {
	ms, err := allMembers(ctx, tx, groupID)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ms {
		if m.User.Source == domain.SourceSCIM {
			users = append(users, m.User.ID)
		}
	}
	gms, err := tx.ListGroupMembers(ctx, groupID)
	if err != nil {
		return nil, nil, err
	}
	for _, gm := range gms {
		g, err := tx.GetGroup(ctx, gm.MemberGroupID)
		if err != nil {
			return nil, nil, err
		}
		if isSCIMGroup(&g) {
			groups = append(groups, g.ID)
		}
	}
	return users, groups, nil
}

// resolveSCIMMember says whether member m (at field) is a group: its type
// says so, or, without a type, its id is no user's and is a group's. A
// user must be provisioned over SCIM and a group a SCIM group; Everyone
// and Public are passed on, for the nesting rules to name why not (R4,
// R5).
func resolveSCIMMember(ctx context.Context, tx store.Tx, op, field string, m SCIMMember) (bool, error) {
	typ := strings.ToLower(m.Type)
	if typ != "" && typ != "user" && typ != "group" {
		return false, invalid(op, field+".type", "is %q: a member's type is User or Group (canonicalValues in /Schemas), or absent", m.Type)
	}
	if typ != "group" {
		u, err := tx.GetUser(ctx, m.ID)
		switch {
		case err == nil && u.Source == domain.SourceSCIM:
			return false, nil
		case err == nil || typ == "user" && domain.Is(err, domain.KindNotFound):
			return false, invalid(op, field+".value", "user %s does not exist among the users provisioned over SCIM", m.ID)
		case !domain.Is(err, domain.KindNotFound):
			return false, err
		}
	}
	g, err := tx.GetGroup(ctx, m.ID)
	switch {
	case err == nil && (isSCIMGroup(&g) || g.Builtin == domain.BuiltinEveryone || g.Builtin == domain.BuiltinPublic):
		return true, nil
	case err != nil && !domain.Is(err, domain.KindNotFound):
		return true, err
	case typ == "":
		return true, invalid(op, field+".value", "%s is the id of no user and no group provisioned over SCIM", m.ID)
	}
	return true, invalid(op, field+".value", "group %s does not exist among the groups provisioned over SCIM", m.ID)
}

// DeleteSCIMGroup deletes a SCIM group (groups.delete). The IdP's DELETE is
// the confirmation R27 asks for: the group leaves every project it is in.
func (s *Service) DeleteSCIMGroup(ctx context.Context, c Caller, id string, version int64) (int64, error) {
	const op = "service.DeleteSCIMGroup"
	_, rev, err := s.deleteGroup(ctx, c, op, id, DeleteGroupOptions{Confirm: true}, func(g *domain.Group) error {
		if !isSCIMGroup(g) {
			return hiddenFromSCIM("group", id, "a built-in or project group")
		}
		if version != 0 && version != g.Version {
			return domain.E(op, domain.KindConflict, fmt.Errorf("group %s: %w", id, ErrStaleVersion))
		}
		return nil
	})
	return rev, err
}
