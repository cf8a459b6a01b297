package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testStreamSnapshot: StreamSnapshot hands over, row by row, exactly
// what LoadSnapshot collects less the fields no check reads (settings
// aside: no setting changes an answer), at the same revision, with the
// mark of the change at it; an error of the consumer ends it with that
// error.
func testStreamSnapshot(t *testing.T, newStore NewStore) {
	s := newStore(t)
	PopulateForDump(t, s)
	ctx := context.Background()
	nestForStream(t, s)
	want, err := s.LoadSnapshot(ctx)
	noErr(t, err, "LoadSnapshot")
	want.Settings = nil
	streamedFields(want)
	got := &domain.Snapshot{}
	var mark string
	err = s.StreamSnapshot(ctx, func(rev int64, m string) error { got.Revision, mark = rev, m; return nil }, func(m *domain.Mutation) error {
		if m.Op != domain.OpPut {
			t.Errorf("a streamed row is a %s mutation, want put", m.Op)
		}
		got.Add(m)
		return nil
	})
	noErr(t, err, "StreamSnapshot")
	chs, err := s.ReadChanges(ctx, want.Revision-1, 1)
	noErr(t, err, "ReadChanges")
	if len(chs) != 1 || mark != domain.ChangeMark(chs[0]) || mark == "" {
		t.Errorf("streamed mark %q; want the mark of the change at revision %d (%+v)", mark, want.Revision, chs)
	}
	if d := diff(got, want, snapshotOrder); d != "" {
		t.Errorf("streamed snapshot differs from LoadSnapshot's (-loaded +streamed):\n%s", d)
	}

	stop := errors.New("the consumer went away")
	n := 0
	err = s.StreamSnapshot(ctx, func(int64, string) error { return nil }, func(*domain.Mutation) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("after the consumer failed on row 3: %d rows, error %v; want 3 rows and its error", n, err)
	}
}

// streamedFields clears in s what StreamSnapshot leaves out
// (store.Store).
func streamedFields(s *domain.Snapshot) {
	for i := range s.Users {
		u := &s.Users[i]
		u.Email, u.DisplayName, u.Source, u.ExternalID = "", "", "", ""
		u.CreatedAt, u.UpdatedAt, u.Version = time.Time{}, time.Time{}, 0
	}
	for i := range s.Memberships {
		s.Memberships[i].CreatedAt, s.Memberships[i].Source = time.Time{}, ""
	}
	for i := range s.Folders {
		f := &s.Folders[i]
		f.CreatedAt, f.UpdatedAt, f.Version = time.Time{}, time.Time{}, 0
	}
}

// nestForStream nests groups (nested groups, issue 20), one edge with an
// expiry and one without, for the stream to carry.
func nestForStream(t *testing.T, s store.Store) {
	t.Helper()
	expiry := time.Date(2031, 2, 3, 4, 5, 6, 7000, time.UTC)
	top, mid, low := newSystemGroup("stream-top"), newSystemGroup("stream-mid"), newSystemGroup("stream-low")
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range []*domain.Group{top, mid, low} {
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
		}
		if err := tx.PutGroupMembership(ctx, &domain.GroupMembership{GroupID: top.ID, MemberGroupID: mid.ID}); err != nil {
			return err
		}
		return tx.PutGroupMembership(ctx, &domain.GroupMembership{GroupID: mid.ID, MemberGroupID: low.ID, ExpiresAt: &expiry})
	})
}
