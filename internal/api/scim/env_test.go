package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api/scim"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type authFunc func(r *http.Request) (authn.Identity, error)

func (f authFunc) Identify(r *http.Request) (authn.Identity, error) { return f(r) }

// testAuth: "Bearer test:<user id>[:<limit,...>]" is an API token of that
// user (limited when a limit is given); "Cookie: session=<user id>" is a
// session; nothing is anonymous; anything else is 401.
var testAuth = authFunc(func(r *http.Request) (authn.Identity, error) {
	if c, err := r.Cookie("session"); err == nil {
		return authn.Identity{Principal: domain.Principal{UserID: c.Value, Username: c.Value}, SessionID: "s"}, nil
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return authn.Anonymous("192.0.2.1"), nil
	}
	rest, ok := strings.CutPrefix(h, "Bearer test:")
	if !ok {
		return authn.Identity{}, &httpauth.Failure{Status: http.StatusUnauthorized, Bearer: true, Detail: "unknown token"}
	}
	id, limit, _ := strings.Cut(rest, ":")
	p := domain.Principal{UserID: id, Username: id, RemoteAddr: "192.0.2.1"}
	if limit != "" {
		p.Limit = strings.Split(limit, ",")
	}
	return authn.Identity{Principal: p, TokenID: "tok"}, nil
})

type env struct {
	t     testing.TB
	ctx   context.Context
	st    store.Store
	svc   *service.Service
	h     http.Handler
	admin service.Caller
	token string // the admin's token limited to scim.provision
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := service.Bootstrap(ctx, st, service.BootstrapOptions{AdminPassword: "pw-admin-123", PasswordParams: &cheap, Log: quiet}); err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(ctx, st, service.Options{PasswordParams: &cheap})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.GetUserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(scim.Prefix+"/", scim.New(svc, testAuth, scim.Options{Log: quiet}))
	return &env{t: t, ctx: ctx, st: st, svc: svc, h: mux, admin: service.Caller{UserID: a.ID, Username: a.Username},
		token: "test:" + a.ID + ":" + domain.PermScimProvision}
}

type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// do sends a request with the admin's SCIM token; hdr are header pairs
// ("Authorization", "" sends none).
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, "http://gh.example"+scim.Prefix+path, r)
	if r != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	out := resp{Status: w.Code, Header: w.Header(), Raw: w.Body.Bytes()}
	if len(out.Raw) > 0 {
		if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, out.Raw)
		}
	}
	return out
}

// must sends a request and fails unless the status is want.
func (e *env) must(want int, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	r := e.do(method, path, body, hdr...)
	if r.Status != want {
		e.t.Fatalf("%s %s = %d, want %d\n%s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// scimErr checks an RFC 7644 §3.12 error response.
func (e *env) scimErr(r resp, status int, scimType string) {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status = %d, want %d\n%s", r.Status, status, r.Raw)
	}
	if got := str(r.Body, "status"); got != strconv.Itoa(status) {
		e.t.Errorf("error status = %q, want %q (a string)", got, strconv.Itoa(status))
	}
	if !hasSchema(r.Body, "urn:ietf:params:scim:api:messages:2.0:Error") {
		e.t.Errorf("error schemas = %v", r.Body["schemas"])
	}
	if got := str(r.Body, "scimType"); got != scimType {
		e.t.Errorf("scimType = %q, want %q\n%s", got, scimType, r.Raw)
	}
	if str(r.Body, "detail") == "" {
		e.t.Errorf("no detail: %s", r.Raw)
	}
}

func (e *env) user(name string, extra ...map[string]any) string {
	e.t.Helper()
	body := map[string]any{"schemas": []string{scim.URIUser}, "userName": name,
		"emails": []any{map[string]any{"value": name + "@example.org", "type": "work", "primary": true}}}
	for _, x := range extra {
		for k, v := range x {
			body[k] = v
		}
	}
	return str(e.must(201, "POST", "/Users", body).Body, "id")
}

func (e *env) group(name string, members ...string) string {
	e.t.Helper()
	ms := []any{}
	for _, m := range members {
		ms = append(ms, map[string]any{"value": m})
	}
	return str(e.must(201, "POST", "/Groups", map[string]any{"schemas": []string{scim.URIGroup}, "displayName": name, "members": ms}).Body, "id")
}

// get reads a dotted path ("meta.version", "emails.0.value") from v.
func get(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, path string) string { s, _ := get(v, path).(string); return s }

func num(v any, path string) int { f, _ := get(v, path).(float64); return int(f) }

func hasSchema(body map[string]any, uri string) bool {
	l, _ := body["schemas"].([]any)
	for _, s := range l {
		if s == uri {
			return true
		}
	}
	return false
}

func resources(r resp) []map[string]any {
	var out []map[string]any
	l, _ := r.Body["Resources"].([]any)
	for _, x := range l {
		out = append(out, x.(map[string]any))
	}
	return out
}

func names(r resp, attr string) []string {
	var out []string
	for _, res := range resources(r) {
		out = append(out, str(res, attr))
	}
	return out
}

func patchOp(ops ...map[string]any) map[string]any {
	l := []any{}
	for _, o := range ops {
		l = append(l, o)
	}
	return map[string]any{"schemas": []string{scim.URIPatchOp}, "Operations": l}
}
