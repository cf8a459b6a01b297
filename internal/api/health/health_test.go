package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
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
