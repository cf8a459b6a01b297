package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// The hospital of issue 20: "Radiologists" contains "XYZ radiologists"
// and "ABC radiologists"; alice is in XYZ, bob in ABC. Radiologists has
// project.read on the imaging project, view on /images, the domain
// "radiology" and the checkbox users.view.
func nestedFixture() *domain.Snapshot {
	s := &domain.Snapshot{Revision: 1}
	s.Roles = domain.BuiltinRoles()
	s.Groups = append(domain.BuiltinGroups(),
		domain.Group{ID: "rad", Name: "Radiologists", Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermUsersView}},
		domain.Group{ID: "xyz", Name: "XYZ radiologists", Scope: domain.ScopeSystem},
		domain.Group{ID: "abc", Name: "ABC radiologists", Scope: domain.ScopeSystem},
		domain.Group{ID: "night", Name: "Night shift", Scope: domain.ScopeSystem},
		domain.Group{ID: "mods", Name: "Moderators", Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermGroupsMembers, domain.PermUsersView}},
	)
	s.Projects = []domain.Project{{ID: "img", Name: "Imaging", MembershipMode: domain.ModeMultiple},
		{ID: "trial", Name: "Trial", MembershipMode: domain.ModeExclusive}}
	for _, u := range []string{"alice", "bob", "carol", "root", "mo"} {
		s.Users = append(s.Users, domain.User{ID: u, Username: u, Status: domain.UserActive, ShowPersonalInfo: true})
	}
	s.Memberships = []domain.Membership{
		{GroupID: "xyz", UserID: "alice"}, {GroupID: "abc", UserID: "bob"},
		{GroupID: "night", UserID: "carol"}, {GroupID: domain.GroupAdministratorsID, UserID: "root"},
		{GroupID: "mods", UserID: "mo"},
	}
	s.GroupMemberships = []domain.GroupMembership{
		{GroupID: "rad", MemberGroupID: "xyz"}, {GroupID: "rad", MemberGroupID: "abc"},
	}
	s.ProjectGrants = []domain.ProjectGrant{{ProjectID: "img", SubjectKind: domain.SubjectGroup, SubjectID: "rad", Permissions: []string{domain.PermProjectRead}}}
	s.DomainGrants = []domain.DomainGrant{{GroupID: "rad", Domain: "radiology"}}
	s.FolderTypes = []domain.FolderType{domain.BuiltinFolderType()}
	s.Folders = []domain.Folder{{ID: "images", Name: "images", TypeID: domain.FolderTypeFolderID}}
	s.FolderLevels = []domain.FolderLevel{{FolderID: "images", GroupID: "rad", Level: domain.LevelView}}
	return s
}

func newNested(t *testing.T) *Engine {
	t.Helper()
	e, err := New(nestedFixture())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func nest(parent, child string, exp *time.Time) domain.Mutation {
	return domain.Mutation{Op: domain.OpPut, Entity: domain.EntityGroupMembership,
		GroupMembership: &domain.GroupMembership{GroupID: parent, MemberGroupID: child, ExpiresAt: exp}}
}

func unnest(parent, child string) domain.Mutation {
	return domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityGroupMembership,
		GroupMembership: &domain.GroupMembership{GroupID: parent, MemberGroupID: child}}
}

var (
	sysRes   = Resource{Kind: KindSystem}
	imgRes   = Resource{Kind: KindProject, ID: "img"}
	radDom   = Resource{Kind: KindDomain, ID: "radiology"}
	imagesFo = folder("images")
)

// Every kind of grant reaches the members of a nested group (R12–R17).
func TestR12_NestedGroupMembersGetEveryGrantOfTheParent(t *testing.T) {
	e := newNested(t)
	runCases(t, e, t0, []checkCase{
		{user("alice"), domain.PermProjectRead, imgRes, true},
		{user("bob"), "root.read", imagesFo, true},
		{user("alice"), domain.PermDomainAccess, radDom, true},
		{user("bob"), domain.PermUsersView, sysRes, true},
		{user("carol"), domain.PermProjectRead, imgRes, false},
	})
	apply(t, e, nest("xyz", "night", nil)) // Night shift inside XYZ inside Radiologists
	runCases(t, e, t0, []checkCase{{user("carol"), domain.PermProjectRead, imgRes, true}})
}

// A path counts until the earliest expiry along it, with no restart (R6).
func TestR6_NestedPathCountsUntilItsEarliestExpiry(t *testing.T) {
	e := newNested(t)
	edge, member := t0.Add(2*time.Hour), t0.Add(time.Hour)
	apply(t, e, nest("xyz", "night", &edge),
		domain.Mutation{Op: domain.OpPut, Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "night", UserID: "carol", ExpiresAt: &member}})
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{t0, true}, {member.Add(-time.Nanosecond), true}, {member, false}, {edge.Add(time.Hour), false}} {
		if got := check(t, e, user("carol"), domain.PermProjectRead, imgRes, c.at); got != c.want {
			t.Errorf("at %v: carol reads Imaging = %v, want %v", c.at, got, c.want)
		}
	}
	// The other way round: the nesting expires first.
	apply(t, e, domain.Mutation{Op: domain.OpPut, Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "night", UserID: "carol"}})
	if !check(t, e, user("carol"), domain.PermProjectRead, imgRes, edge.Add(-time.Second)) || check(t, e, user("carol"), domain.PermProjectRead, imgRes, edge) {
		t.Error("the nesting's own expiry does not end the path at its instant")
	}
	// Two paths: the latest one counts.
	apply(t, e, nest("abc", "night", nil))
	if !check(t, e, user("carol"), domain.PermProjectRead, imgRes, edge.Add(time.Hour)) {
		t.Error("a second, unexpiring path does not keep carol in Radiologists")
	}
}

// Explain shows the path; subjects lists users with it (R19).
func TestR19_ExplainAndSubjectsShowTheNestedPath(t *testing.T) {
	e := newNested(t)
	x, err := e.Explain(user("alice"), domain.PermProjectRead, imgRes, t0)
	if err != nil || !x.Allowed || len(x.Paths) != 1 {
		t.Fatalf("Explain = %+v, %v", x, err)
	}
	if p := x.Paths[0]; p.GroupName != "Radiologists" || !slices.Equal(p.Through, []string{"XYZ radiologists"}) {
		t.Errorf("path = %+v, want Radiologists through XYZ radiologists", p)
	}
	users, _, err := e.ListSubjects(domain.PermProjectRead, imgRes, t0)
	if err != nil {
		t.Fatal(err)
	}
	var alice *SubjectGrant
	for i := range users {
		if users[i].UserID == "alice" {
			alice = &users[i]
		}
	}
	if alice == nil || !slices.Equal(alice.Paths, []string{"XYZ radiologists → Radiologists"}) {
		t.Errorf("ListSubjects: alice = %+v, want the path XYZ radiologists → Radiologists", alice)
	}
	ms, err := e.EffectiveMembers("rad", t0)
	if err != nil || len(ms) != 2 || ms[0].UserID != "alice" || !slices.Equal(ms[0].Through, []string{"XYZ radiologists"}) {
		t.Errorf("EffectiveMembers(Radiologists) = %+v, %v", ms, err)
	}
	if got := e.MembershipPath("bob", "rad", t0); !slices.Equal(got, []string{"ABC radiologists", "Radiologists"}) {
		t.Errorf("MembershipPath(bob, Radiologists) = %q", got)
	}
}

// A cycle is refused at Apply (and Stage), naming it.
func TestNestingCycleIsRefusedNamingIt(t *testing.T) {
	e := newNested(t)
	apply(t, e, nest("xyz", "night", nil))
	_, err := e.Stage([]domain.Mutation{nest("night", "rad", nil)})
	if !domain.Is(err, domain.KindInvalid) || !strings.Contains(err.Error(), "Radiologists → Night shift → XYZ radiologists → Radiologists") {
		t.Errorf("nesting Radiologists in Night shift: %v, want the cycle named", err)
	}
	_, err = e.Stage([]domain.Mutation{nest("rad", "rad", nil)})
	if !domain.Is(err, domain.KindInvalid) {
		t.Errorf("a group in itself: %v", err)
	}
	// A snapshot holding a cycle (a hand edit) is refused too, naming it
	// from either of its groups (New looks for it from a map's keys).
	s := nestedFixture()
	s.GroupMemberships = append(s.GroupMemberships, domain.GroupMembership{GroupID: "xyz", MemberGroupID: "rad"})
	_, err = New(s)
	if msg := fmt.Sprint(err); !domain.Is(err, domain.KindInvalid) || !strings.Contains(msg, "cycle Radiologists → XYZ radiologists → Radiologists") &&
		!strings.Contains(msg, "cycle XYZ radiologists → Radiologists → XYZ radiologists") {
		t.Errorf("New with a cycle: %v, want the cycle named", err)
	}
}

// Everyone and Public take no part in nesting (R4, R5): a nesting naming
// them, from a hand edit, changes nothing.
func TestR12_NestingIgnoresEveryoneAndPublic(t *testing.T) {
	e := newNested(t)
	apply(t, e, nest("rad", domain.GroupEveryoneID, nil), nest(domain.GroupPublicID, "night", nil))
	runCases(t, e, t0, []checkCase{
		{user("carol"), domain.PermProjectRead, imgRes, false},
		{Anonymous, domain.PermProjectRead, imgRes, false},
	})
}

// Removing an edge, or deleting a group in the middle, updates the groups
// below it (incremental closure).
func TestR12_RemovingANestingOrAMiddleGroupUpdatesEveryoneBelow(t *testing.T) {
	e := newNested(t)
	apply(t, e, nest("xyz", "night", nil))
	apply(t, e, unnest("rad", "xyz"))
	runCases(t, e, t0, []checkCase{
		{user("alice"), domain.PermProjectRead, imgRes, false},
		{user("carol"), domain.PermProjectRead, imgRes, false},
		{user("bob"), domain.PermProjectRead, imgRes, true},
	})
	apply(t, e, nest("rad", "xyz", nil))
	apply(t, e, domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityGroup, Group: &domain.Group{ID: "xyz"}})
	runCases(t, e, t0, []checkCase{{user("carol"), domain.PermProjectRead, imgRes, false}})
	if len(e.GroupAncestors("night", t0)) != 0 {
		t.Errorf("Night shift keeps ancestors after the middle group went: %q", e.GroupAncestors("night", t0))
	}
}

// R23: a user reached through two groups present in an exclusive project
// is in both there.
func TestR23_GroupsInProjectCountsNestedPaths(t *testing.T) {
	e := newNested(t)
	apply(t, e,
		domain.Mutation{Op: domain.OpPut, Entity: domain.EntityProjectGrant, ProjectGrant: &domain.ProjectGrant{ProjectID: "trial", SubjectKind: domain.SubjectGroup, SubjectID: "rad", Permissions: []string{domain.PermProjectRead}}},
		domain.Mutation{Op: domain.OpPut, Entity: domain.EntityProjectGrant, ProjectGrant: &domain.ProjectGrant{ProjectID: "trial", SubjectKind: domain.SubjectGroup, SubjectID: "xyz", Permissions: []string{domain.PermProjectRead}}})
	got, err := e.GroupsInProject("alice", "trial", "", t0)
	if err != nil || !slices.Equal(got, []string{"rad", "xyz"}) {
		t.Errorf("GroupsInProject(alice, trial) = %q, %v; want both Radiologists and XYZ", got, err)
	}
	shared, err := e.SharedInProject("trial", t0)
	if err != nil || !slices.Equal(shared["alice"], []string{"rad", "xyz"}) || shared["bob"] != nil {
		t.Errorf("SharedInProject(trial) = %v, %v", shared, err)
	}
	if !e.MemberAt("alice", "rad", t0) || e.MemberAt("carol", "rad", t0) {
		t.Error("MemberAt does not follow nesting")
	}
}

// R3: a group nested in Administrators keeps an administrator, until the
// nesting expires.
func TestR3_HeldForeverCountsNestedAdministrators(t *testing.T) {
	s := nestedFixture()
	s.Memberships = slices.DeleteFunc(s.Memberships, func(m domain.Membership) bool { return m.UserID == "root" })
	e, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	until := t0.Add(time.Hour)
	apply(t, e, nest(domain.GroupAdministratorsID, "night", &until))
	forever, last, err := e.HeldForever(domain.PermServerManage, t0)
	if err != nil || forever || !last.Equal(until) {
		t.Errorf("HeldForever = %v, %v, %v; want until the nesting expires", forever, last, err)
	}
	apply(t, e, nest(domain.GroupAdministratorsID, "night", nil))
	if forever, _, _ := e.HeldForever(domain.PermServerManage, t0); !forever {
		t.Error("an unexpiring nesting in Administrators does not keep an administrator")
	}
}

// R22: nesting a group grants its members everything the parent gives;
// a caller who lacks any of it is refused.
func TestR22_NestingGrantsWhatTheParentGives(t *testing.T) {
	e := newNested(t)
	after, err := e.Stage([]domain.Mutation{nest("rad", "night", nil)})
	if err != nil {
		t.Fatal(err)
	}
	beyond, err := e.GrantsBeyond(after, Holder{UserID: "mo"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(beyond, "; ")
	for _, want := range []string{"project.read on project img", "domain.access on domain \"radiology\"", "root.read on folder"} {
		if !strings.Contains(joined, want) {
			t.Errorf("GrantsBeyond misses %q: %q", want, beyond)
		}
	}
	if beyond, _ := e.GrantsBeyond(after, Holder{UserID: "root"}, t0); len(beyond) != 0 {
		t.Errorf("server.manage is exempt, got %q", beyond)
	}
}

// R22 when the index holds no other nesting: the first group nested, the
// last one taken out, and the end of one lifted count like any other
// (GrantsBeyond skips the nesting comparison only when neither side has a
// group member).
func TestR22_TheFirstNestingAndTheLastCount(t *testing.T) {
	s := nestedFixture()
	s.GroupMemberships = nil
	none, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	one, err := none.Stage([]domain.Mutation{nest("rad", "night", nil)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := one.Stage([]domain.Mutation{unnest("rad", "night")})
	if err != nil {
		t.Fatal(err)
	}
	until := t0.Add(time.Hour)
	ending, err := none.Stage([]domain.Mutation{nest("rad", "night", &until)})
	if err != nil {
		t.Fatal(err)
	}
	const why = ` (nested groups, membership of group "Radiologists")`
	want := []string{`domain.access on domain "radiology"` + why, `project.read on project img ("Imaging")` + why, `root.read on folder /images` + why}
	for _, c := range []struct {
		name          string
		before, after *Engine
	}{{"the first nesting", none, one}, {"the last nesting taken out", one, back}, {"its end lifted", ending, one}} {
		if beyond, err := c.before.GrantsBeyond(c.after, Holder{UserID: "mo"}, t0); err != nil || !slices.Equal(beyond, want) {
			t.Errorf("%s: GrantsBeyond = %q, %v; want %q", c.name, beyond, err, want)
		}
	}
}

// R22, the CVE-style case of issue 20: nesting a powerful group under one
// the caller manages gives the caller no power over its members.
func TestR22_NestingAPowerfulGroupUnderAManagedOneGivesNoPowerOverItsMembers(t *testing.T) {
	e := newNested(t)
	apply(t, e, nest("mods", domain.GroupAdministratorsID, nil)) // Administrators inside Moderators
	over, err := e.Outranks("root", Holder{UserID: "mo"}, t0)
	if err != nil || !slices.Contains(over, domain.PermServerManage) {
		t.Errorf("Outranks(root by mo) = %q, %v; mo must still be outranked by the administrator", over, err)
	}
	// And the administrators gained only what Moderators gives: mo holds it.
	if check(t, e, user("mo"), domain.PermServerManage, sysRes, t0) {
		t.Error("mo gained server.manage from nesting Administrators under Moderators")
	}
}

func TestNestingChainIsTheLongestThroughTheEdge(t *testing.T) {
	e := newNested(t)
	apply(t, e, nest("xyz", "night", nil), nest("mods", "rad", nil))
	got := e.NestingChain("rad", "xyz")
	if want := []string{"Night shift", "XYZ radiologists", "Radiologists", "Moderators"}; !slices.Equal(got, want) {
		t.Errorf("NestingChain = %q, want %q", got, want)
	}
}

// TestNestingChainAfterAnEdgeAboveIsRemoved: removing C's membership of B
// leaves D's ancestors as they were (D is in both directly) but shortens
// D's longest chain up; the chain then goes through E, now the longer
// way (closure.go reclose keeps a height that changed alone).
func TestNestingChainAfterAnEdgeAboveIsRemoved(t *testing.T) {
	s := &domain.Snapshot{Revision: 1, Roles: domain.BuiltinRoles(), Groups: domain.BuiltinGroups()}
	// D before E and X before Y: of equal chains, the first group's counts.
	for _, id := range []string{"B", "C", "D", "E", "F", "G", "Z", "W", "X", "Y"} {
		s.Groups = append(s.Groups, domain.Group{ID: id, Name: id, Scope: domain.ScopeSystem})
	}
	for _, e := range [][2]string{{"B", "C"}, {"B", "D"}, {"C", "D"}, {"F", "E"}, {"G", "F"}, {"D", "Z"}, {"E", "Z"}, {"Z", "W"}, {"W", "X"}, {"W", "Y"}} {
		s.GroupMemberships = append(s.GroupMemberships, domain.GroupMembership{GroupID: e[0], MemberGroupID: e[1]})
	}
	e, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		muts []domain.Mutation
		want []string
	}{
		{"D → C → B and E → F → G are as long", nil, []string{"X", "W", "Z", "D", "C", "B"}},
		{"C left B", []domain.Mutation{unnest("B", "C")}, []string{"X", "W", "Z", "E", "F", "G"}},
	} {
		apply(t, e, c.muts...)
		if got := e.NestingChain("Z", "W"); !slices.Equal(got, c.want) {
			t.Errorf("%s: NestingChain(Z, W) = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestR6_MembershipPathFollowsOnlyMembershipsInForceAtNow: a membership
// or a nesting that ends at now is no step of the path (R6), even when it
// would be the shorter way; a user who is no member has no path.
func TestR6_MembershipPathFollowsOnlyMembershipsInForceAtNow(t *testing.T) {
	e := newNested(t)
	if got := e.MembershipPath("carol", "rad", t0); got != nil {
		t.Errorf("MembershipPath(carol, Radiologists) before any nesting = %q, want none", got)
	}
	now := t0
	apply(t, e, nest("abc", "night", nil), // carol: Night shift → ABC radiologists → Radiologists
		put(domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "xyz", UserID: "carol", ExpiresAt: &now}}),
		nest("rad", "night", &now))
	want := []string{"Night shift", "ABC radiologists", "Radiologists"}
	if got := e.MembershipPath("carol", "rad", now); !slices.Equal(got, want) {
		t.Errorf("MembershipPath(carol, Radiologists) = %q, want %q", got, want)
	}
}

// TestR6_GroupAncestorsUntilTheEdgeExpires: a group's ancestors at an
// instant, through nesting, stop at the expiry of the edge that makes
// them one (R6).
func TestR6_GroupAncestorsUntilTheEdgeExpires(t *testing.T) {
	e := newNested(t)
	until := t0.Add(time.Hour)
	apply(t, e, nest("mods", "rad", &until))
	for _, c := range []struct {
		at   time.Time
		want []string
	}{{t0, []string{"mods", "rad"}}, {until.Add(-time.Nanosecond), []string{"mods", "rad"}}, {until, []string{"rad"}}} {
		if got := e.GroupAncestors("xyz", c.at); !slices.Equal(got, c.want) {
			t.Errorf("GroupAncestors(XYZ radiologists) at %s = %q, want %q", c.at, got, c.want)
		}
	}
}

// TestNestingCycleNamesTheCycleBetweenLiveGroupsOnly: the question the
// service asks before nesting (docs/model.md §3) names the cycle a
// membership would close, and none for a group that is gone.
func TestNestingCycleNamesTheCycleBetweenLiveGroupsOnly(t *testing.T) {
	e := newNested(t)
	if got, want := e.NestingCycle("xyz", "rad"), "Radiologists → XYZ radiologists → Radiologists"; got != want {
		t.Errorf("NestingCycle(XYZ radiologists, Radiologists) = %q, want %q", got, want)
	}
	apply(t, e, domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityGroup, Group: &domain.Group{ID: "xyz"}})
	for _, c := range [][2]string{{"xyz", "rad"}, {"rad", "xyz"}} {
		if got := e.NestingCycle(c[0], c[1]); got != "" {
			t.Errorf("NestingCycle(%s, %s) with XYZ radiologists deleted = %q, want none", c[0], c[1], got)
		}
	}
}

// TestR19_ADirectMemberHasNoNestingPath: ListSubjects names a path only
// for a group the user is in through nested groups, not for their own.
func TestR19_ADirectMemberHasNoNestingPath(t *testing.T) {
	e := newNested(t)
	apply(t, e, put(domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "rad", UserID: "carol"}}))
	users, _, err := e.ListSubjects(domain.PermProjectRead, imgRes, t0)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(users, func(u SubjectGrant) bool { return u.UserID == "carol" })
	if i < 0 || len(users[i].Paths) != 0 || !slices.Equal(users[i].Groups, []string{"rad"}) {
		t.Errorf("carol, in Radiologists herself, among %+v: want her with group rad and no path", users)
	}
}
