package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHotRoutesSkipOnlyWhatTheMuxWouldRouteToTheAPI: the checks go to
// the API directly; everything else, including what differs from them
// by method, path, a trailing slash or an escape, goes through the mux.
func TestHotRoutesSkipOnlyWhatTheMuxWouldRouteToTheAPI(t *testing.T) {
	var got string
	h := hotRoutes(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "hot" }),
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "mux" }))
	for _, tc := range []struct{ method, target, want string }{
		{"POST", "/api/v1/check", "hot"},
		{"POST", "/api/v1/check/batch", "hot"},
		{"POST", "/api/v1/check?at_least=3", "hot"}, // the mux routes by path alone
		{"GET", "/api/v1/check", "mux"},
		{"PUT", "/api/v1/check/batch", "mux"},
		{"POST", "/api/v1/check/", "mux"},
		{"POST", "/api/v1//check", "mux"},
		{"POST", "/api/v1/ch%65ck", "mux"},
		{"POST", "/api/v1/check/batch/x", "mux"},
		{"POST", "/api/v1/checks", "mux"},
		{"POST", "/scim/v2/Users", "mux"},
		{"GET", "/healthz", "mux"},
		{"POST", "/", "mux"},
	} {
		got = ""
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.target, nil))
		if got != tc.want {
			t.Errorf("%s %s went to the %s, want the %s", tc.method, tc.target, got, tc.want)
		}
	}
}
