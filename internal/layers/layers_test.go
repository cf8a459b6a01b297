package layers

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/gatehouse/gatehouse/"

// rule forbids the packages under from (only from itself when exact) to
// depend, directly or not, on any package under one of the prefixes of
// forbid (direct: to import one themselves; a transport may reach the
// engine through the service, not by importing it). allow, when set, is
// the only part of the module they may depend on besides their own
// packages. stdOnly additionally forbids every dependency outside the
// standard library and the module, and external forbids import paths
// outside the module (the standard library's net/http, a driver).
type rule struct {
	from     string
	exact    bool
	forbid   []string
	allow    []string
	external []string
	direct   bool
	stdOnly  bool
	why      string
}

// Neither HTTP nor SQL nor a driver below the service.
var (
	noHTTPOrSQL   = []string{"net/http", "database/sql"}
	noIOOrDrivers = []string{"net/http", "database/sql", "github.com/jackc/", "modernc.org/"}
)

// Layers, innermost first (docs/architecture.md). A transport or a client
// never reaches a storage backend; the engine and the domain reach
// nothing but the standard library; the clients speak HTTP only.
var rules = []rule{
	{from: "internal/domain", forbid: []string{"internal/", "pkg/", "cmd/"}, stdOnly: true, external: noHTTPOrSQL,
		why: "the domain is the vocabulary every layer shares; it depends on nothing"},
	{from: "internal/engine", forbid: []string{"internal/store", "internal/service", "internal/api", "internal/authn", "internal/cli", "internal/declarative", "internal/metrics", "cmd/"},
		allow: []string{"internal/domain"}, stdOnly: true, external: noHTTPOrSQL,
		why: "the engine is pure: data in, answers out, no I/O; it is built from snapshots, not from a store"},
	{from: "internal/identifier", forbid: []string{"internal/store", "internal/service", "internal/engine", "internal/api", "cmd/"},
		why: "name profiles are validation, below every use"},
	{from: "internal/store", forbid: []string{"internal/engine", "internal/service", "internal/api", "internal/authn", "internal/cli", "internal/declarative", "cmd/"},
		why: "storage knows records, not evaluation, use cases or transports"},
	{from: "internal/store", exact: true, allow: []string{"internal/domain"}, stdOnly: true, external: noHTTPOrSQL,
		why: "the storage contract is no transport; SQL, drivers and libraries belong to the backends"},
	{from: "internal/authn", forbid: []string{"internal/service", "internal/engine", "internal/api", "internal/cli", "internal/store/sqlite", "internal/store/postgres", "internal/store/sqlstore", "cmd/"},
		why: "authentication works on the store's interfaces, beside the service"},
	{from: "internal/authn", exact: true, direct: true, allow: []string{"internal/domain", "internal/store", "internal/authn/password"}, stdOnly: true, external: noHTTPOrSQL,
		why: "HTTP belongs in internal/authn/httpauth; authn reaches the database through the store only"},
	{from: "internal/service", forbid: []string{"internal/api", "internal/cli", "internal/declarative", "internal/demo", "internal/metrics", "internal/store/sqlite", "internal/store/postgres", "internal/store/sqlstore", "cmd/"},
		external: noIOOrDrivers,
		why:      "use cases know the store's interfaces, never a backend, SQL or a transport"},
	{from: "internal/webhook", forbid: []string{"internal/api", "internal/cli", "internal/declarative", "internal/store/sqlite", "internal/store/postgres", "internal/store/sqlstore", "cmd/"},
		why: "delivery reads the feed through the service and keeps its state through the store's interface"},
	{from: "internal/wire", forbid: []string{"internal/engine", "internal/store", "internal/authn", "internal/api", "internal/webhook", "internal/cli", "internal/declarative", "cmd/"},
		direct: true, why: "the conversions to the API's types that several transports share see the service's values only"},
	{from: "internal/api", forbid: []string{"internal/engine", "internal/store", "internal/cli", "internal/declarative", "internal/demo", "cmd/"},
		direct: true, why: "transports go through the service"},
	{from: "internal/declarative", forbid: []string{"internal/service", "internal/engine", "internal/store", "internal/authn", "internal/api", "cmd/"},
		why: "apply and export run through the API as the signed-in user"},
	{from: "internal/cli", forbid: []string{"internal/service", "internal/engine", "internal/store", "internal/authn", "internal/api", "cmd/"},
		why: "the command line is a client of the API"},
	{from: "pkg/", forbid: []string{"internal/", "cmd/"}, stdOnly: true,
		why: "the public SDK and its API types may not import internal packages, nor anything beyond the standard library"},
}

// allowed are dependencies a rule forbids that are part of the design,
// each with its reason.
var allowed = map[string]string{
	"pkg/gatehouse/local -> internal/engine": "local mode (issue 22) runs the server's own evaluator inside the application " +
		"instead of a copy of it; the engine is pure and imports the domain and the standard library only",
	"pkg/gatehouse/local -> internal/domain": "the engine's vocabulary, and the replica snapshot encoding both sides share; standard library only",
}

// applies reports whether r governs the package rel.
func (r rule) applies(rel string) bool {
	if r.exact {
		return rel == r.from
	}
	return under(rel, r.from)
}

// forbids reports whether r forbids a dependency on the module's package
// drel.
func (r rule) forbids(drel string) bool {
	if under(drel, r.from) || testSupport(drel) {
		return false
	}
	for _, f := range r.forbid {
		if under(drel, f) {
			return true
		}
	}
	if len(r.allow) == 0 {
		return false
	}
	for _, a := range r.allow {
		if under(drel, a) {
			return false
		}
	}
	return true
}

// forbidsExternal reports whether r forbids a dependency on dep, a
// package outside the module.
func (r rule) forbidsExternal(dep string, d *pkg) bool {
	if r.stdOnly && d != nil && !d.Standard {
		return true
	}
	for _, f := range r.external {
		if under(dep, f) {
			return true
		}
	}
	return false
}

// under reports whether path is prefix itself or below it; a prefix
// ending in "/" matches below it only.
func under(path, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// testSupport are packages that exist for tests only (servers, suites,
// fixtures): they may assemble every layer, as cmd does.
func testSupport(rel string) bool {
	last := rel[strings.LastIndex(rel, "/")+1:]
	return strings.HasSuffix(last, "test") || last == "testserver" || last == "testfigures" ||
		under(rel, "internal/engine/reference")
}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
	Doc        string
	GoFiles    []string
	Module     *struct{ Path string }
}

func listModule(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", "github.com/gatehouse/gatehouse/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = &p
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// chain finds the import path from a to b, for the failure message.
func chain(pkgs map[string]*pkg, a, b string) string {
	prev := map[string]string{a: ""}
	queue := []string{a}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if x == b {
			var path []string
			for y := b; y != ""; y = prev[y] {
				path = append([]string{strings.TrimPrefix(y, module)}, path...)
			}
			return strings.Join(path, " -> ")
		}
		if p := pkgs[x]; p != nil {
			for _, im := range p.Imports {
				if _, seen := prev[im]; !seen {
					prev[im] = x
					queue = append(queue, im)
				}
			}
		}
	}
	return a + " -> … -> " + b
}

func TestLayersImportOnlyWhatTheyMay(t *testing.T) {
	pkgs := listModule(t)
	checked := 0
	for path, p := range pkgs {
		rel, ok := strings.CutPrefix(path, module)
		if !ok || testSupport(rel) {
			continue
		}
		for _, r := range rules {
			if !r.applies(rel) {
				continue
			}
			checked++
			deps := p.Deps
			if r.direct {
				deps = p.Imports
			}
			for _, dep := range deps {
				if drel, ok := strings.CutPrefix(dep, module); ok {
					if _, ok := allowed[rel+" -> "+drel]; !ok && r.forbids(drel) {
						t.Errorf("%s must not depend on %s (%s): %s", rel, drel, r.why, chain(pkgs, path, dep))
					}
				} else if r.forbidsExternal(dep, pkgs[dep]) {
					t.Errorf("%s must not depend on %s (%s): %s", rel, dep, r.why, chain(pkgs, path, dep))
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package was checked")
	}
	// Every rule governs some package: a moved layer must not leave a
	// rule behind that checks nothing.
	for _, r := range rules {
		found := false
		for path := range pkgs {
			if rel, ok := strings.CutPrefix(path, module); ok && r.applies(rel) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("the rule for %s governs no package of the module", r.from)
		}
	}
}

// Every package of the module with code has a doc comment saying what it
// is for.
func TestEveryPackageHasADocComment(t *testing.T) {
	for path, p := range listModule(t) {
		if strings.HasPrefix(path, module) && len(p.GoFiles) > 0 && strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no doc comment", strings.TrimPrefix(path, module))
		}
	}
}
