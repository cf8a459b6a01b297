package gatehouse

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyStandardLibrary keeps the package public in fact: it must
// build outside this module, so it may depend on nothing under
// internal/ and on no third-party module: the standard library and its
// own API types (pkg/gatehouse/api) only.
func TestOnlyStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/gatehouse/gatehouse/pkg/gatehouse" && p != "github.com/gatehouse/gatehouse/pkg/gatehouse/api" {
			t.Errorf("pkg/gatehouse depends on %s; it may use the standard library only", p)
		}
	}
}
