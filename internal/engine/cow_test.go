package engine_test

import (
	"testing"

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
	for _, seed := range seeds(25) {
		g := newGen(seed + 2<<40) // neither the cross-check's nor the incremental test's data
		cur := g.snapshot()
		e, err := engine.New(reference.Clone(cur))
		if err != nil {
			t.Fatalf("seed %d: engine.New: %v", seed, err)
		}
		for step := 1; step <= 10; step++ {
			old := engine.Frozen(e)
			qs := queries(g, cur, g.now, 0.05, step%3 == 0)
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
