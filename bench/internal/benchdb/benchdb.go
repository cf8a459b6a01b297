// Package benchdb is the PostgreSQL side the benchmark programs under
// bench/ share: the scratch database a run creates on a server and drops
// afterwards.
package benchdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is the PostgreSQL server a benchmark program makes its scratch
// database on unless told another (their -pg flag):
// GATEHOUSE_TEST_POSTGRES, as for the tests, or the local one.
func Server() string {
	if v := os.Getenv("GATEHOUSE_TEST_POSTGRES"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Scratch creates an empty database with a random name on the PostgreSQL
// server at serverDSN and returns its DSN and a function that drops it.
func Scratch(ctx context.Context, serverDSN string) (string, func(), error) {
	u, err := url.Parse(serverDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("-pg must be a postgres:// URL")
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, serverDSN)
	if err != nil {
		return "", nil, fmt.Errorf("PostgreSQL server %s: %w", u.Redacted(), err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "gh_bench_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(cctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, serverDSN); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
