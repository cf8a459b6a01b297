package postgres

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// recv waits (generously: a liveness bound, not a timing assertion) for a
// value on c that satisfies ok.
func recv(t *testing.T, c <-chan int64, what string, ok func(int64) bool) int64 {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case v, open := <-c:
			if !open {
				t.Fatalf("waiting for %s: the listener closed", what)
			}
			if ok(v) {
				return v
			}
		case <-deadline:
			t.Fatalf("no %s within 10s", what)
		}
	}
}

// A commit made through a second store (another replica) wakes a follower
// that never polls: only the notification can tell it.
func TestListenWakesFollower(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	a, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	f, err := service.NewFollower(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithCancel(ctx)
	l := a.Listen(lctx, ListenOptions{})
	recv(t, l.C, "connection announcement (0)", func(v int64) bool { return v == 0 })

	// Forward the listener to the follower, and watch what it forwards.
	wake := make(chan int64, 64)
	seen := make(chan int64, 64)
	go func() {
		for v := range l.C {
			seen <- v
			wake <- v
		}
		close(wake)
	}()
	done := make(chan error, 1)
	go func() { done <- f.Run(lctx, service.RunOptions{Wake: wake, PollInterval: time.Hour}) }()

	res, err := service.Bootstrap(ctx, b, service.BootstrapOptions{AdminPassword: "correct horse battery", PasswordParams: &cheap})
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision <= 0 {
		t.Fatalf("bootstrap committed revision %d", res.Revision)
	}
	got := recv(t, seen, "notification of the bootstrap", func(v int64) bool { return v >= res.Revision })
	if got != res.Revision {
		t.Errorf("notified revision %d, want %d (the payload is the committed revision)", got, res.Revision)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.Revision() < res.Revision && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if f.Revision() != res.Revision {
		t.Fatalf("follower at %d after the notification, want %d", f.Revision(), res.Revision)
	}
	if f.Head() != res.Revision {
		t.Errorf("follower head %d, want %d", f.Head(), res.Revision)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil when its context ends", err)
	}
	l.Wait()
}

// When its connection is killed, the listener reconnects, announces 0 (so
// the reader catches up on what it missed) and delivers later commits.
func TestListenReconnects(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	a, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := a.Listen(lctx, ListenOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	recv(t, l.C, "first connection", func(v int64) bool { return v == 0 })

	var killed int
	err = a.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+NotifyChannel+`'`).Scan(&killed)
	if err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listening backends, want 1", killed)
	}
	recv(t, l.C, "reconnection announcement (0)", func(v int64) bool { return v == 0 })
	if _, err := a.Pool().Exec(ctx, `SELECT pg_notify('`+NotifyChannel+`', '42')`); err != nil {
		t.Fatal(err)
	}
	recv(t, l.C, "notification after reconnecting", func(v int64) bool { return v == 42 })
	cancel()
	l.Wait()
	for range l.C { // buffered values may remain; then C must be closed
	}
}

// PostgreSQL restarted under a running replica: while it is down, a write
// is KindUnavailable saying the database is not reachable; once it is
// back, writes work again and the listener has reconnected, with no new
// store opened.
func TestOutageAndRecovery(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		// A private cluster costs a few seconds of initdb; CI runs it.
		t.Skip("creates a private PostgreSQL cluster; skipped with -short outside CI")
	}
	c := pgtest.NewCluster(t)
	ctx := context.Background()
	db, err := Open(ctx, c.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := db.Listen(lctx, ListenOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	recv(t, l.C, "first connection", func(v int64) bool { return v == 0 })
	bootstrap := func() error {
		_, err := service.Bootstrap(ctx, db, service.BootstrapOptions{AdminPassword: "correct horse battery", PasswordParams: &cheap})
		return err
	}

	c.Stop(t)
	err = bootstrap()
	if !domain.Is(err, domain.KindUnavailable) || !strings.Contains(err.Error(), "the database is not reachable") {
		t.Fatalf("write while PostgreSQL is down = %v, want kind unavailable saying the database is not reachable", err)
	}
	if err := db.Ping(ctx); !domain.Is(err, domain.KindUnavailable) {
		t.Errorf("Ping while down = %v, want kind unavailable", err)
	}

	c.Start(t)
	recv(t, l.C, "reconnection after the restart", func(v int64) bool { return v == 0 })
	// The pool may still hold a connection the restart cut: the first
	// use can fail, the next ones reconnect.
	deadline := time.Now().Add(10 * time.Second)
	for err = bootstrap(); err != nil && time.Now().Before(deadline); err = bootstrap() {
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("write after PostgreSQL came back: %v", err)
	}
	rev, err := db.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recv(t, l.C, "notification of the write after the restart", func(v int64) bool { return v == rev })
}

func TestClassifyLostConnection(t *testing.T) {
	for _, err := range []error{io.ErrUnexpectedEOF, fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF)} {
		if got := classify(err); got != sqlstore.ClassUnavailable {
			t.Errorf("classify(%v) = %v, want ClassUnavailable", err, got)
		}
	}
}
