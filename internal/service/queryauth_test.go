package service_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// MayAskAboutOthers is the one engine check behind every question about
// another user; it must agree with the caller's whole permission set and
// with a limited token's limit (closed under R8), and refuse on error.
func TestMayAskAboutOthers(t *testing.T) {
	e := newEnv(t)
	bob := e.user("bob", "")
	viewer := e.user("viewer", domain.RoleSystemMemberID) // holds users.view
	limitedTo := func(c service.Caller, keys ...string) service.Caller {
		c.Limit = keys
		return c
	}
	for _, tc := range []struct {
		name string
		c    service.Caller
		want bool
	}{
		{"administrator", e.admin, true},
		{"users.view holder", viewer, true},
		{"ordinary user", bob, false},
		{"anonymous", service.Caller{}, false},
		{"limited to scim.provision", limitedTo(viewer, domain.PermScimProvision), false},
		{"limited to users.view", limitedTo(viewer, domain.PermUsersView), true},
		{"limited to users.edit, which implies users.view (R8)", limitedTo(e.admin, domain.PermUsersEdit), true},
		{"limited to users.view without holding it", limitedTo(bob, domain.PermUsersView), false},
	} {
		got, err := e.svc.MayAskAboutOthers(tc.c)
		if err != nil || got != tc.want {
			t.Errorf("%s: MayAskAboutOthers = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	ghost := service.Caller{UserID: domain.NewID(), Username: "ghost"}
	got, err := e.svc.MayAskAboutOthers(ghost)
	if got || !domain.Is(err, domain.KindUnauthenticated) {
		t.Errorf("a user the engine does not know: %v, %v; want false and unauthenticated", got, err)
	}
	_, err = e.svc.ListSubjects(e.ctx, ghost, service.SubjectsQuery{Permission: domain.PermUsersView, Resource: "system"})
	wantKind(t, err, domain.KindUnauthenticated)
}
