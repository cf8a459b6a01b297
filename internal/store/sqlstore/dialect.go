package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Class is what a driver error means to the store, decided by the
// dialect from the driver's error code.
type Class uint8

// Error classes a Dialect reports.
const (
	ClassOther       Class = iota // not recognised: KindOther
	ClassUnique                   // a unique or primary key taken: KindExists
	ClassForeignKey               // a reference broken: KindInvalid on write, KindConflict on delete
	ClassCheck                    // a CHECK, NOT NULL or data constraint: KindInvalid
	ClassConflict                 // serialization failure, deadlock, stale snapshot: KindConflict
	ClassUnavailable              // cannot reach or lock the database: KindUnavailable
	ClassFull                     // no space left for the database to grow: KindUnavailable, saying so
	ClassCanceled                 // the server cancelled the statement (a timeout, or its context ended): KindUnavailable
)

// errFull is what a write refused for want of space says. The driver's own
// text ("database or disk is full", "could not extend file") follows it;
// an operator reading a 503 must learn that nothing is wrong with the
// request and what to do.
var errFull = errors.New("the database is full: its disk has no space left, so writes are refused until space is freed (reads and checks go on; nothing already written is lost)")

// Dialect is what differs between the SQL backends. Everything else,
// SQL text included, is shared.
type Dialect struct {
	// Name is the backend's name in error messages ("sqlite", "postgres").
	Name string
	// Numbered rewrites ? placeholders to $1, $2… (PostgreSQL).
	Numbered bool
	// Classify maps a driver error to a Class by its code.
	Classify func(error) Class
	// UniqueKey names the unique key a ClassUnique error clashed on: the
	// constraint or index name, or the table.column list the driver
	// reports (uniquekeys.go maps it to the input field).
	UniqueKey func(error) string
	// Prepare makes the store prepare each statement once per pool and
	// reuse it. PostgreSQL's pgx already caches prepared statements per
	// connection, so only SQLite needs it.
	Prepare bool
	// SnapshotTx are the options of LoadSnapshot's read transaction.
	SnapshotTx *sql.TxOptions
	// LockSQL, if set, runs first in every write transaction to take the
	// one write lock, so that write transactions run one at a time (the
	// contract's "backends serialize write transactions"). SQLite gets
	// the same from BEGIN IMMEDIATE on its one write connection.
	LockSQL string
	// NotifySQL, if set, runs in every transaction that commits a change,
	// with the new revision as its one argument: PostgreSQL's pg_notify,
	// delivered at commit, wakes the other replicas following the log.
	NotifySQL string
}

// rebinder caches the placeholder rewrite of each statement text, so it is
// done once per statement, not once per call.
type rebinder struct {
	numbered bool
	cache    sync.Map // string -> string
}

func (r *rebinder) bind(q string) string {
	if !r.numbered {
		return q
	}
	if v, ok := r.cache.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	inString := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	s := b.String()
	r.cache.Store(q, s)
	return s
}

// mapErr turns a driver error into a *domain.Error of the kind its code
// says. fk is the kind a foreign-key violation means for this operation:
// KindInvalid when writing a reference to a missing row, KindConflict when
// deleting a row still referenced.
func (db *DB) mapErr(op string, err error, fk domain.Kind) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	// A context that ended (the caller gave up, or net/http cancelled
	// the request) is no fault of the request nor of the database: 503,
	// not the 500 of an error nobody recognised.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return domain.E(op, domain.KindUnavailable, err)
	}
	switch db.d.Classify(err) {
	case ClassUnique:
		return db.takenKey(op, err)
	case ClassForeignKey:
		return domain.E(op, fk, err)
	case ClassCheck:
		return domain.E(op, domain.KindInvalid, err)
	case ClassConflict:
		return domain.E(op, domain.KindConflict, err)
	case ClassUnavailable:
		return db.unreachable(op, err)
	case ClassFull:
		return domain.E(op, domain.KindUnavailable, fmt.Errorf("%w: %w", errFull, err))
	case ClassCanceled:
		return domain.E(op, domain.KindUnavailable, err)
	}
	if errors.Is(err, sql.ErrConnDone) {
		return db.unreachable(op, err)
	}
	return domain.E(op, err)
}

// errUnreachable leads the message of a PostgreSQL server that cannot be
// reached (down, restarting, refusing connections): a client's 503 says so
// plainly, before the driver's details.
var errUnreachable = errors.New("the database is not reachable; retry shortly")

// unreachable is the KindUnavailable error of a database that failed to
// answer. SQLite's unavailable codes (busy, I/O) keep the driver's words:
// "not reachable" would mislead there.
func (db *DB) unreachable(op string, err error) error {
	if db.d.Name == "postgres" {
		return domain.E(op, domain.KindUnavailable, fmt.Errorf("%w: %w", errUnreachable, err))
	}
	return domain.E(op, domain.KindUnavailable, err)
}
