package rest_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/domain"
)

// Bad input gets a precise 4xx naming the field, never a 500, and
// leaves nothing half-written.
func TestBadInputIsAPrecise4xx(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Team")
	ft := e.do(&e.admin, "POST", "/api/v1/folder-types", map[string]any{"name": "Study", "contexts": []string{"root", "data"}}).want(t, 201).str("id")
	before := e.do(&e.admin, "GET", "/api/v1/audit?limit=1000", nil).want(t, 200)
	nBefore := len(before.Body["items"].([]any))

	cases := []struct {
		name, method, path string
		body               any
		status             int
		location           string
	}{
		{"wrong type", "POST", "/api/v1/groups", `{"name": 42, "scope": "system"}`, 422, "body.name"},
		{"unknown field", "POST", "/api/v1/groups", `{"name": "X", "scope": "system", "colour": "red"}`, 422, "body.colour"},
		{"bad enum", "POST", "/api/v1/groups", `{"name": "X", "scope": "galaxy"}`, 422, "body.scope"},
		{"missing field", "POST", "/api/v1/groups", `{"name": "X"}`, 422, "body"},
		{"not JSON", "POST", "/api/v1/groups", `{"name": `, 400, ""},
		{"empty name", "POST", "/api/v1/users", `{"username": "  "}`, 422, "body.username"},
		{"bad email", "POST", "/api/v1/users", `{"username": "x", "email": "nope"}`, 422, "body.email"},
		{"unknown permission key", "PUT", "/api/v1/groups/" + g + "/system-grants", `{"system_permissions": ["users.view", "users.fly"]}`, 422, "body.system_permissions[1]"},
		{"wrong scope permission", "POST", "/api/v1/roles", `{"name": "R", "scope": "system", "permissions": ["project.read"]}`, 422, "body.permissions[0]"},
		{"level name", "PUT", "/api/v1/folders/x/levels/" + g, `{"level": "godmode"}`, 422, "body.level"},
		{"expiry in the past", "POST", "/api/v1/groups/" + g + "/members", `{"members": [{"user_id": "` + e.admin.UserID + `", "expires_at": "2001-01-01T00:00:00Z"}]}`, 422, ""},
		{"expiry not a time", "POST", "/api/v1/groups/" + g + "/members", `{"members": [{"user_id": "x", "expires_at": "soon"}]}`, 422, "body.members[0].expires_at"},
		{"empty member list", "POST", "/api/v1/groups/" + g + "/members", `{"members": []}`, 422, "body.members"},
		{"bad resource", "POST", "/api/v1/check", `{"permission": "project.read", "resource": "planet:earth"}`, 422, "body.resource"},
		{"bad subject", "POST", "/api/v1/check", `{"subject": "robot", "permission": "project.read", "resource": "system"}`, 422, "body.subject"},
		{"unknown check permission", "POST", "/api/v1/check", `{"permission": "project.fly", "resource": "system"}`, 422, ""},
		{"rule on description (R10)", "POST", "/api/v1/groups/" + g + "/rules", `{"name": "r", "criteria": [{"folder_type_id": "` + ft + `", "property": "description", "operator": "eq", "value": "x"}], "grants": {"data": ["read"]}}`, 422, ""},
		{"check: unknown field", "POST", "/api/v1/check", `{"permission": "users.view", "resource": "system", "colour": 1}`, 422, "body.colour"},
		{"check: wrong type", "POST", "/api/v1/check", `{"permission": 7, "resource": "system"}`, 422, "body.permission"},
		{"check: trailing data", "POST", "/api/v1/check", `{"permission": "users.view", "resource": "system"} {}`, 400, ""},
		{"check: not JSON", "POST", "/api/v1/check", `{"permission"`, 400, ""},
		{"check: empty permission", "POST", "/api/v1/check", `{"permission": "", "resource": "system"}`, 422, "body.permission"},
		{"check: negative at_least", "POST", "/api/v1/check", `{"permission": "users.view", "resource": "system", "at_least": -1}`, 422, "body.at_least"},
		{"batch: wrong item type", "POST", "/api/v1/check/batch", `{"checks": [{"permission": "users.view", "resource": ["system"]}]}`, 422, "body.checks[0].resource"},
		{"batch: empty", "POST", "/api/v1/check/batch", `{"checks": []}`, 422, "body.checks"},
		{"batch: long permission", "POST", "/api/v1/check/batch", `{"checks": [{"permission": "` + strings.Repeat("p", 201) + `", "resource": "system"}]}`, 422, "body.checks[0].permission"},
		{"bad If-Match", "PATCH", "/api/v1/groups/" + g, `{"name": "Y"}`, 400, "header.If-Match"},
		{"limit too big", "GET", "/api/v1/users?limit=100000", nil, 422, "query.limit"},
		{"batch too big", "POST", "/api/v1/check/batch", batchOf(1001), 422, "body.checks"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.name == "bad If-Match" {
				hdr = []string{"If-Match", "yesterday"}
			}
			r := e.do(&e.admin, c.method, c.path, c.body, hdr...)
			r.problem(t, c.status, c.location)
		})
	}
	// Oversized bodies: 413.
	big := `{"name": "` + strings.Repeat("x", 1<<20) + `", "scope": "system"}`
	e.do(&e.admin, "POST", "/api/v1/groups", big).problem(t, 413, "")
	e.do(&e.admin, "POST", "/api/v1/check/batch", `{"checks": [`+strings.Repeat(`{"permission": "users.view", "resource": "system"},`, 25000)+`]}`).problem(t, 413, "")

	// Nothing was written by any of them: no success in the audit log, the
	// group list unchanged.
	after := e.do(&e.admin, "GET", "/api/v1/audit?limit=1000", nil).want(t, 200)
	for _, it := range after.Body["items"].([]any)[:len(after.Body["items"].([]any))-nBefore] {
		if m := it.(map[string]any); m["outcome"] == "success" {
			t.Errorf("a refused request wrote: %v", m)
		}
	}
	r := e.do(&e.admin, "GET", "/api/v1/groups?search=X", nil).want(t, 200)
	if items := r.Body["items"].([]any); len(items) != 0 {
		t.Errorf("groups named X exist: %s", r.Raw)
	}
}

func batchOf(n int) string {
	var b strings.Builder
	b.WriteString(`{"checks": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"permission": "users.view", "resource": "system"}`)
	}
	b.WriteString("]}")
	return b.String()
}

func TestFolderMoveCycleIsRefused(t *testing.T) {
	e := newEnv(t)
	a := e.do(&e.admin, "POST", "/api/v1/folders", map[string]any{"name": "a"}).want(t, 201).str("id")
	b := e.do(&e.admin, "POST", "/api/v1/folders", map[string]any{"name": "b", "parent_id": a}).want(t, 201).str("id")
	c := e.do(&e.admin, "POST", "/api/v1/folders", map[string]any{"name": "c", "parent_id": b}).want(t, 201).str("id")
	e.do(&e.admin, "PATCH", "/api/v1/folders/"+a, map[string]any{"parent_id": c}).problem(t, 422, "body.parent_id")
	e.do(&e.admin, "PATCH", "/api/v1/folders/"+a, map[string]any{"parent_id": a}).problem(t, 422, "body.parent_id")
	r := e.do(&e.admin, "GET", "/api/v1/folders/"+a, nil).want(t, 200)
	if r.str("parent_id") != "" || r.Header.Get("ETag") != `"1"` {
		t.Errorf("a after refused moves: %s (ETag %s)", r.Raw, r.Header.Get("ETag"))
	}
	// A legal move, then delete the subtree.
	e.do(&e.admin, "PATCH", "/api/v1/folders/"+c, map[string]any{"parent_id": ""}).want(t, 200)
	e.do(&e.admin, "DELETE", "/api/v1/folders/"+a, nil).want(t, 200)
	e.do(&e.admin, "GET", "/api/v1/folders/"+b, nil).problem(t, 404, "")
	e.do(&e.admin, "GET", "/api/v1/folders/"+c, nil).want(t, 200)
}

func TestETagsAndIfMatch(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Team")
	r := e.do(&e.admin, "GET", "/api/v1/groups/"+g, nil).want(t, 200)
	tag := r.Header.Get("ETag")
	if tag != `"1"` {
		t.Fatalf("ETag = %q", tag)
	}
	up := e.do(&e.admin, "PATCH", "/api/v1/groups/"+g, map[string]any{"description": "first"}, "If-Match", tag).want(t, 200)
	if up.Header.Get("ETag") != `"2"` {
		t.Errorf("ETag after update = %q", up.Header.Get("ETag"))
	}
	// A second writer with the old ETag: 412, and nothing changes.
	e.do(&e.admin, "PATCH", "/api/v1/groups/"+g, map[string]any{"description": "second"}, "If-Match", tag).problem(t, 412, "", "ETag is now")
	e.do(&e.admin, "PUT", "/api/v1/groups/"+g+"/system-grants", map[string]any{"system_permissions": []string{"users.view"}}, "If-Match", tag).problem(t, 412, "")
	e.do(&e.admin, "DELETE", "/api/v1/groups/"+g+"?confirm=true", nil, "If-Match", tag).problem(t, 412, "")
	if got := e.do(&e.admin, "GET", "/api/v1/groups/"+g, nil).str("description"); got != "first" {
		t.Errorf("description = %q after a stale write", got)
	}
	// Without If-Match the write is unconditional.
	e.do(&e.admin, "PATCH", "/api/v1/groups/"+g, map[string]any{"description": "third"}).want(t, 200)

	// The same on every versioned object.
	u := e.user("u", "")
	e.do(&e.admin, "PATCH", "/api/v1/users/"+u.UserID, map[string]any{"display_name": "U"}, "If-Match", `"1"`).want(t, 200)
	e.do(&e.admin, "PATCH", "/api/v1/users/"+u.UserID, map[string]any{"display_name": "V"}, "If-Match", `"1"`).problem(t, 412, "")
	e.do(&e.admin, "PUT", "/api/v1/users/"+u.UserID+"/status", map[string]any{"status": "disabled"}, "If-Match", `"1"`).problem(t, 412, "")
	p := e.project("P", "multiple")
	e.do(&e.admin, "PATCH", "/api/v1/projects/"+p, map[string]any{"description": "d"}, "If-Match", `"7"`).problem(t, 412, "")
	role := e.do(&e.admin, "POST", "/api/v1/roles", map[string]any{"name": "R", "scope": "system", "permissions": []string{"users.view"}}).want(t, 201).str("id")
	e.do(&e.admin, "PATCH", "/api/v1/roles/"+role, map[string]any{"description": "d"}, "If-Match", `"2"`).problem(t, 412, "")
	f := e.do(&e.admin, "POST", "/api/v1/folders", map[string]any{"name": "f"}).want(t, 201).str("id")
	e.do(&e.admin, "PATCH", "/api/v1/folders/"+f, map[string]any{"name": "g"}, "If-Match", `"3"`).problem(t, 412, "")
	ft := e.do(&e.admin, "POST", "/api/v1/folder-types", map[string]any{"name": "T"}).want(t, 201).str("id")
	e.do(&e.admin, "PUT", "/api/v1/folder-types/"+ft, map[string]any{"name": "T2", "contexts": []string{"root"}}, "If-Match", `"3"`).problem(t, 412, "")
	e.do(&e.admin, "PUT", "/api/v1/folder-types/"+ft, map[string]any{"name": "T2", "contexts": []string{"root"}}, "If-Match", `"1"`).want(t, 200)
}

func TestNoPanicReachesAClientAndErrorsAreProblems(t *testing.T) {
	e := newEnv(t)
	e.do(&e.admin, "GET", "/api/v1/nowhere", nil).want(t, 404)
	r := e.do(nil, "GET", "/api/v1/groups", nil, "Authorization", "Basic Zm9vOmJhcg==")
	r.problem(t, 401, "")
	for _, kind := range []domain.Kind{domain.KindInvalid, domain.KindNotFound, domain.KindExists, domain.KindConflict, domain.KindForbidden, domain.KindUnauthenticated, domain.KindUnavailable, domain.KindOther} {
		if got, want := rest.StatusFor(kind), map[domain.Kind]int{domain.KindInvalid: 422, domain.KindNotFound: 404, domain.KindExists: 409, domain.KindConflict: 409,
			domain.KindForbidden: 403, domain.KindUnauthenticated: 401, domain.KindUnavailable: 503, domain.KindOther: 500}[kind]; got != want {
			t.Errorf("status of %v = %d, want %d", kind, got, want)
		}
	}
	// A duplicate name is 409 exists.
	e.sysGroup("Dup")
	e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "dup", "scope": "system"}).problem(t, 409, "", "exists")
	_ = fmt.Sprint
}

func TestPanicIsA500Problem(t *testing.T) {
	e := newEnv(t)
	api := rest.New(e.svc, rest.AuthenticatorFunc(func(r *http.Request) (authn.Identity, error) {
		panic("boom")
	}), rest.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.h = api
	r := e.do(nil, "GET", "/api/v1/groups", nil)
	r.problem(t, 500, "", "internal error")
	if strings.Contains(string(r.Raw), "boom") {
		t.Errorf("the panic's text reached the client: %s", r.Raw)
	}
}

func TestWaitZeroAnswersAtOnce(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	e.do(&e.admin, "POST", "/api/v1/check", map[string]any{"permission": "users.view", "resource": "system", "at_least": 1 << 40, "wait_ms": 0}).problem(t, 503, "")
	e.do(&e.admin, "GET", "/api/v1/effective-permissions?resource=system&at_least=1099511627776&wait_ms=0", nil).problem(t, 503, "")
	if el := time.Since(start); el > time.Second {
		t.Errorf("wait_ms 0 waited %v", el)
	}
	e.do(&e.admin, "GET", "/api/v1/effective-permissions?resource=system&wait_ms=99999", nil).problem(t, 422, "query.wait_ms")
}

func TestValidationAnswersEchoNoSecrets(t *testing.T) {
	e := newEnv(t)
	r := e.do(&e.admin, "POST", "/api/v1/users", `{"username": "x", "password": "hunter2-very-secret", "colour": "red"}`)
	r.problem(t, 422, "body.colour")
	if strings.Contains(string(r.Raw), "hunter2") || r.str("kind") != "invalid" {
		t.Errorf("answer = %s", r.Raw)
	}
	r = e.do(&e.admin, "PUT", "/api/v1/users/"+e.admin.UserID+"/password", `{"password": 12345678}`)
	r.problem(t, 422, "body.password")
	if strings.Contains(string(r.Raw), "12345678") {
		t.Errorf("answer echoes the password: %s", r.Raw)
	}
}
