package engine_test

// Tests written for the fourth mutation session (scripts/overlaymutate on
// the whole engine package, docs/testing.md): each pins a behaviour that
// a surviving mutant changed without any earlier test noticing.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// TestR22ARoleEditCountsOnEveryProjectAGroupUsesItOn: a project role held
// by groups on several projects hands its new permissions out on each of
// them, not only on the first project in the engine's order (admin.go
// projectsUsing: deltaWorld reaches its second project through a user's
// grant too, so the third, Mercury, is held through a group only).
func TestR22ARoleEditCountsOnEveryProjectAGroupUsesItOn(t *testing.T) {
	withMercury, err := adminWorld(t, deltaWorld).Stage([]domain.Mutation{
		put(domain.Project{ID: "p3", Name: "Mercury", MembershipMode: domain.ModeMultiple}),
		put(domain.Group{ID: "crew", Name: "Crew", Scope: domain.ScopeProject, ProjectID: "p3"}),
		put(domain.ProjectGrant{ProjectID: "p3", SubjectKind: domain.SubjectGroup, SubjectID: "crew", RoleID: "reviewer"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := withMercury.Stage([]domain.Mutation{put(domain.Role{ID: "reviewer", Name: "Reviewer", Scope: domain.ScopeProject,
		Permissions: []string{domain.PermProjectRead, domain.PermProjectWrite}})})
	if err != nil {
		t.Fatal(err)
	}
	got, err := withMercury.GrantsBeyond(after, engine.Holder{UserID: "helper"}, adminNow)
	want := []string{`project.write on project p1 ("Apollo") (role "Reviewer")`, `project.write on project p2 ("Gemini") (role "Reviewer")`,
		`project.write on project p3 ("Mercury") (role "Reviewer")`}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("GrantsBeyond = %q, %v; want %q", got, err, want)
	}
}

// TestR1AGroupPutIntoAnotherProjectLeavesTheOldOne: a group's scope is
// fixed (R1) and the service refuses to move one, but should a put carry
// another project anyway, the engine must not leave the group present in
// both: its members would still count as in the old project (R23).
func TestR1AGroupPutIntoAnotherProjectLeavesTheOldOne(t *testing.T) {
	e := adminWorld(t, deltaWorld)
	after, err := e.Stage([]domain.Mutation{put(domain.Group{ID: "team", Name: "Team", Scope: domain.ScopeProject, ProjectID: "p2"})})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		project string
		want    []string
	}{{"p1", nil}, {"p2", []string{"team"}}} {
		got, err := after.GroupsInProject("target", c.project, "", adminNow)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("GroupsInProject(target, %s) = %v, %v; want %v", c.project, got, err, c.want)
		}
	}
}

// stageAll stages each batch of mutations on the engine the previous one
// returned, as successive Applies would.
func stageAll(t *testing.T, e *engine.Engine, batches ...[]domain.Mutation) *engine.Engine {
	t.Helper()
	for _, b := range batches {
		var err error
		if e, err = e.Stage(b); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// TestR23AGroupDeletedAndCreatedAgainIsInNoProject: deleting a project
// group removes it from its project even when it holds no grant there;
// a system group later created under the same id is present nowhere, so
// its members are in no project through it (apply.go deleteGroup).
func TestR23AGroupDeletedAndCreatedAgainIsInNoProject(t *testing.T) {
	e := stageAll(t, adminWorld(t, deltaWorld),
		[]domain.Mutation{put(domain.Group{ID: "crew", Name: "Crew", Scope: domain.ScopeProject, ProjectID: "p2"})},
		[]domain.Mutation{del(domain.Group{ID: "crew"})},
		[]domain.Mutation{put(domain.Group{ID: "crew", Name: "Crew", Scope: domain.ScopeSystem}),
			put(domain.Membership{GroupID: "crew", UserID: "plain"})})
	got, err := e.GroupsInProject("plain", "p2", "", adminNow)
	if err != nil || len(got) != 0 {
		t.Errorf("GroupsInProject(plain, p2) = %v, %v; want none", got, err)
	}
}

// TestR16ARuleGivenToAnotherGroupOutlivesItsFormerGroup: a rule put again
// with another owner leaves its former group; deleting that group later
// must not delete the rule with it (apply.go deleteRule).
func TestR16ARuleGivenToAnotherGroupOutlivesItsFormerGroup(t *testing.T) {
	moved := domain.Rule{ID: "r1", Name: "Open cases", GroupID: "vault",
		Criteria: []domain.Criterion{{FolderTypeID: "case", Property: "status", Operator: domain.OpEq, Value: "open"}},
		Grants:   map[string][]string{"docs": {"read"}}}
	e := stageAll(t, adminWorld(t, deltaWorld),
		[]domain.Mutation{put(moved)},
		[]domain.Mutation{del(domain.Group{ID: "ruled"})})
	d, err := e.Check(engine.Subject{UserID: "target"}, "docs.read", engine.Resource{Kind: engine.KindFolder, ID: "c1"}, adminNow)
	if err != nil || !d.Allowed {
		t.Errorf("target, in Vault, docs.read on c1 after Ruled is deleted = %v, %v; want allowed by the rule Vault now owns", d.Allowed, err)
	}
}

// TestR16AFolderPutIsMatchedAgainByTheRules: a folder that gains a
// property, even with none before (folderProps.sameAs: a map holding a
// subset of the other's entries is not equal to it), or that changes type with
// the same properties, is matched again by the rules (apply.go putFolder).
func TestR16AFolderPutIsMatchedAgainByTheRules(t *testing.T) {
	open := map[string]string{"status": "open"}
	for _, c := range []struct {
		name          string
		before, after domain.Folder
	}{
		{"gains a property", domain.Folder{ID: "c3", Name: "c3", TypeID: "case"},
			domain.Folder{ID: "c3", Name: "c3", TypeID: "case", Properties: open}},
		{"changes type, same properties", domain.Folder{ID: "c3", Name: "c3", TypeID: domain.FolderTypeFolderID, Properties: open},
			domain.Folder{ID: "c3", Name: "c3", TypeID: "case", Properties: open}},
	} {
		e := stageAll(t, adminWorld(t, deltaWorld), []domain.Mutation{put(c.before)}, []domain.Mutation{put(c.after)})
		d, err := e.Check(engine.Subject{UserID: "target"}, "docs.read", engine.Resource{Kind: engine.KindFolder, ID: "c3"}, adminNow)
		if err != nil || !d.Allowed {
			t.Errorf("%s: target, in Ruled, docs.read on c3 = %v, %v; want allowed by the rule on open cases", c.name, d.Allowed, err)
		}
	}
}

// TestNewWithGroupsFillingALeafExactly: the index keeps ids in leaves of
// 64 (cow.go); a snapshot whose groups, the three built-in ones
// included, fill whole leaves must load and answer like any other
// (builder.go recomputes each group's system permissions once every role
// is in, and must stop at the last group).
func TestNewWithGroupsFillingALeafExactly(t *testing.T) {
	for _, n := range []int{64, 128} {
		snap := &domain.Snapshot{Revision: 1, Roles: domain.BuiltinRoles(), Groups: domain.BuiltinGroups()}
		for i := len(snap.Groups); i < n; i++ {
			snap.Groups = append(snap.Groups, domain.Group{ID: fmt.Sprintf("g%d", i), Name: fmt.Sprintf("G%d", i), Scope: domain.ScopeSystem})
		}
		last := &snap.Groups[n-1]
		last.SystemPermissions = []string{domain.PermUsersView}
		snap.Users = []domain.User{{ID: "u", Username: "u", Status: domain.UserActive}}
		snap.Memberships = []domain.Membership{{GroupID: last.ID, UserID: "u"}}
		e, err := engine.New(snap)
		if err != nil {
			t.Fatalf("%d groups: %v", n, err)
		}
		d, err := e.Check(engine.Subject{UserID: "u"}, domain.PermUsersView, engine.Resource{Kind: engine.KindSystem}, adminNow)
		if err != nil || !d.Allowed {
			t.Errorf("%d groups: a member of the last group, users.view = %v, %v; want allowed", n, d.Allowed, err)
		}
	}
}

// TestR13AFolderOfAnUnknownTypeHasTheRootContextOnly: a folder whose type
// never came (a snapshot cut between the two, see the builder's late
// types) still answers on root, every type's context (docs/model.md §6),
// and refuses any other context as invalid (R16).
func TestR13AFolderOfAnUnknownTypeHasTheRootContextOnly(t *testing.T) {
	snap := &domain.Snapshot{Revision: 1, Roles: domain.BuiltinRoles(), Groups: append(domain.BuiltinGroups(),
		domain.Group{ID: "v", Name: "V", Scope: domain.ScopeSystem})}
	snap.Users = []domain.User{{ID: "u", Username: "u", Status: domain.UserActive}}
	snap.Memberships = []domain.Membership{{GroupID: "v", UserID: "u"}}
	snap.Folders = []domain.Folder{{ID: "odd", Name: "odd", TypeID: "ghost"}}
	snap.FolderLevels = []domain.FolderLevel{{FolderID: "odd", GroupID: "v", Level: domain.LevelView}}
	e, err := engine.New(snap)
	if err != nil {
		t.Fatal(err)
	}
	u, odd := engine.Subject{UserID: "u"}, engine.Resource{Kind: engine.KindFolder, ID: "odd"}
	if d, err := e.Check(u, "root.read", odd, adminNow); err != nil || !d.Allowed {
		t.Errorf("root.read on a folder of an unknown type = %v, %v; want allowed by the view level", d.Allowed, err)
	}
	if _, err := e.Check(u, "data.read", odd, adminNow); !domain.Is(err, domain.KindInvalid) {
		t.Errorf("data.read on a folder of an unknown type: %v, want invalid", err)
	}
}

// TestR6InstantsBeyondTheNanosecondRange: an instant before 1678 or after
// 2262 (out of int64 nanoseconds) is clamped, not wrapped: a membership
// that never expires counts at both, one that expires in 2026 counts
// before it and not after.
func TestR6InstantsBeyondTheNanosecondRange(t *testing.T) {
	e := adminWorld(t, `
users: [{id: always}, {id: until}]
groups: [{id: g, name: G, system_permissions: [users.view]}]
memberships: [{group: g, user: always}, {group: g, user: until, expires: 2026-06-01T00:00:00Z}]
`)
	past, future := time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		user string
		at   time.Time
		want bool
	}{{"always", past, true}, {"always", future, true}, {"until", past, true}, {"until", future, false}} {
		d, err := e.Check(engine.Subject{UserID: c.user}, domain.PermUsersView, engine.Resource{Kind: engine.KindSystem}, c.at)
		if err != nil || d.Allowed != c.want {
			t.Errorf("%s at %d: users.view = %v, %v; want %v", c.user, c.at.Year(), d.Allowed, err, c.want)
		}
	}
}

// TestR19AnAllowSaysHowManyPathsAllowIt: the reason of an allowed
// explanation counts its paths in words, one and more than nine alike.
func TestR19AnAllowSaysHowManyPathsAllowIt(t *testing.T) {
	for _, n := range []int{1, 2, 12} {
		snap := &domain.Snapshot{Revision: 1, Roles: domain.BuiltinRoles(), Groups: domain.BuiltinGroups()}
		snap.Users = []domain.User{{ID: "u", Username: "u", Status: domain.UserActive}}
		for i := range n {
			id := fmt.Sprintf("g%02d", i)
			snap.Groups = append(snap.Groups, domain.Group{ID: id, Name: id, Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermUsersView}})
			snap.Memberships = append(snap.Memberships, domain.Membership{GroupID: id, UserID: "u"})
		}
		e, err := engine.New(snap)
		if err != nil {
			t.Fatal(err)
		}
		x, err := e.Explain(engine.Subject{UserID: "u"}, domain.PermUsersView, engine.Resource{Kind: engine.KindSystem}, adminNow)
		want := fmt.Sprintf("allowed by %d grant paths", n)
		if n == 1 {
			want = "allowed by 1 grant path"
		}
		if err != nil || x.Reason != want || len(x.Paths) != n {
			t.Errorf("%d groups granting users.view: reason %q with %d paths, %v; want %q", n, x.Reason, len(x.Paths), err, want)
		}
	}
}

// TestR8R19APathNamesTheHeldPermissionThatGrants: an explanation's path
// names what grants (a role, a checkbox, a project grant) and the
// permission held there that implies the one checked (R8): the checked
// one itself when held, else the first implying key by name, for system
// and project permissions alike; a grant implying nothing of it is no
// path (mod's own add_series).
func TestR8R19APathNamesTheHeldPermissionThatGrants(t *testing.T) {
	e := adminWorld(t, `
roles: [{id: aud, name: Auditor, scope: system, permissions: [audit.view]}, {id: rev, name: Reviewer, permissions: [project.read]}]
users: [{id: both}, {id: two}, {id: mod}, {id: roled, system_role: Auditor}, {id: grouped}, {id: viewer}, {id: solo}]
projects: [{id: p1, name: Apollo}]
groups:
  - {id: gb, name: Both, system_permissions: [users.edit, users.view]}
  - {id: gt, name: Two, system_permissions: [users.edit, users.delete]}
  - {id: gm, name: Mod}
  - {id: ga, name: Audit, system_role: Auditor}
  - {id: gv, name: Viewers}
memberships: [{group: gb, user: both}, {group: gt, user: two}, {group: gm, user: mod}, {group: ga, user: grouped}, {group: gv, user: viewer}]
project_grants:
  - {project: p1, group: gm, permissions: [project.moderate, project.read]}
  - {project: p1, user: mod, permissions: [project.add_series]}
  - {project: p1, group: gv, role: Reviewer}
  - {project: p1, user: solo, role: Reviewer}
`)
	sys, p1 := engine.Resource{Kind: engine.KindSystem}, engine.Resource{Kind: engine.KindProject, ID: "p1"}
	for _, c := range []struct {
		user, perm string
		r          engine.Resource
		via, want  string
	}{
		{"both", domain.PermUsersView, sys, "checkbox", domain.PermUsersView},
		{"two", domain.PermUsersView, sys, "checkbox", domain.PermUsersDelete},
		{"roled", domain.PermAuditView, sys, "role", domain.PermAuditView},
		{"grouped", domain.PermAuditView, sys, "role", domain.PermAuditView},
		{"mod", domain.PermProjectRead, p1, "project_grant", domain.PermProjectRead},
		{"mod", domain.PermProjectWrite, p1, "project_grant", domain.PermProjectModerate},
		{"viewer", domain.PermProjectRead, p1, "project_grant", domain.PermProjectRead}, // by the role
		{"solo", domain.PermProjectRead, p1, "project_grant", domain.PermProjectRead},
	} {
		x, err := e.Explain(engine.Subject{UserID: c.user}, c.perm, c.r, adminNow)
		if err != nil || len(x.Paths) != 1 || x.Paths[0].Via != c.via || x.Paths[0].Permission != c.want {
			t.Errorf("Explain(%s, %s): paths %+v, %v; want one by %s naming %s", c.user, c.perm, x.Paths, err, c.via, c.want)
		}
	}
}

// TestR19ADenyOfASystemPermissionSuggestsTheGroupsThatHoldIt: a denied
// system permission lists each of the user's groups as considered and
// suggests joining each group that holds it, and no other; Administrators
// holds every one (R8), so the fallback, a system role, is never needed;
// R18 is named only for personal_info.view.
func TestR19ADenyOfASystemPermissionSuggestsTheGroupsThatHoldIt(t *testing.T) {
	e := adminWorld(t, `
users: [{id: shy, show_personal_info: false}]
groups: [{id: help, name: Help, system_permissions: [users.view]}, {id: other, name: Other, system_permissions: [audit.view]}]
`)
	for _, c := range []struct {
		perm string
		want []string
	}{
		{domain.PermUsersView, []string{"add shy to group Administrators", "add shy to group Help"}},
		{domain.PermRolesView, []string{"add shy to group Administrators"}},
	} {
		x, err := e.Explain(engine.Subject{UserID: "shy"}, c.perm, engine.Resource{Kind: engine.KindSystem}, adminNow)
		considered := []string{"no individual system role", "group Everyone: no " + c.perm + " by role or checkbox"}
		if err != nil || x.Allowed || !slices.Equal(x.Suggestions, c.want) || !slices.Equal(x.Considered, considered) {
			t.Errorf("Explain(shy, %s): allowed %v, considered %q, suggestions %q, %v; want denied, %q, %q",
				c.perm, x.Allowed, x.Considered, x.Suggestions, err, considered, c.want)
		}
	}
}

// TestR19AtMostFiveGroupsAreSuggested: of many groups that would allow,
// a deny suggests the first five.
func TestR19AtMostFiveGroupsAreSuggested(t *testing.T) {
	src := "users: [{id: u}]\ngroups:\n"
	for i := range 7 {
		src += fmt.Sprintf("  - {id: g%d, name: G%d, system_permissions: [users.view]}\n", i, i)
	}
	x, err := adminWorld(t, src).Explain(engine.Subject{UserID: "u"}, domain.PermUsersView, engine.Resource{Kind: engine.KindSystem}, adminNow)
	want := []string{"add u to group Administrators", "add u to group G0", "add u to group G1", "add u to group G2", "add u to group G3"}
	if err != nil || !slices.Equal(x.Suggestions, want) {
		t.Errorf("suggestions %q, %v; want %q", x.Suggestions, err, want)
	}
}

// TestR19ADenyOnAProjectNamesWhatWasConsidered: a denied project
// permission names each present group of the user's that lacks it and
// the user's own grant, or its absence.
func TestR19ADenyOnAProjectNamesWhatWasConsidered(t *testing.T) {
	e := adminWorld(t, `
users: [{id: viewer}, {id: solo}]
roles: [{id: rev, name: Reviewer, permissions: [project.read]}]
projects: [{id: p1, name: Apollo}]
groups: [{id: gv, name: Viewers}, {id: gw, name: Writers}]
memberships: [{group: gv, user: viewer}, {group: gw, user: viewer}]
project_grants:
  - {project: p1, group: gv, role: Reviewer}
  - {project: p1, group: gw, permissions: [project.read, project.write]}
  - {project: p1, user: solo, role: Reviewer}
`)
	p1 := engine.Resource{Kind: engine.KindProject, ID: "p1"}
	for _, c := range []struct {
		user, perm string
		want       []string
	}{
		{"viewer", domain.PermProjectViewPI, []string{"group Viewers is present in project Apollo without " + domain.PermProjectViewPI,
			"group Writers is present in project Apollo without " + domain.PermProjectViewPI, "no individual grant on project Apollo"}},
		{"solo", domain.PermProjectWrite, []string{"individual grant on project Apollo without project.write"}},
	} {
		x, err := e.Explain(engine.Subject{UserID: c.user}, c.perm, p1, adminNow)
		if err != nil || x.Allowed || !slices.Equal(x.Considered, c.want) {
			t.Errorf("Explain(%s, %s): allowed %v, considered %q, %v; want denied, %q", c.user, c.perm, x.Allowed, x.Considered, err, c.want)
		}
	}
}

// TestR18AProjectDenyForPersonalInfoAloneSaysSo: a user who holds
// project.view_personal_info but hides their own personal info is denied
// for that reason alone, and told how to lift it; an anonymous request,
// which has no such preference, is told that instead.
func TestR18AProjectDenyForPersonalInfoAloneSaysSo(t *testing.T) {
	e := adminWorld(t, `
users: [{id: shy, show_personal_info: false}]
projects: [{id: p1, name: Apollo}]
project_grants:
  - {project: p1, user: shy, permissions: [project.read, project.view_personal_info]}
  - {project: p1, group: Public, permissions: [project.read, project.view_personal_info]}
`)
	for _, c := range []struct {
		s           engine.Subject
		reason      string
		suggestions []string
	}{
		{engine.Subject{UserID: "shy"}, "denied only because shy has show_personal_info turned off (R18)", []string{"turn on show_personal_info for shy"}},
		{engine.Anonymous, "denied: anonymous requests have no show_personal_info preference (R18)", nil},
	} {
		x, err := e.Explain(c.s, domain.PermProjectViewPI, engine.Resource{Kind: engine.KindProject, ID: "p1"}, adminNow)
		if err != nil || x.Allowed || x.Reason != c.reason || !slices.Equal(x.Suggestions, c.suggestions) {
			t.Errorf("Explain(%q): allowed %v, reason %q, suggestions %q, %v; want denied, %q, %q", c.s.UserID, x.Allowed, x.Reason, x.Suggestions, err, c.reason, c.suggestions)
		}
	}
}

// TestR19ADenyOnAProjectSuggestsWhatWouldAllow: a user is told the
// groups present in the project that hold the permission and a grant of
// their own, and nothing of their hidden personal info, which only
// project.view_personal_info needs (R18); an anonymous request, a grant
// to Public.
func TestR19ADenyOnAProjectSuggestsWhatWouldAllow(t *testing.T) {
	e := adminWorld(t, `
users: [{id: shy, show_personal_info: false}]
projects: [{id: p1, name: Apollo}]
groups: [{id: gv, name: Viewers}, {id: gw, name: Writers}]
project_grants:
  - {project: p1, group: gv, permissions: [project.read]}
  - {project: p1, group: gw, permissions: [project.read, project.write]}
`)
	for _, c := range []struct {
		s    engine.Subject
		want []string
	}{
		{engine.Subject{UserID: "shy"}, []string{"add shy to group Writers", "grant project.write on project Apollo to shy"}},
		{engine.Anonymous, []string{"grant project.write on project Apollo to group Public"}},
	} {
		x, err := e.Explain(c.s, domain.PermProjectWrite, engine.Resource{Kind: engine.KindProject, ID: "p1"}, adminNow)
		if err != nil || x.Allowed || !slices.Equal(x.Suggestions, c.want) {
			t.Errorf("Explain(%q): allowed %v, suggestions %q, %v; want denied, %q", c.s.UserID, x.Allowed, x.Suggestions, err, c.want)
		}
	}
}

// TestR19ADenyOnADomainSuggestsAGroupToGiveItTo: a denied domain
// suggests joining the groups that have it; when none has, giving it to
// the user's first own group, else to Everyone, and for an anonymous
// request to Public.
func TestR19ADenyOnADomainSuggestsAGroupToGiveItTo(t *testing.T) {
	e := adminWorld(t, `
users: [{id: u}, {id: lone}]
groups: [{id: ga, name: A}, {id: gb, name: B}, {id: gc, name: C}]
memberships: [{group: ga, user: u}, {group: gb, user: u}]
domain_grants: [{group: gc, domain: mr}]
`)
	for _, c := range []struct {
		s      engine.Subject
		domain string
		want   string
	}{
		{engine.Subject{UserID: "u"}, "mr", "add u to group C"},
		{engine.Subject{UserID: "u"}, "ct", "give group A access to domain ct"},
		{engine.Subject{UserID: "lone"}, "ct", "give group Everyone access to domain ct"},
		{engine.Anonymous, "ct", "give group Public access to domain ct"},
	} {
		x, err := e.Explain(c.s, domain.PermDomainAccess, engine.Resource{Kind: engine.KindDomain, ID: c.domain}, adminNow)
		if err != nil || x.Allowed || !slices.Equal(x.Suggestions, []string{c.want}) {
			t.Errorf("Explain(%q, domain %s): allowed %v, suggestions %q, %v; want denied, %q", c.s.UserID, c.domain, x.Allowed, x.Suggestions, err, c.want)
		}
	}
}

// TestR19ADenyOnAFolderSuggestsAGroupOrALevel: a denied folder permission
// suggests joining a group whose rule on the folder's path grants it;
// when no group does, setting a level for the user's first own group,
// else Everyone, and for an anonymous request Public.
func TestR19ADenyOnAFolderSuggestsAGroupOrALevel(t *testing.T) {
	e := adminWorld(t, deltaWorld)
	for _, c := range []struct {
		s          engine.Subject
		perm, fold string
		want       string
	}{
		{engine.Subject{UserID: "plain"}, "docs.read", "c1", "add plain to group Ruled"},
		{engine.Subject{UserID: "helper"}, "root.read", "c2", "set the level of group Help on folder /c2 to view"},
		{engine.Subject{UserID: "plain"}, "root.read", "c2", "set the level of group Everyone on folder /c2 to view"},
		{engine.Anonymous, "root.read", "c2", "set the level of group Public on folder /c2 to view"},
	} {
		x, err := e.Explain(c.s, c.perm, engine.Resource{Kind: engine.KindFolder, ID: c.fold}, adminNow)
		if err != nil || x.Allowed || !slices.Equal(x.Suggestions, []string{c.want}) {
			t.Errorf("Explain(%q, %s on %s): allowed %v, suggestions %q, %v; want denied, %q", c.s.UserID, c.perm, c.fold, x.Allowed, x.Suggestions, err, c.want)
		}
	}
}

// TestR22ARuleDeletedWithAFolderChangedInOneChange: GrantsBeyond compares
// a changed folder against every rule's owner, and a rule the same change
// deletes leaves an empty slot it must pass over.
func TestR22ARuleDeletedWithAFolderChangedInOneChange(t *testing.T) {
	e := adminWorld(t, deltaWorld)
	after, err := e.Stage([]domain.Mutation{del(domain.Rule{ID: "r1"}),
		put(domain.Folder{ID: "c2", Name: "c2", TypeID: "case", Properties: map[string]string{"status": "open"}})})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.GrantsBeyond(after, engine.Holder{UserID: "helper"}, adminNow)
	if want := []string{`docs.read on folder /c1 (group "Ruled")`}; err != nil || !slices.Equal(got, want) {
		t.Errorf("GrantsBeyond = %q, %v; want %q", got, err, want)
	}
}

// TestR20AStagedEngineNeverChangesWhenOneBuiltOnItApplies: each Apply and
// each Stage writes with a generation of its own (copy-on-write owns only
// what that generation copied), so applying a change to an engine staged
// on another staged one leaves the first as it was.
func TestR20AStagedEngineNeverChangesWhenOneBuiltOnItApplies(t *testing.T) {
	joined := domain.Membership{GroupID: "help", UserID: "plain"}
	first := stageAll(t, adminWorld(t, deltaWorld), []domain.Mutation{put(joined)})
	second := stageAll(t, first, nil)
	if err := second.Apply(domain.Change{Revision: second.Revision() + 1, Mutations: []domain.Mutation{del(joined)}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		e    *engine.Engine
		want bool
	}{{"the first staged engine", first, true}, {"the one the change applied to", second, false}} {
		d, err := c.e.Check(engine.Subject{UserID: "plain"}, domain.PermUsersView, engine.Resource{Kind: engine.KindSystem}, adminNow)
		if err != nil || d.Allowed != c.want {
			t.Errorf("%s: plain, users.view through Help = %v, %v; want %v", c.name, d.Allowed, err, c.want)
		}
	}
}

// TestAFolderMovedUnderItsOwnDescendantIsRefused: a change moving a
// folder below its own subtree would make a cycle of parents; it is
// refused whole, naming both folders, and the engine is left as it was.
func TestAFolderMovedUnderItsOwnDescendantIsRefused(t *testing.T) {
	e := adminWorld(t, deltaWorld)
	_, err := e.Stage([]domain.Mutation{put(domain.Folder{ID: "top", Name: "top", ParentID: "sub", TypeID: domain.FolderTypeFolderID})})
	if !domain.Is(err, domain.KindInvalid) || !strings.Contains(err.Error(), `folder "top" cannot move under its own descendant "sub"`) {
		t.Errorf("moving top under sub: %v, want invalid, naming both", err)
	}
	if err := e.Apply(domain.Change{Revision: e.Revision() + 1, Mutations: []domain.Mutation{put(domain.Folder{ID: "top", Name: "top", ParentID: "top", TypeID: domain.FolderTypeFolderID})}}); !domain.Is(err, domain.KindInvalid) {
		t.Errorf("moving top under itself: %v, want invalid", err)
	}
	if got, err := e.ListResources(engine.Subject{UserID: "filer"}, "root.read", engine.KindFolder, "top", adminNow); err != nil || !slices.Equal(got, []string{"sub", "top"}) {
		t.Errorf("the tree after the refusals: %v, %v; want top and sub as before", got, err)
	}
}
