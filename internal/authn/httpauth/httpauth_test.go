package httpauth

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

// fake recognises one session secret and one token.
type fake struct{ down bool }

const (
	goodSession = "good-session"
	goodToken   = "gh_good"
)

func (f fake) AuthenticateSession(ctx context.Context, s string) (authn.Identity, error) {
	if f.down {
		return authn.Identity{}, domain.E("fake", domain.KindUnavailable, errors.New("database on fire"))
	}
	if s != goodSession {
		return authn.Identity{}, domain.E("fake", domain.KindUnauthenticated, errors.New("not signed in: the session is unknown, signed out or expired"))
	}
	return authn.Identity{Principal: domain.Principal{UserID: "u1", Username: "ann"}, SessionID: "s1"}, nil
}

func (f fake) AuthenticateToken(ctx context.Context, s string) (authn.Identity, error) {
	if s != goodToken {
		return authn.Identity{}, domain.E("fake", domain.KindUnauthenticated, errors.New("invalid, revoked or expired API token"))
	}
	return authn.Identity{Principal: domain.Principal{UserID: "u2", Username: "bot", Limit: []string{domain.PermScimProvision}}, TokenID: "t1"}, nil
}

// serve runs r through the middleware and returns the response and the
// identity the handler saw (nil if it was not called).
func serve(h *Auth, r *http.Request) (*httptest.ResponseRecorder, *authn.Identity) {
	var seen *authn.Identity
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := FromContext(r.Context())
		if ok {
			seen = &id
		}
		w.WriteHeader(http.StatusNoContent)
	})
	w := httptest.NewRecorder()
	h.Middleware(next).ServeHTTP(w, r)
	return w, seen
}

func TestMiddleware(t *testing.T) {
	cases := []struct {
		name      string
		auth      string // Authorization header
		cookie    string // session cookie value
		method    string
		headers   map[string]string
		opts      Options
		down      bool
		status    int
		user      string // the identity's user ("" anonymous)
		via       string // "session", "token" or ""
		clears    bool   // the response clears the cookie
		wwwBearer bool   // WWW-Authenticate carries error="invalid_token"
	}{
		{name: "anonymous", status: 204},
		{name: "bearer token", auth: "Bearer " + goodToken, status: 204, user: "u2", via: "token"},
		{name: "bearer scheme in any case", auth: "bearer  " + goodToken + " ", status: 204, user: "u2", via: "token"},
		{name: "session cookie", cookie: goodSession, status: 204, user: "u1", via: "session"},
		{name: "bearer wins over the cookie", auth: "Bearer " + goodToken, cookie: goodSession, status: 204, user: "u2", via: "token"},
		{name: "bad bearer token", auth: "Bearer gh_nope", status: 401, wwwBearer: true},
		{name: "bad bearer never falls back to the cookie", auth: "Bearer gh_nope", cookie: goodSession, status: 401, wwwBearer: true},
		{name: "other scheme", auth: "Basic YWxpY2U6cHc=", status: 401, wwwBearer: true},
		{name: "bad cookie", cookie: "stale", status: 401, clears: true},
		{name: "bad cookie in the console goes anonymous", cookie: "stale", opts: Options{AnonymousOnStaleCookie: true}, status: 204, clears: true},
		{name: "bad token in the console is still 401", auth: "Bearer gh_nope", opts: Options{AnonymousOnStaleCookie: true}, status: 401, wwwBearer: true},
		{name: "cookie on a cross-site POST", cookie: goodSession, method: "POST", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "cookie on a same-origin POST", cookie: goodSession, method: "POST", headers: map[string]string{"Sec-Fetch-Site": "same-origin"}, status: 204, user: "u1", via: "session"},
		{name: "bearer on a cross-site POST", auth: "Bearer " + goodToken, method: "POST", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 204, user: "u2", via: "token"},
		{name: "store down", cookie: goodSession, down: true, status: 503},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New(fake{down: c.down}, c.opts)
			method := c.method
			if method == "" {
				method = "GET"
			}
			r := httptest.NewRequest(method, "http://gatehouse.example/api/v1/users", nil)
			r.RemoteAddr = "192.0.2.44:5150"
			if c.auth != "" {
				r.Header.Set("Authorization", c.auth)
			}
			if c.cookie != "" {
				r.AddCookie(&http.Cookie{Name: CookieName, Value: c.cookie})
			}
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			w, id := serve(h, r)
			if w.Code != c.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, c.status, w.Body)
			}
			if c.status == 204 {
				if id == nil {
					t.Fatalf("handler saw no identity")
				}
				if id.UserID != c.user || id.RemoteAddr != "192.0.2.44" {
					t.Errorf("identity = %+v, want user %q from 192.0.2.44", *id, c.user)
				}
				if got := map[bool]string{true: "session"}[id.SessionID != ""] + map[bool]string{true: "token"}[id.TokenID != ""]; got != c.via {
					t.Errorf("identity came via %q, want %q", got, c.via)
				}
				if c.user == "" && !id.Anonymous() {
					t.Errorf("identity = %+v, want anonymous", *id)
				}
			} else {
				checkProblem(t, w, c.status)
			}
			if c.status == 401 {
				wa := w.Header().Get("WWW-Authenticate")
				if !strings.HasPrefix(wa, "Bearer ") || strings.Contains(wa, "invalid_token") != c.wwwBearer {
					t.Errorf("WWW-Authenticate = %q, want Bearer (with invalid_token: %v)", wa, c.wwwBearer)
				}
			}
			if got := clearsCookie(w); got != c.clears {
				t.Errorf("response clears the session cookie: %v, want %v (Set-Cookie %q)", got, c.clears, w.Header().Values("Set-Cookie"))
			}
		})
	}
}

// checkProblem checks an RFC 9457 problem+json body.
func checkProblem(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("body %q is not JSON: %v", w.Body, err)
	}
	if p.Status != status || p.Title != http.StatusText(status) || p.Type == "" || p.Detail == "" {
		t.Errorf("problem = %+v, want status %d, title %q, a type and a detail", p, status, http.StatusText(status))
	}
	if strings.Contains(p.Detail, "fire") || strings.Contains(p.Detail, "fake") {
		t.Errorf("problem detail %q leaks an internal error", p.Detail)
	}
}

func clearsCookie(w *httptest.ResponseRecorder) bool {
	for _, c := range (&http.Response{Header: w.Header()}).Cookies() {
		if c.Name == CookieName && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

func TestFromContextWithoutMiddleware(t *testing.T) {
	id, ok := FromContext(context.Background())
	if ok || !id.Anonymous() {
		t.Errorf("FromContext without the middleware = %+v, %v; want anonymous, false", id, ok)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	ns := authn.NewSession{Secret: "s3cret", Session: domain.Session{ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}}
	cases := []struct {
		name   string
		tls    bool
		opts   Options
		secure bool
	}{
		{"plain HTTP", false, Options{}, false},
		{"TLS", true, Options{}, true},
		{"plain HTTP with --secure-cookies", false, Options{SecureCookies: true}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New(fake{}, c.opts)
			r := httptest.NewRequest("POST", "http://gatehouse.example/login", nil)
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, set := range []struct {
				what  string
				write func(w http.ResponseWriter)
			}{
				{"set", func(w http.ResponseWriter) { h.SetSessionCookie(w, r, ns) }},
				{"clear", func(w http.ResponseWriter) { h.ClearSessionCookie(w, r) }},
			} {
				w := httptest.NewRecorder()
				set.write(w)
				raw := w.Header().Get("Set-Cookie")
				cs := (&http.Response{Header: w.Header()}).Cookies()
				if len(cs) != 1 {
					t.Fatalf("%s: %d cookies, want 1", set.what, len(cs))
				}
				ck := cs[0]
				if ck.Name != CookieName || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure != c.secure {
					t.Errorf("%s: cookie %q, want %s; HttpOnly; SameSite=Lax; Path=/; Secure=%v", set.what, raw, CookieName, c.secure)
				}
				switch set.what {
				case "set":
					if ck.Value != "s3cret" || !ck.Expires.Equal(ns.Session.ExpiresAt) {
						t.Errorf("set: value %q expires %v, want the secret and the session's end", ck.Value, ck.Expires)
					}
				case "clear":
					if ck.Value != "" || ck.MaxAge >= 0 {
						t.Errorf("clear: value %q max-age %d, want empty and negative", ck.Value, ck.MaxAge)
					}
				}
			}
		})
	}
}

func TestWriteErrorThrottled(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, domain.E("authn.Login", domain.KindUnauthenticated, &authn.ThrottledError{RetryAfter: 1500 * time.Millisecond}))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
		t.Errorf("throttled: status %d Retry-After %q, want 429 and 2", w.Code, w.Header().Get("Retry-After"))
	}
	checkProblem(t, w, http.StatusTooManyRequests)
	if !strings.Contains(w.Body.String(), "too many failed sign-ins") {
		t.Errorf("body %s, want it to say why", w.Body)
	}
	w = httptest.NewRecorder()
	WriteError(w, domain.E("authn.Login", domain.KindUnauthenticated, errors.New("invalid username or password")))
	if w.Code != 401 || !strings.Contains(w.Body.String(), "invalid username or password") {
		t.Errorf("bad login: %d %s, want 401 with the generic message", w.Code, w.Body)
	}
}

// TestEndToEnd signs in over a real Authenticator and SQLite store, then
// uses the cookie and a token through the middleware.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	params := password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	hash, err := password.Hash("pw", params)
	if err != nil {
		t.Fatal(err)
	}
	u := domain.User{Username: "erin", Status: domain.UserActive, Source: domain.SourceLocal}
	_, err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "t", Action: "user.create", Outcome: domain.OutcomeSuccess})
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := authn.New(st, authn.Options{PasswordParams: &params})
	if err != nil {
		t.Fatal(err)
	}
	h := New(a, Options{})
	ns, err := a.Login(ctx, "erin", "pw", "192.0.2.1", "ua")
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "https://gatehouse.example/login", nil)
	r.TLS = &tls.ConnectionState{}
	h.SetSessionCookie(w, r, ns)

	r = httptest.NewRequest("GET", "/api/v1/me", nil)
	for _, c := range (&http.Response{Header: w.Header()}).Cookies() {
		r.AddCookie(c)
	}
	resp, id := serve(h, r)
	if resp.Code != 204 || id == nil || id.UserID != u.ID || id.SessionID != ns.Session.ID {
		t.Fatalf("with the cookie: %d %+v, want erin's session", resp.Code, id)
	}
	nt, err := a.CreateToken(ctx, *id, authn.TokenRequest{Name: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	r = httptest.NewRequest("GET", "/api/v1/me", nil)
	r.Header.Set("Authorization", "Bearer "+nt.Secret)
	resp, id = serve(h, r)
	if resp.Code != 204 || id == nil || id.TokenID != nt.Token.ID {
		t.Fatalf("with the token: %d %+v, want erin's token", resp.Code, id)
	}
	if err := a.Logout(ctx, SessionSecret(r), "192.0.2.1"); err != nil { // no cookie on r: nothing to do
		t.Fatal(err)
	}
	if err := a.Logout(ctx, ns.Secret, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	r = httptest.NewRequest("GET", "/api/v1/me", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: ns.Secret})
	resp, _ = serve(h, r)
	if resp.Code != 401 || !clearsCookie(resp) {
		t.Errorf("after sign-out: %d, clears cookie %v; want 401 clearing the cookie", resp.Code, clearsCookie(resp))
	}
}

// TestWriteErrorRetryAfterWholeSeconds: a wait of whole seconds is sent as
// it is (rounding up must not add one), and a wait under a second as 1.
func TestWriteErrorRetryAfterWholeSeconds(t *testing.T) {
	for wait, want := range map[time.Duration]string{30 * time.Second: "30", time.Millisecond: "1"} {
		w := httptest.NewRecorder()
		WriteError(w, domain.E("authn.Login", domain.KindUnauthenticated, &authn.ThrottledError{RetryAfter: wait}))
		if got := w.Header().Get("Retry-After"); got != want {
			t.Errorf("RetryAfter %v: Retry-After %q, want %q", wait, got, want)
		}
	}
}
