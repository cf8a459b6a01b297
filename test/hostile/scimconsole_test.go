package hostile

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// ---- SCIM ----

const scimError = "urn:ietf:params:scim:api:messages:2.0:Error"

func hostileSCIM(t *testing.T, c *client, fx fixtures, ta *sub) {
	const P = "/scim/v2"
	scimJSON := http.Header{"Content-Type": {"application/scim+json"}}
	var cases, deletes []hcase
	add := func(ep, method, path string, h http.Header, body []byte, what string) {
		hc := hcase{endpoint: "SCIM " + method + " " + ep, method: method, path: path, header: h, body: body, what: what}
		if method == http.MethodDelete {
			deletes = append(deletes, hc)
		} else {
			cases = append(cases, hc)
		}
	}
	// Discovery and every method on every endpoint.
	for _, ep := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas",
		"/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "/Me", "/Users", "/Groups", "/.search", "/Bulk",
		"/Users/.search", "/Groups/.search", "/Users/" + fx.user, "/Groups/" + fx.group, "/Nope", "/Users/a/b/c"} {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"} {
			if m == "DELETE" && (strings.HasPrefix(ep, "/Users/") || strings.HasPrefix(ep, "/Groups/")) {
				continue // the fixtures are deleted last, below
			}
			add(ep, m, P+ep, scimJSON, []byte(`{}`), "method "+m)
		}
	}
	// Filters and paging on the two lists and in .search.
	for _, res := range []string{"/Users", "/Groups"} {
		for _, f := range hostileFilters() {
			add(res, "GET", P+res+"?filter="+url.QueryEscape(f), nil, nil, "filter "+label(f))
			b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": f})
			add(res+"/.search", "POST", P+res+"/.search", scimJSON, b, "search filter "+label(f))
		}
		for _, p := range []string{"startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes"} {
			vals := append(hostileQueryValues(), "a..b", "urn:bad:", "emails[type eq \"x\"]", "meta.created.x", strings.Repeat("a,", 3000))
			for _, v := range vals {
				add(res, "GET", P+res+"?"+url.Values{p: {v}}.Encode(), nil, nil, p+"="+label(v))
			}
			for _, v := range []any{-1, 1e20, "x", []any{}, map[string]any{}, true} {
				b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, p: v})
				add("/.search", "POST", P+"/.search", scimJSON, b, "search "+p+"="+label(v))
			}
		}
	}
	// Path ids.
	for _, res := range []string{"/Users/", "/Groups/"} {
		for _, id := range hostileIDs() {
			for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
				add(res+"{id}", m, P+res+id, scimJSON, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}`), "id "+label(id))
			}
		}
	}
	// Bodies for every endpoint that reads one.
	userBody := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "scim-hostile"}
	groupBody := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "SCIM hostile"}
	type target struct {
		ep, method, path string
		base             map[string]any
		fields           []string
	}
	targets := []target{
		{"/Users", "POST", P + "/Users", userBody, []string{"userName", "displayName", "emails", "active", "name", "externalId", "password", "schemas", "groups"}},
		{"/Groups", "POST", P + "/Groups", groupBody, []string{"displayName", "members", "externalId", "schemas"}},
		{"/Users/{id}", "PUT", P + "/Users/" + fx.user, userBody, []string{"userName", "emails", "active", "name", "id", "meta"}},
		{"/Groups/{id}", "PUT", P + "/Groups/" + fx.group, groupBody, []string{"displayName", "members", "externalId", "id"}},
		{"/Bulk", "POST", P + "/Bulk", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}}, []string{"Operations", "failOnErrors"}},
		{"/Users/{id}", "PATCH", P + "/Users/" + fx.user, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}}, []string{"Operations"}},
		{"/Groups/{id}", "PATCH", P + "/Groups/" + fx.group, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}}, []string{"Operations"}},
	}
	for _, tg := range targets {
		with := func(k string, v any) []byte {
			m := map[string]any{}
			for bk, bv := range tg.base {
				m[bk] = bv
			}
			m[k] = v
			b, _ := json.Marshal(m)
			return b
		}
		for _, b := range malformedJSON() {
			add(tg.ep, tg.method, tg.path, scimJSON, []byte(b), "body "+label(b))
		}
		for _, b := range append(deepJSON(10000), hugeJSON()...) {
			add(tg.ep, tg.method, tg.path, scimJSON, []byte(b), "deep or huge body")
		}
		good, _ := json.Marshal(tg.base)
		for _, ct := range contentTypes {
			add(tg.ep, tg.method, tg.path, http.Header{"Content-Type": {ct}}, good, "content type "+label(ct))
		}
		for _, k := range tg.fields {
			for _, v := range append(wrongTypes(""), wrongTypes("array")...) {
				add(tg.ep, tg.method, tg.path, scimJSON, with(k, v), "wrong type "+k+"="+label(v))
			}
			for _, v := range hostileStrings() {
				add(tg.ep, tg.method, tg.path, scimJSON, with(k, v), k+"="+label(v))
			}
			b := with(k, "VALUE")
			add(tg.ep, tg.method, tg.path, scimJSON, []byte(strings.Replace(string(b), "VALUE", "\xff\xfe", 1)), k+" invalid UTF-8")
		}
	}
	// PATCH operations: paths, ops, values. fx.user is a local user, which
	// SCIM does not see (404); a user provisioned over SCIM gets the
	// operations applied.
	provisioned := idOf(t, c.must(t, 201, "POST", P+"/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "scim-fixture", "emails": []any{map[string]any{"value": "scim-fixture@example.org", "type": "work"}}}))
	for _, res := range []string{"/Users/" + fx.user, "/Users/" + provisioned, "/Groups/" + fx.group} {
		ep := strings.SplitN(res, "/", 3)[1]
		for _, p := range hostilePatchPaths() {
			for _, op := range []string{"add", "replace", "remove"} {
				for _, v := range []any{"x", nil, []any{map[string]any{"value": "../x"}}, map[string]any{"a": map[string]any{"b": 1}}} {
					b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
						"Operations": []any{map[string]any{"op": op, "path": p, "value": v}}})
					add("/"+ep+"/{id}", "PATCH", "/scim/v2"+res, scimJSON, b, "patch "+op+" "+label(p))
				}
			}
		}
		for _, op := range []any{"", "ADD", "move", 1, nil, []any{}, "<script>"} {
			b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": op, "path": "displayName", "value": "x"}}})
			add("/"+ep+"/{id}", "PATCH", "/scim/v2"+res, scimJSON, b, "patch op "+label(op))
		}
		// Preconditions: If-Match on PATCH and PUT (a no-op write, so a
		// tag that matches changes nothing either).
		noop, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "remove", "path": `emails[type eq "nonexistent"]`}}})
		for _, v := range hostileEntityTags() {
			add("/"+ep+"/{id}", "PATCH", "/scim/v2"+res, http.Header{"Content-Type": {"application/scim+json"}, "If-Match": {v}}, noop, "If-Match "+label(v))
			add("/"+ep+"/{id}", "PUT", "/scim/v2"+res, http.Header{"Content-Type": {"application/scim+json"}, "If-Match": {v}}, []byte(`{}`), "If-Match "+label(v))
		}
		many := make([]any, 20000)
		for i := range many {
			many[i] = map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": fmt.Sprintf("a%d@x", i)}}}
		}
		b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": many})
		add("/"+ep+"/{id}", "PATCH", "/scim/v2"+res, scimJSON, b, "20000 patch operations")
	}
	// Bulk: bad operations, cycles, too many.
	bulkOps := []any{
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "a", "data": map[string]any{"userName": "bulk-a", "groups": []any{map[string]any{"value": "bulkId:a"}}}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g", "data": map[string]any{"displayName": "BG", "members": []any{map[string]any{"value": "bulkId:g"}}}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "h", "data": map[string]any{"displayName": "BH", "members": []any{map[string]any{"value": "bulkId:nope"}}}},
		map[string]any{"method": "PATCH", "path": "/Users/../Groups/" + fx.group, "data": map[string]any{}},
		map[string]any{"method": "DELETE", "path": "/Users/%2e%2e"},
		map[string]any{"method": "GET", "path": "/Users"},
		map[string]any{"method": "TRACE", "path": "/Bulk"},
		map[string]any{"method": "POST", "path": "/Bulk", "data": map[string]any{"Operations": []any{}}},
		map[string]any{"method": 1, "path": []any{}, "bulkId": map[string]any{}},
		"not an object", nil,
		map[string]any{"method": "PATCH", "path": "/Users/" + fx.user, "version": `W/"wrong-version"`, "data": map[string]any{}},
		map[string]any{"method": "PUT", "path": "/Groups/" + fx.group, "version": `"a,b", W/"x"`, "data": groupBody},
		map[string]any{"method": "DELETE", "path": "/Groups/" + fx.group, "version": "garbage"},
		map[string]any{"method": "DELETE", "path": "/Users/" + fx.user, "version": 17},
		// A group as a member (nested groups, accepted), one of a type
		// outside canonicalValues (User, Group), the group in itself.
		map[string]any{"method": "POST", "path": "/Groups", "data": map[string]any{"displayName": "Nested", "members": []any{map[string]any{"value": fx.group, "type": "Group"}}}},
		map[string]any{"method": "POST", "path": "/Groups", "data": map[string]any{"displayName": "Device", "members": []any{map[string]any{"value": fx.group, "type": "Device"}}}},
		map[string]any{"method": "PATCH", "path": "/Groups/" + fx.group, "data": map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": fx.group}}}}}},
	}
	for _, op := range bulkOps {
		for _, foe := range []any{nil, -1, 0, 1, "x"} {
			b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "failOnErrors": foe, "Operations": []any{op}})
			add("/Bulk", "POST", P+"/Bulk", scimJSON, b, "bulk op "+label(op))
		}
	}
	tooMany := make([]any, 1001)
	for i := range tooMany {
		tooMany[i] = map[string]any{"method": "DELETE", "path": "/Users/nope"}
	}
	b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": tooMany})
	add("/Bulk", "POST", P+"/Bulk", scimJSON, b, "1001 bulk operations")
	// Finally the fixtures themselves are deleted, with odd headers.
	for _, res := range []string{"/Users/" + fx.user, "/Groups/" + fx.group} {
		ep := "/" + strings.SplitN(res, "/", 3)[1] + "/{id}"
		for _, v := range []string{`W/"abc"`, `"-1"`, "\u00e9", strings.Repeat(`"1",`, 500)} {
			add(ep, "DELETE", P+res, http.Header{"If-Match": {v}}, nil, "If-Match "+label(v))
		}
	}
	judge := func(hc hcase, r response) {
		if r.Status < 400 || transportLevel(r) {
			return
		}
		var e struct {
			Schemas []string `json:"schemas"`
			Status  string   `json:"status"`
			Detail  string   `json:"detail"`
		}
		if err := json.Unmarshal(r.Body, &e); err != nil || len(e.Schemas) != 1 || e.Schemas[0] != scimError ||
			e.Status != fmt.Sprint(r.Status) || e.Detail == "" {
			ta.fail(false, "%s %s (%s): %d is not a SCIM error with a detail: %.300s", hc.method, shorten(hc.path), hc.what, r.Status, r.Body)
		}
	}
	run(t, c, ta.tally, cases, judge)
	run(t, c, ta.tally, deletes, judge)
	ta.done(t, "SCIM")
}

// ---- console ----

var (
	consoleRouteRE = regexp.MustCompile(`m\.(?:HandleFunc|Handle)\("(GET|POST) (/[^"]*)"`)
	formNameRE     = regexp.MustCompile(`name="([A-Za-z0-9_.\-\[\]]+)"`)
	formGetRE      = regexp.MustCompile(`(?:PostForm|Form|URL\.Query\(\))\.Get\("([^"]+)"\)|Form(?:Value)?\("([^"]+)"\)|PostForm\["([^"]+)"\]|Form\["([^"]+)"\]`)
)

// consoleRoute is one route of the console, read from its source.
type consoleRoute struct{ method, pattern string }

// consoleRoutes reads every route the console registers from its source,
// so that a new page or form is attacked without editing this test.
func consoleRoutes(t *testing.T) []consoleRoute {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repoRoot, "internal", "api", "console", "*.go"))
	var out []consoleRoute
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range consoleRouteRE.FindAllStringSubmatch(string(b), -1) {
			out = append(out, consoleRoute{m[1], m[2]})
		}
	}
	if len(out) < 30 {
		t.Fatalf("found %d console routes in internal/api/console; the route pattern changed?", len(out))
	}
	return out
}

// consoleFields are the form and query field names the console reads or
// draws, from its source and templates.
func consoleFields(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(repoRoot, "internal", "api", "console", "*.go"))
	tpls, _ := filepath.Glob(filepath.Join(repoRoot, "internal", "api", "console", "templates", "*.html"))
	for _, f := range append(files, tpls...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range formNameRE.FindAllStringSubmatch(string(b), -1) {
			set[m[1]] = true
		}
		for _, m := range formGetRE.FindAllStringSubmatch(string(b), -1) {
			for _, g := range m[1:] {
				if g != "" {
					set[g] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func hostileConsole(t *testing.T, c *client, fx fixtures, ta *sub) {
	routes := consoleRoutes(t)
	fields := consoleFields(t)
	var cases, last []hcase
	formHeader := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for _, rt := range routes {
		ep := "console " + rt.method + " " + rt.pattern
		add := func(hc hcase) {
			hc.endpoint, hc.method = ep, rt.method
			// Deleting, revoking and signing out go last, so that the
			// other forms still find their objects and session.
			if strings.Contains(rt.pattern, "delete") || strings.Contains(rt.pattern, "logout") || strings.Contains(rt.pattern, "revoke") ||
				strings.Contains(rt.pattern, "password") || strings.HasSuffix(rt.pattern, "/status") {
				last = append(last, hc)
			} else {
				cases = append(cases, hc)
			}
		}
		valid := fx.fill(rt.pattern, "", "")
		if rt.pattern == "/static/" {
			for _, p := range []string{"/static/..%2f..%2fconsole.go", "/static/%2e%2e/%2e%2e/templates/layout.html", "/static/../../etc/passwd", "/static/%00", "/static/" + strings.Repeat("a/", 1000)} {
				add(hcase{path: p, what: "static traversal"})
			}
			continue
		}
		for _, m := range paramRE.FindAllStringSubmatch(rt.pattern, -1) {
			if m[1] == "$" {
				continue
			}
			for _, id := range append(hostileIDs(), "new") {
				add(hcase{path: fx.fill(rt.pattern, m[1], id), header: formHeader, body: []byte("name=x"), what: "path " + m[1] + "=" + label(id)})
			}
		}
		if rt.method == http.MethodGet {
			vals := hostileQueryValues()
			if !*long {
				// Every field with the values most likely to break a
				// parser; -long sends them all.
				vals = vals[:13]
			}
			for _, f := range fields {
				for _, v := range vals {
					add(hcase{path: valid + "?" + url.Values{f: {v}}.Encode(), what: "query " + f + "=" + label(v)})
				}
			}
			continue
		}
		// POST: every field at once with each hostile value, then
		// malformed bodies.
		for _, v := range append(hostileStrings(), hostileQueryValues()...) {
			form := url.Values{}
			for _, f := range fields {
				form.Set(f, v)
			}
			add(hcase{path: valid, header: formHeader, body: []byte(form.Encode()), what: "every field=" + label(v)})
		}
		for _, b := range []string{"a=%zz", "%", "name=\xff\xfe", "=&=&=", strings.Repeat("a[b]", 5000) + "=1",
			"name=" + strings.Repeat("x", 1<<20+10), strings.Repeat("a=1&", 300000)} {
			add(hcase{path: valid, header: formHeader, body: []byte(b), what: "form body " + label(b)})
		}
		for _, ct := range contentTypes {
			add(hcase{path: valid, header: http.Header{"Content-Type": {ct}}, body: []byte(`{"name":"x"}`), what: "content type " + label(ct)})
		}
	}
	judge := func(hc hcase, r response) {
		if r.Status < 400 || transportLevel(r) {
			return
		}
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(r.Body), "<h1>") && !strings.Contains(string(r.Body), "role=\"alert\"") {
			ta.fail(false, "%s %s (%s): %d is not an HTML error page (Content-Type %q): %.200s", hc.method, shorten(hc.path), hc.what, r.Status, ct, r.Body)
		}
	}
	run(t, c, ta.tally, cases, judge)
	run(t, c, ta.tally, last, judge)
	ta.done(t, "console")
}
