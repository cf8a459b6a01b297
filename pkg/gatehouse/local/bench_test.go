package local

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/benchtest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/enginegen"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// replicaOf is a ready replica holding snap, as New leaves one after its
// first load, without a server (for benchmarks and tests of the
// in-process answers).
func replicaOf(tb testing.TB, snap *domain.Snapshot) *Replica {
	tb.Helper()
	e, err := engine.New(snap)
	if err != nil {
		tb.Fatal(err)
	}
	r := &Replica{opts: Options{AtLeastWait: DefaultAtLeastWait, Now: func() time.Time { return enginegen.Now }},
		log: slog.New(slog.DiscardHandler), advance: make(chan struct{}), done: make(chan struct{})}
	r.eng.Store(e)
	r.ready.Store(true)
	r.heardAt.Store(time.Now().UnixNano())
	return r
}

// questions are n checks of random users on random folders (root.read)
// and projects (project.read), as an application asks them.
func questions(d *enginegen.Data, n int, seed uint64) []gatehouse.CheckRequest {
	rnd := rand.New(rand.NewPCG(seed, 22))
	users, folders := d.UniformUsers(seed, 4096), d.AllFolders()
	qs := make([]gatehouse.CheckRequest, n)
	for i := range qs {
		q := gatehouse.CheckRequest{Subject: gatehouse.User(users[rnd.IntN(len(users))]), Permission: "root.read",
			Resource: gatehouse.Folder(folders[rnd.IntN(len(folders))])}
		if i%4 == 3 {
			p := d.Snapshot.Projects[rnd.IntN(len(d.Snapshot.Projects))]
			q.Permission, q.Resource = "project.read", gatehouse.Project(p.ID)
		}
		qs[i] = q
	}
	return qs
}

// TestLocalCheckAllocatesNothing: a check answered in process allocates
// nothing, allowed or denied, on a folder or a project, with or without
// an AtLeast the replica has reached.
func TestLocalCheckAllocatesNothing(t *testing.T) {
	d := enginegen.Generate(1, enginegen.Small())
	r := replicaOf(t, d.Snapshot)
	ctx := context.Background()
	qs := questions(d, 256, 1)
	allowed := 0
	for i := range qs {
		dec, err := r.Check(ctx, qs[i])
		if err != nil {
			t.Fatal(err)
		}
		if dec.Allowed {
			allowed++
		}
		qs[i].AtLeast = int64(i % 2) // revision 1 is the snapshot's
	}
	if allowed == 0 || allowed == len(qs) {
		t.Fatalf("%d of %d allowed: the sample should hold both answers", allowed, len(qs))
	}
	i := 0
	if n := testing.AllocsPerRun(2000, func() {
		_, _ = r.Check(ctx, qs[i%len(qs)])
		i++
	}); n != 0 {
		t.Errorf("a local check allocates %.1f times; want 0", n)
	}
}

var large struct {
	once sync.Once
	data *enginegen.Data
	r    *Replica
	qs   []gatehouse.CheckRequest
}

func largeReplica(b *testing.B) {
	large.once.Do(func() {
		large.data = enginegen.Generate(1, enginegen.Large())
		large.r = replicaOf(b, large.data.Snapshot)
		large.qs = questions(large.data, 1<<14, 2)
	})
}

// BenchmarkLocalCheck: Check through the SDK's local mode on the large
// data set (100,000 users, 1,000,000 memberships, 100,000 folders), random
// users on random folders and projects; reports allocations and the p50
// and p99 of single checks.
func BenchmarkLocalCheck(b *testing.B) {
	largeReplica(b)
	r, qs, ctx := large.r, large.qs, context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Check(ctx, qs[i%len(qs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	lat := make([]time.Duration, 20000)
	for i := range lat {
		t := time.Now()
		_, _ = r.Check(ctx, qs[i%len(qs)])
		lat[i] = time.Since(t)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkEngineCheckSameQuestions asks BenchmarkLocalCheck's questions
// of the engine directly (parsed beforehand), to tell the SDK's share of
// a local check from the engine's on a machine too loaded for absolute
// figures: run the two in turns.
func BenchmarkEngineCheckSameQuestions(b *testing.B) {
	largeReplica(b)
	e, now := large.r.eng.Load(), enginegen.Now
	type query struct {
		s    engine.Subject
		perm string
		r    engine.Resource
	}
	qs := make([]query, len(large.qs))
	for i, q := range large.qs {
		res, err := engine.ParseResource(q.Resource)
		if err != nil {
			b.Fatal(err)
		}
		qs[i] = query{engine.Subject{UserID: strings.TrimPrefix(q.Subject, "user:")}, q.Permission, res}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := &qs[i%len(qs)]
		if _, err := e.Check(q.s, q.perm, q.r, now); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	lat := make([]time.Duration, 20000)
	for i := range lat {
		q := &qs[i%len(qs)]
		t := time.Now()
		_, _ = e.Check(q.s, q.perm, q.r, now)
		lat[i] = time.Since(t)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// loadEnv names the snapshot file TestSnapshotLoadLarge's child process
// loads.
const loadEnv = "GATEHOUSE_LOCAL_LOAD_FILE"

// TestSnapshotLoadLarge (GATEHOUSE_LOCAL_LOAD=1): the large data set's
// replica snapshot (1,000,000 memberships) is encoded to a file, then a
// fresh process loads it as a replica does (indexSnapshot: decoding and
// indexing at once) and reports
// the time and its peak resident memory (VmHWM), which nothing else in
// that process inflates.
func TestSnapshotLoadLarge(t *testing.T) {
	if file := os.Getenv(loadEnv); file != "" {
		loadChild(t, file)
		return
	}
	if os.Getenv("GATEHOUSE_LOCAL_LOAD") == "" {
		t.Skip("set GATEHOUSE_LOCAL_LOAD=1 to measure the load of a 1,000,000-membership snapshot")
	}
	d := enginegen.Generate(1, enginegen.Large())
	var buf bytes.Buffer
	if err := domain.EncodeReplicaSnapshot(&buf, d.Snapshot); err != nil {
		t.Fatal(err)
	}
	file := t.TempDir() + "/large.ghrepl"
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot: %d memberships, %d users, %d folders, %.1f MB encoded", len(d.Snapshot.Memberships), len(d.Snapshot.Users), len(d.Snapshot.Folders), float64(buf.Len())/1e6)
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSnapshotLoadLarge$", "-test.v")
		cmd.Env = append(os.Environ(), loadEnv+"="+file)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "loaded") {
				t.Logf("round %d: %s", round+1, strings.TrimSpace(line))
			}
		}
	}
}

// loadChild loads the snapshot file and logs the time and peak memory.
func loadChild(t *testing.T, file string) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start, cpu := time.Now(), benchtest.ProcessCPU()
	e, err := indexSnapshot(bufio.NewReaderSize(f, 1<<20)) // the replica's own load: decoding and indexing at once
	took, cpu := time.Since(start), benchtest.ProcessCPU()-cpu
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("loaded revision %d in %v (CPU %v); peak resident %s, heap in use after GC %.0f MB",
		e.Revision(), took.Round(time.Millisecond), cpu.Round(time.Millisecond), vmHWM(), float64(ms.HeapInuse)/1e6)
	runtime.KeepAlive(e)
}

// vmHWM is the process's peak resident set size, from /proc.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.Join(strings.Fields(line)[1:], " ")
		}
	}
	return "unknown"
}
