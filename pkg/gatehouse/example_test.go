package gatehouse_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// fakeGatehouse stands in for a Gatehouse server so that the examples
// run on their own: it allows root.read on folder f1 to user u1 only.
func fakeGatehouse() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		allowed := strings.Contains(string(b), `"subject":"user:u1"`) && strings.Contains(string(b), `"resource":"folder:f1"`)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(gatehouse.RevisionHeader, "42")
		fmt.Fprintf(w, `{"allowed": %v, "revision": 42}`, allowed)
	}))
}

func ExampleClient_Check() {
	srv := fakeGatehouse() // in real life: the server's URL, e.g. http://127.0.0.1:8080
	defer srv.Close()

	gh, err := gatehouse.New(srv.URL, gatehouse.WithToken("gh_…"))
	if err != nil {
		panic(err)
	}
	defer gh.Close()
	for _, user := range []string{"u1", "u2"} {
		d, err := gh.Check(context.Background(), gatehouse.CheckRequest{
			Subject:    gatehouse.User(user),
			Permission: "root.read",
			Resource:   gatehouse.Folder("f1"),
		})
		if err != nil {
			fmt.Println("refused, Gatehouse did not answer:", err) // fail closed
			continue
		}
		fmt.Printf("%s may read f1: %v (revision %d)\n", user, d.Allowed, d.Revision)
	}
	// Output:
	// u1 may read f1: true (revision 42)
	// u2 may read f1: false (revision 42)
}

func ExampleMiddleware() {
	srv := fakeGatehouse()
	defer srv.Close()
	gh, _ := gatehouse.New(srv.URL, gatehouse.WithToken("gh_…"))

	// The handler serves a folder's documents; the middleware asks
	// Gatehouse first, for the user the request names (a demo identity
	// scheme: use your application's real sign-in).
	docs := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := gatehouse.DecisionFromContext(r.Context())
		fmt.Fprintf(w, "the documents of %s (allowed at revision %d)", r.PathValue("folder"), d.Revision)
	})
	guard := gatehouse.Middleware(gh, func(r *http.Request) (gatehouse.CheckRequest, error) {
		user := r.Header.Get("X-User")
		if user == "" {
			return gatehouse.CheckRequest{}, gatehouse.Reject(http.StatusUnauthorized, "sign in first")
		}
		return gatehouse.CheckRequest{
			Subject:    gatehouse.User(user),
			Permission: "root.read",
			Resource:   gatehouse.Folder(r.PathValue("folder")),
		}, nil
	})
	mux := http.NewServeMux()
	mux.Handle("GET /docs/{folder}", guard(docs))

	for _, user := range []string{"u1", "u2", ""} {
		r := httptest.NewRequest("GET", "/docs/f1", nil)
		r.Header.Set("X-User", user)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Printf("%q: %d %s\n", user, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// "u1": 200 the documents of f1 (allowed at revision 42)
	// "u2": 403 Forbidden
	// "": 401 sign in first
}
