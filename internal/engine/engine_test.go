package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine/enginegen"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture is a small hand-made model:
//
//	/images (folder)          Radiologists: view; Public: none
//	  /images/ct (folder)     Radiologists: none; Interns: edit
//	    /images/ct/2026       -
//	/trials (GRT Study, indication=GRT)    rule "grt-data" of Monitors: data.read
//	  /trials/site1 (Site)
func fixture() *domain.Snapshot {
	s := &domain.Snapshot{Revision: 10}
	s.Roles = domain.BuiltinRoles()
	s.Groups = append(domain.BuiltinGroups(),
		domain.Group{ID: "g-rad", Name: "Radiologists", Scope: domain.ScopeSystem},
		domain.Group{ID: "g-int", Name: "Interns", Scope: domain.ScopeSystem},
		domain.Group{ID: "g-mon", Name: "Monitors", Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermPersonalInfoView}},
		domain.Group{ID: "g-fa", Name: "FileAdmins", Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermFilesAdmin}},
		domain.Group{ID: "g-p1a", Name: "P1 A", Scope: domain.ScopeProject, ProjectID: "p1"},
		domain.Group{ID: "g-p1b", Name: "P1 B", Scope: domain.ScopeProject, ProjectID: "p1"},
		domain.Group{ID: "g-sys", Name: "Sys in P1", Scope: domain.ScopeSystem},
	)
	s.Projects = []domain.Project{
		{ID: "p1", Name: "Exclusive", MembershipMode: domain.ModeExclusive},
		{ID: "p2", Name: "Multiple", MembershipMode: domain.ModeMultiple},
	}
	s.Users = []domain.User{
		{ID: "alice", Username: "alice", Status: domain.UserActive, ShowPersonalInfo: true},
		{ID: "bob", Username: "bob", Status: domain.UserActive, ShowPersonalInfo: false},
		{ID: "carol", Username: "carol", Status: domain.UserDisabled, ShowPersonalInfo: true},
		{ID: "dave", Username: "dave", Status: domain.UserActive, ShowPersonalInfo: true, SystemRoleID: domain.RoleSystemMemberID},
	}
	exp := t0.Add(time.Hour)
	s.Memberships = []domain.Membership{
		{GroupID: "g-rad", UserID: "alice"},
		{GroupID: "g-int", UserID: "bob", ExpiresAt: &exp},
		{GroupID: "g-mon", UserID: "bob"},
		{GroupID: "g-rad", UserID: "carol"},
		{GroupID: "g-p1a", UserID: "dave"},
	}
	s.ProjectGrants = []domain.ProjectGrant{
		{ProjectID: "p1", SubjectKind: domain.SubjectGroup, SubjectID: "g-p1a", RoleID: domain.RoleViewerID},
		{ProjectID: "p1", SubjectKind: domain.SubjectUser, SubjectID: "dave", Permissions: []string{domain.PermProjectRead, domain.PermProjectWrite}},
		{ProjectID: "p1", SubjectKind: domain.SubjectUser, SubjectID: "alice", Permissions: []string{domain.PermProjectRead, domain.PermProjectWrite}},
		{ProjectID: "p2", SubjectKind: domain.SubjectUser, SubjectID: "bob", Permissions: []string{domain.PermProjectRead, domain.PermProjectViewPI}},
		{ProjectID: "p1", SubjectKind: domain.SubjectGroup, SubjectID: domain.GroupEveryoneID, Permissions: []string{domain.PermProjectAddSeries}},
	}
	s.DomainGrants = []domain.DomainGrant{{GroupID: "g-rad", Domain: "radiology"}}
	s.FolderTypes = []domain.FolderType{
		domain.BuiltinFolderType(),
		{ID: "t-study", Name: "GRT Study", Contexts: []string{"root", "data", "document", "analysis"}, Properties: []string{"indication"}},
		{ID: "t-site", Name: "Site", Contexts: []string{"root", "data"}},
	}
	s.Folders = []domain.Folder{
		{ID: "ct-2026", ParentID: "ct", Name: "2026", TypeID: domain.FolderTypeFolderID}, // child before parent on purpose
		{ID: "images", Name: "images", TypeID: domain.FolderTypeFolderID},
		{ID: "ct", ParentID: "images", Name: "ct", TypeID: domain.FolderTypeFolderID},
		{ID: "trials", Name: "trials", TypeID: "t-study", Properties: map[string]string{"indication": "GRT"}},
		{ID: "site1", ParentID: "trials", Name: "site1", TypeID: "t-site"},
	}
	s.FolderLevels = []domain.FolderLevel{
		{FolderID: "images", GroupID: "g-rad", Level: domain.LevelView},
		{FolderID: "ct", GroupID: "g-rad", Level: domain.LevelNone},
		{FolderID: "ct", GroupID: "g-int", Level: domain.LevelEdit},
		{FolderID: "images", GroupID: domain.GroupPublicID, Level: domain.LevelNone},
	}
	s.Rules = []domain.Rule{{ID: "r1", GroupID: "g-mon", Name: "grt-data",
		Criteria: []domain.Criterion{{FolderTypeID: "t-study", Property: "indication", Operator: domain.OpEq, Value: "GRT"}},
		Grants:   map[string][]string{"data": {"read"}}}}
	return s
}

func newFixture(t *testing.T) *Engine {
	t.Helper()
	e, err := New(fixture())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func user(id string) Subject { return Subject{UserID: id} }

func folder(id string) Resource { return Resource{Kind: KindFolder, ID: id} }

func check(t *testing.T, e *Engine, s Subject, perm string, r Resource, now time.Time) bool {
	t.Helper()
	d, err := e.Check(s, perm, r, now)
	if err != nil {
		t.Fatalf("Check(%v, %s, %v): %v", s, perm, r, err)
	}
	if d.Revision != e.Revision() {
		t.Errorf("Check revision = %d, want %d (R20)", d.Revision, e.Revision())
	}
	return d.Allowed
}

type checkCase struct {
	s    Subject
	perm string
	r    Resource
	want bool
}

func runCases(t *testing.T, e *Engine, now time.Time, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		if got := check(t, e, c.s, c.perm, c.r, now); got != c.want {
			t.Errorf("Check(%q, %s, %v) = %v, want %v", c.s.UserID, c.perm, c.r, got, c.want)
		}
	}
}

func TestR15_NearerNoneOverridesInherited(t *testing.T) {
	e := newFixture(t)
	runCases(t, e, t0, []checkCase{
		{user("alice"), "root.read", folder("images"), true},
		{user("alice"), "root.download", folder("images"), false},
		{user("alice"), "root.read", folder("ct"), false},      // nearer none
		{user("alice"), "root.read", folder("ct-2026"), false}, // inherited none
		{user("bob"), "root.edit", folder("ct-2026"), true},    // Interns edit inherited
		{user("bob"), "root.create", folder("ct"), false},      // edit < upload
	})
}

// TestR15_NearerNoneOverridesWithManyGroups: a check remembers which of
// the subject's groups met their nearest level entry in a 64-bit mask, and
// in a list past 64 groups; a group past the 64th must be held to its
// nearest entry too.
func TestR15_NearerNoneOverridesWithManyGroups(t *testing.T) {
	s := fixture()
	for i := range 70 {
		id := fmt.Sprintf("g-many-%02d", i)
		s.Groups = append(s.Groups, domain.Group{ID: id, Name: id, Scope: domain.ScopeSystem})
		s.Memberships = append(s.Memberships, domain.Membership{GroupID: id, UserID: "dave"})
	}
	s.FolderLevels = append(s.FolderLevels,
		domain.FolderLevel{FolderID: "images", GroupID: "g-many-69", Level: domain.LevelEdit},
		domain.FolderLevel{FolderID: "ct", GroupID: "g-many-69", Level: domain.LevelNone})
	e, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, e, t0, []checkCase{
		{user("dave"), "root.edit", folder("images"), true},
		{user("dave"), "root.read", folder("ct"), false},      // nearer none
		{user("dave"), "root.read", folder("ct-2026"), false}, // inherited none
	})
}

func TestR6_ExpiredMembershipStopsAtItsInstant(t *testing.T) {
	e := newFixture(t)
	exp := t0.Add(time.Hour)
	if !check(t, e, user("bob"), "root.edit", folder("ct"), exp.Add(-time.Nanosecond)) {
		t.Error("membership should count just before expires_at")
	}
	if check(t, e, user("bob"), "root.edit", folder("ct"), exp) {
		t.Error("membership should not count at expires_at")
	}
}

func TestR11_DisabledUserHasNothing(t *testing.T) {
	e := newFixture(t)
	runCases(t, e, t0, []checkCase{
		{user("carol"), "root.read", folder("images"), false},
		{user("carol"), domain.PermDomainAccess, Resource{Kind: KindDomain, ID: "radiology"}, false},
	})
	perms, err := e.EffectivePermissions(user("carol"), Resource{Kind: KindSystem}, t0)
	if err != nil || len(perms) != 0 {
		t.Errorf("EffectivePermissions(carol) = %v, %v; want none", perms, err)
	}
}

func TestR12_AnonymousIsPublicOnly(t *testing.T) {
	e := newFixture(t)
	runCases(t, e, t0, []checkCase{
		{Anonymous, domain.PermProjectAddSeries, Resource{Kind: KindProject, ID: "p1"}, false}, // Everyone's, not Public's
		{user("alice"), domain.PermProjectAddSeries, Resource{Kind: KindProject, ID: "p1"}, true},
		{Anonymous, "root.read", folder("images"), false},
	})
}

func TestR14_ExclusiveGroupReplacesIndividual(t *testing.T) {
	e := newFixture(t)
	p1 := Resource{Kind: KindProject, ID: "p1"}
	runCases(t, e, t0, []checkCase{
		{user("dave"), domain.PermProjectRead, p1, true},                                      // group Viewer
		{user("dave"), domain.PermProjectWrite, p1, false},                                    // individual write replaced
		{user("dave"), domain.PermProjectAddSeries, p1, true},                                 // Everyone's grant still adds
		{user("alice"), domain.PermProjectWrite, p1, true},                                    // no group in p1: individual
		{user("bob"), domain.PermProjectRead, p1, false},                                      // nothing
		{user("dave"), domain.PermProjectModerate, p1, false},                                 // R8 goes down, not up
		{user("bob"), domain.PermProjectViewPI, Resource{Kind: KindProject, ID: "p2"}, false}, // R18
	})
}

func TestR8_ModerateImpliesAllProjectPermissions(t *testing.T) {
	s := fixture()
	s.ProjectGrants = append(s.ProjectGrants, domain.ProjectGrant{ProjectID: "p2", SubjectKind: domain.SubjectUser, SubjectID: "alice", RoleID: domain.RoleModeratorID})
	e, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.EffectivePermissions(user("alice"), Resource{Kind: KindProject, ID: "p2"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"project.add_series", "project.moderate", "project.read", "project.view_personal_info", "project.write"}
	if !slices.Equal(got, want) {
		t.Errorf("EffectivePermissions = %v, want %v", got, want)
	}
}

func TestR16_RuleGrantsOnMatchAndDescendants(t *testing.T) {
	e := newFixture(t)
	runCases(t, e, t0, []checkCase{
		{user("bob"), "data.read", folder("trials"), true},
		{user("bob"), "data.read", folder("site1"), true},
		{user("bob"), "data.edit", folder("site1"), false},
		{user("bob"), "root.read", folder("site1"), false},
		{user("alice"), "data.read", folder("site1"), false},
	})
	_, err := e.Check(user("bob"), "document.read", folder("site1"), t0)
	if !domain.Is(err, domain.KindInvalid) || !strings.Contains(err.Error(), "root, data") {
		t.Errorf("undeclared context: err = %v, want invalid naming the contexts", err)
	}
	if err == nil || !strings.Contains(err.Error(), `type "Site"`) {
		t.Errorf("undeclared context: err = %v, want it to name the folder's type", err)
	}
}

func TestR17_FilesAdminAllowsEveryFolderPermission(t *testing.T) {
	s := fixture()
	s.Memberships = append(s.Memberships, domain.Membership{GroupID: "g-fa", UserID: "alice"})
	e, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, e, t0, []checkCase{
		{user("alice"), "root.delete_folder", folder("ct"), true},
		{user("alice"), "analysis.set_blinded", folder("trials"), true},
	})
}

func TestR18_PersonalInfoNeedsPreference(t *testing.T) {
	e := newFixture(t)
	sys := Resource{Kind: KindSystem}
	if check(t, e, user("bob"), domain.PermPersonalInfoView, sys, t0) {
		t.Error("bob has show_personal_info off")
	}
	x, err := e.Explain(user("bob"), domain.PermPersonalInfoView, sys, t0)
	if err != nil {
		t.Fatal(err)
	}
	if x.Allowed || !strings.Contains(x.Reason, "show_personal_info") || !slices.ContainsFunc(x.Suggestions, func(s string) bool { return strings.Contains(s, "turn on show_personal_info") }) {
		t.Errorf("Explain = %+v; want a deny naming show_personal_info as the only reason", x)
	}
}

// TestR18_EffectivePermissionsHidePersonalInfoWhenPreferenceOff: the
// service builds a caller's permissions from EffectivePermissions, so the
// preference must hide personal_info.view and project.view_personal_info
// there as in Check, and only those; anonymous has no preference to turn
// on, so a Public grant of project.view_personal_info shows nothing.
func TestR18_EffectivePermissionsHidePersonalInfoWhenPreferenceOff(t *testing.T) {
	sys, p2 := Resource{Kind: KindSystem}, Resource{Kind: KindProject, ID: "p2"}
	for _, show := range []bool{false, true} {
		s := fixture()
		s.Users[1].ShowPersonalInfo = show // bob: personal_info.view through Monitors, view_personal_info on p2
		s.ProjectGrants = append(s.ProjectGrants, domain.ProjectGrant{ProjectID: "p2", SubjectKind: domain.SubjectGroup,
			SubjectID: domain.GroupPublicID, Permissions: []string{domain.PermProjectViewPI}})
		e, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		wantSys, wantP2 := []string{}, []string{domain.PermProjectRead}
		if show {
			wantSys, wantP2 = []string{domain.PermPersonalInfoView}, []string{domain.PermProjectRead, domain.PermProjectViewPI}
		}
		effective(t, e, user("bob"), sys, wantSys)
		effective(t, e, user("bob"), p2, wantP2)
		effective(t, e, Anonymous, p2, []string{})
		runCases(t, e, t0, []checkCase{
			{user("bob"), domain.PermPersonalInfoView, sys, show},
			{user("bob"), domain.PermProjectViewPI, p2, show},
			{Anonymous, domain.PermProjectViewPI, p2, false},
		})
	}
}

// effective asserts the subject's EffectivePermissions on r.
func effective(t *testing.T, e *Engine, s Subject, r Resource, want []string) {
	t.Helper()
	got, err := e.EffectivePermissions(s, r, t0)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("EffectivePermissions(%q, %v) = %v, %v; want %v", s.UserID, r, got, err, want)
	}
}

func TestR13_SystemPermissionsUnionClosed(t *testing.T) {
	e := newFixture(t)
	sys := Resource{Kind: KindSystem}
	s := fixture()
	s.Memberships = append(s.Memberships, domain.Membership{GroupID: domain.GroupAdministratorsID, UserID: "alice"})
	e2, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, e, t0, []checkCase{
		{user("dave"), domain.PermUsersView, sys, true}, // System Member role
		{user("dave"), domain.PermUsersEdit, sys, false},
	})
	runCases(t, e2, t0, []checkCase{
		{user("alice"), domain.PermStorageDelete, sys, true}, // server.manage implies all (R8)
		{user("alice"), "root.delete_folder", folder("ct"), true},
	})
	x, err := e2.Explain(user("alice"), domain.PermStorageDelete, sys, t0)
	if err != nil || len(x.Paths) != 1 || x.Paths[0].Permission != domain.PermServerManage || x.Paths[0].GroupID != domain.GroupAdministratorsID {
		t.Errorf("Explain = %+v, %v; want one path through Administrators' server.manage", x, err)
	}
}

func TestR19_ExplainFolder(t *testing.T) {
	e := newFixture(t)
	x, err := e.Explain(user("bob"), "root.edit", folder("ct-2026"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if !x.Allowed || len(x.Paths) != 1 || x.Paths[0].FolderID != "ct" || x.Paths[0].GroupName != "Interns" || x.Paths[0].Level != domain.LevelEdit {
		t.Errorf("allow: %+v", x)
	}
	x, err = e.Explain(user("alice"), "root.read", folder("ct-2026"), t0)
	if err != nil {
		t.Fatal(err)
	}
	want := "raise the level of group Radiologists on folder /images/ct to view"
	if x.Allowed || !slices.Contains(x.Suggestions, want) {
		t.Errorf("deny suggestions = %q, want %q", x.Suggestions, want)
	}
	x, _ = e.Explain(user("alice"), "root.edit", folder("ct"), t0)
	if !slices.Contains(x.Suggestions, "add alice to group Interns") {
		t.Errorf("deny suggestions = %q, want add alice to group Interns", x.Suggestions)
	}
	x, _ = e.Explain(user("bob"), "data.read", folder("site1"), t0)
	if !x.Allowed || len(x.Paths) != 1 || x.Paths[0].Via != "rule" || x.Paths[0].MatchedID != "trials" {
		t.Errorf("rule path: %+v", x.Paths)
	}
}

func TestErrorsHaveKinds(t *testing.T) {
	e := newFixture(t)
	cases := []struct {
		s    Subject
		perm string
		r    Resource
		kind domain.Kind
	}{
		{user("nobody"), "root.read", folder("images"), domain.KindNotFound},
		{user("alice"), "root.read", folder("nowhere"), domain.KindNotFound},
		{user("alice"), "project.read", Resource{Kind: KindProject, ID: "nope"}, domain.KindNotFound},
		{user("alice"), "project.read", Resource{Kind: KindSystem}, domain.KindInvalid},
		{user("alice"), "users.view", folder("images"), domain.KindInvalid},
		{user("alice"), "no.such", folder("images"), domain.KindInvalid},
		{user("alice"), "bogus", Resource{Kind: KindSystem}, domain.KindInvalid},
		{user("alice"), "data.read", folder("images"), domain.KindInvalid},
		{user("alice"), "root.read", Resource{Kind: "planet", ID: "x"}, domain.KindInvalid},
		{user("alice"), domain.PermDomainAccess, Resource{Kind: KindDomain}, domain.KindInvalid},
	}
	for _, c := range cases {
		_, err := e.Check(c.s, c.perm, c.r, t0)
		if !domain.Is(err, c.kind) {
			t.Errorf("Check(%q, %s, %v) err = %v, want kind %v", c.s.UserID, c.perm, c.r, err, c.kind)
		}
	}
}

// TestErrorsSayWhatIsWrong: a permission checked on a resource of another
// kind names both kinds; a resource kind that does not exist says so; a
// malformed folder permission is told apart from a context the folder's
// type lacks (perm.go validIdent).
func TestErrorsSayWhatIsWrong(t *testing.T) {
	e := newFixture(t)
	for _, c := range []struct {
		perm string
		r    Resource
		says string
	}{
		{"project.read", Resource{Kind: KindSystem}, "not to system"},
		{"users.view", Resource{Kind: KindProject, ID: "p1"}, "not to project:p1"},
		{"users.view", Resource{Kind: KindDomain, ID: "radiology"}, "not to domain:radiology"},
		{"users.view", folder("images"), "not to folder:images"},
		{"root.read", Resource{Kind: "planet", ID: "x"}, `unknown resource kind "planet"`},
		// A context is a lower-case letter, then letters, digits or
		// underscores, 64 at most: one that is well formed is looked up
		// on the folder's type, one that is not is refused as such.
		{"z_9.read", folder("images"), `has no context "z_9"`},
		{"a0.read", folder("images"), `has no context "a0"`},
		{strings.Repeat("a", 64) + ".read", folder("images"), "has no context"},
		{strings.Repeat("a", 65) + ".read", folder("images"), "neither in the catalog nor a folder permission"},
		{"9ab.read", folder("images"), "neither in the catalog nor a folder permission"},
		{"_ab.read", folder("images"), "neither in the catalog nor a folder permission"},
	} {
		_, err := e.Check(user("alice"), c.perm, c.r, t0)
		if !domain.Is(err, domain.KindInvalid) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Check(%s, %v) err = %v, want invalid saying %q", c.perm, c.r, err, c.says)
		}
	}
}

func TestListResourcesFolders(t *testing.T) {
	e := newFixture(t)
	got, err := e.ListResources(user("bob"), "root.edit", KindFolder, "", t0)
	if err != nil || !slices.Equal(got, []string{"ct", "ct-2026"}) {
		t.Errorf("ListResources = %v, %v", got, err)
	}
	got, _ = e.ListResources(user("bob"), "data.read", KindFolder, "", t0)
	if !slices.Equal(got, []string{"site1", "trials"}) {
		t.Errorf("ListResources rules = %v", got)
	}
	got, _ = e.ListResources(user("alice"), "root.read", KindFolder, "", t0)
	if !slices.Equal(got, []string{"images"}) {
		t.Errorf("ListResources nearer none = %v", got)
	}
	got, _ = e.ListResources(user("bob"), "root.edit", KindFolder, "ct-2026", t0)
	if !slices.Equal(got, []string{"ct-2026"}) {
		t.Errorf("ListResources under = %v", got)
	}
}

func TestListSubjects(t *testing.T) {
	e := newFixture(t)
	users, anon, err := e.ListSubjects("root.read", folder("images"), t0)
	if err != nil || anon || len(users) != 1 || users[0].UserID != "alice" || !slices.Equal(users[0].Groups, []string{"g-rad"}) {
		t.Errorf("ListSubjects = %+v, %v, %v", users, anon, err)
	}
	users, _, _ = e.ListSubjects(domain.PermUsersView, Resource{Kind: KindSystem}, t0)
	if len(users) != 1 || users[0].UserID != "dave" || !slices.Equal(users[0].Groups, []string{""}) {
		t.Errorf("ListSubjects users.view = %+v", users)
	}
}

func TestApplyRevisionMustFollow(t *testing.T) {
	e := newFixture(t)
	for _, rev := range []int64{10, 12, 0} {
		if err := e.Apply(domain.Change{Revision: rev}); !domain.Is(err, domain.KindConflict) {
			t.Errorf("Apply(rev %d) err = %v, want conflict", rev, err)
		}
	}
	if err := e.Apply(domain.Change{Revision: 11}); err != nil || e.Revision() != 11 {
		t.Errorf("Apply(11) = %v, revision %d", err, e.Revision())
	}
}

func put(m domain.Mutation) domain.Mutation { m.Op = domain.OpPut; return m }
func del(m domain.Mutation) domain.Mutation { m.Op = domain.OpDelete; return m }

func apply(t *testing.T, e *Engine, ms ...domain.Mutation) {
	t.Helper()
	if err := e.Apply(domain.Change{Revision: e.Revision() + 1, Mutations: ms}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func TestCopyOnWriteReaderKeepsOldAnswer(t *testing.T) {
	e := newFixture(t)
	old := e.snapshot()
	apply(t, e, put(domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "g-int", UserID: "alice"}}),
		put(domain.Mutation{Entity: domain.EntityFolderLevel, FolderLevel: &domain.FolderLevel{FolderID: "images", GroupID: "g-rad", Level: domain.LevelNone}}))
	if !check(t, e, user("alice"), "root.edit", folder("ct"), t0) {
		t.Error("new state: alice in Interns should edit ct")
	}
	if check(t, e, user("alice"), "root.read", folder("images"), t0) {
		t.Error("new state: Radiologists none on images")
	}
	ok, err := old.check("test", user("alice"), "root.edit", folder("ct"), t0)
	if err != nil || ok {
		t.Errorf("old state changed: alice edits ct = %v, %v", ok, err)
	}
	ok, _ = old.check("test", user("alice"), "root.read", folder("images"), t0)
	if !ok {
		t.Error("old state changed: alice no longer reads images")
	}
}

func TestApplyFailedChangeLeavesNothing(t *testing.T) {
	e := newFixture(t)
	err := e.Apply(domain.Change{Revision: 11, Mutations: []domain.Mutation{
		put(domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "g-int", UserID: "alice"}}),
		put(domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "g-int", UserID: "ghost"}}),
	}})
	if !domain.Is(err, domain.KindNotFound) {
		t.Fatalf("err = %v, want not found", err)
	}
	if e.Revision() != 10 || check(t, e, user("alice"), "root.edit", folder("ct"), t0) {
		t.Error("a failed change must leave the index as it was")
	}
}

func TestApplyFolderMoveAndCycle(t *testing.T) {
	e := newFixture(t)
	// Move ct under trials: it loses images' levels, gains the rule's.
	apply(t, e, put(domain.Mutation{Entity: domain.EntityFolder, Folder: &domain.Folder{ID: "ct", ParentID: "trials", Name: "ct", TypeID: domain.FolderTypeFolderID}}))
	if !check(t, e, user("bob"), "root.edit", folder("ct-2026"), t0) {
		t.Error("Interns' level on ct moves with it")
	}
	got, _ := e.ListResources(user("bob"), "root.read", KindFolder, "trials", t0)
	if !slices.Equal(got, []string{"ct", "ct-2026"}) {
		t.Errorf("after move ListResources = %v", got)
	}
	err := e.Apply(domain.Change{Revision: e.Revision() + 1, Mutations: []domain.Mutation{
		put(domain.Mutation{Entity: domain.EntityFolder, Folder: &domain.Folder{ID: "trials", ParentID: "ct-2026", Name: "trials", TypeID: "t-study"}})}})
	if !domain.Is(err, domain.KindInvalid) {
		t.Errorf("cycle: err = %v, want invalid", err)
	}
}

func TestApplyCascades(t *testing.T) {
	t.Run("group", func(t *testing.T) {
		e := newFixture(t)
		apply(t, e, del(domain.Mutation{Entity: domain.EntityGroup, Group: &domain.Group{ID: "g-mon"}}))
		if check(t, e, user("bob"), "data.read", folder("trials"), t0) {
			t.Error("the group's rule must go with it")
		}
		// Re-creating the group brings back neither members nor rules.
		apply(t, e, put(domain.Mutation{Entity: domain.EntityGroup, Group: &domain.Group{ID: "g-mon", Name: "Monitors", Scope: domain.ScopeSystem,
			SystemPermissions: []string{domain.PermAuditView}}}))
		users, _, _ := e.ListSubjects(domain.PermAuditView, Resource{Kind: KindSystem}, t0)
		if len(users) != 0 {
			t.Errorf("ListSubjects = %v", users)
		}
		if check(t, e, user("bob"), "data.read", folder("trials"), t0) {
			t.Error("rule came back")
		}
	})
	t.Run("folder", func(t *testing.T) {
		e := newFixture(t)
		apply(t, e, del(domain.Mutation{Entity: domain.EntityFolder, Folder: &domain.Folder{ID: "images"}}))
		for _, id := range []string{"images", "ct", "ct-2026"} {
			if _, err := e.Check(user("bob"), "root.read", folder(id), t0); !domain.Is(err, domain.KindNotFound) {
				t.Errorf("folder %s after subtree delete: %v", id, err)
			}
		}
		// Re-created, it carries no level from before.
		apply(t, e, put(domain.Mutation{Entity: domain.EntityFolder, Folder: &domain.Folder{ID: "images", Name: "images", TypeID: domain.FolderTypeFolderID}}))
		if check(t, e, user("alice"), "root.read", folder("images"), t0) {
			t.Error("folder levels must go with the folder")
		}
		got, _ := e.ListResources(user("alice"), "root.read", KindFolder, "", t0)
		if len(got) != 0 {
			t.Errorf("ListResources = %v", got)
		}
	})
	t.Run("project", func(t *testing.T) {
		e := newFixture(t)
		apply(t, e, del(domain.Mutation{Entity: domain.EntityProject, Project: &domain.Project{ID: "p1"}}))
		apply(t, e, put(domain.Mutation{Entity: domain.EntityProject, Project: &domain.Project{ID: "p1", Name: "again", MembershipMode: domain.ModeMultiple}}))
		for _, u := range []string{"dave", "alice"} {
			if check(t, e, user(u), domain.PermProjectRead, Resource{Kind: KindProject, ID: "p1"}, t0) {
				t.Errorf("%s keeps a grant on a deleted project", u)
			}
		}
		if _, err := e.Check(user("dave"), domain.PermProjectRead, Resource{Kind: KindProject, ID: "p1"}, t0); err != nil {
			t.Error(err)
		}
		// The project groups went with the project.
		err := e.Apply(domain.Change{Revision: e.Revision() + 1, Mutations: []domain.Mutation{
			put(domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "g-p1a", UserID: "alice"}})}})
		if !domain.Is(err, domain.KindNotFound) {
			t.Errorf("membership in a cascaded group: %v", err)
		}
	})
	t.Run("user", func(t *testing.T) {
		e := newFixture(t)
		apply(t, e, del(domain.Mutation{Entity: domain.EntityUser, User: &domain.User{ID: "alice"}}))
		users, _, _ := e.ListSubjects("root.read", folder("images"), t0)
		if len(users) != 0 {
			t.Errorf("ListSubjects = %v", users)
		}
		apply(t, e, put(domain.Mutation{Entity: domain.EntityUser, User: &domain.User{ID: "alice", Username: "alice", Status: domain.UserActive}}))
		if check(t, e, user("alice"), "root.read", folder("images"), t0) ||
			check(t, e, user("alice"), domain.PermProjectRead, Resource{Kind: KindProject, ID: "p1"}, t0) {
			t.Error("a re-created user must not inherit memberships or grants")
		}
	})
}

func TestApplyRuleAndFolderPropertyChange(t *testing.T) {
	e := newFixture(t)
	apply(t, e, put(domain.Mutation{Entity: domain.EntityFolder, Folder: &domain.Folder{ID: "trials", Name: "trials", TypeID: "t-study", Properties: map[string]string{"indication": "ONC"}}}))
	if check(t, e, user("bob"), "data.read", folder("site1"), t0) {
		t.Error("rule no longer matches after the property change")
	}
	apply(t, e, put(domain.Mutation{Entity: domain.EntityRule, Rule: &domain.Rule{ID: "r1", GroupID: "g-mon", Name: "onc",
		Criteria: []domain.Criterion{{FolderTypeID: "t-study", Property: "indication", Operator: domain.OpIn, Values: []string{"ONC", "GRT"}}},
		Grants:   map[string][]string{"data": {"read", "lock"}}}}))
	if !check(t, e, user("bob"), "data.lock", folder("site1"), t0) {
		t.Error("changed rule should match again")
	}
	apply(t, e, del(domain.Mutation{Entity: domain.EntityRule, Rule: &domain.Rule{ID: "r1"}}))
	if check(t, e, user("bob"), "data.read", folder("site1"), t0) {
		t.Error("deleted rule still grants")
	}
}

func TestCriteriaOperators(t *testing.T) {
	f := &folderRec{typ: 1, props: propsOf(map[string]string{"a": "GRT-1", "e": ""})}
	cases := []struct {
		c    crit
		want bool
	}{
		{crit{typ: 1, prop: "a", op: domain.OpEq, value: "GRT-1"}, true},
		{crit{typ: 1, prop: "a", op: domain.OpEq, value: "grt-1"}, false},
		{crit{typ: 2, prop: "a", op: domain.OpEq, value: "GRT-1"}, false},
		{crit{typ: 1, prop: "a", op: domain.OpNe, value: "X"}, true},
		{crit{typ: 1, prop: "z", op: domain.OpNe, value: "X"}, true},
		{crit{typ: 1, prop: "a", op: domain.OpIn, values: []string{"X", "GRT-1"}}, true},
		{crit{typ: 1, prop: "a", op: domain.OpContains, value: "T-"}, true},
		{crit{typ: 1, prop: "a", op: domain.OpStartsWith, value: "GR"}, true},
		{crit{typ: 1, prop: "a", op: domain.OpStartsWith, value: "RT"}, false},
		{crit{typ: 1, prop: "e", op: domain.OpExists}, true},
		{crit{typ: 1, prop: "z", op: domain.OpExists}, false},
		{crit{typ: 1, prop: "z", op: domain.OpContains, value: ""}, false},
	}
	for _, c := range cases {
		if got := ruleMatches(&ruleRec{criteria: []crit{c.c}}, f); got != c.want {
			t.Errorf("match %+v = %v, want %v", c.c, got, c.want)
		}
	}
}

func TestVecCopyOnWrite(t *testing.T) {
	var v vec[int]
	const n = 3*midSpan + 10
	for i := 0; i < n; i++ {
		v.push(1, i)
	}
	old := v
	v.set(2, 5, -5)
	v.set(2, midSpan+leafSize+1, -1)
	v.push(2, 99)
	if old.get(5) != 5 || old.get(midSpan+leafSize+1) != midSpan+leafSize+1 || old.n != n || old.get(n) != 0 {
		t.Error("writes in a new generation leaked into the old vec")
	}
	if v.get(5) != -5 || v.get(n) != 99 || v.get(2*midSpan) != 2*midSpan || v.get(midSpan+leafSize+1) != -1 {
		t.Error("new vec lost a write or a shared node")
	}
	if old.mids[2] != v.mids[2] || old.mids[1].leaves[0] != v.mids[1].leaves[0] || old.mids[1] == v.mids[1] {
		t.Error("only the touched path should be copied")
	}
	for i := int32(0); i < n; i++ {
		if i != 5 && i != midSpan+leafSize+1 && v.get(i) != int(i) {
			t.Fatalf("v[%d] = %d", i, v.get(i))
		}
	}
}

func TestNewRefusesFolderCycle(t *testing.T) {
	s := fixture()
	s.Folders[1].ParentID = "ct-2026" // images under its own grandchild
	if _, err := New(s); !domain.Is(err, domain.KindInvalid) {
		t.Errorf("New with a cycle: %v", err)
	}
}

func TestParsePermissionAllocatesNothing(t *testing.T) {
	e := newFixture(t)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = e.Check(user("bob"), "root.edit", folder("ct-2026"), t0)
		_, _ = e.Check(user("alice"), "root.read", folder("ct-2026"), t0)
		_, _ = e.Check(user("dave"), domain.PermUsersView, Resource{Kind: KindSystem}, t0)
		_, _ = e.Check(user("dave"), domain.PermProjectRead, Resource{Kind: KindProject, ID: "p1"}, t0)
	})
	if allocs != 0 {
		t.Errorf("Check allocates %v times", allocs)
	}
}

// TestR15_R16_EffectiveGrantsMatchAncestorWalk holds the precomputed
// per-folder grants to a plain walk up the tree, on generated data and
// after moves and level changes, and ListResources to per-folder checks.
func TestR15_R16_EffectiveGrantsMatchAncestorWalk(t *testing.T) {
	d := enginegen.Generate(3, enginegen.Small())
	e, err := New(d.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	compare := func(when string) {
		st := e.snapshot()
		for _, uid := range d.TypicalUsers[:4] {
			w, _ := st.subject("test", Subject{UserID: uid}, enginegen.Now)
			groups := st.groupsOf(w, nil)
			for _, perm := range []string{"root.read", "root.create", "data.read", "document.lock"} {
				p, _ := parsePerm("test", perm)
				var want []string
				for fi := int32(0); fi < st.folders.n; fi++ {
					f := st.folders.get(fi)
					if f == nil {
						continue
					}
					fast, slow := st.folderAllows(groups, fi, p.ctx, p.action), st.folderAllowsWalk(groups, fi, p.ctx, p.action)
					if fast != slow {
						t.Fatalf("%s: %s %s on %s: effective %v, walk %v", when, uid, perm, f.id, fast, slow)
					}
					if st.declares(f, p.ctx) {
						if ok, err := st.check("test", Subject{UserID: uid}, perm, folder(f.id), enginegen.Now); err != nil || ok {
							want = append(want, f.id)
						}
					}
				}
				got, err := e.ListResources(Subject{UserID: uid}, perm, KindFolder, "", enginegen.Now)
				slices.Sort(want)
				if err != nil || !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Fatalf("%s: ListResources(%s, %s) = %d folders, per-folder checks %d (%v)", when, uid, perm, len(got), len(want), err)
				}
			}
		}
	}
	compare("built")
	r := rand.New(rand.NewPCG(9, 9))
	snap := d.Snapshot
	for step := 0; step < 200; step++ {
		var m domain.Mutation
		switch step % 3 {
		case 0: // move a folder under a random non-descendant
			f := snap.Folders[r.IntN(len(snap.Folders))]
			p := snap.Folders[r.IntN(len(snap.Folders))]
			fi, _ := e.snapshot().folderIx.get(f.ID)
			pi, _ := e.snapshot().folderIx.get(p.ID)
			if e.snapshot().under(pi, fi) {
				continue
			}
			cur := *e.snapshot().folders.get(fi)
			f.ParentID, f.Properties = p.ID, cur.props.asMap()
			m = put(domain.Mutation{Entity: domain.EntityFolder, Folder: &f})
		case 1:
			l := domain.FolderLevel{FolderID: snap.Folders[r.IntN(len(snap.Folders))].ID, GroupID: snap.Groups[r.IntN(len(snap.Groups))].ID,
				Level: domain.Level(r.IntN(8))}
			m = put(domain.Mutation{Entity: domain.EntityFolderLevel, FolderLevel: &l})
		case 2:
			l := snap.FolderLevels[r.IntN(len(snap.FolderLevels))]
			m = del(domain.Mutation{Entity: domain.EntityFolderLevel, FolderLevel: &l})
		}
		apply(t, e, m)
		if step%20 == 0 {
			compare("step " + itoa(step))
		}
	}
	compare("end")
}

// TestReadersNeverSeeAPartialChange runs checks while changes are applied
// (run with -race): every answer is one of the two states, never a mix.
func TestReadersNeverSeeAPartialChange(t *testing.T) {
	e := newFixture(t)
	in := put(domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "g-int", UserID: "alice"}})
	out := del(domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "g-int", UserID: "alice"}})
	done := make(chan struct{})
	errs := make(chan string, 1)
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			st := e.snapshot()
			inInterns, _ := st.check("test", user("alice"), "root.edit", folder("ct"), t0)
			users, _, _ := e.ListSubjects("root.edit", folder("ct"), t0)
			_ = users
			// Odd revisions past 10 hold the membership, even ones do not.
			if want := (st.rev-10)%2 == 1; inInterns != want {
				select {
				case errs <- "revision " + itoa(int(st.rev)) + ": alice edits ct = " + map[bool]string{true: "true", false: "false"}[inInterns]:
				default:
				}
				return
			}
		}
	}()
	for i := 0; i < 500; i++ {
		m := in
		if i%2 == 1 {
			m = out
		}
		apply(t, e, m)
	}
	<-done
	select {
	case msg := <-errs:
		t.Error(msg)
	default:
	}
}

// TestR19_ListSubjectsGroupsAreExplainPaths holds ListSubjects' groups,
// computed without explanations, to the groups of Explain's paths.
// TestReadersNeverRaceWithNewIDs: an Apply that adds users and folders
// adds their ids to the id indexes, whose shards readers of the current
// state are reading. Under the race detector (make test) a write into a
// shard or slot not copied first fails here; without it the runtime may
// still catch a concurrent map write.
func TestReadersNeverRaceWithNewIDs(t *testing.T) {
	e := newFixture(t)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if ok, err := e.snapshot().check("test", user("alice"), "root.read", folder("images"), t0); err != nil || !ok {
				t.Errorf("alice reads images = %v, %v", ok, err)
				return
			}
		}
	}()
	for i := range 200 {
		id := fmt.Sprintf("new-%d", i)
		apply(t, e,
			put(domain.Mutation{Entity: domain.EntityUser, User: &domain.User{ID: id, Username: id, Status: domain.UserActive}}),
			put(domain.Mutation{Entity: domain.EntityFolder, Folder: &domain.Folder{ID: id, Name: id, ParentID: "images", TypeID: domain.FolderTypeFolderID}}))
	}
	close(stop)
	<-done
}

func TestR19_ListSubjectsGroupsAreExplainPaths(t *testing.T) {
	d := enginegen.Generate(5, enginegen.Small())
	e, err := New(d.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	snap := d.Snapshot
	type q struct {
		perm string
		r    Resource
	}
	qs := []q{
		{domain.PermUsersView, Resource{Kind: KindSystem}},
		{domain.PermPersonalInfoView, Resource{Kind: KindSystem}},
		{domain.PermProjectRead, Resource{Kind: KindProject, ID: snap.Projects[0].ID}},
		{domain.PermProjectWrite, Resource{Kind: KindProject, ID: snap.Projects[1].ID}},
		{domain.PermDomainAccess, Resource{Kind: KindDomain, ID: snap.DomainGrants[0].Domain}},
	}
	for _, f := range snap.Folders[len(snap.Folders)-20:] {
		qs = append(qs, q{"root.read", folder(f.ID)}, q{"root.delete", folder(f.ID)})
	}
	for _, c := range qs {
		users, _, err := e.ListSubjects(c.perm, c.r, enginegen.Now)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			x, err := e.Explain(Subject{UserID: u.UserID}, c.perm, c.r, enginegen.Now)
			if err != nil || !x.Allowed {
				t.Fatalf("Explain(%s, %s, %v) = %v, %v", u.UserID, c.perm, c.r, x.Allowed, err)
			}
			var want []string
			for _, p := range x.Paths {
				want = append(want, p.GroupID)
			}
			slices.Sort(want)
			want = slices.Compact(want)
			if !slices.Equal(u.Groups, want) {
				t.Errorf("ListSubjects(%s, %v) groups of %s = %q, Explain paths %q", c.perm, c.r, u.UserID, u.Groups, want)
			}
		}
	}
}
