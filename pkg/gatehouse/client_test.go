package gatehouse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fake is a stand-in Gatehouse: it records each request and answers
// with the handler the test gives.
type fake struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []recorded
	conns atomic.Int32
}

type recorded struct {
	method, path, query string
	header              http.Header
	body                map[string]any
}

func newFake(t *testing.T, h http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorded{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone()}
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if len(b) > 0 {
			if err := json.Unmarshal(b, &rec.body); err != nil {
				t.Errorf("%s %s: body is not a JSON object: %v: %s", r.Method, r.URL.Path, err, b)
			}
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, rec)
		f.mu.Unlock()
		h(w, r)
	}))
	f.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func answer(status int, rev string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if rev != "" {
			w.Header().Set(RevisionHeader, rev)
		}
		ct := "application/json"
		if status >= 400 {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func newClient(t *testing.T, url string, opts ...Option) *Client {
	t.Helper()
	c, err := New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestNewBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":            "http://127.0.0.1:8080/api/v1",
		"http://127.0.0.1:8080/":           "http://127.0.0.1:8080/api/v1",
		"https://gh.example.org/api/v1":    "https://gh.example.org/api/v1",
		" https://example.org/gh/api/v1/ ": "https://example.org/gh/api/v1",
	} {
		c, err := New(in)
		if err != nil || c.BaseURL() != want {
			t.Errorf("New(%q).BaseURL() = %v, %v; want %s", in, c, err, want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := New(bad); err == nil || !strings.Contains(err.Error(), "base URL") {
			t.Errorf("New(%q) = %v, want an error about the base URL", bad, err)
		}
	}
}

func TestCheckSendsAndDecodes(t *testing.T) {
	f := newFake(t, answer(200, "42", `{"allowed": true, "revision": 42}`))
	c := newClient(t, f.URL, WithToken(" gh_secret "), WithUserAgent("docserver/1"))
	d, err := c.Check(context.Background(), CheckRequest{Subject: User("u1"), Permission: "root.read", Resource: Folder("f1")})
	if err != nil || !d.Allowed || d.Revision != 42 {
		t.Fatalf("Check = %+v, %v; want allowed at revision 42", d, err)
	}
	r := f.requests()[0]
	if r.method != "POST" || r.path != "/api/v1/check" {
		t.Errorf("request %s %s, want POST /api/v1/check", r.method, r.path)
	}
	for h, want := range map[string]string{"Authorization": "Bearer gh_secret", "Content-Type": "application/json", "User-Agent": "docserver/1"} {
		if got := r.header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if _, ok := r.header["X-Idempotency-Key"]; ok {
		t.Errorf("the idempotency marker went on the wire: %v", r.header)
	}
	want := map[string]any{"subject": "user:u1", "permission": "root.read", "resource": "folder:f1"}
	if !sameJSON(r.body, want) {
		t.Errorf("body %v, want %v (no at_least or wait_ms without AtLeast)", r.body, want)
	}
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestConsistencyIsSent(t *testing.T) {
	f := newFake(t, answer(200, "9", `{"allowed": false, "revision": 9}`))
	c := newClient(t, f.URL)
	ctx := context.Background()
	cases := []struct {
		cons     Consistency
		atLeast  any
		waitMS   any
		getQuery string
	}{
		{AtLeast(7), 7.0, nil, "at_least=7"},
		{Consistency{AtLeast: 7, Wait: -1}, 7.0, 0.0, "at_least=7&wait_ms=0"},
		{Consistency{AtLeast: 7, Wait: 250 * time.Millisecond}, 7.0, 250.0, "at_least=7&wait_ms=250"},
		{Consistency{AtLeast: 7, Wait: time.Hour}, 7.0, 30000.0, "at_least=7&wait_ms=30000"},
		{Consistency{Wait: time.Second}, nil, nil, ""}, // a wait without AtLeast means nothing
	}
	for _, tc := range cases {
		if _, err := c.Check(ctx, CheckRequest{Permission: "p.x", Resource: System, Consistency: tc.cons}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListResources(ctx, ResourcesQuery{Permission: "root.read", Kind: "folder", Consistency: tc.cons}); err != nil {
			t.Fatal(err)
		}
		reqs := f.requests()
		post, get := reqs[len(reqs)-2], reqs[len(reqs)-1]
		if post.body["at_least"] != tc.atLeast || post.body["wait_ms"] != tc.waitMS {
			t.Errorf("%+v: body at_least %v wait_ms %v, want %v %v", tc.cons, post.body["at_least"], post.body["wait_ms"], tc.atLeast, tc.waitMS)
		}
		q, _ := url.ParseQuery(get.query)
		q.Del("kind")
		q.Del("permission")
		if q.Encode() != tc.getQuery {
			t.Errorf("%+v: query %q, want the consistency part %q", tc.cons, get.query, tc.getQuery)
		}
	}
}

func TestQueries(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/check/batch":
			answer(200, "5", `{"results": [{"allowed": true}, {"allowed": false},
				{"allowed": false, "error": {"status": 422, "kind": "invalid", "detail": "unknown permission", "location": "body.checks[2].permission"}}], "revision": 5}`)(w, r)
		case "/api/v1/explain":
			answer(200, "5", `{"allowed": true, "revision": 5, "subject": "user:u1", "permission": "root.read", "resource": "folder:f1",
				"paths": [{"group_id": "g1", "group_name": "Readers", "via": "folder_level", "folder_id": "f0", "level": "view"}]}`)(w, r)
		case "/api/v1/resources":
			answer(200, "5", `{"kind": "folder", "ids": ["f1", "f2"], "revision": 5}`)(w, r)
		case "/api/v1/subjects":
			answer(200, "5", `{"users": [{"user_id": "u1", "username": "alice", "groups": ["Readers"]}], "anonymous": true, "revision": 5}`)(w, r)
		case "/api/v1/effective-permissions":
			answer(200, "5", `{"subject": "user:u1", "resource": "folder:f1", "permissions": ["root.download", "root.read"], "revision": 5}`)(w, r)
		default:
			answer(404, "", `{"status": 404, "kind": "not_found", "detail": "no such path"}`)(w, r)
		}
	})
	c := newClient(t, f.URL, WithToken("gh_x"))
	ctx := context.Background()

	b, err := c.BatchCheck(ctx, BatchCheckRequest{Checks: []CheckRequest{
		{Subject: User("u1"), Permission: "root.read", Resource: Folder("f1")},
		{Subject: Anonymous, Permission: "root.read", Resource: Folder("f1")},
		{Permission: "root.fly", Resource: Folder("f1")},
	}, Consistency: AtLeast(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Results) != 3 || !b.Results[0].Allowed || b.Results[1].Allowed || b.Revision != 5 || b.AllAllowed() {
		t.Errorf("BatchCheck = %+v", b)
	}
	if e := b.Results[2].Err; e == nil || !IsInvalid(e) || e.Fields[0].Location != "body.checks[2].permission" {
		t.Errorf("third result's error = %+v, want a 422 at body.checks[2].permission", e)
	}
	if body := f.requests()[0].body; body["at_least"] != 3.0 || len(body["checks"].([]any)) != 3 {
		t.Errorf("batch body %v", body)
	}
	if _, err := c.BatchCheck(ctx, BatchCheckRequest{}); !IsInvalid(err) {
		t.Errorf("an empty batch = %v, want an invalid error before any call", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests sent, want 1 (the empty batch is refused locally)", n)
	}

	x, err := c.Explain(ctx, CheckRequest{Subject: User("u1"), Permission: "root.read", Resource: Folder("f1")})
	if err != nil || !x.Allowed || len(x.Paths) != 1 || x.Paths[0].Via != "folder_level" || x.Paths[0].Level != "view" {
		t.Errorf("Explain = %+v, %v", x, err)
	}
	rl, err := c.ListResources(ctx, ResourcesQuery{Subject: User("u1"), Permission: "root.read", Kind: "folder", Under: "f0"})
	if err != nil || strings.Join(rl.IDs, ",") != "f1,f2" || rl.Revision != 5 {
		t.Errorf("ListResources = %+v, %v", rl, err)
	}
	if q := f.requests()[2].query; q != "kind=folder&permission=root.read&subject=user%3Au1&under=f0" {
		t.Errorf("ListResources query %q", q)
	}
	sl, err := c.ListSubjects(ctx, SubjectsQuery{Permission: "root.read", Resource: Folder("f1")})
	if err != nil || len(sl.Users) != 1 || sl.Users[0].Username != "alice" || !sl.Anonymous {
		t.Errorf("ListSubjects = %+v, %v", sl, err)
	}
	ep, err := c.Effective(ctx, EffectiveQuery{Subject: User("u1"), Resource: Folder("f1")})
	if err != nil || len(ep.Permissions) != 2 {
		t.Errorf("Effective = %+v, %v", ep, err)
	}
	rev, err := c.Do(ctx, "GET", "nope", nil, nil)
	if !IsNotFound(err) || rev != 0 {
		t.Errorf("Do on an unknown path = %d, %v; want a 404", rev, err)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name    string
		h       http.HandlerFunc
		is      func(error) bool
		status  int
		kind    string
		mention string
	}{
		{"invalid", answer(422, "", `{"title": "Unprocessable Entity", "status": 422, "kind": "invalid", "detail": "validation failed",
			"errors": [{"location": "body.permission", "message": "unknown permission root.fly"}]}`),
			IsInvalid, 422, "invalid", "body.permission: unknown permission root.fly"},
		{"not found", answer(404, "", `{"status": 404, "kind": "not_found", "detail": "folder f9 not found"}`), IsNotFound, 404, "not_found", "folder f9 not found"},
		{"bad token", answer(401, "", `{"status": 401, "detail": "invalid, revoked or expired API token"}`), IsUnauthenticated, 401, "", "revoked"},
		{"no users.view", answer(403, "", `{"status": 403, "kind": "forbidden", "detail": "needs users.view"}`), IsForbidden, 403, "forbidden", "users.view"},
		{"at_least not reached", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			answer(503, "6", `{"status": 503, "kind": "unavailable", "detail": "revision 9 is not available yet", "revision": 6}`)(w, r)
		}, IsUnavailable, 503, "unavailable", "revision 9"},
		{"proxy page", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			io.WriteString(w, "<html>bad gateway</html>")
		}, IsUnavailable, 502, "", "502 Bad Gateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.h)
			_, err := newClient(t, f.URL).Check(context.Background(), CheckRequest{Permission: "root.read", Resource: Folder("f1")})
			var e *Error
			if !errors.As(err, &e) || !tc.is(err) || e.Status != tc.status || e.Kind != tc.kind || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %#v (%v); want status %d kind %q mentioning %q", e, err, tc.status, tc.kind, tc.mention)
			}
			if tc.status == 503 && (e.Revision != 6 || e.RetryAfter != time.Second) {
				t.Errorf("503: revision %d, retry after %v; want 6 and 1s", e.Revision, e.RetryAfter)
			}
		})
	}
}

func TestNoAnswer(t *testing.T) {
	// A port nothing listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = newClient(t, "http://"+addr).Check(context.Background(), CheckRequest{Permission: "root.read", Resource: Folder("f1")})
	var e *Error
	if !errors.As(err, &e) || e.Status != 0 || !IsUnavailable(err) || e.Kind != "unavailable" || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("check of a closed port = %v; want an unavailable *Error with status 0", err)
	}

	// A server that never answers: the client's timeout ends the call.
	block := make(chan struct{})
	f := newFake(t, func(http.ResponseWriter, *http.Request) { <-block })
	defer close(block)
	start := time.Now()
	_, err = newClient(t, f.URL, WithTimeout(100*time.Millisecond)).Check(context.Background(), CheckRequest{Permission: "root.read", Resource: Folder("f1")})
	if !IsUnavailable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a hung server = %v; want unavailable, wrapping context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("the 100ms timeout took %v", el)
	}
}

func TestRetries(t *testing.T) {
	var n atomic.Int32
	flaky := func(fails int32, status int) http.HandlerFunc {
		n.Store(0)
		return func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) <= fails {
				answer(status, "", fmt.Sprintf(`{"status": %d, "detail": "down"}`, status))(w, r)
				return
			}
			answer(200, "3", `{"allowed": true, "revision": 3}`)(w, r)
		}
	}
	ctx := context.Background()
	req := CheckRequest{Permission: "root.read", Resource: Folder("f1")}

	f := newFake(t, flaky(2, 503))
	if d, err := newClient(t, f.URL, WithRetries(2, time.Millisecond)).Check(ctx, req); err != nil || !d.Allowed {
		t.Errorf("two 503s then 200 with 2 retries = %+v, %v; want allowed", d, err)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("%d attempts, want 3", got)
	}

	f = newFake(t, flaky(2, 503))
	if _, err := newClient(t, f.URL).Check(ctx, req); !IsUnavailable(err) || n.Load() != 1 {
		t.Errorf("without retries: %v after %d attempts; want the 503 after 1", err, n.Load())
	}

	f = newFake(t, flaky(5, 422))
	if _, err := newClient(t, f.URL, WithRetries(3, time.Millisecond)).Check(ctx, req); !IsInvalid(err) || n.Load() != 1 {
		t.Errorf("a 422 with retries: %v after %d attempts; want no retry", err, n.Load())
	}

	// A write is never retried, even through Do.
	f = newFake(t, flaky(1, 503))
	if _, err := newClient(t, f.URL, WithRetries(3, time.Millisecond)).Do(ctx, "POST", "/folders", map[string]string{"name": "x"}, nil); !IsUnavailable(err) || n.Load() != 1 {
		t.Errorf("POST /folders with retries: %v after %d attempts; want no retry", err, n.Load())
	}

	// Retries never outlast the timeout: a server that is always down,
	// with a Retry-After far beyond it.
	f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "60")
		answer(503, "", `{"status": 503, "detail": "down"}`)(w, r)
	})
	n.Store(0)
	start := time.Now()
	_, err := newClient(t, f.URL, WithRetries(100, time.Millisecond), WithTimeout(300*time.Millisecond)).Check(ctx, req)
	if !IsUnavailable(err) {
		t.Errorf("always down = %v, want unavailable", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("retries took %v despite a 300ms timeout", el)
	}
}

func TestConnectionReuse(t *testing.T) {
	var gate barrier
	ok := answer(200, "1", `{"allowed": true, "revision": 1}`)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		gate.wait()
		ok(w, r)
	})
	c := newClient(t, f.URL)
	check := func() {
		if _, err := c.Check(context.Background(), CheckRequest{Permission: "root.read", Resource: Folder("f1")}); err != nil {
			t.Error(err)
		}
	}
	for i := 0; i < 20; i++ {
		check()
	}
	if n := f.conns.Load(); n != 1 {
		t.Errorf("20 sequential checks opened %d connections, want 1 (keep-alive)", n)
	}
	// Concurrent checks open connections of their own; the pool keeps
	// them (MaxIdleConnsPerHost 64, where net/http's default keeps 2),
	// so a second burst opens none. The server holds each burst's
	// requests until all 8 are in flight, so that each burst needs 8
	// connections however the goroutines are scheduled.
	burst := func() {
		gate.arm(8)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Go(check)
		}
		wg.Wait()
	}
	burst()
	first := f.conns.Load()
	if first < 8 {
		t.Fatalf("a burst of 8 callers held together used %d connections in all, want at least 8", first)
	}
	burst()
	// A connection goes back to the pool just after its answer is read,
	// so a caller can now and then miss one by a moment: allow two.
	if n := f.conns.Load() - first; n > 2 {
		t.Errorf("a second burst of 8 concurrent callers opened %d new connections (%d before it); want the idle ones reused", n, first)
	}
}

// barrier holds requests until want of them have arrived (or ten
// seconds have passed), once armed; unarmed, it holds nothing.
type barrier struct {
	mu      sync.Mutex
	n, want int
	open    chan struct{}
}

func (b *barrier) arm(want int) {
	b.mu.Lock()
	b.n, b.want, b.open = 0, want, make(chan struct{})
	b.mu.Unlock()
}

func (b *barrier) wait() {
	b.mu.Lock()
	open := b.open
	if open == nil {
		b.mu.Unlock()
		return
	}
	if b.n++; b.n == b.want {
		close(open)
		b.open = nil
	}
	b.mu.Unlock()
	select {
	case <-open:
	case <-time.After(10 * time.Second):
	}
}
