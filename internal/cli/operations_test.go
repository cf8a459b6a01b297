package cli_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/cli"
)

// The CLI reaches every operation of the API. Each command names the
// operations it exists to call (cli.OperationsAnnotation); the tests here
// hold those names to the OpenAPI document, and the recorder below holds
// them to the requests the commands really send.

// apiOp is one operation of the OpenAPI document.
type apiOp struct {
	method string
	segs   []string // the path's segments; "{…}" matches any one
}

func (o apiOp) String() string { return o.method + " /" + strings.Join(o.segs, "/") }

// wild counts the parameters: of two templates that match, the one with
// fewer is the more specific.
func (o apiOp) wild() int {
	n := 0
	for _, s := range o.segs {
		if strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n
}

func (o apiOp) matches(method string, segs []string) bool {
	if method != o.method || len(segs) != len(o.segs) {
		return false
	}
	for i, s := range o.segs {
		if !strings.HasPrefix(s, "{") && s != segs[i] {
			return false
		}
	}
	return true
}

var loadOps = sync.OnceValues(func() ([]apiOp, error) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.json"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var ops []apiOp
	for p, methods := range doc.Paths {
		for m := range methods {
			switch m = strings.ToUpper(m); m {
			case "GET", "POST", "PUT", "PATCH", "DELETE":
				ops = append(ops, apiOp{m, strings.Split(strings.TrimPrefix(p, "/"), "/")})
			}
		}
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("docs/openapi.json has no operations")
	}
	return ops, nil
})

// classify names the document's operation a request is (the most
// specific match), or "" for none.
func classify(ops []apiOp, method, path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	best := -1
	for i, o := range ops {
		if o.matches(method, segs) && (best < 0 || o.wild() < ops[best].wild()) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return ops[best].String()
}

// leaves lists the commands that run something, by path under the root.
func leaves() map[string]*cobra.Command {
	root := &cobra.Command{Use: "gatehouse"}
	root.AddCommand(cli.Commands(cli.Env{Getenv: func(string) string { return "" }})...)
	out := map[string]*cobra.Command{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.HasSubCommands() && c != root {
			out[strings.TrimPrefix(c.CommandPath(), "gatehouse ")] = c
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	return out
}

// undeclared are the commands that call no operation of their own:
// export and apply read and write the whole configuration through many
// operations, each of which has a command.
var undeclared = map[string]bool{"export": true, "apply": true}

// TestEveryOperationHasACommand fails listing each operation of the
// OpenAPI document that no command declares, each declared operation the
// document does not have (a stale annotation), and each command that
// declares none.
func TestEveryOperationHasACommand(t *testing.T) {
	ops, err := loadOps()
	if err != nil {
		t.Fatal(err)
	}
	inDoc := map[string]bool{}
	for _, o := range ops {
		inDoc[o.String()] = true
	}
	covered := map[string]bool{}
	var problems []string
	for name, c := range leaves() {
		declared := cli.Operations(c)
		if len(declared) == 0 && !undeclared[name] {
			problems = append(problems, fmt.Sprintf("command %q declares no operation", name))
		}
		for _, op := range declared {
			if !inDoc[op] {
				problems = append(problems, fmt.Sprintf("command %q declares %q, which docs/openapi.json does not have", name, op))
			}
			covered[op] = true
		}
	}
	for op := range inDoc {
		if !covered[op] {
			problems = append(problems, "operation without a command: "+op)
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Errorf("the CLI does not match the API:\n  %s", strings.Join(problems, "\n  "))
	}
}

// TestEveryCommandHasHelp: a description, an example and --json on every
// command that runs something.
func TestEveryCommandHasHelp(t *testing.T) {
	for name, c := range leaves() {
		if c.Short == "" || c.Long == "" {
			t.Errorf("%s: no Short or Long description", name)
		}
		if !strings.Contains(c.Example, "gatehouse "+name) {
			t.Errorf("%s: no example of itself in --help", name)
		}
		if c.Flag("json") == nil {
			t.Errorf("%s: no --json", name)
		}
	}
}

// ---- the requests the commands send ----

// seen records, for every command run by any test, the operations it was
// seen to call: TestMain then checks that every declared operation of
// every command was (the annotation is true, and every command is tested
// through a real server).
var seen = struct {
	sync.Mutex
	m map[string]map[string]bool
}{m: map[string]map[string]bool{}}

// recorder is the HTTP transport of one command run.
type recorder struct {
	mu   sync.Mutex
	reqs []string // the operations called; "?METHOD path" for none
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) client() *http.Client {
	jar, _ := cookiejar.New(nil) // the session of login
	return &http.Client{Jar: jar, Transport: r}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	op := "?" + req.Method + " " + req.URL.EscapedPath()
	if ops, err := loadOps(); err == nil {
		if o := classify(ops, req.Method, req.URL.EscapedPath()); o != "" {
			op = o
		}
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, op)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// check holds a run to its command's annotation: every request is an
// operation of the document, and every write (a method other than GET;
// GETs may be lookups of names) is one the command declares. What it
// called is recorded for TestMain.
func (r *recorder) check(t *testing.T, cmd *cobra.Command) {
	t.Helper()
	if cmd == nil {
		return
	}
	name := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	declared := map[string]bool{}
	for _, op := range cli.Operations(cmd) {
		declared[op] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen.Lock()
	defer seen.Unlock()
	if seen.m[name] == nil {
		seen.m[name] = map[string]bool{}
	}
	for _, op := range r.reqs {
		switch {
		case strings.HasPrefix(op, "?"):
			t.Errorf("%s sent %s, which is no operation of docs/openapi.json", name, op[1:])
		case !strings.HasPrefix(op, "GET ") && len(declared) > 0 && !declared[op]:
			t.Errorf("%s sent %s, which it does not declare", name, op)
		}
		seen.m[name][op] = true
	}
}

// TestMain runs the tests, then, when all of them ran and passed, fails
// if any command's declared operation was never called by a test.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		if missing := unexercised(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: commands never seen calling the operations they declare (test them through the server):\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func unexercised() []string {
	var missing []string
	for name, c := range leaves() {
		for _, op := range cli.Operations(c) {
			if !seen.m[name][op] {
				missing = append(missing, name+": "+op)
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// TestManualDescribesEveryCommand: docs/cli.md shows every command, and
// its table of operations names every operation of the document.
func TestManualDescribesEveryCommand(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	manual := string(raw)
	for name := range leaves() {
		if !strings.Contains(manual, "gatehouse "+name) {
			t.Errorf("docs/cli.md does not show gatehouse %s", name)
		}
	}
	ops, err := loadOps()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		row := "| `" + strings.Replace(o.String(), " /api/v1", " ", 1) + "` |"
		if !strings.Contains(manual, row) {
			t.Errorf("docs/cli.md, Every API operation, has no row %s", row)
		}
	}
}
