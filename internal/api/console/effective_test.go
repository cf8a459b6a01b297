package console

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The Nested groups tab's effective members follow expiry along the path
// (R6): when Mid's membership of Top ends, bob, alice and carol leave
// Top's list at once, on the first page and through a Next link taken
// before, though the list was drawn (and kept, issue 20) before the end.
func TestNestedGroupsTabEffectiveMembersExpireWithTheirPath_R6(t *testing.T) {
	clock := time.Now().UTC().Truncate(time.Second)
	e := envOnAt(t, openStore(t), func() time.Time { return clock })
	e.h.(*Console).pageSize = 2
	ck := e.signIn(t)
	top, mid, _ := nestedFixture(t, e)
	end := clock.Add(time.Hour)
	if _, _, err := e.svc.AddGroupMembers(context.Background(), e.admin, top.ID, []service.GroupMemberInput{{GroupID: mid.ID, ExpiresAt: &end}}); err != nil {
		t.Fatal(err)
	}
	base := "/admin/groups/" + top.ID + "/nesting"
	get := func(path string) string { return read(t, e.do(t, http.MethodGet, path, nil, ck)) }
	first := get(base)
	if got := effectiveNames(t, first); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("before the end: %v, want [alice bob]", got)
	}
	next := link(nextLink, first)
	clock = end
	if got := effectiveNames(t, get(base)); !slices.Equal(got, []string{"zed"}) {
		t.Errorf("at the end of Mid's membership: %v, want [zed] (R6)", got)
	}
	if got := effectiveNames(t, get(next)); !slices.Equal(got, []string{"zed"}) {
		t.Errorf("page 2 from before the end: %v, want [zed]", got)
	}
	if got := effectiveNames(t, get(base+"?sort=through&order=desc")); !slices.Equal(got, []string{"zed"}) {
		t.Errorf("by path length at the end: %v, want [zed]", got)
	}
}

// R18 on the tab: a caller who may list users but not see personal
// information sees no display name and cannot find a member by it; the
// administrator sees and finds carol by "Carol Findable".
func TestNestedGroupsTabMasksPersonalInfo_R18(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	top, _, _ := nestedFixture(t, e)
	viewers, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "Viewers", Scope: domain.ScopeSystem,
		SystemPermissions: []string{domain.PermUsersView, domain.PermGroupsView}})
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: "viewer", Email: "viewer@example.org", Password: "viewer-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AddMembers(ctx, e.admin, viewers.ID, []service.MemberInput{{UserID: v.ID}}); err != nil {
		t.Fatal(err)
	}
	base := "/admin/groups/" + top.ID + "/nesting"
	admin, viewer := e.signIn(t), e.signInAs(t, "viewer", "viewer-password-1")
	page := read(t, e.do(t, http.MethodGet, base, nil, viewer))
	if got := effectiveNames(t, page); !slices.Contains(got, "carol") || strings.Contains(page, "Carol Findable") {
		t.Errorf("viewer's tab: members %v; want carol listed without her display name", got)
	}
	if got := effectiveNames(t, read(t, e.do(t, http.MethodGet, base+"?find=findable", nil, viewer))); len(got) != 0 {
		t.Errorf("viewer found %v by a display name (R18)", got)
	}
	page = read(t, e.do(t, http.MethodGet, base+"?find=findable", nil, admin))
	if got := effectiveNames(t, page); !slices.Equal(got, []string{"carol"}) || !strings.Contains(page, "Carol Findable") {
		t.Errorf("admin's search by display name: %v; want carol, named", got)
	}
}
