package console

import (
	"context"
	"fmt"
	"github.com/gatehouse/gatehouse/internal/service"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// A missing static file, a directory and a path climbing out of /static/
// answer the console's HTML error page, never net/http's plain-text 404
// or a listing (found by test/hostile); a real file is still served.
func TestStaticNotFoundIsAnErrorPage(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/static/", "/static/nope.css", "/static/..%2f..%2fconsole.go", "/static/%2e%2e/templates/layout.html", "/static/%00"} {
		resp := e.do(t, "GET", p, nil)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(b), "There is no such file.") {
			t.Errorf("GET %s = %d %q: %.200s, want the 404 error page", p, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	resp := e.do(t, "GET", "/static/console.css", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("GET /static/console.css = %d %q, want 200 text/css", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// A form value that is not UTF-8 is refused with the error page naming
// the field, never stored with replacement characters (the check every
// transport shares, internal/api/input); a query string too.
func TestFormsMustBeUTF8(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	resp := e.do(t, http.MethodPost, "/admin/groups", url.Values{"name": {"bad\xff\xfe"}, "scope": {"system"}}, ck)
	if body := read(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "is not valid UTF-8 text") ||
		!strings.Contains(body, "name") {
		t.Errorf("POST /admin/groups with invalid UTF-8 = %d: %.300s, want 400 naming the field", resp.StatusCode, body)
	}
	page, err := e.svc.ListGroups(context.Background(), e.admin, service.ListQuery{Search: "bad", Limit: 10})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("the refused form left groups %v (%v)", page.Items, err)
	}
	resp = e.do(t, http.MethodPost, "/login", url.Values{"username": {"admin\xc0\xaf"}, "password": {"x"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /login with an overlong form = %d, want 400", resp.StatusCode)
	}
	if resp := e.do(t, http.MethodGet, "/admin/groups?q=%ff", nil, ck); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /admin/groups?q=%%ff = %d, want 400", resp.StatusCode)
	}
	if resp := e.do(t, http.MethodGet, "/admin/groups?q=Zo%C3%AB", nil, ck); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /admin/groups?q=Zoë = %d, want 200", resp.StatusCode)
	}
}

// The console takes accessible domains by the same rule as REST and
// apply (domain.CheckDomainList): no more than domain.MaxDomains, each a
// domain name; a refusal writes nothing, not even the privileges sent
// with it.
func TestDomainsFormUsesTheOneRule(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	g, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "Readers", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, 10*domain.MaxDomains)
	for i := range many {
		many[i] = fmt.Sprintf("d%d.example.org", i)
	}
	for list, why := range map[string]string{"ok.example\nnot a domain at all!": "is not a domain name", "<b>": "is not a domain name",
		strings.Join(many, "\n"): "at most 1000 domains"} {
		resp := e.do(t, http.MethodPost, "/admin/groups/"+g.ID+"/privileges", url.Values{"domains": {list}, "perm": {domain.PermAuditView}}, ck)
		if body := read(t, resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Not saved") || !strings.Contains(body, why) {
			t.Errorf("domains %.40q: %d, want 422 with the reason: %.300s", list, resp.StatusCode, body)
		}
		doms, _ := e.svc.GroupDomains(ctx, e.admin, g.ID)
		after, _ := e.svc.GetGroup(ctx, e.admin, g.ID)
		if len(doms) != 0 || len(after.SystemPermissions) != 0 {
			t.Errorf("domains %.40q: refused, yet stored domains %v and permissions %v", list, doms, after.SystemPermissions)
		}
	}
}
