package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/domain"
)

// authEnv is the API with real authentication (sessions and API tokens,
// not testAuth) and the authentication endpoints, behind a real HTTP
// server so that cookies travel as a browser's or a program's would.
type authEnv struct {
	*env
	srv *httptest.Server
}

func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	e := newEnv(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	au, err := authn.New(e.st, authn.Options{PasswordParams: &cheap, Logger: quiet,
		// What the server passes: the service's rule.
		MayManageTokens: e.svc.MayManageTokens})
	if err != nil {
		t.Fatal(err)
	}
	ha := httpauth.New(au, httpauth.Options{})
	api := rest.New(e.svc, ha, rest.Options{Log: quiet, Sessions: au, Cookies: ha})
	mux := http.NewServeMux()
	mux.Handle(rest.Prefix+"/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.api = api
	return &authEnv{env: e, srv: srv}
}

// client is an HTTP client with its own cookie jar: one browser.
func (e *authEnv) client() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// call sends a request with c; token, when set, is sent as a bearer token.
func (e *authEnv) call(c *http.Client, token, method, path string, body any) resp {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

func (e *authEnv) login(c *http.Client, user, pw string) resp {
	e.t.Helper()
	return e.call(c, "", "POST", "/api/v1/login", map[string]any{"username": user, "password": pw})
}

// adminToken signs in as the administrator and makes an unlimited token.
func (e *authEnv) adminToken() string {
	e.t.Helper()
	c := e.client()
	e.login(c, "admin", "pw-admin-123").want(e.t, 200)
	return e.call(c, "", "POST", "/api/v1/tokens", map[string]any{"name": "test admin"}).want(e.t, 201).str("secret")
}

func TestAuthLoginSetsSessionCookie(t *testing.T) {
	e := newAuthEnv(t)
	c := e.client()
	before := time.Now()
	r := e.login(c, "  ADMIN ", "pw-admin-123").want(t, 200)
	if r.str("username") != "admin" || r.str("user_id") != e.admin.UserID || r.str("session_id") == "" {
		t.Errorf("login answer = %s", r.Raw)
	}
	exp, err := time.Parse(time.RFC3339, r.str("expires_at"))
	if err != nil {
		t.Fatalf("expires_at %q: %v", r.str("expires_at"), err)
	}
	if want := before.Add(authn.DefaultLifetime); exp.Before(want.Add(-time.Minute)) || exp.After(want.Add(time.Minute)) {
		t.Errorf("expires_at = %v, want about %v", exp, want)
	}
	sc := r.Header.Get("Set-Cookie")
	for _, attr := range []string{httpauth.CookieName + "=", "HttpOnly", "SameSite=Lax", "Path=/", "Expires="} {
		if !strings.Contains(sc, attr) {
			t.Errorf("Set-Cookie %q lacks %s", sc, attr)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("Set-Cookie %q is Secure over plain HTTP", sc)
	}
	// The cookie signs the next requests in.
	me := e.call(c, "", "GET", "/api/v1/me", nil).want(t, 200)
	if me.str("id") != e.admin.UserID {
		t.Errorf("/me with the cookie = %s", me.Raw)
	}
}

func TestAuthLoginFailuresAreGeneric(t *testing.T) {
	e := newAuthEnv(t)
	bob := e.user("bob", "")
	e.do(&e.admin, "PUT", "/api/v1/users/"+bob.UserID+"/password", map[string]any{"password": "bob-secret-1"}).want(t, 200)
	e.do(&e.admin, "PUT", "/api/v1/users/"+bob.UserID+"/status", map[string]any{"status": "disabled"}).want(t, 200)
	for _, tc := range []struct{ name, user, pw string }{
		{"wrong password", "admin", "nope"},
		{"unknown user", "nobody", "pw-admin-123"},
		{"disabled user, right password", "bob", "bob-secret-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.login(e.client(), tc.user, tc.pw).problem(t, 401, "", "invalid username or password")
			if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if r.Header.Get("Set-Cookie") != "" {
				t.Errorf("a failed sign-in set a cookie: %q", r.Header.Get("Set-Cookie"))
			}
		})
	}
	// Wrong types and empty fields are the schema's 422, naming the field.
	e.call(e.client(), "", "POST", "/api/v1/login", map[string]any{"username": "", "password": "x"}).problem(t, 422, "body.username")
	e.call(e.client(), "", "POST", "/api/v1/login", map[string]any{"username": 3, "password": "x"}).problem(t, 422, "body.username")
}

func TestAuthLoginThrottled(t *testing.T) {
	e := newAuthEnv(t)
	c := e.client()
	var last resp
	for i := 0; i < 10; i++ {
		last = e.login(c, "admin", "wrong")
		if last.Status == http.StatusTooManyRequests {
			break
		}
		last.want(t, 401)
	}
	last.problem(t, 429, "", "too many failed sign-ins")
	secs, err := strconv.Atoi(last.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Errorf("Retry-After = %q, want a number of seconds", last.Header.Get("Retry-After"))
	}
	// Even the right password is refused while locked.
	e.login(c, "admin", "pw-admin-123").problem(t, 429, "")
}

func TestAuthLogoutRevokesSession(t *testing.T) {
	e := newAuthEnv(t)
	c := e.client()
	e.login(c, "admin", "pw-admin-123").want(t, 200)
	u, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
	stolen := c.Jar.Cookies(u.URL) // a copy of the cookie, kept by someone else
	if len(stolen) != 1 {
		t.Fatalf("cookies after login = %v", stolen)
	}
	r := e.call(c, "", "POST", "/api/v1/logout", nil).want(t, 204)
	if sc := r.Header.Get("Set-Cookie"); !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("logout Set-Cookie = %q, want the cookie cleared", sc)
	}
	if got := c.Jar.Cookies(u.URL); len(got) != 0 {
		t.Errorf("cookies after logout = %v", got)
	}
	// The copied cookie is dead on the server too.
	other := e.client()
	other.Jar.SetCookies(u.URL, stolen)
	e.call(other, "", "GET", "/api/v1/me", nil).problem(t, 401, "")
	// Signing out with the dead cookie succeeds and clears it.
	if r := e.call(other, "", "POST", "/api/v1/logout", nil).want(t, 204); !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("logout with a dead cookie: Set-Cookie = %q, want the cookie cleared", r.Header.Get("Set-Cookie"))
	}
	// Without a session, logout does nothing and says so with 204.
	e.call(e.client(), "", "POST", "/api/v1/logout", nil).want(t, 204)
}

func TestAuthTokens(t *testing.T) {
	e := newAuthEnv(t)
	admin := e.adminToken()
	if !strings.HasPrefix(admin, authn.TokenPrefix) {
		t.Fatalf("secret %q lacks the %s prefix", admin, authn.TokenPrefix)
	}
	anon := e.client()
	e.call(anon, "", "GET", "/api/v1/tokens", nil).problem(t, 401, "")
	e.call(anon, "", "POST", "/api/v1/tokens", map[string]any{"name": "x"}).problem(t, 401, "")

	// A limited token with an expiry.
	exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	r := e.call(anon, admin, "POST", "/api/v1/tokens", map[string]any{"name": "viewer", "permissions": []string{"users.view"}, "expires_at": exp}).want(t, 201)
	viewer := r.str("secret")
	tok, _ := r.Body["token"].(map[string]any)
	viewerID, _ := tok["id"].(string)
	if tok["name"] != "viewer" || tok["user_id"] != e.admin.UserID || tok["expires_at"] != exp.Format(time.RFC3339) {
		t.Errorf("created token = %s", r.Raw)
	}
	if _, ok := tok["token_hash"]; ok {
		t.Errorf("the token's hash is in the answer: %s", r.Raw)
	}
	// It works, within its limit.
	e.call(anon, viewer, "GET", "/api/v1/users", nil).want(t, 200)
	e.call(anon, viewer, "POST", "/api/v1/users", map[string]any{"username": "eve"}).want(t, 403)

	// Listed without the secret.
	l := e.call(anon, admin, "GET", "/api/v1/tokens", nil).want(t, 200)
	if strings.Contains(string(l.Raw), viewer) || !strings.Contains(string(l.Raw), viewerID) {
		t.Errorf("token list = %s", l.Raw)
	}

	// Bad input names the field.
	e.call(anon, admin, "POST", "/api/v1/tokens", map[string]any{"name": "x", "permissions": []string{"project.read"}}).problem(t, 422, "body.permissions[0]", "not a system permission")
	e.call(anon, admin, "POST", "/api/v1/tokens", map[string]any{"name": "x", "expires_at": time.Now().Add(-time.Hour)}).problem(t, 422, "body.expires_at", "not in the future")
	e.call(anon, admin, "POST", "/api/v1/tokens", map[string]any{"name": " "}).problem(t, 422, "body.name")
	// A limited token cannot mint a stronger one.
	e.call(anon, viewer, "POST", "/api/v1/tokens", map[string]any{"name": "more"}).problem(t, 422, "body.permissions")

	// Revoked: 204, then the token is refused.
	e.call(anon, admin, "DELETE", "/api/v1/tokens/"+viewerID, nil).want(t, 204)
	e.call(anon, viewer, "GET", "/api/v1/users", nil).problem(t, 401, "", "invalid, revoked or expired API token")
	e.call(anon, admin, "DELETE", "/api/v1/tokens/nope", nil).problem(t, 404, "")
}

func TestAuthOtherUsersTokens(t *testing.T) {
	e := newAuthEnv(t)
	admin := e.adminToken()
	anon := e.client()
	bob := e.user("bob", "")
	e.do(&e.admin, "PUT", "/api/v1/users/"+bob.UserID+"/password", map[string]any{"password": "bob-secret-1"}).want(t, 200)
	bc := e.client()
	e.login(bc, "bob", "bob-secret-1").want(t, 200)
	bobTok := e.call(bc, "", "POST", "/api/v1/tokens", map[string]any{"name": "bob's"}).want(t, 201).str("secret")

	// Bob sees only his own: the administrator's are "not found".
	e.call(anon, bobTok, "GET", "/api/v1/tokens?user_id="+e.admin.UserID, nil).problem(t, 404, "")
	e.call(anon, bobTok, "POST", "/api/v1/tokens", map[string]any{"name": "x", "user_id": e.admin.UserID}).problem(t, 404, "")
	adminToks := e.call(anon, admin, "GET", "/api/v1/tokens", nil).want(t, 200)
	items, _ := adminToks.Body["items"].([]any)
	first, _ := items[0].(map[string]any)
	e.call(anon, bobTok, "DELETE", "/api/v1/tokens/"+first["id"].(string), nil).problem(t, 404, "")

	// The administrator (users.edit) manages Bob's.
	l := e.call(anon, admin, "GET", "/api/v1/tokens?user_id="+bob.UserID, nil).want(t, 200)
	if !strings.Contains(string(l.Raw), "bob's") {
		t.Errorf("Bob's tokens as the administrator = %s", l.Raw)
	}
	made := e.call(anon, admin, "POST", "/api/v1/tokens", map[string]any{"name": "for bob", "user_id": bob.UserID}).want(t, 201)
	if tok, _ := made.Body["token"].(map[string]any); tok["user_id"] != bob.UserID {
		t.Errorf("token made for Bob = %s", made.Raw)
	}
	e.deniedAudit(bob, authn.ActionTokenCreate)
}

func TestAuthEndpointsInOpenAPI(t *testing.T) {
	e := newAuthEnv(t)
	doc := e.call(e.client(), "", "GET", "/api/v1/openapi.json", nil).want(t, 200)
	paths, _ := doc.Body["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/login", "/api/v1/logout", "/api/v1/tokens", "/api/v1/tokens/{id}"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("the OpenAPI document lacks %s", p)
		}
	}
}

// The kernel issue's first reproduction: a users.edit holder minted a
// token for the administrator (201) and took the server over. Now: 403,
// naming what the administrator holds, and audited.
func TestR22TokensForAnAdministratorByAUsersEditHolder(t *testing.T) {
	e := newAuthEnv(t)
	anon := e.client()
	helpdesk := e.user("helpdesk", domain.RoleSystemManagerID)
	e.do(&e.admin, "PUT", "/api/v1/users/"+helpdesk.UserID+"/password", map[string]any{"password": "helpdesk-secret-1"}).want(t, 200)
	hc := e.client()
	e.login(hc, "helpdesk", "helpdesk-secret-1").want(t, 200)
	tok := e.call(hc, "", "POST", "/api/v1/tokens", map[string]any{"name": "mine"}).want(t, 201).str("secret")

	e.call(anon, tok, "POST", "/api/v1/tokens", map[string]any{"name": "x", "user_id": e.admin.UserID}).problem(t, 403, "", "server.manage")
	e.call(anon, tok, "GET", "/api/v1/tokens?user_id="+e.admin.UserID, nil).problem(t, 403, "", "server.manage")
	e.deniedAudit(helpdesk, authn.ActionTokenCreate)
}
