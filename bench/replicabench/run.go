package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/bench/internal/benchdb"
)

// report is what a run measured.
type report struct {
	Machine     string       `json:"machine"`
	Users       int          `json:"users"`
	Groups      int          `json:"groups"`
	Memberships int          `json:"memberships"`
	Checks      []checkPoint `json:"checks"`
	Lag         lagReport    `json:"lag"`
}

// checkPoint is single-check throughput with some replicas.
type checkPoint struct {
	Replicas  int     `json:"replicas"`
	Conc      int     `json:"concurrency"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	PerSecond float64 `json:"per_second"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
}

// lagReport is replication lag under a steady write load: for each write
// acknowledged by replica A, the time until each other replica answered,
// without a consistency token, at the write's revision or later.
type lagReport struct {
	Writes    int     `json:"writes"`
	Rate      float64 `json:"writes_per_second"`
	Followers int     `json:"followers"`
	Samples   int     `json:"samples"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	Write50   float64 `json:"write_p50_ms"`
	Write99   float64 `json:"write_p99_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func run(ctx context.Context, cfg config, out io.Writer) (*report, error) {
	rep := &report{Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())}
	bin := cfg.binary
	if bin == "" {
		b, cleanup, err := buildBinary(ctx)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		bin = b
	}
	dsn := cfg.pgDSN
	if dsn == "" {
		d, drop, err := benchdb.Scratch(ctx, cfg.pgServer)
		if err != nil {
			return nil, err
		}
		defer drop()
		dsn = d
	}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for i := 0; i < cfg.replicas; i++ {
		dir, err := os.MkdirTemp("", "replicabench-replica")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		p, err := startProc(ctx, bin, dsn, string(rune('A'+i)), dir)
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
	}
	fmt.Fprintf(out, "%d replicas on one PostgreSQL database; %s\n", len(procs), rep.Machine)

	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.conc + 4}}
	token, err := signIn(ctx, procs[0].URL)
	if err != nil {
		return nil, err
	}
	api := func(p *proc) *client { return &client{hc: hc, base: p.URL + "/api/v1", token: token} }
	d, err := seed(ctx, api(procs[0]), cfg)
	if err != nil {
		return nil, err
	}
	rep.Users, rep.Groups, rep.Memberships = len(d.users), len(d.groups), d.memberships
	fmt.Fprintf(out, "seeded %d users, %d groups, %d memberships, %d projects\n", rep.Users, rep.Groups, rep.Memberships, len(d.projects))
	// Let every replica follow the seeding before it is measured.
	if err := waitAll(ctx, procs, api, d, d.revision, 30*time.Second); err != nil {
		return nil, err
	}

	fmt.Fprintf(out, "\nsingle checks (POST /check), %d concurrent requests spread round-robin over the replicas, %v each:\n", cfg.conc, cfg.dur)
	for k := 1; k <= len(procs); k++ {
		var cs []*client
		for _, p := range procs[:k] {
			cs = append(cs, api(p))
		}
		pt, err := checkLoad(ctx, cs, d, cfg.conc, cfg.dur)
		if err != nil {
			return nil, err
		}
		rep.Checks = append(rep.Checks, pt)
		fmt.Fprintf(out, "  %d replica(s): %8.0f checks/s  p50 %6.2f ms  p99 %6.2f ms  (%d requests, %d errors)\n",
			k, pt.PerSecond, pt.P50, pt.P99, pt.Requests, pt.Errors)
	}

	var followers []*client
	for _, p := range procs[1:] {
		followers = append(followers, api(p))
	}
	lag, err := measureLag(ctx, api(procs[0]), followers, d, cfg.writes, cfg.writeRate)
	if err != nil {
		return nil, err
	}
	rep.Lag = lag
	fmt.Fprintf(out, "\nreplication lag: %d writes on A at %.0f/s; time from a write's answer until each of %d other replicas answers at its revision without a token:\n",
		lag.Writes, lag.Rate, lag.Followers)
	fmt.Fprintf(out, "  p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%d samples); the writes themselves: p50 %.2f ms  p99 %.2f ms\n",
		lag.P50, lag.P99, lag.Max, lag.Samples, lag.Write50, lag.Write99)
	return rep, nil
}

// client calls one replica's API with an API token.
type client struct {
	hc    *http.Client
	base  string
	token string
}

// do sends one request and decodes a JSON answer into out (when not nil);
// a status other than 2xx is an error. It returns the answer's revision
// (X-Gatehouse-Revision).
func (c *client) do(ctx context.Context, method, path string, body, out any) (int64, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	rev, _ := strconv.ParseInt(resp.Header.Get("X-Gatehouse-Revision"), 10, 64)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return rev, fmt.Errorf("%s %s: %v", method, path, err)
		}
	}
	return rev, nil
}

// signIn signs in as the administrator and makes an API token.
func signIn(ctx context.Context, base string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &client{hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}, base: base + "/api/v1"}
	if _, err := c.do(ctx, "POST", "/login", map[string]string{"username": "admin", "password": adminPassword}, nil); err != nil {
		return "", fmt.Errorf("signing in: %w", err)
	}
	var tok struct{ Secret string }
	if _, err := c.do(ctx, "POST", "/tokens", map[string]string{"name": "replicabench"}, &tok); err != nil || tok.Secret == "" {
		return "", fmt.Errorf("making an API token: %v", err)
	}
	return tok.Secret, nil
}

// data is what seed made.
type data struct {
	projects, groups, users []string
	memberships             int
	revision                int64
}

// seed creates projects, groups (group i reads project i%projects), and
// users, each in two groups, through the API of one replica.
func seed(ctx context.Context, c *client, cfg config) (*data, error) {
	d := &data{}
	var o struct{ ID string }
	for i := 0; i < 10; i++ {
		if _, err := c.do(ctx, "POST", "/projects", map[string]any{"name": fmt.Sprintf("P%d", i)}, &o); err != nil {
			return nil, err
		}
		d.projects = append(d.projects, o.ID)
	}
	for i := 0; i < cfg.groups; i++ {
		if _, err := c.do(ctx, "POST", "/groups", map[string]any{"name": fmt.Sprintf("G%d", i), "scope": "system"}, &o); err != nil {
			return nil, err
		}
		g := o.ID
		p := d.projects[i%len(d.projects)]
		if _, err := c.do(ctx, "POST", "/groups/"+g+"/projects/import", map[string]any{"project_ids": []string{p}}, nil); err != nil {
			return nil, err
		}
		if _, err := c.do(ctx, "PUT", "/groups/"+g+"/projects/"+p, map[string]any{"permissions": []string{"project.read"}}, nil); err != nil {
			return nil, err
		}
		d.groups = append(d.groups, g)
	}
	// Users without passwords (no password hashing to wait for), one
	// request at a time: with as many concurrent writes on one replica as
	// its PostgreSQL pool has connections, a write holding the revision
	// lock can wait for a connection that writers queued behind that lock
	// hold (a known deadlock, broken only by the request timeout; see
	// TestReplicaWritesBeyondPoolSize in test/e2e).
	for i := 0; i < cfg.users; i++ {
		var u struct{ ID string }
		if _, err := c.do(ctx, "POST", "/users", map[string]any{"username": fmt.Sprintf("user%06d", i), "email": fmt.Sprintf("user%06d@example.org", i)}, &u); err != nil {
			return nil, err
		}
		d.users = append(d.users, u.ID)
	}
	byGroup := make([][]map[string]string, len(d.groups))
	for i, u := range d.users {
		for _, g := range []int{i % len(d.groups), (i*7 + 1) % len(d.groups)} {
			byGroup[g] = append(byGroup[g], map[string]string{"user_id": u})
		}
	}
	for g, ms := range byGroup {
		for len(ms) > 0 {
			n := min(len(ms), 1000)
			rev, err := c.do(ctx, "POST", "/groups/"+d.groups[g]+"/members", map[string]any{"members": ms[:n]}, nil)
			if err != nil {
				return nil, err
			}
			d.memberships += n
			d.revision = max(d.revision, rev)
			ms = ms[n:]
		}
	}
	return d, nil
}

// revisionOf asks one cheap check without a token and returns the
// revision it was answered at.
func revisionOf(ctx context.Context, c *client, d *data) (int64, error) {
	return c.do(ctx, "POST", "/check", map[string]any{"permission": "project.read", "resource": "project:" + d.projects[0]}, nil)
}

// waitAll waits until every replica answers at revision rev or later.
func waitAll(ctx context.Context, procs []*proc, api func(*proc) *client, d *data, rev int64, within time.Duration) error {
	deadline := time.Now().Add(within)
	for _, p := range procs {
		for {
			r, err := revisionOf(ctx, api(p), d)
			if err == nil && r >= rev {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("replica %s did not reach revision %d within %v (at %d, %v)", p.name, rev, within, r, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// checkLoad runs conc workers sending single checks, spread round-robin
// over cs, for dur after a short unmeasured warm-up.
func checkLoad(ctx context.Context, cs []*client, d *data, conc int, dur time.Duration) (checkPoint, error) {
	warm := min(dur/5, 500*time.Millisecond)
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+dur)
	lats := make([][]time.Duration, conc)
	errs := make([]int, conc)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := w; ; i++ {
				t0 := time.Now()
				if t0.After(end) || ctx.Err() != nil {
					return
				}
				c := cs[i%len(cs)]
				body := map[string]any{"subject": "user:" + d.users[rng.IntN(len(d.users))], "permission": "project.read",
					"resource": "project:" + d.projects[rng.IntN(len(d.projects))]}
				_, err := c.do(ctx, "POST", "/check", body, nil)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					errs[w]++
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	var all []time.Duration
	pt := checkPoint{Replicas: len(cs), Conc: conc}
	for w := range lats {
		all = append(all, lats[w]...)
		pt.Errors += errs[w]
	}
	if len(all) == 0 {
		return pt, fmt.Errorf("no check succeeded with %d replicas: %v", len(cs), firstErr)
	}
	if pt.Errors > 0 {
		return pt, fmt.Errorf("%d checks failed with %d replicas, the first: %v", pt.Errors, len(cs), firstErr)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pt.Requests = len(all)
	pt.PerSecond = float64(len(all)) / dur.Seconds()
	pt.P50, pt.P99 = ms(pct(all, 50)), ms(pct(all, 99))
	return pt, nil
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p/100)]
}

// seen is when a follower was first seen answering at a revision.
type seen struct {
	at  time.Time
	rev int64
}

// measureLag writes on w at a steady rate (toggling one user's membership
// in the first group) while one watcher per follower polls it without a
// token, as fast as it answers, noting when each new revision first
// shows. A write's lag on a follower is the time from the write's answer
// to the first poll answered at its revision or later (0 when the
// follower had it before the writer's answer arrived).
func measureLag(ctx context.Context, w *client, followers []*client, d *data, writes int, rate float64) (lagReport, error) {
	rep := lagReport{Writes: writes, Rate: rate, Followers: len(followers)}
	stop := make(chan struct{})
	obs := make([][]seen, len(followers))
	errs := make([]error, len(followers))
	var wg sync.WaitGroup
	for i, f := range followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := revisionOf(ctx, f, d)
				now := time.Now()
				if err != nil {
					errs[i] = err
					return
				}
				if r > last {
					obs[i] = append(obs[i], seen{now, r})
					last = r
				}
				time.Sleep(500 * time.Microsecond)
			}
		}()
	}
	type ack struct {
		at  time.Time
		rev int64
	}
	var acks []ack
	var wlat []time.Duration
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	member := false
	user := d.users[len(d.users)-1]
	var werr error
	for i := 0; i < writes && werr == nil; i++ {
		<-tick.C
		t0 := time.Now()
		var rev int64
		if member {
			rev, werr = w.do(ctx, "POST", "/groups/"+d.groups[0]+"/members/remove", map[string]any{"user_ids": []string{user}}, nil)
		} else {
			rev, werr = w.do(ctx, "POST", "/groups/"+d.groups[0]+"/members", map[string]any{"members": []map[string]string{{"user_id": user}}}, nil)
		}
		member = !member
		now := time.Now()
		if werr == nil && rev == 0 {
			werr = fmt.Errorf("a write answered without X-Gatehouse-Revision")
		}
		acks = append(acks, ack{now, rev})
		wlat = append(wlat, now.Sub(t0))
	}
	tick.Stop()
	if werr != nil {
		close(stop)
		wg.Wait()
		return rep, werr
	}
	// Wait for the followers to show the last write (bounded).
	lastRev := acks[len(acks)-1].rev
	deadline := time.Now().Add(30 * time.Second)
	for _, f := range followers {
		for {
			r, err := revisionOf(ctx, f, d)
			if err == nil && r >= lastRev {
				break
			}
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				return rep, fmt.Errorf("a follower did not reach revision %d within 30s of the last write (at %d, %v)", lastRev, r, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(20 * time.Millisecond) // let the watchers note it too
	close(stop)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return rep, err
		}
	}
	var lags []time.Duration
	for i := range followers {
		o := obs[i]
		for _, a := range acks {
			j := sort.Search(len(o), func(k int) bool { return o[k].rev >= a.rev })
			if j == len(o) {
				return rep, fmt.Errorf("a follower never showed revision %d", a.rev)
			}
			lags = append(lags, max(0, o[j].at.Sub(a.at)))
		}
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	sort.Slice(wlat, func(i, j int) bool { return wlat[i] < wlat[j] })
	rep.Samples = len(lags)
	rep.P50, rep.P99, rep.Max = ms(pct(lags, 50)), ms(pct(lags, 99)), ms(lags[len(lags)-1])
	rep.Write50, rep.Write99 = ms(pct(wlat, 50)), ms(pct(wlat, 99))
	return rep, nil
}
