package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The hash-chained audit log (store.AuditChain, docs/audit.md). Records
// join the chain only in appendAudit, which finish calls for every write
// transaction: there is no other way into the audit table, so no caller
// can forget the chain. Ordering comes from the write lock every write
// transaction holds to commit (SQLite's database lock; PostgreSQL's row
// lock on gh_revision, which LockSQL takes first), refused attempts and
// sign-in records included, since they are audit-only transactions
// through the same InTx. The audit_chain row is read and advanced under
// that lock, so concurrent writers produce one chain with no gap.

var _ store.AuditChain = (*DB)(nil)

const chainCols = `seq, prev_hash, hash, ` + auditCols

func scanChained(sc scanner, r *store.AuditRecord) error {
	var at int64
	var before, after sql.NullString
	err := sc.Scan(&r.Seq, &r.PrevHash, &r.Hash, &r.ID, &r.Revision, &at, &r.ActorID, &r.ActorName, &r.Action,
		&r.TargetKind, &r.TargetID, &r.Outcome, &before, &after, &r.Detail, &r.RemoteAddr)
	if err != nil {
		return err
	}
	r.At = fromMicros(at)
	r.Before, r.After = nil, nil
	if before.Valid {
		r.Before = []byte(before.String)
	}
	if after.Valid {
		r.After = []byte(after.String)
	}
	return nil
}

// appendAudit stamps the transaction's audit records with rev, chains them
// after the current head and inserts them. It runs under the write lock.
func (t *tx) appendAudit(ctx context.Context, rev int64) error {
	const op = "store.Audit"
	if len(t.audit) == 0 {
		return nil
	}
	c := t.c
	var seq int64
	var prev string
	if err := c.queryRow(ctx, `SELECT head_seq, head_hash FROM audit_chain WHERE id = 1`).Scan(&seq, &prev); err != nil {
		return c.db.mapErr(op, err, domain.KindInvalid)
	}
	for _, e := range t.audit {
		e.Revision = rev
		seq++
		r := store.AuditRecord{AuditEvent: *e, Seq: seq, PrevHash: prev}
		r.Hash = store.AuditHash(&r)
		if _, err := c.exec(ctx, `INSERT INTO audit (id, revision, at, actor_id, actor_name, action, target_kind, target_id, outcome, before_json, after_json, detail, remote_addr, seq, prev_hash, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.Revision, e.At.UnixMicro(), e.ActorID, e.ActorName, e.Action, e.TargetKind, e.TargetID, string(e.Outcome),
			rawOrNil(e.Before), rawOrNil(e.After), e.Detail, e.RemoteAddr, r.Seq, r.PrevHash, r.Hash); err != nil {
			return c.db.mapErr(op, err, domain.KindInvalid)
		}
		prev = r.Hash
	}
	if _, err := c.exec(ctx, `UPDATE audit_chain SET head_seq = ?, head_hash = ? WHERE id = 1`, seq, prev); err != nil {
		return c.db.mapErr(op, err, domain.KindInvalid)
	}
	return nil
}

// sealLegacyAudit chains the records written before migration 00003, in
// the order they were committed (revision, then time, then id), after the
// current head. Migrate calls it; it does nothing once every record is
// sealed.
func (db *DB) sealLegacyAudit(ctx context.Context) error {
	const op = "store.Migrate"
	var n int64
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM audit WHERE seq IS NULL`).Scan(&n); err != nil {
		return db.mapErr(op, err, domain.KindInvalid)
	}
	if n == 0 {
		return nil
	}
	_, err := db.InTx(ctx, func(ctx context.Context, stx store.Tx) error {
		c := stx.(*tx).c
		rows, err := c.query(ctx, `SELECT `+auditCols+` FROM audit WHERE seq IS NULL ORDER BY revision, at, id`)
		if err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		var recs []store.AuditRecord
		for rows.Next() {
			var r store.AuditRecord
			if err := scanAudit(rows, &r.AuditEvent); err != nil {
				rows.Close()
				return db.mapErr(op, err, domain.KindInvalid)
			}
			recs = append(recs, r)
		}
		if err := rows.Close(); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		if err := rows.Err(); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		var seq int64
		var prev string
		if err := c.queryRow(ctx, `SELECT head_seq, head_hash FROM audit_chain WHERE id = 1`).Scan(&seq, &prev); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		for i := range recs {
			r := &recs[i]
			seq++
			r.Seq, r.PrevHash = seq, prev
			r.Hash = store.AuditHash(r)
			if _, err := c.exec(ctx, `UPDATE audit SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?`, r.Seq, r.PrevHash, r.Hash, r.ID); err != nil {
				return db.mapErr(op, err, domain.KindInvalid)
			}
			prev = r.Hash
		}
		if _, err := c.exec(ctx, `UPDATE audit_chain SET head_seq = ?, head_hash = ? WHERE id = 1`, seq, prev); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		return nil
	})
	return err
}

// readTx runs fn in one read-only snapshot transaction, so that the chain
// row and the records it walks are of the same moment.
func (db *DB) readTx(ctx context.Context, op string, fn func(c *conn) error) error {
	sqlTx, err := db.r.BeginTx(ctx, db.d.SnapshotTx)
	if err != nil {
		return db.mapErr(op, err, domain.KindInvalid)
	}
	c := &conn{db: db, tx: sqlTx, cache: &db.rstmts}
	defer func() {
		_ = sqlTx.Rollback() // read-only: nothing to keep
		c.done(ctx)
	}()
	return fn(c)
}

// VerifyAudit implements store.AuditChain.
func (db *DB) VerifyAudit(ctx context.Context) (store.AuditVerification, error) {
	const op = "store.VerifyAudit"
	var v store.AuditVerification
	err := db.readTx(ctx, op, func(c *conn) error {
		var anchorAt int64
		if err := c.queryRow(ctx, `SELECT head_seq, head_hash, anchor_seq, anchor_hash, anchor_at FROM audit_chain WHERE id = 1`).
			Scan(&v.HeadSeq, &v.HeadHash, &v.AnchorSeq, &v.AnchorHash, &anchorAt); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		if err := c.queryRow(ctx, `SELECT count(*) FROM audit WHERE seq IS NULL`).Scan(&v.Unsealed); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		rows, err := c.query(ctx, `SELECT `+chainCols+` FROM audit WHERE seq IS NOT NULL ORDER BY seq`)
		if err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		defer rows.Close()
		wantSeq, prev := v.AnchorSeq+1, v.AnchorHash
		for rows.Next() {
			var r store.AuditRecord
			if err := scanChained(rows, &r); err != nil {
				return db.mapErr(op, err, domain.KindInvalid)
			}
			v.Records++
			if v.Break != nil {
				continue // keep counting; the first break is the one reported
			}
			brk := func(problem, expected, found string) {
				v.Break = &store.AuditBreak{Seq: r.Seq, ID: r.ID, At: r.At, Problem: problem, Expected: expected, Found: found}
			}
			switch {
			case r.Seq < wantSeq:
				brk("the record's position is at or before the pruning anchor", fmt.Sprintf("position %d", wantSeq), fmt.Sprintf("position %d", r.Seq))
			case r.Seq > wantSeq:
				brk(fmt.Sprintf("%d record(s) missing before this one (deleted?)", r.Seq-wantSeq), fmt.Sprintf("position %d", wantSeq), fmt.Sprintf("position %d", r.Seq))
			case r.PrevHash != prev:
				brk("the record's link to the record before it does not match (inserted, reordered or edited link?)", "prev_hash "+prev, "prev_hash "+r.PrevHash)
			default:
				if h := store.AuditHash(&r); h != r.Hash {
					brk("the record's contents do not match its hash (edited?)", "hash "+h, "hash "+r.Hash)
				}
			}
			wantSeq, prev = r.Seq+1, r.Hash
		}
		if err := rows.Err(); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		if v.Break == nil && (wantSeq-1 != v.HeadSeq || prev != v.HeadHash) {
			v.Break = &store.AuditBreak{Seq: v.HeadSeq,
				Problem:  "the chain does not end at the head the database records (records at the end deleted, or the head edited?)",
				Expected: fmt.Sprintf("head %d %s", v.HeadSeq, v.HeadHash),
				Found:    fmt.Sprintf("last record %d %s", wantSeq-1, prev)}
		}
		if v.Break == nil && v.Unsealed > 0 {
			b := &store.AuditBreak{Problem: fmt.Sprintf("%d record(s) have no place in the chain (inserted directly into the database, or written before the chain and not yet sealed: run gatehouse migrate)", v.Unsealed),
				Expected: "every record sealed", Found: fmt.Sprintf("%d unsealed", v.Unsealed)}
			var at int64
			if err := c.queryRow(ctx, `SELECT id, at FROM audit WHERE seq IS NULL ORDER BY at, id LIMIT 1`).Scan(&b.ID, &at); err != nil {
				return db.mapErr(op, err, domain.KindInvalid)
			}
			b.At = fromMicros(at)
			v.Break = b
		}
		return nil
	})
	if err != nil {
		return store.AuditVerification{}, err
	}
	return v, nil
}

// ExportAudit implements store.AuditChain.
func (db *DB) ExportAudit(ctx context.Context, q store.AuditExportQuery, fn func(*store.AuditRecord) error) error {
	const op = "store.ExportAudit"
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return domain.Errorf(op, domain.KindInvalid, "since (%s) must be before until (%s)", q.Since.UTC().Format(time.RFC3339), q.Until.UTC().Format(time.RFC3339))
	}
	return db.readTx(ctx, op, func(c *conn) error {
		query := `SELECT ` + chainCols + ` FROM audit WHERE seq IS NOT NULL`
		var args []any
		if !q.Since.IsZero() {
			query += ` AND at >= ?`
			args = append(args, q.Since.UTC().UnixMicro())
		}
		if !q.Until.IsZero() {
			query += ` AND at < ?`
			args = append(args, q.Until.UTC().UnixMicro())
		}
		rows, err := c.query(ctx, query+` ORDER BY seq`, args...)
		if err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		defer rows.Close()
		for rows.Next() {
			var r store.AuditRecord
			if err := scanChained(rows, &r); err != nil {
				return db.mapErr(op, err, domain.KindInvalid)
			}
			if err := fn(&r); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		return nil
	})
}

// PruneAudit implements store.AuditChain.
func (db *DB) PruneAudit(ctx context.Context, before time.Time, e *domain.AuditEvent) (store.AuditPruned, error) {
	const op = "store.PruneAudit"
	var res store.AuditPruned
	switch {
	case before.IsZero():
		return res, domain.Errorf(op, domain.KindInvalid, "before: a cut-off time is required")
	case before.After(db.clock()):
		return res, domain.Errorf(op, domain.KindInvalid, "before: %s is in the future; pruning may only remove records already written", before.UTC().Format(time.RFC3339))
	case e == nil:
		return res, domain.Errorf(op, domain.KindInvalid, "pruning must record an audit event (R29)")
	}
	_, err := db.InTx(ctx, func(ctx context.Context, stx store.Tx) error {
		t := stx.(*tx)
		c := t.c
		res = store.AuditPruned{}
		var headSeq int64
		if err := c.queryRow(ctx, `SELECT head_seq, anchor_seq, anchor_hash FROM audit_chain WHERE id = 1`).Scan(&headSeq, &res.AnchorSeq, &res.AnchorHash); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		// The chain can only lose a prefix: stop before the first record
		// at or after the cut-off, even if later ones are older.
		var stop sql.NullInt64
		if err := c.queryRow(ctx, `SELECT min(seq) FROM audit WHERE seq IS NOT NULL AND at >= ?`, before.UTC().UnixMicro()).Scan(&stop); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
		last := headSeq
		if stop.Valid {
			last = stop.Int64 - 1
		}
		if last > res.AnchorSeq {
			var hash string
			var at int64
			err := c.queryRow(ctx, `SELECT hash, at FROM audit WHERE seq = ?`, last).Scan(&hash, &at)
			if err == sql.ErrNoRows {
				return domain.Errorf(op, domain.KindConflict, "the audit record at position %d is missing, so the chain is broken; run gatehouse audit verify before pruning", last)
			}
			if err != nil {
				return db.mapErr(op, err, domain.KindInvalid)
			}
			r, err := c.exec(ctx, `DELETE FROM audit WHERE seq IS NOT NULL AND seq <= ?`, last)
			if err != nil {
				return db.mapErr(op, err, domain.KindInvalid)
			}
			if res.Removed, err = r.RowsAffected(); err != nil {
				return db.mapErr(op, err, domain.KindInvalid)
			}
			if _, err := c.exec(ctx, `UPDATE audit_chain SET anchor_seq = ?, anchor_hash = ?, anchor_at = ? WHERE id = 1`, last, hash, at); err != nil {
				return db.mapErr(op, err, domain.KindInvalid)
			}
			res.AnchorSeq, res.AnchorHash = last, hash
		}
		d := fmt.Sprintf("pruned %d audit record(s) older than %s; anchor position %d hash %s",
			res.Removed, before.UTC().Format(time.RFC3339), res.AnchorSeq, res.AnchorHash)
		if e.Detail != "" {
			d = e.Detail + "; " + d
		}
		e.Detail = d
		return t.Audit(ctx, e)
	})
	if err != nil {
		return store.AuditPruned{}, err
	}
	return res, nil
}

// ExecRaw runs one statement (with ? placeholders) on the write pool,
// outside any transaction, bypassing every rule of the store. It exists
// for tests that must tamper with the database as an attacker with write
// access would (the audit chain tests), and for operator tools; the
// server never calls it.
func (db *DB) ExecRaw(ctx context.Context, q string, args ...any) error {
	_, err := db.w.ExecContext(ctx, db.bind.bind(q), args...)
	if err != nil {
		return db.mapErr("store.ExecRaw", err, domain.KindInvalid)
	}
	return nil
}
