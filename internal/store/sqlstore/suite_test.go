package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore/sqltest"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestStoreSuitesOnSQLite runs the store suite and the SQL suite, whose
// home is the backends' packages, against SQLite from here when
// GATEHOUSE_STORE_SUITE=1. Mutation testing (make mutate, docs/testing.md)
// runs only the mutated package's own tests, and this package's own are
// small unit tests: without this, every mutant of sqlstore would meet
// none of the tests that exercise it. Everywhere else the backends run
// the suites already, so it is skipped.
func TestStoreSuitesOnSQLite(t *testing.T) {
	if os.Getenv("GATEHOUSE_STORE_SUITE") != "1" {
		t.Skip("the suites run in internal/store/sqlite; set GATEHOUSE_STORE_SUITE=1 to run them here (mutation testing)")
	}
	open := func(o sqlite.OpenOptions) func(t *testing.T) *sqlite.DB {
		return func(t *testing.T) *sqlite.DB {
			db, err := sqlite.OpenWith(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"), o)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	}
	migrated, raw := open(sqlite.OpenOptions{}), open(sqlite.OpenOptions{NoMigrate: true})
	t.Run("store", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return migrated(t) })
	})
	t.Run("sql", func(t *testing.T) {
		sqltest.Run(t,
			func(t *testing.T) sqltest.Backend { return migrated(t) },
			func(t *testing.T) sqltest.Backend { return raw(t) })
	})
}
