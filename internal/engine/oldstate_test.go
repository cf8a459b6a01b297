package engine_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

// TestCopyOnWriteOldStateNeverChanges_R20: a reader that loaded the state
// before an Apply must get the same answers, at the same revision, after
// it, whatever the change touched (memberships, grants, levels, rules,
// moves, cascading deletes). An Apply that wrote into a record, chunk or
// shard it had not copied first would change answers computed on an old
// revision, and the incremental test, which only reads the newest state,
// cannot see that.
func TestCopyOnWriteOldStateNeverChanges_R20(t *testing.T) {
	for _, seed := range seeds(15) {
		g := newGen(seed + 2<<40) // neither the cross-check's nor the incremental test's data
		cur := g.snapshot()
		e, err := engine.New(reference.Clone(cur))
		if err != nil {
			t.Fatalf("seed %d: engine.New: %v", seed, err)
		}
		for step := 1; step <= 10; step++ {
			old := engine.Frozen(e)
			qs := append(queries(g, cur, g.now, 0.05, step%3 == 0), folderListings(cur, g.now)...)
			before := make([]string, len(qs))
			for i, q := range qs {
				before[i] = answer(old, q)
			}
			c := g.change(cur)
			if err := e.Apply(cloneChange(c)); err != nil {
				t.Fatalf("seed %d step %d: Apply: %v\n%s", seed, step, err, describeChange(c))
			}
			if err := reference.Apply(cur, c); err != nil {
				t.Fatalf("seed %d step %d: reference.Apply: %v", seed, step, err)
			}
			for i, q := range qs {
				if after := answer(old, q); after != before[i] {
					t.Fatalf("seed %d step %d: the state before %s changed its answer to %s\n  before: %s\n  after:  %s",
						seed, step, describeChange(c), q, before[i], after)
				}
			}
		}
	}
}

// folderListings lists the folders every subject may act on with every
// permission of every context: the listings read the rules' matched
// folders, which checks never do.
func folderListings(snap *domain.Snapshot, now time.Time) []query {
	subjects := []engine.Subject{engine.Anonymous}
	for _, u := range snap.Users {
		subjects = append(subjects, engine.Subject{UserID: u.ID})
	}
	var contexts []string
	for _, t := range snap.FolderTypes {
		for _, c := range t.Contexts {
			if !slices.Contains(contexts, c) {
				contexts = append(contexts, c)
			}
		}
	}
	var qs []query
	for _, s := range subjects {
		for _, c := range contexts {
			for _, a := range domain.Actions() {
				qs = append(qs, query{kind: qList, subject: s, perm: c + "." + a, list: engine.KindFolder, now: now})
			}
		}
	}
	return qs
}
