// Package sqlstore is the one implementation of store.Store over
// database/sql that the SQLite and PostgreSQL backends share. The SQL is
// hand-written once, with ? placeholders, in the subset both databases
// speak (row values, RETURNING, ON CONFLICT, recursive CTEs); a small
// Dialect carries what truly differs: placeholder numbering, error codes,
// statement preparation and the snapshot transaction's options.
//
// Schema conventions the SQL relies on (see each backend's migrations):
// times are UTC unix microseconds, lists and maps are JSON text, and every
// case-insensitive comparison or sort uses a *_key column computed in Go
// with domain.NameKey, so both databases fold case identically.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Config is how a backend builds its DB.
type Config struct {
	Dialect Dialect
	// Write is the pool write transactions and migrations use. SQLite
	// gives a one-connection pool opened with BEGIN IMMEDIATE, so that
	// writers queue in Go instead of failing with SQLITE_BUSY.
	Write *sql.DB
	// Read is the pool reads outside transactions use; it may be Write.
	Read *sql.DB
	// Migrations holds the goose migration files at its root.
	Migrations   fs.FS
	GooseDialect goose.Dialect
	// Locker, if set, serialises concurrent migrations across processes.
	Locker lock.SessionLocker
	// Close releases what the backend opened besides the pools.
	Close func() error
}

// DB is a Gatehouse store over database/sql.
type DB struct {
	reader // reads outside transactions go to the read pool
	d      Dialect
	w, r   *sql.DB
	bind   rebinder
	wstmts stmtCache
	rstmts stmtCache
	cfg    Config
	now    func() time.Time

	latestOnce sync.Once
	latest     int64
	latestErr  error
}

var _ store.Store = (*DB)(nil)

// New wraps the pools of cfg. It neither migrates nor pings.
func New(cfg Config) *DB {
	if cfg.Read == nil {
		cfg.Read = cfg.Write
	}
	db := &DB{d: cfg.Dialect, w: cfg.Write, r: cfg.Read, cfg: cfg, now: time.Now}
	db.reader = reader{c: &conn{db: db}}
	db.bind.numbered = cfg.Dialect.Numbered
	db.wstmts.pool = cfg.Write
	db.rstmts.pool = cfg.Read
	return db
}

func (db *DB) clock() time.Time { return db.now().UTC().Truncate(time.Microsecond) }

// Close closes the statements and pools.
func (db *DB) Close() error {
	db.wstmts.close()
	db.rstmts.close()
	var errs []error
	if db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	if db.cfg.Close != nil {
		errs = append(errs, db.cfg.Close())
	}
	return errors.Join(errs...)
}

// stmtCache prepares each statement once per pool. database/sql then
// prepares it lazily on each connection of the pool that runs it, and
// Tx.StmtContext reuses the connection's prepared statement.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
}

func (c *stmtCache) peek(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// get returns the statement, preparing it on the pool if needed. It
// takes a connection from the pool, so it must not be called while the
// caller holds the pool's last connection (a transaction on SQLite's
// one-connection write pool): transactions use peek and warm instead.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	if s := c.peek(q); s != nil {
		return s, nil
	}
	s, err := c.pool.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[q]; ok {
		s.Close()
		return old, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = s
	return s, nil
}

// warm prepares statements a transaction ran unprepared, once the
// transaction has given its connection back.
func (c *stmtCache) warm(ctx context.Context, qs []string) {
	for _, q := range qs {
		if _, err := c.get(ctx, q); err != nil {
			return
		}
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = nil
}

// conn runs statements either on the read pool or in one transaction,
// through prepared statements when the dialect wants them.
type conn struct {
	db      *DB
	tx      *sql.Tx    // nil: run on the read pool
	cache   *stmtCache // the pool the transaction belongs to
	stmts   map[string]*sql.Stmt
	unready []string // statements to prepare after the transaction
}

// stmt returns the prepared statement for q, or nil to run q unprepared.
func (c *conn) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if !c.db.d.Prepare {
		return nil, nil
	}
	if c.tx == nil {
		return c.db.rstmts.get(ctx, q)
	}
	if s, ok := c.stmts[q]; ok {
		return s, nil
	}
	ps := c.cache.peek(q)
	if ps == nil {
		if !slices.Contains(c.unready, q) {
			c.unready = append(c.unready, q)
		}
		return nil, nil
	}
	s := c.tx.StmtContext(ctx, ps)
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[q] = s
	return s, nil
}

// done prepares, on the transaction's pool, what it ran unprepared.
func (c *conn) done(ctx context.Context) {
	if len(c.unready) > 0 && ctx.Err() == nil {
		c.cache.warm(ctx, c.unready)
	}
}

func (c *conn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = c.db.bind.bind(q)
	s, err := c.stmt(ctx, q)
	switch {
	case err != nil:
		return nil, err
	case s != nil:
		return s.ExecContext(ctx, args...)
	case c.tx != nil:
		return c.tx.ExecContext(ctx, q, args...)
	}
	return c.db.r.ExecContext(ctx, q, args...)
}

func (c *conn) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = c.db.bind.bind(q)
	s, err := c.stmt(ctx, q)
	switch {
	case err != nil:
		return nil, err
	case s != nil:
		return s.QueryContext(ctx, args...)
	case c.tx != nil:
		return c.tx.QueryContext(ctx, q, args...)
	}
	return c.db.r.QueryContext(ctx, q, args...)
}

func (c *conn) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = c.db.bind.bind(q)
	// A failed prepare falls through to an unprepared query, whose Scan
	// reports the same error.
	if s, err := c.stmt(ctx, q); err == nil && s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.QueryRowContext(ctx, q, args...)
	}
	return c.db.r.QueryRowContext(ctx, q, args...)
}

// Migrate applies every embedded migration the database lacks.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return domain.E("store.Migrate", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return db.mapErr("store.Migrate", fmt.Errorf("migrating the %s database: %w", db.d.Name, err), domain.KindInvalid)
	}
	// Audit records written before the chain existed are sealed now
	// (auditchain.go), and names written before look-alikes were refused
	// get their skeletons (skeletons.go); both are no-ops once done.
	if err := db.sealLegacyAudit(ctx); err != nil {
		return err
	}
	return db.fillSkeletons(ctx)
}

func (db *DB) provider() (*goose.Provider, error) {
	var opts []goose.ProviderOption
	if db.cfg.Locker != nil {
		opts = append(opts, goose.WithSessionLocker(db.cfg.Locker))
	}
	return goose.NewProvider(db.cfg.GooseDialect, db.w, db.cfg.Migrations, opts...)
}

// latestVersion is the highest migration version this binary embeds.
func (db *DB) latestVersion() (int64, error) {
	db.latestOnce.Do(func() {
		p, err := db.provider()
		if err != nil {
			db.latestErr = err
			return
		}
		for _, s := range p.ListSources() {
			db.latest = max(db.latest, s.Version)
		}
	})
	return db.latest, db.latestErr
}

// Ping reports whether the database answers and is migrated to the latest
// version this binary embeds.
func (db *DB) Ping(ctx context.Context) error {
	const op = "store.Ping"
	if err := db.r.PingContext(ctx); err != nil {
		return domain.E(op, domain.KindUnavailable, fmt.Errorf("the %s database is not reachable: %w", db.d.Name, err))
	}
	want, err := db.latestVersion()
	if err != nil {
		return domain.E(op, err)
	}
	var have sql.NullInt64
	// goose's own table; reading it directly keeps Ping read-only (goose's
	// provider would create the table on an empty database).
	err = db.r.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&have)
	if err != nil {
		if k := domain.KindOf(db.mapErr(op, err, domain.KindInvalid)); k == domain.KindUnavailable {
			return domain.E(op, domain.KindUnavailable, err)
		}
		return domain.E(op, domain.KindUnavailable, fmt.Errorf("the %s database is not migrated (run gatehouse migrate): %w", db.d.Name, err))
	}
	if have.Int64 < want {
		return domain.E(op, domain.KindUnavailable, fmt.Errorf("the %s database is at schema version %d, this binary needs %d (run gatehouse migrate)", db.d.Name, have.Int64, want))
	}
	return nil
}

// InTx runs fn in one write transaction and commits it with its change-log
// row and audit records (see the store package doc).
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (ch domain.Change, err error) {
	const op = "store.InTx"
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return domain.Change{}, db.mapErr(op, err, domain.KindInvalid)
	}
	t := &tx{reader: reader{c: &conn{db: db, tx: sqlTx, cache: &db.wstmts}}}
	done := false
	defer func() {
		if !done {
			_ = sqlTx.Rollback()
		}
		t.c.done(ctx)
		if p := recover(); p != nil {
			panic(p)
		}
	}()
	if l := db.d.LockSQL; l != "" {
		if _, err := t.c.exec(ctx, l); err != nil {
			return domain.Change{}, db.mapErr(op, err, domain.KindInvalid)
		}
	}
	if err := fn(ctx, t); err != nil {
		return domain.Change{}, err
	}
	ch, err = t.finish(ctx)
	if err != nil {
		return domain.Change{}, err
	}
	if err := sqlTx.Commit(); err != nil {
		return domain.Change{}, db.mapErr(op, err, domain.KindConflict)
	}
	done = true
	return ch, nil
}

// finish allocates the revision, writes the change-log row and the audit
// records. The counter row is the serialisation point: its row lock
// (taken by LockSQL at the start in PostgreSQL, implied by the database
// lock in SQLite) is held to commit, so revisions follow commit order with
// no gap, and a rolled-back transaction gives its number back.
func (t *tx) finish(ctx context.Context) (domain.Change, error) {
	const op = "store.InTx"
	c := t.c
	if len(t.muts) > 0 && len(t.audit) == 0 {
		return domain.Change{}, domain.Errorf(op, domain.KindInvalid, "a transaction that changes data must record an audit event (R29)")
	}
	if len(t.muts) == 0 && len(t.audit) == 0 {
		return domain.Change{}, nil
	}
	var rev int64
	ch := domain.Change{}
	if len(t.muts) > 0 {
		if err := c.queryRow(ctx, `UPDATE gh_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision`).Scan(&rev); err != nil {
			return domain.Change{}, c.db.mapErr(op, err, domain.KindInvalid)
		}
		ch = domain.Change{Revision: rev, At: c.db.clock(), Mutations: t.muts}
		for _, e := range t.audit {
			if e.ActorID != "" {
				ch.ActorID = e.ActorID
				break
			}
		}
		js, err := marshal(ch.Mutations)
		if err != nil {
			return domain.Change{}, domain.E(op, err)
		}
		if _, err := c.exec(ctx, `INSERT INTO changes (revision, at, actor_id, mutations) VALUES (?, ?, ?, ?)`,
			rev, ch.At.UnixMicro(), ch.ActorID, js); err != nil {
			return domain.Change{}, c.db.mapErr(op, err, domain.KindInvalid)
		}
		if n := c.db.d.NotifySQL; n != "" {
			if _, err := c.exec(ctx, n, rev); err != nil {
				return domain.Change{}, c.db.mapErr(op, err, domain.KindInvalid)
			}
		}
	} else if err := c.queryRow(ctx, `SELECT revision FROM gh_revision WHERE id = 1`).Scan(&rev); err != nil {
		return domain.Change{}, c.db.mapErr(op, err, domain.KindInvalid)
	}
	// The audit records join the hash chain here, under the same lock
	// that orders revisions (auditchain.go).
	if err := t.appendAudit(ctx, rev); err != nil {
		return domain.Change{}, err
	}
	return ch, nil
}

// ReadChanges returns the changes after since, oldest first, through the
// reader's connection: the read pool outside a transaction, the
// transaction's own connection inside one.
func (r reader) ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	const op = "store.ReadChanges"
	if limit <= 0 {
		limit = 1000
	}
	db := r.c.db
	rows, err := r.c.query(ctx, `SELECT revision, at, actor_id, mutations FROM changes WHERE revision > ? ORDER BY revision LIMIT ?`, since, limit)
	if err != nil {
		return nil, db.mapErr(op, err, domain.KindInvalid)
	}
	defer rows.Close()
	var out []domain.Change
	for rows.Next() {
		var ch domain.Change
		var at int64
		var js []byte
		if err := rows.Scan(&ch.Revision, &at, &ch.ActorID, &js); err != nil {
			return nil, db.mapErr(op, err, domain.KindInvalid)
		}
		ch.At = fromMicros(at)
		if err := unmarshal(js, &ch.Mutations); err != nil {
			return nil, domain.E(op, fmt.Errorf("change %d: %w", ch.Revision, err))
		}
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, db.mapErr(op, err, domain.KindInvalid)
	}
	return out, nil
}
