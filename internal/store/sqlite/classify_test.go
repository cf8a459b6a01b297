package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// A real SQLITE_FULL, made by a page limit, is ClassFull (which the
// shared store maps to KindUnavailable saying the database is full; see
// sqlstore's TestMapErrFull).
func TestClassifyFull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "full.db")
	db, err := sql.Open("sqlite", path+"?_pragma=max_page_count(8)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		_, full = db.ExecContext(ctx, `INSERT INTO t VALUES (zeroblob(4096))`)
	}
	if full == nil {
		t.Fatal("100 inserts of 4 KiB fitted in 8 pages")
	}
	if got := classify(full); got != sqlstore.ClassFull {
		t.Fatalf("classify(%v) = %v, want ClassFull", full, got)
	}

}
