package rest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Bodies that encoding/json would take with a different meaning than the
// client's: invalid UTF-8 (stored as U+FFFD), names in another case
// (taken as the field), repeated names (the last kept). All refused,
// naming the field, and nothing is written.
func TestStrictJSONBodies(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Team")
	a, b := e.user("alice", ""), e.user("bob", "")
	groups := len(e.do(&e.admin, "GET", "/api/v1/groups?limit=1000", nil).want(t, 200).Body["items"].([]any))
	cases := []struct {
		name, method, path, body string
		status                   int
		location                 string
	}{
		{"invalid UTF-8", "POST", "/api/v1/groups", "{\"name\": \"bad\xff\xfe\", \"scope\": \"system\"}", 400, "body.name"},
		{"overlong UTF-8", "POST", "/api/v1/groups", "{\"name\": \"x\xc0\xafy\", \"scope\": \"system\"}", 400, "body.name"},
		{"lone surrogate", "POST", "/api/v1/groups", `{"name": "x\ud800", "scope": "system"}`, 400, "body.name"},
		{"lone surrogate in a list", "POST", "/api/v1/groups/" + g + "/members", `{"members": [{"user_id": "` + a.UserID + `"}, {"user_id": "\udc00"}]}`, 400, "body.members[1].user_id"},
		{"invalid UTF-8 in a check", "POST", "/api/v1/check", "{\"permission\": \"users.view\", \"resource\": \"system\xff\"}", 400, "body.resource"},
		{"name in upper case", "POST", "/api/v1/groups", `{"NAME": "Upper", "scope": "system"}`, 422, "body.NAME"},
		{"nested name in another case", "POST", "/api/v1/groups/" + g + "/members", `{"members": [{"User_ID": "` + a.UserID + `"}]}`, 422, "body.members[0].User_ID"},
		{"check name in upper case", "POST", "/api/v1/check", `{"PERMISSION": "users.view", "resource": "system"}`, 422, "body.PERMISSION"},
		{"repeated name", "POST", "/api/v1/groups", `{"name": "A", "name": "B", "scope": "system"}`, 422, "body.name"},
		{"repeated user_id", "POST", "/api/v1/groups/" + g + "/members", `{"members": [{"user_id": "` + a.UserID + `", "user_id": "` + b.UserID + `"}]}`, 422, "body.members[0].user_id"},
		{"repeated check field", "POST", "/api/v1/check", `{"permission": "users.view", "resource": "system", "resource": "project:x"}`, 422, "body.resource"},
		{"nested too deep", "POST", "/api/v1/groups", `{"name": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.do(&e.admin, c.method, c.path, c.body).problem(t, c.status, c.location)
		})
	}
	if n := len(e.do(&e.admin, "GET", "/api/v1/groups?limit=1000", nil).want(t, 200).Body["items"].([]any)); n != groups {
		t.Errorf("%d groups after the refused bodies, want %d", n, groups)
	}
	members := e.do(&e.admin, "GET", "/api/v1/groups/"+g+"/members", nil).want(t, 200)
	if n := len(members.Body["items"].([]any)); n != 0 {
		t.Errorf("refused member additions added %d members: %s", n, members.Raw)
	}
}

// A body must be sent as application/json (415 otherwise), as docs/api.md
// says; a body-less request needs no Content-Type.
func TestBodyNeedsJSONContentType(t *testing.T) {
	e := newEnv(t)
	body := `{"name": "CT", "scope": "system"}`
	for _, ct := range []string{"", "application/json-patch+json", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1"} {
		r := e.do(&e.admin, "POST", "/api/v1/groups", body, "Content-Type", ct)
		if ct == "" {
			r = e.raw(&e.admin, "POST", "/api/v1/groups", body, "")
		}
		r.problem(t, 415, "header.Content-Type")
	}
	id := e.do(&e.admin, "POST", "/api/v1/groups", body, "Content-Type", "application/json; charset=utf-8").want(t, 201).str("id")
	e.raw(&e.admin, "DELETE", "/api/v1/groups/"+id+"?confirm=true", "", "").want(t, 200)
}

// raw sends a request with exactly the Content-Type given ("" for none).
func (e *env) raw(as *service.Caller, method, path, body, contentType string) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if as != nil {
		req.Header.Set("Authorization", "Bearer test:"+as.UserID)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	out := resp{Status: w.Code, Header: w.Header(), Raw: w.Body.Bytes()}
	_ = json.Unmarshal(out.Raw, &out.Body)
	return out
}

// Every administrative endpoint (every operation of the OpenAPI document
// but the checks and signing in and out) answers an anonymous caller 401
// before it looks at the body or the parameters, even malformed ones.
func TestAnonymousIs401BeforeValidation(t *testing.T) {
	e := newEnv(t)
	public := map[string]bool{"check": true, "batch-check": true, "explain": true, "list-resources": true,
		"list-subjects": true, "effective-permissions": true, "login": true, "logout": true}
	doc, err := e.api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, ops := range spec.Paths {
		p := strings.NewReplacer("{id}", "x", "{group_id}", "y", "{project_id}", "z", "{user_id}", "u").Replace(path)
		for method, o := range ops {
			if public[o.OperationID] {
				continue
			}
			n++
			for _, body := range []string{"", `{"name": "x"}`, `{"name": `, "{\"name\": \"\xff\"}"} {
				r := e.raw(nil, strings.ToUpper(method), p+"?limit=0&cursor=forged", body, "application/json")
				if r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("anonymous %s %s %q = %d %s, want 401 with WWW-Authenticate", method, p, body, r.Status, r.Raw)
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d administrative operations found in the OpenAPI document", n)
	}
	// Anonymous checks about anonymous still work.
	e.do(nil, "POST", "/api/v1/check", `{"permission": "users.view", "resource": "system"}`).want(t, 200)
}

// Cursors are bound to their list and query (HMAC over both): another
// list's cursor, an altered or hand-made one, or one sent with another
// search is a 422 on query.cursor; limit is 1 to 1000.
func TestCursorsAreBoundToTheirQuery(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"c1", "c2", "c3"} {
		e.user(n, "")
		e.sysGroup("G" + n)
	}
	next := func(path string) string {
		t.Helper()
		c := e.do(&e.admin, "GET", path, nil).want(t, 200).str("next_cursor")
		if c == "" {
			t.Fatalf("%s: no next_cursor", path)
		}
		return c
	}
	gc := next("/api/v1/groups?limit=1&sort=name")
	uc := next("/api/v1/users?limit=1")
	// The cursor works where it came from, with another limit too.
	e.do(&e.admin, "GET", "/api/v1/groups?sort=name&limit=2&cursor="+url.QueryEscape(gc), nil).want(t, 200)
	e.do(&e.admin, "GET", "/api/v1/users?limit=1&cursor="+url.QueryEscape(uc), nil).want(t, 200)
	tampered := []byte(gc)
	tampered[len(tampered)/2] ^= 1
	for name, path := range map[string]string{
		"a /groups cursor on /users":    "/api/v1/users?limit=1&cursor=" + url.QueryEscape(gc),
		"a /users cursor on /groups":    "/api/v1/groups?limit=1&sort=name&cursor=" + url.QueryEscape(uc),
		"another sort":                  "/api/v1/groups?limit=1&sort=created_at&cursor=" + url.QueryEscape(gc),
		"another search":                "/api/v1/groups?limit=1&sort=name&search=G&cursor=" + url.QueryEscape(gc),
		"altered":                       "/api/v1/groups?limit=1&sort=name&cursor=" + url.QueryEscape(string(tampered)),
		"hand-made":                     "/api/v1/users?cursor=eyJuIjoiYSIsImkiOiJiIn0",
		"not base64":                    "/api/v1/users?cursor=%21%21",
		"another group's member cursor": "/api/v1/groups/" + everyone + "/members?cursor=" + url.QueryEscape(uc),
	} {
		t.Run(name, func(t *testing.T) {
			e.do(&e.admin, "GET", path, nil).problem(t, 422, "query.cursor")
		})
	}
	e.do(&e.admin, "GET", "/api/v1/users?limit=0", nil).problem(t, 422, "query.limit")
	e.do(&e.admin, "GET", "/api/v1/groups/"+everyone+"/members?limit=0", nil).problem(t, 422, "query.limit")
	e.do(&e.admin, "GET", "/api/v1/audit?limit=0", nil).problem(t, 422, "query.limit")
	e.do(&e.admin, "GET", "/api/v1/users?limit=1001", nil).problem(t, 422, "query.limit")
	e.do(&e.admin, "GET", "/api/v1/users?search=%ff%fe", nil).problem(t, 400, "query.search")
}

// Replicas on one database share the cursor key (service.CursorKey), so a
// cursor from one is taken by another; a key of its own would refuse it.
func TestCursorsWorkAcrossReplicas(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"r1", "r2", "r3"} {
		e.user(n, "")
	}
	k1, err := service.CursorKey(e.ctx, e.st)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := service.CursorKey(e.ctx, e.st)
	if err != nil || string(k1) != string(k2) {
		t.Fatalf("CursorKey twice = %x, %x (%v); want the same key", k1, k2, err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	one := rest.New(e.svc, testAuth, rest.Options{Log: quiet, CursorKey: k1})
	two := rest.New(e.svc, testAuth, rest.Options{Log: quiet, CursorKey: k2})
	get := func(h http.Handler, path string) resp {
		e := *e
		e.h = h
		return e.do(&e.admin, "GET", path, nil)
	}
	c := get(one, "/api/v1/users?limit=1").want(t, 200).str("next_cursor")
	page := get(two, "/api/v1/users?limit=1&cursor="+url.QueryEscape(c)).want(t, 200)
	if items, _ := page.Body["items"].([]any); len(items) != 1 {
		t.Errorf("second page on the other replica: %s", page.Raw)
	}
	get(e.api, "/api/v1/users?limit=1&cursor="+url.QueryEscape(c)).problem(t, 422, "query.cursor")
}

// Accessible domains are checked by one rule (domain.CheckDomainList):
// a domain name each, at most domain.MaxDomains.
func TestDomainNamesAndLimit(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Readers")
	path := "/api/v1/groups/" + g + "/domains"
	e.do(&e.admin, "PUT", path, map[string]any{"domains": []string{"ct.example.org", "xyz-hosp"}}).want(t, 200)
	for _, bad := range []string{"not a domain at all!", "<b>", "a..b"} {
		e.do(&e.admin, "PUT", path, map[string]any{"domains": []string{"ok.example", bad}}).problem(t, 422, "body.domains[1]", "not a domain name")
	}
	many := make([]string, domain.MaxDomains+1)
	for i := range many {
		many[i] = fmt.Sprintf("d%d.example.org", i)
	}
	e.do(&e.admin, "PUT", path, map[string]any{"domains": many}).problem(t, 422, "body.domains")
	e.do(&e.admin, "PUT", path, map[string]any{"domains": many[:domain.MaxDomains]}).want(t, 200)
	got := e.do(&e.admin, "GET", path, nil).want(t, 200)
	if n := len(got.Body["domains"].([]any)); n != domain.MaxDomains {
		t.Errorf("%d domains stored, want %d", n, domain.MaxDomains)
	}
}

// An operation that takes no cursor ignores one, as it ignores any
// parameter it does not declare.
func TestCursorOnlyWhereAListTakesOne(t *testing.T) {
	e := newEnv(t)
	e.do(&e.admin, "GET", "/api/v1/groups/"+everyone+"?cursor=forged", nil).want(t, 200)
	e.do(&e.admin, "GET", "/api/v1/groups?cursor=forged", nil).problem(t, 422, "query.cursor")
}
