package crash

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	killsFlag = flag.Int("kills", 0, "SIGKILLs per backend (default 20, or GATEHOUSE_CRASH_KILLS; 200 with -long)")
	seedFlag  = flag.Int64("seed", 0, "random seed (default: GATEHOUSE_CRASH_SEED, else the clock); logged so a run can be repeated")
	longFlag  = flag.Bool("long", false, "a long run: 200 kills per backend unless -kills says otherwise")
)

// binary is the gatehouse binary built once by TestMain, without -race:
// the server under test runs at its real speed whatever flags the test
// process has.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "gatehouse-crash")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", binary, "github.com/gatehouse/gatehouse/cmd/gatehouse")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gatehouse:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// kills is how many SIGKILLs each backend's run makes.
func kills() int {
	if *killsFlag > 0 {
		return *killsFlag
	}
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_CRASH_KILLS")); err == nil && n > 0 {
		return n
	}
	if *longFlag {
		return 200
	}
	return 20
}

// seed is the run's random seed.
func seed() int64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	if n, err := strconv.ParseInt(os.Getenv("GATEHOUSE_CRASH_SEED"), 10, 64); err == nil && n != 0 {
		return n
	}
	return time.Now().UnixNano()
}

// adminPassword is the initial administrator's password every run starts
// the binary with.
const adminPassword = "crash-Admin-Secret-1"

// logTail bounds the log kept per process: enough to show why a start
// failed, without holding every request line of a long run.
const logTail = 256 << 10

// server is one running gatehouse process.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan error

	mu   sync.Mutex
	logs bytes.Buffer
}

var servingRE = regexp.MustCompile(`msg="gatehouse serving" url=(http://\S+)/`)

// start runs `gatehouse serve` with args in dir and returns once /readyz
// answers 200, with how long that took from the exec.
func start(t *testing.T, dir string, args ...string) (*server, time.Duration) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD="+adminPassword)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			if s.logs.Len() > logTail {
				rest := s.logs.Bytes()[s.logs.Len()-logTail/2:]
				s.logs = *bytes.NewBuffer(append([]byte("…\n"), rest...))
			}
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := servingRE.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { s.kill() })
	select {
	case s.url = <-urlc:
	case err := <-s.done:
		s.done <- err
		t.Fatalf("gatehouse exited before serving: %v\n%s", err, s.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("gatehouse did not start within 60s\n%s", s.log())
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := hc.Get(s.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, time.Since(began)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gatehouse's /readyz did not answer 200 within 60s (last: %v)\n%s", err, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// kill sends SIGKILL and waits for the process to be gone. Killing a
// process already gone is a no-op.
func (s *server) kill() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case err := <-s.done:
		s.done <- err // later callers see it too
	case <-time.After(30 * time.Second):
	}
}

// stop ends the process with SIGTERM (a graceful shutdown).
func (s *server) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("gatehouse exited with %v after SIGTERM\n%s", err, s.log())
		}
	case <-ctx.Done():
		t.Errorf("gatehouse did not stop within 30s of SIGTERM")
		s.kill()
	}
}
