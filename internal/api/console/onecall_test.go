package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// A console form is one service call: refused as a whole, or saved as a
// whole (the kernel issue's reproduction: valid checkboxes with an
// invalid domain answered "Not saved" but had saved the checkboxes).
func TestFormsAreOneWrite(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	g, _, err := e.svc.CreateGroup(t.Context(), e.admin, domain.Group{Name: "Readers", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	rev := e.svc.Revision()
	form := url.Values{"perm": {domain.PermUsersView}, "domains": {"good.example\n" + strings.Repeat("x", domain.MaxDomainLen+1)}}
	resp := e.do(t, http.MethodPost, "/admin/groups/"+g.ID+"/privileges", form, ck)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("privileges with a bad domain: status %d, want 422", resp.StatusCode)
	}
	if got := e.svc.Revision(); got != rev {
		t.Fatalf("a refused privileges form moved the revision %d -> %d", rev, got)
	}
	after, err := e.svc.GetGroup(t.Context(), e.admin, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.SystemPermissions) != 0 {
		t.Fatalf("the checkboxes were saved by a refused form: %v", after.SystemPermissions)
	}

	// Members: tick one user, untick one who is not a member (refused):
	// nothing is added either.
	u, _, err := e.svc.CreateUser(t.Context(), e.admin, service.NewUser{Username: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := e.svc.CreateUser(t.Context(), e.admin, service.NewUser{Username: "ben"})
	if err != nil {
		t.Fatal(err)
	}
	rev = e.svc.Revision()
	form = url.Values{"shown": {u.ID, v.ID}, "was": {v.ID}, "member": {u.ID}}
	resp = e.do(t, http.MethodPost, "/admin/groups/"+g.ID+"/members", form, ck)
	read(t, resp)
	if got := e.svc.Revision(); got != rev {
		t.Fatalf("a refused member form moved the revision %d -> %d", rev, got)
	}
}
