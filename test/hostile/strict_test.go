package hostile

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The strict-input cases of issue 15 (docs/security.md), each with the
// exact answer the docs promise, against the real binary: invalid UTF-8,
// names in another case, repeated names, a missing or wrong Content-Type,
// cursors from another query, limit=0, anonymous callers before
// validation, and domain names and their count — on REST, SCIM and the
// console. They count in the run's tally, so they also keep 0 5xx.

// scase is one request with the status it must get and, for a REST
// problem, the location it must name.
type scase struct {
	c             *client
	method, path  string
	header        http.Header
	body          string
	status        int
	location, why string
}

func strictInput(t *testing.T, base string, admin, con *client, fx fixtures, ta *sub) {
	anon := newClient(base, "")
	jsonH := http.Header{"Content-Type": {"application/json"}}
	scimH := http.Header{"Content-Type": {"application/scim+json"}}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	g := idOf(t, admin.must(t, 201, "POST", "/api/v1/groups", map[string]any{"name": "Strict Group", "scope": "system"}))
	other := idOf(t, admin.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": "strict-other"}))
	groupsCursor := nextCursor(t, admin, "/api/v1/groups?limit=1")
	many := func(n int, sep string) string {
		ds := make([]string, n)
		for i := range ds {
			ds[i] = fmt.Sprintf("d%d.example.org", i)
		}
		return strings.Join(ds, sep)
	}
	cases := []scase{
		{admin, "POST", "/api/v1/groups", jsonH, "{\"name\": \"bad\xff\xfe\", \"scope\": \"system\"}", 400, "body.name", "invalid UTF-8"},
		{admin, "POST", "/api/v1/groups", jsonH, "{\"name\": \"x\xc0\xafy\", \"scope\": \"system\"}", 400, "body.name", "overlong UTF-8"},
		{admin, "POST", "/api/v1/groups", jsonH, `{"name": "x\ud800", "scope": "system"}`, 400, "body.name", "lone surrogate"},
		{admin, "POST", "/api/v1/groups", jsonH, `{"NAME": "Upper", "scope": "system"}`, 422, "body.NAME", "name in another case"},
		{admin, "POST", "/api/v1/check", jsonH, `{"Permission": "users.view", "resource": "system"}`, 422, "body.Permission", "check name in another case"},
		{admin, "POST", "/api/v1/groups/" + g + "/members", jsonH, `{"members": [{"user_id": "` + fx.user + `", "user_id": "` + other + `"}]}`, 422, "body.members[0].user_id", "repeated user_id"},
		{admin, "POST", "/api/v1/groups", nil, `{"name": "No CT", "scope": "system"}`, 415, "header.Content-Type", "no Content-Type"},
		{admin, "POST", "/api/v1/groups", http.Header{"Content-Type": {"application/json-patch+json"}}, `{"name": "Patch CT", "scope": "system"}`, 415, "header.Content-Type", "json-patch Content-Type"},
		{admin, "GET", "/api/v1/users?limit=1&cursor=" + url.QueryEscape(groupsCursor), nil, "", 422, "query.cursor", "a /groups cursor on /users"},
		{admin, "GET", "/api/v1/groups?limit=1&search=x&cursor=" + url.QueryEscape(groupsCursor), nil, "", 422, "query.cursor", "a cursor with another search"},
		{admin, "GET", "/api/v1/users?cursor=eyJuIjoiYSIsImkiOiJiIn0", nil, "", 422, "query.cursor", "a hand-made cursor"},
		{admin, "GET", "/api/v1/users?limit=0", nil, "", 422, "query.limit", "limit=0"},
		{anon, "POST", "/api/v1/groups", jsonH, `{"name": "x"}`, 401, "", "anonymous, schema error"},
		{anon, "POST", "/api/v1/groups", jsonH, `{"name": `, 401, "", "anonymous, malformed body"},
		{anon, "GET", "/api/v1/users?limit=0", nil, "", 401, "", "anonymous, bad parameter"},
		{admin, "PUT", "/api/v1/groups/" + g + "/domains", jsonH, `{"domains": ["not a domain at all!"]}`, 422, "body.domains[0]", "not a domain name"},
		{admin, "PUT", "/api/v1/groups/" + g + "/domains", jsonH, `{"domains": ["ok.example", "<b>"]}`, 422, "body.domains[1]", "markup as a domain"},
		{admin, "PUT", "/api/v1/groups/" + g + "/domains", jsonH, `{"domains": ["` + many(1001, `", "`) + `"]}`, 422, "body.domains", "1001 domains"},
		{admin, "POST", "/scim/v2/Users", scimH, "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"bad\xff\"}", 400, "", "SCIM invalid UTF-8"},
		{admin, "POST", "/scim/v2/Users", scimH, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x\ud800"}`, 400, "", "SCIM lone surrogate"},
		{admin, "POST", "/scim/v2/Users", scimH, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "USERNAME": "b"}`, 400, "", "SCIM attribute twice"},
		{admin, "POST", "/scim/v2/Users", nil, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "noct"}`, 415, "", "SCIM no Content-Type"},
		{admin, "POST", "/scim/v2/Users", http.Header{"Content-Type": {"application/json-patch+json"}}, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "patchct"}`, 415, "", "SCIM json-patch Content-Type"},
		{con, "POST", "/admin/groups", form, "name=bad%ff%fe&scope=system", 400, "", "console form invalid UTF-8"},
		{con, "POST", "/admin/groups/" + g + "/privileges", form, url.Values{"domains": {"not a domain at all!"}}.Encode(), 422, "", "console domain name"},
		{con, "POST", "/admin/groups/" + g + "/privileges", form, url.Values{"domains": {"<b>"}}.Encode(), 422, "", "console markup domain"},
		{con, "POST", "/admin/groups/" + g + "/privileges", form, url.Values{"domains": {many(10000, "\n")}}.Encode(), 422, "", "console 10000 domains"},
	}
	for _, sc := range cases {
		r, err := sc.c.send(sc.method, sc.path, sc.header, []byte(sc.body))
		ta.tried("strict " + sc.method + " " + strings.SplitN(sc.path, "?", 2)[0])
		switch {
		case err != nil:
			ta.fail(false, "%s: no answer: %v", sc.why, err)
		case r.Status >= 500:
			ta.fail(true, "%s: %s %s = %d: %.300s", sc.why, sc.method, shorten(sc.path), r.Status, r.Body)
		case r.Status != sc.status:
			ta.fail(false, "%s: %s %s = %d (%s), want %d: %.300s", sc.why, sc.method, shorten(sc.path), r.Status, r.Header.Get("Location"), sc.status, r.Body)
		case sc.location != "" && !strings.Contains(string(r.Body), `"location":"`+sc.location+`"`):
			ta.fail(false, "%s: the answer does not name %s: %.300s", sc.why, sc.location, r.Body)
		}
	}
	// Nothing of it was written.
	if d := admin.must(t, 200, "GET", "/api/v1/groups/"+g+"/domains", nil); len(d["domains"].([]any)) != 0 {
		t.Errorf("refused domain lists left %v", d["domains"])
	}
	if m := admin.must(t, 200, "GET", "/api/v1/groups/"+g+"/members", nil); len(m["items"].([]any)) != 0 {
		t.Errorf("a refused member list left %v", m["items"])
	}
	ta.done(t, "strict input")
}

func nextCursor(t *testing.T, c *client, path string) string {
	t.Helper()
	next, _ := c.must(t, 200, "GET", path, nil)["next_cursor"].(string)
	if next == "" {
		t.Fatalf("%s: no next_cursor", path)
	}
	return next
}
