package rest_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// R20: a write answers with its revision; a check with at_least that
// revision sees it; an at_least far in the future is 503 after the bound.
func TestAPI_R20CheckAtLeastAWritesRevision(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", "multiple")
	u := e.user("u", "")
	w := e.do(&e.admin, "PUT", "/api/v1/users/"+u.UserID+"/projects/"+p, map[string]any{"role_id": domain.RoleViewerID}).want(t, 200)
	rev := w.num("revision")
	if h := w.Header.Get("X-Gatehouse-Revision"); h != strconv.FormatInt(rev, 10) || rev == 0 {
		t.Fatalf("write revision: body %d, header %q", rev, h)
	}
	c := e.do(&e.admin, "POST", "/api/v1/check", map[string]any{"subject": "user:" + u.UserID, "permission": "project.read", "resource": "project:" + p, "at_least": rev}).want(t, 200)
	if c.Body["allowed"] != true || c.num("revision") < rev || c.Header.Get("X-Gatehouse-Revision") == "" {
		t.Errorf("check at_least %d = %s", rev, c.Raw)
	}
	// The user checks themself (no users.view needed).
	c = e.do(&u, "POST", "/api/v1/check", map[string]any{"permission": "project.write", "resource": "project:" + p, "at_least": rev}).want(t, 200)
	if c.Body["allowed"] != false {
		t.Errorf("viewer may write: %s", c.Raw)
	}

	start := time.Now()
	r := e.do(&e.admin, "POST", "/api/v1/check", map[string]any{"permission": "project.read", "resource": "system", "at_least": rev + 1000, "wait_ms": 100})
	r.problem(t, 503, "", "not available yet")
	if el := time.Since(start); el < 100*time.Millisecond || el > 3*time.Second {
		t.Errorf("503 after %v, want about the 100 ms asked", el)
	}
	if r.num("revision") != e.svc.Revision() || r.Header.Get("X-Gatehouse-Revision") == "" || r.Header.Get("Retry-After") == "" {
		t.Errorf("503 answer = %s %v", r.Raw, r.Header)
	}
	e.do(&e.admin, "POST", "/api/v1/check", map[string]any{"permission": "project.read", "resource": "system", "wait_ms": 60000}).problem(t, 422, "body.wait_ms")
	// Lists take at_least as a query parameter.
	e.do(&e.admin, "GET", fmt.Sprintf("/api/v1/effective-permissions?resource=project:%s&subject=user:%s&at_least=%d", p, u.UserID, rev), nil).want(t, 200)
	e.do(&e.admin, "GET", fmt.Sprintf("/api/v1/resources?kind=project&permission=project.read&at_least=%d&wait_ms=50", rev+1000), nil).problem(t, 503, "")
}

func TestChecksAskingAboutOthersNeedUsersView(t *testing.T) {
	e := newEnv(t)
	u := e.user("u", "")
	v := e.user("v", "")
	e.do(&u, "POST", "/api/v1/check", map[string]any{"subject": "user:" + v.UserID, "permission": "users.view", "resource": "system"}).problem(t, 403, "", "users.view")
	e.do(&u, "POST", "/api/v1/check", map[string]any{"subject": "user:" + u.UserID, "permission": "users.view", "resource": "system"}).want(t, 200)
	e.do(nil, "POST", "/api/v1/check", map[string]any{"subject": "user:" + v.UserID, "permission": "users.view", "resource": "system"}).problem(t, 401, "")
	e.do(&u, "GET", "/api/v1/subjects?permission=users.view&resource=system", nil).problem(t, 403, "")
	e.do(&e.admin, "POST", "/api/v1/check", map[string]any{"subject": "user:nobody", "permission": "users.view", "resource": "system"}).problem(t, 404, "")
}

func TestBatchCheck(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", "multiple")
	u := e.user("u", "")
	e.do(&e.admin, "PUT", "/api/v1/users/"+u.UserID+"/projects/"+p, map[string]any{"role_id": domain.RoleEditorID}).want(t, 200)
	checks := []map[string]any{
		{"subject": "user:" + u.UserID, "permission": "project.read", "resource": "project:" + p},
		{"subject": "user:" + u.UserID, "permission": "project.moderate", "resource": "project:" + p},
		{"subject": "anonymous", "permission": "project.read", "resource": "project:" + p},
		{"subject": "user:" + u.UserID, "permission": "project.fly", "resource": "project:" + p},
		{"subject": "user:" + u.UserID, "permission": "project.read", "resource": "planet:x"},
		{"permission": "server.manage", "resource": "system"},
	}
	r := e.do(&e.admin, "POST", "/api/v1/check/batch", map[string]any{"checks": checks}).want(t, 200)
	results, _ := r.Body["results"].([]any)
	if len(results) != len(checks) || r.num("revision") == 0 {
		t.Fatalf("batch = %s", r.Raw)
	}
	want := []any{true, false, false, "422", "422", true}
	for i, w := range want {
		res := results[i].(map[string]any)
		switch w := w.(type) {
		case bool:
			if res["allowed"] != w || res["error"] != nil {
				t.Errorf("result %d = %v, want allowed %v", i, res, w)
			}
		case string:
			ie, _ := res["error"].(map[string]any)
			if ie == nil || fmt.Sprint(ie["status"]) != w {
				t.Errorf("result %d = %v, want an item error %s", i, res, w)
			}
		}
	}
	if loc := results[4].(map[string]any)["error"].(map[string]any)["location"]; loc != "body.checks[4].resource" {
		t.Errorf("location = %v", loc)
	}
	// A caller without users.view gets each foreign check refused, and their own answered.
	r = e.do(&u, "POST", "/api/v1/check/batch", map[string]any{"checks": checks[:2]}).want(t, 200)
	results = r.Body["results"].([]any)
	if results[0].(map[string]any)["error"] != nil || results[0].(map[string]any)["allowed"] != true {
		t.Errorf("own check in batch = %v", results[0])
	}
	// The documented limit.
	e.do(&e.admin, "POST", "/api/v1/check/batch", batchOf(1000)).want(t, 200)
	e.do(&e.admin, "POST", "/api/v1/check/batch", batchOf(1001)).problem(t, 422, "body.checks")
}

func TestExplainAndLists(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", "multiple")
	g := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Readers", "scope": "project", "project_id": p}).want(t, 201).str("id")
	e.do(&e.admin, "PUT", "/api/v1/groups/"+g+"/projects/"+p, map[string]any{"role_id": domain.RoleViewerID}).want(t, 200)
	u := e.user("u", "")
	e.add(g, u)
	x := e.do(&e.admin, "POST", "/api/v1/explain", map[string]any{"subject": "user:" + u.UserID, "permission": "project.read", "resource": "project:" + p}).want(t, 200)
	paths, _ := x.Body["paths"].([]any)
	if x.Body["allowed"] != true || len(paths) == 0 || paths[0].(map[string]any)["group_name"] != "Readers" {
		t.Errorf("explain = %s", x.Raw)
	}
	d := e.do(&e.admin, "POST", "/api/v1/explain", map[string]any{"subject": "user:" + u.UserID, "permission": "project.write", "resource": "project:" + p}).want(t, 200)
	if d.Body["allowed"] != false || d.Body["considered"] == nil {
		t.Errorf("explain deny = %s", d.Raw)
	}
	rs := e.do(&u, "GET", "/api/v1/resources?kind=project&permission=project.read", nil).want(t, 200)
	if ids, _ := rs.Body["ids"].([]any); len(ids) != 1 || ids[0] != p {
		t.Errorf("resources = %s", rs.Raw)
	}
	ss := e.do(&e.admin, "GET", "/api/v1/subjects?permission=project.read&resource=project:"+p, nil).want(t, 200)
	if users, _ := ss.Body["users"].([]any); len(users) < 2 {
		t.Errorf("subjects = %s", ss.Raw)
	}
	ep := e.do(&u, "GET", "/api/v1/effective-permissions?resource=project:"+p, nil).want(t, 200)
	if perms, _ := ep.Body["permissions"].([]any); len(perms) != 1 || perms[0] != "project.read" {
		t.Errorf("effective = %s", ep.Raw)
	}
	e.do(&u, "GET", "/api/v1/resources?kind=planet&permission=project.read", nil).problem(t, 422, "query.kind")
}

// TestSubjectByUsername: "username:<name>" names a user as "user:<id>"
// does, in any case; a caller may name themselves without users.view, but
// naming another needs it (and an unknown name is answered only then, so
// the question reveals nothing).
func TestSubjectByUsername(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", "multiple")
	u := e.user("ursula", "")
	v := e.user("victor", "")
	e.do(&e.admin, "PUT", "/api/v1/users/"+u.UserID+"/projects/"+p, map[string]any{"role_id": domain.RoleEditorID}).want(t, 200)
	check := func(as *service.Caller, subject string) resp {
		return e.do(as, "POST", "/api/v1/check", map[string]any{"subject": subject, "permission": "project.write", "resource": "project:" + p})
	}
	if r := check(&e.admin, "username:URSULA").want(t, 200); r.Body["allowed"] != true {
		t.Errorf("username:URSULA = %s, want allowed like user:<id>", r.Raw)
	}
	if r := check(&e.admin, "username:victor").want(t, 200); r.Body["allowed"] != false {
		t.Errorf("username:victor = %s, want denied", r.Raw)
	}
	check(&e.admin, "username:nobody").problem(t, 422, "body.subject", "nobody")
	check(&e.admin, "username:").problem(t, 422, "body.subject")
	// Yourself by name: no users.view needed.
	if r := check(&u, "username:ursula").want(t, 200); r.Body["allowed"] != true {
		t.Errorf("ursula asking about herself by name = %s", r.Raw)
	}
	// Another by name, or an unknown name, without users.view: refused
	// before the name is looked up.
	check(&v, "username:ursula").problem(t, 403, "", "users.view")
	check(&v, "username:nobody").problem(t, 403, "", "users.view")
	// Lists and batches take names too.
	e.do(&e.admin, "GET", "/api/v1/effective-permissions?resource=project:"+p+"&subject=username:ursula", nil).want(t, 200)
	r := e.do(&e.admin, "POST", "/api/v1/check/batch", map[string]any{"checks": []map[string]any{
		{"subject": "username:ursula", "permission": "project.write", "resource": "project:" + p},
		{"subject": "username:nobody", "permission": "project.write", "resource": "project:" + p},
	}}).want(t, 200)
	results := r.Body["results"].([]any)
	if results[0].(map[string]any)["allowed"] != true {
		t.Errorf("batch item by name = %v", results[0])
	}
	if ie, _ := results[1].(map[string]any)["error"].(map[string]any); ie == nil || ie["location"] != "body.checks[1].subject" {
		t.Errorf("batch item with an unknown name = %v, want an item error at body.checks[1].subject", results[1])
	}
}
