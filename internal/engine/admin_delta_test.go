package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// The administration questions of engine/admin.go, one kind of change at a
// time, each with the exact list of what a caller lacks: a missing item
// is a write let through (R22), an extra one a write refused for nothing.
// The cases cover every branch of GrantsBeyond's comparison (users,
// memberships, projects, roles, folders, rules) that the service's tests
// reach only through the kernel, which gremlins does not run when it
// mutates the engine.

const deltaWorld = `
users:
  - {id: admin}
  - {id: helper}
  - {id: filer}
  - {id: target}
  - {id: plain}
  - {id: off, status: disabled}
roles:
  - {id: reviewer, name: Reviewer, permissions: [project.read]}
  - {id: auditor, name: Auditor, scope: system, permissions: [audit.view]}
projects: [{id: p1, name: Apollo}, {id: p2, name: Gemini}]
groups:
  - {id: help, name: Help, system_permissions: [users.view, users.edit]}
  - {id: files, name: Files, system_permissions: [files.admin, users.view, users.edit]}
  - {id: vault, name: Vault}
  - {id: team, name: Team, project: p1}
  - {id: ruled, name: Ruled}
  - {id: audit, name: Audit, system_role: Auditor}
folder_types: [{id: case, name: Case, contexts: [root, docs], properties: [status]}]
folders:
  - {id: top, type: folder}
  - {id: sub, parent: top, type: folder}
  - {id: c1, type: case, properties: {status: open}}
  - {id: c2, type: case, properties: {status: closed}}
levels: [{folder: top, group: vault, level: view}]
rules:
  - {id: r1, name: Open cases, group: ruled, criteria: [{type: case, property: status, op: eq, value: open}], grants: {docs: [read]}}
domain_grants: [{group: vault, domain: ct}]
memberships:
  - {group: Administrators, user: admin}
  - {group: help, user: helper}
  - {group: files, user: filer}
  - {group: vault, user: target}
  - {group: vault, user: off}
  - {group: ruled, user: target}
  - {group: team, user: target}
project_grants:
  - {project: p1, group: team, role: Reviewer}
  - {project: p2, user: target, role: Reviewer}
`

func put(v any) domain.Mutation {
	m := domain.Mutation{Op: domain.OpPut}
	switch x := v.(type) {
	case domain.User:
		m.Entity, m.User = domain.EntityUser, &x
	case domain.Membership:
		m.Entity, m.Membership = domain.EntityMembership, &x
	case domain.Project:
		m.Entity, m.Project = domain.EntityProject, &x
	case domain.ProjectGrant:
		m.Entity, m.ProjectGrant = domain.EntityProjectGrant, &x
	case domain.Role:
		m.Entity, m.Role = domain.EntityRole, &x
	case domain.Folder:
		m.Entity, m.Folder = domain.EntityFolder, &x
	case domain.FolderLevel:
		m.Entity, m.FolderLevel = domain.EntityFolderLevel, &x
	case domain.Rule:
		m.Entity, m.Rule = domain.EntityRule, &x
	case domain.Group:
		m.Entity, m.Group = domain.EntityGroup, &x
	case domain.DomainGrant:
		m.Entity, m.DomainGrant = domain.EntityDomainGrant, &x
	default:
		panic(fmt.Sprintf("put: %T", v))
	}
	return m
}

func del(v any) domain.Mutation {
	m := put(v)
	m.Op = domain.OpDelete
	return m
}

func deltaUser(id, role string, st domain.UserStatus) domain.User {
	return domain.User{ID: id, Username: id, Status: st, Source: domain.SourceLocal, SystemRoleID: role, ShowPersonalInfo: true}
}

// byWhom is what GrantsBeyond answers three callers: helper (users.view and
// users.edit, no folder, project or domain right), filer (the same with
// files.admin, so every folder right) and target (in Vault, Ruled and
// Team, with Reviewer on Gemini).
type byWhom struct{ helper, filer, target []string }

func TestR22GrantsBeyondNamesExactlyWhatEachKindOfChangeHandsOut(t *testing.T) {
	e := adminWorld(t, deltaWorld)
	inAnHour, anHourAgo := adminNow.Add(time.Hour), adminNow.Add(-time.Hour)
	q := func(format string, args ...any) []string {
		return strings.Split(fmt.Sprintf(format, args...), "|")
	}
	// What target holds, as each reason would name it.
	targetHolds := func(why string) []string {
		return q(`docs.read on folder /c1 %[1]s|domain.access on domain "ct" %[1]s|project.read on project p1 ("Apollo") %[1]s|`+
			`project.read on project p2 ("Gemini") %[1]s|root.read on folder /top %[1]s|root.read on folder /top/sub %[1]s`, why)
	}
	targetHoldsButFolders := func(why string) []string {
		return q(`domain.access on domain "ct" %[1]s|project.read on project p1 ("Apollo") %[1]s|project.read on project p2 ("Gemini") %[1]s`, why)
	}
	vault := func(why string) []string {
		return q(`domain.access on domain "ct" %[1]s|root.read on folder /top %[1]s|root.read on folder /top/sub %[1]s`, why)
	}
	ruleOn := func(want []domain.Criterion) domain.Rule {
		return domain.Rule{ID: "r1", Name: "Open cases", GroupID: "ruled", Criteria: want, Grants: map[string][]string{"docs": {"read"}}}
	}
	for _, c := range []struct {
		name string
		muts []domain.Mutation
		want byWhom
	}{
		{"a new user with a system role", []domain.Mutation{put(deltaUser("nu", "auditor", domain.UserActive))},
			byWhom{q(`audit.view (new user "nu")`), q(`audit.view (new user "nu")`), q(`audit.view (new user "nu")`)}},
		{"deleting a user takes away all they hold", []domain.Mutation{del(deltaUser("target", "", domain.UserActive))},
			byWhom{targetHolds(`(deleted user "target")`), targetHoldsButFolders(`(deleted user "target")`), nil}},
		{"enabling a disabled user gives back what their groups give", []domain.Mutation{put(deltaUser("off", "", domain.UserActive))},
			byWhom{vault(`(user "off" enabled or disabled)`), q(`domain.access on domain "ct" (user "off" enabled or disabled)`), nil}},
		{"disabling a user takes it away", []domain.Mutation{put(deltaUser("target", "", domain.UserDisabled))},
			byWhom{targetHolds(`(user "target" enabled or disabled)`), targetHoldsButFolders(`(user "target" enabled or disabled)`), nil}},
		{"an individual system role", []domain.Mutation{put(deltaUser("plain", "auditor", domain.UserActive))},
			byWhom{q(`audit.view (user "plain")`), q(`audit.view (user "plain")`), q(`audit.view (user "plain")`)}},
		{"an individual project right given", []domain.Mutation{put(domain.ProjectGrant{ProjectID: "p1", SubjectKind: domain.SubjectUser, SubjectID: "plain", Permissions: []string{domain.PermProjectWrite}})},
			byWhom{q(`project.write on project p1 ("Apollo") (user "plain")`), q(`project.write on project p1 ("Apollo") (user "plain")`), q(`project.write on project p1 ("Apollo") (user "plain")`)}},
		{"an individual project right taken", []domain.Mutation{del(domain.ProjectGrant{ProjectID: "p2", SubjectKind: domain.SubjectUser, SubjectID: "target"})},
			byWhom{q(`project.read on project p2 ("Gemini") (user "target")`), q(`project.read on project p2 ("Gemini") (user "target")`), nil}},
		{"a membership given an expiry", []domain.Mutation{put(domain.Membership{GroupID: "vault", UserID: "target", ExpiresAt: &inAnHour})},
			byWhom{vault(`(user "target", membership of group "Vault")`), q(`domain.access on domain "ct" (user "target", membership of group "Vault")`), nil}},
		{"a membership removed", []domain.Mutation{del(domain.Membership{GroupID: "vault", UserID: "target"})},
			byWhom{vault(`(user "target", membership of group "Vault")`), q(`domain.access on domain "ct" (user "target", membership of group "Vault")`), nil}},
		{"a membership added already expired gives nothing", []domain.Mutation{put(domain.Membership{GroupID: "vault", UserID: "plain", ExpiresAt: &anHourAgo})},
			byWhom{}},
		{"a project group joined", []domain.Mutation{put(domain.Membership{GroupID: "team", UserID: "plain"})},
			byWhom{q(`project.read on project p1 ("Apollo") (user "plain", membership of group "Team")`), q(`project.read on project p1 ("Apollo") (user "plain", membership of group "Team")`), nil}},
		{"a project made exclusive puts every right on it at stake", []domain.Mutation{put(domain.Project{ID: "p1", Name: "Apollo", MembershipMode: domain.ModeExclusive})},
			byWhom{q(`project.read on project p1 ("Apollo") (membership mode of project p1 ("Apollo"))`), q(`project.read on project p1 ("Apollo") (membership mode of project p1 ("Apollo"))`), nil}},
		{"a project with individual rights made exclusive", []domain.Mutation{put(domain.Project{ID: "p2", Name: "Gemini", MembershipMode: domain.ModeExclusive})},
			byWhom{q(`project.read on project p2 ("Gemini") (membership mode of project p2 ("Gemini"))`), q(`project.read on project p2 ("Gemini") (membership mode of project p2 ("Gemini"))`), nil}},
		{"a project renamed hands out nothing", []domain.Mutation{put(domain.Project{ID: "p1", Name: "Artemis", MembershipMode: domain.ModeMultiple})},
			byWhom{}},
		{"a group's role on a project replaced", []domain.Mutation{put(domain.ProjectGrant{ProjectID: "p1", SubjectKind: domain.SubjectGroup, SubjectID: "team", RoleID: domain.RoleEditorID})},
			byWhom{q(`project.write on project p1 ("Apollo") (group "Team")`), q(`project.write on project p1 ("Apollo") (group "Team")`), q(`project.write on project p1 ("Apollo") (group "Team")`)}},
		{"a new role holds only what its creator holds", []domain.Mutation{put(domain.Role{ID: "nr", Name: "New", Scope: domain.ScopeSystem, Permissions: []string{domain.PermAuditView}})},
			byWhom{q(`audit.view (role "New")`), q(`audit.view (role "New")`), q(`audit.view (role "New")`)}},
		{"a project role edited counts wherever it is used, by groups and by users", []domain.Mutation{put(domain.Role{ID: "reviewer", Name: "Reviewer", Scope: domain.ScopeProject, Permissions: []string{domain.PermProjectRead, domain.PermProjectWrite}})},
			byWhom{q(`project.write on project p1 ("Apollo") (role "Reviewer")|project.write on project p2 ("Gemini") (role "Reviewer")`),
				q(`project.write on project p1 ("Apollo") (role "Reviewer")|project.write on project p2 ("Gemini") (role "Reviewer")`),
				q(`project.write on project p1 ("Apollo") (role "Reviewer")|project.write on project p2 ("Gemini") (role "Reviewer")`)}},
		{"a project role renamed hands out nothing", []domain.Mutation{put(domain.Role{ID: "reviewer", Name: "Readers", Scope: domain.ScopeProject, Permissions: []string{domain.PermProjectRead}})},
			byWhom{}},
		{"a system role edited, also through the group that holds it", []domain.Mutation{put(domain.Role{ID: "auditor", Name: "Auditor", Scope: domain.ScopeSystem, Permissions: []string{domain.PermAuditView, domain.PermUsersView}})},
			byWhom{nil, nil, q(`users.view (group "Audit")|users.view (role "Auditor")`)}},
		{"a level raised", []domain.Mutation{put(domain.FolderLevel{FolderID: "top", GroupID: "vault", Level: domain.LevelDownload})},
			byWhom{q(`root.download on folder /top (group "Vault")|root.download on folder /top/sub (group "Vault")`), nil,
				q(`root.download on folder /top (group "Vault")|root.download on folder /top/sub (group "Vault")`)}},
		{"a nearer level of none", []domain.Mutation{put(domain.FolderLevel{FolderID: "sub", GroupID: "vault", Level: domain.LevelNone})},
			byWhom{q(`root.read on folder /top/sub (group "Vault")`), nil, nil}},
		{"a level removed", []domain.Mutation{del(domain.FolderLevel{FolderID: "top", GroupID: "vault"})},
			byWhom{q(`root.read on folder /top (group "Vault")|root.read on folder /top/sub (group "Vault")`), nil, nil}},
		{"a folder's property now matches a rule", []domain.Mutation{put(domain.Folder{ID: "c2", Name: "c2", TypeID: "case", Properties: map[string]string{"status": "open"}})},
			byWhom{q(`docs.read on folder /c2 (group "Ruled")`), nil, q(`docs.read on folder /c2 (group "Ruled")`)}},
		{"a folder moved under a level", []domain.Mutation{put(domain.Folder{ID: "c1", Name: "c1", ParentID: "top", TypeID: "case", Properties: map[string]string{"status": "open"}})},
			byWhom{q(`docs.read on folder /top/c1 (group "Vault")|root.read on folder /top/c1 (group "Vault")`), nil, q(`root.read on folder /top/c1 (group "Vault")`)}},
		{"a folder retyped: the levels above reach its new contexts", []domain.Mutation{put(domain.Folder{ID: "sub", Name: "sub", ParentID: "top", TypeID: "case"})},
			byWhom{q(`docs.read on folder /top/sub (group "Vault")`), nil, nil}},
		{"a folder renamed hands out nothing", []domain.Mutation{put(domain.Folder{ID: "c1", Name: "case one", TypeID: "case", Properties: map[string]string{"status": "open"}})},
			byWhom{}},
		{"a rule widened", []domain.Mutation{put(ruleOn([]domain.Criterion{{FolderTypeID: "case", Property: "status", Operator: domain.OpExists}}))},
			byWhom{q(`docs.read on folder /c2 (group "Ruled")`), nil, q(`docs.read on folder /c2 (group "Ruled")`)}},
		{"a rule narrowed", []domain.Mutation{put(ruleOn([]domain.Criterion{{FolderTypeID: "case", Property: "status", Operator: domain.OpEq, Value: "none"}}))},
			byWhom{q(`docs.read on folder /c1 (group "Ruled")`), nil, nil}},
		{"a rule deleted", []domain.Mutation{del(ruleOn(nil))},
			byWhom{q(`docs.read on folder /c1 (group "Ruled")`), nil, nil}},
	} {
		after, err := e.Stage(c.muts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, h := range []struct {
			who  string
			want []string
		}{{"helper", c.want.helper}, {"filer", c.want.filer}, {"target", c.want.target}} {
			got, err := e.GrantsBeyond(after, engine.Holder{UserID: h.who}, adminNow)
			if err != nil || !slices.Equal(got, h.want) {
				t.Errorf("%s, by %s:\n got %q, %v\nwant %q", c.name, h.who, got, err, h.want)
			}
		}
	}
}

func TestR22GrantsBeyondGroupsDomainsAndEveryone(t *testing.T) {
	e := adminWorld(t, deltaWorld)
	vaultMembers := func(why string) []string {
		var out []string
		for _, u := range []string{"off", "target"} {
			m := `(user "` + u + `", membership of group "Vault")`
			out = append(out, `domain.access on domain "ct" `+m, `root.read on folder /top `+m, `root.read on folder /top/sub `+m)
		}
		return out
	}
	deleted := append(vaultMembers(""), `domain.access on domain "ct" (group "Vault")`,
		`root.read on folder /top (group "Vault")`, `root.read on folder /top/sub (group "Vault")`)
	slices.Sort(deleted)
	for _, c := range []struct {
		name string
		m    domain.Mutation
		by   string
		want []string
	}{
		// A deleted group is named as it was.
		{"a group deleted", del(domain.Group{ID: "vault", Name: "Vault", Scope: domain.ScopeSystem}), "helper", deleted},
		{"a group deleted, by a member", del(domain.Group{ID: "vault", Name: "Vault", Scope: domain.ScopeSystem}), "target", nil},
		{"a domain taken from a group", del(domain.DomainGrant{GroupID: "vault", Domain: "ct"}), "helper", []string{`domain.access on domain "ct" (group "Vault")`}},
		{"a domain taken from a group, by a member", del(domain.DomainGrant{GroupID: "vault", Domain: "ct"}), "target", nil},
		{"a domain given to a group", put(domain.DomainGrant{GroupID: "ruled", Domain: "ct"}), "plain", []string{`domain.access on domain "ct" (group "Ruled")`}},
		// Everyone's checkboxes reach every user, the caller too; only
		// what the caller lacks is named.
		{"a checkbox on Everyone", put(domain.Group{ID: domain.GroupEveryoneID, Name: "Everyone", Scope: domain.ScopeSystem, Builtin: domain.BuiltinEveryone, SystemPermissions: []string{domain.PermUsersView}}),
			"plain", []string{`users.view (group "Everyone")`}},
		{"a checkbox on Everyone, by one who holds it", put(domain.Group{ID: domain.GroupEveryoneID, Name: "Everyone", Scope: domain.ScopeSystem, Builtin: domain.BuiltinEveryone, SystemPermissions: []string{domain.PermUsersView}}),
			"helper", nil},
	} {
		after, err := e.Stage([]domain.Mutation{c.m})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := e.GrantsBeyond(after, engine.Holder{UserID: c.by}, adminNow)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s, by %s:\n got %q, %v\nwant %q", c.name, c.by, got, err, c.want)
		}
	}
}

// TestR22OutranksCountsWhatATargetHoldsAsIfActive pins Outranks' exact
// answers: a disabled user outranks as if enabled, a limited token holds
// its limit only (files.admin only beside server.manage), server.manage
// outranks everyone, and an unknown or anonymous party is an error, not
// an empty list.
func TestR22OutranksCountsWhatATargetHoldsAsIfActive(t *testing.T) {
	e := adminWorld(t, deltaWorld)
	vault := []string{`domain.access on domain "ct"`, "root.read on folder /top", "root.read on folder /top/sub"}
	target := []string{"docs.read on folder /c1", `domain.access on domain "ct"`, `project.read on project p1 ("Apollo")`,
		`project.read on project p2 ("Gemini")`, "root.read on folder /top", "root.read on folder /top/sub"}
	limited := func(user string, limit ...string) engine.Holder {
		return engine.Holder{UserID: user, Limited: true, Limit: limit}
	}
	for _, c := range []struct {
		target string
		by     engine.Holder
		want   []string
	}{
		{"off", engine.Holder{UserID: "helper"}, vault},
		{"target", engine.Holder{UserID: "helper"}, target},
		{"target", engine.Holder{UserID: "filer"}, []string{`domain.access on domain "ct"`, `project.read on project p1 ("Apollo")`, `project.read on project p2 ("Gemini")`}},
		{"helper", engine.Holder{UserID: "plain"}, []string{domain.PermUsersEdit}},
		{"helper", engine.Holder{UserID: "helper"}, nil},
		{"target", limited("admin", domain.PermServerManage), nil},
		{"target", limited("admin", domain.PermUsersEdit), target},
		{"target", limited("filer", domain.PermUsersEdit, domain.PermFilesAdmin), target},
		{"helper", limited("filer", domain.PermUsersEdit, domain.PermFilesAdmin), nil},
		{"helper", limited("filer", domain.PermUsersView), []string{domain.PermUsersEdit}},
	} {
		got, err := e.Outranks(c.target, c.by, adminNow)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("Outranks(%s) by %+v = %q, %v; want %q", c.target, c.by, got, err, c.want)
		}
	}
	if _, err := e.Outranks("ghost", engine.Holder{UserID: "helper"}, adminNow); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("an unknown target: %v, want not found", err)
	}
	if _, err := e.Outranks("target", engine.Holder{}, adminNow); !domain.Is(err, domain.KindUnauthenticated) {
		t.Errorf("an anonymous caller: %v, want unauthenticated", err)
	}
	after, _ := e.Stage(nil)
	if _, err := e.GrantsBeyond(after, engine.Holder{UserID: "ghost"}, adminNow); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("GrantsBeyond by an unknown caller: %v, want not found", err)
	}
}

// TestR3HeldForeverCountsOnlyActiveUnexpiredGrants: the last instant is
// the latest expiry among active holders; a membership ending at now
// or before counts for nothing; server.manage on Everyone or through a
// group without expiry is held for good; a disabled holder is no one.
func TestR3HeldForeverCountsOnlyActiveUnexpiredGrants(t *testing.T) {
	march, april := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		world   string
		forever bool
		until   time.Time
	}{
		{"the later of two expiries", `
users: [{id: a}, {id: b}]
memberships:
  - {group: Administrators, user: a, expires: 2026-04-01T00:00:00Z}
  - {group: Administrators, user: b, expires: 2026-03-01T00:00:00Z}`, false, april},
		{"the later of two expiries, listed the other way", `
users: [{id: a}, {id: b}]
memberships:
  - {group: Administrators, user: a, expires: 2026-03-01T00:00:00Z}
  - {group: Administrators, user: b, expires: 2026-04-01T00:00:00Z}`, false, april},
		{"one ending now counts for nothing", `
users: [{id: a}, {id: b}]
memberships:
  - {group: Administrators, user: a, expires: 2026-01-01T00:00:00Z}
  - {group: Administrators, user: b, expires: 2026-03-01T00:00:00Z}`, false, march},
		{"only one ending now: nobody, even now", `
users: [{id: a}]
memberships: [{group: Administrators, user: a, expires: 2026-01-01T00:00:00Z}]`, false, time.Time{}},
		{"only ended ones: nobody, even now", `
users: [{id: a}]
memberships: [{group: Administrators, user: a, expires: 2025-12-31T23:59:59Z}]`, false, time.Time{}},
		{"a disabled holder of the role is no one", `
users: [{id: a, status: disabled, system_role: IT Administrator}, {id: b}]
memberships: [{group: Administrators, user: b, expires: 2026-03-01T00:00:00Z}]`, false, march},
		{"a group with the role, without expiry", `
users: [{id: a}, {id: b}]
groups: [{id: ops, system_role: IT Administrator}]
memberships:
  - {group: Administrators, user: a, expires: 2026-03-01T00:00:00Z}
  - {group: ops, user: b}`, true, time.Time{}},
		{"an expiring member of a group without the permission", `
users: [{id: a}]
groups: [{id: ops, system_permissions: [users.view]}]
memberships: [{group: ops, user: a, expires: 2026-03-01T00:00:00Z}]`, false, time.Time{}},
	} {
		e := adminWorld(t, c.world)
		forever, until, err := e.HeldForever(domain.PermServerManage, adminNow)
		if err != nil || forever != c.forever || !until.Equal(c.until) {
			t.Errorf("%s: HeldForever = %v until %v, %v; want %v until %v", c.name, forever, until, err, c.forever, c.until)
		}
	}
	e := adminWorld(t, "users: [{id: a}]")
	after, err := e.Stage([]domain.Mutation{put(domain.Group{ID: domain.GroupEveryoneID, Name: "Everyone", Scope: domain.ScopeSystem,
		Builtin: domain.BuiltinEveryone, SystemRoleID: domain.RoleITAdministratorID})})
	if err != nil {
		t.Fatal(err)
	}
	if forever, _, err := after.HeldForever(domain.PermServerManage, adminNow); err != nil || !forever {
		t.Errorf("server.manage on Everyone: %v, %v; want held for good", forever, err)
	}
	if forever, _, err := e.HeldForever(domain.PermServerManage, adminNow); err != nil || forever {
		t.Errorf("nobody with server.manage: %v, %v; want not held", forever, err)
	}
}

func TestStageAndAdminQuestionsReportBadInput(t *testing.T) {
	e := adminWorld(t, deltaWorld)
	if _, err := e.Stage([]domain.Mutation{put(domain.Membership{GroupID: "nope", UserID: "plain"})}); err == nil {
		t.Error("Stage of a membership of an unknown group succeeded")
	}
	if _, err := e.GroupsInProject("ghost", "p1", "", adminNow); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("GroupsInProject of an unknown user: %v, want not found", err)
	}
	if _, err := e.SharedInProject("nope", adminNow); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("SharedInProject of an unknown project: %v, want not found", err)
	}
}

// TestR6R23MembershipsEndingNowCountForNothing: a membership that ends at
// the instant asked about is over (R6), in every administrative answer.
func TestR6R23MembershipsEndingNowCountForNothing(t *testing.T) {
	e := adminWorld(t, `
users: [{id: alice}, {id: bob}, {id: carol}]
projects: [{id: p1, mode: exclusive}]
groups:
  - {id: a, name: A, project: p1}
  - {id: b, name: B, project: p1}
project_grants: [{project: p1, group: a, permissions: [project.read]}]
memberships:
  - {group: a, user: alice}
  - {group: b, user: alice, expires: 2026-01-01T00:00:00Z}
  - {group: a, user: bob, expires: 2026-01-01T00:00:01Z}
  - {group: b, user: bob}
`)
	if got, err := e.GroupsInProject("alice", "p1", "", adminNow); err != nil || !slices.Equal(got, []string{"a"}) {
		t.Errorf("GroupsInProject(alice) = %v, %v; want only a (b ends now)", got, err)
	}
	shared, err := e.SharedInProject("p1", adminNow)
	if err != nil || len(shared) != 1 || !slices.Equal(shared["bob"], []string{"a", "b"}) {
		t.Errorf("SharedInProject = %v, %v; want only bob, in a (a second more) and b", shared, err)
	}
	if e.MemberAt("alice", "b", adminNow) || !e.MemberAt("bob", "a", adminNow) {
		t.Error("MemberAt: alice's membership of b ends now (over), bob's of a a second later (not yet)")
	}
	// A membership given that ends now hands out nothing.
	after, err := e.Stage([]domain.Mutation{put(domain.Membership{GroupID: "a", UserID: "carol", ExpiresAt: &adminNow})})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.GrantsBeyond(after, engine.Holder{UserID: "carol"}, adminNow); err != nil || len(got) != 0 {
		t.Errorf("a membership ending now: %q, %v; want nothing at stake", got, err)
	}
}
