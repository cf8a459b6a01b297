// Command replicabench measures Gatehouse replicas on one PostgreSQL
// database: single-check throughput over HTTP with one, two and three
// replicas (the load spread round-robin over them), and replication lag
// under a steady write load (writes on replica A; how long until B and C,
// asked without a consistency token, answer at the write's revision).
//
// Each replica is a real `gatehouse serve` process (built from this
// module unless -binary names one) on 127.0.0.1; the load generator runs
// in this process. On a machine with few cores the replicas and the load
// generator share them, so more replicas add no CPU: the figures show the
// cost of the replica machinery, not a scale-out. Every run is bounded: a
// fixed time per load point, a fixed number of writes.
//
//	go run ./bench/replicabench                  # about a minute
//	go run ./bench/replicabench -quick           # a few seconds, proves it works
//
// See docs/benchmarks.md ("Replicas") for the figures.
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
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/benchdb"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "replicabench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replicabench:", err)
		os.Exit(1)
	}
	if cfg.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(cfg.jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "replicabench:", err)
			os.Exit(1)
		}
	}
}

// config is what the flags set.
type config struct {
	binary    string        // a gatehouse binary; empty builds one
	pgServer  string        // a PostgreSQL server where a scratch database is created
	pgDSN     string        // or a ready, empty database to use as is
	users     int           // users seeded
	groups    int           // groups seeded (each user in two)
	replicas  int           // the most replicas measured (1..n)
	dur       time.Duration // per check load point
	conc      int           // concurrent check requests
	writes    int           // writes of the lag measurement
	writeRate float64       // writes per second during the lag measurement
	jsonOut   string
}

func parseFlags(args []string, errw io.Writer) (config, error) {
	fs := flag.NewFlagSet("replicabench", flag.ContinueOnError)
	fs.SetOutput(errw)
	var cfg config
	quick := fs.Bool("quick", false, "a short run for tests: few users, short load points, few writes")
	fs.StringVar(&cfg.binary, "binary", "", "the gatehouse binary to run (default: go build ./cmd/gatehouse into a temporary directory)")
	fs.StringVar(&cfg.pgServer, "pg", benchdb.Server(),
		"PostgreSQL server on which a scratch database is created and dropped (env GATEHOUSE_TEST_POSTGRES)")
	fs.StringVar(&cfg.pgDSN, "pg-dsn", "", "use this empty PostgreSQL database instead of creating one")
	fs.IntVar(&cfg.users, "users", 2000, "users to seed (each in two groups)")
	fs.IntVar(&cfg.groups, "groups", 50, "groups to seed")
	fs.IntVar(&cfg.replicas, "replicas", 3, "measure checks with 1 up to this many replicas")
	fs.DurationVar(&cfg.dur, "dur", 10*time.Second, "measured time per check load point")
	fs.IntVar(&cfg.conc, "conc", 32, "concurrent check requests")
	fs.IntVar(&cfg.writes, "writes", 300, "writes of the replication-lag measurement")
	fs.Float64Var(&cfg.writeRate, "write-rate", 20, "writes per second during the replication-lag measurement")
	fs.StringVar(&cfg.jsonOut, "json", "", "also write the report as JSON to this file")
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
		def("users", func() { cfg.users = 40 })
		def("groups", func() { cfg.groups = 4 })
		def("dur", func() { cfg.dur = 500 * time.Millisecond })
		def("conc", func() { cfg.conc = 4 })
		def("writes", func() { cfg.writes = 20 })
		def("write-rate", func() { cfg.writeRate = 40 })
	}
	switch {
	case cfg.users < 2 || cfg.users > 100000:
		return cfg, fmt.Errorf("-users %d: want 2 to 100000", cfg.users)
	case cfg.groups < 2 || cfg.groups > 10000:
		return cfg, fmt.Errorf("-groups %d: want 2 to 10000", cfg.groups)
	case cfg.replicas < 2 || cfg.replicas > 8:
		return cfg, fmt.Errorf("-replicas %d: want 2 to 8 (the lag is measured on replicas other than the writer's)", cfg.replicas)
	case cfg.dur <= 0:
		return cfg, fmt.Errorf("-dur %v: want a positive duration", cfg.dur)
	case cfg.conc < 1 || cfg.conc > 1024:
		return cfg, fmt.Errorf("-conc %d: want 1 to 1024", cfg.conc)
	case cfg.writes < 1 || cfg.writes > 100000:
		return cfg, fmt.Errorf("-writes %d: want 1 to 100000", cfg.writes)
	case cfg.writeRate <= 0 || cfg.writeRate > 1000:
		return cfg, fmt.Errorf("-write-rate %v: want more than 0 and at most 1000 per second", cfg.writeRate)
	}
	return cfg, nil
}
