// Package testfigures lets a long-running test report its headline figure
// (kills survived, inputs tried, writes checked) where CI shows it.
//
// `go test` prints nothing of a passing package unless run with -v, so a
// figure given only to t.Log is lost from an ordinary `make test` run.
// Record also appends the line to the file named by GATEHOUSE_FIGURES, which
// `make test` sets and prints at the end of its run.
package testfigures

import (
	"fmt"
	"os"
	"testing"
)

// Env names the file figures are appended to.
const Env = "GATEHOUSE_FIGURES"

// Record logs line on t and, when GATEHOUSE_FIGURES names a file, appends
// it there as one line. Failing to write the file fails the test: a figure
// CI promises must not vanish silently.
func Record(t testing.TB, line string) {
	t.Helper()
	t.Log(line)
	path := os.Getenv(Env)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Errorf("%s: %v", Env, err)
		return
	}
	// One write per line: O_APPEND keeps lines from parallel test
	// processes whole.
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Errorf("%s: %v", Env, err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("%s: %v", Env, err)
	}
}

// Skip skips t, saying why, and records the reason as a figure line
// ("skipped: …"), so that an ordinary `make test` run, which shows no
// skip message of a passing package, ends by saying what did not run and
// what it needs.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	Record(t, "skipped: "+fmt.Sprintf(format, args...))
	t.SkipNow()
}
