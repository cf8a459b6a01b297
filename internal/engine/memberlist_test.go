package engine_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

// A group's effective member list holds, paths and Until included, from
// its instant until StableUntil (R6), at the revision it names: what lets
// the service keep it for the pages that follow the first (issue 20).
// Random nested worlds with expiries, one edge at a time.
func TestR6_EffectiveMemberListHoldsUntilStableUntil(t *testing.T) {
	checked := 0
	for _, seed := range seeds(30) {
		g, cur := nestedWorld(seed + 1<<42)
		e, err := engine.New(reference.Clone(cur))
		if err != nil {
			t.Fatalf("seed %d: engine.New: %v", seed, err)
		}
		for step := 1; step <= 16; step++ {
			if m, ok := g.nestingMutation(cur); ok {
				c := domain.Change{Revision: cur.Revision + 1, At: g.now, Mutations: []domain.Mutation{m}}
				if err := e.Apply(cloneChange(c)); err != nil {
					t.Fatalf("seed %d step %d: Apply refused %s: %v", seed, step, describeChange(c), err)
				}
				if err := reference.Apply(cur, cloneChange(c)); err != nil {
					t.Fatalf("seed %d step %d: reference.Apply: %v", seed, step, err)
				}
			}
			g.now = baseNow.Add(time.Duration(g.r.IntN(200)-100) * time.Minute)
			for _, gr := range cur.Groups {
				checked += checkStableUntil(t, e, gr.ID, g.now)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no list with a later expiry was checked")
	}
	t.Logf("%d lists checked up to their StableUntil", checked)
}

// checkStableUntil compares a group's list at now with the lists just
// before and halfway to its StableUntil; 1 when there was one to compare.
func checkStableUntil(t *testing.T, e *engine.Engine, groupID string, now time.Time) int {
	t.Helper()
	l, err := e.EffectiveMemberList(groupID, now, true)
	if err != nil {
		t.Fatalf("%s at %v: %v", groupID, now, err)
	}
	if l.Revision != e.Revision() {
		t.Fatalf("%s: list at revision %d, engine at %d", groupID, l.Revision, e.Revision())
	}
	if l.StableUntil.IsZero() {
		l.StableUntil = now.AddDate(100, 0, 0)
	} else if !l.StableUntil.After(now) {
		t.Fatalf("%s at %v: stable until %v, not after", groupID, now, l.StableUntil)
	}
	for _, at := range []time.Time{now.Add(l.StableUntil.Sub(now) / 2), l.StableUntil.Add(-time.Nanosecond)} {
		later, err := e.EffectiveMembers(groupID, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(later) != len(l.Members) || (len(later) > 0 && !reflect.DeepEqual(later, l.Members)) {
			t.Fatalf("%s: list at %v\n%+v\nat %v, before its StableUntil %v\n%+v", groupID, now, l.Members, at, l.StableUntil, later)
		}
	}
	if l.StableUntil.Year() > now.Year()+50 {
		return 0
	}
	return 1
}

// nestedWorld is a random world with 3 to 6 more groups to nest.
func nestedWorld(seed uint64) (*gen, *domain.Snapshot) {
	g := newGen(seed)
	s := g.snapshot()
	for n := 3 + g.r.IntN(4); n > 0; n-- {
		s.Groups = append(s.Groups, g.group(s))
	}
	return g, s
}
