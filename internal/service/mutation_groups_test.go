package service_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
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
