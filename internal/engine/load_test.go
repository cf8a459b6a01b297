package engine_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/enginegen"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

// loadSizes is a data set of some thirty batches of engine.Load, so that
// batches are reused and the reader runs ahead of the indexer.
var loadSizes = enginegen.Sizes{Users: 2_000, Groups: 80, Memberships: 24_000, Folders: 4_000, Depth: 6,
	FolderLevels: 1_500, Rules: 30, Projects: 12}

// reusingStream streams snap as a decoder does: every object is copied
// into the one scratch object of its kind before put, and that object is
// wiped after put returns, so an index that kept what it was handed
// would read zeros.
func reusingStream(snap *domain.Snapshot) func(start func(int64) error, put func(*domain.Mutation) error) error {
	return func(start func(int64) error, put func(*domain.Mutation) error) error {
		if err := start(snap.Revision); err != nil {
			return err
		}
		var scratch domain.Mutation
		return snap.Puts(func(m *domain.Mutation) error {
			scratch = *m
			scratch.Detach() // a copy of the object, overwritten below
			err := put(&scratch)
			wipe(&scratch)
			return err
		})
	}
}

// wipe zeroes the object m points to.
func wipe(m *domain.Mutation) {
	switch {
	case m.User != nil:
		*m.User = domain.User{}
	case m.Membership != nil:
		*m.Membership = domain.Membership{}
	case m.Folder != nil:
		*m.Folder = domain.Folder{}
	case m.Group != nil:
		*m.Group = domain.Group{}
	case m.FolderLevel != nil:
		*m.FolderLevel = domain.FolderLevel{}
	case m.ProjectGrant != nil:
		*m.ProjectGrant = domain.ProjectGrant{}
	}
}

// TestLoadMatchesNew_R6_R15_R20: an engine read and indexed on two
// goroutines (engine.Load) from a stream that reuses its objects answers
// every sampled query as engine.New of the same snapshot, at its
// revision.
func TestLoadMatchesNew_R6_R15_R20(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		snap := enginegen.Generate(seed, loadSizes).Snapshot
		want, err := engine.New(reference.Clone(snap))
		if err != nil {
			t.Fatal(err)
		}
		got, err := engine.Load(reusingStream(snap))
		if err != nil {
			t.Fatalf("seed %d: Load: %v", seed, err)
		}
		if got.Revision() != snap.Revision {
			t.Errorf("seed %d: revision %d, want %d (R20)", seed, got.Revision(), snap.Revision)
		}
		if d := engine.LayoutDiff(got); d != "" {
			t.Errorf("seed %d: the loaded engine's layout: %s", seed, d)
		}
		for _, d := range compare(want, got, "engine.Load", sampledQueries(snap, seed, 3_000), 5) {
			t.Errorf("seed %d: %s: engine.New answers %s, engine.Load %s", seed, d.q, d.want, d.got)
		}
	}
}

// sampledQueries asks, of random users, everything they hold on a random
// folder or project and which folders they may read.
func sampledQueries(snap *domain.Snapshot, seed uint64, n int) []query {
	r := rand.New(rand.NewPCG(seed, 11))
	qs := make([]query, 0, n)
	for i := range n {
		q := query{subject: engine.Subject{UserID: snap.Users[r.IntN(len(snap.Users))].ID}, now: enginegen.Now}
		switch i % 3 {
		case 0:
			q.kind, q.res = qEffective, engine.Resource{Kind: engine.KindFolder, ID: snap.Folders[r.IntN(len(snap.Folders))].ID}
		case 1:
			q.kind, q.res = qEffective, engine.Resource{Kind: engine.KindProject, ID: snap.Projects[r.IntN(len(snap.Projects))].ID}
		default:
			q.kind, q.perm, q.list = qList, "root.read", engine.KindFolder
		}
		qs = append(qs, q)
	}
	return qs
}

// TestLoadStopsTheReaderWhenTheIndexRefuses: a membership of an unknown
// user early in a long stream ends the load with the index's error, and
// the reader's next puts fail so that it stops reading instead of
// streaming the rest into nothing.
func TestLoadStopsTheReaderWhenTheIndexRefuses(t *testing.T) {
	const grp, total = "00000000-0000-7000-8000-0000000000g1", 200_000
	var putErr error
	puts := 0
	_, err := engine.Load(func(start func(int64) error, put func(*domain.Mutation) error) error {
		if err := start(3); err != nil {
			return err
		}
		ms := []domain.Mutation{
			{Group: &domain.Group{ID: grp, Name: "g", Scope: domain.ScopeSystem}},
			{Membership: &domain.Membership{GroupID: grp, UserID: "nobody"}},
		}
		for i := 0; i < total && putErr == nil; i++ {
			m := domain.Mutation{User: &domain.User{ID: "u" + string(rune('a'+i%26)), Username: "u", Status: domain.UserActive}}
			if i < len(ms) {
				m = ms[i]
			}
			putErr = put(&m)
			puts++
		}
		return putErr
	})
	if !domain.Is(err, domain.KindNotFound) {
		t.Errorf("Load: %v; want the index's not found (the unknown user)", err)
	}
	if putErr == nil || puts == total {
		t.Errorf("the reader put %d of %d objects and its last put returned %v; want it stopped by an error", puts, total, putErr)
	}
}

// TestLoadReturnsTheReadersError: a stream that fails part way builds
// nothing and Load returns its error; a stream that puts before its
// revision, or ends without one, is refused; a stream of its revision
// alone is an empty engine at that revision.
func TestLoadReturnsTheReadersError(t *testing.T) {
	snap := enginegen.Generate(4, loadSizes).Snapshot
	broken := errors.New("the connection dropped")
	n := 0
	e, err := engine.Load(func(start func(int64) error, put func(*domain.Mutation) error) error {
		return reusingStream(snap)(start, func(m *domain.Mutation) error {
			if n++; n == 5_000 {
				return broken
			}
			return put(m)
		})
	})
	if !errors.Is(err, broken) || e != nil {
		t.Errorf("a stream failing at its 5,000th object: engine %v, error %v; want none and its error", e, err)
	}

	u := domain.User{ID: "u1", Username: "u1", Status: domain.UserActive}
	_, err = engine.Load(func(start func(int64) error, put func(*domain.Mutation) error) error {
		return put(&domain.Mutation{User: &u})
	})
	if !domain.Is(err, domain.KindInvalid) {
		t.Errorf("a put before the revision: %v; want invalid", err)
	}
	_, err = engine.Load(func(func(int64) error, func(*domain.Mutation) error) error { return nil })
	if !domain.Is(err, domain.KindInvalid) || !strings.Contains(err.Error(), "ended before its revision") {
		t.Errorf("a stream without a revision: %v; want invalid, ended before its revision", err)
	}
	e, err = engine.Load(func(start func(int64) error, _ func(*domain.Mutation) error) error { return start(9) })
	if err != nil || e.Revision() != 9 {
		t.Errorf("a stream of its revision alone: %v, %v; want an engine at 9", e, err)
	}
}
