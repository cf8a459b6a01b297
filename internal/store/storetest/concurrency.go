package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// createUserTx commits one transaction creating u (and, when groupID is
// set, its membership of that group) with an audit record, retrying on
// KindConflict (a write-write conflict the caller may retry).
func createUserTx(ctx context.Context, s store.Store, u *domain.User, groupID string) (domain.Change, error) {
	for attempt := 0; ; attempt++ {
		ch, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if groupID != "" {
				if err := tx.PutMembership(ctx, &domain.Membership{GroupID: groupID, UserID: u.ID}); err != nil {
					return err
				}
			}
			return tx.Audit(ctx, auditEvent("concurrent.create"))
		})
		if err != nil && domain.Is(err, domain.KindConflict) && attempt < 50 {
			continue
		}
		return ch, err
	}
}

func testConcurrency(t *testing.T, newStore NewStore) {
	t.Run("RevisionsGapFree", func(t *testing.T) {
		const writers, perWriter = 8, 50
		ctx := context.Background()
		s := newStore(t)
		var (
			mu        sync.Mutex
			committed = map[int64]string{} // revision → id of the user its change created
			wg        sync.WaitGroup
		)
		done := make(chan struct{})
		readerDone := make(chan struct{})
		var readerLast int64
		var polls int
		go func() {
			defer close(readerDone)
			var last int64
			defer func() { readerLast = last }()
			for final := false; ; {
				select {
				case <-done:
					final = true
				default:
				}
				polls++
				chs, err := s.ReadChanges(ctx, last, 0)
				if err != nil {
					t.Errorf("concurrent reader: ReadChanges(%d): %v", last, err)
					return
				}
				for _, c := range chs {
					if c.Revision != last+1 {
						t.Errorf("concurrent reader: after revision %d, ReadChanges returned revision %d; want %d (a reader that sees N has seen every change below N)", last, c.Revision, last+1)
						return
					}
					last = c.Revision
				}
				rev, err := s.Revision(ctx)
				if err != nil {
					t.Errorf("concurrent reader: Revision: %v", err)
					return
				}
				if rev < last {
					t.Errorf("concurrent reader: Revision() = %d after ReadChanges returned revision %d, want at least %d", rev, last, last)
					return
				}
				if final && len(chs) == 0 {
					return
				}
				time.Sleep(200 * time.Microsecond)
			}
		}()
		start := time.Now()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					u := newUser(fmt.Sprintf("w%d-%03d", w, i))
					ch, err := createUserTx(ctx, s, u, "")
					if err != nil {
						t.Errorf("writer %d, transaction %d: %v", w, i, err)
						return
					}
					mu.Lock()
					if prev, dup := committed[ch.Revision]; dup {
						t.Errorf("revision %d returned to two committed transactions (users %s and %s), want each revision once", ch.Revision, prev, u.ID)
					}
					committed[ch.Revision] = u.ID
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		close(done)
		<-readerDone
		t.Logf("%d writers × %d transactions committed in %v; the concurrent reader polled %d times", writers, perWriter, elapsed, polls)
		const total = writers * perWriter
		if t.Failed() {
			return
		}
		if readerLast != total {
			t.Errorf("concurrent reader saw up to revision %d, want %d", readerLast, total)
		}
		for r := int64(1); r <= total; r++ {
			if _, ok := committed[r]; !ok {
				t.Errorf("no committed transaction got revision %d, want revisions 1..%d without gaps", r, total)
				break
			}
		}
		chs := changesSince(t, s, 0)
		if len(chs) != total {
			t.Errorf("ReadChanges from 0 returned %d changes, want %d", len(chs), total)
		}
		for i, c := range chs {
			if c.Revision != int64(i+1) {
				t.Errorf("ReadChanges from 0: change %d has revision %d, want %d (oldest first, no gap)", i, c.Revision, i+1)
				break
			}
			if len(c.Mutations) != 1 || c.Mutations[0].User == nil || c.Mutations[0].User.ID != committed[c.Revision] {
				t.Errorf("change %d: want exactly the creation of user %s, the user its transaction created", c.Revision, committed[c.Revision])
			}
		}
		if r := revision(t, s); r != total {
			t.Errorf("Revision = %d, want %d", r, total)
		}
	})

	t.Run("SnapshotConsistent", func(t *testing.T) {
		const writers, perWriter = 4, 30
		ctx := context.Background()
		s := newStore(t)
		g := newSystemGroup("all")
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateGroup(ctx, g) })
		type seen struct {
			rev         int64
			users       map[string]bool
			memberships int
		}
		var snaps []seen
		done := make(chan struct{})
		snapDone := make(chan struct{})
		go func() {
			defer close(snapDone)
			for final := false; !final; {
				select {
				case <-done:
					final = true
				default:
				}
				snap, err := s.LoadSnapshot(ctx)
				if err != nil {
					t.Errorf("LoadSnapshot during writes: %v", err)
					return
				}
				x := seen{rev: snap.Revision, users: map[string]bool{}, memberships: len(snap.Memberships)}
				for _, u := range snap.Users {
					x.users[u.ID] = true
				}
				snaps = append(snaps, x)
			}
		}()
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					if _, err := createUserTx(ctx, s, newUser(fmt.Sprintf("s%d-%03d", w, i)), g.ID); err != nil {
						t.Errorf("writer %d, transaction %d: %v", w, i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(done)
		<-snapDone
		createdAt := map[string]int64{} // user id → revision of the change creating it
		for _, c := range changesSince(t, s, 0) {
			for _, m := range c.Mutations {
				if m.Op == domain.OpPut && m.Entity == domain.EntityUser {
					createdAt[m.User.ID] = c.Revision
				}
			}
		}
		t.Logf("%d snapshots taken while %d writers committed %d transactions", len(snaps), writers, writers*perWriter)
		var prev int64
		for i, x := range snaps {
			if x.rev < prev {
				t.Errorf("snapshot %d has revision %d, below the previous snapshot's %d", i, x.rev, prev)
			}
			prev = x.rev
			want := 0
			for id, r := range createdAt {
				if r <= x.rev {
					want++
					if !x.users[id] {
						t.Errorf("snapshot at revision %d lacks user %s created at revision %d", x.rev, id, r)
						break
					}
				}
			}
			if len(x.users) != want {
				t.Errorf("snapshot at revision %d holds %d users, want %d (the users created by changes up to %d)", x.rev, len(x.users), want, x.rev)
			}
			if x.memberships != want {
				t.Errorf("snapshot at revision %d holds %d memberships, want %d (one per user created up to %d)", x.rev, x.memberships, want, x.rev)
			}
			if t.Failed() {
				break // one inconsistent snapshot says enough
			}
		}
		if len(snaps) == 0 {
			t.Fatalf("no snapshot was taken")
		}
		final := snaps[len(snaps)-1]
		if r := revision(t, s); final.rev != r || len(final.users) != writers*perWriter {
			t.Errorf("snapshot after the writers finished: revision %d with %d users, want revision %d with %d", final.rev, len(final.users), r, writers*perWriter)
		}
	})
}
