package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testserver"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// These tests run the real gatehouse binary, built once in TestMain, and
// talk to it only over HTTP, through pkg/gatehouse: the way an
// application does.

var binary string

func TestMain(m *testing.M) {
	testserver.Main(m, "docserver-test", &binary)
}

const adminPassword = "docserver-Admin-Secret-1"

// startGatehouse runs `gatehouse serve` on a fresh SQLite database with a
// known administrator password and waits until it serves. A failing
// test's output ends with the gatehouse log.
func startGatehouse(t testing.TB) *testserver.Server {
	t.Helper()
	var s *testserver.Server
	dir := t.TempDir()
	t.Cleanup(func() { // after Start's kill
		if s != nil && t.Failed() {
			t.Logf("gatehouse log:\n%s", s.Log())
		}
	})
	s = testserver.Start(t, testserver.Options{Binary: binary, Dir: dir,
		Env: []string{"GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}})
	return s
}

// stopGatehouse sends SIGTERM and waits for the process to end.
func stopGatehouse(t testing.TB, s *testserver.Server) {
	t.Helper()
	if err := s.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if exited, _ := s.Wait(30 * time.Second); !exited {
		t.Fatalf("gatehouse did not stop within 30s of SIGTERM")
	}
}

// admin signs in as the initial administrator (a session cookie, with a
// client holding a cookie jar), makes two API tokens and returns a client
// with the unlimited one, for the set-up, and the secret of the one an
// application should have: limited to users.view (look users up, ask
// about them) and files.admin (register folders).
func admin(t testing.TB, ctx context.Context, url string) (*gatehouse.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	sess, err := gatehouse.New(url, gatehouse.WithHTTPClient(&http.Client{Jar: jar}))
	if err != nil {
		t.Fatal(err)
	}
	must(t)(sess.Do(ctx, "POST", "/login", map[string]string{"username": "admin", "password": adminPassword}, nil))
	var setup, app struct{ Secret string }
	must(t)(sess.Do(ctx, "POST", "/tokens", map[string]any{"name": "setup"}, &setup))
	must(t)(sess.Do(ctx, "POST", "/tokens", map[string]any{"name": "docserver", "permissions": []string{"users.view", "files.admin"}}, &app))
	c, err := gatehouse.New(url, gatehouse.WithToken(setup.Secret))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, app.Secret
}

// must fails the test on a Do error and returns the revision.
func must(t testing.TB) func(int64, error) int64 {
	return func(rev int64, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
}

// create POSTs and returns the new object's id.
func create(t testing.TB, ctx context.Context, c *gatehouse.Client, path string, body any) string {
	t.Helper()
	var out struct{ ID string }
	must(t)(c.Do(ctx, "POST", path, body, &out))
	if out.ID == "" {
		t.Fatalf("POST %s answered no id", path)
	}
	return out.ID
}

// groupOf creates a system group holding the users and returns its id.
func groupOf(t testing.TB, ctx context.Context, c *gatehouse.Client, name string, userIDs ...string) string {
	t.Helper()
	id := create(t, ctx, c, "/groups", map[string]any{"name": name, "scope": "system"})
	var ms []map[string]string
	for _, u := range userIDs {
		ms = append(ms, map[string]string{"user_id": u})
	}
	must(t)(c.Do(ctx, "POST", "/groups/"+id+"/members", map[string]any{"members": ms}, nil))
	return id
}

// docClient calls the document server as one user ("" for anonymous).
type docClient struct {
	t    *testing.T
	base string
	user string
}

type answer struct {
	status int
	header http.Header
	body   string
}

// revision is the X-Gatehouse-Revision of the answer (0 without one).
func (a answer) revision() int64 {
	n, _ := strconv.ParseInt(a.header.Get(gatehouse.RevisionHeader), 10, 64)
	return n
}

// do sends a request, with X-Gatehouse-At-Least when atLeast > 0.
func (d docClient) do(method, path, body string, atLeast int64) answer {
	d.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, d.base+path, rd)
	if err != nil {
		d.t.Fatal(err)
	}
	if d.user != "" {
		req.Header.Set("X-User", d.user)
	}
	if atLeast > 0 {
		req.Header.Set("X-Gatehouse-At-Least", strconv.FormatInt(atLeast, 10))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(b)}
}

// want fails unless the request answers status (and, when given, a body
// containing contains).
func (d docClient) want(status int, method, path, body string, atLeast int64, contains ...string) answer {
	d.t.Helper()
	a := d.do(method, path, body, atLeast)
	if a.status != status {
		d.t.Errorf("%s %s as %q: %d %q, want %d", method, path, d.user, a.status, a.body, status)
	}
	for _, c := range contains {
		if !strings.Contains(a.body, c) {
			d.t.Errorf("%s %s as %q: body %q does not contain %q", method, path, d.user, a.body, c)
		}
	}
	return a
}

func TestDocServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gh := startGatehouse(t)
	adm, appToken := admin(t, ctx, gh.URL)

	alice := create(t, ctx, adm, "/users", map[string]string{"username": "alice"})
	bob := create(t, ctx, adm, "/users", map[string]string{"username": "bob"})
	create(t, ctx, adm, "/users", map[string]string{"username": "carol"})
	writers := groupOf(t, ctx, adm, "Writers", alice)
	readers := groupOf(t, ctx, adm, "Readers", bob)

	// The document server, in-process, with the limited token.
	app, err := gatehouse.New(gh.URL, gatehouse.WithToken(appToken))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	s, err := newServer(ctx, Config{Gatehouse: app, Root: "docserver", Folders: []string{"reports"}, Store: newMemStore(),
		Wait: 300 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ds := httptest.NewServer(s.Handler())
	defer ds.Close()
	as := func(user string) docClient { return docClient{t, ds.URL, user} }
	aliceC, bobC, carolC, anon := as("alice"), as("bob"), as("carol"), as("")

	// Starting again finds the folders instead of registering them twice.
	s2, err := newServer(ctx, Config{Gatehouse: app, Root: "docserver", Folders: []string{"REPORTS"}, Store: newMemStore()})
	if err != nil || s2.rootID != s.rootID {
		t.Fatalf("second start: %v, root %s vs %s", err, s2.rootID, s.rootID)
	}
	reports, ok, err := s.folderID(ctx, "reports")
	if id2, _, _ := s2.folderID(ctx, "reports"); err != nil || !ok || id2 != reports {
		t.Fatalf("folder reports: %q %v %v; second start sees %q", reports, ok, err, id2)
	}

	level := func(folderID, group, lv string) int64 {
		t.Helper()
		return must(t)(adm.Do(ctx, "PUT", "/folders/"+folderID+"/levels/"+group, map[string]string{"level": lv}, nil))
	}
	level(reports, writers, "upload") // edit and create
	rev := level(reports, readers, "view")
	if rev <= 0 {
		t.Fatalf("setting a level answered revision %d", rev)
	}

	// A writer writes (at_least: the decision must include the levels just set).
	a := aliceC.want(201, "PUT", "/docs/reports/q1", "first draft", rev)
	if a.revision() < rev {
		t.Errorf("the write's decision was made at revision %d, before the level set at %d", a.revision(), rev)
	}
	aliceC.want(204, "PUT", "/docs/reports/q1", "final", 0)
	// A reader reads, and may not write.
	bobC.want(200, "GET", "/docs/reports/q1", "", 0, "final")
	bobC.want(200, "GET", "/docs/reports/", "", 0, `"q1"`)
	bobC.want(403, "PUT", "/docs/reports/q1", "bob was here", 0)
	bobC.want(403, "PUT", "/docs/reports/q2", "new", 0)
	bobC.want(403, "DELETE", "/docs/reports/q1", "", 0)
	// Others may not even read.
	carolC.want(403, "GET", "/docs/reports/q1", "", 0)
	anon.want(403, "GET", "/docs/reports/q1", "", 0)
	as("mallory").want(401, "GET", "/docs/reports/q1", "", 0, "unknown user")
	bobC.want(404, "GET", "/docs/nowhere/q1", "", 0)
	req, _ := http.NewRequest("GET", ds.URL+"/docs/reports/q1", nil)
	req.Header.Set("X-User", "bob")
	req.Header.Set("X-Gatehouse-At-Least", "soon")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 400 {
		t.Errorf("a malformed X-Gatehouse-At-Least: %v %v, want 400", res, err)
	} else {
		res.Body.Close()
	}
	bobC.want(200, "GET", "/folders", "", 0, `"reports"`)
	carolC.want(200, "GET", "/folders", "", 0, `{"folders":[]}`)
	if got := bobC.do("GET", "/docs/reports/q1", "", 0).body; got != "final" {
		t.Errorf("the document after refused writes = %q, want final", got)
	}

	// A grant used at once: the write's revision, passed as at_least,
	// is honoured.
	rev = level(reports, readers, "edit")
	a = bobC.want(204, "PUT", "/docs/reports/q1", "edited by bob", rev)
	if a.revision() < rev {
		t.Errorf("bob's edit was decided at revision %d, before his grant at %d", a.revision(), rev)
	}
	bobC.want(403, "PUT", "/docs/reports/q2", "new", rev) // edit does not create
	bobC.want(200, "GET", "/docs/reports/q1", "", 0, "edited by bob")
	// A revision Gatehouse does not have (yet): after the wait, 503, fail closed.
	a = bobC.want(503, "GET", "/docs/reports/q1", "", rev+1000, "unavailable")
	if a.header.Get("Retry-After") == "" {
		t.Errorf("the 503 has no Retry-After")
	}

	// Registering a folder needs create_folder on the root folder.
	aliceC.want(403, "POST", "/folders/minutes", "", 0)
	rev = level(s.rootID, writers, "create_folder")
	a = aliceC.want(201, "POST", "/folders/minutes", "", rev, `"name":"minutes"`)
	if a.revision() <= rev {
		t.Fatalf("the folder's registration answered revision %d, want above %d", a.revision(), rev)
	}
	// The new folder inherits the root's levels at once, given its revision.
	aliceC.want(201, "PUT", "/docs/minutes/m1", "minutes", a.revision())
	bobC.want(403, "GET", "/docs/minutes/m1", "", 0)
	aliceC.want(204, "DELETE", "/docs/minutes/m1", "", 0)
	aliceC.want(404, "GET", "/docs/minutes/m1", "", 0)

	// Gatehouse stops: every request is refused (fail closed).
	stopGatehouse(t, gh)
	bobC.want(503, "GET", "/docs/reports/q1", "", 0, "unavailable")
	aliceC.want(503, "PUT", "/docs/reports/q1", "while down", 0)
	carolC.want(503, "GET", "/folders", "", 0)
	// A user not seen before cannot even be looked up.
	if a := as("dave").want(503, "GET", "/docs/reports/q1", "", 0); a.header.Get("Retry-After") == "" {
		t.Errorf("the 503 of a failed user lookup has no Retry-After")
	}
}
