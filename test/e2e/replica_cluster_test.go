package e2e

// Helpers of the multi-replica tests (replicas_test.go): several gatehouse
// processes on one PostgreSQL database, a goroutine-safe client that
// returns errors instead of failing the test (writers run in goroutines),
// the fixture the tests write to, and the comparison of replicas' answers.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// replica is one running gatehouse process of a replica set. Its URL
// changes when it is restarted (it listens on port 0), so goroutines read
// it through base().
type replica struct {
	name string
	dir  string
	args []string

	mu      sync.Mutex
	srv     *server
	earlier string // the logs of the earlier lives, when restarted
}

func (r *replica) base() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv.URL
}

func (r *replica) server() *server {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv
}

// log is the replica's log, the earlier lives' first.
func (r *replica) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.earlier + r.srv.Log()
}

// replicaEnv is the environment every replica starts with: the first one
// to start on an empty database creates the administrator with this
// password; the others find it there.
var replicaEnv = []string{"GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}

// startReplica starts one gatehouse serve on dsn. extra are further serve
// flags.
func startReplica(t *testing.T, name, dsn string, extra ...string) *replica {
	t.Helper()
	r := &replica{name: name, dir: t.TempDir(), args: append([]string{"--db", dsn}, extra...)}
	r.srv = start(t, r.dir, replicaEnv, r.args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of replica %s:\n%s", r.name, r.log())
		}
	})
	return r
}

// kill ends the replica with SIGKILL (no drain, no cleanup) and waits for
// the process to be gone.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	s := r.server()
	if err := s.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	if exited, _ := s.Wait(30 * time.Second); !exited {
		t.Fatalf("replica %s still running 30s after SIGKILL", r.name)
	}
}

// restart starts the replica again with the same flags and directory.
func (r *replica) restart(t *testing.T) {
	t.Helper()
	s := start(t, r.dir, replicaEnv, r.args...)
	r.mu.Lock()
	old := r.srv
	r.srv = s
	// Keep the log of the earlier life for a failing test's message.
	r.earlier += "---- earlier run ----\n" + old.Log() + "---- restarted ----\n"
	r.mu.Unlock()
}

// startReplicas starts n replicas on dsn: the first alone (it bootstraps
// an empty database), the others after it.
func startReplicas(t *testing.T, n int, dsn string, extra ...string) []*replica {
	t.Helper()
	rs := []*replica{startReplica(t, "A", dsn, extra...)}
	for i := 1; i < n; i++ {
		rs = append(rs, startReplica(t, string(rune('A'+i)), dsn, extra...))
	}
	return rs
}

// rclient calls one replica's API with an API token. It is safe for
// concurrent use and reports failures as errors: writers run in
// goroutines, where t.Fatal must not be called.
type rclient struct {
	r     *replica
	token string
	hc    *http.Client
}

func newRClient(r *replica, token string) *rclient {
	return &rclient{r: r, token: token, hc: &http.Client{Timeout: 30 * time.Second}}
}

// answer is one HTTP answer.
type answer struct {
	code   int
	header http.Header
	body   []byte
}

// obj decodes a JSON object body (nil when it is not one).
func (a answer) obj() obj {
	var o obj
	_ = json.Unmarshal(a.body, &o)
	return o
}

// revision is the revision an answer names: the X-Gatehouse-Revision
// header, else the body's "revision"; 0 when neither.
func (a answer) revision() int64 {
	if v := a.header.Get("X-Gatehouse-Revision"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	if f, ok := a.obj()["revision"].(float64); ok {
		return int64(f)
	}
	return 0
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.code, bytes.TrimSpace(a.body)) }

// do sends one request to /api/v1+path. header holds name, value pairs.
func (c *rclient) do(ctx context.Context, method, path string, body any, header ...string) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.r.base()+"/api/v1"+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" { // an empty token is an anonymous caller
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{resp.StatusCode, resp.Header, b}, nil
}

// must sends a request from the test's goroutine and fails the test
// unless the status is want.
func (c *rclient) must(t *testing.T, method, path string, body any, want int, header ...string) answer {
	t.Helper()
	a, err := c.do(context.Background(), method, path, body, header...)
	if err != nil {
		t.Fatalf("replica %s: %s %s: %v", c.r.name, method, path, err)
	}
	if a.code != want {
		t.Fatalf("replica %s: %s %s %s: %s, want %d", c.r.name, method, path, jsonString(body), a, want)
	}
	return a
}

// check asks one check without a consistency token (atLeast 0) or with
// one, and returns allowed and the revision it was answered at.
func (c *rclient) check(ctx context.Context, subject, perm, resource string, atLeast int64) (bool, int64, error) {
	body := obj{"subject": subject, "permission": perm, "resource": resource}
	if atLeast > 0 {
		body["at_least"] = atLeast
		body["wait_ms"] = 10000
	}
	a, err := c.do(ctx, "POST", "/check", body)
	if err != nil {
		return false, 0, err
	}
	if a.code != 200 {
		return false, a.revision(), fmt.Errorf("replica %s: check %s %s %s: %s", c.r.name, subject, perm, resource, a)
	}
	allowed, ok := a.obj()["allowed"].(bool)
	if !ok {
		return false, 0, fmt.Errorf("replica %s: check answered without allowed: %s", c.r.name, a)
	}
	return allowed, a.revision(), nil
}

// replicaToken signs in as the administrator on r and makes an API token;
// tokens live in the database, so it works on every replica.
func replicaToken(t *testing.T, r *replica) string {
	t.Helper()
	sess := login(t, r.base()+"/api/v1", "admin", adminPassword)
	return str(t, sess.call("POST", "/tokens", obj{"name": "replicas"}, 201), "secret")
}

// fixture is the data the replica tests write to: projects, system groups
// present in every project with read on one of them, users, a folder type
// with a "site" property and one folder per site.
type fixture struct {
	projects []string
	groups   []string // group i has project.read on project i%len(projects)
	users    []string
	folders  []string // folder i has site "s<i>"
	ftype    string
}

func newFixture(t *testing.T, c *rclient, nGroups, nUsers int) *fixture {
	t.Helper()
	f := &fixture{}
	id := func(a answer) string { return str(t, a.obj(), "id") }
	for i := 0; i < 3; i++ {
		f.projects = append(f.projects, id(c.must(t, "POST", "/projects", obj{"name": fmt.Sprintf("P%d", i)}, 201)))
	}
	for i := 0; i < nGroups; i++ {
		g := id(c.must(t, "POST", "/groups", obj{"name": fmt.Sprintf("G%d", i), "scope": "system"}, 201))
		c.must(t, "POST", "/groups/"+g+"/projects/import", obj{"project_ids": f.projects}, 200)
		c.must(t, "PUT", "/groups/"+g+"/projects/"+f.projects[i%3], obj{"permissions": []string{"project.read"}}, 200)
		f.groups = append(f.groups, g)
	}
	for i := 0; i < nUsers; i++ {
		name := fmt.Sprintf("u%03d", i)
		f.users = append(f.users, id(c.must(t, "POST", "/users", obj{"username": name, "password": name + "-Secret-1",
			"email": name + "@example.org", "display_name": name}, 201)))
	}
	f.ftype = id(c.must(t, "POST", "/folder-types", obj{"name": "Site folder", "contexts": []string{"data"},
		"properties": []string{"site"}}, 201))
	for i := 0; i < 3; i++ {
		f.folders = append(f.folders, id(c.must(t, "POST", "/folders", obj{"name": fmt.Sprintf("F%d", i), "type_id": f.ftype,
			"properties": map[string]string{"site": fmt.Sprintf("s%d", i)}}, 201)))
	}
	return f
}

// probe is the set of questions whose answers must agree between replicas:
// a batch of checks over every user, project and folder, and list queries
// per user and per project. Every question is answered from the engine.
func (f *fixture) probe() []probeQ {
	var checks []obj
	for _, u := range f.users {
		for _, p := range f.projects {
			for _, perm := range []string{"project.read", "project.write"} {
				checks = append(checks, obj{"subject": "user:" + u, "permission": perm, "resource": "project:" + p})
			}
		}
		for _, fo := range f.folders {
			checks = append(checks, obj{"subject": "user:" + u, "permission": "data.read", "resource": "folder:" + fo})
		}
	}
	qs := []probeQ{{"POST", "/check/batch", obj{"checks": checks}}}
	for _, u := range f.users {
		qs = append(qs, probeQ{"GET", "/resources?kind=project&permission=project.read&subject=user:" + u, nil})
		qs = append(qs, probeQ{"GET", "/resources?kind=folder&permission=data.read&subject=user:" + u, nil})
	}
	for _, p := range f.projects {
		qs = append(qs, probeQ{"GET", "/subjects?permission=project.write&resource=project:" + p, nil})
	}
	return qs
}

type probeQ struct {
	method, path string
	body         any
}

// canonical returns an answer body as JSON without its revision, with
// every array of strings sorted, so answers computed on the same data
// compare equal whatever order a list came in.
func canonical(b []byte) (string, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "revision")
	}
	var sortStrings func(any)
	sortStrings = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				sortStrings(e)
			}
		case []any:
			strs := make([]string, 0, len(x))
			for _, e := range x {
				sortStrings(e)
				if s, ok := e.(string); ok {
					strs = append(strs, s)
				}
			}
			if len(strs) == len(x) {
				sort.Strings(strs)
				for i, s := range strs {
					x[i] = s
				}
			}
		}
	}
	sortStrings(v)
	out, err := json.Marshal(v)
	return string(out), err
}

// answers asks every probe question of c (without a consistency token) and
// returns the canonical answers and the revision they were all answered
// at (an error when they were answered at different revisions).
func answers(ctx context.Context, c *rclient, qs []probeQ) ([]string, int64, error) {
	out := make([]string, len(qs))
	var rev int64
	for i, q := range qs {
		a, err := c.do(ctx, q.method, q.path, q.body)
		if err != nil {
			return nil, 0, err
		}
		if a.code != 200 {
			return nil, 0, fmt.Errorf("replica %s: %s %s: %s", c.r.name, q.method, q.path, a)
		}
		if r := a.revision(); i == 0 {
			rev = r
		} else if r != rev {
			return nil, 0, fmt.Errorf("replica %s moved from revision %d to %d during the probe although nothing was written", c.r.name, rev, r)
		}
		if out[i], err = canonical(a.body); err != nil {
			return nil, 0, fmt.Errorf("replica %s: %s %s: %v", c.r.name, q.method, q.path, err)
		}
	}
	return out, rev, nil
}

// waitRevision polls c with token-less checks until it answers at
// revision rev or later, and fails the test after within. It is how the
// tests see that a replica followed the change log by itself.
func waitRevision(t *testing.T, c *rclient, f *fixture, rev int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last int64
	var lastErr error
	for time.Now().Before(deadline) {
		_, r, err := c.check(context.Background(), "user:"+f.users[0], "project.read", "project:"+f.projects[0], 0)
		if err == nil && r >= rev {
			return
		}
		last, lastErr = r, err
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("replica %s did not reach revision %d within %v without a token: it answers at %d (last error %v)", c.r.name, rev, within, last, lastErr)
}

// agree starts a fresh replica on dsn (its engine is built from the
// database now), waits until every replica in rs has followed to the
// fresh one's revision without being asked with a token, and fails the
// test unless every replica answers every probe question as the fresh one
// does, at the same revision.
func agree(t *testing.T, dsn string, rs []*replica, token string, f *fixture) {
	t.Helper()
	fresh := startReplica(t, "fresh", dsn)
	defer fresh.server().Stop(t)
	fc := newRClient(fresh, token)
	qs := f.probe()
	want, rev, err := answers(context.Background(), fc, qs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		c := newRClient(r, token)
		waitRevision(t, c, f, rev, 10*time.Second)
		got, grev, err := answers(context.Background(), c, qs)
		if err != nil {
			t.Fatal(err)
		}
		if grev != rev {
			t.Errorf("replica %s answers at revision %d, the fresh build from the database at %d", r.name, grev, rev)
		}
		diffs := 0
		for i := range qs {
			if got[i] != want[i] {
				diffs++
				if diffs <= 3 {
					t.Errorf("replica %s disagrees with a fresh build from the database on %s %s:\n got %.600s\nwant %.600s",
						r.name, qs[i].method, qs[i].path, got[i], want[i])
				}
			}
		}
		// The replica's own account of itself agrees: /metrics reports
		// the revision it answers at and no lag.
		if code, body := tryGet(r.base() + "/metrics"); code != 200 {
			t.Errorf("replica %s: GET /metrics = %d %.300s", r.name, code, body)
		} else {
			for name, want := range map[string]float64{"gatehouse_engine_revision": float64(rev), "gatehouse_replication_lag_revisions": 0} {
				if got, ok := metric(body, name); !ok || got != want {
					t.Errorf("replica %s: /metrics has %s = %v (present %v), want %v", r.name, name, got, ok, want)
				}
			}
		}
		if diffs > 0 {
			t.Errorf("replica %s: %d of %d probe answers differ from the fresh build", r.name, diffs, len(qs))
		} else {
			t.Logf("replica %s agrees with a fresh build from the database on %d questions at revision %d", r.name, len(qs), rev)
		}
	}
}

// members returns the user ids in group g, read from the database through
// c (the members list is a database read, not an engine answer).
func members(t *testing.T, c *rclient, g string) map[string]bool {
	t.Helper()
	a := c.must(t, "GET", "/groups/"+g+"/members?limit=1000", nil, 200)
	out := map[string]bool{}
	for _, it := range items(t, a.obj()) {
		u, _ := it["user"].(map[string]any)
		id, _ := u["id"].(string)
		if id == "" {
			t.Fatalf("a member row without user.id: %s", jsonString(it))
		}
		if m, ok := it["member"].(bool); !ok || m {
			out[id] = true
		}
	}
	return out
}

// percentile returns the p-th percentile (0..100) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// isTransport reports whether err is a failure to get an HTTP answer at
// all (a killed replica), as opposed to an answer with a bad status.
func isTransport(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}

// metric returns the value of an unlabelled metric in a Prometheus text
// exposition.
func metric(text, name string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// tryGet sends GET url and returns the status and body; 0 and the error
// text when no answer came.
func tryGet(url string) (int, string) {
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}
