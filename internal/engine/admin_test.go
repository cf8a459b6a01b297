package engine_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"gopkg.in/yaml.v3"
)

// The administration questions (engine/admin.go) on small worlds; the
// service's property test explores them at random.

func adminWorld(t *testing.T, src string) *engine.Engine {
	t.Helper()
	var m yModel
	if err := yaml.Unmarshal([]byte(src), &m); err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(buildSnapshot(t, m))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var adminNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestR23GroupsInProjectAndShared(t *testing.T) {
	e := adminWorld(t, `
users: [{id: alice}, {id: bob}, {id: carol}]
projects: [{id: p1, mode: exclusive}]
groups:
  - {id: a, name: A, project: p1}
  - {id: b, name: B}
  - {id: c, name: C}
memberships:
  - {group: a, user: alice}
  - {group: b, user: alice}
  - {group: a, user: bob}
  - {group: b, user: bob, expires: 2025-06-01T00:00:00Z}
  - {group: c, user: carol}
  - {group: Everyone, user: carol}
project_grants:
  - {project: p1, group: b, permissions: [project.read]}
  - {project: p1, group: Everyone, permissions: [project.read]}
`)
	for _, c := range []struct {
		user, except string
		want         []string
	}{
		{"alice", "", []string{"a", "b"}},
		{"alice", "a", []string{"b"}},
		{"bob", "", []string{"a"}}, // b expired (R6)
		{"carol", "", nil},         // c is not present; Everyone is built in
	} {
		got, err := e.GroupsInProject(c.user, "p1", c.except, adminNow)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("GroupsInProject(%s, except %q) = %v, %v; want %v", c.user, c.except, got, err, c.want)
		}
	}
	shared, err := e.SharedInProject("p1", adminNow)
	if err != nil || len(shared) != 1 || !slices.Equal(shared["alice"], []string{"a", "b"}) {
		t.Errorf("SharedInProject = %v, %v; want only alice in a and b", shared, err)
	}
	if !e.MemberAt("alice", "b", adminNow) || e.MemberAt("bob", "b", adminNow) || e.MemberAt("carol", "a", adminNow) || e.MemberAt("nobody", "a", adminNow) {
		t.Error("MemberAt: want alice in b, bob's ended membership of b, carol not in a, nobody in nothing")
	}
	if _, err := e.GroupsInProject("alice", "nope", "", adminNow); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("unknown project: %v, want not found", err)
	}
}

func TestR3HeldForever(t *testing.T) {
	src := `
users: [{id: root}, {id: temp}, {id: off, status: disabled}, {id: roled, system_role: IT Administrator}]
memberships:
  - {group: Administrators, user: temp, expires: 2026-03-01T00:00:00Z}
  - {group: Administrators, user: off}
`
	e := adminWorld(t, src)
	forever, _, err := e.HeldForever(domain.PermServerManage, adminNow)
	if err != nil || !forever {
		t.Fatalf("HeldForever with an individual IT Administrator = %v, %v; want true", forever, err)
	}
	e = adminWorld(t, `
users: [{id: temp}, {id: off, status: disabled}]
memberships:
  - {group: Administrators, user: temp, expires: 2026-03-01T00:00:00Z}
  - {group: Administrators, user: off}
`)
	forever, until, err := e.HeldForever(domain.PermServerManage, adminNow)
	if err != nil || forever || !until.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("HeldForever = %v until %v, %v; want false until 2026-03-01 (the disabled member counts for nothing)", forever, until, err)
	}
	if _, _, err := e.HeldForever(domain.PermProjectRead, adminNow); !domain.Is(err, domain.KindInvalid) {
		t.Errorf("a project permission: %v, want invalid", err)
	}
}

func TestR22OutranksAndGrantsBeyond(t *testing.T) {
	e := adminWorld(t, `
users: [{id: admin}, {id: helper}, {id: target}, {id: target2}, {id: plain}]
projects: [{id: p1}]
groups:
  - {id: help, name: Help, system_permissions: [users.view, users.edit]}
  - {id: vault, name: Vault}
folders: [{id: top, type: folder}]
levels: [{folder: top, group: vault, level: delete}]
domain_grants: [{group: vault, domain: ct}]
memberships:
  - {group: Administrators, user: admin}
  - {group: help, user: helper}
  - {group: vault, user: target}
  - {group: vault, user: target2}
project_grants:
  - {project: p1, user: target, role: Moderator}
`)
	helper := engine.Holder{UserID: "helper"}
	over, err := e.Outranks("target", helper, adminNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"project.moderate on project p1", `domain.access on domain "ct"`, "root.delete on folder /top"} {
		if !slices.ContainsFunc(over, func(s string) bool { return len(s) >= len(want) && s[:len(want)] == want }) {
			t.Errorf("Outranks(target) = %v, want an item starting %q", over, want)
		}
	}
	if over, _ := e.Outranks("plain", helper, adminNow); len(over) != 0 {
		t.Errorf("Outranks(plain) = %v, want nothing", over)
	}
	if over, _ := e.Outranks("target", engine.Holder{UserID: "admin"}, adminNow); len(over) != 0 {
		t.Errorf("server.manage outranks everyone, got %v", over)
	}
	// Adding helper to Vault hands out its level and domain.
	after, err := e.Stage([]domain.Mutation{{Op: domain.OpPut, Entity: domain.EntityMembership,
		Membership: &domain.Membership{GroupID: "vault", UserID: "helper"}}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Revision()+1 != after.Revision() {
		t.Errorf("staged revision %d, want %d", after.Revision(), e.Revision()+1)
	}
	if d, _ := e.Check(engine.Subject{UserID: "helper"}, "root.delete", engine.Resource{Kind: engine.KindFolder, ID: "top"}, adminNow); d.Allowed {
		t.Error("staging changed the engine it was staged on")
	}
	beyond, err := e.GrantsBeyond(after, helper, adminNow)
	if err != nil || len(beyond) < 2 {
		t.Errorf("GrantsBeyond(join Vault) = %v, %v; want the level and the domain", beyond, err)
	}
	if beyond, _ := e.GrantsBeyond(after, engine.Holder{UserID: "admin"}, adminNow); len(beyond) != 0 {
		t.Errorf("server.manage is exempt, got %v", beyond)
	}
	// A limited token holds no folder permission, not even what a group it
	// shares with the target gives (the property test found this).
	sharing := engine.Holder{UserID: "target", Limited: true, Limit: []string{domain.PermUsersEdit}}
	if over, _ := e.Outranks("target2", sharing, adminNow); !slices.ContainsFunc(over, func(s string) bool { return strings.HasPrefix(s, "root.delete on folder /top") }) {
		t.Errorf("a limited token sharing Vault outranks its peer: %v, want root.delete on /top listed", over)
	}
	// A limited token of the administrator holds its limit only.
	limited := engine.Holder{UserID: "admin", Limited: true, Limit: []string{domain.PermGroupsMembers}}
	if beyond, _ := e.GrantsBeyond(after, limited, adminNow); len(beyond) == 0 {
		t.Error("a token limited to groups.members granted a folder level")
	}
}

// What each part of GrantsBeyond and Outranks must see; each case was a
// surviving mutant of admin.go.
func TestR22AdminQuestionsSeeEveryKindOfGrant(t *testing.T) {
	e := adminWorld(t, `
users: [{id: admin}, {id: helper}, {id: mod1}, {id: mod2}, {id: viewer}]
projects: [{id: p1}]
groups:
  - {id: help, name: Help, system_permissions: [users.view, users.edit]}
  - {id: vault, name: Vault}
  - {id: seers, name: Seers, system_permissions: [users.view]}
folders: [{id: top, type: folder}]
levels: [{folder: top, group: vault, level: delete}]
memberships:
  - {group: Administrators, user: admin}
  - {group: help, user: helper}
  - {group: seers, user: viewer}
project_grants:
  - {project: p1, user: mod1, role: Moderator}
  - {project: p1, user: mod2, role: Moderator}
`)
	stage := func(m domain.Mutation) *engine.Engine {
		t.Helper()
		after, err := e.Stage([]domain.Mutation{m})
		if err != nil {
			t.Fatal(err)
		}
		return after
	}
	has := func(items []string, prefix string) bool {
		return slices.ContainsFunc(items, func(s string) bool { return strings.HasPrefix(s, prefix) })
	}
	nobody := engine.Holder{UserID: "viewer"}
	// A group's checkboxes: what they add is at stake.
	after := stage(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityGroup, Group: &domain.Group{ID: "vault", Name: "Vault",
		Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermAuditView}}})
	if got, _ := e.GrantsBeyond(after, nobody, adminNow); !has(got, `audit.view (group "Vault")`) {
		t.Errorf("checkbox added: %v, want audit.view of group Vault", got)
	}
	// A group's domains.
	after = stage(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityDomainGrant, DomainGrant: &domain.DomainGrant{GroupID: "vault", Domain: "ct"}})
	if got, _ := e.GrantsBeyond(after, nobody, adminNow); !has(got, `domain.access on domain "ct" (group "Vault")`) {
		t.Errorf("domain added: %v, want it named", got)
	}
	// Only what is implied by nothing else is named: users.view alone.
	if got, _ := e.Outranks("viewer", engine.Holder{UserID: "mod1"}, adminNow); !slices.Equal(got, []string{"users.view"}) {
		t.Errorf("Outranks(viewer) by mod1 = %v, want [users.view]", got)
	}
	// A limited token holds no project permission, even one its user has.
	if got, _ := e.Outranks("mod2", engine.Holder{UserID: "mod1"}, adminNow); len(got) != 0 {
		t.Errorf("a moderator acting on a peer: %v, want nothing", got)
	}
	limitedMod := engine.Holder{UserID: "mod1", Limited: true, Limit: []string{domain.PermUsersEdit}}
	if got, _ := e.Outranks("mod2", limitedMod, adminNow); !has(got, "project.moderate on project p1") {
		t.Errorf("a limited token acting on a moderator: %v, want project.moderate on p1", got)
	}
	// A limited token with files.admin in its limit holds no folder
	// permission: joining Vault is beyond it.
	join := stage(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "vault", UserID: "helper"}})
	limitedFiles := engine.Holder{UserID: "admin", Limited: true, Limit: []string{domain.PermFilesAdmin, domain.PermGroupsMembers}}
	if got, _ := e.GrantsBeyond(join, limitedFiles, adminNow); !has(got, "root.delete on folder /top") {
		t.Errorf("a files.admin-limited token joining Vault: %v, want root.delete on /top", got)
	}
	// Messages name groups by name.
	if got, _ := e.GrantsBeyond(join, nobody, adminNow); !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, `membership of group "Vault"`) }) {
		t.Errorf("join Vault: %v, want the group named", got)
	}
}
