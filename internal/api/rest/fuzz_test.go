package rest_test

import (
	"fmt"
	"strings"
	"testing"
)

// fuzzTargets are the endpoints whose request decoders FuzzDecode feeds.
var fuzzTargets = []struct{ method, path string }{
	{"POST", "/api/v1/check"},
	{"POST", "/api/v1/check/batch"},
	{"POST", "/api/v1/explain"},
	{"POST", "/api/v1/groups"},
	{"POST", "/api/v1/users"},
	{"POST", "/api/v1/roles"},
	{"POST", "/api/v1/folders"},
	{"POST", "/api/v1/groups/" + everyone + "/members"},
	{"POST", "/api/v1/groups/" + admins + "/group-members"},
	{"PUT", "/api/v1/groups/" + public + "/system-grants"},
	{"PATCH", "/api/v1/groups/" + admins},
}

// FuzzDecode feeds random bodies to the request decoders of a few
// endpoints: whatever the body, the answer is never a 5xx. The seed corpus
// is in testdata/fuzz/FuzzDecode; run longer with
// go test ./internal/api/rest -run '^$' -fuzz FuzzDecode -fuzztime 60s
func FuzzDecode(f *testing.F) {
	for i, b := range []string{
		`{"permission": "project.read", "resource": "system"}`,
		`{"checks": [{"permission": "root.read", "resource": "folder:x", "subject": "anonymous"}], "at_least": 1}`,
		`{"subject": "user:", "permission": "", "resource": "project:"}`,
		`{"name": "G", "scope": "project", "project_id": "nope", "system_permissions": ["x"]}`,
		`{"username": "\u0000", "email": "a@b", "password": ""}`,
		`{"name": "R", "scope": "system", "permissions": ["server.manage", "server.manage"]}`,
		`{"name": "f/g", "parent_id": "f", "properties": {"": "x"}}`,
		`{"members": [{"user_id": "x", "expires_at": "1970-01-01T00:00:00Z"}]}`,
		`{"groups": [{"group_id": "x", "expires_at": "soon"}, {"group_id": ""}]}`,
		`{"system_permissions": null, "system_role_id": 7}`,
		`{"name": null}`,
		`[]`, `null`, `"x"`, `{"at_least": -1, "wait_ms": 1e309}`,
		// strict input (issue 15): names in another case, a name twice, invalid UTF-8, a lone surrogate
		`{"NAME": "x", "scope": "system"}`, `{"members": [{"user_id": "a", "user_id": "b"}]}`,
		"{\"permission\": \"\xff\xfe\", \"resource\": \"system\"}", `{"name": "\ud800", "scope": "system"}`,
	} {
		f.Add(uint8(i), []byte(b))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, target uint8, body []byte) {
		tg := fuzzTargets[int(target)%len(fuzzTargets)]
		e := *e
		e.t = t
		r := e.do(&e.admin, tg.method, tg.path, body)
		// 503 is the answer to an at_least the server does not reach (R20).
		if r.Status >= 500 && !(r.Status == 503 && r.Body["kind"] == "unavailable" && r.Body["revision"] != nil) {
			t.Fatalf("%s %s with %q: status %d: %s", tg.method, tg.path, body, r.Status, r.Raw)
		}
	})
}

// queryTargets are the endpoints whose query parameters FuzzQuery feeds.
var queryTargets = []string{
	"/api/v1/users", "/api/v1/groups", "/api/v1/projects", "/api/v1/roles", "/api/v1/folders",
	"/api/v1/groups/" + everyone + "/members", "/api/v1/audit", "/api/v1/effective-permissions",
	"/api/v1/resources", "/api/v1/subjects", "/api/v1/tokens",
}

// FuzzQuery feeds random query strings (cursors, limits, sorts, subjects,
// resources, at_least and wait_ms) to the list and query endpoints:
// whatever the query, the answer is never a 5xx other than R20's 503. The
// seed corpus is in testdata/fuzz/FuzzQuery.
func FuzzQuery(f *testing.F) {
	for i, q := range []string{
		"limit=10&cursor=garbage", "limit=-1", "limit=1001&order=sideways", "sort=nope&search=%25_%5C",
		"subject=user:x&resource=folder:..&permission=root.read", "resource=system&permission=users.view&at_least=99&wait_ms=0",
		"since=yesterday&until=2020-13-45", "permission=nope&kind=folder&under=..", "user_id=../x", "cursor=eyJpIjoiJyBPUiAxPTEgLS0ifQ",
	} {
		f.Add(uint8(i), q)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, target uint8, q string) {
		path := queryTargets[int(target)%len(queryTargets)]
		// Only bytes a request line may hold are sent raw (httptest,
		// like a real client, cannot send others); the rest, and '#',
		// are percent-encoded, so every value still arrives.
		var b strings.Builder
		for i := 0; i < len(q); i++ {
			if c := q[i]; c <= ' ' || c >= 0x7f || c == '#' {
				fmt.Fprintf(&b, "%%%02X", c)
			} else {
				b.WriteByte(c)
			}
		}
		q = b.String()
		// at_least must not hold each input for the default 2 s.
		q += "&wait_ms=0"
		e := *e
		e.t = t
		r := e.do(&e.admin, "GET", path+"?"+q, nil)
		if r.Status >= 500 && !(r.Status == 503 && r.Body["kind"] == "unavailable") {
			t.Fatalf("GET %s?%s: status %d: %s", path, q, r.Status, r.Raw)
		}
	})
}
