package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore/sqltest"
)

func openTemp(t *testing.T, o OpenOptions) *DB {
	t.Helper()
	db, err := OpenWith(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQL(t *testing.T) {
	sqltest.Run(t,
		func(t *testing.T) sqltest.Backend { return openTemp(t, OpenOptions{}) },
		func(t *testing.T) sqltest.Backend { return openTemp(t, OpenOptions{NoMigrate: true}) })
}

var _ store.Store = (*DB)(nil)

// TestBusyIsUnavailable holds the write lock from another connection, as
// a second process would, and expects the store's writer to give up after
// its busy timeout with KindUnavailable (SQLITE_BUSY, by code).
func TestBusyIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	ctx := context.Background()
	db, err := OpenWith(ctx, path, OpenOptions{BusyTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	_, err = db.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return nil })
	if !domain.Is(err, domain.KindUnavailable) {
		t.Fatalf("InTx while another process holds the write lock = %v, want kind unavailable", err)
	}
	// Reads still work under WAL while the writer is locked out.
	if _, err := db.Revision(ctx); err != nil {
		t.Fatalf("Revision during another writer's transaction: %v", err)
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	if _, err := Open(context.Background(), ":memory:"); !domain.Is(err, domain.KindInvalid) {
		t.Fatalf("Open(:memory:) = %v, want kind invalid", err)
	}
}
