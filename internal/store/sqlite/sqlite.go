// Package sqlite is Gatehouse's embedded default store: the shared SQL
// implementation (store/sqlstore) over modernc.org/sqlite, a pure-Go
// SQLite, with its schema migrations embedded.
//
// The database runs in WAL mode so readers never block the writer. Writes
// go through a pool of exactly one connection whose transactions start
// with BEGIN IMMEDIATE: writers queue in Go for that connection instead of
// racing for SQLite's write lock, so they never fail with SQLITE_BUSY, and
// the revision counter is read and bumped with the lock already held.
// Reads use a separate pool of read-only connections. A consequence: a
// closure passed to InTx must not call InTx again (it would wait forever
// for the one write connection its own transaction holds).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/pressly/goose/v3"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a SQLite Gatehouse store.
type DB struct {
	*sqlstore.DB
}

var _ store.Store = (*DB)(nil)

// OpenOptions tunes Open.
type OpenOptions struct {
	// NoMigrate leaves the schema as it is; Ping then reports an
	// unmigrated database as unavailable.
	NoMigrate bool
	// ReadConns caps the read pool (default: the number of CPUs, at least 2).
	ReadConns int
	// BusyTimeout bounds how long a connection waits for a lock held by
	// another process (a second gatehouse, a backup tool) before failing
	// with KindUnavailable. Default 10s.
	BusyTimeout time.Duration

	// driver is the database/sql driver name, "sqlite" unless a test
	// wraps it to make the database fail where no real one can be made
	// to (fault_test.go).
	driver string
}

// prepareStatements is switched off only by the benchmark that measures
// what preparing saves.
var prepareStatements = true

const defaultBusyTimeout = 10 * time.Second

// Open opens (creating if needed) the SQLite database at path and
// migrates it to the latest schema.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, OpenOptions{})
}

// OpenWith opens the database at path with options.
func OpenWith(ctx context.Context, path string, o OpenOptions) (*DB, error) {
	const op = "sqlite.Open"
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		// The read and write pools are separate connections, which must
		// share one database file.
		return nil, domain.Errorf(op, domain.KindInvalid, "the SQLite store needs a database file path, not %q", path)
	}
	if o.driver == "" {
		o.driver = "sqlite"
	}
	common := url.Values{}
	busy := o.BusyTimeout
	if busy <= 0 {
		busy = defaultBusyTimeout
	}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")
	common.Add("_pragma", "synchronous(NORMAL)")
	// Statement journals (every statement that may abort midway writes
	// one) stay in memory instead of a temporary file: it was a third of
	// the CPU of bulk membership writes.
	common.Add("_pragma", "temp_store(MEMORY)")

	wq := url.Values{}
	for k, v := range common {
		wq[k] = append([]string(nil), v...)
	}
	wq.Add("_pragma", "journal_mode(WAL)")
	// A large page cache keeps a big write transaction's B-tree pages in
	// memory until commit instead of spilling them to the WAL midway.
	wq.Add("_pragma", "cache_size(-65536)")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open(o.driver, path+"?"+wq.Encode())
	if err != nil {
		return nil, domain.E(op, domain.KindUnavailable, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// The first connection creates the file and switches it to WAL, which
	// persists, before any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, domain.E(op, domain.KindUnavailable, fmt.Errorf("opening SQLite database %s: %w", path, err))
	}

	rq := common
	rq.Set("_txlock", "deferred")
	rq.Add("_pragma", "query_only(1)")
	rq.Add("_pragma", "cache_size(-16384)")
	r, err := sql.Open(o.driver, path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, domain.E(op, domain.KindUnavailable, err)
	}
	n := o.ReadConns
	if n <= 0 {
		n = max(2, runtime.NumCPU())
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)

	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, domain.E(op, err)
	}
	db := &DB{sqlstore.New(sqlstore.Config{
		Dialect: sqlstore.Dialect{
			Name:      "sqlite",
			Classify:  classify,
			UniqueKey: uniqueKey,
			Prepare:   prepareStatements,
		},
		Write:        w,
		Read:         r,
		Migrations:   sub,
		GooseDialect: goose.DialectSQLite3,
	})}
	if !o.NoMigrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// uniqueKey is the key a unique violation clashed on, from SQLite's
// message: "UNIQUE constraint failed: projects.name_key" (the columns of a
// plain index or primary key) or "... failed: index 'groups_name'" (an
// index on expressions).
func uniqueKey(err error) string {
	const lead = "UNIQUE constraint failed: "
	msg := err.Error()
	i := strings.Index(msg, lead)
	if i < 0 {
		return ""
	}
	key := msg[i+len(lead):]
	if j := strings.LastIndex(key, " ("); j >= 0 {
		key = key[:j] // the result code SQLite's driver appends
	}
	return key
}

// classify maps SQLite extended result codes to error classes.
func classify(err error) sqlstore.Class {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return sqlstore.ClassOther
	}
	switch code := e.Code(); code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.ClassUnique
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ClassForeignKey
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_DATATYPE,
		sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE:
		return sqlstore.ClassCheck
	case sqlite3.SQLITE_FULL:
		// The disk (or a max_page_count) has no room for the write.
		return sqlstore.ClassFull
	case sqlite3.SQLITE_BUSY_SNAPSHOT:
		// A read transaction tried to write after another writer
		// committed: the data it read is stale.
		return sqlstore.ClassConflict
	default:
		switch code & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return sqlstore.ClassUnavailable
		case sqlite3.SQLITE_CONSTRAINT:
			return sqlstore.ClassCheck
		}
	}
	return sqlstore.ClassOther
}
