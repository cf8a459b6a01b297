package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The Nested groups tab: the picker finds groups, adding one shows it
// among the member groups, on the child's page as a parent, and its
// members among everyone who is a member, with the path.
func TestNestedGroupsTab(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	rad, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "Radiologists", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	xyz, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "XYZ radiologists", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	alice, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: "alice", Email: "alice@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AddMembers(ctx, e.admin, xyz.ID, []service.MemberInput{{UserID: alice.ID}}); err != nil {
		t.Fatal(err)
	}
	page := read(t, e.do(t, http.MethodGet, "/admin/groups/"+rad.ID+"/nesting?q=XYZ", nil, ck))
	if !strings.Contains(page, `<option value="`+xyz.ID+`">XYZ radiologists</option>`) {
		t.Fatalf("the picker does not offer XYZ radiologists:\n%s", page)
	}
	resp := e.do(t, http.MethodPost, "/admin/groups/"+rad.ID+"/nesting", url.Values{"group": {xyz.ID}}, ck)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a group: status %d", resp.StatusCode)
	}
	page = read(t, e.do(t, http.MethodGet, "/admin/groups/"+rad.ID+"/nesting", nil, ck))
	for _, want := range []string{`Remove group XYZ radiologists`, `XYZ radiologists → Radiologists`, `>alice</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("Radiologists' tab lacks %q", want)
		}
	}
	child := read(t, e.do(t, http.MethodGet, "/admin/groups/"+xyz.ID+"/nesting", nil, ck))
	if !strings.Contains(child, `<a href="/admin/groups/`+rad.ID+`/nesting">Radiologists</a>`) {
		t.Errorf("XYZ's tab does not show Radiologists as a parent")
	}
	// A cycle is refused with the cycle named in the flash message.
	resp = e.do(t, http.MethodPost, "/admin/groups/"+xyz.ID+"/nesting", url.Values{"group": {rad.ID}}, ck)
	var flash string
	for _, c := range resp.Cookies() {
		if c.Name == flashCookie {
			flash, _ = url.QueryUnescape(c.Value)
		}
	}
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(flash, "error:") || !strings.Contains(flash, "Radiologists → XYZ radiologists → Radiologists") {
		t.Errorf("a cycle: status %d, flash %q; want an error naming the cycle", resp.StatusCode, flash)
	}
	resp = e.do(t, http.MethodPost, "/admin/groups/"+rad.ID+"/nesting", url.Values{"remove": {xyz.ID}}, ck)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("removing a group: status %d", resp.StatusCode)
	}
	if page := read(t, e.do(t, http.MethodGet, "/admin/groups/"+rad.ID+"/nesting", nil, ck)); strings.Contains(page, "Remove group XYZ") {
		t.Error("XYZ radiologists is still a member group after Remove")
	}
}
