package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/local"
)

// faultyProxy stands between a replica and the server and breaks what
// the test asks it to: it cuts snapshots short, drops feed connections,
// reorders, drops or corrupts changes, answers 410, and can be pointed
// at a restarted server.
type faultyProxy struct {
	*httptest.Server
	mu     sync.Mutex
	target *url.URL
	// fault names what to break; "" passes everything.
	fault atomic.Value // string
	// hits counts the faults made.
	hits atomic.Int64
}

func newFaultyProxy(t *testing.T, target string) *faultyProxy {
	p := &faultyProxy{}
	p.setTarget(t, target)
	p.fault.Store("")
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			p.mu.Lock()
			r.SetURL(p.target)
			p.mu.Unlock()
		},
		ModifyResponse: p.modify,
		FlushInterval:  -1,
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.fault.Load() == "drop" && strings.HasSuffix(r.URL.Path, "/changes") {
			p.hits.Add(1)
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close() // the connection drops without an answer
					return
				}
			}
		}
		if p.fault.Load() == "gone" && strings.HasSuffix(r.URL.Path, "/changes") {
			p.hits.Add(1)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusGone)
			_, _ = io.WriteString(w, `{"status":410,"kind":"gone","detail":"pruned","oldest":999999}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *faultyProxy) setTarget(t *testing.T, target string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.target = u
	p.mu.Unlock()
}

// modify breaks an answer passing through.
func (p *faultyProxy) modify(res *http.Response) error {
	fault := p.fault.Load().(string)
	path := res.Request.URL.Path
	switch {
	case fault == "truncate" && strings.HasSuffix(path, "/replica/snapshot") && res.StatusCode == 200:
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		p.hits.Add(1)
		res.Body = io.NopCloser(bytes.NewReader(b[:len(b)*2/3]))
		res.ContentLength = -1
		res.Header.Del("Content-Length")
	case (fault == "reorder" || fault == "skip" || fault == "corrupt") && strings.HasSuffix(path, "/changes") && res.StatusCode == 200:
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		var page struct {
			Changes []map[string]any `json:"changes"`
			Next    int64            `json:"next"`
		}
		if err := json.Unmarshal(b, &page); err == nil && len(page.Changes) >= 1 {
			p.hits.Add(1)
			switch {
			case fault == "reorder" && len(page.Changes) >= 2:
				page.Changes[0], page.Changes[1] = page.Changes[1], page.Changes[0]
			case fault == "reorder":
				page.Changes[0]["revision"] = page.Changes[0]["revision"].(float64) + 1
			case fault == "skip":
				page.Changes = page.Changes[1:]
			case fault == "corrupt":
				objs := page.Changes[0]["objects"].([]any)
				objs[0].(map[string]any)["after"] = 42
				objs[0].(map[string]any)["before"] = 42
			}
			b, _ = json.Marshal(page)
		}
		res.Body = io.NopCloser(bytes.NewReader(b))
		res.ContentLength = int64(len(b))
		res.Header.Set("Content-Length", strconv.Itoa(len(b)))
	}
	return nil
}

// reloadCounter is a local.Metrics counting reloads by reason.
type reloadCounter struct {
	mu      sync.Mutex
	reasons map[string]int
}

func (m *reloadCounter) Checked(bool, bool)         {}
func (m *reloadCounter) Applied(int, time.Duration) {}
func (m *reloadCounter) Reloaded(reason string, _ time.Duration, err error) {
	if err == nil {
		m.mu.Lock()
		m.reasons[reason]++
		m.mu.Unlock()
	}
}

func (m *reloadCounter) count(reason string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reasons[reason]
}

// waitUntil polls cond for up to d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLocalReplicaFaults: a replica behind a proxy that breaks things
// never answers from a state it cannot prove, and recovers by itself:
// a truncated snapshot is refused whole; changes out of order, a skipped
// revision, a change that does not decode and a 410 each make it reload
// a snapshot; a dropped feed connection is retried; a server restart
// leaves it answering at its revision until MaxStale, failing closed
// after it, and following again once the server is back. After each
// fault its answers are the server's.
func TestLocalReplicaFaults(t *testing.T) {
	dir := t.TempDir()
	env := []string{"GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}
	s := start(t, dir, env)
	base := s.URL + "/api/v1"
	admin := adminClient(t, base)
	w := &world{t: t, admin: admin, r: rand.New(rand.NewPCG(7, 22)), soon: time.Now().Add(time.Hour)}
	w.build()
	srv, _ := replicaClients(t, base, admin)
	proxy := newFaultyProxy(t, s.URL)
	repc, err := gatehouse.New(proxy.URL, gatehouse.WithToken(admin.limitedToken("replica.read").token))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// A snapshot cut short fails whole: no replica from part of a state.
	proxy.fault.Store("truncate")
	if _, err := local.New(ctx, repc, local.Options{}); err == nil || !strings.Contains(err.Error(), "replica snapshot") {
		t.Fatalf("a truncated snapshot: %v; want a decoding error", err)
	}
	proxy.fault.Store("")
	m := &reloadCounter{reasons: map[string]int{}}
	rep, err := local.New(ctx, repc, local.Options{PollWait: time.Second, MaxStale: 3 * time.Second, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()

	for _, f := range []struct{ fault, reason string }{
		{"reorder", local.ReloadGap}, {"skip", local.ReloadGap}, {"corrupt", local.ReloadDecode}, {"gone", local.ReloadGone}, {"drop", ""},
	} {
		before, hits := m.count(f.reason), proxy.hits.Load()
		proxy.fault.Store(f.fault)
		for range 3 {
			w.write()
		}
		w.admin.call("POST", "/groups/"+w.groups[0]+"/members", obj{"members": []obj{{"user_id": w.users[0]}}}, 200)
		w.admin.call("PUT", "/folders/"+w.folders[0]+"/levels/"+w.groups[1], obj{"level": worldLevels[1+len(f.fault)%7]}, 200)
		waitUntil(t, 30*time.Second, f.fault+" made", func() bool { return proxy.hits.Load() > hits })
		if f.reason != "" {
			waitUntil(t, 30*time.Second, f.fault+": reload "+f.reason, func() bool { return m.count(f.reason) > before })
		}
		proxy.fault.Store("")
		rev := admin.revisionNow()
		if err := rep.WaitFor(ctx, rev); err != nil {
			t.Fatalf("after %s: the replica did not reach revision %d: %v (%+v)", f.fault, rev, err, rep.Freshness())
		}
		if n := compare(t, ctx, srv, rep, w, rev); n != 0 {
			t.Fatalf("after %s: %d differences", f.fault, n)
		}
	}

	// The server restarts: the replica answers at its revision, proven,
	// until MaxStale, then fails closed; it follows again once the server
	// is back (on another port: the proxy is pointed at it).
	rev := rep.Revision()
	q := gatehouse.CheckRequest{Subject: gatehouse.User(w.users[0]), Permission: "users.view", Resource: gatehouse.System}
	s.Stop(t)
	if d, err := rep.Check(ctx, q); err != nil || d.Revision != rev {
		t.Fatalf("right after the server stopped: %+v %v; want an answer at %d", d, err, rev)
	}
	waitUntil(t, 20*time.Second, "not ready past MaxStale", func() bool { return !rep.Ready() })
	if _, err := rep.Check(ctx, q); !gatehouse.IsUnavailable(err) {
		t.Fatalf("stale past MaxStale: %v; want a 503 (fail closed)", err)
	}
	if f := rep.Freshness(); f.Err == nil {
		t.Errorf("freshness while the server is down: %+v; want the error", f)
	}
	s2 := start(t, dir, env)
	proxy.setTarget(t, s2.URL)
	admin2 := adminClient(t, s2.URL+"/api/v1")
	w.admin = admin2
	for range 5 {
		w.write()
	}
	rev = admin2.revisionNow()
	if err := rep.WaitFor(ctx, rev); err != nil {
		t.Fatalf("after the restart: %v (%+v)", err, rep.Freshness())
	}
	srv2, _ := replicaClients(t, s2.URL+"/api/v1", admin2)
	if n := compare(t, ctx, srv2, rep, w, rev); n != 0 {
		t.Fatalf("after the restart: %d differences", n)
	}
}
