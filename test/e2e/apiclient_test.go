package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// adminPassword is the initial administrator's password the stories start
// the binary with (GATEHOUSE_ADMIN_PASSWORD), so they can sign in as a
// person would instead of scraping the generated one from the log.
const adminPassword = "e2e-admin-Secret-1"

// obj is a decoded JSON object. The stories read answers generically on
// purpose: they test the wire format the OpenAPI document promises, not
// Go types shared with the server.
type obj = map[string]any

// client talks to a running server over HTTP as one caller: a bearer token,
// a session cookie (jar), or nothing (anonymous).
type client struct {
	t     *testing.T
	base  string // .../api/v1
	token string
	hc    *http.Client
}

// startStory starts the binary on a fresh database (SQLite in a temporary
// directory unless args name another with --db) with a known administrator
// password, and returns the base URL of the API.
func startStory(t *testing.T, args ...string) string {
	t.Helper()
	s := start(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_USER=admin", "GATEHOUSE_ADMIN_PASSWORD=" + adminPassword}, args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.Log())
		}
	})
	return s.URL + "/api/v1"
}

// anonymous returns a client that sends no credentials (the Public group).
func anonymous(t *testing.T, base string) *client {
	return &client{t: t, base: base, hc: &http.Client{Timeout: 30 * time.Second}}
}

// login signs in with POST /login; the session cookie it sets authenticates
// the client's later requests.
func login(t *testing.T, base, username, password string) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	c.call("POST", "/login", obj{"username": username, "password": password}, 200)
	u, _ := url.Parse(base)
	found := false
	for _, ck := range jar.Cookies(u) {
		found = found || ck.Name == "gatehouse_session"
	}
	if !found {
		t.Fatalf("POST /login as %s set no gatehouse_session cookie", username)
	}
	return c
}

// adminClient signs in as the initial administrator with the password, then
// switches to an API token made with that session: both ways of signing in
// are walked once per story.
func adminClient(t *testing.T, base string) *client {
	t.Helper()
	sess := login(t, base, "admin", adminPassword)
	tok := sess.call("POST", "/tokens", obj{"name": "e2e"}, 201)
	secret := str(t, tok, "secret")
	if !strings.HasPrefix(secret, "gh_") {
		t.Fatalf("token secret %q does not start with gh_", secret)
	}
	return &client{t: t, base: base, token: secret, hc: &http.Client{Timeout: 30 * time.Second}}
}

// raw sends one request and returns the status, headers and body.
func (c *client) raw(method, path string, body any, header ...string) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// call sends a request, fails the test unless the status is want, and
// decodes a JSON object answer (nil for an empty body).
func (c *client) call(method, path string, body any, want int, header ...string) obj {
	c.t.Helper()
	code, _, b := c.raw(method, path, body, header...)
	if code != want {
		c.t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, jsonString(body), code, want, b)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var o obj
	if err := json.Unmarshal(b, &o); err != nil {
		c.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, b)
	}
	return o
}

// problem sends a request that must be refused with status want and
// returns the problem document, whose detail must contain every one of
// mentions (so a refusal for the wrong reason fails the test).
func (c *client) problem(method, path string, body any, want int, mentions ...string) obj {
	c.t.Helper()
	p := c.call(method, path, body, want)
	text := jsonString(p)
	for _, m := range mentions {
		if !strings.Contains(text, m) {
			c.t.Errorf("%s %s: the %d problem does not mention %q: %s", method, path, want, m, text)
		}
	}
	return p
}

// check asks POST /check and fails unless the answer is want.
func (c *client) check(subject, perm, resource string, want bool) {
	c.t.Helper()
	body := obj{"permission": perm, "resource": resource}
	if subject != "" {
		body["subject"] = subject
	}
	got := c.call("POST", "/check", body, 200)
	if got["allowed"] != want {
		c.t.Errorf("check %s %s on %s = %v, want %v", subject, perm, resource, got["allowed"], want)
	}
	if _, ok := got["revision"].(float64); !ok {
		c.t.Errorf("check %s %s on %s: no revision in %v (R20)", subject, perm, resource, got)
	}
}

// audit lists audit events for the query (newest first).
func (c *client) audit(query string) []obj {
	c.t.Helper()
	return items(c.t, c.call("GET", "/audit?limit=1000&"+query, nil, 200))
}

// wantAudit fails unless the audit log has an event matching every field
// of want (string fields compared exactly) under the query, and returns
// the first such event.
func (c *client) wantAudit(query string, want obj) obj {
	c.t.Helper()
	evs := c.audit(query)
	for _, e := range evs {
		ok := true
		for k, v := range want {
			if fmt.Sprint(e[k]) != fmt.Sprint(v) {
				ok = false
				break
			}
		}
		if ok {
			return e
		}
	}
	c.t.Errorf("audit ?%s has no event with %v; got %d events:\n%s", query, want, len(evs), jsonString(evs))
	return obj{}
}

// create POSTs a new object and returns its id.
func (c *client) create(path string, body obj) string {
	c.t.Helper()
	return str(c.t, c.call("POST", path, body, 201), "id")
}

// user creates a local user with a password and returns its id.
func (c *client) user(username, password string) string {
	c.t.Helper()
	return c.create("/users", obj{"username": username, "password": password, "email": username + "@example.org",
		"display_name": strings.ToUpper(username[:1]) + username[1:]})
}

// addMembers adds users to a group and returns the answer (users,
// projects, rights_dropped, revision).
func (c *client) addMembers(groupID string, userIDs ...string) obj {
	c.t.Helper()
	var ms []obj
	for _, u := range userIDs {
		ms = append(ms, obj{"user_id": u})
	}
	return c.call("POST", "/groups/"+groupID+"/members", obj{"members": ms}, 200)
}

// etag reads an object and returns its ETag, for If-Match.
func (c *client) etag(path string) string {
	c.t.Helper()
	code, h, b := c.raw("GET", path, nil)
	if code != 200 || h.Get("ETag") == "" {
		c.t.Fatalf("GET %s: %d, ETag %q: %s", path, code, h.Get("ETag"), b)
	}
	return h.Get("ETag")
}

func str(t *testing.T, o obj, key string) string {
	t.Helper()
	s, ok := o[key].(string)
	if !ok || s == "" {
		t.Fatalf("no string %q in %s", key, jsonString(o))
	}
	return s
}

func items(t *testing.T, o obj) []obj {
	t.Helper()
	return list(t, o, "items")
}

// list returns the array of objects under key (empty when absent or null).
func list(t *testing.T, o obj, key string) []obj {
	t.Helper()
	raw, _ := o[key].([]any)
	out := make([]obj, 0, len(raw))
	for _, v := range raw {
		m, ok := v.(obj)
		if !ok {
			t.Fatalf("%q holds a non-object %v", key, v)
		}
		out = append(out, m)
	}
	return out
}

// ids collects field key of each object.
func ids(os []obj, key string) []string {
	var out []string
	for _, o := range os {
		if s, ok := o[key].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
		if seen[s] < 0 {
			return false
		}
	}
	return true
}

func jsonString(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// strs returns the array of strings under key (empty when absent or null).
func strs(o obj, key string) []string {
	raw, _ := o[key].([]any)
	var out []string
	for _, v := range raw {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
