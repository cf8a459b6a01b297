package postgres

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// lockProbe, as a query tracer, tries to take the revision counter's row
// lock from its own connection, without waiting, when the traced
// connection starts its first INSERT.
type lockProbe struct {
	dsn string

	mu     sync.Mutex
	armed  bool // set once the store is open: migrations insert too
	probed bool
	err    error // what the attempt answered; nil if it took the lock
}

func (p *lockProbe) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.armed || p.probed || !strings.HasPrefix(data.SQL, "INSERT INTO") {
		return ctx
	}
	p.probed = true
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		p.err = err
		return ctx
	}
	defer conn.Close(ctx)
	_, p.err = conn.Exec(ctx, `SELECT revision FROM gh_revision WHERE id = 1 FOR UPDATE NOWAIT`)
	return ctx
}

func (p *lockProbe) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A restore holds the write lock from before it checks that the database
// is empty until it commits: a write that could commit in between would
// be mixed into the restored data or lost under it.
func TestRestoreHoldsTheWriteLock(t *testing.T) {
	src := openTemp(t, OpenOptions{})
	storetest.PopulateForDump(t, src)
	var dump bytes.Buffer
	if _, err := src.Dump(context.Background(), &dump); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.NewDatabase(t)
	probe := &lockProbe{dsn: dsn}
	db, err := OpenWith(context.Background(), dsn, OpenOptions{tracer: probe})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	probe.mu.Lock()
	probe.armed = true
	probe.mu.Unlock()
	if _, err := db.Restore(context.Background(), &dump); err != nil {
		t.Fatal(err)
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	var pe *pgconn.PgError
	switch {
	case !probe.probed:
		t.Fatal("the restore inserted nothing")
	case probe.err == nil:
		t.Error("another connection took the write lock while the restore inserted its rows")
	case !errors.As(probe.err, &pe) || pe.Code != "55P03":
		t.Errorf("taking the write lock during the restore: %v, want lock_not_available (55P03)", probe.err)
	}
}
