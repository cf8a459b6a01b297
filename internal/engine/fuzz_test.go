package engine

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// FuzzParseResource: a resource string ("system", "project:<id>",
// "domain:<name>", "folder:<id>", as the check API takes it) parses without
// a panic; an accepted one prints back to itself, and a refused one is an
// invalid-input error. Seed corpus: testdata/fuzz/FuzzParseResource.
func FuzzParseResource(f *testing.F) {
	for _, s := range []string{"system", "project:p1", "domain:example.org", "folder:f/../x", "folder:", "user:1", "system:x", ":", "", "\xff:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseResource(s)
		if err != nil {
			if !domain.Is(err, domain.KindInvalid) {
				t.Fatalf("%q: %v is not an invalid-input error", s, err)
			}
			return
		}
		if r.String() != s {
			t.Fatalf("%q parses to %+v, which prints as %q", s, r, r.String())
		}
		if r.Kind != KindSystem && (r.ID == "" || strings.HasPrefix(s, string(r.Kind)+":") == false) {
			t.Fatalf("%q parses to %+v", s, r)
		}
	})
}
