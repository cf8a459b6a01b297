package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-e2e")
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

// server is a running gatehouse process.
type server struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan error
}

var servingRE = regexp.MustCompile(`msg="gatehouse serving" url=(https?://\S+)/`)

// start runs `gatehouse serve` in dir with args and env, and waits until it
// logs the URL it serves.
func start(t *testing.T, dir string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := servingRE.FindStringSubmatch(line); m != nil {
				urlc <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case s.url = <-urlc:
		return s
	case err := <-s.done:
		t.Fatalf("gatehouse exited before serving: %v\n%s", err, s.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("gatehouse did not start within 60s\n%s", s.log())
	}
	return nil
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("gatehouse exited with %v after SIGTERM, want status 0\n%s", err, s.log())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("gatehouse did not stop within 30s of SIGTERM\n%s", s.log())
	}
	if !strings.Contains(s.log(), `msg=stopped`) {
		t.Errorf("no graceful-shutdown log line:\n%s", s.log())
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var passwordRE = regexp.MustCompile(`password=(\S+)`)

// checkServes runs the first start and a restart on one database and
// asserts health, readiness, and that the generated password is logged on
// the first start only.
func checkServes(t *testing.T, dir string, args ...string) {
	s := start(t, dir, []string{"GATEHOUSE_ADMIN_PASSWORD="}, args...)
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, s.url+p); code != 200 || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("GET %s = %d %s, want 200 ok", p, code, body)
		}
	}
	first := s.log()
	s.stop(t)
	if n := len(passwordRE.FindAllString(first, -1)); n != 1 || !strings.Contains(first, "initial administrator created") {
		t.Fatalf("first start logged the password %d times, want once:\n%s", n, first)
	}

	s = start(t, dir, []string{"GATEHOUSE_ADMIN_PASSWORD="}, args...)
	if code, _ := get(t, s.url+"/healthz"); code != 200 {
		t.Errorf("after restart /healthz = %d", code)
	}
	again := s.log()
	s.stop(t)
	if passwordRE.MatchString(again) || strings.Contains(again, "initial administrator") {
		t.Errorf("restart logged the initial password again:\n%s", again)
	}
}

func TestServeSQLiteDefaults(t *testing.T) {
	dir := t.TempDir()
	checkServes(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.db")); err != nil {
		t.Errorf("the default database gatehouse.db was not created in the working directory: %v", err)
	}
}

func TestServePostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	checkServes(t, t.TempDir(), "--db", dsn)
}

// runCmd runs the binary to completion and returns its exit status and output.
func runCmd(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func TestCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"serve", "--nope"}, 2, "unknown flag: --nope"},
		{"bad listen", []string{"serve", "--listen", "nowhere"}, 2, `--listen "nowhere"`},
		{"bad log level", []string{"serve", "--log-level", "loud"}, 2, "--log-level"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unreachable postgres", []string{"serve", "--db", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}, 1, "cannot open database"},
		{"migrate unreachable", []string{"migrate", "--db", "postgres://u:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}, 1, "u:xxxxx@127.0.0.1:1"},
		{"sqlite in missing dir", []string{"migrate", "--db", filepath.Join(dir, "no", "such", "dir", "g.db")}, 1, "cannot open database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, dir, tt.args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != tt.code || !strings.Contains(stderr, tt.want) || !strings.HasPrefix(lines[len(lines)-1], "gatehouse: ") {
				t.Errorf("exit %d, stderr %q; want exit %d and a last line 'gatehouse: ...' containing %q", code, stderr, tt.code, tt.want)
			}
			if strings.Contains(stderr, "secret") {
				t.Errorf("the database password leaked into the error: %q", stderr)
			}
		})
	}
}

func TestMigrateAndVersion(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ { // migrating twice is a no-op
		code, out, stderr := runCmd(t, dir, "migrate", "--db", "g.db")
		if code != 0 || !strings.Contains(out, "migrated") {
			t.Fatalf("migrate #%d: exit %d, out %q, err %q", i+1, code, out, stderr)
		}
	}
	code, out, _ := runCmd(t, dir, "version")
	if code != 0 || !strings.HasPrefix(out, "gatehouse ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}
