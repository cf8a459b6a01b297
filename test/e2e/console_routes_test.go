package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/demo"
	"github.com/gatehouse/gatehouse/internal/domain"
)

// Every page of the console, derived from its route registration: the
// console's source is read for its GET patterns, and each must have a
// sample path on the demo data here, so that a new page cannot escape
// the narrow-screen check (TestConsoleDailyWork/D10_NarrowScreen).

// consoleGETPatterns returns the GET patterns the console registers
// (HandleFunc("GET ...")) and the catch-all ("/"), sorted.
func consoleGETPatterns(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "internal", "api", "console", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the console's source is not found: %v", err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				p, _ := strconv.Unquote(lit.Value)
				if strings.HasPrefix(p, "GET ") || p == "/" {
					out = append(out, p)
				}
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}

// consolePages maps each GET pattern to the pages that show it on the
// demo data (signed in as admin), every tab of a {tab} pattern included;
// an empty list names a route that serves no page of its own (a file, a
// redirect), with the reason in a comment.
func consolePages() map[string][]string {
	grt, inv := "/admin/groups/"+demo.GroupGRT, "/admin/groups/"+demo.GroupInvestigators
	trial := "/admin/projects/" + demo.ProjectClinical
	var groupTabs []string
	for _, tab := range []string{"general", "privileges", "projects", "rules", "folders", "members", "nesting", "delete"} {
		groupTabs = append(groupTabs, grt+"/"+tab)
	}
	groupTabs = append(groupTabs, inv+"/projects", inv+"/members", "/admin/groups/"+domain.GroupEveryoneID+"/privileges")
	return map[string][]string{
		"GET /static/":     nil, // style sheet and script
		"GET /favicon.ico": nil, // an image
		"GET /{$}":         nil, // redirects to /admin/groups
		"GET /login":       {"/login"},
		// OpenID Connect sign-in: a redirect to the provider, and its
		// callback, a redirect or the refusal page (the console's
		// TestOIDC… tests and TestConsoleOIDCSignInBrowser show both); the
		// demo configures no provider.
		"GET /login/oidc/{provider}":          nil,
		"GET /login/oidc/{provider}/callback": nil,
		"/":                                   {"/no-such-page"},

		"GET /admin/groups":                   {"/admin/groups", "/admin/groups?q=a"},
		"GET /admin/groups/new":               {"/admin/groups/new", "/admin/groups/new?project=" + demo.ProjectLungCT},
		"GET /admin/groups/{id}":              nil, // redirects to the general tab
		"GET /admin/groups/{id}/{tab}":        groupTabs,
		"GET /admin/groups/{id}/rules/{rule}": {grt + "/rules/new", grt + "/rules/" + demo.ID(0x502)},

		"GET /admin/users":             {"/admin/users"},
		"GET /admin/users/{id}":        {"/admin/users/" + demo.UserScientist},
		"GET /admin/users/{id}/delete": {"/admin/users/" + demo.UserScientist + "/delete"},
		"GET /admin/roles":             {"/admin/roles"},
		"GET /admin/roles/{id}":        {"/admin/roles/" + domain.RoleSystemManagerID},

		"GET /admin/projects":            {"/admin/projects"},
		"GET /admin/projects/{id}":       nil, // redirects to the groups tab
		"GET /admin/projects/{id}/{tab}": {trial + "/groups", trial + "/members", trial + "/settings", trial + "/delete"},

		"GET /admin/folders":             {"/admin/folders"},
		"GET /admin/folders/{id}":        {"/admin/folders/" + demo.FolderHF101, "/admin/folders/" + demo.FolderAdminOnly},
		"GET /admin/folders/{id}/delete": {"/admin/folders/" + demo.FolderOncology + "/delete"},
		"GET /admin/folder-types/{id}":   {"/admin/folder-types/" + demo.TypeGRTStudy},
		"GET /admin/audit":               {"/admin/audit"},
		"GET /admin/access":              {"/admin/access", "/admin/access?username=scientist&permission=data.read&resource=folder:" + demo.FolderGRT001},
		"GET /preferences":               {"/preferences"},
		"GET /admin/webhooks":            {"/admin/webhooks"},
		"GET /admin/webhooks/{id}":       {"/admin/webhooks/new"}, // the demo has no subscription; TestWebhookConsole shows one
	}
}

// TestConsoleEveryRouteHasAPage fails when the console registers a GET
// route that consolePages does not cover, or when consolePages names a
// route that is gone.
func TestConsoleEveryRouteHasAPage(t *testing.T) {
	pages := consolePages()
	patterns := consoleGETPatterns(t)
	if len(patterns) < 20 {
		t.Fatalf("only %d GET routes found in the console's source: %v", len(patterns), patterns)
	}
	for _, p := range patterns {
		if _, ok := pages[p]; !ok {
			t.Errorf("the console route %q has no sample page in consolePages", p)
		}
	}
	for p := range pages {
		if !slices.Contains(patterns, p) {
			t.Errorf("consolePages names %q, which the console no longer registers", p)
		}
	}
}

// everyPage lists the sample pages of every route, sorted, /login last
// (it needs a signed-out browser).
func everyPage() []string {
	var out []string
	for _, ps := range consolePages() {
		for _, p := range ps {
			if p != "/login" {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}
