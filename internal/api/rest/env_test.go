package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testAuth authenticates "Authorization: Bearer test:<user id>"; no
// header is anonymous, anything else is a 401.
var testAuth = rest.AuthenticatorFunc(func(r *http.Request) (authn.Identity, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return authn.Anonymous("192.0.2.1"), nil
	}
	id, ok := strings.CutPrefix(h, "Bearer test:")
	if !ok {
		return authn.Identity{}, &httpauth.Failure{Status: http.StatusUnauthorized, Bearer: true, Detail: "unknown token"}
	}
	return authn.Identity{Principal: domain.Principal{UserID: id, Username: id}}, nil
})

// env is a bootstrapped SQLite database, its service and the API over
// it; admin is the initial administrator.
type env struct {
	t     testing.TB
	ctx   context.Context
	st    store.Store
	svc   *service.Service
	api   *rest.API
	h     http.Handler
	admin service.Caller
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, nil, nil)
}

// newEnvWith is newEnv with the service's clock now (nil: the time) and
// its store wrapped by wrap (nil: as it is).
func newEnvWith(t testing.TB, now func() time.Time, wrap func(store.Store) store.Store) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var st store.Store = db
	if wrap != nil {
		st = wrap(db)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := service.Bootstrap(ctx, st, service.BootstrapOptions{AdminPassword: "pw-admin-123", PasswordParams: &cheap, Log: quiet}); err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(ctx, st, service.Options{PasswordParams: &cheap, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.GetUserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	api := rest.New(svc, testAuth, rest.Options{Log: quiet})
	return &env{t: t, ctx: ctx, st: st, svc: svc, api: api, h: api, admin: service.Caller{UserID: a.ID, Username: a.Username}}
}

// resp is an answer: status, headers and decoded JSON body.
type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// do sends a request as caller (nil: anonymous); body is marshalled
// unless it is a string or []byte.
func (e *env) do(as *service.Caller, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, r)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if as != nil {
		req.Header.Set("Authorization", "Bearer test:"+as.UserID)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	out := resp{Status: w.Code, Header: w.Header(), Raw: w.Body.Bytes()}
	if len(out.Raw) > 0 && out.Raw[0] == '{' {
		if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, out.Raw)
		}
	}
	return out
}

// want fails unless the answer has the status.
func (r resp) want(t testing.TB, status int) resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Raw)
	}
	return r
}

// problem checks a problem+json answer: status, and optionally a field
// location among its errors and fragments of its detail.
func (r resp) problem(t testing.TB, status int, location string, fragments ...string) resp {
	t.Helper()
	r.want(t, status)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	if location != "" {
		found := false
		errs, _ := r.Body["errors"].([]any)
		for _, x := range errs {
			if m, _ := x.(map[string]any); m["location"] == location {
				found = true
			}
		}
		if !found {
			t.Errorf("no error at %q in %s", location, r.Raw)
		}
	}
	for _, f := range fragments {
		if !strings.Contains(string(r.Raw), f) {
			t.Errorf("body %s does not mention %q", r.Raw, f)
		}
	}
	return r
}

func (r resp) str(key string) string { s, _ := r.Body[key].(string); return s }

func (r resp) num(key string) int64 { f, _ := r.Body[key].(float64); return int64(f) }

// user creates a user through the API as admin, with an individual role.
func (e *env) user(name, roleID string) service.Caller {
	e.t.Helper()
	r := e.do(&e.admin, "POST", "/api/v1/users", map[string]any{"username": name, "email": name + "@example.org", "system_role_id": roleID}).want(e.t, 201)
	return service.Caller{UserID: r.str("id"), Username: name}
}

func (e *env) sysGroup(name string, keys ...string) string {
	e.t.Helper()
	if keys == nil {
		keys = []string{}
	}
	r := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": name, "scope": "system", "system_permissions": keys}).want(e.t, 201)
	return r.str("id")
}

func (e *env) project(name, mode string) string {
	e.t.Helper()
	r := e.do(&e.admin, "POST", "/api/v1/projects", map[string]any{"name": name, "membership_mode": mode}).want(e.t, 201)
	return r.str("id")
}

func (e *env) add(groupID string, users ...service.Caller) resp {
	e.t.Helper()
	var ms []map[string]any
	for _, u := range users {
		ms = append(ms, map[string]any{"user_id": u.UserID})
	}
	return e.do(&e.admin, "POST", "/api/v1/groups/"+groupID+"/members", map[string]any{"members": ms}).want(e.t, 200)
}

// deniedAudit checks, through the audit endpoint, that a refusal of
// action by actor was recorded.
func (e *env) deniedAudit(actor service.Caller, action string) {
	e.t.Helper()
	r := e.do(&e.admin, "GET", "/api/v1/audit?actor_id="+actor.UserID+"&action="+action, nil).want(e.t, 200)
	items, _ := r.Body["items"].([]any)
	for _, x := range items {
		if m, _ := x.(map[string]any); m["outcome"] == "denied" {
			return
		}
	}
	e.t.Errorf("no denied audit record of %s by %s in %s", action, actor.Username, r.Raw)
}
