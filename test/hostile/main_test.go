package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testserver"
)

// long runs the bigger corpus: more hostile values per field, longer
// strings and deeper nesting.
var long = flag.Bool("long", false, "run the bigger hostile-input corpus")

var binary string

// repoRoot is the module root, where docs/ and internal/ are read from.
var repoRoot = filepath.Join("..", "..")

func TestMain(m *testing.M) {
	flag.Parse()
	testserver.Main(m, "gatehouse-hostile", &binary)
}

const adminPassword = "hostile-admin-password-1"

// server is a running gatehouse process and its directory.
type server struct {
	*testserver.Server
	dir string
}

// start runs `gatehouse serve` on a fresh SQLite database in a temporary
// directory, with a known administrator password.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := testserver.Start(t, testserver.Options{Binary: binary, Dir: dir,
		Env:  []string{"GATEHOUSE_ADMIN_PASSWORD=" + adminPassword, "GATEHOUSE_ADMIN_USER=admin"},
		Args: append([]string{"--db", filepath.Join(dir, "gatehouse.db")}, args...)})
	// At the test's end, a graceful shutdown first (this runs before
	// Start's kill).
	t.Cleanup(func() { _ = s.Terminate(20 * time.Second) })
	return &server{Server: s, dir: dir}
}

// panicRE finds what a panic or a Go stack trace leaves in the log.
var panicRE = regexp.MustCompile(`(?i)panic|goroutine \d+ \[|runtime/debug\.Stack|\.go:\d+ \+0x`)

// checkLog fails when the server log shows a panic or a stack trace, and
// returns how many such lines it found.
func (s *server) checkLog(t *testing.T) int {
	t.Helper()
	var bad []string
	for _, l := range strings.Split(s.Log(), "\n") {
		if panicRE.MatchString(l) {
			bad = append(bad, l)
		}
	}
	if len(bad) > 0 {
		t.Errorf("the server log shows %d panic or stack trace lines, e.g.:\n%s", len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
	}
	return len(bad)
}

// client is one caller: a bearer token, or a cookie jar for the console.
type client struct {
	base  string
	token string
	http  *http.Client
	// origin, when set, is sent as Origin and Sec-Fetch-Site on every
	// request, as a browser does.
	origin, fetchSite string
}

func newClient(base, token string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{base: base, token: token, http: &http.Client{
		Jar:     jar,
		Timeout: 60 * time.Second,
		// The console answers forms with redirects: the tests look at
		// the redirect itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is an answer with its body read.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer is not a JSON object (%d): %v\n%s", r.Status, err, r.Body)
	}
	return m
}

// raw sends a request with a raw path (sent as is, not cleaned or
// re-encoded) and body; it fails the test when there is no answer.
func (c *client) raw(t testing.TB, method, rawPath string, header http.Header, body []byte) response {
	t.Helper()
	r, err := c.send(method, rawPath, header, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	return r
}

// send is raw without a test, for worker goroutines (which must not call
// t.Fatal).
func (c *client) send(method, rawPath string, header http.Header, body []byte) (response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	path, query, _ := strings.Cut(rawPath, "?")
	req.URL.RawQuery = query
	if u, err := url.Parse(c.base); err == nil {
		req.URL.Opaque = "//" + u.Host + path
	}
	if body == nil {
		req.Body = http.NoBody
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.token != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
		req.Header.Set("Sec-Fetch-Site", c.fetchSite)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("reading the answer: %w", err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// do sends a JSON body (any value, marshalled; nil for none).
func (c *client) do(t testing.TB, method, path string, body any) response {
	t.Helper()
	var b []byte
	h := http.Header{}
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
		h.Set("Content-Type", "application/json")
	}
	return c.raw(t, method, path, h, b)
}

// must sends a JSON request and fails unless the status is want.
func (c *client) must(t testing.TB, want int, method, path string, body any) map[string]any {
	t.Helper()
	r := c.do(t, method, path, body)
	if r.Status != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// form posts a form as a same-origin browser would.
func (c *client) form(t testing.TB, path string, v url.Values) response {
	t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	return c.raw(t, http.MethodPost, path, h, []byte(v.Encode()))
}

// consoleClient signs in to the console with a form and keeps the
// session cookie; it sends Origin and Sec-Fetch-Site as a same-origin
// browser does.
func consoleClient(t testing.TB, base, username, password string) *client {
	t.Helper()
	c := newClient(base, "")
	c.origin, c.fetchSite = base, "same-origin"
	r := c.form(t, "/login", url.Values{"username": {username}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("console sign-in as %s = %d, want 303: %s", username, r.Status, r.Body)
	}
	return c
}

// adminToken signs in over REST and creates an API token.
func adminToken(t testing.TB, base string) string {
	return tokenFor(t, base, "admin", adminPassword, nil)
}

// tokenFor signs in as username and creates a token, limited to perms
// when perms is not nil.
func tokenFor(t testing.TB, base, username, password string, perms []string) string {
	t.Helper()
	c := newClient(base, "")
	c.must(t, 200, "POST", "/api/v1/login", map[string]any{"username": username, "password": password})
	body := map[string]any{"name": "hostile test"}
	if perms != nil {
		body["permissions"] = perms
	}
	m := c.must(t, 201, "POST", "/api/v1/tokens", body)
	secret, _ := m["secret"].(string)
	if secret == "" {
		t.Fatalf("no token secret in %v", m)
	}
	return secret
}

func idOf(t testing.TB, m map[string]any) string {
	t.Helper()
	id, _ := m["id"].(string)
	if id == "" {
		t.Fatalf("no id in %v", m)
	}
	return id
}
