// Package pgtest gives tests a private, empty PostgreSQL database. The
// server comes from GATEHOUSE_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). When it
// cannot be reached the test is skipped, or fails when CI=true, so that CI
// never passes by skipping the PostgreSQL half of the suite.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/testfigures"
)

// DefaultDSN is the server tried when GATEHOUSE_TEST_POSTGRES is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerDSN returns the DSN of the test server (a database on it that the
// tests may connect to in order to create others).
func ServerDSN() string {
	if v := os.Getenv("GATEHOUSE_TEST_POSTGRES"); v != "" {
		return v
	}
	return DefaultDSN
}

// NewDatabase creates a database with a random name on the test server,
// drops it when the test ends, and returns its DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	dsn := ServerDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL not reachable at %s (CI=true, so this fails instead of skipping): %v", redact(dsn), err)
		}
		testfigures.Skip(t, "PostgreSQL not reachable at %s (set GATEHOUSE_TEST_POSTGRES): skipping the PostgreSQL tests", redact(dsn))
	}
	defer admin.Close(context.Background())

	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "gh_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
	})

	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Fatalf("GATEHOUSE_TEST_POSTGRES must be a postgres:// URL, got %q", redact(dsn))
	}
	u.Path = "/" + name
	return u.String()
}

// redact hides a password in a DSN for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
