package service_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Named tests for the bounds mutation testing found unpinned: each pins
// one rule at the layer that owns it.

// R21: each write names the permission it needs when the caller has none.
func TestR21WritesNameThePermissionTheyNeed(t *testing.T) {
	e := newEnv(t)
	nobody := e.user("nobody", "")
	g := e.sysGroup("G")
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "top", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	role, _, err := e.svc.CreateRole(e.ctx, e.admin, domain.Role{Name: "R", Scope: domain.ScopeSystem, Permissions: []string{domain.PermUsersView}})
	e.must(err)
	target := e.user("target", "")
	name := "H"
	for _, c := range []struct {
		what, perm string
		call       func() error
	}{
		{"create a user", domain.PermUsersEdit, func() error {
			_, _, err := e.svc.CreateUser(e.ctx, nobody, service.NewUser{Username: "x"})
			return err
		}},
		{"create a project", domain.PermProjectCreate, func() error {
			_, _, err := e.svc.CreateProject(e.ctx, nobody, domain.Project{Name: "P"})
			return err
		}},
		{"create a role", domain.PermRolesEdit, func() error {
			_, _, err := e.svc.CreateRole(e.ctx, nobody, domain.Role{Name: "S", Scope: domain.ScopeSystem})
			return err
		}},
		{"delete a role", domain.PermRolesDelete, func() error { return errOf(e.svc.DeleteRole(e.ctx, nobody, role.ID)) }},
		{"create a folder", domain.PermFilesAdmin, func() error {
			_, _, err := e.svc.CreateFolder(e.ctx, nobody, domain.Folder{Name: "x", TypeID: domain.FolderTypeFolderID})
			return err
		}},
		{"disable a user", domain.PermUsersEdit, func() error {
			_, _, err := e.svc.SetUserStatus(e.ctx, nobody, target.UserID, domain.UserDisabled)
			return err
		}},
		{"delete a user", domain.PermUsersDelete, func() error { return errOf(e.svc.DeleteUser(e.ctx, nobody, target.UserID)) }},
		{"set a password", domain.PermUsersEdit, func() error { return errOf(e.svc.SetPassword(e.ctx, nobody, target.UserID, "a-long-pass-phrase")) }},
		{"set a level", domain.PermGroupsEdit, func() error {
			_, _, err := e.svc.SetFolderLevel(e.ctx, nobody, f.ID, g.ID, domain.LevelView)
			return err
		}},
	} {
		err := c.call()
		if !domain.Is(err, domain.KindForbidden) && !domain.Is(err, domain.KindNotFound) {
			t.Errorf("%s with no permission: err %v, want forbidden or not found", c.what, err)
			continue
		}
		if domain.Is(err, domain.KindForbidden) && !contains(err.Error(), c.perm) {
			t.Errorf("%s: %q does not name %s", c.what, err, c.perm)
		}
	}
	// Renaming a group the caller may not see is not found, as if absent.
	if _, _, err := e.svc.UpdateGroup(e.ctx, nobody, g.ID, service.GroupUpdate{Name: &name}); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("rename an invisible group: %v, want not found", err)
	}
}

// R22: editing a project role bounds the caller on every project where
// the role is used, not only where they moderate.
func TestR22ProjectRoleEditsAreBoundedWhereverTheRoleIsUsed(t *testing.T) {
	e := newEnv(t)
	p1, p2 := e.project("P1", domain.ModeMultiple), e.project("P2", domain.ModeMultiple)
	role, _, err := e.svc.CreateRole(e.ctx, e.admin, domain.Role{Name: "Readers", Scope: domain.ScopeProject, Permissions: []string{domain.PermProjectRead}})
	e.must(err)
	u := e.user("u", "")
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, u.UserID, p2.ID, role.ID, nil)
	e.must(err)
	editor := e.user("editor", "")
	e.add(e.sysGroup("Role editors", domain.PermRolesView, domain.PermRolesEdit).ID, editor)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, editor.UserID, p1.ID, domain.RoleModeratorID, nil)
	e.must(err)
	keys := []string{domain.PermProjectRead, domain.PermProjectWrite}
	_, _, err = e.svc.UpdateRole(e.ctx, editor, role.ID, service.RoleUpdate{Permissions: &keys})
	e.refused(err, domain.KindForbidden, "project.write on project "+p2.ID)
}

// R22: lowering a group's level takes away what the old level gave; the
// caller must hold it, not only the new level.
func TestR22LoweringALevelNeedsTheLevelItReplaces(t *testing.T) {
	e := newEnv(t)
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "scans", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	editors := e.sysGroup("Editors")
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, f.ID, editors.ID, domain.LevelEdit)
	e.must(err)
	viewer := e.user("viewer", "")
	own := e.sysGroup("Level setters", domain.PermRolesView, domain.PermGroupsEdit)
	e.add(own.ID, viewer)
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, f.ID, own.ID, domain.LevelView)
	e.must(err)
	_, _, err = e.svc.SetFolderLevel(e.ctx, viewer, f.ID, editors.ID, domain.LevelView)
	e.refused(err, domain.KindForbidden, "root.edit on folder /scans")
	// Within what they hold: a group without an entry gets view.
	other := e.sysGroup("Others")
	_, _, err = e.svc.SetFolderLevel(e.ctx, viewer, f.ID, other.ID, domain.LevelView)
	e.must(err)
}

// R22: a user holding one permission more than the caller is out of
// reach, and the refusal names exactly that one.
func TestR22ActingOnAUserWhoHoldsOnePermissionMore(t *testing.T) {
	e := newEnv(t)
	helpdesk := e.user("helpdesk", "")
	e.add(e.sysGroup("Helpdesk", domain.PermUsersView, domain.PermUsersEdit).ID, helpdesk)
	target := e.user("target", "")
	e.add(e.sysGroup("Auditors", domain.PermUsersView, domain.PermUsersEdit, domain.PermAuditView).ID, target)
	_, _, err := e.svc.SetUserStatus(e.ctx, helpdesk, target.UserID, domain.UserDisabled)
	e.refused(err, domain.KindForbidden, "missing permission audit.view: the user holds it")
	peer := e.user("peer", "")
	e.add(e.sysGroup("Helpdesk 2", domain.PermUsersView, domain.PermUsersEdit).ID, peer)
	_, _, err = e.svc.SetUserStatus(e.ctx, helpdesk, peer.UserID, domain.UserDisabled)
	e.must(err)
}
