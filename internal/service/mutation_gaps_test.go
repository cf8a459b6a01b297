package service_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Tests for what mutation testing found unpinned in the service
// (docs/testing.md, "Mutation testing"): each pins one rule, through the
// service, with the exact outcome.

// TestR21ACallerWhoSeesButMayNotWriteIsToldThePermission: a caller who
// may see the object (so the refusal is not "not found") and lacks the
// write's permission is refused with exactly that permission named, and
// the refusal writes nothing but its denied audit record.
func TestR21ACallerWhoSeesButMayNotWriteIsToldThePermission(t *testing.T) {
	e := newEnv(t)
	seer := e.user("seer", "")
	e.add(e.sysGroup("Seers", domain.PermUsersView, domain.PermGroupsView, domain.PermRolesView).ID, seer)
	g := e.sysGroup("G")
	target := e.user("target", "")
	p := e.project("P", domain.ModeMultiple)
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, seer.UserID, p.ID, domain.RoleViewerID, nil)
	e.must(err)
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "top", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	role, _, err := e.svc.CreateRole(e.ctx, e.admin, domain.Role{Name: "R", Scope: domain.ScopeSystem, Permissions: []string{domain.PermUsersView}})
	e.must(err)
	name, mode := "H", domain.ModeExclusive
	for _, c := range []struct {
		what, perm string
		call       func() error
	}{
		{"create a user", domain.PermUsersEdit, func() error {
			_, _, err := e.svc.CreateUser(e.ctx, seer, service.NewUser{Username: "x"})
			return err
		}},
		{"disable a user", domain.PermUsersEdit, func() error {
			_, _, err := e.svc.SetUserStatus(e.ctx, seer, target.UserID, domain.UserDisabled)
			return err
		}},
		{"delete a user", domain.PermUsersDelete, func() error { return errOf(e.svc.DeleteUser(e.ctx, seer, target.UserID)) }},
		{"set a password", domain.PermUsersEdit, func() error { return errOf(e.svc.SetPassword(e.ctx, seer, target.UserID, "a-long-pass-phrase")) }},
		{"create a project", domain.PermProjectCreate, func() error {
			_, _, err := e.svc.CreateProject(e.ctx, seer, domain.Project{Name: "Q"})
			return err
		}},
		{"change a project's mode", domain.PermProjectModerate, func() error {
			_, _, err := e.svc.UpdateProject(e.ctx, seer, p.ID, service.ProjectUpdate{MembershipMode: &mode})
			return err
		}},
		{"delete a project", domain.PermProjectDelete, func() error { return errOf(e.svc.DeleteProject(e.ctx, seer, p.ID)) }},
		{"create a role", domain.PermRolesEdit, func() error {
			_, _, err := e.svc.CreateRole(e.ctx, seer, domain.Role{Name: "S", Scope: domain.ScopeSystem})
			return err
		}},
		{"delete a role", domain.PermRolesDelete, func() error { return errOf(e.svc.DeleteRole(e.ctx, seer, role.ID)) }},
		{"create a group", domain.PermGroupsEdit, func() error {
			_, _, err := e.svc.CreateGroup(e.ctx, seer, domain.Group{Name: "New", Scope: domain.ScopeSystem})
			return err
		}},
		{"rename a group", domain.PermGroupsEdit, func() error {
			_, _, err := e.svc.UpdateGroup(e.ctx, seer, g.ID, service.GroupUpdate{Name: &name})
			return err
		}},
		{"add a member", domain.PermGroupsMembers, func() error {
			_, _, err := e.svc.AddMembers(e.ctx, seer, g.ID, []service.MemberInput{{UserID: target.UserID}})
			return err
		}},
		{"set a level", domain.PermGroupsEdit, func() error {
			_, _, err := e.svc.SetFolderLevel(e.ctx, seer, f.ID, g.ID, domain.LevelView)
			return err
		}},
		{"create a folder", domain.PermFilesAdmin, func() error {
			_, _, err := e.svc.CreateFolder(e.ctx, seer, domain.Folder{Name: "x", TypeID: domain.FolderTypeFolderID})
			return err
		}},
	} {
		rev, denied := e.rev(), len(e.audits("", domain.OutcomeDenied))
		err := c.call()
		if !domain.Is(err, domain.KindForbidden) || !strings.Contains(err.Error(), "missing permission "+c.perm) {
			t.Errorf("%s: err = %v, want forbidden naming %s", c.what, err, c.perm)
		}
		if e.rev() != rev {
			t.Errorf("%s: the refusal moved the revision", c.what)
		}
		if n := len(e.audits("", domain.OutcomeDenied)); n != denied+1 {
			t.Errorf("%s: %d denied audit records written, want 1", c.what, n-denied)
		}
	}
}

// TestR22RefusalNamesUpToFiveMissingPermissions: a refusal names every
// missing permission up to five, and counts the rest beyond five.
func TestR22RefusalNamesUpToFiveMissingPermissions(t *testing.T) {
	e := newEnv(t)
	clerk := e.user("clerk", "")
	e.add(e.sysGroup("Clerks", domain.PermGroupsView, domain.PermGroupsMembers, domain.PermRolesView, domain.PermUsersView).ID, clerk)
	target := e.user("target", "")
	five := []string{domain.PermAuditView, domain.PermProjectCreate, domain.PermProjectDelete, domain.PermStorageView, domain.PermFilesAdmin}
	for _, c := range []struct {
		keys  []string
		named []string // sorted
		more  string
	}{
		{five, []string{"audit.view", "files.admin", "project.create", "project.delete", "storage.view"}, ""},
		{append(five, domain.PermChangesRead), []string{"audit.view", "changes.read", "files.admin", "project.create", "project.delete"}, "; and 1 more"},
	} {
		g := e.sysGroup(fmt.Sprintf("With %d", len(c.keys)), c.keys...)
		why := fmt.Sprintf(` (user "target", membership of group %q)`, g.Name)
		want := "missing permission " + strings.Join(c.named, why+"; ") + why + c.more + ": this change grants"
		_, _, err := e.svc.AddMembers(e.ctx, clerk, g.ID, []service.MemberInput{{UserID: target.UserID}})
		if !domain.Is(err, domain.KindForbidden) || !strings.Contains(err.Error(), want) {
			t.Errorf("joining a group with %v:\n err = %v\nwant forbidden with %q", c.keys, err, want)
		}
	}
}

// TestR21MemberChangesOfAProjectGroupNameModeration: refused a change of
// members, a caller is told what would allow it: groups.members, and for
// a project group also project.moderate on its project.
func TestR21MemberChangesOfAProjectGroupNameModeration(t *testing.T) {
	e := newEnv(t)
	seer := e.user("seer", "")
	e.add(e.sysGroup("Seers", domain.PermGroupsView, domain.PermRolesView, domain.PermUsersView).ID, seer)
	target := e.user("target", "")
	p := e.project("P", domain.ModeMultiple)
	pg, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Team", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	sg := e.sysGroup("Staff")
	for _, c := range []struct {
		group domain.Group
		want  string
	}{
		{pg, "missing permission groups.members, or project.moderate on project " + p.ID + " (R21)"},
		{sg, "missing permission groups.members (R21)"},
	} {
		_, _, err := e.svc.AddMembers(e.ctx, seer, c.group.ID, []service.MemberInput{{UserID: target.UserID}})
		if !domain.Is(err, domain.KindForbidden) || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("adding to %s: err = %v, want forbidden ending %q", c.group.Name, err, c.want)
		}
	}
}

// TestR24R25ChangeMembersAppliesAndReportsBothSides: one change that adds
// some users and removes others applies both, and each side names the
// group's projects (R24 for the added, R25 for the removed) only when it
// changed someone.
func TestR24R25ChangeMembersAppliesAndReportsBothSides(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", domain.ModeMultiple)
	g := e.sysGroup("Staff")
	_, _, err := e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p.ID})
	e.must(err)
	u1, u2, u3 := e.user("u1", ""), e.user("u2", ""), e.user("u3", "")
	e.add(g.ID, u1)
	inP := []service.ProjectRef{{ID: p.ID, Name: "P"}}
	added, removed, _, err := e.svc.ChangeMembers(e.ctx, e.admin, g.ID, []service.MemberInput{{UserID: u2.UserID}}, []string{u1.UserID})
	e.must(err)
	if !slices.Equal(added.Users, []string{u2.UserID}) || !slices.Equal(added.Projects, inP) ||
		!slices.Equal(removed.Users, []string{u1.UserID}) || !slices.Equal(removed.Projects, inP) {
		t.Errorf("both sides: added %+v, removed %+v; want u2 and u1, each with project P", added, removed)
	}
	eng := e.svc.Engine()
	if eng.MemberAt(u1.UserID, g.ID, time.Now()) || !eng.MemberAt(u2.UserID, g.ID, time.Now()) {
		t.Error("after the change: want u1 out of Staff and u2 in")
	}
	added, removed, _, err = e.svc.ChangeMembers(e.ctx, e.admin, g.ID, []service.MemberInput{{UserID: u3.UserID}}, nil)
	e.must(err)
	if len(removed.Users) != 0 || len(removed.Projects) != 0 || !slices.Equal(added.Projects, inP) {
		t.Errorf("adding only: added %+v, removed %+v; want nothing removed and no project on that side", added, removed)
	}
	added, removed, _, err = e.svc.ChangeMembers(e.ctx, e.admin, g.ID, nil, []string{u3.UserID})
	e.must(err)
	if len(added.Users) != 0 || len(added.Projects) != 0 || !slices.Equal(removed.Projects, inP) {
		t.Errorf("removing only: added %+v, removed %+v; want nothing added and no project on that side", added, removed)
	}
}

// TestR23R29AddingAMemberAuditsTheRightsItDropped: the audit record of
// an addition that empties a user's individual rights in an exclusive
// project says so, and only then.
func TestR23R29AddingAMemberAuditsTheRightsItDropped(t *testing.T) {
	e := newEnv(t)
	p := e.project("Solo", domain.ModeExclusive)
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Crew", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	withRights, plain := e.user("with", ""), e.user("plain", "")
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, withRights.UserID, p.ID, domain.RoleViewerID, nil)
	e.must(err)
	e.add(g.ID, withRights, plain)
	const dropped = "; individual rights dropped in Solo (R23)"
	seen := 0
	for _, a := range e.audits("group.member_add", domain.OutcomeSuccess) {
		if a.TargetID != g.ID {
			continue
		}
		seen++
		want := strings.HasPrefix(a.Detail, "user with;") // not user plain
		if got := strings.Contains(a.Detail, "individual rights dropped"); got != want || want && !strings.HasSuffix(a.Detail, dropped) {
			t.Errorf("audit detail %q: mentions dropped rights %v, want %v (ending %q)", a.Detail, got, want, dropped)
		}
	}
	if seen != 2 {
		t.Errorf("%d audit records of the additions, want 2", seen)
	}
}

// TestR7HolderListNamesTheProjectOfProjectHoldersOnly: the refusal to
// delete an assigned role names each holder, with the project only for a
// holder on a project, in the exact words of the error.
func TestR7HolderListNamesTheProjectOfProjectHoldersOnly(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", domain.ModeMultiple)
	r, _, err := e.svc.CreateRole(e.ctx, e.admin, domain.Role{Name: "Reader", Scope: domain.ScopeProject, Permissions: []string{domain.PermProjectRead}})
	e.must(err)
	dave := e.user("dave", "")
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, dave.UserID, p.ID, r.ID, nil)
	e.must(err)
	_, err = e.svc.DeleteRole(e.ctx, e.admin, r.ID)
	wantKind(t, err, domain.KindConflict)
	if want := "service.DeleteRole: role Reader is still assigned (R7), to: project_grant dave in project " + p.ID + "; reassign them first"; err.Error() != want {
		t.Errorf("err = %q,\nwant %q", err, want)
	}

	s, _, err := e.svc.CreateRole(e.ctx, e.admin, domain.Role{Name: "Auditor", Scope: domain.ScopeSystem, Permissions: []string{domain.PermAuditView}})
	e.must(err)
	e.user("carol", s.ID)
	_, err = e.svc.DeleteRole(e.ctx, e.admin, s.ID)
	wantKind(t, err, domain.KindConflict)
	if want := "service.DeleteRole: role Auditor is still assigned (R7), to: user carol; reassign them first"; err.Error() != want {
		t.Errorf("err = %q,\nwant %q", err, want)
	}
}

// TestIfMatchRoleAndProjectUpdatesRefuseAnOlderVersion: an update naming
// a version (If-Match, docs/api.md) goes through only at the stored
// version; an older one is a conflict that writes nothing, and version 0
// means "any".
func TestIfMatchRoleAndProjectUpdatesRefuseAnOlderVersion(t *testing.T) {
	e := newEnv(t)
	r, _, err := e.svc.CreateRole(e.ctx, e.admin, domain.Role{Name: "Auditor", Scope: domain.ScopeSystem, Permissions: []string{domain.PermAuditView}})
	e.must(err)
	p := e.project("P", domain.ModeMultiple)
	d1, d2, d3 := "one", "two", "three"
	r2, _, err := e.svc.UpdateRole(e.ctx, e.admin, r.ID, service.RoleUpdate{Description: &d1, Version: r.Version})
	e.must(err)
	p2, _, err := e.svc.UpdateProject(e.ctx, e.admin, p.ID, service.ProjectUpdate{Description: &d1, Version: p.Version})
	e.must(err)
	if r2.Version == r.Version || p2.Version == p.Version {
		t.Fatalf("versions did not move: role %d -> %d, project %d -> %d", r.Version, r2.Version, p.Version, p2.Version)
	}
	before := e.rev()
	_, _, err = e.svc.UpdateRole(e.ctx, e.admin, r.ID, service.RoleUpdate{Description: &d2, Version: r.Version})
	wantKind(t, err, domain.KindConflict, "changed meanwhile")
	_, _, err = e.svc.UpdateProject(e.ctx, e.admin, p.ID, service.ProjectUpdate{Description: &d2, Version: p.Version})
	wantKind(t, err, domain.KindConflict, "changed meanwhile")
	if e.rev() != before {
		t.Errorf("a refused update moved the revision from %d to %d", before, e.rev())
	}
	r3, _, err := e.svc.UpdateRole(e.ctx, e.admin, r.ID, service.RoleUpdate{Description: &d3})
	e.must(err)
	p3, _, err := e.svc.UpdateProject(e.ctx, e.admin, p.ID, service.ProjectUpdate{Description: &d3})
	e.must(err)
	if r3.Description != d3 || p3.Description != d3 {
		t.Errorf("without a version: role %q, project %q, want %q", r3.Description, p3.Description, d3)
	}
}

// TestR21AProjectTheCallerMayNotSeeIsNotFound: reading, editing or
// deleting a project the caller may not see is not_found, never a
// refusal that names it; a project that does not exist is not_found
// even to its administrators; and a refusal writes nothing.
func TestR21AProjectTheCallerMayNotSeeIsNotFound(t *testing.T) {
	e := newEnv(t)
	p := e.project("Secret", domain.ModeMultiple)
	outsider, reader := e.user("outsider", ""), e.user("reader", "")
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, reader.UserID, p.ID, domain.RoleViewerID, nil)
	e.must(err)
	if got, err := e.svc.GetProject(e.ctx, reader, p.ID); err != nil || got.Name != "Secret" {
		t.Fatalf("a reader of the project: %+v, %v", got, err)
	}
	d := "changed"
	before := e.rev()
	for _, c := range []struct {
		who service.Caller
		id  string
	}{{outsider, p.ID}, {e.admin, "no-such-project"}} {
		_, err := e.svc.GetProject(e.ctx, c.who, c.id)
		wantKind(t, err, domain.KindNotFound)
		_, _, err = e.svc.UpdateProject(e.ctx, c.who, c.id, service.ProjectUpdate{Description: &d})
		wantKind(t, err, domain.KindNotFound)
		_, err = e.svc.DeleteProject(e.ctx, c.who, c.id)
		wantKind(t, err, domain.KindNotFound)
		if strings.Contains(err.Error(), "Secret") {
			t.Errorf("%s: the refusal names the project: %v", c.who.Username, err)
		}
	}
	if e.rev() != before {
		t.Errorf("refusals moved the revision from %d to %d", before, e.rev())
	}
}

// TestCreateRoleAndProjectKeepTheIDTheCallerChose: an id given at
// creation (REST's optional id) is the object's id; none given, the
// service makes one.
func TestCreateRoleAndProjectKeepTheIDTheCallerChose(t *testing.T) {
	e := newEnv(t)
	rid, pid := domain.NewID(), domain.NewID()
	r, _, err := e.svc.CreateRole(e.ctx, e.admin, domain.Role{ID: rid, Name: "Auditor", Scope: domain.ScopeSystem, Permissions: []string{domain.PermAuditView}})
	e.must(err)
	p, _, err := e.svc.CreateProject(e.ctx, e.admin, domain.Project{ID: pid, Name: "P"})
	e.must(err)
	if r.ID != rid || p.ID != pid {
		t.Errorf("ids = %s, %s; want the chosen %s, %s", r.ID, p.ID, rid, pid)
	}
	if _, err := e.st.GetRole(e.ctx, rid); err != nil {
		t.Errorf("the role is not stored under its chosen id: %v", err)
	}
	r2, _, err := e.svc.CreateRole(e.ctx, e.admin, domain.Role{Name: "Other", Scope: domain.ScopeSystem})
	e.must(err)
	if r2.ID == "" || r2.ID == rid {
		t.Errorf("a role created without an id got %q", r2.ID)
	}
}

// TestR27R23IndividualRightsWithoutARoleCount: individual rights made of
// checkboxes only, no role, are rights: removing a system group from a
// project keeps such a member in it (R27) as it keeps one with a role,
// and joining a group of an exclusive project empties them (R23).
func TestR27R23IndividualRightsWithoutARoleCount(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", domain.ModeMultiple)
	g := e.sysGroup("Staff")
	_, _, err := e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p.ID})
	e.must(err)
	plain, keys, role := e.user("plain", ""), e.user("keys", ""), e.user("role", "")
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, keys.UserID, p.ID, "", []string{domain.PermProjectRead})
	e.must(err)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, role.UserID, p.ID, domain.RoleViewerID, nil)
	e.must(err)
	// emptied has an empty individual row, as a member removed from a
	// group keeps (R25): it does not keep them in P.
	emptied := e.user("emptied", "")
	h, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Helpers", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	e.add(h.ID, emptied)
	_, _, err = e.svc.RemoveMembers(e.ctx, e.admin, h.ID, []string{emptied.UserID})
	e.must(err)
	if pg, ok := e.individualRow(emptied.UserID, p.ID); !ok || pg.RoleID != "" || len(pg.Permissions) != 0 {
		t.Fatalf("emptied's row on P after leaving Helpers = %+v (%v), want an empty one (R25)", pg, ok)
	}
	e.add(g.ID, plain, keys, role, emptied)
	res, _, err := e.svc.RemoveGroupFromProjects(e.ctx, e.admin, g.ID, []string{p.ID}, true)
	e.must(err)
	left := slices.Clone(res.Users)
	slices.Sort(left)
	want := []string{plain.UserID, emptied.UserID}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("users who left P = %v, want plain and emptied %v", left, want)
	}
	for _, c := range []struct {
		who  service.Caller
		stay bool
	}{{plain, false}, {emptied, false}, {keys, true}, {role, true}} {
		if _, ok := e.individualRow(c.who.UserID, p.ID); ok != c.stay {
			t.Errorf("%s: individual row on P kept %v, want %v", c.who.Username, ok, c.stay)
		}
	}

	x := e.project("X", domain.ModeExclusive)
	crew, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Crew", Scope: domain.ScopeProject, ProjectID: x.ID})
	e.must(err)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, keys.UserID, x.ID, "", []string{domain.PermProjectRead})
	e.must(err)
	e.add(crew.ID, keys)
	if pg, ok := e.individualRow(keys.UserID, x.ID); !ok || pg.RoleID != "" || len(pg.Permissions) != 0 {
		t.Errorf("keys' individual row on the exclusive X after joining Crew = %+v (%v), want it kept and empty", pg, ok)
	}
}

// TestImportGroupLeavesProjectsWhereItIsPresent: importing a system
// group again into a project where it is present changes nothing there
// (its rights on that project stay as they were set since) and the
// answer lists only the projects it was newly imported into.
func TestImportGroupLeavesProjectsWhereItIsPresent(t *testing.T) {
	e := newEnv(t)
	p, q := e.project("P", domain.ModeMultiple), e.project("Q", domain.ModeMultiple)
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Staff", Scope: domain.ScopeSystem, DefaultProjectRoleID: domain.RoleViewerID})
	e.must(err)
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p.ID})
	e.must(err)
	_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, g.ID, p.ID, domain.RoleEditorID, nil)
	e.must(err)
	got, _, err := e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p.ID, q.ID})
	e.must(err)
	if len(got) != 1 || got[0].ID != q.ID {
		t.Errorf("imported into %+v, want only Q", got)
	}
	pg, err := e.st.GetProjectGrant(e.ctx, p.ID, domain.SubjectGroup, g.ID)
	e.must(err)
	if pg.RoleID != domain.RoleEditorID {
		t.Errorf("Staff's role on P after importing it again = %s, want the Editor it was given", pg.RoleID)
	}
	if n := len(e.audits("group.import", domain.OutcomeSuccess)); n != 2 {
		t.Errorf("%d import audit records, want 2 (P once, Q once)", n)
	}
}

// TestPasswordsAdministratorsMinimumAndChangingYourOwn: a member of
// Administrators needs the administrators' minimum length, others the
// general one (docs/security.md, "Passwords"); changing one's own
// password needs the current one, refuses a wrong one with a denied
// audit record and nothing written (R29), and is not the way to set a
// first password.
func TestPasswordsAdministratorsMinimumAndChangingYourOwn(t *testing.T) {
	e := newEnv(t)
	svc, err := service.New(e.ctx, e.st, service.Options{PasswordParams: &cheap, PasswordPolicy: password.Policy{AdminMinLen: 20}})
	e.must(err)
	e.svc = svc
	const short, long = "fifteen-chars-x", "twenty-characters-xy"
	u := e.user("u", "")
	e.must(errOf(e.svc.SetPassword(e.ctx, e.admin, u.UserID, short)))
	err = errOf(e.svc.SetPassword(e.ctx, e.admin, e.admin.UserID, short))
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "password")
	e.must(errOf(e.svc.SetPassword(e.ctx, e.admin, e.admin.UserID, long)))

	wantKind(t, errOf(e.svc.ChangeOwnPassword(e.ctx, u, "", long)), domain.KindInvalid, "current_password")
	before := e.rev()
	wantKind(t, errOf(e.svc.ChangeOwnPassword(e.ctx, u, "not-the-password", long)), domain.KindForbidden, "current password")
	if e.rev() != before {
		t.Errorf("a refused change moved the revision from %d to %d", before, e.rev())
	}
	e.wantDeniedAudit(u, "user.set_password")
	e.must(errOf(e.svc.ChangeOwnPassword(e.ctx, u, short, long)))

	fresh := e.user("fresh", "")
	wantKind(t, errOf(e.svc.ChangeOwnPassword(e.ctx, fresh, "anything", long)), domain.KindInvalid, "no password yet")
}

// TestCursorKeyIsMadeOnceAndCheckedWhenRead: the first call makes a
// 32-byte key with one audit record that does not hold it; later calls
// return the same key and write nothing; a stored key that is not hex or
// shorter than 16 bytes is an error, never used.
func TestCursorKeyIsMadeOnceAndCheckedWhenRead(t *testing.T) {
	e := newEnv(t)
	k1, err := service.CursorKey(e.ctx, e.st)
	e.must(err)
	k2, err := service.CursorKey(e.ctx, e.st)
	e.must(err)
	if len(k1) != 32 || !slices.Equal(k1, k2) {
		t.Fatalf("keys %x and %x: want one 32-byte key", k1, k2)
	}
	recs := e.audits("system.cursor_key", domain.OutcomeSuccess)
	if len(recs) != 1 || strings.Contains(recs[0].Detail, fmt.Sprintf("%x", k1)) {
		t.Errorf("audit records of the key = %+v, want one, without the key", recs)
	}
	put := func(v string) {
		_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.PutSetting(ctx, &domain.Setting{Key: service.SettingCursorKey, Value: v}); err != nil {
				return err
			}
			return tx.Audit(ctx, &domain.AuditEvent{ActorName: "test", Action: "test.cursor_key", TargetKind: "system", Outcome: domain.OutcomeSuccess})
		})
		e.must(err)
	}
	for _, c := range []struct {
		value string
		ok    bool
	}{{strings.Repeat("ab", 16), true}, {strings.Repeat("ab", 15), false}, {"not hex at all, not at all", false}} {
		put(c.value)
		k, err := service.CursorKey(e.ctx, e.st)
		if c.ok && (err != nil || len(k) != 16) || !c.ok && (err == nil || k != nil) {
			t.Errorf("stored %q: key %x, err %v; want usable %v", c.value, k, err, c.ok)
		}
	}
}

// TestR21AuditVerifyAndReplicaSnapshotNeedTheirPermissions: verifying the
// audit chain needs audit.view and answers with the walk of an intact
// chain; the replica snapshot needs replica.read and writes the state at
// the current revision; without the permission each is forbidden and
// the snapshot's writer is never asked for.
func TestR21AuditVerifyAndReplicaSnapshotNeedTheirPermissions(t *testing.T) {
	e := newEnv(t)
	nobody := e.user("nobody", "")
	v, err := e.svc.VerifyAudit(e.ctx, e.admin)
	e.must(err)
	if !v.OK() || v.Records+v.Unsealed == 0 || v.Break != nil {
		t.Errorf("verification = %+v, want an intact chain with records", v)
	}
	_, err = e.svc.VerifyAudit(e.ctx, nobody)
	wantKind(t, err, domain.KindForbidden, domain.PermAuditView)

	var buf strings.Builder
	var at int64
	e.must(e.svc.ReplicaSnapshot(e.ctx, e.admin, func(rev int64, _ string) (io.Writer, error) { at = rev; return &buf, nil }))
	if at != e.rev() || buf.Len() == 0 {
		t.Errorf("snapshot at revision %d (want %d), %d bytes", at, e.rev(), buf.Len())
	}
	asked := false
	err = e.svc.ReplicaSnapshot(e.ctx, nobody, func(int64, string) (io.Writer, error) { asked = true; return io.Discard, nil })
	wantKind(t, err, domain.KindForbidden, domain.PermReplicaRead)
	if asked {
		t.Error("the writer was asked for before the refusal")
	}

	if d := service.Describe(nil); d.Kind != 0 || d.Message != "" {
		t.Errorf("Describe(nil) = %+v, want nothing", d)
	}
	if d := service.Describe(err); d.Kind != domain.KindForbidden || d.Message == "" {
		t.Errorf("Describe(%v) = %+v, want its kind and message", err, d)
	}
}
