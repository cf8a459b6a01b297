package authn

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsStayBelowTransports enforces docs/architecture.md's dependency
// rule for this package: its non-test files import domain, store and
// password and the standard library, never net/http (that is httpauth's
// job), SQL, a driver or a concrete backend.
func TestImportsStayBelowTransports(t *testing.T) {
	allowed := map[string]bool{
		"github.com/gatehouse/gatehouse/internal/domain":         true,
		"github.com/gatehouse/gatehouse/internal/store":          true,
		"github.com/gatehouse/gatehouse/internal/authn/password": true,
	}
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
			switch {
			case path == "net/http" || strings.HasPrefix(path, "net/http/"):
				t.Errorf("%s imports %s: HTTP belongs in internal/authn/httpauth", name, path)
			case path == "database/sql" || strings.HasPrefix(path, "database/sql/"):
				t.Errorf("%s imports %s: authn reaches the database through store only", name, path)
			case strings.Contains(path, ".") && !allowed[path]:
				t.Errorf("%s imports %s: authn imports domain, store, password and the standard library only", name, path)
			}
		}
	}
}
