package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/testserver"
)

// TestMain lets the test binary be the floor process too, as the
// program's main does (the floor runs os.Executable).
func TestMain(m *testing.M) {
	if os.Getenv(floorEnv) != "" {
		if err := serveFloor(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// TestQuick runs the program's short mode end to end and checks that it
// measured every figure. It asserts no timing: the machine is shared.
func TestQuick(t *testing.T) {
	quickRun(t, "-quick")
}

// TestQuickPostgres does the same on PostgreSQL (skipped when no server
// is reachable, failed under CI=true, as pgtest decides).
func TestQuickPostgres(t *testing.T) {
	quickRun(t, "-quick", "-db", "postgres", "-pg-dsn", pgtest.NewDatabase(t))
}

// TestQuickFloor runs the floor comparison: the gatehouse binary (built
// here, which takes a while), twice as two builds would be, and the floor
// process, each in its own process; then the two binaries' batches in
// turns.
func TestQuickFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gatehouse binary")
	}
	var log strings.Builder
	bin, err := testserver.Build(context.Background(), t.TempDir(), &log)
	if err != nil {
		t.Fatalf("building gatehouse: %v\n%s", err, log.String())
	}
	r := quickRun(t, "-quick", "-floor", "-uniform", "-binary", bin+","+bin)
	if len(r.Floor) != 4 {
		t.Fatalf("%d floor points, want 4 (two binaries, c=1,4)", len(r.Floor))
	}
	for _, p := range r.Floor {
		for _, x := range []result{p.Check, p.Floor} {
			if x.Requests == 0 || x.PerSecond <= 0 || x.P50 <= 0 || x.P99 < x.P50 {
				t.Errorf("c=%d: a side measured nothing sensible: %+v", p.Concurrency, x)
			}
		}
		if p.Ratio <= 0 || p.RatioMin <= 0 || p.RatioMin > p.RatioMax || p.P50Ratio <= 0 {
			t.Errorf("c=%d: ratios %v (%v-%v), p50 %v: want positive, min <= max", p.Concurrency, p.Ratio, p.RatioMin, p.RatioMax, p.P50Ratio)
		}
	}
	if len(r.BinaryBatch) != 2 {
		t.Fatalf("%d batch points of the binaries, want 2 (two binaries, c=1)", len(r.BinaryBatch))
	}
	for _, p := range r.BinaryBatch {
		if p.Checks <= 0 || p.ChecksMin <= 0 || p.ChecksMin > p.ChecksMax {
			t.Errorf("batch c=%d: %v checks/s (%v-%v): want positive, min <= max", p.Concurrency, p.Checks, p.ChecksMin, p.ChecksMax)
		}
	}
}

func quickRun(t *testing.T, args ...string) dbReport {
	cfg, err := parseFlags(args, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out strings.Builder
	rep, err := run(ctx, cfg, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if len(rep.Databases) != 1 {
		t.Fatalf("%d database reports, want 1", len(rep.Databases))
	}
	r := rep.Databases[0]
	if r.Users == 0 || r.Members == 0 || r.Folders == 0 {
		t.Errorf("the data set was not seeded: %+v", r)
	}
	points := map[string][]result{"batch": r.Batch, "adds": r.Adds}
	want := map[string]int{"batch": len(cfg.batchConc), "adds": len(cfg.addConc)}
	if !cfg.floor { // else the floor comparison replaces the in-process sweep
		for name, rs := range map[string][]result{"check": r.Check, "trivial": r.Trivial, "anonymous": r.Anonymous} {
			points[name], want[name] = rs, len(cfg.conc)
		}
		for name, x := range map[string]result{"best check": r.BestCheck, "best trivial": r.BestTriv, "best anonymous": r.BestAnon} {
			points[name], want[name] = []result{x}, 1
		}
	}
	for name, rs := range points {
		if len(rs) != want[name] {
			t.Errorf("%s: %d load points, want %d", name, len(rs), want[name])
		}
		for _, x := range rs {
			if x.Requests == 0 || x.PerSecond <= 0 || x.P50 <= 0 || x.P99 < x.P50 {
				t.Errorf("%s: a load point measured nothing sensible: %+v", name, x)
			}
		}
	}
	for _, a := range r.Adds {
		if a.Requests != cfg.adds {
			t.Errorf("adds: %d requests, want %d", a.Requests, cfg.adds)
		}
	}
	if !cfg.floor && (r.Ratio <= 0 || r.AnonRatio <= 0) || r.BestChecks <= 0 {
		t.Errorf("ratio %v, anonymous ratio %v, batch checks/s %v: want all positive", r.Ratio, r.AnonRatio, r.BestChecks)
	}
	for _, s := range []string{"ratio", "checks/s", "membership adds"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the printed report lacks %q:\n%s", s, out.String())
		}
	}
	return r
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-size", "huge"}, {"-db", "mysql"}, {"-conc", "0"}, {"-batch", "1001"}, {"extra"}} {
		if _, err := parseFlags(args, &strings.Builder{}); err == nil {
			t.Errorf("parseFlags(%q) accepted bad input", args)
		}
	}
	cfg, err := parseFlags([]string{"-quick", "-adds", "7"}, &strings.Builder{})
	if err != nil || cfg.adds != 7 || cfg.size != "small" || cfg.dur >= time.Second {
		t.Errorf("-quick with -adds 7: %+v, %v; want the flag set on the command line to win", cfg, err)
	}
}

// Over n rounds every target is measured once a round and holds each
// place of the round once: no build is always measured first or always
// right after another's slice.
func TestTurnOrderGivesEveryTargetEveryPlace(t *testing.T) {
	for n := 1; n <= 4; n++ {
		places := make([]map[int]bool, n) // places[target] = the places it held
		for i := range places {
			places[i] = map[int]bool{}
		}
		for r := 0; r < n; r++ {
			order := turnOrder(n, r)
			seen := map[int]bool{}
			for place, target := range order {
				if target < 0 || target >= n || seen[target] {
					t.Fatalf("n=%d round %d: order %v is not each target once", n, r, order)
				}
				seen[target] = true
				places[target][place] = true
			}
			if len(order) != n {
				t.Fatalf("n=%d round %d: order %v, want %d targets", n, r, order, n)
			}
		}
		for target, held := range places {
			if len(held) != n {
				t.Errorf("n=%d: target %d held places %v over %d rounds, want every place once", n, target, held, n)
			}
		}
	}
}
