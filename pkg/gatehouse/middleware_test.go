package gatehouse

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// guarded is a handler behind Middleware whose decide function asks
// root.read on the folder named by the path, for the user named by the
// X-User header, and refuses itself without one.
func guarded(t *testing.T, c *Client, opts ...MiddlewareOption) (http.Handler, *int) {
	t.Helper()
	calls := new(int)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*calls++
		d, ok := DecisionFromContext(r.Context())
		if !ok || !d.Allowed {
			t.Errorf("the handler ran without an allowing decision in its context: %+v %v", d, ok)
		}
		io.WriteString(w, "document")
	})
	decide := func(r *http.Request) (CheckRequest, error) {
		u := r.Header.Get("X-User")
		switch {
		case u == "":
			return CheckRequest{}, Reject(http.StatusUnauthorized, "who are you?")
		case u == "bad":
			return CheckRequest{}, errors.New("malformed user")
		}
		return CheckRequest{Subject: User(u), Permission: "root.read", Resource: Folder(strings.TrimPrefix(r.URL.Path, "/"))}, nil
	}
	opts = append([]MiddlewareOption{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	return Middleware(c, decide, opts...)(next), calls
}

func serve(h http.Handler, user, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	if user != "" {
		r.Header.Set("X-User", user)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	// The stand-in Gatehouse answers by the folder asked about.
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Resource string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("check body: %v", err)
		}
		switch in.Resource {
		case "folder:open":
			answer(200, "8", `{"allowed": true, "revision": 8}`)(w, r)
		case "folder:closed":
			answer(200, "8", `{"allowed": false, "revision": 8}`)(w, r)
		case "folder:gone":
			answer(404, "", `{"status": 404, "kind": "not_found", "detail": "folder gone not found"}`)(w, r)
		case "folder:busy":
			w.Header().Set("Retry-After", "3")
			answer(503, "", `{"status": 503, "kind": "unavailable", "detail": "database down"}`)(w, r)
		default:
			answer(422, "", `{"status": 422, "kind": "invalid", "detail": "resource: malformed"}`)(w, r)
		}
	})
	h, calls := guarded(t, newClient(t, f.URL, WithToken("gh_app")))
	cases := []struct {
		user, path string
		status     int
		body       string
	}{
		{"u1", "/open", 200, "document"},
		{"u1", "/closed", 403, "Forbidden"},
		{"u1", "/gone", 403, "Forbidden"},
		{"u1", "/busy", 503, "unavailable"},
		{"u1", "/weird", 500, "Internal Server Error"},
		{"", "/open", 401, "who are you?"},
		{"bad", "/open", 400, "malformed user"},
	}
	for _, tc := range cases {
		before := *calls
		w := serve(h, tc.user, tc.path)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("%s as %q: %d %q, want %d with %q", tc.path, tc.user, w.Code, w.Body, tc.status, tc.body)
		}
		if ran := *calls > before; ran != (tc.status == 200) {
			t.Errorf("%s as %q: the handler ran = %v with status %d", tc.path, tc.user, ran, w.Code)
		}
		if tc.status == 503 && w.Header().Get("Retry-After") != "3" {
			t.Errorf("503 Retry-After = %q, want Gatehouse's 3", w.Header().Get("Retry-After"))
		}
	}
	// Neither the 401 nor the 400 reached Gatehouse.
	if n := len(f.requests()); n != 5 {
		t.Errorf("%d checks sent, want 5", n)
	}
	// The 500 does not leak Gatehouse's error to the client.
	if w := serve(h, "u1", "/weird"); strings.Contains(w.Body.String(), "malformed") {
		t.Errorf("the 500 repeats Gatehouse's detail: %q", w.Body)
	}
}

func TestMiddlewareFailsClosed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var got error
	h, calls := guarded(t, newClient(t, "http://"+addr), WithRefusal(func(w http.ResponseWriter, _ *http.Request, status int, err error) {
		got = err
		w.WriteHeader(status)
		io.WriteString(w, `{"error": "try later"}`)
	}))
	w := serve(h, "u1", "/open")
	if w.Code != 503 || *calls != 0 || w.Header().Get("Retry-After") != "1" || w.Body.String() != `{"error": "try later"}` {
		t.Errorf("Gatehouse unreachable: %d %q (Retry-After %q), handler ran %d times; want the custom 503 and no handler",
			w.Code, w.Body, w.Header().Get("Retry-After"), *calls)
	}
	if !IsUnavailable(got) {
		t.Errorf("the refusal got %v, want the unavailable *Error", got)
	}
}
