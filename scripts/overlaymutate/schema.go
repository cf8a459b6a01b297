package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A mutant schema compiles every mutant into one test binary, each
// behind a check of the mutant's number, read from $OVERLAYMUTATE_ID when
// the binary starts (0, the default, is the code as written). One
// compilation then serves all the mutants, which on this shared machine
// is most of a mutant's cost. An operator site the schema cannot express
// (a constant expression, a string +, an operand spread over lines) is
// dropped from it, and its mutants are compiled one by one.
const schemaEnv = "OVERLAYMUTATE_ID"

// site is one operator of the source rewritten in the schema.
type site struct {
	file       string
	start, end int // the rewritten span
	line       int
	generic    bool // built on a generic helper: a likely compile error
	ids        map[string]int
	render     func(r *rewriter, s *site) string
	node       ast.Node
	x, y       ast.Expr
	op         string
}

type rewriter struct {
	src   []byte
	fset  *token.FileSet
	sites []*site
	off   func(token.Pos) int
}

// text is src[from:to] with every site inside it rewritten.
func (r *rewriter) text(from, to int) string {
	var b strings.Builder
	i := from
	for _, s := range r.sites {
		if s.start < i || s.end > to {
			continue
		}
		b.Write(r.src[i:s.start])
		b.WriteString(s.render(r, s))
		i = s.end
	}
	b.Write(r.src[i:to])
	return b.String()
}

func (r *rewriter) expr(e ast.Expr) string { return r.text(r.off(e.Pos()), r.off(e.End())) }

// oneLine reports whether text can be repeated without moving later
// lines, so that compile errors keep pointing at the right line.
func oneLine(s string) bool { return !strings.Contains(s, "\n") }

func renderEq(r *rewriter, s *site) string {
	return fmt.Sprintf("((%s %s %s) != __mOn(%d))", r.expr(s.x), s.op, r.expr(s.y), s.ids["neg"])
}

func renderOrd(r *rewriter, s *site) string {
	x, y := r.expr(s.x), r.expr(s.y)
	widen := s.op == "<" || s.op == ">"
	return fmt.Sprintf("__mOrd(%d, %d, %s %s %s, func() bool { return %s == %s }, %t)",
		s.ids["neg"], s.ids["bound"], x, s.op, y, x, y, widen)
}

var arithHelper = map[string]string{"+": "__mAdd", "-": "__mSub", "*": "__mMul", "/": "__mQuo", "%": "__mRem"}

func renderArith(r *rewriter, s *site) string {
	return fmt.Sprintf("%s(%d, %s, %s)", arithHelper[s.op], s.ids["arith"], r.expr(s.x), r.expr(s.y))
}

func renderAssign(r *rewriter, s *site) string {
	a := s.node.(*ast.AssignStmt)
	return fmt.Sprintf("%s %s __mSign(%d, %s)", r.expr(a.Lhs[0]), a.Tok, s.ids["arith"], r.expr(a.Rhs[0]))
}

func renderIncDec(r *rewriter, s *site) string {
	x := r.expr(s.x)
	return fmt.Sprintf("%s %s= __mOne(%d, %s)", x, s.op, s.ids["incdec"], x)
}

func renderNeg(r *rewriter, s *site) string {
	return fmt.Sprintf("__mUn(%d, -%s)", s.ids["neg"], r.expr(s.x))
}

// sitesOf finds the schema's sites of one file and numbers their mutants
// with the ids of ms (keyed by file, offset and new operator).
func sitesOf(r *rewriter, f *ast.File, file string, ids map[string]int) []*site {
	id := func(pos token.Pos, to string) int { return ids[fmt.Sprintf("%s:%d:%s", file, r.off(pos), to)] }
	var sites []*site
	add := func(n ast.Node, s *site) {
		s.file, s.node, s.start, s.end = file, n, r.off(n.Pos()), r.off(n.End())
		s.line = r.fset.Position(n.Pos()).Line
		for k, v := range s.ids {
			if v == 0 {
				delete(s.ids, k)
			}
		}
		if len(s.ids) > 0 && oneLine(string(r.src[s.start:s.end])) {
			sites = append(sites, s)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			op := n.Op.String()
			switch n.Op {
			case token.EQL, token.NEQ:
				add(n, &site{x: n.X, y: n.Y, op: op, render: renderEq, ids: map[string]int{"neg": id(n.OpPos, negation[n.Op].String())}})
			case token.LSS, token.LEQ, token.GTR, token.GEQ:
				add(n, &site{x: n.X, y: n.Y, op: op, render: renderOrd, ids: map[string]int{
					"neg": id(n.OpPos, negation[n.Op].String()), "bound": id(n.OpPos, boundary[n.Op].String())}})
			case token.ADD, token.SUB, token.MUL, token.QUO, token.REM:
				add(n, &site{x: n.X, y: n.Y, op: op, generic: true, render: renderArith, ids: map[string]int{"arith": id(n.OpPos, arithmetic[n.Op].String())}})
			}
		case *ast.AssignStmt:
			if (n.Tok == token.ADD_ASSIGN || n.Tok == token.SUB_ASSIGN) && len(n.Lhs) == 1 {
				add(n, &site{generic: true, render: renderAssign, ids: map[string]int{"arith": id(n.TokPos, arithmetic[n.Tok].String())}})
			}
		case *ast.IncDecStmt:
			op := "+"
			if n.Tok == token.DEC {
				op = "-"
			}
			add(n, &site{x: n.X, op: op, generic: true, render: renderIncDec, ids: map[string]int{"incdec": id(n.TokPos, incdec[n.Tok].String())}})
		case *ast.UnaryExpr:
			if n.Op == token.SUB {
				add(n, &site{x: n.X, generic: true, render: renderNeg, ids: map[string]int{"neg": id(n.OpPos, token.ADD.String())}})
			}
		}
		return true
	})
	// Outer sites first at the same start, so text() rewrites the outer
	// one and reaches the inner ones through its operands.
	sort.SliceStable(sites, func(i, j int) bool {
		if sites[i].start != sites[j].start {
			return sites[i].start < sites[j].start
		}
		return sites[i].end > sites[j].end
	})
	return sites
}

// schemaFile is added to the package: the helpers the sites call.
const schemaFile = `package %s

import (
	"os"
	"strconv"
)

var __mActive, _ = strconv.Atoi(os.Getenv("` + schemaEnv + `"))

type __mNum interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr | ~float32 | ~float64
}

type __mInt interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

func __mOn(id int) bool { return __mActive == id }

func __mOrd(neg, bound int, v bool, eq func() bool, widen bool) bool {
	switch __mActive {
	case neg:
		return !v
	case bound:
		if widen {
			return v || eq()
		}
		return v && !eq()
	}
	return v
}

func __mAdd[T __mNum](id int, x, y T) T {
	if __mOn(id) {
		return x - y
	}
	return x + y
}

func __mSub[T __mNum](id int, x, y T) T {
	if __mOn(id) {
		return x + y
	}
	return x - y
}

func __mMul[T __mNum](id int, x, y T) T {
	if __mOn(id) {
		return x / y
	}
	return x * y
}

func __mQuo[T __mNum](id int, x, y T) T {
	if __mOn(id) {
		return x * y
	}
	return x / y
}

func __mRem[T __mInt](id int, x, y T) T {
	if __mOn(id) {
		return x * y
	}
	return x %% y
}

func __mSign[T __mNum](id int, y T) T {
	if __mOn(id) {
		return -y
	}
	return y
}

func __mOne[T __mNum](id int, _ T) T {
	var one T = 1
	if __mOn(id) {
		return -one
	}
	return one
}

func __mUn[T __mNum](id int, v T) T {
	if __mOn(id) {
		return -v
	}
	return v
}
`

// schema is the built schema test binaries (one per package) and the
// mutants they hold.
type schema struct {
	bins []testBin
	has  map[int]bool
}

// buildSchema writes the schema of the files into dir and compiles the
// package's tests with it, dropping the sites of any line the compiler
// refuses until it compiles.
func buildSchema(c config, dir string, files []string, ms []mutant) (schema, error) {
	ids := map[string]int{}
	for i, m := range ms {
		ids[fmt.Sprintf("%s:%d:%s", m.file, m.offset, m.new)] = i + 1
	}
	type parsed struct {
		r    *rewriter
		path string
	}
	var all []parsed
	pkgName := ""
	for _, file := range files {
		path, err := filepath.Abs(filepath.Join(c.pkg, file))
		if err != nil {
			return schema{}, err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return schema{}, err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return schema{}, err
		}
		pkgName = f.Name.Name
		tf := fset.File(f.Pos())
		r := &rewriter{src: src, fset: fset, off: tf.Offset}
		r.sites = sitesOf(r, f, file, ids)
		all = append(all, parsed{r, path})
	}
	for round := 0; round < 20; round++ {
		replace := map[string]string{filepath.Join(mustAbs(c.pkg), "zz_overlaymutate_schema.go"): filepath.Join(dir, "schema.go")}
		if err := os.WriteFile(filepath.Join(dir, "schema.go"), fmt.Appendf(nil, schemaFile, pkgName), 0o644); err != nil {
			return schema{}, err
		}
		for _, p := range all {
			out := filepath.Join(dir, filepath.Base(p.path))
			if err := os.WriteFile(out, []byte(p.r.text(0, len(p.r.src))), 0o644); err != nil {
				return schema{}, err
			}
			replace[p.path] = out
		}
		overlay, _ := json.Marshal(map[string]map[string]string{"Replace": replace})
		if err := os.WriteFile(filepath.Join(dir, "schema.json"), overlay, 0o644); err != nil {
			return schema{}, err
		}
		bins, out, err := c.build(filepath.Join(dir, "schema.json"), dir, "-gcflags=-e")
		if err == nil {
			has := map[int]bool{}
			for _, p := range all {
				for _, s := range p.r.sites {
					for _, id := range s.ids {
						has[id] = true
					}
				}
			}
			return schema{bins: bins, has: has}, nil
		}
		bad := badLines(string(out))
		dropped := 0
		for _, p := range all {
			var n int
			p.r.sites, n = dropSites(p.r.sites, bad[filepath.Base(p.path)])
			dropped += n
		}
		if dropped == 0 {
			return schema{}, fmt.Errorf("the schema does not compile:\n%s", out)
		}
	}
	return schema{}, fmt.Errorf("the schema still does not compile after 20 rounds")
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		fail(err)
	}
	return a
}

var errLine = regexp.MustCompile(`(?m)([^\s:/]+\.go):(\d+):\d+: `)

// badLines are the lines of each file the compiler refused.
func badLines(out string) map[string]map[int]bool {
	bad := map[string]map[int]bool{}
	for _, m := range errLine.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		if bad[m[1]] == nil {
			bad[m[1]] = map[int]bool{}
		}
		bad[m[1]][n] = true
	}
	return bad
}

// dropSites removes the generic sites of the refused lines or, on a
// line with none, every site: generic helpers are the usual cause (a
// string +, a constant expression), a comparison rarely.
func dropSites(sites []*site, bad map[int]bool) ([]*site, int) {
	generic := map[int]bool{}
	for _, s := range sites {
		if bad[s.line] && s.generic {
			generic[s.line] = true
		}
	}
	var kept []*site
	for _, s := range sites {
		if bad[s.line] && (s.generic || !generic[s.line]) {
			continue
		}
		kept = append(kept, s)
	}
	return kept, len(sites) - len(kept)
}
