package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/sqlstore/sqltest"
)

func TestSnapshotSpeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "large.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	sqltest.SnapshotSpeed(t, db, func(ctx context.Context, q string) error {
		_, err := raw.ExecContext(ctx, q)
		return err
	})
}
