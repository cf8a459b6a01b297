package testserver

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// StopTimeout is how long Stop waits for the process to exit after
// SIGTERM.
const StopTimeout = 30 * time.Second

// BinaryEnv names the environment variable that gives Main a gatehouse
// binary already built from this tree. `make test` builds the binary once
// and sets it, so that the packages of whole-binary tests, run side by
// side, do not each build and link their own copy; whoever sets it
// answers for the binary being current.
const BinaryEnv = "GATEHOUSE_TEST_BINARY"

// Main is a TestMain body: it sets *binary to the binary BinaryEnv names,
// or else builds one into a new temporary directory named after pattern
// (as os.MkdirTemp); then it runs the tests, removes the directory and
// exits with the tests' status. A failed build, or a BinaryEnv naming no
// file, ends the process with status 1 and the reason on stderr.
func Main(m *testing.M, pattern string, binary *string) {
	if prebuilt := os.Getenv(BinaryEnv); prebuilt != "" {
		if _, err := os.Stat(prebuilt); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", BinaryEnv, err)
			os.Exit(1)
		}
		*binary = prebuilt
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*binary, err = Build(context.Background(), dir, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "building gatehouse:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Start launches the server (see Launch) and fails the test if it does
// not serve. The process is killed, if still running, when the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Launch(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Kill)
	return s
}

// Stop is a graceful shutdown as a test expects it: SIGTERM, an exit with
// status 0 within StopTimeout (else the process is killed) and the
// shutdown's `msg=stopped` log line. A failure to stop or a non-zero exit
// ends the test.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if err := s.Signal(syscall.SIGTERM); err != nil {
		tb.Fatal(err)
	}
	exited, err := s.Wait(StopTimeout)
	if !exited {
		log := s.Log()
		s.Kill()
		tb.Fatalf("gatehouse did not stop within %s of SIGTERM\n%s", fmtDuration(StopTimeout), log)
	}
	if err != nil {
		tb.Fatalf("gatehouse exited with %v after SIGTERM, want status 0\n%s", err, s.Log())
	}
	if !strings.Contains(s.Log(), `msg=stopped`) {
		tb.Errorf("no graceful-shutdown log line:\n%s", s.Log())
	}
}
