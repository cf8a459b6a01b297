package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestSecurityHeadersSharedValuesStayUnchanged: the headers' values are
// shared by every answer, so a handler that adds to or replaces them
// must not change what the next answer carries.
func TestSecurityHeadersSharedValuesStayUnchanged(t *testing.T) {
	names := []string{"X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Content-Security-Policy", "Strict-Transport-Security"}
	meddling := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, n := range names {
			w.Header().Add(n, "added")
		}
		w.Header().Set("Referrer-Policy", "same-origin")
	}), true)
	plain := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), true)
	want := map[string][]string{
		"X-Content-Type-Options":    {"nosniff"},
		"Referrer-Policy":           {"no-referrer"},
		"X-Frame-Options":           {"DENY"},
		"Content-Security-Policy":   {apiCSP},
		"Strict-Transport-Security": {hstsValue},
	}
	for round := range 2 {
		rec := httptest.NewRecorder()
		meddling.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if got := rec.Header().Values("X-Frame-Options"); !slices.Equal(got, []string{"DENY", "added"}) {
			t.Errorf("round %d: the meddling handler's X-Frame-Options = %q, want DENY and its own", round, got)
		}
		rec = httptest.NewRecorder()
		plain.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		for _, n := range names {
			if got := rec.Header().Values(n); !slices.Equal(got, want[n]) {
				t.Errorf("round %d: after a handler changed them, %s = %q, want %q", round, n, got, want[n])
			}
		}
	}
	rec := httptest.NewRecorder()
	securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), false).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Values("Strict-Transport-Security"); got != nil {
		t.Errorf("without TLS, Strict-Transport-Security = %q, want none", got)
	}
}
