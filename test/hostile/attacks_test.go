package hostile

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // reads the server's database directly, as an attacker with a copy of it would

	"github.com/gatehouse/gatehouse/internal/testfigures"
)

// The attack table of issue 9, item 3. Unit-level tests of the same
// defences live next to the code and are referenced here: the throttle
// policy (internal/authn/throttle_test.go), session lifetime and hashing
// (internal/authn/sessions_test.go), token refusals and escalation
// (internal/authn/tokens_test.go), cookie attributes
// (internal/authn/httpauth/httpauth_test.go TestSessionCookieAttributes)
// and delegated administration (internal/service). These tests attack the
// real binary over HTTP and its CLI, as an attacker would.

// attempts counts the attack attempts, for the figure lines: the
// limited-administrator table (refused and audited), and the other
// attacks (refused; most never reach a write, so there is nothing to
// audit: a dead session, a cross-site form).
var attempts struct {
	sync.Mutex
	n, refused, audited int // the table
	other, otherRefused int // everything else
}

// attempted records one attempt outside the table.
func attempted(refused, _ bool) {
	attempts.Lock()
	defer attempts.Unlock()
	attempts.other++
	if refused {
		attempts.otherRefused++
	}
}

// tableAttempt records one row of the limited-administrator table.
func tableAttempt(refused, audited bool) {
	attempts.Lock()
	defer attempts.Unlock()
	attempts.n++
	if refused {
		attempts.refused++
	}
	if audited {
		attempts.audited++
	}
}

func printAttackFigure(t *testing.T) {
	attempts.Lock()
	defer attempts.Unlock()
	if attempts.n > 0 {
		word := "all refused and audited"
		switch {
		case attempts.refused != attempts.n:
			word = fmt.Sprintf("%d refused, %d audited", attempts.refused, attempts.audited)
		case attempts.audited != attempts.n:
			word = fmt.Sprintf("all refused, only %d audited", attempts.audited)
		}
		testfigures.Record(t, fmt.Sprintf("attacks: %d attempts by limited administrators across REST, SCIM, console and CLI, %s", attempts.n, word))
	}
	if attempts.other > 0 {
		word := "all refused"
		if attempts.otherRefused != attempts.other {
			word = fmt.Sprintf("%d refused", attempts.otherRefused)
		}
		testfigures.Record(t, fmt.Sprintf("attacks: %d more attempts (password guessing, planted and dead sessions, dead tokens, cross-site forms, forged, stolen and replayed OpenID Connect callbacks), %s", attempts.other, word))
	}
}

// TestAttacks runs the attack table's parts in parallel (the throttling
// part waits out a lock) and prints the figure line when all are done.
func TestAttacks(t *testing.T) {
	t.Parallel()
	t.Run("group", func(t *testing.T) {
		t.Run("PasswordGuessing", func(t *testing.T) { t.Parallel(); attackPasswordGuessing(t) })
		t.Run("Sessions", func(t *testing.T) { t.Parallel(); attackSessions(t) })
		t.Run("CookieOverTLS", func(t *testing.T) { t.Parallel(); attackCookieTLS(t) })
		t.Run("Tokens", func(t *testing.T) { t.Parallel(); attackTokens(t) })
		t.Run("CSRF", func(t *testing.T) { t.Parallel(); attackCSRF(t) })
		t.Run("LimitedAdministrator", func(t *testing.T) { t.Parallel(); attackLimitedAdmin(t) })
		t.Run("OIDC", func(t *testing.T) { t.Parallel(); attackOIDC(t) })
	})
	printAttackFigure(t)
}

// ---- password guessing ----

func login(t *testing.T, base, username, password string) response {
	t.Helper()
	return newClient(base, "").do(t, "POST", "/api/v1/login", map[string]any{"username": username, "password": password})
}

// auditCount counts audit records matching q (as an administrator).
func auditCount(t *testing.T, api *client, q url.Values, outcome string) int {
	t.Helper()
	q.Set("limit", "1000")
	m := api.must(t, 200, "GET", "/api/v1/audit?"+q.Encode(), nil)
	items, _ := m["items"].([]any)
	n := 0
	for _, it := range items {
		if o, _ := it.(map[string]any)["outcome"].(string); outcome == "" || o == outcome {
			n++
		}
	}
	return n
}

func attackPasswordGuessing(t *testing.T) {
	s := start(t)
	api := newClient(s.URL, adminToken(t, s.URL))
	api.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": "alice", "password": "alice-password-1"})
	api.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": "bob", "password": "bob-password-1"})

	// Per account: five wrong guesses, then even the right password is
	// refused with 429 and Retry-After.
	for i := range 5 {
		r := login(t, s.URL, "alice", fmt.Sprintf("guess-%d", i))
		attempted(r.Status == 401, false)
		if r.Status != 401 {
			t.Fatalf("guess %d = %d, want 401: %s", i, r.Status, r.Body)
		}
	}
	r := login(t, s.URL, "alice", "alice-password-1")
	attempted(r.Status == 429, false)
	retry, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.Status != 429 || retry < 1 || retry > 30 {
		t.Fatalf("the right password after 5 failures = %d Retry-After %q, want 429 within 30 s: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	// Every failed guess is in the audit log.
	if n := auditCount(t, api, url.Values{"action": {"auth.login"}}, "denied"); n < 5 {
		t.Errorf("%d denied sign-ins in the audit log, want at least 5", n)
	}
	// The real user is not locked out for good: after the window the
	// right password works.
	time.Sleep(time.Duration(retry)*time.Second + 500*time.Millisecond)
	if r := login(t, s.URL, "alice", "alice-password-1"); r.Status != 200 {
		t.Fatalf("after the %d s lock, the right password = %d, want 200: %s", retry, r.Status, r.Body)
	}

	// Per address: guesses spread over many usernames (each under the
	// per-account limit) lock the address, for bob too.
	locked := false
	for i := range 25 {
		r := login(t, s.URL, fmt.Sprintf("nobody%d", i), "guess")
		attempted(r.Status == 401 || r.Status == 429, false)
		if r.Status == 429 {
			locked = true
			break
		}
	}
	r = login(t, s.URL, "bob", "bob-password-1")
	if !locked || r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("after 20+ failures from one address, bob's right password = %d (locked %v), want 429 with Retry-After", r.Status, locked)
	}
	attempted(r.Status == 429, r.Status == 429)
	s.checkLog(t)
}

// ---- sessions ----

// sessionCookie is the session cookie an answer sets (the last one: an
// answer may first clear an old cookie).
func sessionCookie(r response) *http.Cookie {
	var ck *http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "gatehouse_session" && c.Value != "" {
			ck = c
		}
	}
	return ck
}

// withCookie sends a request with only the given session cookie.
func withCookie(t *testing.T, base, value, method, path string) response {
	t.Helper()
	c := newClient(base, "")
	return c.raw(t, method, path, http.Header{"Cookie": {"gatehouse_session=" + value}}, nil)
}

func attackSessions(t *testing.T) {
	s := start(t)
	api := newClient(s.URL, adminToken(t, s.URL))
	alice := idOf(t, api.must(t, 201, "POST", "/api/v1/users", map[string]any{"username": "alice", "password": "alice-password-1"}))

	// Session fixation: a cookie value set before sign-in is not adopted.
	planted := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	c := newClient(s.URL, "")
	c.origin, c.fetchSite = s.URL, "same-origin"
	r := c.raw(t, "POST", "/login", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {"gatehouse_session=" + planted}},
		[]byte(url.Values{"username": {"alice"}, "password": {"alice-password-1"}}.Encode()))
	ck := sessionCookie(r)
	fixated := r.Status != 303 || ck == nil || ck.Value == planted
	attempted(!fixated, true)
	if fixated {
		t.Fatalf("sign-in with a planted cookie = %d, cookie %+v: want a new session id", r.Status, ck)
	}
	if r := withCookie(t, s.URL, planted, "GET", "/api/v1/me"); r.Status != 401 {
		t.Errorf("the planted cookie after sign-in = %d, want 401", r.Status)
	}
	// Cookie flags over plain HTTP: HttpOnly, SameSite=Lax, Path=/, not
	// Secure (the TLS case is checked by the httpauth tests and, when the
	// binary serves TLS, by TestCookieSecureOverTLS).
	raw := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure || ck.Expires.IsZero() {
		t.Errorf("session cookie %q: want HttpOnly; SameSite=Lax; Path=/; Expires; no Secure over HTTP", raw)
	}
	// Another sign-in is another session.
	c2 := newClient(s.URL, "")
	c2.origin, c2.fetchSite = s.URL, "same-origin"
	other := sessionCookie(c2.raw(t, "POST", "/login", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		[]byte(url.Values{"username": {"alice"}, "password": {"alice-password-1"}}.Encode())))
	if other == nil || other.Value == ck.Value {
		t.Fatalf("a second sign-in reused the session id")
	}
	if r := withCookie(t, s.URL, ck.Value, "GET", "/api/v1/me"); r.Status != 200 {
		t.Fatalf("the session cookie = %d, want 200 on /api/v1/me", r.Status)
	}

	// Logout revokes the session on the server: a copied cookie is dead.
	copied := ck.Value
	lc := newClient(s.URL, "")
	lc.origin, lc.fetchSite = s.URL, "same-origin"
	lr := lc.raw(t, "POST", "/logout", http.Header{"Cookie": {"gatehouse_session=" + copied}, "Content-Type": {"application/x-www-form-urlencoded"}}, nil)
	if lr.Status != 303 {
		t.Errorf("console sign-out = %d, want 303", lr.Status)
	}
	r = withCookie(t, s.URL, copied, "GET", "/api/v1/me")
	attempted(r.Status == 401, true)
	if r.Status != 401 {
		t.Errorf("a copied cookie after sign-out = %d, want 401", r.Status)
	}

	// A password change revokes the user's other sessions.
	if r := withCookie(t, s.URL, other.Value, "GET", "/api/v1/me"); r.Status != 200 {
		t.Fatalf("the second session = %d before the password change", r.Status)
	}
	api.must(t, 200, "PUT", "/api/v1/users/"+alice+"/password", map[string]any{"password": "alice-password-2"})
	r = withCookie(t, s.URL, other.Value, "GET", "/api/v1/me")
	attempted(r.Status == 401, true)
	if r.Status != 401 {
		t.Errorf("a session after its user's password was changed = %d, want 401", r.Status)
	}
	if r := login(t, s.URL, "alice", "alice-password-1"); r.Status != 401 {
		t.Errorf("the old password after the change = %d, want 401", r.Status)
	}
	s.checkLog(t)
}

// ---- tokens ----

func attackTokens(t *testing.T) {
	s := start(t)
	c := newClient(s.URL, "")
	c.must(t, 200, "POST", "/api/v1/login", map[string]any{"username": "admin", "password": adminPassword})
	created := c.must(t, 201, "POST", "/api/v1/tokens", map[string]any{"name": "stored"})
	secret := created["secret"].(string)
	tokenID := created["token"].(map[string]any)["id"].(string)
	api := newClient(s.URL, secret)
	api.must(t, 200, "GET", "/api/v1/me", nil)

	// Stored hashed only: no column of any row of the token and session
	// tables holds the secret, and the token's row holds its SHA-256,
	// which is what the server looks the token up by.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.dir, "gatehouse.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sum := sha256.Sum256([]byte(secret))
	for _, table := range []string{"api_tokens", "sessions"} {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if strings.Contains(fmt.Sprint(v), secret) || strings.Contains(fmt.Sprintf("%s", v), secret[3:]) {
					t.Errorf("%s.%s holds the token in plain text", table, cols[i])
				}
			}
		}
		rows.Close()
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM api_tokens WHERE id = ? AND token_hash = ?", tokenID, hex.EncodeToString(sum[:])).Scan(&n); err != nil || n != 1 {
		t.Errorf("the token's row does not hold its SHA-256 (%d rows, %v)", n, err)
	}

	// Compared in constant time: the secret is hashed and looked up by
	// its hash, in the cache and in the database (no comparison of
	// secrets in Go code); passwords are compared with crypto/subtle.
	for file, want := range map[string][]string{
		"internal/authn/tokens.go": {"sum := sha256.Sum256(b[:])", "a.tokens.get(sum, a.now())",
			"GetAPITokenByHash(ctx, hex.EncodeToString(sum[:]))"},
		"internal/authn/password/password.go": {"subtle.ConstantTimeCompare("},
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				t.Errorf("%s no longer contains %q: check that secrets are still compared in constant time", file, w)
			}
		}
	}

	// Revoked: refused at once (on this server; the cache is dropped).
	api.must(t, 204, "DELETE", "/api/v1/tokens/"+tokenID, nil)
	r := api.do(t, "GET", "/api/v1/me", nil)
	attempted(r.Status == 401, true)
	if r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("a revoked token = %d %q, want 401 invalid_token", r.Status, r.Header.Get("WWW-Authenticate"))
	}
	// Expired: refused once its expiry has passed, cached or not.
	exp := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	short := c.must(t, 201, "POST", "/api/v1/tokens", map[string]any{"name": "short", "expires_at": exp.Format(time.RFC3339)})
	sc := newClient(s.URL, short["secret"].(string))
	sc.must(t, 200, "GET", "/api/v1/me", nil)
	time.Sleep(time.Until(exp) + 300*time.Millisecond)
	r = sc.do(t, "GET", "/api/v1/me", nil)
	attempted(r.Status == 401, true)
	if r.Status != 401 {
		t.Errorf("an expired token = %d, want 401", r.Status)
	}
	// A token never falls back to anonymous: a mistyped one is a 401 too.
	r = newClient(s.URL, secret[:len(secret)-1]+"x").do(t, "GET", "/api/v1/groups", nil)
	attempted(r.Status == 401, true)
	if r.Status != 401 {
		t.Errorf("a mistyped token = %d, want 401", r.Status)
	}
	s.checkLog(t)
}

// ---- CSRF ----

func attackCSRF(t *testing.T) {
	s := start(t)
	api := newClient(s.URL, adminToken(t, s.URL))
	fx := makeFixtures(t, api)
	con := consoleClient(t, s.URL, "admin", adminPassword)
	before := auditCount(t, api, url.Values{}, "")
	routes := consoleRoutes(t)
	fields := consoleFields(t)
	form := url.Values{}
	for _, f := range fields {
		form.Set(f, "csrf")
	}
	form.Set("status", "disabled")
	form.Set("confirm", "on")
	posts := 0
	for _, rt := range routes {
		if rt.method != http.MethodPost {
			continue
		}
		posts++
		for _, v := range []struct{ origin, site string }{
			{"https://evil.example", "cross-site"},
			{"https://evil.example", ""},
			{"null", "cross-site"},
			{s.URL + ".evil.example", "same-site"},
		} {
			evil := *con
			evil.origin, evil.fetchSite = v.origin, v.site
			h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			if v.site == "" {
				evil.origin = ""
				h.Set("Origin", v.origin)
			}
			r := evil.raw(t, "POST", fx.fill(rt.pattern, "", ""), h, []byte(form.Encode()))
			refused := r.Status == 403 && strings.HasPrefix(r.Header.Get("Content-Type"), "text/html")
			// A refused cross-site form is refused before it reaches the
			// session or the service, so it writes nothing; the check
			// below that the audit log did not grow is its record.
			attempted(refused, refused)
			if !refused {
				t.Errorf("cross-site POST %s (Origin %s, Sec-Fetch-Site %q) = %d, want 403: %.200s", rt.pattern, v.origin, v.site, r.Status, r.Body)
			}
		}
	}
	if posts < 20 {
		t.Errorf("found %d console POST routes; the route pattern changed?", posts)
	}
	if after := auditCount(t, api, url.Values{}, ""); after != before {
		t.Errorf("the audit log grew from %d to %d records: a cross-site form changed something", before, after)
	}
	u := api.must(t, 200, "GET", "/api/v1/users/"+fx.user, nil)
	g := api.must(t, 200, "GET", "/api/v1/groups/"+fx.group, nil)
	if u["status"] != "active" || g["name"] != "Hostile Group" {
		t.Errorf("after the cross-site forms: user %v, group %v; want them unchanged", u["status"], g["name"])
	}
	// The same forms from the console itself do get through (the check
	// is not refusing everything).
	if r := con.form(t, "/admin/groups/"+fx.group+"/general", url.Values{"name": {"Renamed"}, "description": {""}}); r.Status != 303 {
		t.Errorf("same-origin rename = %d, want 303", r.Status)
	}
	if g := api.must(t, 200, "GET", "/api/v1/groups/"+fx.group, nil); g["name"] != "Renamed" {
		t.Errorf("same-origin rename left the name %v", g["name"])
	}
	s.checkLog(t)
}
