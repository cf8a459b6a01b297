package store_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces docs/architecture.md's dependency rule for the domain
// and the store contract: neither reaches, even indirectly, a transport
// (net/http), SQL (database/sql) or a database driver, and the domain uses
// the standard library only. It asks `go list -deps`, so an indirect import
// through some helper package counts too.
func TestLayering(t *testing.T) {
	for _, pkg := range []string{
		"github.com/gatehouse/gatehouse/internal/domain",
		"github.com/gatehouse/gatehouse/internal/store",
	} {
		for _, dep := range deps(t, pkg) {
			switch {
			case dep.ImportPath == "net/http" || strings.HasPrefix(dep.ImportPath, "net/http/"):
				t.Errorf("%s depends on %s: the domain and the store contract are no transport", pkg, dep.ImportPath)
			case dep.ImportPath == "database/sql" || strings.HasPrefix(dep.ImportPath, "database/sql/"):
				t.Errorf("%s depends on %s: SQL belongs to the backends", pkg, dep.ImportPath)
			case !dep.Standard && !strings.HasPrefix(dep.ImportPath, "github.com/gatehouse/gatehouse/"):
				t.Errorf("%s depends on third-party %s (drivers and libraries belong to the backends)", pkg, dep.ImportPath)
			case strings.HasPrefix(dep.ImportPath, "github.com/gatehouse/gatehouse/") &&
				dep.ImportPath != "github.com/gatehouse/gatehouse/internal/domain" && dep.ImportPath != pkg:
				t.Errorf("%s depends on %s: only internal/domain is allowed below the store contract", pkg, dep.ImportPath)
			}
		}
	}
}

type listed struct {
	ImportPath string
	Standard   bool
}

func deps(t *testing.T, pkg string) []listed {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var all []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var l listed
		if err := dec.Decode(&l); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all = append(all, l)
	}
	if len(all) < 2 {
		t.Fatalf("go list -deps %s listed %d packages; the check would prove nothing", pkg, len(all))
	}
	return all
}
