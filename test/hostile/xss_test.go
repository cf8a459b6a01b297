package hostile

import (
	"fmt"
	"strings"
	"testing"
)

// xssPayloads are stored through REST and must come back escaped in the
// console, with the escaped form html/template writes.
var xssPayloads = []struct{ raw, escaped string }{
	{`<script>alert(1)</script>`, `&lt;script&gt;alert(1)&lt;/script&gt;`},
	// Slashes for spaces (browsers take them as attribute separators):
	// the payload must also be a username, and usernames have no spaces.
	{`"><img/src=x/onerror=alert(1)>`, `&#34;&gt;&lt;img/src=x/onerror=alert(1)&gt;`},
}

// TestStoredXSS stores script-looking names in every kind of object the
// console shows and checks that no console page gives the markup back raw.
func TestStoredXSS(t *testing.T) {
	t.Parallel()
	s := start(t)
	api := newClient(s.URL, adminToken(t, s.URL))
	type obj struct{ kind, id, page string }
	var objs []obj
	for i, p := range xssPayloads {
		g := idOf(t, api.must(t, 201, "POST", "/api/v1/groups", map[string]any{"name": p.raw, "description": p.raw, "scope": "system"}))
		objs = append(objs, obj{"group", g, "/admin/groups/" + g + "/general"})
		u := idOf(t, api.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": p.raw, "display_name": p.raw, "password": "xss-password-1"}))
		objs = append(objs, obj{"user", u, "/admin/users/" + u})
		pr := idOf(t, api.must(t, 201, "POST", "/api/v1/projects", map[string]any{"name": p.raw, "description": p.raw}))
		objs = append(objs, obj{"project", pr, "/admin/projects/" + pr + "/delete"})
		r := idOf(t, api.must(t, 201, "POST", "/api/v1/roles", map[string]any{"name": p.raw, "description": p.raw, "scope": "system", "permissions": []string{"users.view"}}))
		objs = append(objs, obj{"role", r, "/admin/roles/" + r})
		// A folder name may not contain "/" (it is a path separator):
		// the first payload is refused there, which is checked too.
		fr := api.do(t, "POST", "/api/v1/folders", map[string]any{"name": p.raw})
		if fr.Status == 201 {
			f := idOf(t, fr.json(t))
			objs = append(objs, obj{"folder", f, "/admin/folders/" + f})
		} else if fr.Status != 422 {
			t.Errorf("creating folder %q = %d: %s", p.raw, fr.Status, fr.Body)
		}
		api.must(t, 200, "POST", "/api/v1/groups/"+g+"/members", map[string]any{"members": []map[string]any{{"user_id": u}}})
		api.must(t, 201, "POST", "/api/v1/folder-types", map[string]any{"name": fmt.Sprintf("T%d %s", i, p.raw)})
	}
	con := consoleClient(t, s.URL, "admin", adminPassword)
	pages := []string{"/admin/groups", "/admin/users", "/admin/users?search=" + "%3C", "/admin/projects", "/admin/roles", "/admin/folders", "/admin/audit", "/preferences"}
	for _, o := range objs {
		pages = append(pages, o.page)
		if o.kind == "group" {
			for _, tab := range []string{"privileges", "projects", "rules", "folders", "members"} {
				pages = append(pages, "/admin/groups/"+o.id+"/"+tab)
			}
			pages = append(pages, "/admin/access?subject="+o.id)
		}
	}
	seen := map[string]bool{}
	for _, p := range pages {
		r := con.raw(t, "GET", p, nil, nil)
		if r.Status != 200 {
			t.Errorf("GET %s = %d, want 200: %.300s", p, r.Status, r.Body)
			continue
		}
		body := string(r.Body)
		for _, x := range xssPayloads {
			if strings.Contains(body, x.raw) {
				i := strings.Index(body, x.raw)
				t.Errorf("GET %s gives back %s unescaped: …%s…", p, x.raw, body[max(0, i-80):min(len(body), i+len(x.raw)+40)])
			}
			if strings.Contains(body, x.escaped) {
				seen[p+" "+x.raw] = true
			}
		}
	}
	// The list pages show every payload, escaped.
	for _, p := range []string{"/admin/groups", "/admin/users", "/admin/projects", "/admin/roles"} {
		for _, x := range xssPayloads {
			if !seen[p+" "+x.raw] {
				t.Errorf("GET %s does not show %s escaped as %s", p, x.raw, x.escaped)
			}
		}
	}
	s.checkLog(t)
	t.Logf("stored XSS: %d payloads in %d objects, %d console pages checked", len(xssPayloads), len(objs), len(pages))
}
