package engine_test

// Tests written for the fourth mutation session (scripts/overlaymutate on
// the whole engine package, docs/testing.md): each pins a behaviour that
// a surviving mutant changed without any earlier test noticing.

import (
	"fmt"
	"slices"
	"testing"

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
// property, even with none before (mapsEqual: a map holding a subset of
// the other's entries is not equal to it), or that changes type with
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
