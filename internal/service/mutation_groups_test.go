package service_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Tests for what mutation testing (docs/testing.md) found unpinned in
// groups.go.

// TestCreateProjectGroupOfAMissingProjectNamesTheField: a project group
// naming a project that does not exist is refused on its project_id
// field, saying so, not with the database's foreign-key error.
func TestCreateProjectGroupOfAMissingProjectNamesTheField(t *testing.T) {
	e := newEnv(t)
	missing := domain.NewID()
	_, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Site A", Scope: domain.ScopeProject, ProjectID: missing})
	wantKind(t, err, domain.KindInvalid, "project "+missing+" does not exist")
	wantField(t, err, "project_id")
}

// TestR21AGroupViewerMayNotEditIt: seeing a group is not editing it: a
// caller with groups.view only is refused its name and its grants with
// the missing permission, nothing written, the refusal audited.
func TestR21AGroupViewerMayNotEditIt(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Staff")
	viewer := e.user("viewer", "")
	e.add(e.sysGroup("Viewers", domain.PermGroupsView).ID, viewer)
	before := e.rev()
	name := "Renamed"
	_, _, err := e.svc.UpdateGroup(e.ctx, viewer, g.ID, service.GroupUpdate{Name: &name})
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsEdit)
	if e.rev() != before {
		t.Errorf("a refused edit moved the revision from %d to %d", before, e.rev())
	}
	e.wantDeniedAudit(viewer, "group.update")
	// Even a grant that changes nothing: the kernel (R22) would let it
	// through, the permission to edit groups does not.
	_, _, err = e.svc.SetGroupSystemGrants(e.ctx, viewer, g.ID, "", nil)
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsEdit)
	e.wantDeniedAudit(viewer, "group.set_system_grants")
}

// TestCreateGroupKeepsTheIDTheCallerChose, as for users, roles and
// projects (SCIM names its groups' ids).
func TestCreateGroupKeepsTheIDTheCallerChose(t *testing.T) {
	e := newEnv(t)
	id := domain.NewID()
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{ID: id, Name: "Chosen", Scope: domain.ScopeSystem})
	e.must(err)
	if _, err := e.st.GetGroup(e.ctx, id); err != nil || g.ID != id {
		t.Errorf("CreateGroup with id %s: got %s, stored: %v", id, g.ID, err)
	}
}
