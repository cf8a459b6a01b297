package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gatehouse/gatehouse/internal/testserver"
)

// adminPassword is the initial administrator's password the replicas are
// started with (the first one to start creates the administrator).
const adminPassword = "replicabench-Secret-1"

// proc is one running `gatehouse serve`.
type proc struct {
	*testserver.Server
	name string
}

// startProc starts binary serve on dsn, listening on a free loopback
// port, and waits until it logs its URL.
func startProc(ctx context.Context, binary, dsn, name, dir string) (*proc, error) {
	s, err := testserver.Launch(ctx, testserver.Options{Binary: binary, Dir: dir, Name: "replica " + name,
		Env:  []string{"GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD=" + adminPassword},
		Args: []string{"--db", dsn}})
	if err != nil {
		return nil, err
	}
	return &proc{Server: s, name: name}, nil
}

// stop sends SIGTERM, waits for the process to drain and exit, and kills
// it after 30 s.
func (p *proc) stop() {
	_ = p.Terminate(30 * time.Second)
}

// buildBinary builds cmd/gatehouse into a temporary directory (this
// program runs inside the module, with `go run` or `go test`).
func buildBinary(ctx context.Context) (string, func(), error) {
	dir, err := os.MkdirTemp("", "replicabench")
	if err != nil {
		return "", nil, err
	}
	var out bytes.Buffer
	bin, err := testserver.Build(ctx, dir, &out)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building gatehouse (or pass -binary): %v\n%s", err, out.String())
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
