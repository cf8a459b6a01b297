package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a private PostgreSQL server that a test owns: it may stop and
// restart it at will, which a test must never do to the shared server at
// GATEHOUSE_TEST_POSTGRES (other tests run against it at the same time).
// It listens on 127.0.0.1 on a port of its own, trusts every local
// connection, and keeps its data in a temporary directory removed when the
// test ends. fsync is off: the cluster is thrown away, and a crash test
// here restarts the server, not the machine.
type Cluster struct {
	// Port is the TCP port on 127.0.0.1; it stays the same across
	// Stop/Start so clients can reconnect to the same address.
	Port int

	dir  string // owned by the server's OS user; holds data/, the socket and the log
	bin  string // directory of initdb and pg_ctl
	cred *syscall.Credential

	mu      sync.Mutex
	running bool
}

// NewCluster creates and starts a private cluster with initdb and pg_ctl
// (from GATEHOUSE_TEST_PG_BIN, else the newest /usr/lib/postgresql/*/bin,
// else $PATH). PostgreSQL refuses to run as root, so when the test runs as
// root the server runs as the OS user "postgres". When the cluster cannot
// be made the test is skipped with the reason, or fails when CI=true. The
// cluster is stopped and its directory removed when the test ends.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot create a private PostgreSQL cluster (CI=true, so this fails instead of skipping): %s", msg)
		}
		t.Skipf("cannot create a private PostgreSQL cluster, skipping: %s", msg)
	}
	bin, err := findBin()
	if err != nil {
		unavailable("%v", err)
	}
	c := &Cluster{bin: bin}
	dir, err := os.MkdirTemp("", "gatehouse-pgcluster-")
	if err != nil {
		unavailable("%v", err)
	}
	c.dir = dir
	t.Cleanup(func() {
		c.stop("immediate")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable("running as root and there is no OS user postgres to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			unavailable("%v", err)
		}
	}
	if out, err := c.run("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"); err != nil {
		unavailable("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		unavailable("%v", err)
	}
	c.Port = port
	if err := c.start(); err != nil {
		unavailable("%v", err)
	}
	return c
}

// findBin returns the directory holding initdb and pg_ctl.
func findBin() (string, error) {
	if d := os.Getenv("GATEHOUSE_TEST_PG_BIN"); d != "" {
		return d, nil
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl"); len(m) > 0 {
		// The newest major version: sort numerically by directory name.
		sort.Slice(m, func(i, j int) bool {
			vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m[i]))))
			vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m[j]))))
			return vi < vj
		})
		return filepath.Dir(m[len(m)-1]), nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("no pg_ctl in /usr/lib/postgresql/*/bin or $PATH (set GATEHOUSE_TEST_PG_BIN)")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// run runs one of the server's programs as the server's OS user.
func (c *Cluster) run(prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.dir // the server's user may not be able to enter the test's working directory
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *Cluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return nil
	}
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off -c max_connections=60", c.Port, c.dir)
	if out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, c.Log())
	}
	c.running = true
	return nil
}

func (c *Cluster) stop(mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return nil
	}
	if out, err := c.run("pg_ctl", "-D", c.data(), "-m", mode, "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	c.running = false
	return nil
}

// Start starts a stopped cluster on the same port (a no-op when running).
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
}

// Stop shuts the server down in pg_ctl's fast mode: open connections are
// cut, as when an operator restarts PostgreSQL or its host fails over.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if err := c.stop("fast"); err != nil {
		t.Fatal(err)
	}
}

// Restart stops and starts the server.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	c.Stop(t)
	c.Start(t)
}

// DSN returns the URL of database name on the cluster ("postgres" always
// exists).
func (c *Cluster) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

// NewDatabase creates an empty database with a fresh name on the cluster
// and returns its DSN. It is dropped with the cluster.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatalf("connecting to the private cluster: %v", err)
	}
	defer conn.Close(context.Background())
	name := fmt.Sprintf("gh_cluster_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating %s on the private cluster: %v", name, err)
	}
	return c.DSN(name)
}

// Log returns the server's log so far, for a failing test's message.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}
