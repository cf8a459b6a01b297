package engine

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// parsePerm finds a fixed permission through fixedByBytes, not the map:
// every key of the catalog must come back with its own kind and bit, and
// a string that differs from a key by a byte, a case or a length must
// not be taken for it (R8's keys are exact).
func TestParsePermFindsExactlyTheFixedPermissions_R8(t *testing.T) {
	for key, want := range fixedPerms {
		got, err := parsePerm("test", key)
		if err != nil || got != want {
			t.Errorf("parsePerm(%q) = %+v, %v; want %+v", key, got, err, want)
		}
		for _, near := range []string{key + "x", key[:len(key)-1], strings.ToUpper(key), "x" + key[1:], key[:len(key)/2] + "#" + key[len(key)/2+1:]} {
			if got, ok := fixedByBytes.lookup(near); ok {
				t.Errorf("lookup(%q) = %+v; want no fixed permission", near, got)
			}
		}
	}
	for _, p := range []string{"root.read", "document.lock", "project.read"} {
		got, err := parsePerm("test", p)
		if err != nil {
			t.Fatalf("parsePerm(%q): %v", p, err)
		}
		if _, fixed := fixedPerms[p]; !fixed && (got.kind != KindFolder || got.ctx != strings.Split(p, ".")[0]) {
			t.Errorf("parsePerm(%q) = %+v; want a folder permission", p, got)
		}
	}
	if got, ok := fixedByBytes.lookup(""); ok {
		t.Errorf(`lookup("") = %+v; want none`, got)
	}
	if _, err := parsePerm("test", domain.PermFilesAdmin+"."); err == nil {
		t.Errorf("parsePerm(%q): no error", domain.PermFilesAdmin+".")
	}
}
