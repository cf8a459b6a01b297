package local

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// sub is a group without permissions of its own, alice's only group; it
// gains Staff's permissions by being nested in Staff.
const sub = "00000000-0000-7000-8000-0000000000c1"

// newNestingServer is the fake server with alice in Sub.
func newNestingServer(t *testing.T) *fakeServer {
	f := newFakeServer(t)
	f.snap.Groups = append(f.snap.Groups, domain.Group{ID: sub, Name: "Sub", Scope: domain.ScopeSystem})
	f.snap.Memberships = []domain.Membership{{GroupID: sub, UserID: alice}}
	return f
}

// nest puts Sub in Staff (until expires, when given) or takes it out.
func (f *fakeServer) nest(put bool, expires *time.Time) int64 {
	gm, _ := json.Marshal(domain.GroupMembership{GroupID: staff, MemberGroupID: sub, ExpiresAt: expires})
	o := gatehouse.ChangedObject{Entity: string(domain.EntityGroupMembership), ID: staff + "/" + sub, Op: "delete", Before: gm}
	if put {
		o = gatehouse.ChangedObject{Entity: string(domain.EntityGroupMembership), ID: staff + "/" + sub, Op: "put", After: gm}
	}
	return f.push(o)
}

// checkAt asks whether alice may view the audit log once the replica has
// applied rev, and wants the answer allowed.
func checkAt(t *testing.T, r *Replica, rev int64, allowed bool, what string) {
	t.Helper()
	q := auditView
	q.Consistency = gatehouse.AtLeast(rev)
	d, err := r.Check(context.Background(), q)
	if err != nil || d.Allowed != allowed || d.Revision < rev {
		t.Fatalf("%s: %+v %v; want allowed=%v at %d or later", what, d, err, allowed, rev)
	}
}

// TestReplicaFollowsGroupMemberships: a group put in another group
// through the feed gives its members the outer group's permissions, until
// the nesting expires (on the replica's clock, R6) or is removed; a
// replica that starts later loads the nesting from the snapshot. Every
// change is applied, none papered over by a reload.
func TestReplicaFollowsGroupMemberships(t *testing.T) {
	f := newNestingServer(t)
	r := newReplica(t, f, Options{})
	checkAt(t, r, 1, false, "alice in Sub, Sub in nothing")
	rev := f.nest(true, nil)
	checkAt(t, r, rev, true, "Sub nested in Staff")
	late := newReplica(t, f, Options{})
	if late.Revision() != rev {
		t.Fatalf("a replica started later is at %d, want %d", late.Revision(), rev)
	}
	checkAt(t, late, rev, true, "Sub nested in Staff, from the snapshot")
	rev = f.nest(false, nil)
	checkAt(t, r, rev, false, "Sub taken out of Staff")
	soon := time.Now().Add(400 * time.Millisecond)
	rev = f.nest(true, &soon)
	checkAt(t, r, rev, true, "Sub nested in Staff for a while")
	time.Sleep(time.Until(soon) + 50*time.Millisecond)
	checkAt(t, r, rev, false, "the nesting expired")
	checkAt(t, newReplica(t, f, Options{}), rev, false, "the expired nesting, from the snapshot")
	if fr := r.Freshness(); fr.Reloads != 0 {
		t.Errorf("freshness: %+v; want every change applied from the feed, none by a reload", fr)
	}
}

// TestReplicaReloadsOnAnUnknownEntity: a change of an entity the replica
// does not know is never skipped: the replica reloads a snapshot, and
// while it cannot have one it is not ready and fails closed.
func TestReplicaReloadsOnAnUnknownEntity(t *testing.T) {
	f := newFakeServer(t)
	r := newReplica(t, f, Options{})
	f.snapDown.Store(true)
	rev := f.push(gatehouse.ChangedObject{Entity: "group_tag", ID: "x", Op: "put", After: json.RawMessage(`{"id":"x"}`)})
	waitFor(t, "not ready after an unknown entity", func() bool { return !r.Ready() })
	if r.Revision() >= rev {
		t.Fatalf("the replica applied the unknown change: at %d", r.Revision())
	}
	if _, err := r.Check(context.Background(), auditView); !gatehouse.IsUnavailable(err) {
		t.Fatalf("reloading, failing closed: %v; want 503", err)
	}
	f.snapDown.Store(false)
	if err := r.WaitFor(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	if fr := r.Freshness(); !fr.Ready || fr.Revision != rev || fr.Reloads == 0 {
		t.Errorf("after the reload: %+v; want ready at %d with a reload counted", fr, rev)
	}
}

// TestDecodeChangeGroupMembership: a feed object of a group membership
// decodes to the engine's mutation, its expiry kept; an unknown entity
// is an error.
func TestDecodeChangeGroupMembership(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	raw, _ := json.Marshal(domain.GroupMembership{GroupID: staff, MemberGroupID: sub, ExpiresAt: &exp})
	ch, err := decodeChange(gatehouse.Change{Revision: 7, Objects: []gatehouse.ChangedObject{
		{Entity: "group_membership", Op: "delete", Before: raw}}})
	if err != nil || len(ch.Mutations) != 1 {
		t.Fatalf("decodeChange: %+v %v", ch, err)
	}
	m := ch.Mutations[0]
	if m.Op != domain.OpDelete || m.Entity != domain.EntityGroupMembership || m.GroupMembership == nil ||
		m.GroupMembership.GroupID != staff || m.GroupMembership.MemberGroupID != sub || !m.GroupMembership.ExpiresAt.Equal(exp) {
		t.Fatalf("decoded %+v (%+v)", m, m.GroupMembership)
	}
	if _, err := decodeChange(gatehouse.Change{Objects: []gatehouse.ChangedObject{{Entity: "group_tag", Op: "put", After: raw}}}); err == nil {
		t.Fatal("an unknown entity decoded")
	}
}
