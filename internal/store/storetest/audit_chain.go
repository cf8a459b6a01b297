package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// rawExecer is what the tamper tests need of a backend: a way to change
// the database behind the store's back, as someone with write access to
// it would. Backends without it skip those tests.
type rawExecer interface {
	ExecRaw(ctx context.Context, q string, args ...any) error
}

// testAuditChain checks the hash-chained audit log (store.AuditChain):
// every committed record is chained in commit order, concurrent writers
// build one valid chain, direct edits, deletions, insertions and
// reorderings are caught and the broken record named, and pruning keeps
// the rest verifiable.
func testAuditChain(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	chainOf := func(t *testing.T, s store.Store) store.AuditChain {
		t.Helper()
		ac, ok := s.(store.AuditChain)
		if !ok {
			t.Fatalf("%T does not implement store.AuditChain; every backend must keep a hash-chained audit log", s)
		}
		return ac
	}
	verify := func(t *testing.T, ac store.AuditChain) store.AuditVerification {
		t.Helper()
		v, err := ac.VerifyAudit(ctx)
		noErr(t, err, "VerifyAudit")
		return v
	}
	export := func(t *testing.T, ac store.AuditChain, q store.AuditExportQuery) []store.AuditRecord {
		t.Helper()
		var out []store.AuditRecord
		noErr(t, ac.ExportAudit(ctx, q, func(r *store.AuditRecord) error { out = append(out, *r); return nil }), "ExportAudit")
		return out
	}
	// write commits one transaction with n audit records (and, if mut, a
	// user, so that it has a mutation and a new revision).
	writeErr := func(s store.Store, mut bool, n int, at time.Time) error {
		_, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if mut {
				if err := tx.CreateUser(ctx, newUser("u"+domain.NewID())); err != nil {
					return err
				}
			}
			for i := range n {
				e := auditEvent(fmt.Sprintf("chain.write.%d", i))
				if !mut {
					e.Outcome = domain.OutcomeDenied
				}
				e.At = at
				e.Before = []byte(`{"name": "before"}`)
				e.Detail = "detail with a comma, and a colon: 12:3,"
				if err := tx.Audit(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		return err
	}
	write := func(t testing.TB, s store.Store, mut bool, n int, at time.Time) {
		t.Helper()
		if err := writeErr(s, mut, n, at); err != nil {
			t.Fatalf("InTx with %d audit records: %v", n, err)
		}
	}
	wantOK := func(t *testing.T, v store.AuditVerification, records int64) {
		t.Helper()
		if v.Break != nil {
			t.Fatalf("VerifyAudit: broken at position %d (%s): %s; expected %s, found %s; want an intact chain", v.Break.Seq, v.Break.ID, v.Break.Problem, v.Break.Expected, v.Break.Found)
		}
		if v.Records != records {
			t.Errorf("VerifyAudit walked %d records, want %d", v.Records, records)
		}
	}

	t.Run("Chained", func(t *testing.T) {
		s := newStore(t)
		ac := chainOf(t, s)
		wantOK(t, verify(t, ac), 0)
		write(t, s, true, 1, time.Time{})
		write(t, s, false, 1, time.Time{}) // a refusal: audit only
		write(t, s, true, 3, time.Time{})
		v := verify(t, ac)
		wantOK(t, v, 5)
		recs := export(t, ac, store.AuditExportQuery{})
		if len(recs) != 5 {
			t.Fatalf("ExportAudit = %d records, want 5", len(recs))
		}
		prev := store.AuditGenesis
		for i, r := range recs {
			if r.Seq != int64(i+1) || r.PrevHash != prev || r.Hash != store.AuditHash(&r) {
				t.Errorf("record %d: seq %d prev %s hash %s; want seq %d, prev %s and its own AuditHash", i, r.Seq, r.PrevHash, r.Hash, i+1, prev)
			}
			prev = r.Hash
		}
		if v.HeadSeq != 5 || v.HeadHash != prev {
			t.Errorf("head = %d %s, want 5 %s (the last record)", v.HeadSeq, v.HeadHash, prev)
		}
		// The canonical encoding, spelled out independently of AuditHash,
		// as an outside verifier following docs/audit.md would.
		r := recs[0]
		var b strings.Builder
		for _, f := range []string{"gatehouse.audit.v1", "1", store.AuditGenesis, r.ID, fmt.Sprint(r.Revision),
			r.At.UTC().Format("2006-01-02T15:04:05.000000Z"), r.ActorID, r.ActorName, r.Action, r.TargetKind, r.TargetID,
			string(r.Outcome), string(r.Before), string(r.After), r.Detail, r.RemoteAddr} {
			fmt.Fprintf(&b, "%d:%s,", len(f), f)
		}
		sum := sha256.Sum256([]byte(b.String()))
		if want := hex.EncodeToString(sum[:]); r.Hash != want {
			t.Errorf("first record's hash %s, want %s (SHA-256 of the documented netstring encoding)", r.Hash, want)
		}
		if string(r.Before) != `{"name": "before"}` {
			t.Errorf("exported Before = %q, want the stored JSON text byte for byte", r.Before)
		}
	})

	t.Run("ConcurrentWriters", func(t *testing.T) {
		s := newStore(t)
		ac := chainOf(t, s)
		const writers, each = 6, 8
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					errs <- writeErr(s, (w+i)%2 == 0, 1+i%2, time.Time{})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			noErr(t, err, "a concurrent writer's InTx")
		}
		var total int64
		for i := range each {
			total += int64(writers * (1 + i%2))
		}
		v := verify(t, ac)
		wantOK(t, v, total)
		if v.HeadSeq != total {
			t.Errorf("head position %d, want %d (one position per record, no gap)", v.HeadSeq, total)
		}
	})

	t.Run("Export", func(t *testing.T) {
		s := newStore(t)
		ac := chainOf(t, s)
		base := utc(time.Now().Add(-10 * time.Hour))
		for i := range 4 {
			write(t, s, true, 1, base.Add(time.Duration(i)*time.Hour))
		}
		recs := export(t, ac, store.AuditExportQuery{Since: base.Add(time.Hour), Until: base.Add(3 * time.Hour)})
		if len(recs) != 2 || recs[0].Seq != 2 || recs[1].Seq != 3 {
			t.Errorf("ExportAudit [base+1h, base+3h) = %d records, want positions 2 and 3", len(recs))
		}
		err := ac.ExportAudit(ctx, store.AuditExportQuery{Since: base, Until: base}, func(*store.AuditRecord) error { return nil })
		if !domain.Is(err, domain.KindInvalid) {
			t.Errorf("ExportAudit with since = until: %v, want kind invalid", err)
		}
	})

	t.Run("Prune", func(t *testing.T) {
		s := newStore(t)
		ac := chainOf(t, s)
		old := utc(time.Now().Add(-48 * time.Hour))
		for range 5 {
			write(t, s, true, 1, old)
		}
		write(t, s, true, 1, time.Time{})
		write(t, s, true, 1, old) // old, but after a recent one: kept, the chain loses only a prefix
		before := verify(t, ac)
		cut := time.Now().Add(-24 * time.Hour)
		e := &domain.AuditEvent{ActorName: "storetest", Action: "audit.prune", Outcome: domain.OutcomeSuccess, Detail: "retention policy"}
		res, err := ac.PruneAudit(ctx, cut, e)
		noErr(t, err, "PruneAudit")
		if res.Removed != 5 || res.AnchorSeq != 5 {
			t.Errorf("PruneAudit removed %d, anchor %d; want 5 and 5", res.Removed, res.AnchorSeq)
		}
		v := verify(t, ac)
		wantOK(t, v, 3) // two kept and the pruning's own record
		if v.AnchorSeq != 5 || v.HeadSeq != before.HeadSeq+1 {
			t.Errorf("after pruning: anchor %d head %d, want 5 and %d", v.AnchorSeq, v.HeadSeq, before.HeadSeq+1)
		}
		evs := allAudit(t, s, store.AuditQuery{Action: "audit.prune"})
		if len(evs) != 1 || !strings.HasPrefix(evs[0].Detail, "retention policy; pruned 5 audit record(s)") {
			t.Errorf("audit.prune records = %+v, want one whose detail is the caller's, then says it pruned 5 records", evs)
		}
		res, err = ac.PruneAudit(ctx, cut, &domain.AuditEvent{ActorName: "storetest", Action: "audit.prune", Outcome: domain.OutcomeSuccess})
		noErr(t, err, "PruneAudit again")
		if res.Removed != 0 || res.AnchorSeq != 5 {
			t.Errorf("second PruneAudit removed %d, anchor %d; want 0 and 5", res.Removed, res.AnchorSeq)
		}
		wantOK(t, verify(t, ac), 4)
		evs = allAudit(t, s, store.AuditQuery{Action: "audit.prune"})
		if len(evs) != 2 || !strings.HasPrefix(evs[0].Detail, "pruned 0 ") && !strings.HasPrefix(evs[1].Detail, "pruned 0 ") {
			t.Errorf("audit.prune records = %+v, want the second, with no detail of its own, to begin with what it pruned", evs)
		}
		for _, bad := range []time.Time{{}, time.Now().Add(time.Hour)} {
			_, err := ac.PruneAudit(ctx, bad, &domain.AuditEvent{ActorName: "storetest", Action: "audit.prune", Outcome: domain.OutcomeSuccess})
			if !domain.Is(err, domain.KindInvalid) {
				t.Errorf("PruneAudit(%v) = %v, want kind invalid", bad, err)
			}
		}
	})

	// Records written before the chain existed (no position) are sealed
	// by Migrate, in commit order, after the records already chained.
	t.Run("SealsLegacyRecords", func(t *testing.T) {
		s := newStore(t)
		raw, ok := s.(rawExecer)
		m, ok2 := s.(interface{ Migrate(context.Context) error })
		if !ok || !ok2 {
			t.Skipf("%T offers no ExecRaw and Migrate", s)
		}
		ac := chainOf(t, s)
		write(t, s, true, 1, time.Time{})
		base := utc(time.Now().Add(-time.Hour))
		for _, l := range []struct {
			id  string
			rev int64
			at  time.Time
		}{{"legacy-c", 3, base}, {"legacy-a", 2, base.Add(time.Minute)}, {"legacy-b", 2, base.Add(2 * time.Minute)}} {
			noErr(t, raw.ExecRaw(ctx, `INSERT INTO audit (id, revision, at, actor_id, actor_name, action, target_kind, target_id, outcome, before_json, detail, remote_addr)
				VALUES (?, ?, ?, '', 'legacy', 'legacy.write', '', '', 'success', '{"k": 1}', 'before the chain', '')`, l.id, l.rev, l.at.UnixMicro()), "insert a legacy record")
		}
		if v := verify(t, ac); v.Unsealed != 3 || v.Break == nil {
			t.Fatalf("before sealing: %d unsealed, break %v; want 3 and a break", v.Unsealed, v.Break)
		}
		noErr(t, m.Migrate(ctx), "Migrate")
		v := verify(t, ac)
		wantOK(t, v, 4)
		if v.Unsealed != 0 {
			t.Errorf("after Migrate: %d unsealed, want 0", v.Unsealed)
		}
		recs := export(t, ac, store.AuditExportQuery{})
		var order []string
		for _, r := range recs[1:] {
			order = append(order, r.ID)
		}
		if got := strings.Join(order, ","); got != "legacy-a,legacy-b,legacy-c" {
			t.Errorf("legacy records sealed in order %s, want legacy-a,legacy-b,legacy-c (by revision, then time)", got)
		}
		noErr(t, m.Migrate(ctx), "Migrate again")
		wantOK(t, verify(t, ac), 4)
		write(t, s, false, 1, time.Time{})
		wantOK(t, verify(t, ac), 5)
	})

	t.Run("HeadThatCannotMoveRefusesTheWrite", func(t *testing.T) {
		testChainHeadFrozen(t, newStore(t), write, writeErr)
	})

	// Tampering: each case builds a 6-record chain, changes the database
	// directly and expects VerifyAudit to name the first record that does
	// not match.
	tamper := []struct {
		name    string
		sql     []string
		seq     int64  // the record the break names
		problem string // a phrase of its problem
	}{
		{"EditedField", []string{`UPDATE audit SET detail = 'nothing to see' WHERE seq = 3`}, 3, "contents do not match"},
		{"EditedTime", []string{`UPDATE audit SET at = at + 1 WHERE seq = 4`}, 4, "contents do not match"},
		{"EditedOutcome", []string{`UPDATE audit SET outcome = 'denied' WHERE seq = 2`}, 2, "contents do not match"},
		{"DeletedRow", []string{`DELETE FROM audit WHERE seq = 3`}, 4, "1 record(s) missing"},
		{"DeletedLastRow", []string{`DELETE FROM audit WHERE seq = 6`}, 6, "does not end at the head"},
		{"Reordered", []string{`UPDATE audit SET seq = -1 WHERE seq = 2`, `UPDATE audit SET seq = 2 WHERE seq = 3`, `UPDATE audit SET seq = 3 WHERE seq = -1`}, 2, "link"},
		{"InsertedUnsealed", []string{`INSERT INTO audit (id, revision, at, actor_id, actor_name, action, target_kind, target_id, outcome, detail, remote_addr)
			VALUES ('forged', 1, 0, '', 'mallory', 'user.delete', '', '', 'success', '', '')`}, 0, "no place in the chain"},
		{"InsertedInMiddle", []string{`UPDATE audit SET seq = seq + 100 WHERE seq >= 4`, `UPDATE audit SET seq = seq - 99 WHERE seq >= 104`,
			`INSERT INTO audit (id, revision, at, actor_id, actor_name, action, target_kind, target_id, outcome, detail, remote_addr, seq, prev_hash, hash)
			SELECT 'forged', revision, at, actor_id, actor_name, action, target_kind, target_id, outcome, detail, remote_addr, 4, hash, hash FROM audit WHERE seq = 3`}, 4, "contents do not match"},
		{"EditedHead", []string{`UPDATE audit_chain SET head_seq = 5`}, 5, "does not end at the head"},
	}
	// One store serves every case (a fresh PostgreSQL database costs a
	// second): the intact chain is copied aside once and put back after
	// each case.
	s := newStore(t)
	raw, ok := s.(rawExecer)
	if !ok {
		t.Logf("%T offers no ExecRaw to tamper with; tamper cases skipped", s)
		return
	}
	if err := raw.ExecRaw(ctx, `DELETE FROM no_such_table`); err == nil {
		t.Errorf("ExecRaw of a statement on a missing table succeeded, want its error")
	}
	ac := chainOf(t, s)
	write(t, s, true, 2, time.Time{})
	write(t, s, false, 1, time.Time{})
	write(t, s, true, 3, time.Time{})
	recs := export(t, ac, store.AuditExportQuery{})
	wantOK(t, verify(t, ac), 6)
	for _, q := range []string{`CREATE TABLE audit_saved AS SELECT * FROM audit`, `CREATE TABLE audit_chain_saved AS SELECT * FROM audit_chain`} {
		noErr(t, raw.ExecRaw(ctx, q), q)
	}
	caught := 0
	defer func() { t.Logf("audit chain: %d of %d tamper cases caught and named", caught, len(tamper)) }()
	for _, tc := range tamper {
		t.Run("Tamper"+tc.name, func(t *testing.T) {
			defer func() {
				for _, q := range []string{`DELETE FROM audit`, `INSERT INTO audit SELECT * FROM audit_saved`,
					`DELETE FROM audit_chain`, `INSERT INTO audit_chain SELECT * FROM audit_chain_saved`} {
					noErr(t, raw.ExecRaw(ctx, q), q)
				}
				wantOK(t, verify(t, ac), 6)
			}()
			for _, q := range tc.sql {
				noErr(t, raw.ExecRaw(ctx, q), q)
			}
			v := verify(t, ac)
			if v.Break == nil {
				t.Fatalf("VerifyAudit after %s: chain reported intact (%d records), want it broken", tc.name, v.Records)
			}
			b := v.Break
			if b.Seq == tc.seq && strings.Contains(b.Problem, tc.problem) {
				caught++
			} else {
				t.Errorf("VerifyAudit after %s: break at position %d: %q; want position %d and a problem mentioning %q", tc.name, b.Seq, b.Problem, tc.seq, tc.problem)
			}
			switch {
			case tc.name == "DeletedLastRow":
				if want := "last record 5 " + recs[4].Hash; b.Found != want {
					t.Errorf("break found %q, want %q", b.Found, want)
				}
			case tc.name == "InsertedUnsealed":
				if b.ID != "forged" {
					t.Errorf("break names record %q, want the inserted one", b.ID)
				}
			case tc.name == "InsertedInMiddle":
				if b.ID != "forged" {
					t.Errorf("break names record %q, want the inserted one", b.ID)
				}
			case b.ID != "":
				if want := recs[b.Seq-1].ID; tc.name != "Reordered" && b.ID != want {
					t.Errorf("break names record %q at position %d, want %q", b.ID, b.Seq, want)
				}
				if b.At.IsZero() {
					t.Errorf("break at record %q carries no time", b.ID)
				}
			}
			if b.Expected == b.Found {
				t.Errorf("break: expected %q and found %q are equal; want the mismatch shown", b.Expected, b.Found)
			}
		})
	}
}

// testChainHeadFrozen: when the database refuses to advance the chain's
// head (a trigger here; a full disk or a lost connection in life), the
// write whose records it would chain is refused whole, no revision and
// no record (R29: no write without its audit record, no record outside
// the chain), and Migrate fails rather than leave legacy records
// half-sealed.
func testChainHeadFrozen(t *testing.T, s store.Store, write func(testing.TB, store.Store, bool, int, time.Time), writeErr func(store.Store, bool, int, time.Time) error) {
	ctx := context.Background()
	raw, ok := s.(rawExecer)
	m, ok2 := s.(interface{ Migrate(context.Context) error })
	if !ok || !ok2 {
		t.Skipf("%T offers no ExecRaw and Migrate", s)
	}
	write(t, s, true, 1, time.Time{})
	rev, err := s.Revision(ctx)
	noErr(t, err, "Revision")
	sqlite := []string{`CREATE TRIGGER storetest_frozen BEFORE UPDATE ON audit_chain BEGIN SELECT RAISE(ABORT, 'storetest: head frozen'); END`}
	postgres := []string{`CREATE FUNCTION storetest_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'storetest: head frozen'; END $$`,
		`CREATE TRIGGER storetest_frozen BEFORE UPDATE ON audit_chain FOR EACH ROW EXECUTE FUNCTION storetest_frozen()`}
	if raw.ExecRaw(ctx, sqlite[0]) != nil {
		for _, q := range postgres {
			noErr(t, raw.ExecRaw(ctx, q), q)
		}
	}
	if err := writeErr(s, true, 1, time.Time{}); err == nil {
		t.Errorf("a write whose audit chain head could not advance committed")
	}
	if got, err := s.Revision(ctx); err != nil || got != rev {
		t.Errorf("Revision after the refused write = %d, %v; want %d", got, err, rev)
	}
	if n := len(allAudit(t, s, store.AuditQuery{})); n != 1 {
		t.Errorf("%d audit records after the refused write, want 1", n)
	}
	noErr(t, raw.ExecRaw(ctx, `INSERT INTO audit (id, revision, at, actor_id, actor_name, action, target_kind, target_id, outcome, detail, remote_addr)
		VALUES ('legacy', 1, 0, '', 'legacy', 'legacy.write', '', '', 'success', '', '')`), "insert a legacy record")
	if err := m.Migrate(ctx); err == nil {
		t.Errorf("Migrate sealed legacy records without advancing the chain head: no error")
	}
}
