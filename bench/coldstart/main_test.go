package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/internal/testserver"
)

// TestSmall runs the program on a small data set with the gatehouse binary
// of this module, on SQLite and on PostgreSQL, and checks that every start
// was measured. It asserts no timing: the machine is shared.
func TestSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var log strings.Builder
	bin, err := testserver.Build(ctx, t.TempDir(), &log)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, log.String())
	}
	small := config{binaries: []string{bin}, rounds: 2, users: 300, groups: 20, perUser: 3, folders: 500}
	t.Run("sqlite", func(t *testing.T) { startsMeasured(ctx, t, small) })
	t.Run("postgres", func(t *testing.T) {
		cfg := small
		cfg.postgres, cfg.pgDSN = true, pgtest.NewDatabase(t)
		startsMeasured(ctx, t, cfg)
	})
}

func startsMeasured(ctx context.Context, t *testing.T, cfg config) {
	bin := cfg.binaries[0]
	res, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := res[bin]; len(got) != cfg.rounds {
		t.Fatalf("%d samples, want %d", len(got), cfg.rounds)
	}
	for _, s := range res[bin] {
		if s.ready <= 0 || s.rssMB <= 0 || s.hwmMB < s.rssMB {
			t.Errorf("sample %+v: want a start time, a resident size and a peak at least as large", s)
		}
	}
}
