// Command overlaymutate is the faster companion of scripts/mutate.sh
// (docs/testing.md, "Mutation testing"): it makes gremlins' default
// mutants of the files named (a comparison negated or moved across its
// boundary, + for -, * for /, ++ for --, a sign dropped) and tests each
// one through `go test -overlay`, which compiles a changed copy of a file
// without touching the tree, so several can run at once.
//
// It is faster than gremlins here for three reasons: a mutant the tests
// never reach is found once from a coverage run and not tested (gremlins
// does the same); the tests of each mutant stop at the first failure
// (-failfast); and -run can limit the tests to those of the file mutated.
// A mutant killed by some tests is killed by all of them; a mutant that
// lives under a -run subset must be re-run against the whole package
// before it is called a survivor.
//
//	go run ./scripts/overlaymutate -env GATEHOUSE_STORE_SUITE=1 ./internal/store/sqlstore tx.go auditchain.go
//	go run ./scripts/overlaymutate -short -run '^TestR' -lines 235- ./internal/service members.go
//	go run ./scripts/overlaymutate -list ./internal/service groups.go
//	go run ./scripts/overlaymutate -short -also ./internal/api/scim ./internal/service provisioning.go
//
// -also names other packages whose tests exercise the mutated files: the
// overlay applies to the whole build, so their test binaries compile the
// mutants too; a mutant is killed when any package's tests fail, and it
// is covered when any package's tests run it (-coverpkg).
//
// Each mutant prints one line (KILLED, LIVED, TIMED OUT, NOT VIABLE for a
// mutant that does not compile, NOT COVERED), then a summary with the
// efficacy, killed / (killed + lived), as gremlins counts it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mutant is one change of one operator token.
type mutant struct {
	file     string // base name, in the package directory
	kind     string // gremlins' name of the mutator
	offset   int    // of the operator in the file
	line     int
	col      int
	old, new string
}

func (m mutant) String() string {
	return fmt.Sprintf("%-22s %s:%d:%d %s -> %s", m.kind, m.file, m.line, m.col, m.old, m.new)
}

// The mutators gremlins 0.6.0 enables by default, as operator rewrites.
var (
	boundary = map[token.Token]token.Token{token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR}
	negation = map[token.Token]token.Token{token.EQL: token.NEQ, token.NEQ: token.EQL, token.LSS: token.GEQ,
		token.LEQ: token.GTR, token.GTR: token.LEQ, token.GEQ: token.LSS}
	arithmetic = map[token.Token]token.Token{token.ADD: token.SUB, token.SUB: token.ADD, token.MUL: token.QUO,
		token.QUO: token.MUL, token.REM: token.MUL, token.ADD_ASSIGN: token.SUB_ASSIGN, token.SUB_ASSIGN: token.ADD_ASSIGN}
	incdec = map[token.Token]token.Token{token.INC: token.DEC, token.DEC: token.INC}
)

type config struct {
	pkg      string
	also     []string // other packages whose tests are run against each mutant
	run      string
	short    bool
	env      []string
	timeout  time.Duration
	workers  int
	from, to int
	list     bool
}

func main() {
	cfg, files := parseFlags()
	var all []mutant
	for _, f := range files {
		ms, err := mutantsOf(cfg.pkg, f)
		if err != nil {
			fail(err)
		}
		for _, m := range ms {
			if m.line >= cfg.from && (cfg.to == 0 || m.line <= cfg.to) {
				all = append(all, m)
			}
		}
	}
	if cfg.list {
		for _, m := range all {
			fmt.Println(m)
		}
		fmt.Printf("%d mutants\n", len(all))
		return
	}
	covered, err := cfg.coverage()
	if err != nil {
		fail(err)
	}
	dir, err := os.MkdirTemp("", "overlaymutate")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	sch, err := buildSchema(cfg, dir, files, all)
	if err != nil {
		fail(err)
	}
	fmt.Printf("schema: %d of %d mutants in one binary, built in %s\n", len(sch.has), len(all), time.Since(start).Round(time.Second))
	// With no mutant active the schema must pass the tests, or every
	// mutant would look killed.
	if status := cfg.runBins(sch.bins, 0); status != "LIVED" {
		fail(fmt.Errorf("the schema with no mutant active: %s", status))
	}
	report(runAll(cfg, all, covered, sch))
}

func parseFlags() (config, []string) {
	var cfg config
	var env, lines, also string
	flag.StringVar(&cfg.run, "run", "", "go test -run: the tests run against each mutant")
	flag.BoolVar(&cfg.short, "short", false, "go test -short")
	flag.StringVar(&env, "env", "", "comma-separated KEY=VALUE for the tests")
	flag.StringVar(&also, "also", "", "comma-separated packages whose tests also run against each mutant")
	flag.DurationVar(&cfg.timeout, "timeout", 3*time.Minute, "a mutant whose tests run longer is TIMED OUT")
	flag.IntVar(&cfg.workers, "workers", 2, "mutants compiled and tested at once")
	flag.StringVar(&lines, "lines", "", "only the mutants of these lines: A-B, A- or -B")
	flag.BoolVar(&cfg.list, "list", false, "list the mutants and stop")
	flag.Parse()
	if flag.NArg() < 2 {
		fail(errors.New("usage: overlaymutate [flags] ./package file.go [file.go]"))
	}
	cfg.pkg = flag.Arg(0)
	if env != "" {
		cfg.env = strings.Split(env, ",")
	}
	if also != "" {
		cfg.also = strings.Split(also, ",")
	}
	if lines != "" {
		a, b, _ := strings.Cut(lines, "-")
		cfg.from, _ = strconv.Atoi(a)
		cfg.to, _ = strconv.Atoi(b)
	}
	return cfg, flag.Args()[1:]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "overlaymutate:", err)
	os.Exit(2)
}

// mutantsOf lists the mutants of one file in source order.
func mutantsOf(pkg, file string) ([]mutant, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(pkg, file), nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var ms []mutant
	add := func(kind string, pos token.Pos, old token.Token, to map[token.Token]token.Token) {
		if n, ok := to[old]; ok {
			p := fset.Position(pos)
			ms = append(ms, mutant{file: file, kind: kind, offset: p.Offset, line: p.Line, col: p.Column, old: old.String(), new: n.String()})
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			add("CONDITIONALS_BOUNDARY", n.OpPos, n.Op, boundary)
			add("CONDITIONALS_NEGATION", n.OpPos, n.Op, negation)
			if !isString(n.X) && !isString(n.Y) {
				add("ARITHMETIC_BASE", n.OpPos, n.Op, arithmetic)
			}
		case *ast.AssignStmt:
			if len(n.Rhs) == 1 && !isString(n.Rhs[0]) {
				add("ARITHMETIC_BASE", n.TokPos, n.Tok, arithmetic)
			}
		case *ast.IncDecStmt:
			add("INCREMENT_DECREMENT", n.TokPos, n.Tok, incdec)
		case *ast.UnaryExpr:
			add("INVERT_NEGATIVES", n.OpPos, n.Op, map[token.Token]token.Token{token.SUB: token.ADD})
		}
		return true
	})
	sort.Slice(ms, func(i, j int) bool { return ms[i].offset < ms[j].offset })
	return ms, nil
}

// isString reports a string literal operand: its + is a concatenation,
// whose mutant would not compile (gremlins 0.6.0 makes it and counts it
// killed).
func isString(e ast.Expr) bool {
	l, ok := e.(*ast.BasicLit)
	return ok && l.Kind == token.STRING
}

// goTestArgs are the flags every run of the package's tests gets.
func (c config) testArgs() []string {
	args := []string{"-test.count=1", "-test.failfast"}
	if c.run != "" {
		args = append(args, "-test.run="+c.run)
	}
	if c.short {
		args = append(args, "-test.short")
	}
	return args
}

// packages are the mutated package and the -also ones, whose tests are
// run in this order.
func (c config) packages() []string { return append([]string{c.pkg}, c.also...) }

// coverage runs the selected tests of each package once, unmutated, with
// a coverage profile of the mutated package, and returns its blocks by
// file base name, every package's together. The tests must pass: a
// mutant of code that already fails proves nothing.
func (c config) coverage() (map[string][]block, error) {
	dir, err := os.MkdirTemp("", "overlaymutate")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	blocks := map[string][]block{}
	start := time.Now()
	for i, pkg := range c.packages() {
		bin, prof := filepath.Join(dir, fmt.Sprintf("cover%d.test", i)), filepath.Join(dir, fmt.Sprintf("cover%d.out", i))
		if out, err := exec.Command("go", "test", "-c", "-coverpkg="+c.pkg, "-o", bin, pkg).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("compiling the tests of %s: %v\n%s", pkg, err, out)
		}
		if out, err := c.testCmd(context.Background(), testBin{bin, pkg}, "-test.coverprofile="+prof).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("the tests of %s fail without a mutant: %v\n%s", pkg, err, out)
		}
		if err := readProfile(prof, blocks); err != nil {
			return nil, err
		}
	}
	fmt.Printf("coverage run: %s\n", time.Since(start).Round(time.Second))
	return blocks, nil
}

// testBin is a compiled test binary and the package it tests, where it
// runs.
type testBin struct{ path, pkg string }

func (c config) testCmd(ctx context.Context, bin testBin, extra ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin.path, append(c.testArgs(), extra...)...)
	cmd.Dir = bin.pkg
	cmd.Env = append(os.Environ(), c.env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// block is a range of lines and columns of a file, and how many times
// the tests ran it.
type block struct{ l0, c0, l1, c1, count int }

func (b block) holds(line, col int) bool {
	after := line > b.l0 || line == b.l0 && col >= b.c0
	before := line < b.l1 || line == b.l1 && col <= b.c1
	return after && before
}

// readProfile adds the blocks of a coverage profile to blocks. Profiles
// of several packages' tests add up: a block any of them ran is covered.
func readProfile(path string, blocks map[string][]block) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(data), "\n")[1:] {
		var b block
		var stmts int
		i := strings.LastIndex(l, ":")
		if i < 0 {
			continue
		}
		file := filepath.Base(l[:i])
		if _, err := fmt.Sscanf(l[i+1:], "%d.%d,%d.%d %d %d", &b.l0, &b.c0, &b.l1, &b.c1, &stmts, &b.count); err == nil {
			blocks[file] = append(blocks[file], b)
		}
	}
	return nil
}

// isCovered reports whether the tests ran the mutant's code. An
// expression in no block at all (the expression of a switch case: go's
// coverage counts statements, and a case expression belongs to none) is
// taken as covered and tested; gremlins 0.6.0 calls those "not covered"
// and never tests them.
func isCovered(blocks map[string][]block, m mutant) bool {
	in := false
	for _, b := range blocks[m.file] {
		if b.holds(m.line, m.col) {
			if b.count > 0 {
				return true
			}
			in = true
		}
	}
	return !in
}

// runAll tests the mutants, cfg.workers at a time, and prints each
// result as it comes.
func runAll(c config, ms []mutant, covered map[string][]block, sch schema) map[string]int {
	counts := map[string]int{}
	var mu sync.Mutex
	jobs := make(chan mutant)
	var wg sync.WaitGroup
	id := map[mutant]int{}
	for i, m := range ms {
		id[m] = i + 1
	}
	for w := 0; w < c.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range jobs {
				status, took := "NOT COVERED", time.Duration(0)
				start := time.Now()
				switch {
				case !isCovered(covered, m):
				case sch.has[id[m]]:
					status = c.runBins(sch.bins, id[m])
				default:
					status = c.test(m)
				}
				if status != "NOT COVERED" {
					took = time.Since(start).Round(time.Second)
				}
				mu.Lock()
				counts[status]++
				fmt.Printf("%-11s %s (%s)\n", status, m, took)
				mu.Unlock()
			}
		}()
	}
	for _, m := range ms {
		jobs <- m
	}
	close(jobs)
	wg.Wait()
	return counts
}

// test compiles the packages' tests with the mutant overlaid and runs
// them.
func (c config) test(m mutant) string {
	dir, err := os.MkdirTemp("", "overlaymutate")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	if err := writeOverlay(dir, c.pkg, m); err != nil {
		fail(err)
	}
	bins, out, err := c.build(filepath.Join(dir, "overlay.json"), dir)
	if err != nil {
		if bytes.Contains(out, []byte(m.file)) {
			return "NOT VIABLE"
		}
		fail(fmt.Errorf("compiling %s: %v\n%s", m, err, out))
	}
	return c.runBins(bins, 0)
}

// build compiles the tests of every package with an overlay into dir.
// The overlay applies to the whole build: the -also packages' binaries
// hold the mutated files too.
func (c config) build(overlay, dir string, flags ...string) ([]testBin, []byte, error) {
	var bins []testBin
	for i, pkg := range c.packages() {
		bin := testBin{filepath.Join(dir, fmt.Sprintf("m%d.test", i)), pkg}
		args := append(append([]string{"test", "-c", "-vet=off"}, flags...), "-overlay", overlay, "-o", bin.path, pkg)
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			return nil, out, err
		}
		bins = append(bins, bin)
	}
	return bins, nil, nil
}

// runBins runs the test binaries in turn, with mutant id of a schema
// active when not 0, and stops at the first whose tests do not pass: a
// mutant is killed when any package's tests fail. The time limit is for
// them all.
func (c config) runBins(bins []testBin, id int) string {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	for _, bin := range bins {
		cmd := c.testCmd(ctx, bin)
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", schemaEnv, id))
		err := cmd.Run()
		switch {
		case ctx.Err() != nil:
			return "TIMED OUT"
		case err != nil:
			return "KILLED"
		}
	}
	return "LIVED"
}

func writeOverlay(dir, pkg string, m mutant) error {
	path, err := filepath.Abs(filepath.Join(pkg, m.file))
	if err != nil {
		return err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	changed := string(src[:m.offset]) + m.new + string(src[m.offset+len(m.old):])
	copyPath := filepath.Join(dir, m.file)
	if err := os.WriteFile(copyPath, []byte(changed), 0o644); err != nil {
		return err
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {path: copyPath}})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "overlay.json"), overlay, 0o644)
}

func report(counts map[string]int) {
	k, l := counts["KILLED"], counts["LIVED"]
	eff := "n/a"
	if k+l > 0 {
		eff = fmt.Sprintf("%.1f %%", 100*float64(k)/float64(k+l))
	}
	fmt.Printf("killed %d, lived %d, timed out %d, not viable %d, not covered %d: efficacy %s\n",
		k, l, counts["TIMED OUT"], counts["NOT VIABLE"], counts["NOT COVERED"], eff)
}
