// Package testserver owns what the whole-binary tests and benchmarks
// share: building the real gatehouse binary once (Build, or Main in a
// TestMain) and running it as a child process (`gatehouse serve --listen
// 127.0.0.1:0 ...` in a directory, with extra environment), waiting for
// the log line that gives its URL, keeping its log, and ending it with
// SIGTERM or SIGKILL.
//
// Launch and the methods of Server need no test, for benchmark programs;
// Main, Start and Server.Stop are the thin wrappers a test uses.
package testserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// Build builds cmd/gatehouse into dir and returns the binary's path. The
// go command's output goes to out. It runs inside the module (the tests'
// and benchmarks' working directory).
func Build(ctx context.Context, dir string, out io.Writer) (string, error) {
	binary := filepath.Join(dir, "gatehouse")
	// -trimpath keeps the module's directory out of the compiled packages,
	// so a build of a copy of the module elsewhere (the quickstart test's
	// clone) reuses them from the build cache.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", binary, "github.com/gatehouse/gatehouse/cmd/gatehouse")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return "", err
	}
	return binary, nil
}

// Options says how to run `gatehouse serve`.
type Options struct {
	Binary string   // the gatehouse binary (from Build)
	Dir    string   // the working directory
	Env    []string // added to this process's environment
	Args   []string // serve flags after --listen 127.0.0.1:0
	// Name names the process in errors; "gatehouse" when empty.
	Name string
	// LogLimit, when positive, bounds the log kept: past it, only the
	// last LogLimit/2 bytes are kept, after a line "…".
	LogLimit int
	// StartTimeout, when positive, replaces StartTimeout (a benchmark's
	// large data set loads slowly on a loaded machine).
	StartTimeout time.Duration
}

// StartTimeout is how long Launch waits for the serving log line.
const StartTimeout = 60 * time.Second

// killWait is how long Kill waits for a killed process to be gone.
const killWait = 30 * time.Second

// servingRE is the log line a serving gatehouse writes, with its URL.
var servingRE = regexp.MustCompile(`msg="gatehouse serving" url=(https?://\S+)/`)

// Server is one running gatehouse process.
type Server struct {
	// URL is where it serves, without a trailing slash
	// (http://127.0.0.1:port or https://...).
	URL string

	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited
	exitErr error         // cmd.Wait's answer, set before exited is closed

	mu       sync.Mutex
	logs     bytes.Buffer
	logLimit int
}

// Launch runs `gatehouse serve --listen 127.0.0.1:0` with opts and waits
// until it logs the URL it serves (at most StartTimeout, or until ctx
// ends). On failure the process is killed and the error includes its log.
func Launch(ctx context.Context, opts Options) (*Server, error) {
	name := opts.Name
	if name == "" {
		name = "gatehouse"
	}
	cmd := exec.Command(opts.Binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, opts.Args...)...)
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), opts.Env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, exited: make(chan struct{}), logLimit: opts.LogLimit}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", opts.Binary, err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			s.addLog(line)
			if m := servingRE.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // after a line too long, never block the process
		s.exitErr = cmd.Wait()
		close(s.exited)
	}()
	wait := StartTimeout
	if opts.StartTimeout > 0 {
		wait = opts.StartTimeout
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case s.URL = <-urlc:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("%s exited before serving: %v\n%s", name, s.exitErr, s.Log())
	case <-timer.C:
		s.Kill()
		return nil, fmt.Errorf("%s did not start within %s\n%s", name, fmtDuration(wait), s.Log())
	case <-ctx.Done():
		s.Kill()
		return nil, ctx.Err()
	}
}

// fmtDuration writes whole seconds as "60s" (time.Duration's String
// would say "1m0s").
func fmtDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

func (s *Server) addLog(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logLimit > 0 && s.logs.Len() > s.logLimit {
		rest := s.logs.Bytes()[s.logs.Len()-s.logLimit/2:]
		s.logs = *bytes.NewBuffer(append([]byte("…\n"), rest...))
	}
	s.logs.WriteString(line + "\n")
}

// Log is what the process has written to stderr so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// Pid is the process's id (for benchmarks that read its CPU time).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Signal sends sig to the process.
func (s *Server) Signal(sig os.Signal) error {
	return s.cmd.Process.Signal(sig)
}

// Exited reports whether the process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for the process to exit. exited says whether
// it did; err is then its exit error (nil for status 0).
func (s *Server) Wait(timeout time.Duration) (exited bool, err error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-s.exited:
		return true, s.exitErr
	case <-timer.C:
		return false, nil
	}
}

// Kill sends SIGKILL and waits (at most 30 s) for the process to be gone.
// Killing a process already gone is a no-op.
func (s *Server) Kill() {
	if s.Exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = s.Wait(killWait)
}

// Terminate sends SIGTERM and waits up to timeout for the process to
// drain and exit; if it has not by then, it is killed. It returns the exit
// error (nil for status 0, or for a process already gone).
func (s *Server) Terminate(timeout time.Duration) error {
	if s.Exited() {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	if exited, err := s.Wait(timeout); exited {
		return err
	}
	s.Kill()
	return fmt.Errorf("did not stop within %s of SIGTERM", fmtDuration(timeout))
}
