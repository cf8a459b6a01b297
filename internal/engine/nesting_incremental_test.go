package engine_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

// nestingMutation is one change of a nested world: nest a group, change
// a nesting's expiry, remove one, delete a group (with its nestings), or
// add a user to a group; false when the kind drawn is impossible.
func (g *gen) nestingMutation(s *domain.Snapshot) (domain.Mutation, bool) {
	switch g.r.IntN(6) {
	case 0, 1:
		m, ok := g.nesting(s)
		return mutPut(domain.Mutation{Entity: domain.EntityGroupMembership, GroupMembership: &m}), ok
	case 2:
		if len(s.GroupMemberships) == 0 {
			return domain.Mutation{}, false
		}
		m := pick(g, s.GroupMemberships)
		m.ExpiresAt = g.expiry()
		return mutPut(domain.Mutation{Entity: domain.EntityGroupMembership, GroupMembership: &m}), true
	case 3:
		if len(s.GroupMemberships) == 0 {
			return domain.Mutation{}, false
		}
		m := pick(g, s.GroupMemberships)
		return mutDel(domain.Mutation{Entity: domain.EntityGroupMembership, GroupMembership: &m}), true
	case 4:
		gr := pick(g, s.Groups)
		if gr.Builtin != domain.BuiltinNone {
			return domain.Mutation{}, false
		}
		return mutDel(domain.Mutation{Entity: domain.EntityGroup, Group: &gr}), true
	default:
		gr := g.group(s)
		return mutPut(domain.Mutation{Entity: domain.EntityGroup, Group: &gr}), true
	}
}

// TestIncrementalNestingMatchesRebuild_R6_R12_R14 applies random changes of
// nested worlds (issue 20) one edge at a time and compares the engine
// kept incrementally with one rebuilt from the data and with the
// reference evaluator, as time passes over the expiries.
func TestIncrementalNestingMatchesRebuild_R6_R12_R14(t *testing.T) {
	const steps = 20
	compared := 0
	for _, seed := range seeds(40) {
		g := newGen(seed + 1<<41)
		initial := g.snapshot()
		for n := 3 + g.r.IntN(4); n > 0; n-- {
			initial.Groups = append(initial.Groups, g.group(initial))
		}
		inc, err := newEngine(initial)
		if err != nil {
			t.Fatalf("seed %d: engine.New: %v", seed, err)
		}
		cur := reference.Clone(initial)
		for step := 1; step <= steps; step++ {
			m, ok := g.nestingMutation(cur)
			if !ok {
				continue
			}
			c := domain.Change{Revision: cur.Revision + 1, At: g.now, Mutations: []domain.Mutation{m}}
			if err := inc.Apply(cloneChange(c)); err != nil {
				t.Fatalf("seed %d step %d: Apply refused %s: %v", seed, step, describeChange(c), err)
			}
			if err := reference.Apply(cur, cloneChange(c)); err != nil {
				t.Fatalf("seed %d step %d: reference.Apply: %v", seed, step, err)
			}
			if step%4 != 0 {
				continue
			}
			g.now = baseNow.Add(time.Duration(step) * 5 * time.Minute)
			rebuilt, err := newEngine(cur)
			if err != nil {
				t.Fatalf("seed %d step %d: engine.New of the data: %v", seed, step, err)
			}
			if d := projectNestingDiff(inc, rebuilt, g.now); d != "" {
				t.Fatalf("seed %d step %d: the projects' nested lists (projnest.go):\n%s\ndata now:\n%s", seed, step, d, dump(cur))
			}
			qs := queries(g, cur, g.now, 0.2, false)
			compared += len(qs)
			ds := append(compare(rebuilt, inc, "incremental engine", qs, 2), compare(reference.New(reference.Clone(cur)), inc, "incremental engine", qs, 2)...)
			for _, d := range ds {
				t.Errorf("seed %d step %d: %s: want %s, incremental engine %s\ndata now:\n%s", seed, step, d.q, d.want, d.got, dump(cur))
			}
			if len(ds) > 0 {
				return
			}
		}
	}
	if compared == 0 {
		t.Fatal("nothing compared")
	}
	t.Logf("%d queries compared", compared)
}

// projectNestingDiff holds an engine kept incrementally to a rebuilt one
// on each project's list of the groups nested below its present groups,
// its read-side copies (users' inline groups, folders' flat lists) to
// their records, and the project check's path (direct groups and that
// list) to the effective groups, for every user and project at now; ""
// when all agree or the engines under test are not this package's.
func projectNestingDiff(inc, rebuilt underTest, now time.Time) string {
	a, ok := inc.(*engine.Engine)
	b, ok2 := rebuilt.(*engine.Engine)
	if !ok || !ok2 {
		return ""
	}
	if d := engine.ProjectNestingDiff(a, b); d != "" {
		return "incremental vs rebuilt:\n" + d
	}
	if d := engine.LayoutDiff(a); d != "" {
		return "incremental engine's read-side copies:\n" + d
	}
	return engine.ProjectPathsDiff(a, now)
}
