package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/testserver"
)

// The floor comparison (-floor): the real gatehouse binary, serving the
// seeded database in a process of its own, against the floor, a trivial
// net/http JSON handler (trivialCheck) in another process of its own, both
// driven by this process's load generator in turns. In-process figures
// flatter neither side here: each request crosses between processes, as
// an application's would.

// floorEnv, set in the environment, makes this program the floor process:
// it serves trivialCheck on 127.0.0.1 and prints its URL on stdout.
const floorEnv = "HTTPBENCH_FLOOR"

// floorLine prefixes the line that gives the floor's URL.
const floorLine = "floor serving url="

// serveFloor is the floor process's whole life: serve until stdin closes
// (the parent ended or closed it), so a floor never outlives its parent.
func serveFloor() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+trivialPath, trivialCheck)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(quiet.Handler(), slog.LevelWarn)}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = srv.Close()
	}()
	fmt.Printf("%shttp://%s\n", floorLine, ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// floorProc is a running floor process.
type floorProc struct {
	url   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startFloor runs this program's own executable as the floor process.
func startFloor(ctx context.Context) (*floorProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), floorEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &floorProc{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, floorLine) {
		p.stop()
		return nil, fmt.Errorf("the floor process did not start (%q, %v): %s", line, err, stderr.String())
	}
	p.url = strings.TrimSpace(strings.TrimPrefix(line, floorLine))
	return p, nil
}

// stop closes the floor's stdin, which ends it, and kills it if it has not
// exited within 5 s.
func (p *floorProc) stop() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// floorPoint is one concurrency of the floor comparison.
type floorPoint struct {
	Binary      string  `json:"binary"`
	Concurrency int     `json:"concurrency"`
	Check       result  `json:"check"` // the gatehouse process, bearer token, rounds pooled
	Floor       result  `json:"floor"`
	Ratio       float64 `json:"ratio"`     // pooled: check req/s / floor req/s
	RatioMin    float64 `json:"ratio_min"` // over the rounds, each a check slice and the floor slice of the same round
	RatioMax    float64 `json:"ratio_max"`
	P50Ratio    float64 `json:"p50_ratio"` // check p50 / floor p50 (pooled); the issue asks <= 1.2 at c=1
	// CPURatio is the floor's server CPU per request over the check's
	// (pooled): 1 when a check costs its server what the floor costs.
	CPURatio float64 `json:"cpu_ratio"`
}

func (f floorPoint) String() string {
	return fmt.Sprintf("%s c=%-3d check %6.0f/s p50 %-6v cpu %-6v floor %6.0f/s p50 %-6v cpu %-6v ratio %.2f (%.2f-%.2f), p50 ratio %.2f, cpu ratio %.2f",
		filepath.Base(f.Binary), f.Concurrency, f.Check.PerSecond, f.Check.P50.Round(time.Microsecond), f.Check.CPUPerReq.Round(100*time.Nanosecond),
		f.Floor.PerSecond, f.Floor.P50.Round(time.Microsecond), f.Floor.CPUPerReq.Round(100*time.Nanosecond), f.Ratio, f.RatioMin, f.RatioMax, f.P50Ratio, f.CPURatio)
}

// launchGatehouse starts `gatehouse serve` from bin on the seeded
// database; the returned func stops it.
func launchGatehouse(ctx context.Context, bin, dsn string) (*testserver.Server, func(), error) {
	s, err := testserver.Launch(ctx, testserver.Options{Binary: bin, Name: bin, LogLimit: 1 << 16, StartTimeout: 10 * time.Minute,
		Env:  []string{"GATEHOUSE_ADMIN_PASSWORD=" + benchPassword},
		Args: []string{"--db", dsn}})
	if err != nil {
		return nil, nil, err
	}
	return s, func() { _ = s.Terminate(30 * time.Second) }, nil
}

// binaries are cfg.binaries, or cmd/gatehouse built into a temporary
// directory that the returned func removes.
func binaries(ctx context.Context, cfg config) ([]string, func(), error) {
	if len(cfg.binaries) > 0 {
		return cfg.binaries, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "httpbench-bin")
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	bin, err := testserver.Build(ctx, dir, &out)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("building gatehouse (or pass -binary): %v\n%s", err, out.String())
	}
	return []string{bin}, func() { os.RemoveAll(dir) }, nil
}

// floorCompare measures each gatehouse binary's single check against the
// floor process at each concurrency of cfg.floorConc, all taking turns
// (binary 1, binary 2, ..., floor; the next round starting one later) in
// cfg.rounds rounds, so that two builds (before and after a change) meet
// the same neighbours' load.
func floorCompare(ctx context.Context, cfg config, dsn, token string, bodies, batches [][]byte, out io.Writer) ([]floorPoint, []batchPoint, error) {
	bins, cleanup, err := binaries(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	var targets, batchTargets []target
	var logs []func() string
	for _, bin := range bins {
		gh, stop, err := launchGatehouse(ctx, bin, dsn)
		if err != nil {
			return nil, nil, err
		}
		defer stop()
		targets = append(targets, target{gh.URL + "/api/v1/check", token, bodies, gh.Pid()})
		batchTargets = append(batchTargets, target{gh.URL + "/api/v1/check/batch", token, batches, gh.Pid()})
		logs = append(logs, gh.Log)
	}
	withLogs := func(err error) error {
		for _, l := range logs {
			err = fmt.Errorf("%w\n%s", err, l())
		}
		return err
	}
	fl, err := startFloor(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer fl.stop()
	targets = append(targets, target{fl.url + trivialPath, "", bodies, fl.cmd.Process.Pid})
	fmt.Fprintf(out, "floor comparison: gatehouse serve (own process, bearer token) vs a trivial net/http JSON handler (own process),\n"+
		"same load generator, taking turns in %d rounds of %v per point:\n", cfg.rounds, cfg.dur/time.Duration(cfg.rounds))
	var pts []floorPoint
	for _, c := range cfg.floorConc {
		pooled, rounds, err := compareRounds(ctx, targets, c, cfg.rounds, cfg.warmup, cfg.dur)
		if err != nil {
			return nil, nil, withLogs(err)
		}
		for b, bin := range bins {
			p := pointOf(bin, b, pooled, rounds)
			pts = append(pts, p)
			fmt.Fprintf(out, "  %s\n", p)
		}
	}
	bps, err := batchCompare(ctx, cfg, bins, batchTargets, out)
	if err != nil {
		return nil, nil, withLogs(err)
	}
	return pts, bps, nil
}

// batchPoint is one binary's batch throughput at one concurrency, its
// rounds pooled, with the range of the rounds.
type batchPoint struct {
	Binary      string  `json:"binary"`
	Concurrency int     `json:"concurrency"`
	Checks      float64 `json:"checks_per_second"` // pooled
	ChecksMin   float64 `json:"checks_per_second_min"`
	ChecksMax   float64 `json:"checks_per_second_max"`
}

func (b batchPoint) String() string {
	return fmt.Sprintf("%s c=%-3d %8.0f checks/s (%.0f-%.0f)", filepath.Base(b.Binary), b.Concurrency, b.Checks, b.ChecksMin, b.ChecksMax)
}

// batchCompare measures the binaries' batch checks at each concurrency
// of cfg.batchConc, taking turns in cfg.rounds rounds as the single
// checks do, so that two builds' batches meet the same neighbours' load.
// With one binary it measures nothing: the in-process server's batch
// sweep follows.
func batchCompare(ctx context.Context, cfg config, bins []string, targets []target, out io.Writer) ([]batchPoint, error) {
	if len(bins) < 2 {
		return nil, nil
	}
	fmt.Fprintf(out, "batch check of each binary (%d checks per call), taking turns in %d rounds of %v per point:\n",
		cfg.batchSize, cfg.rounds, cfg.dur/time.Duration(cfg.rounds))
	var pts []batchPoint
	for _, c := range cfg.batchConc {
		pooled, rounds, err := compareRounds(ctx, targets, c, cfg.rounds, cfg.warmup, cfg.dur)
		if err != nil {
			return nil, err
		}
		for b, bin := range bins {
			per := float64(cfg.batchSize)
			p := batchPoint{Binary: bin, Concurrency: c, Checks: pooled[b].PerSecond * per}
			p.ChecksMin, p.ChecksMax = rangeOf(rounds, func(r []result) float64 { return r[b].PerSecond * per })
			pts = append(pts, p)
			fmt.Fprintf(out, "  %s\n", p)
		}
	}
	return pts, nil
}

// pointOf is binary b's point of a comparison whose last target is the
// floor.
func pointOf(bin string, b int, pooled []result, rounds [][]result) floorPoint {
	f := len(pooled) - 1
	p := floorPoint{Binary: bin, Concurrency: pooled[b].Concurrency, Check: pooled[b], Floor: pooled[f],
		Ratio: pooled[b].PerSecond / pooled[f].PerSecond, P50Ratio: float64(pooled[b].P50) / float64(pooled[f].P50)}
	if pooled[b].CPUPerReq > 0 {
		p.CPURatio = float64(pooled[f].CPUPerReq) / float64(pooled[b].CPUPerReq)
	}
	p.RatioMin, p.RatioMax = rangeOf(rounds, func(r []result) float64 { return r[b].PerSecond / r[f].PerSecond })
	return p
}

// rangeOf is the least and the greatest of a figure over the rounds.
func rangeOf(rounds [][]result, figure func([]result) float64) (lo, hi float64) {
	for i, r := range rounds {
		x := figure(r)
		if i == 0 || x < lo {
			lo = x
		}
		hi = max(hi, x)
	}
	return lo, hi
}
