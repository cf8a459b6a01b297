package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/testserver"
)

var binary string

func TestMain(m *testing.M) {
	testserver.Main(m, "gatehouse-e2e", &binary)
}

// server is a running gatehouse process.
type server = testserver.Server

// start runs `gatehouse serve` in dir with args and env, and waits until it
// logs the URL it serves.
func start(t *testing.T, dir string, env []string, args ...string) *server {
	t.Helper()
	return testserver.Start(t, testserver.Options{Binary: binary, Dir: dir, Env: env, Args: args})
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
		if code, body := get(t, s.URL+p); code != 200 || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("GET %s = %d %s, want 200 ok", p, code, body)
		}
	}
	first := s.Log()
	s.Stop(t)
	if n := len(passwordRE.FindAllString(first, -1)); n != 1 || !strings.Contains(first, "initial administrator created") {
		t.Fatalf("first start logged the password %d times, want once:\n%s", n, first)
	}

	s = start(t, dir, []string{"GATEHOUSE_ADMIN_PASSWORD="}, args...)
	if code, _ := get(t, s.URL+"/healthz"); code != 200 {
		t.Errorf("after restart /healthz = %d", code)
	}
	again := s.Log()
	s.Stop(t)
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
