package client

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyStdlibAndDomain keeps the client usable without the
// server: its non-test files import the standard library and
// internal/domain's plain types, never the REST handlers, the service or a
// third-party module.
func TestImportsOnlyStdlibAndDomain(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(path, ".") && path != "github.com/gatehouse/gatehouse/internal/domain" {
				t.Errorf("%s imports %s: the client imports the standard library and internal/domain only", name, path)
			}
		}
	}
}
