package engine

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine/enginegen"
)

// Nested groups' costs (issue 20, docs/benchmarks.md):
//
//	go test -run '^$' -bench 'Nested|ApplyNesting' -benchtime 20x ./internal/engine/
//
// BenchmarkNestedCheckRatio times the same checks on the large data set
// as it is and with 2,000 nested edges to depth 5, in turns within one
// run and in thread CPU time, so that a loaded machine moves both alike;
// the ratio is the figure. BenchmarkApplyNestingEdge times Apply of one edge in a
// 10,000-group hierarchy.

var nestedLarge struct {
	once sync.Once
	e    *Engine
}

// nestEdges nests n of the groups in levels 0..depth by index: each edge
// goes from a group of level L ≥ 1 to one of level L-1, so no cycle and
// no chain longer than depth.
func nestEdges(groups []domain.Group, n, depth int, seed uint64) []domain.GroupMembership {
	byLevel := make([][]string, depth+1)
	for i, g := range groups {
		if g.Builtin == domain.BuiltinNone && g.Scope == domain.ScopeSystem {
			byLevel[i%(depth+1)] = append(byLevel[i%(depth+1)], g.ID)
		}
	}
	r := rand.New(rand.NewPCG(seed, seed))
	seen := map[[2]string]bool{}
	var out []domain.GroupMembership
	for len(out) < n {
		l := 1 + r.IntN(depth)
		child, parent := byLevel[l][r.IntN(len(byLevel[l]))], byLevel[l-1][r.IntN(len(byLevel[l-1]))]
		if k := [2]string{parent, child}; !seen[k] {
			seen[k] = true
			out = append(out, domain.GroupMembership{GroupID: parent, MemberGroupID: child})
		}
	}
	return out
}

func nestedLargeEngine(b *testing.B) *Engine {
	largeEngine(b)
	nestedLarge.once.Do(func() {
		snap := *large.data.Snapshot
		snap.GroupMemberships = nestEdges(snap.Groups, 2000, 5, 11)
		e, err := New(&snap)
		if err != nil {
			panic(err)
		}
		nestedLarge.e = e
	})
	return nestedLarge.e
}

// pass times one pass of qs on e: the thread's CPU time where it can be
// read (the goroutine is locked to its thread), else wall time.
func pass(b *testing.B, e *Engine, qs []query) time.Duration {
	start, cpu := time.Now(), threadCPU()
	for i := range qs {
		if _, err := e.Check(qs[i].s, qs[i].perm, qs[i].r, enginegen.Now); err != nil {
			b.Fatal(err)
		}
	}
	if cpu > 0 {
		return threadCPU() - cpu
	}
	return time.Since(start)
}

func BenchmarkNestedCheckRatio(b *testing.B) {
	nested := nestedLargeEngine(b)
	sets := []struct {
		name string
		qs   []query
	}{
		{"folder-allowed", large.folderAllowed}, {"folder-denied", large.folderDenied},
		{"project-allowed", projQueries(true)}, {"project-denied", projQueries(false)},
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var flat, nest time.Duration
			for i := 0; i < b.N; i++ {
				flat += pass(b, large.e, set.qs)
				nest += pass(b, nested, set.qs)
			}
			n := float64(b.N * len(set.qs))
			b.ReportMetric(float64(flat)/n, "flat-ns/check")
			b.ReportMetric(float64(nest)/n, "nested-ns/check")
			b.ReportMetric(float64(nest)/float64(flat), "ratio")
		})
	}
}

// hierarchy is 10,000 system groups in a tree of six levels (10, 60,
// 360, 2,160 and 7,410 groups below the roots' level), each group but the
// roots a member of one group of the level above, with users in the
// leaves.
func hierarchy() (*domain.Snapshot, [][]string) {
	s := &domain.Snapshot{Revision: 1, Roles: domain.BuiltinRoles(), Groups: domain.BuiltinGroups()}
	sizes := []int{10, 60, 360, 2160, 7410}
	r := rand.New(rand.NewPCG(3, 3))
	levels := make([][]string, len(sizes))
	for l, n := range sizes {
		for i := 0; i < n; i++ {
			id := "g" + strconv.Itoa(l) + "-" + strconv.Itoa(i)
			s.Groups = append(s.Groups, domain.Group{ID: id, Name: id, Scope: domain.ScopeSystem})
			levels[l] = append(levels[l], id)
			if l > 0 {
				s.GroupMemberships = append(s.GroupMemberships, domain.GroupMembership{GroupID: levels[l-1][r.IntN(len(levels[l-1]))], MemberGroupID: id})
			}
		}
	}
	for i := 0; i < 20000; i++ {
		u := "u" + strconv.Itoa(i)
		s.Users = append(s.Users, domain.User{ID: u, Username: u, Status: domain.UserActive})
		s.Memberships = append(s.Memberships, domain.Membership{GroupID: levels[4][r.IntN(len(levels[4]))], UserID: u})
	}
	return s, levels
}

// BenchmarkApplyNestingEdge applies, in a 10,000-group hierarchy, the
// put and then the delete of one edge from a random group to a random
// group of a higher level (a second parent), and reports the latency of
// each Apply: median, 99th percentile and worst; without projects, and
// with the 70 groups of the two highest levels present in projects.
func BenchmarkApplyNestingEdge(b *testing.B) {
	snap, levels := hierarchy()
	b.Run("no-projects", func(b *testing.B) { applyNestingEdges(b, snap, levels) })
	// Each group of the two highest levels present in a project of its
	// own: an edge then also recomputes the nested lists (projnest.go) of
	// the projects of its child's ancestors, before and after.
	withProjects := *snap
	for _, g := range slices.Concat(levels[0], levels[1]) {
		p := domain.Project{ID: "p-" + g, Name: "p-" + g, MembershipMode: domain.ModeMultiple}
		withProjects.Projects = append(withProjects.Projects, p)
		withProjects.ProjectGrants = append(withProjects.ProjectGrants, domain.ProjectGrant{ProjectID: p.ID,
			SubjectKind: domain.SubjectGroup, SubjectID: g, Permissions: []string{domain.PermProjectRead}})
	}
	b.Run("top-levels-present", func(b *testing.B) { applyNestingEdges(b, &withProjects, levels) })
}

func applyNestingEdges(b *testing.B, snap *domain.Snapshot, levels [][]string) {
	e, err := New(snap)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 5))
	lat := make([]time.Duration, 0, 2*b.N)
	cpu := make([]time.Duration, 0, 2*b.N) // the thread's CPU: the machine is shared
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lc := 1 + r.IntN(len(levels)-1)
		lp := r.IntN(lc)
		m := &domain.GroupMembership{GroupID: levels[lp][r.IntN(len(levels[lp]))], MemberGroupID: levels[lc][r.IntN(len(levels[lc]))]}
		for _, op := range []domain.Op{domain.OpPut, domain.OpDelete} {
			t, c := time.Now(), threadCPU()
			err := e.Apply(domain.Change{Revision: e.Revision() + 1, Mutations: []domain.Mutation{{Op: op, Entity: domain.EntityGroupMembership, GroupMembership: m}}})
			cpu, lat = append(cpu, threadCPU()-c), append(lat, time.Since(t))
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	report := func(ds []time.Duration, unit string) {
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-"+unit)
		b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-"+unit)
		b.ReportMetric(float64(ds[len(ds)-1].Microseconds()), "max-"+unit)
	}
	report(lat, "wall-µs")
	if threadCPU() > 0 {
		report(cpu, "cpu-µs")
	}
}
