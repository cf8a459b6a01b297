package engine

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsArePure enforces docs/architecture.md's dependency rule: the
// engine (and its generator) imports internal/domain and the standard
// library only, never a transport, SQL, a driver or a store.
func TestImportsArePure(t *testing.T) {
	for _, dir := range []string{".", "enginegen"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
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
				if reason := forbidden(path); reason != "" {
					t.Errorf("%s imports %s: %s", name, path, reason)
				}
			}
		}
	}
}

func forbidden(path string) string {
	const module = "github.com/gatehouse/gatehouse/"
	switch {
	case path == "net/http" || strings.HasPrefix(path, "net/http/"):
		return "the engine is no transport"
	case path == "database/sql" || strings.HasPrefix(path, "database/sql/"):
		return "the engine does no SQL"
	case strings.HasPrefix(path, module+"internal/store"):
		return "the engine is built from snapshots, not from a store"
	case strings.HasPrefix(path, module):
		if path != module+"internal/domain" {
			return "the engine imports internal/domain only"
		}
	case strings.Contains(strings.SplitN(path, "/", 2)[0], "."):
		return "no third-party dependency (drivers included) in the engine"
	}
	return ""
}
