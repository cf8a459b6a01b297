package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testGroupMemberships covers the member row that names a group (nested
// groups, issue 20): put with and without expiry, replace, list both
// ways, delete, the change log, the snapshot, and the cascade when either
// group is deleted.
func testGroupMemberships(t *testing.T, newStore NewStore) {
	t.Run("PutGetList", func(t *testing.T) { testGroupMembershipPutGet(t, newStore(t)) })
	t.Run("Cascade", func(t *testing.T) { testGroupMembershipCascade(t, newStore(t)) })
	t.Run("Refusals", func(t *testing.T) { testGroupMembershipRefusals(t, newStore(t)) })
}

func createGroups(t *testing.T, s store.Store, gs ...*domain.Group) {
	t.Helper()
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range gs {
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

func putGroupMembership(t *testing.T, s store.Store, m *domain.GroupMembership) domain.Change {
	t.Helper()
	return mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutGroupMembership(ctx, m) })
}

func testGroupMembershipPutGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	top, xyz, abc := newSystemGroup("Radiologists"), newSystemGroup("XYZ radiologists"), newSystemGroup("ABC radiologists")
	createGroups(t, s, top, xyz, abc)
	exp := utc(time.Now().Add(48 * time.Hour))
	m1 := &domain.GroupMembership{GroupID: top.ID, MemberGroupID: xyz.ID}
	m2 := &domain.GroupMembership{GroupID: top.ID, MemberGroupID: abc.ID, ExpiresAt: ptr(exp)}
	ch := putGroupMembership(t, s, m1)
	if len(ch.Mutations) != 1 || ch.Mutations[0].Entity != domain.EntityGroupMembership || ch.Mutations[0].GroupMembership == nil {
		t.Fatalf("change of PutGroupMembership = %+v, want one group_membership put", ch.Mutations)
	}
	checkStoreTime(t, "GroupMembership.CreatedAt", ch.Mutations[0].GroupMembership.CreatedAt)
	putGroupMembership(t, s, m2)
	ignoreCreated := cmpopts.IgnoreFields(domain.GroupMembership{}, "CreatedAt")
	got, err := s.GetGroupMembership(ctx, top.ID, abc.ID)
	noErr(t, err, "GetGroupMembership")
	if d := diff(got, *m2, ignoreCreated); d != "" {
		t.Errorf("GetGroupMembership (-want +got):\n%s", d)
	}
	_, err = s.GetGroupMembership(ctx, xyz.ID, top.ID)
	wantKind(t, err, domain.KindNotFound, "GetGroupMembership the other way round")

	// Replacing the expiry keeps one row.
	putGroupMembership(t, s, &domain.GroupMembership{GroupID: top.ID, MemberGroupID: abc.ID})
	m2.ExpiresAt = nil
	members, err := s.ListGroupMembers(ctx, top.ID)
	noErr(t, err, "ListGroupMembers")
	want := []domain.GroupMembership{*m1, *m2}
	if xyz.ID > abc.ID {
		want = []domain.GroupMembership{*m2, *m1}
	}
	if d := diff(members, want, ignoreCreated); d != "" {
		t.Errorf("ListGroupMembers (-want +got):\n%s", d)
	}
	parents, err := s.ListGroupParents(ctx, xyz.ID)
	noErr(t, err, "ListGroupParents")
	if d := diff(parents, []domain.GroupMembership{*m1}, ignoreCreated); d != "" {
		t.Errorf("ListGroupParents (-want +got):\n%s", d)
	}
	snap, err := s.LoadSnapshot(ctx)
	noErr(t, err, "LoadSnapshot")
	if len(snap.GroupMemberships) != 2 {
		t.Errorf("snapshot holds %d group memberships, want 2", len(snap.GroupMemberships))
	}

	ch = mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteGroupMembership(ctx, top.ID, xyz.ID) })
	if m := ch.Mutations[0]; m.Op != domain.OpDelete || m.GroupMembership == nil || m.GroupMembership.MemberGroupID != xyz.ID {
		t.Errorf("delete mutation = %+v", m)
	}
	_, err = s.GetGroupMembership(ctx, top.ID, xyz.ID)
	wantKind(t, err, domain.KindNotFound, "GetGroupMembership after delete")
	expectKind(t, s, domain.KindNotFound, "DeleteGroupMembership of a missing row", func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteGroupMembership(ctx, top.ID, xyz.ID)
	})
}

// testGroupMembershipCascade: deleting a group removes its group members
// and its memberships in other groups, and lists only its own delete.
func testGroupMembershipCascade(t *testing.T, s store.Store) {
	ctx := context.Background()
	top, mid, leaf := newSystemGroup("top"), newSystemGroup("mid"), newSystemGroup("leaf")
	createGroups(t, s, top, mid, leaf)
	putGroupMembership(t, s, &domain.GroupMembership{GroupID: top.ID, MemberGroupID: mid.ID})
	putGroupMembership(t, s, &domain.GroupMembership{GroupID: mid.ID, MemberGroupID: leaf.ID})
	ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteGroup(ctx, mid.ID) })
	checkSingleDelete(t, ch, domain.EntityGroup, mid.ID)
	for _, g := range []string{top.ID, leaf.ID} {
		ms, err := s.ListGroupMembers(ctx, g)
		noErr(t, err, "ListGroupMembers")
		ps, err := s.ListGroupParents(ctx, g)
		noErr(t, err, "ListGroupParents")
		if len(ms)+len(ps) != 0 {
			t.Errorf("group %s keeps %d group members and %d parents after the middle group was deleted", g, len(ms), len(ps))
		}
	}
}

// testGroupMembershipRefusals: unknown groups and a group in itself are
// refused by the database, whoever writes.
func testGroupMembershipRefusals(t *testing.T, s store.Store) {
	g := newSystemGroup("alone")
	createGroups(t, s, g)
	expectKind(t, s, domain.KindInvalid, "a group member that does not exist", func(ctx context.Context, tx store.Tx) error {
		return tx.PutGroupMembership(ctx, &domain.GroupMembership{GroupID: g.ID, MemberGroupID: "missing"})
	})
	expectKind(t, s, domain.KindInvalid, "a group in itself", func(ctx context.Context, tx store.Tx) error {
		return tx.PutGroupMembership(ctx, &domain.GroupMembership{GroupID: g.ID, MemberGroupID: g.ID})
	})
}
