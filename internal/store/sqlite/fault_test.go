package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// faults wraps SQLite's driver so that a test can make the database fail
// where no real SQLite can be made to on demand: a commit that fails, a
// query whose rows fail midway. The store suite cannot reach these
// paths; mutation testing showed the store ignoring both errors went
// unnoticed (docs/testing.md).
var faults = &faultDriver{}

const faultDriverName = "sqlite-faults"

var registerFaults sync.Once

// openFaulty opens a temporary store over the faulty driver, with no
// fault armed.
func openFaulty(t *testing.T) *DB {
	t.Helper()
	registerFaults.Do(func() {
		db, err := sql.Open("sqlite", "")
		if err != nil {
			t.Fatal(err)
		}
		faults.base = db.Driver()
		db.Close()
		sql.Register(faultDriverName, faults)
	})
	return openTemp(t, OpenOptions{driver: faultDriverName})
}

var errInjected = errors.New("injected fault")

type faultDriver struct {
	base driver.Driver
	// failCommit makes every commit roll back and fail.
	failCommit atomic.Bool
	// failRowsOf, when set, makes the rows of every query whose text
	// holds it fail after their first row.
	failRowsOf atomic.Pointer[string]
	// countExecsOf, when set, counts in execs the statements run whose
	// text holds it.
	countExecsOf atomic.Pointer[string]
	execs        atomic.Int64
	// readPoolQueries counts the queries run on the read pool's
	// connections (opened query_only).
	readPoolQueries atomic.Int64
}

// exec counts statement q when counting is armed for it.
func (d *faultDriver) exec(q string) {
	if p := d.countExecsOf.Load(); p != nil && strings.Contains(q, *p) {
		d.execs.Add(1)
	}
}

func (d *faultDriver) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: c, d: d, readPool: strings.Contains(name, "query_only")}, nil
}

// rows wraps the rows of query q, run on a read-pool connection or not,
// when a fault is armed for it.
func (d *faultDriver) rows(q string, readPool bool, r driver.Rows, err error) (driver.Rows, error) {
	if readPool {
		d.readPoolQueries.Add(1)
	}
	if p := d.failRowsOf.Load(); err == nil && p != nil && strings.Contains(q, *p) {
		return &faultRows{Rows: r}, nil
	}
	return r, err
}

// faultConn is SQLite's connection with its transactions and rows
// wrapped; every optional interface the store uses is passed through.
type faultConn struct {
	driver.Conn
	d        *faultDriver
	readPool bool
}

func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &faultTx{Tx: tx, d: c.d}, nil
}

func (c *faultConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &faultStmt{Stmt: s, q: q, c: c}, nil
}

func (c *faultConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.d.exec(q)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *faultConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
	return c.d.rows(q, c.readPool, r, err)
}

func (c *faultConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

type faultStmt struct {
	driver.Stmt
	q string
	c *faultConn
}

func (s *faultStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.d.exec(s.q)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *faultStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	r, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	return s.c.d.rows(s.q, s.c.readPool, r, err)
}

type faultTx struct {
	driver.Tx
	d *faultDriver
}

func (t *faultTx) Commit() error {
	if t.d.failCommit.Load() {
		_ = t.Tx.Rollback()
		return errInjected
	}
	return t.Tx.Commit()
}

// faultRows gives its first row, then fails.
type faultRows struct {
	driver.Rows
	read bool
}

func (r *faultRows) Next(dest []driver.Value) error {
	if r.read {
		return errInjected
	}
	r.read = true
	return r.Rows.Next(dest)
}

// TestRestoreReportsAFailedCommit: a restore whose commit fails reports
// the failure and leaves the database empty, so the same dump can be
// restored again (sqlstore dump.go: Restore's commit error).
func TestRestoreReportsAFailedCommit(t *testing.T) {
	ctx := context.Background()
	src := openTemp(t, OpenOptions{})
	storetest.PopulateForDump(t, src)
	var dump bytes.Buffer
	if _, err := src.Dump(ctx, &dump); err != nil {
		t.Fatal(err)
	}
	dst := openFaulty(t)
	faults.failCommit.Store(true)
	_, err := dst.Restore(ctx, bytes.NewReader(dump.Bytes()))
	faults.failCommit.Store(false)
	if err == nil {
		t.Fatal("Restore whose commit failed reported success")
	}
	if _, err := dst.Restore(ctx, bytes.NewReader(dump.Bytes())); err != nil {
		t.Fatalf("Restore after a failed one: %v; want the empty database to take the dump", err)
	}
	storetest.SameContents(t, dst, src)
}

// TestExportAuditReportsAReadFailingMidway: an export whose read of the
// audit log fails after its first record reports the failure instead of
// ending as if the log ended there (sqlstore auditchain.go: ExportAudit's
// rows.Err).
func TestExportAuditReportsAReadFailingMidway(t *testing.T) {
	ctx := context.Background()
	db := openFaulty(t)
	storetest.PopulateForDump(t, db)
	var all int
	export := func() error {
		all = 0
		return db.ExportAudit(ctx, store.AuditExportQuery{}, func(*store.AuditRecord) error { all++; return nil })
	}
	if err := export(); err != nil || all < 2 {
		t.Fatalf("ExportAudit = %v with %d records; want at least two records to fail between", err, all)
	}
	q := "FROM audit WHERE seq IS NOT NULL"
	faults.failRowsOf.Store(&q)
	err := export()
	faults.failRowsOf.Store(nil)
	if err == nil {
		t.Fatalf("ExportAudit whose read failed after the first record reported success with %d records", all)
	}
	if !errors.Is(err, errInjected) {
		t.Errorf("ExportAudit's error %v does not carry the read's failure", err)
	}
}

// TestRestoreCutsItsBatchesBySize: rows of a mebibyte each reach a
// restore batch's 8 MiB bound long before its bound on parameters, so
// twelve of them go in more than one INSERT (sqlstore dump.go: the
// batch's byte count; change-log rows of large transactions are that
// large).
func TestRestoreCutsItsBatchesBySize(t *testing.T) {
	ctx := context.Background()
	src := openTemp(t, OpenOptions{})
	storetest.PopulateForDump(t, src)
	big := strings.Repeat("large group ", 1<<20/12)
	_, err := src.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range 12 {
			if err := tx.CreateGroup(ctx, &domain.Group{Name: fmt.Sprint("large ", i), Scope: domain.ScopeSystem, Description: big}); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "test", Action: "test.setup", Outcome: domain.OutcomeSuccess})
	})
	if err != nil {
		t.Fatal(err)
	}
	var dump bytes.Buffer
	if _, err := src.Dump(ctx, &dump); err != nil {
		t.Fatal(err)
	}
	dst := openFaulty(t)
	q := `INSERT INTO "groups"`
	faults.execs.Store(0)
	faults.countExecsOf.Store(&q)
	_, err = dst.Restore(ctx, bytes.NewReader(dump.Bytes()))
	faults.countExecsOf.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := faults.execs.Load(); n < 2 {
		t.Errorf("the groups, 12 MiB of them, went in %d INSERT; want them cut at 8 MiB", n)
	}
	storetest.SameContents(t, dst, src)
}

// TestReadsUseTheReadPool: a read outside a transaction runs on the read
// pool's connections (opened query_only), not on the one writer's, so
// that reads never queue behind a write (sqlstore db.go: a store given a
// read pool uses it).
func TestReadsUseTheReadPool(t *testing.T) {
	ctx := context.Background()
	db := openFaulty(t)
	storetest.PopulateForDump(t, db)
	before := faults.readPoolQueries.Load()
	if _, err := db.GetGroup(ctx, domain.BuiltinGroups()[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := faults.readPoolQueries.Load() - before; n == 0 {
		t.Error("GetGroup ran no query on the read pool")
	}
}
