package service_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The console's project page reads: a moderator of the project may read
// its groups, its members, the system groups that could join it and the
// project roles (R21); a user who may not see the project or moderate it
// is refused; the lists are what the project holds.
func TestR21ConsoleProjectReads(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeExclusive)
	other := e.project("Other", domain.ModeMultiple)
	mod := e.user("mod", "")
	nobody := e.user("nobody", "")
	alice := e.user("alice", "")
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, mod.UserID, p.ID, "", []string{domain.PermProjectModerate})
	e.must(err)
	own, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Investigators", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	sys := e.sysGroup("Auditors")
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, sys.ID, []string{p.ID})
	e.must(err)
	spare := e.sysGroup("Spare")
	e.add(own.ID, alice)

	groups, err := e.svc.ProjectGroups(e.ctx, mod, p.ID)
	e.must(err)
	if len(groups) != 2 || groups[0].Group.Name != "Auditors" || groups[1].Group.Name != "Investigators" || groups[1].Grant != nil || groups[0].Grant == nil {
		t.Errorf("ProjectGroups = %+v, want Auditors (added, with a grant row) and Investigators (no rights yet)", groups)
	}
	page, err := e.svc.ImportableGroups(e.ctx, mod, p.ID, service.ListQuery{Sort: "name"})
	e.must(err)
	if len(page.Items) != 1 || page.Items[0].ID != spare.ID {
		t.Errorf("ImportableGroups = %+v, want Spare only (no built-in group, none present)", page.Items)
	}
	members, total, err := e.svc.ProjectMembers(e.ctx, mod, p.ID, service.ProjectMemberQuery{Search: "ALI"})
	e.must(err)
	if total != 1 || members[0].User.Username != "alice" || len(members[0].Groups) != 1 || members[0].Groups[0] != "Investigators" {
		t.Errorf("ProjectMembers(ALI) = %d %+v, want alice in Investigators", total, members)
	}
	if roles, err := e.svc.RolesOfScope(e.ctx, mod, domain.ScopeProject, p.ID); err != nil || len(roles) == 0 {
		t.Errorf("a moderator cannot list the project roles of their project: %v", err)
	}
	if n, err := e.svc.GroupMemberCounts(e.ctx, mod, own.ID); err != nil || n.Active != 1 {
		t.Errorf("GroupMemberCounts = %+v, %v; want 1 active", n, err)
	}

	// Refused: not a moderator there, or no permission at all.
	if _, err := e.svc.ProjectGroups(e.ctx, mod, other.ID); err == nil {
		t.Error("a moderator of another project read this one's groups")
	}
	if _, _, err := e.svc.ProjectMembers(e.ctx, nobody, p.ID, service.ProjectMemberQuery{}); err == nil {
		t.Error("a user without rights read the project's members")
	}
	if _, err := e.svc.ImportableGroups(e.ctx, nobody, p.ID, service.ListQuery{}); err == nil {
		t.Error("a user without rights listed the groups to add")
	}
	if _, err := e.svc.RolesOfScope(e.ctx, nobody, domain.ScopeSystem, ""); err == nil {
		t.Error("a user without roles.view listed the system roles")
	}
	if _, err := e.svc.UserGroups(e.ctx, nobody, alice.UserID); err == nil {
		t.Error("a user without users.view read another user's groups")
	}
	ug, err := e.svc.UserGroups(e.ctx, e.admin, alice.UserID)
	e.must(err)
	if len(ug) != 1 || ug[0].Group.ID != own.ID {
		t.Errorf("UserGroups(alice) = %+v, want Investigators", ug)
	}
}
