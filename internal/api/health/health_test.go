package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func get(t *testing.T, mux *http.ServeMux, path string) (int, status) {
	t.Helper()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	var s status
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", path, rec.Body.String(), err)
	}
	return rec.Code, s
}

func TestHealthAndReadiness(t *testing.T) {
	h := New()
	mux := http.NewServeMux()
	h.Register(mux)
	ready := errors.New("store: not migrated")
	h.AddCheck("store", func(context.Context) error { return ready })

	if code, s := get(t, mux, "/healthz"); code != 200 || s.Status != "ok" {
		t.Errorf("/healthz = %d %+v, want 200 ok even while not ready", code, s)
	}
	code, s := get(t, mux, "/readyz")
	if code != http.StatusServiceUnavailable || s.Checks["store"] != "store: not migrated" {
		t.Errorf("/readyz while failing = %d %+v, want 503 naming the store", code, s)
	}
	ready = nil
	if code, s := get(t, mux, "/readyz"); code != 200 || s.Checks["store"] != "ok" {
		t.Errorf("/readyz when ready = %d %+v", code, s)
	}
}

type fakeFollower struct {
	revs   int64
	behind time.Duration
}

func (f *fakeFollower) Lag() (int64, time.Duration) { return f.revs, f.behind }

// The transitions a load balancer sees: loading, ready, lagging, store
// down, draining; /healthz stays 200 throughout.
func TestReadinessTransitions(t *testing.T) {
	h := New()
	mux := http.NewServeMux()
	h.Register(mux)
	var f *fakeFollower // nil: loading
	h.AddCheck("engine", EngineCheck(func() Follower {
		if f == nil {
			return nil
		}
		return f
	}, 10*time.Second))
	var storeErr error
	h.AddCheck("store", func(context.Context) error { return storeErr })

	steps := []struct {
		name   string
		set    func()
		code   int
		status string
		check  string // name of the failing check, and its message
		msg    string
	}{
		{"loading", func() {}, 503, "unavailable", "engine", "loading the permission engine"},
		{"loaded", func() { f = &fakeFollower{} }, 200, "ok", "", ""},
		{"a little behind", func() { f.revs, f.behind = 3, 2*time.Second }, 200, "ok", "", ""},
		{"lagging", func() { f.revs, f.behind = 40, 11*time.Second }, 503, "unavailable", "engine",
			"40 revisions behind the database for 11s (more than --ready-max-lag 10s)"},
		{"caught up", func() { f.revs, f.behind = 0, 0 }, 200, "ok", "", ""},
		{"store down", func() { storeErr = errors.New("the postgres database is not reachable") }, 503, "unavailable", "store",
			"the postgres database is not reachable"},
		{"store back", func() { storeErr = nil }, 200, "ok", "", ""},
		{"draining", h.SetDraining, 503, "draining", "", ""},
	}
	for _, s := range steps {
		s.set()
		code, st := get(t, mux, "/readyz")
		if code != s.code || st.Status != s.status {
			t.Errorf("%s: /readyz = %d %q, want %d %q", s.name, code, st.Status, s.code, s.status)
		}
		if s.check != "" && st.Checks[s.check] != s.msg {
			t.Errorf("%s: check %s = %q, want %q", s.name, s.check, st.Checks[s.check], s.msg)
		}
		if code, st := get(t, mux, "/healthz"); code != 200 || st.Status != "ok" {
			t.Errorf("%s: /healthz = %d %+v, want 200 ok", s.name, code, st)
		}
	}
}
