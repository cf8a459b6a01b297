package engine

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/benchtest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine/enginegen"
)

// The large data set and its engine are built once per benchmark binary.
//
//	go test -run '^$' -bench . -benchmem -count 3 ./internal/engine/

var large struct {
	once sync.Once
	data *enginegen.Data
	e    *Engine
	// query sets, each cycled through so that no single answer stays hot
	folderAllowed, folderDenied []query
	listUser                    string
	listCount                   int
}

type query struct {
	s    Subject
	perm string
	r    Resource
}

func largeEngine(b *testing.B) {
	b.Helper()
	large.once.Do(func() {
		large.data = enginegen.Generate(1, enginegen.Large())
		e, err := New(large.data.Snapshot)
		if err != nil {
			panic(err)
		}
		large.e = e
		pickFolderQueries()
	})
	if large.e == nil {
		b.Fatal("large engine not built")
	}
}

// pickFolderQueries samples checks of typical users on random folders,
// kept in allowed and denied sets, and the typical user whose listing is
// nearest a thousand folders.
func pickFolderQueries() {
	d, e := large.data, large.e
	now := enginegen.Now
	r := rand.New(rand.NewPCG(7, 7))
	all := d.AllFolders()
	best := -1
	for _, u := range d.TypicalUsers {
		ids, _ := e.ListResources(Subject{UserID: u}, "root.read", KindFolder, "", now)
		if best < 0 || abs(len(ids)-1000) < abs(best-1000) {
			best, large.listUser = len(ids), u
		}
		for _, id := range ids {
			if len(large.folderAllowed) < 4096 && r.IntN(4) == 0 {
				large.folderAllowed = append(large.folderAllowed, query{Subject{UserID: u}, "root.read", Resource{Kind: KindFolder, ID: id}})
			}
		}
	}
	large.listCount = best
	for len(large.folderDenied) < 4096 {
		u := d.TypicalUsers[r.IntN(len(d.TypicalUsers))]
		q := query{Subject{UserID: u}, "root.edit", Resource{Kind: KindFolder, ID: all[r.IntN(len(all))]}}
		if dec, err := e.Check(q.s, q.perm, q.r, now); err == nil && !dec.Allowed {
			large.folderDenied = append(large.folderDenied, q)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func runQueries(b *testing.B, qs []query, want bool) {
	if len(qs) == 0 {
		b.Skip("no queries")
	}
	e, now := large.e, enginegen.Now
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchtest.ProcessCPU()
	for i := 0; i < b.N; i++ {
		q := &qs[i%len(qs)]
		d, err := e.Check(q.s, q.perm, q.r, now)
		if err != nil || d.Allowed != want {
			b.Fatalf("Check(%v, %s, %v) = %v, %v; want %v", q.s, q.perm, q.r, d.Allowed, err, want)
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports the process's CPU time per op since cpu (the whole
// process's: with no allocation there is next to no GC to count).
func reportCPU(b *testing.B, cpu time.Duration) {
	if end := benchtest.ProcessCPU(); end > 0 {
		b.ReportMetric(float64(end-cpu)/float64(b.N), "cpu-ns/op")
	}
}

// reportLatency times single checks to report the median and the 99th
// percentile (each sample includes about 20–40 ns of clock reads).
func reportLatency(b *testing.B, qs []query) {
	b.StopTimer()
	e, now := large.e, enginegen.Now
	n := min(len(qs)*4, 20000)
	lat := make([]time.Duration, n)
	for i := range lat {
		q := &qs[i%len(qs)]
		t := time.Now()
		_, _ = e.Check(q.s, q.perm, q.r, now)
		lat[i] = time.Since(t)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[n/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[n*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkCheckFolderAllowed(b *testing.B) {
	largeEngine(b)
	runQueries(b, large.folderAllowed, true)
	reportLatency(b, large.folderAllowed)
}

func BenchmarkCheckFolderDenied(b *testing.B) {
	largeEngine(b)
	runQueries(b, large.folderDenied, false)
	reportLatency(b, large.folderDenied)
}

func sysQueries(want bool) []query {
	var qs []query
	for _, u := range large.data.Snapshot.Users[:2000] {
		for _, p := range []string{domain.PermUsersView, domain.PermStorageEdit} {
			q := query{Subject{UserID: u.ID}, p, Resource{Kind: KindSystem}}
			if d, err := large.e.Check(q.s, q.perm, q.r, enginegen.Now); err == nil && d.Allowed == want {
				qs = append(qs, q)
			}
		}
	}
	return qs
}

func projQueries(want bool) []query {
	var qs []query
	snap := large.data.Snapshot
	for i, u := range snap.Users[:5000] {
		for j := 0; j < 20; j++ {
			p := snap.Projects[(i*31+j*17)%len(snap.Projects)]
			q := query{Subject{UserID: u.ID}, domain.PermProjectRead, Resource{Kind: KindProject, ID: p.ID}}
			if d, err := large.e.Check(q.s, q.perm, q.r, enginegen.Now); err == nil && d.Allowed == want {
				qs = append(qs, q)
			}
		}
	}
	for _, pg := range snap.ProjectGrants {
		if len(qs) > 4096 {
			break
		}
		if pg.SubjectKind != domain.SubjectUser {
			continue
		}
		q := query{Subject{UserID: pg.SubjectID}, domain.PermProjectRead, Resource{Kind: KindProject, ID: pg.ProjectID}}
		if d, err := large.e.Check(q.s, q.perm, q.r, enginegen.Now); err == nil && d.Allowed == want {
			qs = append(qs, q)
		}
	}
	return qs
}

func BenchmarkCheckSystemAllowed(b *testing.B) {
	largeEngine(b)
	qs := sysQueries(true)
	runQueries(b, qs, true)
	reportLatency(b, qs)
}

func BenchmarkCheckSystemDenied(b *testing.B) {
	largeEngine(b)
	qs := sysQueries(false)
	runQueries(b, qs, false)
	reportLatency(b, qs)
}

func BenchmarkCheckProjectAllowed(b *testing.B) {
	largeEngine(b)
	qs := projQueries(true)
	runQueries(b, qs, true)
	reportLatency(b, qs)
}

func BenchmarkCheckProjectDenied(b *testing.B) {
	largeEngine(b)
	qs := projQueries(false)
	runQueries(b, qs, false)
	reportLatency(b, qs)
}

func BenchmarkListResourcesTypicalUser(b *testing.B) {
	largeEngine(b)
	s := Subject{UserID: large.listUser}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ids, err := large.e.ListResources(s, "root.read", KindFolder, "", enginegen.Now)
		if err != nil || len(ids) != large.listCount {
			b.Fatalf("ListResources = %d, %v; want %d", len(ids), err, large.listCount)
		}
	}
	b.ReportMetric(float64(large.listCount), "folders")
}

// BenchmarkNew builds the large index; heap-MB is the heap the index
// holds (live heap after GC with it minus without it).
func BenchmarkNew(b *testing.B) {
	largeEngine(b)
	snap := large.data.Snapshot
	var before, after runtime.MemStats
	b.ResetTimer()
	var e *Engine
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		var err error
		e, err = New(snap)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(e)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
}

// BenchmarkNewStoreOrder is BenchmarkNew on the memberships in the order
// the SQLite store reads them (its primary key: group, then user), not
// the generator's random order.
func BenchmarkNewStoreOrder(b *testing.B) {
	largeEngine(b)
	snap := *large.data.Snapshot
	snap.Memberships = slices.Clone(snap.Memberships)
	slices.SortFunc(snap.Memberships, func(x, y domain.Membership) int {
		if c := strings.Compare(x.GroupID, y.GroupID); c != 0 {
			return c
		}
		return strings.Compare(x.UserID, y.UserID)
	})
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchtest.ProcessCPU()
	for i := 0; i < b.N; i++ {
		if _, err := New(&snap); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// applyToggle applies a and then b alternately, each a change of its own.
func applyToggle(bm *testing.B, a, b domain.Mutation) {
	e := large.e
	bm.ReportAllocs()
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		m := a
		if i%2 == 1 {
			m = b
		}
		if err := e.Apply(domain.Change{Revision: e.Revision() + 1, Mutations: []domain.Mutation{m}}); err != nil {
			bm.Fatal(err)
		}
	}
}

func BenchmarkApplyMembership(b *testing.B) {
	largeEngine(b)
	snap := large.data.Snapshot
	m := &domain.Membership{GroupID: snap.Groups[100].ID, UserID: large.listUser}
	applyToggle(b, domain.Mutation{Op: domain.OpPut, Entity: domain.EntityMembership, Membership: m},
		domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityMembership, Membership: m})
}

func BenchmarkApplyFolderMove(b *testing.B) {
	largeEngine(b)
	d := large.data
	var f domain.Folder
	for _, x := range d.Snapshot.Folders {
		if x.ID == d.FoldersByDepth[4][0] {
			f = x
		}
	}
	g := f
	g.ParentID = d.FoldersByDepth[3][len(d.FoldersByDepth[3])-1]
	applyToggle(b, domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolder, Folder: &g},
		domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolder, Folder: &f})
}

func BenchmarkApplyFolderLevel(b *testing.B) {
	largeEngine(b)
	l := large.data.Snapshot.FolderLevels[100]
	l2 := l
	l2.Level = (l.Level + 1) % (domain.LevelDeleteFolder + 1)
	applyToggle(b, domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolderLevel, FolderLevel: &l2},
		domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolderLevel, FolderLevel: &l})
}

// BenchmarkApplyFolderLevelAtRoot is the worst case of a level change: the
// effective grants of a whole top-level subtree (a seventh of the tree)
// are recomputed.
func BenchmarkApplyFolderLevelAtRoot(b *testing.B) {
	largeEngine(b)
	root := large.data.FoldersByDepth[0][0]
	g := large.data.Snapshot.Groups[200].ID
	applyToggle(b, domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolderLevel, FolderLevel: &domain.FolderLevel{FolderID: root, GroupID: g, Level: domain.LevelView}},
		domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityFolderLevel, FolderLevel: &domain.FolderLevel{FolderID: root, GroupID: g}})
}

// BenchmarkListSubjectsFolder lists who may read a folder a typical user
// reads (no target; ListSubjects checks every candidate in full).
func BenchmarkListSubjectsFolder(b *testing.B) {
	largeEngine(b)
	r := large.folderAllowed[0].r
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		users, _, err := large.e.ListSubjects("root.read", r, enginegen.Now)
		if err != nil {
			b.Fatal(err)
		}
		n = len(users)
	}
	b.ReportMetric(float64(n), "users")
}

// Uniform query sets: subjects drawn over all 100,000 users and resources
// over every folder or project, so that most checks miss the CPU's caches
// as a server's do. The sets above cycle over 16 typical users (or a few
// thousand) that stay cached; both are reported (docs/benchmarks.md).
var uniform struct {
	once                          sync.Once
	folder, project               []query
	folderWant, projectWant       []bool
	folderAllowed, projectAllowed []query
}

const uniformN = 1 << 16

func uniformQueries(b *testing.B) {
	largeEngine(b)
	uniform.once.Do(func() {
		d, e, now := large.data, large.e, enginegen.Now
		r := rand.New(rand.NewPCG(11, 13))
		folders, projects := d.AllFolders(), d.Snapshot.Projects
		// Ids are copies, as a server's are (parsed from the request): the
		// index compares their bytes with its key's instead of finding the
		// very string it stores (memequal's shortcut for one pointer).
		for _, u := range d.UniformUsers(11, uniformN) {
			s := Subject{UserID: strings.Clone(u)}
			uniform.folder, uniform.folderWant = appendChecked(e, uniform.folder, uniform.folderWant,
				query{s, "root.read", Resource{Kind: KindFolder, ID: strings.Clone(folders[r.IntN(len(folders))])}})
			uniform.project, uniform.projectWant = appendChecked(e, uniform.project, uniform.projectWant,
				query{s, domain.PermProjectRead, Resource{Kind: KindProject, ID: strings.Clone(projects[r.IntN(len(projects))].ID)}})
		}
		// Allowed checks of uniform users: one resource each user may
		// read, drawn from the user's own listing.
		for _, u := range d.UniformUsers(12, 8192) {
			s := Subject{UserID: strings.Clone(u)}
			if ids, _ := e.ListResources(s, "root.read", KindFolder, "", now); len(ids) > 0 {
				uniform.folderAllowed = append(uniform.folderAllowed, query{s, "root.read", Resource{Kind: KindFolder, ID: strings.Clone(ids[r.IntN(len(ids))])}})
			}
			if ids, _ := e.ListResources(s, domain.PermProjectRead, KindProject, "", now); len(ids) > 0 {
				uniform.projectAllowed = append(uniform.projectAllowed, query{s, domain.PermProjectRead, Resource{Kind: KindProject, ID: strings.Clone(ids[r.IntN(len(ids))])}})
			}
		}
	})
}

func appendChecked(e *Engine, qs []query, wants []bool, q query) ([]query, []bool) {
	d, err := e.Check(q.s, q.perm, q.r, enginegen.Now)
	if err != nil {
		panic(err)
	}
	return append(qs, q), append(wants, d.Allowed)
}

// runMixed is runQueries for a set of allowed and denied checks.
func runMixed(b *testing.B, qs []query, wants []bool) {
	e, now := large.e, enginegen.Now
	allowed := 0
	for _, w := range wants {
		if w {
			allowed++
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchtest.ProcessCPU()
	for i := 0; i < b.N; i++ {
		j := i % len(qs)
		q := &qs[j]
		d, err := e.Check(q.s, q.perm, q.r, now)
		if err != nil || d.Allowed != wants[j] {
			b.Fatalf("Check(%v, %s, %v) = %v, %v; want %v", q.s, q.perm, q.r, d.Allowed, err, wants[j])
		}
	}
	reportCPU(b, cpu)
	b.StopTimer()
	b.ReportMetric(100*float64(allowed)/float64(len(wants)), "%allowed")
}

// BenchmarkCheckFolderUniform: root.read on a uniform folder by a uniform
// user (mostly denied: most users read few folders).
func BenchmarkCheckFolderUniform(b *testing.B) {
	uniformQueries(b)
	runMixed(b, uniform.folder, uniform.folderWant)
	reportLatency(b, uniform.folder)
}

func BenchmarkCheckFolderUniformAllowed(b *testing.B) {
	uniformQueries(b)
	runQueries(b, uniform.folderAllowed, true)
	reportLatency(b, uniform.folderAllowed)
}

func BenchmarkCheckProjectUniform(b *testing.B) {
	uniformQueries(b)
	runMixed(b, uniform.project, uniform.projectWant)
	reportLatency(b, uniform.project)
}

func BenchmarkCheckProjectUniformAllowed(b *testing.B) {
	uniformQueries(b)
	runQueries(b, uniform.projectAllowed, true)
	reportLatency(b, uniform.projectAllowed)
}

// Batches of 1,000 checks, as POST /api/v1/check/batch answers them (one
// Check each, on one state): typical (the typical users' allowed and
// denied folder checks and the project set, interleaved) and uniform
// (uniform users over uniform folders and projects). checks/s is per
// process: the server answers two batches at once on two cores.
// (Resolving each distinct subject of a batch once, through a map of the
// batch's subjects, was measured slower: the map costs what the id index
// lookup it saves costs; docs/benchmarks.md.)
const batchSize = 1000

func batchSets(b *testing.B) map[string][]query {
	uniformQueries(b)
	var typical, uni []query
	proj := projQueries(true)
	for i := 0; len(typical) < 8*batchSize; i++ {
		typical = append(typical, large.folderAllowed[i%len(large.folderAllowed)],
			large.folderDenied[i%len(large.folderDenied)], proj[i%len(proj)])
	}
	// The uniform batches span every uniform query (131 batches), so that
	// what they read is not in cache when they are asked again.
	for i := range uniform.folder {
		uni = append(uni, uniform.folder[i], uniform.project[i%len(uniform.project)])
	}
	return map[string][]query{"typical": typical[:8*batchSize], "uniform": uni[:len(uni)/batchSize*batchSize]}
}

func BenchmarkCheckBatch(b *testing.B) {
	sets := batchSets(b)
	for _, set := range []string{"typical", "uniform"} {
		for _, ahead := range []bool{false, true} {
			name := set
			if ahead {
				name += "/prefetch"
			}
			b.Run(name, func(b *testing.B) { runBatches(b, sets[set], ahead) })
		}
	}
}

// runBatches answers qs in batches of batchSize, as the service does,
// with a Prefetcher's prefetches or without.
func runBatches(b *testing.B, qs []query, ahead bool) {
	e, now := large.e, enginegen.Now
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchtest.ProcessCPU()
	for i := 0; i < b.N; i++ {
		batch := qs[(i*batchSize)%len(qs):][:batchSize]
		at := func(j int) (Subject, Resource, bool) { return batch[j].s, batch[j].r, true }
		pf := e.Prefetcher()
		for j := range batch {
			if ahead {
				pf.Before(j, len(batch), at)
			}
			q := &batch[j]
			if _, err := e.Check(q.s, q.perm, q.r, now); err != nil {
				b.Fatal(err)
			}
		}
	}
	if end := benchtest.ProcessCPU(); end > 0 {
		b.ReportMetric(float64(b.N*batchSize)/(end-cpu).Seconds(), "checks/cpu-s")
	}
	b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "checks/s")
}
