package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (e *env) nest(parent, child string) (service.GroupMembersResult, error) {
	e.t.Helper()
	r, _, err := e.svc.AddGroupMembers(e.ctx, e.admin, parent, []service.GroupMemberInput{{GroupID: child}})
	return r, err
}

// withNesting is a second service over e's database with other nesting
// settings.
func (e *env) withNesting(o service.NestingOptions) *service.Service {
	e.t.Helper()
	svc, err := service.New(e.ctx, e.st, service.Options{PasswordParams: &cheap, Nesting: o})
	e.must(err)
	return svc
}

// readersIn imports a system group into a project with project.read.
func (e *env) readersIn(groupID, projectID string) {
	e.t.Helper()
	_, _, err := e.svc.ImportGroup(e.ctx, e.admin, groupID, []string{projectID})
	e.must(err)
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, groupID, projectID, "", []string{domain.PermProjectRead})
	e.must(err)
}

// R12, R24: a group nested in another gives its members the other's
// grants at once, and the answer lists the projects they now belong to.
func TestR24_NestingGivesMembersTheParentsGrantsAndProjects(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", "")
	rad, xyz := e.sysGroup("Radiologists"), e.sysGroup("XYZ radiologists")
	img := e.project("Imaging", domain.ModeMultiple)
	e.readersIn(rad.ID, img.ID)
	e.add(xyz.ID, alice)
	if e.can(alice, domain.PermProjectRead, proj(img.ID)) {
		t.Fatal("alice reads Imaging before any nesting")
	}
	res, err := e.nest(rad.ID, xyz.ID)
	e.must(err)
	if !e.can(alice, domain.PermProjectRead, proj(img.ID)) {
		t.Error("alice does not read Imaging through XYZ radiologists → Radiologists")
	}
	if len(res.Projects) != 1 || res.Projects[0].ID != img.ID || len(res.Users) != 1 || res.Users[0] != alice.UserID {
		t.Errorf("result = %+v, want Imaging and alice (R24)", res)
	}
	rows, err := e.svc.ListEffectiveMembers(e.ctx, e.admin, rad.ID)
	e.must(err)
	if len(rows) != 1 || rows[0].User.ID != alice.UserID || strings.Join(rows[0].Through, ",") != "XYZ radiologists" {
		t.Errorf("effective members = %+v", rows)
	}
	parents, err := e.svc.ListGroupParents(e.ctx, e.admin, xyz.ID)
	e.must(err)
	children, err := e.svc.ListGroupMemberGroups(e.ctx, e.admin, rad.ID)
	e.must(err)
	if len(parents) != 1 || parents[0].Group.ID != rad.ID || len(children) != 1 || children[0].Group.ID != xyz.ID {
		t.Errorf("parents %+v, children %+v", parents, children)
	}
	// Adding a user to XYZ now also lists Imaging (R24 through nesting).
	bob := e.user("bob", "")
	if added := e.add(xyz.ID, bob); len(added.Projects) != 1 || added.Projects[0].ID != img.ID {
		t.Errorf("adding bob to XYZ lists projects %+v, want Imaging", added.Projects)
	}
}

func TestNestingRefusesACycleNamingIt(t *testing.T) {
	e := newEnv(t)
	a, b, c := e.sysGroup("A"), e.sysGroup("B"), e.sysGroup("C")
	_, err := e.nest(a.ID, b.ID)
	e.must(err)
	_, err = e.nest(b.ID, c.ID)
	e.must(err)
	before := e.rev()
	_, err = e.nest(c.ID, a.ID)
	wantKind(t, err, domain.KindConflict, "A → C → B → A")
	wantField(t, err, "groups[0].group_id")
	if e.rev() != before {
		t.Error("a refused nesting wrote something")
	}
}

func TestNestingRefusesAChainDeeperThanTheLimit(t *testing.T) {
	e := newEnv(t)
	svc := e.withNesting(service.NestingOptions{MaxDepth: 2})
	a, b, c, d := e.sysGroup("A"), e.sysGroup("B"), e.sysGroup("C"), e.sysGroup("D")
	for _, pc := range [][2]string{{a.ID, b.ID}, {b.ID, c.ID}} {
		_, _, err := svc.AddGroupMembers(e.ctx, e.admin, pc[0], []service.GroupMemberInput{{GroupID: pc[1]}})
		e.must(err)
	}
	_, _, err := svc.AddGroupMembers(e.ctx, e.admin, c.ID, []service.GroupMemberInput{{GroupID: d.ID}})
	wantKind(t, err, domain.KindInvalid, "chain of 3 group memberships (D → C → B → A)", "limit of 2")
	// The default limit is 10.
	_, err = e.nest(c.ID, d.ID)
	e.must(err)
}

func TestNestingScopeRules(t *testing.T) {
	e := newEnv(t)
	sys := e.sysGroup("System")
	p1, p2 := e.project("P1", domain.ModeMultiple), e.project("P2", domain.ModeMultiple)
	pg := func(name, pid string) domain.Group {
		g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: name, Scope: domain.ScopeProject, ProjectID: pid})
		e.must(err)
		return g
	}
	a1, b1, a2 := pg("A1", p1.ID), pg("B1", p1.ID), pg("A2", p2.ID)
	for _, c := range []struct {
		parent, child string
		ok            bool
		says          string
	}{
		{a1.ID, b1.ID, true, ""},
		{a1.ID, sys.ID, true, ""},
		{sys.ID, a2.ID, false, "a system group contains system groups only"},
		{a1.ID, a2.ID, false, "its own project and system groups"},
		{sys.ID, domain.GroupEveryoneID, false, "implicit members"},
		{sys.ID, domain.GroupPublicID, false, "implicit members"},
		{domain.GroupPublicID, sys.ID, false, "R5"},
		{domain.GroupEveryoneID, sys.ID, false, "R4"},
		{domain.GroupAdministratorsID, sys.ID, false, "--nest-in-administrators"},
	} {
		_, err := e.nest(c.parent, c.child)
		if c.ok {
			if err != nil {
				t.Errorf("nest %s in %s: %v", c.child, c.parent, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("nest %s in %s: %v, want a refusal saying %q", c.child, c.parent, err, c.says)
		}
	}
	svc := e.withNesting(service.NestingOptions{InAdministrators: true})
	if _, _, err := svc.AddGroupMembers(e.ctx, e.admin, domain.GroupAdministratorsID, []service.GroupMemberInput{{GroupID: sys.ID}}); err != nil {
		t.Errorf("with nest_in_administrators, a group in Administrators: %v", err)
	}
}

// R22: nesting hands the child's members what the parent gives, so a
// caller needs all of it.
func TestR22_NestingNeedsEverythingTheParentGives(t *testing.T) {
	e := newEnv(t)
	mgrs := e.sysGroup("Managers", domain.PermGroupsMembers, domain.PermGroupsView, domain.PermUsersView, domain.PermRolesView)
	mo := e.user("mo", "")
	e.add(mgrs.ID, mo)
	auditors, night := e.sysGroup("Auditors", domain.PermAuditView), e.sysGroup("Night shift")
	_, _, err := e.svc.AddGroupMembers(e.ctx, mo, auditors.ID, []service.GroupMemberInput{{GroupID: night.ID}})
	wantKind(t, err, domain.KindForbidden, domain.PermAuditView, "R22")
	e.wantDeniedAudit(mo, "group.group_member_add")
}

// R22, the CVE-style case of issue 20: a group manager nests a powerful
// group under a low one they manage. It gives its members only what the
// low group gives (which the manager holds), and the manager gains no
// power over them: they cannot act on them, nor take them out of the
// powerful group, nor out of the low group (they are not its members).
func TestR22_NestingAPowerfulGroupUnderAManagedOneGivesNoPowerOverItsMembers(t *testing.T) {
	e := newEnv(t)
	mgrs := e.sysGroup("Managers", domain.PermGroupsMembers, domain.PermGroupsView, domain.PermUsersView, domain.PermUsersEdit, domain.PermRolesView)
	mo := e.user("mo", "")
	e.add(mgrs.ID, mo)
	low := e.sysGroup("Low")
	powerful := e.sysGroup("Powerful", domain.PermAuditView, domain.PermRolesEdit)
	vip := e.user("vip", "")
	e.add(powerful.ID, vip)
	if _, _, err := e.svc.AddGroupMembers(e.ctx, mo, low.ID, []service.GroupMemberInput{{GroupID: powerful.ID}}); err != nil {
		t.Fatalf("nesting Powerful under Low, which gives nothing mo lacks: %v", err)
	}
	if e.can(mo, domain.PermAuditView, system) {
		t.Error("mo gained audit.view")
	}
	_, _, err := e.svc.SetUserStatus(e.ctx, mo, vip.UserID, domain.UserDisabled)
	wantKind(t, err, domain.KindForbidden, domain.PermAuditView)
	_, _, err = e.svc.RemoveMembers(e.ctx, mo, powerful.ID, []string{vip.UserID})
	wantKind(t, err, domain.KindForbidden, domain.PermAuditView)
	_, _, err = e.svc.RemoveMembers(e.ctx, mo, low.ID, []string{vip.UserID})
	wantKind(t, err, domain.KindInvalid, "not a member")
	// Administrators nested under Low: still nothing over the administrator.
	svc := e.withNesting(service.NestingOptions{InAdministrators: true})
	if _, _, err := svc.AddGroupMembers(e.ctx, mo, low.ID, []service.GroupMemberInput{{GroupID: domain.GroupAdministratorsID}}); err != nil {
		t.Fatalf("nesting Administrators under Low: %v", err)
	}
	_, err = svc.SetPassword(e.ctx, mo, e.admin.UserID, "a-new-password-123")
	wantKind(t, err, domain.KindForbidden, domain.PermServerManage)
}

// R23: a user reached through two groups present in an exclusive project
// is refused at the nesting that would do it, both paths named.
func TestR23_NestingIntoTwoGroupsOfAnExclusiveProjectIsRefusedNamingBothPaths(t *testing.T) {
	e := newEnv(t)
	trial := e.project("Trial", domain.ModeExclusive)
	monitors, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Monitors", Scope: domain.ScopeProject, ProjectID: trial.ID})
	e.must(err)
	sites, site1 := e.sysGroup("Sites"), e.sysGroup("Site 1")
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, sites.ID, []string{trial.ID})
	e.must(err)
	alice := e.user("alice", "")
	e.add(monitors.ID, alice)
	e.add(site1.ID, alice)
	_, err = e.nest(sites.ID, site1.ID)
	wantKind(t, err, domain.KindConflict, "R23", "alice → Monitors", "alice → Site 1 → Sites")
	// bob, in Site 1 only, joins Trial through the nesting: his
	// individual rights there are emptied, as when joining directly.
	_, _, err = e.svc.RemoveMembers(e.ctx, e.admin, site1.ID, []string{alice.UserID})
	e.must(err)
	bob := e.user("bob", "")
	e.add(site1.ID, bob)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, bob.UserID, trial.ID, "", []string{domain.PermProjectRead})
	e.must(err)
	res, err := e.nest(sites.ID, site1.ID)
	e.must(err)
	if len(res.RightsDropped) != 1 || res.RightsDropped[0].UserID != bob.UserID {
		t.Errorf("rights dropped = %+v, want bob's on Trial (R23)", res.RightsDropped)
	}
}

// R25: removing a nesting keeps the users who leave the group through it
// in its projects, with no rights from it.
func TestR25_RemovingANestingKeepsItsUsersInTheProjects(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", "")
	rad, xyz := e.sysGroup("Radiologists"), e.sysGroup("XYZ radiologists")
	img := e.project("Imaging", domain.ModeMultiple)
	e.readersIn(rad.ID, img.ID)
	e.add(xyz.ID, alice)
	_, err := e.nest(rad.ID, xyz.ID)
	e.must(err)
	res, _, err := e.svc.RemoveGroupMembers(e.ctx, e.admin, rad.ID, []string{xyz.ID})
	e.must(err)
	if e.can(alice, domain.PermProjectRead, proj(img.ID)) {
		t.Error("alice still reads Imaging after XYZ left Radiologists")
	}
	if _, ok := e.individualRow(alice.UserID, img.ID); !ok || len(res.Projects) != 1 || len(res.Users) != 1 {
		t.Errorf("alice keeps no row in Imaging, or the answer %+v does not say so (R25)", res)
	}
	_, _, err = e.svc.RemoveGroupMembers(e.ctx, e.admin, rad.ID, []string{xyz.ID})
	wantKind(t, err, domain.KindInvalid, "not a member")
}

// R3: with groups in Administrators, the lock-out invariant counts their
// members, and removing the last path to server.manage is refused.
func TestR3_LockOutCountsMembersOfGroupsNestedInAdministrators(t *testing.T) {
	e := newEnv(t)
	svc := e.withNesting(service.NestingOptions{InAdministrators: true})
	ops := e.sysGroup("Ops")
	root2 := e.user("root2", "")
	e.add(ops.ID, root2)
	_, _, err := svc.AddGroupMembers(e.ctx, e.admin, domain.GroupAdministratorsID, []service.GroupMemberInput{{GroupID: ops.ID}})
	e.must(err)
	_, _, err = svc.RemoveMembers(e.ctx, e.admin, domain.GroupAdministratorsID, []string{e.admin.UserID})
	e.must(err) // root2 holds server.manage through Ops
	root := service.Caller{UserID: root2.UserID, Username: "root2"}
	_, _, err = svc.RemoveGroupMembers(e.ctx, root, domain.GroupAdministratorsID, []string{ops.ID})
	wantKind(t, err, domain.KindConflict, "R3")
	_, _, err = svc.RemoveMembers(e.ctx, root, ops.ID, []string{root2.UserID})
	wantKind(t, err, domain.KindConflict, "R3")
}

// R6: a nesting with an expiry counts until it, without a restart.
func TestR6_NestingWithAnExpiryEndsAtIt(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	e := newEnvAt(t, clock)
	alice := e.user("alice", "")
	rad, xyz := e.sysGroup("Radiologists", domain.PermUsersView), e.sysGroup("XYZ")
	e.add(xyz.ID, alice)
	until := now.Add(time.Hour)
	_, _, err := e.svc.AddGroupMembers(e.ctx, e.admin, rad.ID, []service.GroupMemberInput{{GroupID: xyz.ID, ExpiresAt: &until}})
	e.must(err)
	for at, want := range map[time.Time]bool{now: true, until.Add(-time.Second): true, until: false} {
		d, err := e.svc.Engine().Check(engine.Subject{UserID: alice.UserID}, domain.PermUsersView, system, at)
		e.must(err)
		if d.Allowed != want {
			t.Errorf("at %v: users.view = %v, want %v", at, d.Allowed, want)
		}
	}
	past := now.Add(-time.Minute)
	_, _, err = e.svc.AddGroupMembers(e.ctx, e.admin, rad.ID, []service.GroupMemberInput{{GroupID: xyz.ID, ExpiresAt: &past}})
	wantField(t, err, "groups[0].expires_at")
}
