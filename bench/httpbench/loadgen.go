package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// result is one measured load point.
type result struct {
	Concurrency int           `json:"concurrency"`
	Requests    int           `json:"requests"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	PerSecond   float64       `json:"per_second"` // requests per second
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
	// CPUPerReq is the server process's CPU time (user and system) per
	// request while measured, for servers in a process of their own: on a
	// machine shared with others it moves far less than throughput does.
	CPUPerReq time.Duration `json:"cpu_per_request_ns,omitempty"`
}

func (r result) String() string {
	return fmt.Sprintf("c=%-3d %9.0f req/s  p50 %-9v p99 %-9v (%d requests)", r.Concurrency, r.PerSecond,
		r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Requests)
}

// newTransport gives each load point its own connection pool, sized to
// the concurrency so every worker keeps one keep-alive connection.
func newTransport(conc int) *http.Transport {
	return &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc,
		DisableCompression: true, IdleConnTimeout: 30 * time.Second}
}

// load drives conc workers sending POSTs to tg.url with tg.bodies in
// turn, for warmup and then for dur, and measures the timed part: the
// latencies, the time, and the server's CPU time when tg.pid names its
// process. Every answer must be 200; the first other answer stops the run
// with an error. Closed-loop: a worker sends its next request when the
// previous answer is read, so the latency is what a caller waits.
func load(ctx context.Context, tg target, conc int, warmup, dur time.Duration) ([]time.Duration, time.Duration, time.Duration, error) {
	url, token, bodies := tg.url, tg.token, tg.bodies
	tr := newTransport(conc)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	var (
		measuring atomic.Bool
		stop      atomic.Bool
		next      atomic.Int64
		timed     atomic.Int64 // answers read while measuring
		wg        sync.WaitGroup
		errOnce   sync.Once
		firstErr  error
	)
	lat := make([][]time.Duration, conc)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		stop.Store(true)
	}
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]time.Duration, 0, 1<<14)
			buf := make([]byte, 4096)
			for !stop.Load() && ctx.Err() == nil {
				i := int(next.Add(1)-1) % len(bodies)
				req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(bodies[i]))
				if err != nil {
					fail(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					return
				}
				// Read the whole answer: a caller cannot act before it has it.
				var b []byte
				if resp.StatusCode != 200 {
					b, _ = io.ReadAll(resp.Body)
				} else {
					_, err = io.CopyBuffer(io.Discard, resp.Body, buf)
				}
				resp.Body.Close()
				d := time.Since(t0)
				if resp.StatusCode != 200 || err != nil {
					fail(fmt.Errorf("POST %s: %d %v %s", url, resp.StatusCode, err, b))
					return
				}
				if measuring.Load() {
					own = append(own, d)
					timed.Add(1)
				}
			}
			lat[w] = own
		}()
	}
	time.Sleep(warmup)
	cpu0 := procCPU(tg.pid)
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(dur)
	// A machine busy with other work may not answer one request within
	// dur: the window stays open until one is answered (the client's
	// timeout bounds it), so a slow point is measured, not an error.
	for timed.Load() == 0 && !stop.Load() && ctx.Err() == nil && time.Since(t0) < 30*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	measuring.Store(false)
	elapsed := time.Since(t0)
	cpu1 := procCPU(tg.pid)
	stop.Store(true)
	wg.Wait()
	if firstErr != nil {
		return nil, 0, 0, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, 0, err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return nil, 0, 0, fmt.Errorf("POST %s: no request completed in %v", url, dur)
	}
	return all, elapsed, cpu1 - cpu0, nil
}

// target is one endpoint a load point measures.
type target struct {
	url, token string
	bodies     [][]byte
	pid        int // the server's process, if its own, else 0
}

// procCPU is the user and system CPU time process pid has used, read from
// /proc (Linux; 0 elsewhere, for pid 0, or on error).
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count the
	// fields after its closing parenthesis. utime and stime are fields
	// 14 and 15, in clock ticks (100 per second on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// compare measures the targets at one concurrency in rounds that take
// turns (A B C, B C A, C A B, ...), dur/rounds each, and sums each
// target's rounds. On a machine shared with others' builds and tests the
// load moves from second to second; taking turns in short slices lets
// every target see the same neighbours, so their ratio stays meaningful
// even when the absolute figures move. Each round starts one target
// later (turnOrder), so that no target always holds the same place in
// the round: measured with a fixed order, the build second in every
// round came out a few per cent behind the first even when the two were
// alike (docs/benchmarks.md, fourteenth session).
func compare(ctx context.Context, targets []target, conc, rounds int, warmup, dur time.Duration) ([]result, error) {
	pooled, _, err := compareRounds(ctx, targets, conc, rounds, warmup, dur)
	return pooled, err
}

// compareRounds is compare that also gives each round's results
// (perRound[round][target]), for the spread of the ratios.
func compareRounds(ctx context.Context, targets []target, conc, rounds int, warmup, dur time.Duration) (pooled []result, perRound [][]result, err error) {
	lat := make([][]time.Duration, len(targets))
	spent := make([]time.Duration, len(targets))
	cpu := make([]time.Duration, len(targets))
	for r := 0; r < rounds; r++ {
		round := make([]result, len(targets))
		for _, i := range turnOrder(len(targets), r) {
			l, el, c, err := load(ctx, targets[i], conc, warmup, dur/time.Duration(rounds))
			if err != nil {
				return nil, nil, err
			}
			lat[i] = append(lat[i], l...)
			spent[i] += el
			cpu[i] += c
			round[i] = result{Concurrency: conc, Requests: len(l), Elapsed: el, PerSecond: float64(len(l)) / el.Seconds(),
				CPUPerReq: c / time.Duration(len(l))}
		}
		perRound = append(perRound, round)
	}
	pooled = make([]result, len(targets))
	for i := range targets {
		pooled[i] = summarize(conc, lat[i], spent[i])
		pooled[i].CPUPerReq = cpu[i] / time.Duration(len(lat[i]))
	}
	return pooled, perRound, nil
}

// turnOrder is the order in which round r measures n targets: all of
// them, starting with target r mod n, so that over n rounds each target
// holds each place once.
func turnOrder(n, r int) []int {
	order := make([]int, n)
	for k := range order {
		order[k] = (r + k) % n
	}
	return order
}

// summarize turns latency samples over elapsed time into a result.
func summarize(conc int, lat []time.Duration, elapsed time.Duration) result {
	slices.Sort(lat)
	return result{Concurrency: conc, Requests: len(lat), Elapsed: elapsed, PerSecond: float64(len(lat)) / elapsed.Seconds(),
		P50: lat[len(lat)/2], P99: lat[len(lat)*99/100]}
}

// once sends each body exactly once, from conc workers, and measures the
// whole run: for writes, where every request must be a new change.
func once(ctx context.Context, url, token string, bodies [][]byte, conc int) (result, error) {
	tr := newTransport(conc)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		failed  error
	)
	lat := make([][]time.Duration, conc)
	t0 := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(bodies[i]))
				if err != nil {
					errOnce.Do(func() { failed = err })
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				s := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errOnce.Do(func() { failed = err })
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errOnce.Do(func() { failed = fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, b) })
					return
				}
				lat[w] = append(lat[w], time.Since(s))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if failed != nil {
		return result{}, failed
	}
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) != len(bodies) {
		return result{}, fmt.Errorf("POST %s: %d of %d requests completed", url, len(all), len(bodies))
	}
	return summarize(conc, all, elapsed), nil
}
