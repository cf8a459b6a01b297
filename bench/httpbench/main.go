// Command httpbench measures Gatehouse's REST API over loopback HTTP:
// single-check throughput and latency against a trivial endpoint on the
// same server, batch-check throughput, and membership adds through the
// API, on SQLite and on PostgreSQL, with the engine's synthetic data set
// (internal/engine/enginegen, seed 1) seeded through the store.
//
// The server runs in this process (the wiring of cmd/gatehouse serve, on
// 127.0.0.1:0), and so does the load generator: on a 2-core machine they
// share the cores whichever way they are arranged, and the check endpoint
// and the trivial one are measured the same way in the same run, so their
// ratio is fair. Every run is bounded: a fixed number of load points of
// fixed duration, a fixed number of writes.
//
// With -floor the single check is measured instead on built gatehouse
// binaries, each in its own process, in turns with a trivial handler in
// a process of its own (the floor); given two or more binaries (-binary
// a,b), their batches are compared in turns too.
//
//	go run ./bench/httpbench -size large -db sqlite,postgres
//	go run ./bench/httpbench -quick      # a few seconds, proves it works
//
// See docs/benchmarks.md ("HTTP API") for the figures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/benchdb"
)

func main() {
	if os.Getenv(floorEnv) != "" {
		if err := serveFloor(); err != nil {
			fmt.Fprintln(os.Stderr, "httpbench floor:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if cfg.cpuProfile != "" {
		// The profile covers server and load generator alike (one
		// process); it is how docs/benchmarks.md attributes the time.
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "httpbench:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "httpbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(1)
	}
	if cfg.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(cfg.jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "httpbench:", err)
			os.Exit(1)
		}
	}
}

// config is what the flags set.
type config struct {
	size       string   // small or large
	dbs        []string // sqlite, postgres
	pgServer   string   // a PostgreSQL server where a scratch database is created
	pgDSN      string   // or a ready, empty database to use as is
	dur        time.Duration
	warmup     time.Duration
	rounds     int
	conc       []int
	batchConc  []int
	batchSize  int
	adds       int
	addConc    []int
	jsonOut    string
	cpuProfile string
	floor      bool     // compare the gatehouse binary with the floor process, instead of the in-process sweep
	floorConc  []int    // concurrencies of the floor comparison
	binaries   []string // built gatehouse binaries for -floor (else cmd/gatehouse is built)
	uniform    bool     // checks about users drawn over the whole data set, not the typical users
}

func parseFlags(args []string, errw io.Writer) (config, error) {
	fs := flag.NewFlagSet("httpbench", flag.ContinueOnError)
	fs.SetOutput(errw)
	var cfg config
	var dbs, conc, batchConc, addConc, floorConc, binaryList string
	quick := fs.Bool("quick", false, "a short run for tests: small data set, SQLite, short load points, few writes")
	fs.StringVar(&cfg.size, "size", "small", "data set: small (enginegen.Small, seconds to seed) or large (enginegen.Large: 100k users, 1M memberships; ~1 min to seed on SQLite, 2-3 on PostgreSQL)")
	fs.StringVar(&dbs, "db", "sqlite", "comma-separated databases: sqlite, postgres")
	fs.StringVar(&cfg.pgServer, "pg", benchdb.Server(),
		"PostgreSQL server on which a scratch database is created and dropped (env GATEHOUSE_TEST_POSTGRES)")
	fs.StringVar(&cfg.pgDSN, "pg-dsn", "", "use this empty PostgreSQL database instead of creating one")
	fs.DurationVar(&cfg.dur, "dur", 2*time.Second, "measured time per endpoint and load point")
	fs.DurationVar(&cfg.warmup, "warmup", 100*time.Millisecond, "unmeasured time before each measured slice")
	fs.IntVar(&cfg.rounds, "rounds", 4, "slices per single-check load point, the endpoints taking turns")
	fs.StringVar(&conc, "conc", "1,2,4,8,16,32,64", "concurrencies of the single-check sweep")
	fs.StringVar(&batchConc, "batch-conc", "1,2,4", "concurrencies of the batch-check sweep")
	fs.IntVar(&cfg.batchSize, "batch", 1000, "checks per batch (the API's maximum is 1000)")
	fs.IntVar(&cfg.adds, "adds", 2000, "membership adds per concurrency (one user per request)")
	fs.StringVar(&addConc, "add-conc", "1,4", "concurrencies of the membership adds")
	fs.StringVar(&cfg.jsonOut, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.BoolVar(&cfg.floor, "floor", false, "instead of the in-process single-check sweep, run the gatehouse binary and the floor (a trivial net/http JSON handler) as processes of their own and compare them in turns")
	fs.StringVar(&floorConc, "floor-conc", "1,4,16,64", "concurrencies of the -floor comparison")
	fs.BoolVar(&cfg.uniform, "uniform", false, "ask about users drawn uniformly over the whole data set instead of its 16 typical users")
	fs.StringVar(&binaryList, "binary", "", "for -floor: comma-separated built gatehouse binaries, compared in turns, their single checks with the floor and, for two or more, their batches with each other (default: build cmd/gatehouse)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		// Set explicitly on the command line wins over -quick's defaults.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("size", func() { cfg.size = "small" })
		def("dur", func() { cfg.dur = 300 * time.Millisecond })
		def("warmup", func() { cfg.warmup = 50 * time.Millisecond })
		def("rounds", func() { cfg.rounds = 2 })
		def("conc", func() { conc = "1,4" })
		def("floor-conc", func() { floorConc = "1,4" })
		def("batch-conc", func() { batchConc = "1" })
		def("adds", func() { cfg.adds = 50 })
		def("add-conc", func() { addConc = "1" })
	}
	if cfg.size != "small" && cfg.size != "large" {
		return cfg, fmt.Errorf("-size %q: want small or large", cfg.size)
	}
	for _, d := range strings.Split(dbs, ",") {
		d = strings.TrimSpace(d)
		if d != "sqlite" && d != "postgres" {
			return cfg, fmt.Errorf("-db %q: want sqlite, postgres or both, comma-separated", d)
		}
		cfg.dbs = append(cfg.dbs, d)
	}
	var err error
	if cfg.conc, err = ints("conc", conc); err != nil {
		return cfg, err
	}
	if cfg.batchConc, err = ints("batch-conc", batchConc); err != nil {
		return cfg, err
	}
	if cfg.addConc, err = ints("add-conc", addConc); err != nil {
		return cfg, err
	}
	if cfg.floorConc, err = ints("floor-conc", floorConc); err != nil {
		return cfg, err
	}
	if binaryList != "" {
		cfg.binaries = strings.Split(binaryList, ",")
	}
	if cfg.batchSize < 1 || cfg.batchSize > 1000 {
		return cfg, fmt.Errorf("-batch %d: want 1 to 1000", cfg.batchSize)
	}
	if cfg.dur <= 0 || cfg.adds < 1 || cfg.rounds < 1 {
		return cfg, fmt.Errorf("-dur, -rounds and -adds must be positive")
	}
	return cfg, nil
}

func ints(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("-%s %q: want comma-separated integers from 1 to 1024", name, s)
		}
		out = append(out, n)
	}
	return out, nil
}
