package engine_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

// replicaView is what a local replica knows of snap: the replica
// encoding carries no username, and the replica names users by id.
func replicaView(snap *domain.Snapshot) *domain.Snapshot {
	c := reference.Clone(snap)
	for i := range c.Users {
		c.Users[i].Username = c.Users[i].ID
	}
	return c
}

// streamBuild builds an engine as the local replica does: each record of
// the replica encoding of snap goes to a Builder as it is decoded
// (engine.LoadReplicaSnapshot).
func streamBuild(t *testing.T, snap *domain.Snapshot) *engine.Engine {
	t.Helper()
	var buf bytes.Buffer
	if err := domain.EncodeReplicaSnapshot(&buf, snap); err != nil {
		t.Fatal(err)
	}
	e, err := engine.LoadReplicaSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestBuilderFedWhileDecodingMatchesNew_R6_R8_R11_R20: on the
// cross-check's random worlds, the engine a Builder builds from the
// replica stream record by record (the decoder reusing its records)
// answers every query like engine.New of the snapshot in memory, and like
// the reference.
func TestBuilderFedWhileDecodingMatchesNew_R6_R8_R11_R20(t *testing.T) {
	total := 0
	for _, seed := range seeds(200) {
		g := newGen(seed + 1<<41) // not the cross-check's datasets
		g.now = baseNow.Add(-time.Duration(g.r.IntN(120)) * time.Minute)
		snap := replicaView(g.snapshot())
		want, err := engine.New(reference.Clone(snap))
		if err != nil {
			t.Fatalf("seed %d: engine.New: %v\n%s", seed, err, dump(snap))
		}
		got := streamBuild(t, snap)
		if got.Revision() != snap.Revision {
			t.Errorf("seed %d: revision %d, want %d (R20)", seed, got.Revision(), snap.Revision)
		}
		qs := queries(g, snap, g.now, 0.1, true)
		total += len(qs)
		ds := compare(want, got, "engine built while decoding", qs, 3)
		ds = append(ds, compare(reference.New(reference.Clone(snap)), got, "engine built while decoding", qs, 3)...)
		for _, d := range ds {
			t.Errorf("seed %d: %s: engine.New (or the reference) answers %s, the builder fed while decoding %s\n%s", seed, d.q, d.want, d.got, dump(snap))
		}
		if len(ds) > 0 && countFailures(t) {
			break
		}
	}
	if total == 0 {
		t.Fatal("no query compared")
	}
}

// reversed hands the objects of snap to put in the opposite of the
// stream's order: everything referring before what it refers to.
func reversed(snap *domain.Snapshot, put func(*domain.Mutation) error) error {
	var ms []domain.Mutation
	_ = snap.Puts(func(m *domain.Mutation) error { ms = append(ms, *m); return nil })
	for _, m := range slices.Backward(ms) {
		if err := put(&m); err != nil {
			return err
		}
	}
	return nil
}

// TestBuilderResolvesLateRolesTypesAndParents_R13: roles, folder types
// and parent folders may come after what names them (a folder before its
// parent, a role after its holders) and the engine answers as New does;
// a membership before its user is refused, and so is a parent that never
// comes.
func TestBuilderResolvesLateRolesTypesAndParents_R13(t *testing.T) {
	for _, seed := range seeds(40) {
		g := newGen(seed + 1<<42)
		g.now = baseNow
		snap := g.snapshot()
		want, err := engine.New(reference.Clone(snap))
		if err != nil {
			t.Fatal(err)
		}
		// Late roles, types and parents only: the rest keeps its order.
		x := engine.NewBuilder(snap.Revision)
		late := &domain.Snapshot{Roles: snap.Roles, FolderTypes: snap.FolderTypes, Folders: snap.Folders}
		early := reference.Clone(snap)
		early.Roles, early.FolderTypes, early.Folders, early.FolderLevels, early.Rules = nil, nil, nil, nil, nil
		rest := &domain.Snapshot{FolderLevels: snap.FolderLevels, Rules: snap.Rules}
		for _, step := range []func() error{
			func() error { return early.Puts(x.Put) },
			func() error { return reversed(late, x.Put) },
			func() error { return rest.Puts(x.Put) },
		} {
			if err := step(); err != nil {
				t.Fatalf("seed %d: %v\n%s", seed, err, dump(snap))
			}
		}
		got, err := x.Engine()
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, dump(snap))
		}
		for _, d := range compare(want, got, "engine built in another order", queries(g, snap, g.now, 0.1, true), 3) {
			t.Errorf("seed %d: %s: engine.New answers %s, the builder fed in another order %s\n%s", seed, d.q, d.want, d.got, dump(snap))
		}
	}
}

// TestBuilderRefusesWhatItCannotResolve: a membership before its user,
// a parent folder that never comes, and a put after the engine is built
// or a second Engine are refused, and the error sticks.
func TestBuilderRefusesWhatItCannotResolve(t *testing.T) {
	const u, grp = "00000000-0000-7000-8000-0000000000u1", "00000000-0000-7000-8000-0000000000g1"
	x := engine.NewBuilder(1)
	if err := x.Put(&domain.Mutation{Group: &domain.Group{ID: grp, Name: "g", Scope: domain.ScopeSystem}}); err != nil {
		t.Fatal(err)
	}
	err := x.Put(&domain.Mutation{Membership: &domain.Membership{GroupID: grp, UserID: u}})
	if !domain.Is(err, domain.KindNotFound) {
		t.Fatalf("a membership before its user: %v, want not found", err)
	}
	if err2 := x.Put(&domain.Mutation{User: &domain.User{ID: u, Status: domain.UserActive}}); err2 != err {
		t.Errorf("a put after an error: %v, want the first error %v", err2, err)
	}
	if e, err2 := x.Engine(); e != nil || err2 != err {
		t.Errorf("Engine after an error: %v, %v; want nil, the first error", e, err2)
	}

	x = engine.NewBuilder(1)
	if err := x.Put(&domain.Mutation{Folder: &domain.Folder{ID: "f1", ParentID: "f0", Name: "f", TypeID: "t"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Engine(); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("a parent that never comes: %v, want not found", err)
	}

	x = engine.NewBuilder(1)
	if _, err := x.Engine(); err != nil {
		t.Fatal(err)
	}
	if err := x.Put(&domain.Mutation{User: &domain.User{ID: u, Status: domain.UserActive}}); !domain.Is(err, domain.KindInvalid) {
		t.Errorf("a put after Engine: %v, want invalid", err)
	}

	x = engine.NewBuilder(1)
	if _, err := x.Engine(); err != nil {
		t.Fatal(err)
	}
	if e, err := x.Engine(); e != nil || !domain.Is(err, domain.KindInvalid) {
		t.Errorf("Engine a second time: %v, %v; want nil, invalid (the Builder is spent)", e, err)
	}
}

// TestBuilderKeepsTheLastPutOfAMembership_R6: a membership put again with
// another expiry keeps the last, whether the builder resolves its ids by
// their string-table keys (the replica's load) or by the strings
// (engine.New), as engine.New of the snapshot holding only the last puts.
func TestBuilderKeepsTheLastPutOfAMembership_R6(t *testing.T) {
	for _, seed := range seeds(60) {
		g := newGen(seed + 1<<43)
		g.now = baseNow
		want := replicaView(g.snapshot())
		if len(want.Memberships) == 0 {
			continue
		}
		again := reference.Clone(want)
		for i := range want.Memberships {
			if g.chance(0.4) {
				m := want.Memberships[i]
				again.Memberships[i].ExpiresAt = g.expiry() // the first put, superseded
				m.ExpiresAt = g.expiry()
				want.Memberships[i] = m
				again.Memberships = append(again.Memberships, m)
			}
		}
		ref, err := engine.New(reference.Clone(want))
		if err != nil {
			t.Fatal(err)
		}
		fromNew, err := engine.New(reference.Clone(again))
		if err != nil {
			t.Fatal(err)
		}
		qs := queries(g, want, g.now, 0.2, true)
		for name, got := range map[string]*engine.Engine{"engine.New": fromNew, "the replica's load": streamBuild(t, again)} {
			for _, d := range compare(ref, got, name, qs, 3) {
				t.Errorf("seed %d: %s: the last puts answer %s, %s of every put %s\n%s", seed, d.q, d.want, name, d.got, dump(again))
			}
			for _, m := range want.Memberships {
				if in := ref.MemberAt(m.UserID, m.GroupID, g.now); got.MemberAt(m.UserID, m.GroupID, g.now) != in {
					t.Errorf("seed %d: %s: user %s in group %s is %v, want %v (last expiry %v)", seed, name, m.UserID, m.GroupID, !in, in, m.ExpiresAt)
				}
			}
		}
	}
}

// TestBuilderResolvesKeysPerKind: a string-table key names a string, not
// an object: the same key may be a group's id and a user's, each resolved
// in its own kind. A key the builder was never given resolves by the
// string, and an unknown id is refused whatever its key.
func TestBuilderResolvesKeysPerKind(t *testing.T) {
	const id, other = "00000000-0000-7000-8000-0000000000a1", "00000000-0000-7000-8000-0000000000a2"
	x := engine.NewBuilder(1)
	puts := []struct {
		m domain.Mutation
		k domain.ReplicaKeys
	}{
		{domain.Mutation{Group: &domain.Group{ID: id, Name: "a", Scope: domain.ScopeSystem}}, domain.ReplicaKeys{ID: 1}},
		{domain.Mutation{User: &domain.User{ID: id, Username: id, Status: domain.UserActive}}, domain.ReplicaKeys{ID: 1}},
		{domain.Mutation{Group: &domain.Group{ID: other, Name: "b", Scope: domain.ScopeSystem}}, domain.ReplicaKeys{ID: 2}},
		{domain.Mutation{Membership: &domain.Membership{GroupID: id, UserID: id}}, domain.ReplicaKeys{Group: 1, User: 1}},
		{domain.Mutation{Membership: &domain.Membership{GroupID: other, UserID: id}}, domain.ReplicaKeys{User: 7}},
	}
	for _, p := range puts {
		if err := x.PutKeyed(&p.m, &p.k); err != nil {
			t.Fatal(err)
		}
	}
	e, err := x.Engine()
	if err != nil {
		t.Fatal(err)
	}
	for _, grp := range []string{id, other} {
		if !e.MemberAt(id, grp, baseNow) {
			t.Errorf("the user is not a member of group %s", grp)
		}
		if ms, err := e.EffectiveMembers(grp, baseNow); err != nil || len(ms) != 1 {
			t.Errorf("group %s: effective members %v, %v; want the user", grp, ms, err)
		}
	}

	x = engine.NewBuilder(1)
	_ = x.PutKeyed(&puts[0].m, &puts[0].k)
	err = x.PutKeyed(&domain.Mutation{Membership: &domain.Membership{GroupID: id, UserID: other}}, &domain.ReplicaKeys{Group: 1, User: 2})
	if !domain.Is(err, domain.KindNotFound) || !strings.Contains(err.Error(), other) {
		t.Errorf("a membership of a user never put, keyed: %v, want user %s not found", err, other)
	}
}
