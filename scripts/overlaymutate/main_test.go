package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// script writes an executable shell script standing in for a package's
// test binary.
func script(t *testing.T, name, body string) testBin {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return testBin{path: path, pkg: t.TempDir()}
}

// With -also, a mutant is killed when the tests of any package fail, it
// lives only when all of them pass, and the packages after the first
// failure are not run (their time would be wasted).
func TestRunBinsKillsWhenAnyPackageFails(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	pass := script(t, "pass", "exit 0")
	fail := script(t, "fail", "exit 1")
	// Passes only when the schema's mutant 7 is the one active.
	seven := script(t, "seven", `[ "$`+schemaEnv+`" = 7 ]`)
	touch := script(t, "touch", "touch "+marker)
	for _, tc := range []struct {
		name string
		bins []testBin
		id   int
		want string
	}{
		{"every package passes", []testBin{pass, pass}, 0, "LIVED"},
		{"the mutated package passes, another fails", []testBin{pass, fail}, 0, "KILLED"},
		{"the mutant's id reaches every package", []testBin{pass, seven}, 7, "LIVED"},
		{"another mutant's id", []testBin{pass, seven}, 3, "KILLED"},
		{"the first fails, the rest are not run", []testBin{fail, touch}, 0, "KILLED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config{timeout: time.Minute}
			if got := c.runBins(tc.bins, tc.id); got != tc.want {
				t.Errorf("runBins = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("a package after the first failure was run (stat: %v)", err)
	}
}

// A mutant is covered when the tests of any package ran its code: the
// profiles of the packages add up.
func TestCoverageOfSeveralPackagesAddsUp(t *testing.T) {
	dir := t.TempDir()
	profile := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("mode: set\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	own := profile("own.out", "example.com/m/internal/service/provisioning.go:10.2,12.3 2 0\n"+
		"example.com/m/internal/service/provisioning.go:20.2,22.3 2 1\n")
	other := profile("other.out", "example.com/m/internal/service/provisioning.go:10.2,12.3 2 1\n"+
		"example.com/m/internal/service/provisioning.go:20.2,22.3 2 0\n")
	inOwnOnly := mutant{file: "provisioning.go", line: 21, col: 5}
	inOtherOnly := mutant{file: "provisioning.go", line: 11, col: 5}

	blocks := map[string][]block{}
	if err := readProfile(own, blocks); err != nil {
		t.Fatal(err)
	}
	if !isCovered(blocks, inOwnOnly) || isCovered(blocks, inOtherOnly) {
		t.Fatalf("the package's own profile: covered %t and %t, want true and false",
			isCovered(blocks, inOwnOnly), isCovered(blocks, inOtherOnly))
	}
	if err := readProfile(other, blocks); err != nil {
		t.Fatal(err)
	}
	for _, m := range []mutant{inOwnOnly, inOtherOnly} {
		if !isCovered(blocks, m) {
			t.Errorf("line %d not covered with both profiles", m.line)
		}
	}
}
