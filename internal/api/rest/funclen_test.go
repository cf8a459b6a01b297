package rest_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines bounds every function of the REST transport: a handler is
// a named method of its resource's file, short enough to read at once
// (docs/architecture.md); a registration is a table, not a body.
const maxFuncLines = 80

// TestFunctionsAreShort fails for a function or function literal of the
// package that spans maxFuncLines lines or more.
func TestFunctionsAreShort(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fs := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fs, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			what := "a function literal"
			switch x := n.(type) {
			case *ast.FuncDecl:
				body, what = x.Body, x.Name.Name
			case *ast.FuncLit:
				body = x.Body
			}
			if body != nil {
				start := fs.Position(n.Pos())
				if lines := fs.Position(body.End()).Line - start.Line + 1; lines >= maxFuncLines {
					t.Errorf("%s:%d: %s is %d lines long; split it below %d", name, start.Line, what, lines, maxFuncLines)
				}
			}
			return true
		})
	}
}
