package rest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api/rest"
)

// leanCase is one request for TestCheckLeanMatchesGeneric.
type leanCase struct {
	name   string
	as     string // the Authorization header; "" is anonymous
	body   string
	header []string // more headers, name then value
	path   string   // default /api/v1/check
	length int64    // the announced length when not the body's
}

// serveBoth sends c through the generic path and then the lean one and
// returns both recorders.
func serveBoth(e *env, c leanCase) (generic, lean *httptest.ResponseRecorder) {
	serve := func(on bool) *httptest.ResponseRecorder {
		e.api.SetLeanCheck(on)
		defer e.api.SetLeanCheck(true)
		path := c.path
		if path == "" {
			path = "/api/v1/check"
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		if c.length != 0 {
			req.ContentLength = c.length
		}
		if c.as != "" {
			req.Header.Set("Authorization", c.as)
		}
		for i := 0; i+1 < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		return w
	}
	return serve(false), serve(true)
}

// The lean path of POST /api/v1/check (checklean.go) answers every kind
// of request byte for byte as the generic huma path does: status,
// headers and body, for answers and for every refusal on the way
// (authentication, the edge's input checks, decoding and validation,
// the service's authorization and consistency).
func TestCheckLeanMatchesGeneric(t *testing.T) {
	e := newEnv(t)
	u := e.user("u", "")
	v := e.user("v", "")
	admin := "Bearer test:" + e.admin.UserID
	user := "Bearer test:" + u.UserID
	cases := []leanCase{
		{name: "allowed", as: admin, body: `{"permission":"users.view","resource":"system"}`},
		{name: "denied", as: user, body: `{"permission":"users.view","resource":"system"}`},
		{name: "about another, allowed to ask", as: admin, body: `{"subject":"user:` + v.UserID + `","permission":"users.view","resource":"system","at_least":1,"wait_ms":10}`},
		{name: "anonymous about itself", body: `{"permission":"users.view","resource":"system"}`},
		{name: "charset parameter", as: admin, body: `{"permission":"users.view","resource":"system"}`, header: []string{"Content-Type", "application/json; charset=utf-8"}},
		{name: "accept json", as: admin, body: `{"permission":"users.view","resource":"system"}`, header: []string{"Accept", "application/json"}},
		{name: "accept anything", as: admin, body: `{"permission":"users.view","resource":"system"}`, header: []string{"Accept", "*/*"}},
		{name: "accept cbor", as: admin, body: `{"permission":"users.view","resource":"system"}`, header: []string{"Accept", "application/cbor"}},
		{name: "invalid JSON", as: admin, body: `{"permission":"users.view",`},
		{name: "trailing data", as: admin, body: `{"permission":"users.view","resource":"system"} {}`},
		{name: "bad UTF-8", as: admin, body: "{\"permission\":\"users.view\xff\",\"resource\":\"system\"}"},
		{name: "lone surrogate", as: admin, body: `{"permission":"users.view\ud800","resource":"system"}`},
		{name: "duplicate name", as: admin, body: `{"permission":"users.view","permission":"x","resource":"system"}`},
		{name: "unknown property", as: admin, body: `{"permission":"users.view","resource":"system","Resource":"x"}`},
		{name: "wrong type", as: admin, body: `{"permission":1,"resource":"system"}`},
		{name: "empty permission", as: admin, body: `{"permission":"","resource":"system"}`},
		{name: "wait too long", as: admin, body: `{"permission":"users.view","resource":"system","wait_ms":60000}`},
		{name: "empty body", as: admin, body: ``},
		{name: "too large", as: admin, body: `{"permission":"` + strings.Repeat("a", 1<<20) + `","resource":"system"}`},
		{name: "wrong media type", as: admin, body: `{"permission":"users.view","resource":"system"}`, header: []string{"Content-Type", "text/plain"}},
		{name: "no media type", as: admin, body: `{"permission":"users.view","resource":"system"}`, header: []string{"Content-Type", ""}},
		{name: "latin-1 charset", as: admin, body: `{"permission":"users.view","resource":"system"}`, header: []string{"Content-Type", "application/json; charset=latin1"}},
		{name: "unauthenticated (bad token)", as: "Bearer nope", body: `{"permission":"users.view","resource":"system"}`},
		{name: "anonymous about another", body: `{"subject":"user:` + v.UserID + `","permission":"users.view","resource":"system"}`},
		{name: "forbidden subject", as: user, body: `{"subject":"user:` + v.UserID + `","permission":"users.view","resource":"system"}`},
		{name: "unknown subject", as: admin, body: `{"subject":"user:nobody","permission":"users.view","resource":"system"}`},
		{name: "unknown permission", as: admin, body: `{"permission":"no.such","resource":"system"}`},
		{name: "at_least not yet reached", as: admin, body: `{"permission":"users.view","resource":"system","at_least":1000000,"wait_ms":0}`},
		{name: "query string", as: admin, body: `{"permission":"users.view","resource":"system"}`, path: "/api/v1/check?x=%ff"},
		{name: "escaped path", as: admin, body: `{"permission":"users.view","resource":"system"}`, path: "/api/v1/%63heck"},
	}
	sameAnswers(t, e, cases)
}

// sameAnswers serves each case on both paths and compares status,
// headers and body.
func sameAnswers(t *testing.T, e *env, cases []leanCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, l := serveBoth(e, c)
			if g.Code != l.Code {
				t.Errorf("status: generic %d, lean %d", g.Code, l.Code)
			}
			if !sameHeaders(g.Header(), l.Header()) {
				t.Errorf("headers:\ngeneric %v\nlean    %v", g.Header(), l.Header())
			}
			if !bytes.Equal(g.Body.Bytes(), l.Body.Bytes()) {
				t.Errorf("body:\ngeneric %.600q\nlean    %.600q", g.Body.Bytes(), l.Body.Bytes())
			}
			if g.Body.Len() == 0 && c.body != "" && g.Code != http.StatusNoContent {
				t.Errorf("empty answer (%d): the case tests nothing", g.Code)
			}
		})
	}
}

// sameHeaders compares two header maps, values in order.
func sameHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb := b[k]
		if len(va) != len(vb) {
			return false
		}
		for i := range va {
			if va[i] != vb[i] {
				return false
			}
		}
	}
	return true
}

// The lean path of POST /api/v1/check/batch answers as the generic path
// does, byte for byte: answers with and without failing items (their
// details holding characters HTML would escape), and every refusal of
// the whole batch.
func TestBatchLeanMatchesGeneric(t *testing.T) {
	e := newEnv(t)
	u := e.user("u", "")
	v := e.user("v", "")
	admin := "Bearer test:" + e.admin.UserID
	user := "Bearer test:" + u.UserID
	item := func(subject, perm, res string) string {
		s := `{"permission":"` + perm + `","resource":"` + res + `"`
		if subject != "" {
			s += `,"subject":"` + subject + `"`
		}
		return s + "}"
	}
	batch := func(items ...string) string { return `{"checks":[` + strings.Join(items, ",") + `]}` }
	many := make([]string, 1001)
	for i := range many {
		many[i] = item("", "users.view", "system")
	}
	const path = "/api/v1/check/batch"
	cases := []leanCase{
		{name: "allowed and denied", as: admin, body: batch(item("", "users.view", "system"), item("user:"+u.UserID, "users.manage", "system"))},
		{name: "failing items", as: admin, body: batch(item("", "no<such>&", "system"), item("user:nobody", "users.view", "system"), item("", "root.read", "folder:nope"))},
		{name: "about another, not allowed to ask", as: user, body: batch(item("user:"+v.UserID, "users.view", "system"), item("", "users.view", "system"))},
		{name: "anonymous", body: batch(item("", "users.view", "system"))},
		{name: "a thousand", as: admin, body: batch(many[:1000]...)},
		{name: "too many", as: admin, body: batch(many...)},
		{name: "none", as: admin, body: `{"checks":[]}`},
		{name: "at_least not yet reached", as: admin, body: `{"checks":[` + item("", "users.view", "system") + `],"at_least":1000000,"wait_ms":0}`},
		{name: "invalid JSON", as: admin, body: `{"checks":[`},
		{name: "unknown property", as: admin, body: `{"checks":[],"x":1}`},
		{name: "empty permission", as: admin, body: batch(item("", "", "system"))},
		{name: "empty body", as: admin, body: ``},
		{name: "too large", as: admin, body: batch(item("", strings.Repeat("a", 1<<20), "system"))},
		{name: "wrong media type", as: admin, body: batch(item("", "users.view", "system")), header: []string{"Content-Type", "text/plain"}},
		{name: "accept cbor", as: admin, body: batch(item("", "users.view", "system")), header: []string{"Accept", "application/cbor"}},
		{name: "unauthenticated (bad token)", as: "Bearer nope", body: batch(item("", "users.view", "system"))},
		{name: "query string", as: admin, body: batch(item("", "users.view", "system")), path: path + "?x=1"},
		{name: "announced over the limit", as: admin, body: batch(item("", "users.view", "system")), length: 1<<20 + 1},
		{name: "too large, length unknown", as: admin, body: batch(item("", strings.Repeat("a", 1<<20), "system")), length: -1},
	}
	for i := range cases {
		if cases[i].path == "" {
			cases[i].path = path
		}
	}
	sameAnswers(t, e, cases)
}

// TestLeanPathsAreTaken: a plain check and a plain batch are answered on
// the lean path, which allocates a third less than the generic one for
// the same request. (The other tests of this file compare the two
// paths' answers, and would pass if the lean one were never taken.)
func TestLeanPathsAreTaken(t *testing.T) {
	e := newEnv(t)
	admin := "Bearer test:" + e.admin.UserID
	items := make([]string, 100)
	for i := range items {
		items[i] = `{"permission":"users.view","resource":"system"}`
	}
	for _, c := range []leanCase{
		{name: "check", as: admin, body: `{"permission":"users.view","resource":"system"}`, path: "/api/v1/check"},
		{name: "batch", as: admin, body: `{"checks":[` + strings.Join(items, ",") + `]}`, path: "/api/v1/check/batch"},
	} {
		allocs := func(lean bool) float64 {
			e.api.SetLeanCheck(lean)
			defer e.api.SetLeanCheck(true)
			return testing.AllocsPerRun(50, func() {
				req := httptest.NewRequest("POST", c.path, strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", c.as)
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					t.Fatalf("%s: %d %s", c.name, w.Code, w.Body.Bytes())
				}
			})
		}
		generic, lean := allocs(false), allocs(true)
		t.Logf("%s: %.0f allocations on the generic path, %.0f on the lean one", c.name, generic, lean)
		if lean > generic-10 { // 16 and 17 fewer when measured
			t.Errorf("%s: %.0f allocations with the lean path on, %.0f with it off: the lean path was not taken", c.name, lean, generic)
		}
	}
}

// Answers on the lean path share one X-Gatehouse-Revision value while the
// revision stays (API.revisionValue); a write makes the next answer carry
// the new revision, and the value an earlier answer was given is left as
// it was.
func TestLeanRevisionHeaderFollowsWrites(t *testing.T) {
	e := newEnv(t)
	check := func() (header []string, body string) {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/v1/check", strings.NewReader(`{"permission":"users.view","resource":"system"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer test:"+e.admin.UserID)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("check: %d %s", w.Code, w.Body.Bytes())
		}
		return w.Header()[rest.RevisionHeader], w.Body.String()
	}
	revisionIn := func(header []string, body string) string {
		t.Helper()
		if len(header) != 1 {
			t.Fatalf("%s: %q, want one value", rest.RevisionHeader, header)
		}
		if want := `"revision":` + header[0] + "}"; !strings.Contains(body, want) {
			t.Fatalf("answer %q does not carry the header's revision %s", body, header[0])
		}
		return header[0]
	}
	first, body := check()
	r1 := revisionIn(first, body)
	again, body := check()
	if got := revisionIn(again, body); got != r1 {
		t.Fatalf("second answer at %s, want %s: nothing was written between them", got, r1)
	}
	e.user("written", "")
	after, body := check()
	r2 := revisionIn(after, body)
	if n1, n2 := revisionNumber(t, r1), revisionNumber(t, r2); n2 <= n1 {
		t.Fatalf("answer after a write at revision %d, want more than %d", n2, n1)
	}
	if first[0] != r1 {
		t.Errorf("the first answer's header value changed from %s to %s", r1, first[0])
	}
}

// The lean check allocates nothing of its own but the decoded request's
// strings: the caller goes to the service without a context value, and
// the revision header is shared (measured against a handler that reads
// the body and writes a fixed answer, with the same request and
// recorder).
func TestLeanCheckAllocatesOnlyTheRequest(t *testing.T) {
	e := newEnv(t)
	other := e.user("other", "")
	body := `{"subject":"user:` + other.UserID + `","permission":"users.view","resource":"system"}`
	fixed := []byte(`{"allowed":true,"revision":1}` + "\n")
	contentType, buf := []string{"application/json"}, make([]byte, 512)
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for {
			if _, err := r.Body.Read(buf); err != nil {
				break
			}
		}
		w.Header()["Content-Type"] = contentType
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(fixed)
	})
	allocs := func(h http.Handler) float64 {
		return testing.AllocsPerRun(200, func() {
			req := httptest.NewRequest("POST", "/api/v1/check", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer test:"+e.admin.UserID)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body.Bytes())
			}
		})
	}
	own := allocs(e.h) - allocs(floor)
	t.Logf("the lean check allocates %.0f more than a handler writing a fixed answer", own)
	if own > 1 {
		t.Errorf("the lean check allocates %.0f more than a fixed answer, want at most 1 (the decoded strings)", own)
	}
}

// revisionNumber parses a revision header's value.
func revisionNumber(t *testing.T, v string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("revision %q: %v", v, err)
	}
	return n
}
