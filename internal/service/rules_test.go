package service_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

func TestR1GroupScopeIsFixedAtCreation(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "no scope"})
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "scope")

	p := e.project("P", "")
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Readers", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	// Editing never touches the scope: an update carries name and
	// description only, and the stored scope stays.
	name := "Readers 2"
	g2, _, err := e.svc.UpdateGroup(e.ctx, e.admin, g.ID, service.GroupUpdate{Name: &name})
	e.must(err)
	if g2.Scope != domain.ScopeProject || g2.ProjectID != p.ID || g2.Name != name {
		t.Errorf("after rename: %+v", g2)
	}
	// A project group cannot take system grants.
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, e.admin, g.ID, "", []string{domain.PermUsersView})
	wantKind(t, err, domain.KindInvalid)
}

func TestR2BuiltinGroupsCannotBeDeletedButCanBeRenamed(t *testing.T) {
	e := newEnv(t)
	for _, b := range domain.BuiltinGroups() {
		_, _, err := e.svc.DeleteGroup(e.ctx, e.admin, b.ID, service.DeleteGroupOptions{Confirm: true})
		wantKind(t, err, domain.KindInvalid, "R2")
		name := b.Name + " (renamed)"
		desc := "edited"
		g, _, err := e.svc.UpdateGroup(e.ctx, e.admin, b.ID, service.GroupUpdate{Name: &name, Description: &desc})
		e.must(err)
		if g.Name != name || g.Description != desc || g.Builtin != b.Builtin {
			t.Errorf("renamed %s: %+v", b.Name, g)
		}
	}
}

func TestR3OnlyServerManageChangesAdministratorsAndNoLockOut(t *testing.T) {
	e := newEnv(t)
	mgr := e.user("manager", domain.RoleSystemManagerID) // holds groups.members, not server.manage

	// Escalation: a groups.members holder adding themself to Administrators.
	_, _, err := e.svc.AddMembers(e.ctx, mgr, domain.GroupAdministratorsID, []service.MemberInput{{UserID: mgr.UserID}})
	wantKind(t, err, domain.KindForbidden, domain.PermServerManage, "R3")
	e.wantDeniedAudit(mgr, "group.member_add")
	if e.can(mgr, domain.PermServerManage, system) {
		t.Fatal("manager holds server.manage after a refused add")
	}

	// A server.manage holder may.
	bob := e.user("bob", "")
	e.add(domain.GroupAdministratorsID, bob)
	if !e.can(bob, domain.PermServerManage, system) {
		t.Error("bob is not an administrator after being added")
	}
	// Removing one of two: fine; the last one: refused.
	_, _, err = e.svc.RemoveMembers(e.ctx, e.admin, domain.GroupAdministratorsID, []string{bob.UserID})
	e.must(err)
	_, _, err = e.svc.RemoveMembers(e.ctx, e.admin, domain.GroupAdministratorsID, []string{e.admin.UserID})
	wantKind(t, err, domain.KindConflict, "R3")
	// Disabling or deleting the last administrator is refused too.
	e.add(domain.GroupAdministratorsID, bob)
	_, _, err = e.svc.SetUserStatus(e.ctx, bob, e.admin.UserID, domain.UserDisabled)
	e.must(err)
	_, _, err = e.svc.SetUserStatus(e.ctx, e.admin, bob.UserID, domain.UserDisabled)
	wantKind(t, err, domain.KindNotFound) // admin is disabled now: holds nothing, sees nobody
	_, err = e.svc.DeleteUser(e.ctx, bob, e.admin.UserID)
	e.must(err)
	_, _, err = e.svc.RemoveMembers(e.ctx, bob, domain.GroupAdministratorsID, []string{bob.UserID})
	wantKind(t, err, domain.KindConflict, "R3")
}

func TestR4EveryoneMemberListIsNotEditable(t *testing.T) {
	e := newEnv(t)
	u := e.user("u", "")
	_, _, err := e.svc.AddMembers(e.ctx, e.admin, domain.GroupEveryoneID, []service.MemberInput{{UserID: u.UserID}})
	wantKind(t, err, domain.KindInvalid, "R4")
	_, _, err = e.svc.RemoveMembers(e.ctx, e.admin, domain.GroupEveryoneID, []string{u.UserID})
	wantKind(t, err, domain.KindInvalid, "R4")
}

func TestR5PublicHasNoMembersAndNoSystemPermission(t *testing.T) {
	e := newEnv(t)
	u := e.user("u", "")
	_, _, err := e.svc.AddMembers(e.ctx, e.admin, domain.GroupPublicID, []service.MemberInput{{UserID: u.UserID}})
	wantKind(t, err, domain.KindInvalid, "R5")
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, e.admin, domain.GroupPublicID, "", []string{domain.PermUsersView})
	wantKind(t, err, domain.KindInvalid, "R5")
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, e.admin, domain.GroupPublicID, domain.RoleSystemMemberID, nil)
	wantKind(t, err, domain.KindInvalid, "R5")

	// Project read rights and folder levels are what Public carries.
	p := e.project("Open data", "")
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, domain.GroupPublicID, p.ID, "", []string{domain.PermProjectRead})
	e.must(err)
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, domain.GroupPublicID, p.ID, "", []string{domain.PermProjectRead, domain.PermProjectWrite})
	wantKind(t, err, domain.KindInvalid, "R5")
	if !e.can(service.Caller{}, domain.PermProjectRead, proj(p.ID)) {
		t.Error("anonymous cannot read the project Public may read")
	}
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "pub", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, f.ID, domain.GroupPublicID, domain.LevelView)
	e.must(err)
	if !e.can(service.Caller{}, "root.read", folder(f.ID)) {
		t.Error("anonymous cannot read the folder Public may view")
	}
}

func TestR7DeletingAnAssignedRoleListsItsHolders(t *testing.T) {
	e := newEnv(t)
	r, _, err := e.svc.CreateRole(e.ctx, e.admin, domain.Role{Name: "Auditor", Scope: domain.ScopeSystem, Permissions: []string{domain.PermAuditView}})
	e.must(err)
	e.user("carol", r.ID)
	g := e.sysGroup("Auditors")
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, e.admin, g.ID, r.ID, nil)
	e.must(err)
	_, err = e.svc.DeleteRole(e.ctx, e.admin, r.ID)
	wantKind(t, err, domain.KindConflict, "R7", "carol", "Auditors")

	// Built-in roles are not deletable; System Administrator not editable.
	_, err = e.svc.DeleteRole(e.ctx, e.admin, domain.RoleViewerID)
	wantKind(t, err, domain.KindInvalid)
	name := "SA"
	_, _, err = e.svc.UpdateRole(e.ctx, e.admin, domain.RoleSystemAdministratorID, service.RoleUpdate{Name: &name})
	wantKind(t, err, domain.KindInvalid)

	// Unassigned, it goes.
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, e.admin, g.ID, "", nil)
	e.must(err)
	u, _ := e.st.GetUserByUsername(e.ctx, "carol")
	_, _, err = e.svc.SetUserSystemRole(e.ctx, e.admin, u.ID, "")
	e.must(err)
	e.must(errOf(e.svc.DeleteRole(e.ctx, e.admin, r.ID)))
}

func TestR9RequirementsAreCheckedOnRoleAndCheckboxesTogether(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Helpers")
	_, _, err := e.svc.SetGroupSystemGrants(e.ctx, e.admin, g.ID, "", []string{domain.PermGroupsMembers})
	wantKind(t, err, domain.KindInvalid, "users.view", "R9")
	wantField(t, err, "system_permissions")
	// System Member's role brings users.view: the union meets it.
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, e.admin, g.ID, domain.RoleSystemMemberID, []string{domain.PermGroupsMembers})
	e.must(err)
	// groups.edit requires roles.view (R9, creating or editing groups).
	_, _, err = e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Editors", Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermGroupsEdit}})
	wantKind(t, err, domain.KindInvalid, "roles.view")
	// Project rights: write requires read.
	p := e.project("P", "")
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, g.ID, p.ID, "", nil) // not imported yet
	wantKind(t, err, domain.KindInvalid, "import it first")
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p.ID})
	e.must(err)
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, g.ID, p.ID, "", []string{domain.PermProjectWrite})
	wantKind(t, err, domain.KindInvalid, "project.read")
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, g.ID, p.ID, domain.RoleViewerID, []string{domain.PermProjectWrite})
	e.must(err)
	// Roles are checked on their own.
	_, _, err = e.svc.CreateRole(e.ctx, e.admin, domain.Role{Name: "Bad", Scope: domain.ScopeProject, Permissions: []string{domain.PermProjectAddSeries}})
	wantKind(t, err, domain.KindInvalid, "project.read")
}

func TestR21WhoMayDoWhat(t *testing.T) {
	e := newEnv(t)
	nobody := e.user("nobody", "")
	viewer := e.user("viewer", domain.RoleSystemMemberID) // groups.view, no groups.edit
	g := e.sysGroup("Radiologists")

	// Without groups.view a group is not found, and the list is refused.
	_, err := e.svc.GetGroup(e.ctx, nobody, g.ID)
	wantKind(t, err, domain.KindNotFound)
	_, err = e.svc.ListGroups(e.ctx, nobody, service.ListQuery{})
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsView)
	_, _, err = e.svc.AddMembers(e.ctx, nobody, g.ID, []service.MemberInput{{UserID: nobody.UserID}})
	wantKind(t, err, domain.KindNotFound)

	// With groups.view: visible, but not editable.
	if _, err := e.svc.GetGroup(e.ctx, viewer, g.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.CreateGroup(e.ctx, viewer, domain.Group{Name: "X", Scope: domain.ScopeSystem})
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsEdit)
	e.wantDeniedAudit(viewer, "group.create")
	_, _, err = e.svc.DeleteGroup(e.ctx, viewer, g.ID, service.DeleteGroupOptions{Confirm: true})
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsDelete)
	_, _, err = e.svc.AddMembers(e.ctx, viewer, g.ID, []service.MemberInput{{UserID: viewer.UserID}})
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsMembers)
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "images", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	_, _, err = e.svc.SetFolderLevel(e.ctx, viewer, f.ID, g.ID, domain.LevelView)
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsEdit, domain.PermFilesAdmin)

	// files.admin alone may set folder levels.
	files := e.sysGroup("File admins", domain.PermFilesAdmin)
	fa := e.user("filer", "")
	e.add(files.ID, fa)
	_, _, err = e.svc.SetFolderLevel(e.ctx, fa, f.ID, g.ID, domain.LevelEdit)
	e.must(err)
}

// R21's delegation [S2]: project.moderate on P administers P's own groups,
// their members and P's individual rights, and nothing outside P.
func TestR21ProjectModeratorAdministersOnlyTheirProject(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", "")
	q := e.project("Q", "")
	mod := e.user("mod", "")
	alice := e.user("alice", "")
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, mod.UserID, p.ID, domain.RoleModeratorID, nil)
	e.must(err)

	g, _, err := e.svc.CreateGroup(e.ctx, mod, domain.Group{Name: "Readers", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, mod, g.ID, p.ID, domain.RoleEditorID, nil)
	e.must(err)
	_, _, err = e.svc.AddMembers(e.ctx, mod, g.ID, []service.MemberInput{{UserID: alice.UserID}})
	e.must(err)
	if !e.can(alice, domain.PermProjectWrite, proj(p.ID)) {
		t.Error("alice cannot write P after the moderator added her")
	}
	_, _, err = e.svc.SetUserProjectRights(e.ctx, mod, alice.UserID, p.ID, domain.RoleViewerID, nil)
	e.must(err)
	page, err := e.svc.ListGroups(e.ctx, mod, service.ListQuery{ProjectID: p.ID, Scope: domain.ScopeProject})
	e.must(err)
	if len(page.Items) != 1 {
		t.Errorf("moderator lists %d groups of P, want 1", len(page.Items))
	}

	// Nothing outside P.
	_, _, err = e.svc.CreateGroup(e.ctx, mod, domain.Group{Name: "Qs", Scope: domain.ScopeProject, ProjectID: q.ID})
	wantKind(t, err, domain.KindForbidden)
	_, _, err = e.svc.CreateGroup(e.ctx, mod, domain.Group{Name: "Sys", Scope: domain.ScopeSystem})
	wantKind(t, err, domain.KindForbidden)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, mod, alice.UserID, q.ID, domain.RoleViewerID, nil)
	wantKind(t, err, domain.KindForbidden)
	qg, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Qs", Scope: domain.ScopeProject, ProjectID: q.ID})
	e.must(err)
	_, _, err = e.svc.AddMembers(e.ctx, mod, qg.ID, []service.MemberInput{{UserID: alice.UserID}})
	wantKind(t, err, domain.KindNotFound)
	_, err = e.svc.ListGroups(e.ctx, mod, service.ListQuery{ProjectID: q.ID})
	wantKind(t, err, domain.KindForbidden)
	e.wantDeniedAudit(mod, "group.create")
}

// R22: the four escalations of the issue, each refused and audited.
func TestR22NoEscalation(t *testing.T) {
	e := newEnv(t)
	mgr := e.user("manager", domain.RoleSystemManagerID)
	victim := e.user("victim", "")

	t.Run("System Manager assigns System Administrator", func(t *testing.T) {
		_, _, err := e.svc.SetUserSystemRole(e.ctx, mgr, victim.UserID, domain.RoleSystemAdministratorID)
		wantKind(t, err, domain.KindForbidden, domain.PermRolesAssignAdmin)
		e.wantDeniedAudit(mgr, "user.set_role")
		_, _, err = e.svc.SetUserSystemRole(e.ctx, mgr, mgr.UserID, domain.RoleITAdministratorID)
		wantKind(t, err, domain.KindForbidden, domain.PermRolesAssignAdmin)
	})
	t.Run("role with a permission the caller lacks", func(t *testing.T) {
		roleAdmin := e.sysGroup("Role editors", domain.PermRolesEdit, domain.PermUsersView)
		ed := e.user("roleeditor", "")
		e.add(roleAdmin.ID, ed)
		_, _, err := e.svc.CreateRole(e.ctx, ed, domain.Role{Name: "Sneaky", Scope: domain.ScopeSystem, Permissions: []string{domain.PermUsersView, domain.PermFilesAdmin}})
		wantKind(t, err, domain.KindForbidden, domain.PermFilesAdmin, "R22")
		e.wantDeniedAudit(ed, "role.create")
		r, _, err := e.svc.CreateRole(e.ctx, ed, domain.Role{Name: "Viewer of users", Scope: domain.ScopeSystem, Permissions: []string{domain.PermUsersView}})
		e.must(err)
		perms := []string{domain.PermUsersView, domain.PermAuditView}
		_, _, err = e.svc.UpdateRole(e.ctx, ed, r.ID, service.RoleUpdate{Permissions: &perms})
		wantKind(t, err, domain.KindForbidden, domain.PermAuditView)
		e.wantDeniedAudit(ed, "role.update")
	})
	t.Run("rule granting more than the caller holds", func(t *testing.T) {
		ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Study", Contexts: []string{"root", "data"}, Properties: []string{"indication"}})
		e.must(err)
		g := e.sysGroup("Study team")
		_, _, err = e.svc.CreateRule(e.ctx, mgr, domain.Rule{GroupID: g.ID, Name: "all data",
			Criteria: []domain.Criterion{{FolderTypeID: ft.ID, Property: "indication", Operator: domain.OpExists}},
			Grants:   map[string][]string{"data": {"read", "edit"}}})
		wantKind(t, err, domain.KindForbidden, domain.PermFilesAdmin, "R22")
		e.wantDeniedAudit(mgr, "rule.create")
	})
	t.Run("membership granting more than the caller holds", func(t *testing.T) {
		g := e.sysGroup("Auditors", domain.PermAuditView)
		_, _, err := e.svc.AddMembers(e.ctx, mgr, g.ID, []service.MemberInput{{UserID: mgr.UserID}})
		wantKind(t, err, domain.KindForbidden, domain.PermAuditView, "R22")
		e.wantDeniedAudit(mgr, "group.member_add")
		plain := e.sysGroup("Plain")
		_, _, err = e.svc.AddMembers(e.ctx, mgr, plain.ID, []service.MemberInput{{UserID: victim.UserID}})
		e.must(err)
	})
	t.Run("checkbox the caller lacks", func(t *testing.T) {
		g := e.sysGroup("Mine")
		_, _, err := e.svc.SetGroupSystemGrants(e.ctx, mgr, g.ID, "", []string{domain.PermServerManage})
		wantKind(t, err, domain.KindForbidden, domain.PermServerManage)
		_, _, err = e.svc.SetGroupSystemGrants(e.ctx, mgr, g.ID, "", []string{domain.PermUsersView})
		e.must(err)
	})
	t.Run("project rights the caller lacks there", func(t *testing.T) {
		p := e.project("Trial", "")
		mod := e.user("trialmod", "")
		_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, mod.UserID, p.ID, domain.RoleViewerID, nil)
		e.must(err)
		_, _, err = e.svc.SetUserProjectRights(e.ctx, mgr, victim.UserID, p.ID, domain.RoleEditorID, nil)
		wantKind(t, err, domain.KindForbidden, domain.PermProjectWrite)
	})
	t.Run("folder level above the caller's", func(t *testing.T) {
		f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "scans", TypeID: domain.FolderTypeFolderID})
		e.must(err)
		g := e.sysGroup("Scanners")
		mine := e.sysGroup("Manager's")
		e.add(mine.ID, mgr)
		_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, f.ID, mine.ID, domain.LevelDownload)
		e.must(err)
		_, _, err = e.svc.SetFolderLevel(e.ctx, mgr, f.ID, g.ID, domain.LevelEdit)
		wantKind(t, err, domain.KindForbidden, "root.edit", "R22")
		_, _, err = e.svc.SetFolderLevel(e.ctx, mgr, f.ID, g.ID, domain.LevelDownload)
		e.must(err)
	})
	t.Run("acting on a more powerful user", func(t *testing.T) {
		_, err := e.svc.SetPassword(e.ctx, mgr, e.admin.UserID, "new-password-1")
		wantKind(t, err, domain.KindForbidden, domain.PermServerManage)
		e.wantDeniedAudit(mgr, "user.set_password")
	})
	if e.can(mgr, domain.PermAuditView, system) || e.can(mgr, domain.PermFilesAdmin, system) {
		t.Error("the manager escalated")
	}
}

func TestR23ExclusiveProjects(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeExclusive)
	a, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Monitors", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	b, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Investigators", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, a.ID, p.ID, domain.RoleViewerID, nil)
	e.must(err)
	u := e.user("u", "")
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, u.UserID, p.ID, domain.RoleEditorID, nil)
	e.must(err)

	// Joining drops the individual rights; the row stays.
	res := e.add(a.ID, u)
	if len(res.RightsDropped) != 1 || res.RightsDropped[0].ProjectID != p.ID {
		t.Errorf("RightsDropped = %+v", res.RightsDropped)
	}
	row, ok := e.individualRow(u.UserID, p.ID)
	if !ok || row.RoleID != "" || len(row.Permissions) != 0 {
		t.Errorf("individual row after joining = %+v, %v; want kept and empty", row, ok)
	}
	if e.can(u, domain.PermProjectWrite, proj(p.ID)) || !e.can(u, domain.PermProjectRead, proj(p.ID)) {
		t.Error("u's rights in the exclusive project are not the group's")
	}

	// A second group is refused, naming the first.
	_, _, err = e.svc.AddMembers(e.ctx, e.admin, b.ID, []service.MemberInput{{UserID: u.UserID}})
	wantKind(t, err, domain.KindConflict, "Monitors", "R23")
	// Individual rights cannot be given back while in the group.
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, u.UserID, p.ID, domain.RoleEditorID, nil)
	wantKind(t, err, domain.KindConflict, "R23")

	// Switching a project to exclusive is refused while someone is in two groups.
	m := e.project("Multi", "")
	x, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "X", Scope: domain.ScopeProject, ProjectID: m.ID})
	e.must(err)
	y := e.sysGroup("Y")
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, y.ID, []string{m.ID})
	e.must(err)
	e.add(x.ID, u)
	e.add(y.ID, u)
	excl := domain.ModeExclusive
	_, _, err = e.svc.UpdateProject(e.ctx, e.admin, m.ID, service.ProjectUpdate{MembershipMode: &excl})
	wantKind(t, err, domain.KindConflict, "u (X, Y)", "R23")
	wantField(t, err, "membership_mode")
	_, _, err = e.svc.RemoveMembers(e.ctx, e.admin, y.ID, []string{u.UserID})
	e.must(err)
	_, _, err = e.svc.UpdateProject(e.ctx, e.admin, m.ID, service.ProjectUpdate{MembershipMode: &excl})
	e.must(err)
	// Importing a group whose member is already in another group there is refused.
	z := e.sysGroup("Z")
	e.add(z.ID, u)
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, z.ID, []string{p.ID})
	wantKind(t, err, domain.KindConflict, "Monitors", "R23")
}

func TestR24AddingToASystemGroupListsItsProjects(t *testing.T) {
	e := newEnv(t)
	p1 := e.project("P1", "")
	p2 := e.project("P2", "")
	e.project("P3", "")
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Reviewers", Scope: domain.ScopeSystem, DefaultProjectRoleID: domain.RoleViewerID})
	e.must(err)
	imported, _, err := e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p1.ID, p2.ID})
	e.must(err)
	if len(imported) != 2 {
		t.Fatalf("imported into %v", imported)
	}
	u := e.user("u", "")
	res := e.add(g.ID, u)
	var names []string
	for _, p := range res.Projects {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"P1", "P2"}) {
		t.Errorf("projects in the answer = %v, want [P1 P2]", names)
	}
	if !e.can(u, domain.PermProjectRead, proj(p1.ID)) || !e.can(u, domain.PermProjectRead, proj(p2.ID)) {
		t.Error("u cannot read the projects the group is present in")
	}
	if a := e.audits("group.member_add", domain.OutcomeSuccess); len(a) == 0 || !contains(a[0].Detail, "P1") {
		t.Errorf("audit of the add does not list the projects: %+v", a)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestR25RemovedMembersKeepProjectMembership(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", "")
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Team", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, g.ID, p.ID, domain.RoleEditorID, nil)
	e.must(err)
	u := e.user("u", "")
	e.add(g.ID, u)
	res, _, err := e.svc.RemoveMembers(e.ctx, e.admin, g.ID, []string{u.UserID})
	e.must(err)
	if len(res.Projects) != 1 || res.Projects[0].ID != p.ID {
		t.Errorf("affected projects = %+v", res.Projects)
	}
	row, ok := e.individualRow(u.UserID, p.ID)
	if !ok || row.RoleID != "" || len(row.Permissions) != 0 {
		t.Errorf("after removal, row = %+v, %v; want an empty individual row (still a member)", row, ok)
	}
	if e.can(u, domain.PermProjectRead, proj(p.ID)) {
		t.Error("u keeps rights from the group")
	}
}

func TestR26DeletingAProjectGroupKeepsOrRemovesUsers(t *testing.T) {
	for _, opt := range []string{"", service.KeepUsers, service.RemoveUsers} {
		t.Run("option="+opt, func(t *testing.T) {
			e := newEnv(t)
			p := e.project("P", "")
			g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Team", Scope: domain.ScopeProject, ProjectID: p.ID})
			e.must(err)
			u, w := e.user("u", ""), e.user("w", "")
			_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, w.UserID, p.ID, domain.RoleViewerID, nil)
			e.must(err)
			e.add(g.ID, u, w)
			res, _, err := e.svc.DeleteGroup(e.ctx, e.admin, g.ID, service.DeleteGroupOptions{Members: opt})
			e.must(err)
			if len(res.Users) != 2 {
				t.Errorf("answer users = %v", res.Users)
			}
			_, uRow := e.individualRow(u.UserID, p.ID)
			_, wRow := e.individualRow(w.UserID, p.ID)
			keep := opt != service.RemoveUsers
			if uRow != keep || wRow != keep {
				t.Errorf("rows after delete: u %v, w %v; want %v", uRow, wRow, keep)
			}
		})
	}
}

func TestR27RemovingASystemGroupFromProjectsNeedsConfirmation(t *testing.T) {
	e := newEnv(t)
	p1, p2 := e.project("P1", ""), e.project("P2", "")
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Sys", Scope: domain.ScopeSystem, DefaultProjectRoleID: domain.RoleViewerID})
	e.must(err)
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p1.ID, p2.ID})
	e.must(err)
	u, keeper := e.user("u", ""), e.user("keeper", "")
	e.add(g.ID, u, keeper)
	// u left once and came back: an empty individual row in P1.
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, u.UserID, p1.ID, "", nil)
	e.must(err)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, keeper.UserID, p1.ID, domain.RoleEditorID, nil)
	e.must(err)

	_, _, err = e.svc.RemoveGroupFromProjects(e.ctx, e.admin, g.ID, []string{p1.ID}, false)
	wantKind(t, err, domain.KindInvalid, "R27")
	wantField(t, err, "confirm")
	res, _, err := e.svc.RemoveGroupFromProjects(e.ctx, e.admin, g.ID, []string{p1.ID}, true)
	e.must(err)
	if len(res.Projects) != 1 || !slices.Equal(res.Users, []string{u.UserID}) {
		t.Errorf("answer = %+v", res)
	}
	if _, ok := e.individualRow(u.UserID, p1.ID); ok || e.can(u, domain.PermProjectRead, proj(p1.ID)) {
		t.Error("u is still in P1")
	}
	if !e.can(keeper, domain.PermProjectWrite, proj(p1.ID)) {
		t.Error("keeper lost individual rights given personally")
	}
	if !e.can(u, domain.PermProjectRead, proj(p2.ID)) {
		t.Error("u lost P2")
	}

	// Deleting a system group needs the confirmation too.
	_, _, err = e.svc.DeleteGroup(e.ctx, e.admin, g.ID, service.DeleteGroupOptions{})
	wantKind(t, err, domain.KindInvalid, "R27")
	del, _, err := e.svc.DeleteGroup(e.ctx, e.admin, g.ID, service.DeleteGroupOptions{Confirm: true})
	e.must(err)
	if len(del.Projects) != 1 || del.Projects[0].ID != p2.ID {
		t.Errorf("deleted group was present in %+v", del.Projects)
	}
	if e.can(u, domain.PermProjectRead, proj(p2.ID)) {
		t.Error("u still reads P2 after the group was deleted")
	}
}

func TestR28ListingMembers(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeExclusive)
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Site A", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	other, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Site B", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	var users []service.Caller
	for _, n := range []string{"delta", "alpha", "charlie", "bravo"} {
		users = append(users, e.user(n, domain.RoleSystemMemberID))
	}
	e.add(g.ID, users[0], users[1], users[2]) // delta, alpha, charlie
	e.add(other.ID, users[3])                 // bravo

	names := func(q service.MemberQuery) []string {
		t.Helper()
		page, err := e.svc.ListMembers(e.ctx, e.admin, g.ID, q)
		e.must(err)
		var out []string
		for _, r := range page.Items {
			out = append(out, r.User.Username)
		}
		return out
	}
	if got := names(service.MemberQuery{}); !slices.Equal(got, []string{"alpha", "charlie", "delta"}) {
		t.Errorf("default order = %v", got)
	}
	if got := names(service.MemberQuery{Order: service.OrderDesc}); !slices.Equal(got, []string{"delta", "charlie", "alpha"}) {
		t.Errorf("desc = %v", got)
	}
	if got := names(service.MemberQuery{Order: service.OrderNone}); !slices.Equal(got, []string{"delta", "alpha", "charlie"}) {
		t.Errorf("none (creation order) = %v", got)
	}
	if got := names(service.MemberQuery{Search: "CHAR"}); !slices.Equal(got, []string{"charlie"}) {
		t.Errorf("search = %v", got)
	}
	if got := names(service.MemberQuery{Sort: "email", Order: service.OrderDesc}); !slices.Equal(got, []string{"delta", "charlie", "alpha"}) {
		t.Errorf("by email desc = %v", got)
	}
	_, _, err = e.svc.SetUserSystemRole(e.ctx, e.admin, users[2].UserID, domain.RoleSystemManagerID) // charlie
	e.must(err)
	if got := names(service.MemberQuery{Sort: "role"}); !slices.Equal(got, []string{"charlie", "alpha", "delta"}) {
		t.Errorf("by role = %v; want System Manager before System Member, then by username", got)
	}
	if got := names(service.MemberQuery{Sort: "role", Order: service.OrderDesc}); !slices.Equal(got, []string{"delta", "alpha", "charlie"}) {
		t.Errorf("by role desc = %v", got)
	}
	_, err = e.svc.ListMembers(e.ctx, e.admin, g.ID, service.MemberQuery{Order: "sideways"})
	wantKind(t, err, domain.KindInvalid)

	page, err := e.svc.ListMembers(e.ctx, e.admin, g.ID, service.MemberQuery{AllUsers: true})
	e.must(err)
	for _, r := range page.Items {
		switch r.User.Username {
		case "alpha":
			if !r.Member || r.RoleName != "System Member" || r.Email != "alpha@example.org" {
				t.Errorf("alpha row = %+v", r)
			}
		case "bravo":
			if r.Member || len(r.CurrentGroups) != 1 || r.CurrentGroups[0].GroupName != "Site B" {
				t.Errorf("bravo row = %+v; want not a member, current group Site B", r)
			}
		}
	}
}

func TestR29EveryChangeIsAuditedWithBeforeAndAfter(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Old name")
	name := "New name"
	_, _, err := e.svc.UpdateGroup(e.ctx, e.admin, g.ID, service.GroupUpdate{Name: &name})
	e.must(err)
	a := e.audits("group.update", domain.OutcomeSuccess)
	if len(a) != 1 {
		t.Fatalf("%d group.update records", len(a))
	}
	var before, after domain.Group
	e.must(json.Unmarshal(a[0].Before, &before))
	e.must(json.Unmarshal(a[0].After, &after))
	if before.Name != "Old name" || after.Name != "New name" || a[0].ActorID != e.admin.UserID || a[0].TargetID != g.ID || a[0].RemoteAddr != "127.0.0.1" {
		t.Errorf("audit record = %+v", a[0])
	}
	if a[0].Revision != e.svc.Follower().Revision() {
		t.Errorf("audit revision %d, engine at %d", a[0].Revision, e.svc.Follower().Revision())
	}
	// The password hash never reaches the audit log.
	u := e.user("u", "")
	e.must(errOf(e.svc.SetPassword(e.ctx, u, u.UserID, "a-long-password-1")))
	page, err := e.svc.ListAudit(e.ctx, e.admin, service.AuditQuery{TargetID: u.UserID})
	e.must(err)
	stored, _ := e.st.GetUser(e.ctx, u.UserID)
	for _, ev := range page.Items {
		if contains(string(ev.After), stored.PasswordHash) || contains(string(ev.Before), stored.PasswordHash) {
			t.Error("password hash in the audit log")
		}
	}
	// Reading the audit log needs audit.view.
	_, err = e.svc.ListAudit(e.ctx, u, service.AuditQuery{})
	wantKind(t, err, domain.KindForbidden, domain.PermAuditView)
	_ = time.Now
}

// R22 both ways: a lesser administrator can neither raise a grant above
// their own nor strip one that reaches beyond it.
func TestR22NoStrippingWhatYouDoNotHold(t *testing.T) {
	e := newEnv(t)
	mgr := e.user("manager", domain.RoleSystemManagerID)
	files := e.sysGroup("File admins", domain.PermFilesAdmin)
	filer := e.user("filer", "")
	e.add(files.ID, filer)

	_, _, err := e.svc.SetGroupSystemGrants(e.ctx, mgr, files.ID, "", nil)
	wantKind(t, err, domain.KindForbidden, domain.PermFilesAdmin)
	_, _, err = e.svc.RemoveMembers(e.ctx, mgr, files.ID, []string{filer.UserID})
	wantKind(t, err, domain.KindForbidden, domain.PermFilesAdmin)
	e.wantDeniedAudit(mgr, "group.member_remove")
	_, _, err = e.svc.DeleteGroup(e.ctx, mgr, files.ID, service.DeleteGroupOptions{Confirm: true})
	wantKind(t, err, domain.KindForbidden, domain.PermFilesAdmin)
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, mgr, domain.GroupAdministratorsID, "", nil)
	wantKind(t, err, domain.KindInvalid, "R3")
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, e.admin, domain.GroupAdministratorsID, "", nil)
	wantKind(t, err, domain.KindInvalid, "R3")
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, e.admin, domain.GroupAdministratorsID, domain.RoleITAdministratorID, nil)
	e.must(err)
	if !e.can(filer, domain.PermFilesAdmin, system) || !e.can(e.admin, domain.PermServerManage, system) {
		t.Error("a refused change took access away")
	}
}

// A caller who may not see a group gets not_found, and the attempt is
// audited all the same.
func TestR21InvisibleIsNotFoundAndAudited(t *testing.T) {
	e := newEnv(t)
	nobody := e.user("nobody", "")
	g := e.sysGroup("Hidden")
	_, _, err := e.svc.DeleteGroup(e.ctx, nobody, g.ID, service.DeleteGroupOptions{Confirm: true})
	wantKind(t, err, domain.KindNotFound)
	e.wantDeniedAudit(nobody, "group.delete")
	_, err = e.svc.GetRole(e.ctx, nobody, domain.RoleViewerID)
	wantKind(t, err, domain.KindNotFound)
}

// Resetting a disabled administrator's password, then enabling them,
// would hand a lesser administrator the account: both are refused.
func TestR22DisabledAdministratorIsStillOutranking(t *testing.T) {
	e := newEnv(t)
	mgr := e.user("manager", domain.RoleSystemManagerID)
	bob := e.user("bob", "")
	e.add(domain.GroupAdministratorsID, bob)
	_, _, err := e.svc.SetUserStatus(e.ctx, e.admin, bob.UserID, domain.UserDisabled)
	e.must(err)
	_, err = e.svc.SetPassword(e.ctx, mgr, bob.UserID, "taken-over-123")
	wantKind(t, err, domain.KindForbidden, domain.PermServerManage)
	_, _, err = e.svc.SetUserStatus(e.ctx, mgr, bob.UserID, domain.UserActive)
	wantKind(t, err, domain.KindForbidden, domain.PermServerManage)
}

func TestR22ProjectModeratorIsNotTakenOverByUsersEdit(t *testing.T) {
	e := newEnv(t)
	mgr := e.user("manager", domain.RoleSystemManagerID)
	p := e.project("P", "")
	mod := e.user("mod", "")
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, mod.UserID, p.ID, domain.RoleModeratorID, nil)
	e.must(err)
	_, err = e.svc.SetPassword(e.ctx, mgr, mod.UserID, "taken-over-123")
	wantKind(t, err, domain.KindForbidden, domain.PermProjectModerate+" on project "+p.ID)
	// Someone who holds no more than the manager is fine.
	plain := e.user("plain", "")
	e.must(errOf(e.svc.SetPassword(e.ctx, mgr, plain.UserID, "a-new-password-1")))
}

// R9 applied to the caller [S5]: a groups.members holder without
// users.view (possible only in data not written by the service) may not
// manage members.
func TestR9CallerNeedsWhatTheirPermissionRequires(t *testing.T) {
	e := newEnv(t)
	g := domain.Group{ID: domain.NewID(), Name: "Odd", Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermGroupsMembers}}
	_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &g); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "test", Action: "test.seed", Outcome: domain.OutcomeSuccess})
	})
	e.must(err)
	e.must(e.svc.Follower().CatchUp(e.ctx, 0))
	odd := e.user("odd", "")
	e.add(g.ID, odd)
	target := e.sysGroup("Target")
	_, _, err = e.svc.AddMembers(e.ctx, odd, target.ID, []service.MemberInput{{UserID: odd.UserID}})
	wantKind(t, err, domain.KindForbidden, domain.PermUsersView, "R9")
}
