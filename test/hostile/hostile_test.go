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
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testfigures"
)

// tally counts what a run tried and what went wrong.
type tally struct {
	mu        sync.Mutex
	inputs    int
	endpoints map[string]bool
	fiveXX    int
	failures  []string
}

func newTally() *tally { return &tally{endpoints: map[string]bool{}} }

func (ta *tally) tried(endpoint string) {
	ta.mu.Lock()
	ta.inputs++
	ta.endpoints[endpoint] = true
	ta.mu.Unlock()
}

func (ta *tally) fail(is5xx bool, format string, args ...any) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	if is5xx {
		ta.fiveXX++
	}
	if len(ta.failures) < 400 {
		ta.failures = append(ta.failures, fmt.Sprintf(format, args...))
	}
}

func (ta *tally) report(t *testing.T, what string) {
	t.Helper()
	for _, f := range ta.failures {
		t.Error(what + ": " + f)
	}
}

// a hostile case: one request and how to judge its answer.
type hcase struct {
	endpoint string // e.g. "REST POST /api/v1/groups"
	method   string
	path     string // raw path and query
	header   http.Header
	body     []byte
	what     string // the hostile part, for messages
	// field, when set, must be named by a 4xx answer (a wrong type or
	// a bad value in that field).
	field string
}

// transportLevel reports the refusals net/http itself writes before any
// handler runs, which cannot be problem documents: a header block over
// MaxHeaderBytes (431), and a request line whose target does not parse,
// such as a bad percent-encoding like "/groups/%%" (a bare plain-text
// "400 Bad Request"; no handler writes that).
func transportLevel(r response) bool {
	return r.Status == http.StatusRequestHeaderFieldsTooLarge ||
		r.Status == http.StatusBadRequest && string(r.Body) == "400 Bad Request" &&
			strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain")
}

// run sends cases with a few workers; judge checks each answer.
func run(t *testing.T, c *client, ta *tally, cases []hcase, judge func(hcase, response)) {
	var wg sync.WaitGroup
	ch := make(chan hcase)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for hc := range ch {
				r, err := c.send(hc.method, hc.path, hc.header, hc.body)
				ta.tried(hc.endpoint)
				if err != nil {
					ta.fail(false, "%s %s (%s): no answer: %v", hc.method, shorten(hc.path), hc.what, err)
					continue
				}
				if r.Status >= 500 && !contract5xx(hc, r) {
					ta.fail(true, "%s %s (%s): status %d: %.300s", hc.method, shorten(hc.path), hc.what, r.Status, r.Body)
					continue
				}
				judge(hc, r)
			}
		}()
	}
	for _, hc := range cases {
		ch <- hc
	}
	close(ch)
	wg.Wait()
}

// contract5xx reports the 5xx answers the contracts call for: 503 for an
// at_least the server has not reached (R20, docs/api.md), and SCIM's 501
// for a method other than GET on /Me (RFC 7644 §3.11, docs/scim.md).
func contract5xx(hc hcase, r response) bool {
	switch {
	case r.Status == http.StatusServiceUnavailable && (strings.Contains(hc.path, "at_least=") || strings.Contains(string(hc.body), `"at_least"`)) && strings.Contains(string(r.Body), `"kind":"unavailable"`):
		return true
	case r.Status == http.StatusNotImplemented && strings.HasPrefix(hc.path, "/scim/v2/Me") && hc.method != http.MethodGet:
		return true
	}
	return false
}

func shorten(s string) string {
	if len(s) > 120 {
		return fmt.Sprintf("%s…(%d bytes)", s[:120], len(s))
	}
	return s
}

// ---- fixtures ----

// fixtures are objects every endpoint's valid ids point at.
type fixtures struct {
	project, group, user, role, folderType, folder, rule, token string
	userPassword                                                string
}

func makeFixtures(t *testing.T, api *client) fixtures {
	t.Helper()
	var f fixtures
	f.project = idOf(t, api.must(t, 201, "POST", "/api/v1/projects", map[string]any{"name": "Hostile Project"}))
	f.group = idOf(t, api.must(t, 201, "POST", "/api/v1/groups", map[string]any{"name": "Hostile Group", "scope": "system"}))
	f.userPassword = "victim-password-1"
	f.user = idOf(t, api.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": "victim", "password": f.userPassword, "email": "victim@example.org"}))
	f.role = idOf(t, api.must(t, 201, "POST", "/api/v1/roles", map[string]any{"name": "Hostile Role", "scope": "system", "permissions": []string{"users.view"}}))
	f.folderType = idOf(t, api.must(t, 201, "POST", "/api/v1/folder-types", map[string]any{"name": "Study", "contexts": []string{"clinical"}, "properties": []string{"modality"}}))
	f.folder = idOf(t, api.must(t, 201, "POST", "/api/v1/folders", map[string]any{"name": "Hostile Folder", "type_id": f.folderType, "properties": map[string]string{"modality": "CT"}}))
	f.rule = idOf(t, api.must(t, 201, "POST", "/api/v1/groups/"+f.group+"/rules", map[string]any{"name": "CT rule",
		"criteria": []map[string]any{{"folder_type_id": f.folderType, "property": "modality", "operator": "eq", "value": "CT"}},
		"grants":   map[string][]string{"clinical": {"read"}}}))
	api.must(t, 200, "POST", "/api/v1/groups/"+f.group+"/members", map[string]any{"members": []map[string]any{{"user_id": f.user}}})
	tok := api.must(t, 201, "POST", "/api/v1/tokens", map[string]any{"name": "spare"})
	f.token, _ = tok["token"].(map[string]any)["id"].(string)
	return f
}

// idFor is the fixture id for a path parameter, from its name and the
// path segment before it.
func (f fixtures) idFor(param, prev string) string {
	switch param {
	case "group_id":
		return f.group
	case "user_id":
		return f.user
	case "project_id":
		return f.project
	case "rule":
		return f.rule
	case "tab":
		return "general"
	}
	switch prev {
	case "users":
		return f.user
	case "groups":
		return f.group
	case "projects":
		return f.project
	case "folders":
		return f.folder
	case "folder-types":
		return f.folderType
	case "roles":
		return f.role
	case "rules":
		return f.rule
	case "tokens":
		return f.token
	}
	return "x"
}

var paramRE = regexp.MustCompile(`\{([^}$]+)\}`)

// fill replaces every {param} of a route with the fixture's id, except
// the one named hostile, which gets value.
func (f fixtures) fill(route, hostile, value string) string {
	segs := strings.Split(route, "/")
	for i, s := range segs {
		if m := paramRE.FindStringSubmatch(s); m != nil {
			if m[1] == hostile {
				segs[i] = value
			} else {
				prev := ""
				if i > 0 {
					prev = segs[i-1]
				}
				segs[i] = url.PathEscape(f.idFor(m[1], prev))
			}
		}
	}
	return strings.ReplaceAll(strings.Join(segs, "/"), "{$}", "")
}

// ---- the test ----

// TestHostileInput sends every endpoint of REST, SCIM and the console the
// corpus, against one server, and prints the figure line.
func TestHostileInput(t *testing.T) {
	// In parallel with the attack table, which mostly waits out a
	// sign-in lock.
	t.Parallel()
	began := time.Now()
	s := start(t)
	admin := newClient(s.URL, adminToken(t, s.URL))
	fx := makeFixtures(t, admin)
	// The console signs in before the REST run's hostile sign-ins can
	// throttle this client address.
	con := consoleClient(t, s.URL, "admin", adminPassword)
	ta := newTally()

	t.Run("REST", func(t *testing.T) { hostileREST(t, admin, fx, newSub(ta)) })
	t.Run("SCIM", func(t *testing.T) { hostileSCIM(t, admin, fx, newSub(ta)) })
	// Before the console run, which signs its session out at the end.
	t.Run("strict", func(t *testing.T) { strictInput(t, s.URL, admin, con, fx, newSub(ta)) })
	t.Run("console", func(t *testing.T) { hostileConsole(t, con, fx, newSub(ta)) })
	panics := s.checkLog(t)
	ta.mu.Lock()
	defer ta.mu.Unlock()
	testfigures.Record(t, fmt.Sprintf("hostile: %d inputs tried across %d endpoints (REST, SCIM, console), %d 5xx, %d panics (%.1fs)",
		ta.inputs, len(ta.endpoints), ta.fiveXX, panics, time.Since(began).Seconds()))
	if ta.inputs == 0 {
		t.Error("no input was tried")
	}
}

// sub is a transport's tally that also adds to the whole run's.
type sub struct {
	*tally
	parent *tally
}

func newSub(parent *tally) *sub { return &sub{tally: newTally(), parent: parent} }

func (s *sub) done(t *testing.T, what string) {
	s.report(t, what)
	s.parent.mu.Lock()
	s.parent.inputs += s.inputs
	for e := range s.endpoints {
		s.parent.endpoints[e] = true
	}
	s.parent.fiveXX += s.fiveXX
	s.parent.mu.Unlock()
	t.Logf("%s: %d inputs across %d endpoints, %d 5xx, %d failures", what, s.inputs, len(s.endpoints), s.fiveXX, len(s.failures))
}

// ---- REST ----

type openAPI struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name   string  `json:"name"`
		In     string  `json:"in"`
		Schema *schema `json:"schema"`
	} `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type schema struct {
	Ref        string             `json:"$ref"`
	Type       any                `json:"type"`
	Properties map[string]*schema `json:"properties"`
	Required   []string           `json:"required"`
	Items      *schema            `json:"items"`
}

func (s *schema) typ() string {
	switch v := s.Type.(type) {
	case string:
		return v
	case []any:
		for _, x := range v {
			if x != "null" {
				return fmt.Sprint(x)
			}
		}
	}
	return ""
}

func loadOpenAPI(t *testing.T) openAPI {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d openAPI
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d openAPI) resolve(s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// validBodies are bodies the hostile value is merged into, so that it
// reaches the service rather than stopping at a missing field.
func validBodies(fx fixtures) map[string]map[string]any {
	return map[string]map[string]any{
		"create-group":       {"name": "G hostile", "scope": "system"},
		"create-user":        {"username": "u-hostile"},
		"create-project":     {"name": "P hostile"},
		"create-role":        {"name": "R hostile", "scope": "system", "permissions": []string{"users.view"}},
		"create-folder":      {"name": "F hostile"},
		"create-folder-type": {"name": "T hostile"},
		"check":              {"permission": "users.view", "resource": "system"},
		"explain":            {"permission": "users.view", "resource": "system"},
		"create-token":       {"name": "t hostile"},
		"login":              {"username": "nobody", "password": "wrong"},
		"create-rule": {"name": "r hostile", "criteria": []map[string]any{{"folder_type_id": fx.folderType, "property": "modality", "operator": "eq", "value": "MR"}},
			"grants": map[string][]string{"clinical": {"read"}}},
		"set-folder-level":  {"level": "read"},
		"add-members":       {"members": []map[string]any{{"user_id": fx.user}}},
		"add-group-members": {"groups": []map[string]any{{"group_id": fx.group}}},
	}
}

func hostileREST(t *testing.T, c *client, fx fixtures, ta *sub) {
	d := loadOpenAPI(t)
	valid := validBodies(fx)
	var cases, deletes []hcase
	n := 0
	routes := make([]string, 0, len(d.Paths))
	for p := range d.Paths {
		routes = append(routes, p)
	}
	sort.Strings(routes)
	for _, route := range routes {
		for method, op := range d.Paths[route] {
			method = strings.ToUpper(method)
			n++
			ep := "REST " + method + " " + route
			add := func(hc hcase) {
				hc.endpoint, hc.method = ep, method
				if hc.path == "" {
					hc.path = fx.fill(route, "", "")
				}
				if method == http.MethodDelete {
					deletes = append(deletes, hc)
				} else {
					cases = append(cases, hc)
				}
			}
			jsonHeader := http.Header{"Content-Type": {"application/json"}}
			// Path ids.
			for _, p := range op.Parameters {
				switch p.In {
				case "path":
					for _, id := range hostileIDs() {
						add(hcase{path: fx.fill(route, p.Name, id), what: "path " + p.Name + "=" + label(id), header: jsonHeader, body: []byte(`{}`)})
					}
				case "query":
					vals := hostileQueryValues()
					if p.Name == "cursor" {
						vals = append(vals, hostileCursors...)
					}
					for _, v := range vals {
						q := url.Values{p.Name: {v}}
						// at_least must not wait the default 2 s each time.
						if p.Name == "at_least" {
							q.Set("wait_ms", "0")
						}
						if p.Name == "wait_ms" {
							q.Set("at_least", "1")
						}
						if p.Name == "resource" || p.Name == "permission" {
							// the other one valid, so the hostile one is reached
							if p.Name == "resource" {
								q.Set("permission", "users.view")
							} else {
								q.Set("resource", "system")
							}
						}
						field := ""
						if method == http.MethodGet {
							field = p.Name
						}
						add(hcase{path: fx.fill(route, "", "") + "?" + q.Encode(), what: "query " + p.Name + "=" + label(v), field: field})
					}
					// A parameter twice.
					add(hcase{path: fx.fill(route, "", "") + "?" + p.Name + "=1&" + p.Name + "=2", what: "query " + p.Name + " twice"})
				case "header":
					for _, v := range []string{`"abc"`, "W/", `"-1"`, `"0"`, `"99999999999999999999"`, "\u00e9", strings.Repeat(`"1",`, 1000), `*, "1"`} {
						add(hcase{header: http.Header{p.Name: {v}, "Content-Type": {"application/json"}}, body: []byte(`{}`), what: "header " + p.Name + "=" + label(v)})
					}
				}
			}
			// Out-of-range at_least with the contract's 503.
			for _, p := range op.Parameters {
				if p.Name == "at_least" {
					add(hcase{path: fx.fill(route, "", "") + "?at_least=999999999&wait_ms=0&permission=users.view&resource=system", what: "unreachable at_least"})
				}
			}
			if op.RequestBody == nil {
				// Unexpected bodies on body-less operations.
				add(hcase{header: jsonHeader, body: []byte(deepJSON(10000)[0]), what: "a deep body where none is expected"})
				continue
			}
			var bs *schema
			for _, ct := range op.RequestBody.Content {
				bs = d.resolve(ct.Schema)
			}
			base := valid[op.OperationID]
			withField := func(k string, v any) []byte {
				m := map[string]any{}
				for bk, bv := range base {
					m[bk] = bv
				}
				m[k] = v
				b, _ := json.Marshal(m)
				return b
			}
			for _, b := range malformedJSON() {
				add(hcase{header: jsonHeader, body: []byte(b), what: "body " + label(b)})
			}
			depth := 10000
			if *long {
				depth = 100000
			}
			for _, b := range deepJSON(depth) {
				add(hcase{header: jsonHeader, body: []byte(b), what: "deep body"})
			}
			for _, b := range hugeJSON() {
				add(hcase{header: jsonHeader, body: []byte(b), what: "huge body"})
			}
			good, _ := json.Marshal(base)
			if base == nil {
				good = []byte(`{}`)
			}
			for _, ct := range contentTypes {
				h := http.Header{}
				if ct != "" {
					h.Set("Content-Type", ct)
				}
				add(hcase{header: h, body: good, what: "content type " + label(ct)})
			}
			if bs == nil {
				continue
			}
			props := make([]string, 0, len(bs.Properties))
			for k := range bs.Properties {
				props = append(props, k)
			}
			sort.Strings(props)
			for _, k := range props {
				ps := d.resolve(bs.Properties[k])
				typ := ps.typ()
				for _, v := range wrongTypes(typ) {
					add(hcase{header: jsonHeader, body: withField(k, v), what: "wrong type " + k + "=" + label(v), field: k})
				}
				switch {
				case typ == "string":
					for _, v := range hostileStrings() {
						add(hcase{header: jsonHeader, body: withField(k, v), what: k + "=" + label(v)})
					}
					// invalid UTF-8 inside the JSON text itself
					b := withField(k, "VALUE")
					add(hcase{header: jsonHeader, body: []byte(strings.Replace(string(b), "VALUE", "\xff\xfe\xfd", 1)), what: k + " invalid UTF-8"})
				case typ == "array":
					for _, v := range [][]string{{"nope.permission"}, {"../x"}, {"<script>alert(1)</script>"}, {"", ""}, {"folder:"}, {"bogus_context.read"}, {"not a domain at all!"}, {"<b>"}} {
						add(hcase{header: jsonHeader, body: withField(k, v), what: k + "=" + label(v)})
					}
					many := make([]string, 5000)
					for i := range many {
						many[i] = fmt.Sprintf("x%d", i)
					}
					add(hcase{header: jsonHeader, body: withField(k, many), what: k + " with 5000 items", field: k})
				case typ == "object":
					add(hcase{header: jsonHeader, body: withField(k, map[string]any{"nope": []string{"bogus"}, "": "x", "../": 1}), what: k + " odd keys"})
				case typ == "integer":
					for _, v := range []any{-1, 0, 1 << 62, -(1 << 62)} {
						add(hcase{header: jsonHeader, body: withField(k, v), what: k + "=" + label(v)})
					}
				}
			}
			// Unknown properties.
			add(hcase{header: jsonHeader, body: withField("no_such_field", "x"), what: "unknown property"})
		}
	}
	judge := func(hc hcase, r response) {
		if r.Status < 400 || transportLevel(r) {
			return
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			ta.fail(false, "%s %s (%s): %d with Content-Type %q, want application/problem+json: %.200s", hc.method, shorten(hc.path), hc.what, r.Status, ct, r.Body)
			return
		}
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(r.Body, &p); err != nil || p.Status != r.Status || p.Title == "" {
			ta.fail(false, "%s %s (%s): %d: not a problem document of that status: %.200s", hc.method, shorten(hc.path), hc.what, r.Status, r.Body)
			return
		}
		// Precise: the problem names the field at fault, or at least
		// some field (another required one may be what stopped it).
		if hc.field != "" && (r.Status == 400 || r.Status == 422) && !strings.Contains(string(r.Body), hc.field) &&
			!strings.Contains(string(r.Body), `"location":"`) {
			ta.fail(false, "%s %s (%s): %d does not name the field %s: %.300s", hc.method, shorten(hc.path), hc.what, r.Status, hc.field, r.Body)
		}
	}
	run(t, c, ta.tally, cases, judge)
	run(t, c, ta.tally, deletes, judge)
	if n < 50 {
		t.Errorf("docs/openapi.json lists %d operations; expected the whole API", n)
	}
	ta.done(t, "REST")
}
