package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// adminPassword is the initial administrator's password the replicas are
// started with (the first one to start creates the administrator).
const adminPassword = "replicabench-Secret-1"

// proc is one running `gatehouse serve`.
type proc struct {
	name string
	cmd  *exec.Cmd
	url  string
	done chan error

	mu   sync.Mutex
	logs bytes.Buffer
}

var servingRE = regexp.MustCompile(`msg="gatehouse serving" url=(http://\S+)/`)

// startProc starts binary serve on dsn, listening on a free loopback
// port, and waits until it logs its URL.
func startProc(ctx context.Context, binary, dsn, name, dir string) (*proc, error) {
	cmd := exec.Command(binary, "serve", "--db", dsn, "--listen", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD="+adminPassword)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if m := servingRE.FindStringSubmatch(line); m != nil {
				urlc <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case p.url = <-urlc:
		return p, nil
	case err := <-p.done:
		return nil, fmt.Errorf("replica %s exited before serving: %v\n%s", name, err, p.log())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("replica %s did not start within 60s\n%s", name, p.log())
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return nil, ctx.Err()
	}
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// stop sends SIGTERM, waits for the process to drain and exit, and kills
// it after 30 s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// buildBinary builds cmd/gatehouse into a temporary directory (this
// program runs inside the module, with `go run` or `go test`).
func buildBinary(ctx context.Context) (string, func(), error) {
	dir, err := os.MkdirTemp("", "replicabench")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "gatehouse")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/gatehouse/gatehouse/cmd/gatehouse")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building gatehouse (or pass -binary): %v\n%s", err, out.String())
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
