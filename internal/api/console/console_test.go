package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

// The browser tests in test/e2e click through the stories; these check
// what a browser does not show: escaping, redirects, refusals.

var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type env struct {
	h     http.Handler
	svc   *service.Service
	admin service.Caller
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return envOn(t, openStore(t))
}

// openStore opens a bootstrapped SQLite database (the administrator's
// password is pw-admin-123).
func openStore(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := service.Bootstrap(ctx, st, service.BootstrapOptions{AdminPassword: "pw-admin-123", PasswordParams: &cheap, Log: quiet}); err != nil {
		t.Fatal(err)
	}
	return st
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// envOn serves the console over the service of a store.
func envOn(t *testing.T, st store.Store) *env {
	t.Helper()
	return envOnAt(t, st, nil)
}

// envOnAt is envOn with the service's clock now (nil: the time).
func envOnAt(t *testing.T, st store.Store, now func() time.Time) *env {
	t.Helper()
	ctx := context.Background()
	svc, err := service.New(ctx, st, service.Options{PasswordParams: &cheap, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	a, err := authn.New(st, authn.Options{PasswordParams: &cheap, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(svc, a, httpauth.New(a, httpauth.Options{AnonymousOnStaleCookie: true}), Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return &env{h: c, svc: svc, admin: service.Caller{UserID: u.ID, Username: u.Username}}
}

func (e *env) do(t *testing.T, method, path string, form url.Values, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Result()
}

func (e *env) signIn(t *testing.T) *http.Cookie {
	t.Helper()
	return e.signInAs(t, "admin", "pw-admin-123")
}

// signInAs signs a user in and returns the session cookie.
func (e *env) signInAs(t *testing.T, username, password string) *http.Cookie {
	t.Helper()
	resp := e.do(t, http.MethodPost, "/login", url.Values{"username": {username}, "password": {password}})
	for _, c := range resp.Cookies() {
		if c.Name == httpauth.CookieName && c.Value != "" {
			return c
		}
	}
	t.Fatalf("sign-in set no session cookie (status %d)", resp.StatusCode)
	return nil
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// User data is escaped where it is shown (html/template's contextual
// escaping; no template.HTML anywhere).
func TestUserDataIsEscaped(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	evil := `<script>alert("x")</script>`
	if _, _, err := e.svc.CreateGroup(context.Background(), e.admin, domain.Group{Name: "g" + evil, Description: `" onmouseover="alert(1)`, Scope: domain.ScopeSystem}); err != nil {
		t.Fatal(err)
	}
	resp := e.do(t, http.MethodGet, "/admin/groups", nil, ck)
	body := read(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("groups list: %d", resp.StatusCode)
	}
	if strings.Contains(body, evil) || strings.Contains(body, `" onmouseover="`) {
		t.Errorf("user data reached the page unescaped:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("the group's name is missing from the list")
	}
}

// After sign-in the browser only ever goes back to a page of this site.
func TestSignInRedirectStaysOnSite(t *testing.T) {
	for next, want := range map[string]string{
		"":                       "/admin/groups",
		"/admin/users?q=a":       "/admin/users?q=a",
		"//evil.example/":        "/admin/groups",
		"/\\evil.example":        "/admin/groups",
		"https://evil.example/":  "/admin/groups",
		"javascript:alert(1)":    "/admin/groups",
		"/login?next=/admin/xyz": "/admin/groups",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// Anonymous visitors are sent to sign in; a stale cookie too, not to a
// 401 document; unknown pages and cross-site forms get readable pages.
func TestAnonymousStaleAndRefused(t *testing.T) {
	e := newEnv(t)
	resp := e.do(t, http.MethodGet, "/admin/groups", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Errorf("anonymous: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = e.do(t, http.MethodGet, "/admin/groups", nil, &http.Cookie{Name: httpauth.CookieName, Value: "stale"})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("stale cookie: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := e.signIn(t)
	resp = e.do(t, http.MethodGet, "/admin/no-such-page", nil, ck)
	if body := read(t, resp); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "There is no such page.") {
		t.Errorf("unknown page: %d %s", resp.StatusCode, body)
	}
	r := httptest.NewRequest(http.MethodPost, "/admin/groups", strings.NewReader("name=x&scope=system"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(ck)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "sent from another site") {
		t.Errorf("cross-site form: %d %s", w.Code, w.Body.String())
	}
}

// Every page template renders for the administrator without a template
// error (a missing field would otherwise show only at run time).
func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	g, _, err := e.svc.CreateGroup(context.Background(), e.admin, domain.Group{Name: "Readers", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/admin/groups", "/admin/groups/new", "/admin/users", "/admin/roles", "/admin/roles/new",
		"/admin/roles/" + domain.RoleSystemManagerID, "/admin/projects", "/admin/folders", "/admin/audit", "/admin/access",
		"/admin/access?user=anonymous&permission=server.manage&resource=system", "/preferences",
		"/admin/groups/" + g.ID + "/general", "/admin/groups/" + g.ID + "/privileges", "/admin/groups/" + g.ID + "/projects",
		"/admin/groups/" + g.ID + "/rules", "/admin/groups/" + g.ID + "/rules/new", "/admin/groups/" + g.ID + "/folders",
		"/admin/groups/" + g.ID + "/members", "/admin/groups/" + g.ID + "/delete"} {
		resp := e.do(t, http.MethodGet, p, nil, ck)
		body := read(t, resp)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "went wrong") {
			t.Errorf("GET %s: %d\n%s", p, resp.StatusCode, body)
		}
	}
}

// The hints about the built-in groups name them as they are now called
// (R2: they can be renamed; the demo calls Everyone "Normal Users").
func TestR2_HintsUseRenamedBuiltinNames(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	for id, name := range map[string]string{domain.GroupEveryoneID: "Normal Users", domain.GroupPublicID: "Anyone at all"} {
		if _, _, err := e.svc.UpdateGroup(ctx, e.admin, id, service.GroupUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{
		"/admin/groups": "Normal Users includes every signed-in user and Anyone at all everyone",
		"/admin/groups/" + domain.GroupEveryoneID + "/members":  "every signed-in user is a member of Normal Users.",
		"/admin/groups/" + domain.GroupPublicID + "/privileges": "Anyone at all represents everyone",
	} {
		body := read(t, e.do(t, http.MethodGet, path, nil, ck))
		if !strings.Contains(body, want) {
			t.Errorf("GET %s lacks %q", path, want)
		}
		for _, old := range []string{"Everyone includes", "member of Everyone", "Public represents", "and Public everyone"} {
			if strings.Contains(body, old) {
				t.Errorf("GET %s still says %q", path, old)
			}
		}
	}
}

// Times shown to people say their zone (UTC); the audit log always has the
// bootstrap's record to show.
func TestTimesShowTheirZone(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	body := read(t, e.do(t, http.MethodGet, "/admin/audit", nil, ck))
	if !regexp.MustCompile(`<td class="nowrap">\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>`).MatchString(body) {
		t.Errorf("the audit page shows no time with its zone:\n%s", body)
	}
}

// Messages shown to a person carry no rule numbers (they are for the
// API's readers) and no operation names; the words around them stay.
func TestMessagesWithoutRuleNumbers(t *testing.T) {
	for in, want := range map[error]string{
		domain.Errorf("service.SetGroupProjectRights", domain.KindConflict, "missing permission groups.edit (R21)"):                          "Missing permission groups.edit",
		errors.New("missing permission x, or y on project p (R13, R19)"):                                                                     "Missing permission x, or y on project p",
		errors.New("R22's bound: the user holds it"):                                                                                         "Bound: the user holds it",
		errors.New("the Public group carries project read rights only (R5), not project.write"):                                              "The Public group carries project read rights only, not project.write",
		domain.E("service.DeleteGroup", domain.KindConflict, errors.New("confirm: deleting a system group removes it (R27); confirm to go")): "Confirm: deleting a system group removes it; confirm to go",
	} {
		if got := message(in); got != want {
			t.Errorf("message(%q) = %q, want %q", in, got, want)
		}
	}
	if got := fieldLabel("criteria[1].folder_type_id"); got != "Criterion 2, folder type" {
		t.Errorf("fieldLabel = %q", got)
	}
}

// The access explorer asks the service's query use cases, under the API's
// rule (docs/api.md, "Who may ask"): anyone may ask about anonymous
// access, which is public; asking about another user needs users.view.
func TestAccessExplorerAsksUnderTheAPIsRule(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: "bob", Email: "bob@example.org", Password: "bob-password-123"}); err != nil {
		t.Fatal(err)
	}
	resp := e.do(t, http.MethodPost, "/login", url.Values{"username": {"bob"}, "password": {"bob-password-123"}})
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == httpauth.CookieName && c.Value != "" {
			ck = c
		}
	}
	if ck == nil {
		t.Fatalf("bob could not sign in (status %d)", resp.StatusCode)
	}
	body := read(t, e.do(t, http.MethodGet, "/admin/access?username=anonymous&permission=server.manage&resource=system", nil, ck))
	if !strings.Contains(body, `id="verdict"`) || !strings.Contains(body, "Denied") {
		t.Errorf("bob asking about anonymous got no answer:\n%s", body)
	}
	body = read(t, e.do(t, http.MethodGet, "/admin/access?user="+e.admin.UserID+"&permission=server.manage&resource=system", nil, ck))
	if strings.Contains(body, `id="verdict"`) || !strings.Contains(body, domain.PermUsersView) {
		t.Errorf("bob asking about the administrator was answered, or not told users.view is needed:\n%s", body)
	}
}
