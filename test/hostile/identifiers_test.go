package hostile

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Identifiers and passwords (issue 15): look-alike names, invisible and
// direction-changing characters, built-in group names and the password
// rules, each refused through the real binary over REST and SCIM, with the
// status and the field docs/api.md promises. The same values are in the
// corpus (hostileStrings) that every endpoint gets.

// refused sends a JSON request and checks the status and that the answer
// names what it must (a field, a character, a rule).
func refused(t *testing.T, c *client, want int, method, path string, body any, mentions ...string) {
	t.Helper()
	r := c.do(t, method, path, body)
	if r.Status != want {
		t.Errorf("%s %s %v = %d, want %d: %s", method, path, body, r.Status, want, r.Body)
		return
	}
	for _, m := range mentions {
		if !strings.Contains(string(r.Body), m) {
			t.Errorf("%s %s %v: the answer does not mention %q: %s", method, path, body, m, r.Body)
		}
	}
}

func TestIdentifiers(t *testing.T) {
	t.Parallel()
	s := start(t)
	api := newClient(s.URL, adminToken(t, s.URL))
	const users, groups = "/api/v1/users", "/api/v1/groups"
	api.must(t, 201, "POST", users, map[string]any{"username": "Alice"})
	api.must(t, 201, "POST", users, map[string]any{"username": "alice@example.com"}) // SCIM-style usernames are identifiers too
	// Look-alikes of taken usernames are taken (TR39 skeletons, in the store).
	for _, u := range []string{"\u0430dmin", "ａｄｍｉｎ", "AIice", "ADMIN"} {
		refused(t, api, http.StatusConflict, "POST", users, map[string]any{"username": u}, "body.username", "looks the same")
	}
	// Not identifiers at all (PRECIS UsernameCasePreserved).
	for u, why := range map[string]string{"ad\u200bmin2": "U+200B", "\u202eevil": "U+202E", "john smith": "spaces",
		"zw\u200djoin": "U+200D", "smile😀": "U+1F600", "abc\u05d0\u05d1": "right-to-left"} {
		refused(t, api, http.StatusUnprocessableEntity, "POST", users, map[string]any{"username": u}, "body.username", why)
	}

	staff := api.must(t, 201, "POST", groups, map[string]any{"name": "Staff", "scope": "system"})
	refused(t, api, http.StatusConflict, "POST", groups, map[string]any{"name": "\u0405taff", "scope": "system"}, "body.name", "looks the same")
	refused(t, api, http.StatusConflict, "POST", groups, map[string]any{"name": "Ｓｔａｆｆ", "scope": "system"}, "body.name")
	for n, why := range map[string]string{"St\u200baff": "U+200B", "\u202eStaff": "U+202E", "Staff\u2066x": "U+2066", "Sta\u00adff": "U+00AD"} {
		refused(t, api, http.StatusUnprocessableEntity, "POST", groups, map[string]any{"name": n, "scope": "system"}, "body.name", why)
	}
	// Names with spaces stay valid; runs of spaces become one.
	g := api.must(t, 201, "POST", groups, map[string]any{"name": "Normal   Users", "scope": "system"})
	if g["name"] != "Normal Users" {
		t.Errorf("group name stored as %q, want %q", g["name"], "Normal Users")
	}
	api.must(t, 200, "PATCH", groups+"/"+idOf(t, staff), map[string]any{"description": "kept its name"})

	api.must(t, 201, "POST", "/api/v1/roles", map[string]any{"name": "Auditor", "scope": "system", "permissions": []string{"users.view"}})
	refused(t, api, http.StatusConflict, "POST", "/api/v1/roles", map[string]any{"name": "\u0410uditor", "scope": "system", "permissions": []string{"users.view"}}, "body.name")
	api.must(t, 201, "POST", "/api/v1/projects", map[string]any{"name": "Oncology"})
	refused(t, api, http.StatusConflict, "POST", "/api/v1/projects", map[string]any{"name": "\u041encology"}, "body.name")
	refused(t, api, http.StatusUnprocessableEntity, "POST", "/api/v1/projects", map[string]any{"name": "Onco\u200blogy"}, "body.name", "U+200B")

	// A built-in group cannot take another built-in's name, even once the
	// other one was renamed.
	const admins, everyone = "00000000-0000-7000-8000-000000000001", "00000000-0000-7000-8000-000000000002"
	api.must(t, 200, "PATCH", groups+"/"+admins, map[string]any{"name": "Admins"})
	refused(t, api, http.StatusUnprocessableEntity, "PATCH", groups+"/"+everyone, map[string]any{"name": "Administrators"}, "body.name", "built-in Administrators group")
	refused(t, api, http.StatusUnprocessableEntity, "POST", groups, map[string]any{"name": "Administrators", "scope": "system"}, "built-in Administrators group")
	api.must(t, 200, "PATCH", groups+"/"+admins, map[string]any{"name": "Administrators"})

	// SCIM: the same rules, as SCIM errors.
	scimUser := func(name string) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name}
	}
	api.must(t, 201, "POST", "/scim/v2/Users", scimUser("bob@example.com"))
	refused(t, api, http.StatusConflict, "POST", "/scim/v2/Users", scimUser("b\u043eb@example.com"), "uniqueness")
	refused(t, api, http.StatusBadRequest, "POST", "/scim/v2/Users", scimUser("eve\u202e@example.com"), "U+202E")
	refused(t, api, http.StatusConflict, "POST", "/scim/v2/Groups",
		map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "\u0405taff"}, "uniqueness")
	if n := s.checkLog(t); n > 0 {
		t.Errorf("%d panics", n)
	}
}

func TestPasswords(t *testing.T) {
	t.Parallel()
	s := start(t, "--admin-password-min-length", "20")
	api := newClient(s.URL, adminToken(t, s.URL))
	const users = "/api/v1/users"
	for pw, why := range map[string]string{
		"short":                  "at least 8 characters",
		"password1":              "most common passwords",
		"PassWord123":            "most common passwords",
		"nul\x00inside-it":       "NUL",
		strings.Repeat("x", 257): "at most 256 characters",
		"carol-the-user":         "username",
	} {
		refused(t, api, http.StatusUnprocessableEntity, "POST", users, map[string]any{"username": "carol-the-user", "password": pw}, "body.password", why)
	}
	// No composition rule: lower-case letters and spaces are a fine password.
	carol := idOf(t, api.must(t, 201, "POST", users, map[string]any{"username": "carol", "password": "purple monkey dishwasher"}))
	// An administrator resets someone else's password without theirs.
	api.must(t, 200, "PUT", users+"/"+carol+"/password", map[string]any{"password": "orange llama teapot"})

	// Changing one's own password needs the current one.
	self := newClient(s.URL, tokenFor(t, s.URL, "carol", "orange llama teapot", nil))
	path := users + "/" + carol + "/password"
	refused(t, self, http.StatusUnprocessableEntity, "PUT", path, map[string]any{"password": "green heron lantern"}, "body.current_password")
	refused(t, self, http.StatusForbidden, "PUT", path, map[string]any{"password": "green heron lantern", "current_password": "wrong one!"}, "current password is not right")
	refused(t, self, http.StatusUnprocessableEntity, "PUT", path, map[string]any{"password": "iloveyou1", "current_password": "orange llama teapot"}, "most common")
	if n := auditCount(t, api, url.Values{"action": {"user.set_password"}, "target_id": {carol}}, "denied"); n != 1 {
		t.Errorf("%d denied user.set_password records for the wrong current password, want 1", n)
	}
	self.must(t, 200, "PUT", path, map[string]any{"password": "green heron lantern", "current_password": "orange llama teapot"})
	newClient(s.URL, "").must(t, 200, "POST", "/api/v1/login", map[string]any{"username": "carol", "password": "green heron lantern"})

	// --admin-password-min-length: members of Administrators need 20.
	api.must(t, 200, "POST", "/api/v1/groups/00000000-0000-7000-8000-000000000001/members", map[string]any{"members": []map[string]any{{"user_id": carol}}})
	refused(t, api, http.StatusUnprocessableEntity, "PUT", path, map[string]any{"password": "sixteen-chars-ok"}, "at least 20 characters for a member of Administrators")
	api.must(t, 200, "PUT", path, map[string]any{"password": "a much longer passphrase for carol"})
	if n := s.checkLog(t); n > 0 {
		t.Errorf("%d panics", n)
	}
}
