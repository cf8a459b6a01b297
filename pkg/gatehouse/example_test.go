package gatehouse_test

import (
	"context"
	"encoding/json"
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

// fakeFeed stands in for a Gatehouse server's change feed: after
// revision 41 comes one change, alice (u1) added to a group; then nothing.
func fakeFeed() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("after") == "41" {
			fmt.Fprint(w, `{"changes":[{"revision":42,"actions":["group.member_add"],
				"objects":[{"entity":"membership","id":"g1/u1","op":"put","after":{"group_id":"g1","user_id":"u1"}}]}],"next":42}`)
			return
		}
		fmt.Fprintf(w, `{"changes":[],"next":%s}`, r.URL.Query().Get("after"))
	}))
}

// A cache of decisions kept right by the change feed: any change to a
// user's memberships or grants drops that user's cached decisions. The
// consumer stores the last revision it processed and its mark, so a
// restart resumes there (and a 410, IsGone, means: drop the whole cache
// and start again from the revision of a fresh read; it is also the
// answer, IsDiverged, when the server's database was restored to an
// older revision since).
func ExampleClient_Changes() {
	srv := fakeFeed()
	defer srv.Close()
	gh, _ := gatehouse.New(srv.URL, gatehouse.WithToken("gh_…")) // a token limited to changes.read
	defer gh.Close()

	cache := map[string]map[string]bool{"u1": {"root.read folder:f1": false}, "u2": {"root.read folder:f1": true}}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	last, mark := int64(41), "" // in real life: read from where the consumer keeps them
	for ch, err := range gh.Changes(ctx, gatehouse.ChangesQuery{After: last, AfterMark: mark}) {
		if gatehouse.IsGone(err) {
			clear(cache) // resync: everything may have changed
			break
		}
		if err != nil {
			continue // unavailable: the iterator tries again
		}
		for _, o := range ch.Objects {
			obj := o.After
			if o.Op == "delete" {
				obj = o.Before
			}
			var about struct {
				UserID    string `json:"user_id"`    // a membership
				SubjectID string `json:"subject_id"` // a project grant
			}
			_ = json.Unmarshal(obj, &about)
			delete(cache, about.UserID)
			delete(cache, about.SubjectID)
			if o.Entity != "membership" && o.Entity != "project_grant" {
				// A user changed, or something that may affect many
				// users (a group's rights, a role): start afresh.
				clear(cache)
			}
		}
		last, mark = ch.Revision, ch.Mark
		fmt.Printf("revision %d %v: cached users left %d\n", ch.Revision, ch.Actions, len(cache))
		stop() // an example ends here; a consumer keeps following
	}
	// Output:
	// revision 42 [group.member_add]: cached users left 1
}
