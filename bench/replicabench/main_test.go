package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
)

// TestQuick runs the program's short mode end to end on a fresh
// PostgreSQL database and checks that it measured every figure. It
// asserts no timing: the machine is shared.
func TestQuick(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	cfg, err := parseFlags([]string{"-quick", "-pg-dsn", dsn}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	// A bound against a hang, not a speed check: a machine busy with other
	// builds took more than 150 s.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out strings.Builder
	rep, err := run(ctx, cfg, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	if rep.Users != cfg.users || rep.Groups != cfg.groups || rep.Memberships != 2*cfg.users {
		t.Errorf("seeded %d users, %d groups, %d memberships; want %d, %d, %d", rep.Users, rep.Groups, rep.Memberships, cfg.users, cfg.groups, 2*cfg.users)
	}
	if len(rep.Checks) != cfg.replicas {
		t.Fatalf("%d check load points, want one per replica count (%d)", len(rep.Checks), cfg.replicas)
	}
	for i, p := range rep.Checks {
		if p.Replicas != i+1 || p.Requests == 0 || p.PerSecond <= 0 || p.P50 <= 0 || p.P99 < p.P50 || p.Errors != 0 {
			t.Errorf("check load point %d measured nothing sensible: %+v", i, p)
		}
	}
	l := rep.Lag
	if l.Samples != cfg.writes*(cfg.replicas-1) || l.P99 < l.P50 || l.Max < l.P99 || l.Write50 <= 0 {
		t.Errorf("lag: %+v; want %d samples and ordered percentiles", l, cfg.writes*(cfg.replicas-1))
	}
	for _, s := range []string{"checks/s", "replication lag", "p99"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the printed report lacks %q", s)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-users", "1"}, {"-replicas", "1"}, {"-conc", "0"}, {"-write-rate", "0"}, {"-dur", "0s"}, {"extra"}} {
		if _, err := parseFlags(args, &strings.Builder{}); err == nil {
			t.Errorf("parseFlags(%q) accepted bad input", args)
		}
	}
	cfg, err := parseFlags([]string{"-quick", "-writes", "7"}, &strings.Builder{})
	if err != nil || cfg.writes != 7 || cfg.users != 40 || cfg.dur >= time.Second {
		t.Errorf("-quick with -writes 7: %+v, %v; want the flag set on the command line to win", cfg, err)
	}
}
