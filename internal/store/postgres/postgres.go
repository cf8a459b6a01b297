// Package postgres is Gatehouse's scale-out store: the shared SQL
// implementation (store/sqlstore) over PostgreSQL through pgx, with its
// schema migrations embedded.
//
// Write transactions run at READ COMMITTED, one at a time across every
// replica sharing the database: each starts by locking the revision
// counter's row (SELECT … FOR UPDATE) and holds the lock to commit. So
// revision order is commit order, a write never deadlocks or meets a
// serialization failure, and KindConflict only ever means a stale version
// or a reference in use. Reads outside transactions and snapshots (one
// REPEATABLE READ READ ONLY transaction) never wait for the lock.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// NotifyChannel is the channel every committed change is announced on,
// with its revision as payload, so replicas can LISTEN instead of polling
// ReadChanges.
const NotifyChannel = "gatehouse_changes"

// DB is a PostgreSQL Gatehouse store.
type DB struct {
	*sqlstore.DB
	pool *pgxpool.Pool
}

var _ store.Store = (*DB)(nil)

// OpenOptions tunes Open.
type OpenOptions struct {
	// NoMigrate leaves the schema as it is; Ping then reports an
	// unmigrated database as unavailable.
	NoMigrate bool

	// tracer, if set, is told of every statement: a test's way to act
	// in the middle of a transaction (see restorelock_test.go).
	tracer pgx.QueryTracer
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and migrates it to the latest schema.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenWith(ctx, dsn, OpenOptions{})
}

// OpenWith connects to the database at dsn with options.
func OpenWith(ctx context.Context, dsn string, o OpenOptions) (*DB, error) {
	const op = "postgres.Open"
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parser's message may quote the DSN, password included.
		return nil, domain.Errorf(op, domain.KindInvalid, "the PostgreSQL connection string is malformed")
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if o.tracer != nil {
		cfg.ConnConfig.Tracer = o.tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, domain.E(op, domain.KindUnavailable, fmt.Errorf("connecting to PostgreSQL at %s: %w", where, err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, domain.E(op, domain.KindUnavailable, fmt.Errorf("PostgreSQL at %s is not reachable: %w", where, err))
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		pool.Close()
		return nil, domain.E(op, err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		pool.Close()
		return nil, domain.E(op, err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	db := &DB{pool: pool, DB: sqlstore.New(sqlstore.Config{
		Dialect: sqlstore.Dialect{
			Name:       "postgres",
			Numbered:   true,
			Classify:   classify,
			UniqueKey:  uniqueKey,
			SnapshotTx: &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
			LockSQL:    `SELECT revision FROM gh_revision WHERE id = 1 FOR UPDATE`,
			NotifySQL:  `SELECT pg_notify('` + NotifyChannel + `', CAST(CAST(? AS bigint) AS text))`,
		},
		Write:        sqlDB,
		Migrations:   sub,
		GooseDialect: goose.DialectPostgres,
		Locker:       locker,
		Close:        func() error { pool.Close(); return nil },
	})}
	if !o.NoMigrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// Pool returns the pgx pool, for LISTEN/NOTIFY and tools.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// uniqueKey is the constraint or index a unique violation clashed on.
func uniqueKey(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

// classify maps SQLSTATE codes, and failures to reach the server, to
// error classes.
func classify(err error) sqlstore.Class {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return sqlstore.ClassUnique
		case pe.Code == "23503":
			return sqlstore.ClassForeignKey
		case pe.Code == "53100":
			// disk_full: no space for the write.
			return sqlstore.ClassFull
		case pe.Code == "57014":
			// query_canceled: a statement_timeout, or the cancel request pgx
			// sends when a query's context ends.
			return sqlstore.ClassCanceled
		case pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03":
			return sqlstore.ClassConflict
		case strings.HasPrefix(pe.Code, "23"), strings.HasPrefix(pe.Code, "22"):
			// Other integrity violations (CHECK 23514, NOT NULL 23502)
			// and data exceptions (a NUL byte in text, a value out of range).
			return sqlstore.ClassCheck
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"),
			strings.HasPrefix(pe.Code, "57P"), pe.Code == "3D000", pe.Code == "28P01", pe.Code == "28000":
			// Connection exceptions, insufficient resources, shutdown,
			// a missing database, authentication failure.
			return sqlstore.ClassUnavailable
		}
		return sqlstore.ClassOther
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	// A connection cut mid-query (the server restarted) surfaces as an
	// unexpected EOF; pgx marks errors raised before anything was sent as
	// safe to retry. Both mean the database, not the request, failed.
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || pgconn.Timeout(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) {
		return sqlstore.ClassUnavailable
	}
	return sqlstore.ClassOther
}
