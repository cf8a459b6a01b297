package authn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

func TestLoginOpensASession(t *testing.T) {
	e := newEnv(t)
	u := e.user("Alice", "correct horse", cheap)
	ns := e.login("  alice ", "correct horse") // trimmed, any case
	if !wellFormedSession(ns.Secret) {
		t.Errorf("session secret %q is not 32 random bytes in base64url", ns.Secret)
	}
	if ns.Identity.UserID != u.ID || ns.Identity.Username != "Alice" || ns.Identity.SessionID != ns.Session.ID {
		t.Errorf("Login identity = %+v, want user %s Alice with session %s", ns.Identity, u.ID, ns.Session.ID)
	}
	now := e.clock.now()
	if !ns.Session.CreatedAt.Equal(now) || !ns.Session.ExpiresAt.Equal(now.Add(DefaultLifetime)) {
		t.Errorf("session created %v expires %v, want %v and %v (default lifetime 7 days)", ns.Session.CreatedAt, ns.Session.ExpiresAt, now, now.Add(DefaultLifetime))
	}
	if ns.Session.RemoteAddr != "192.0.2.10:5555" || ns.Session.UserAgent != "test-agent/1.0" {
		t.Errorf("session remote %q agent %q, want the caller's", ns.Session.RemoteAddr, ns.Session.UserAgent)
	}
	id, err := e.a.AuthenticateSession(e.ctx, ns.Secret)
	e.must(err)
	if id.UserID != u.ID || id.SessionID != ns.Session.ID || id.Limited() {
		t.Errorf("AuthenticateSession = %+v, want user %s, session %s, no limit", id, u.ID, ns.Session.ID)
	}
	evs := e.audit(ActionLogin)
	if len(evs) != 1 {
		t.Fatalf("audit %s: %d records, want 1", ActionLogin, len(evs))
	}
	ev := evs[0]
	if ev.Outcome != domain.OutcomeSuccess || ev.ActorID != u.ID || ev.TargetID != u.ID || ev.RemoteAddr != "192.0.2.10:5555" || !strings.Contains(ev.Detail, ns.Session.ID) {
		t.Errorf("login audit = %+v, want success by and about %s from 192.0.2.10:5555 naming the session", ev, u.ID)
	}
}

// TestSecretsAreStoredOnlyAsHashes reads the database file itself: no
// row of any table holds a session secret or an API token in clear.
func TestSecretsAreStoredOnlyAsHashes(t *testing.T) {
	e := newEnv(t)
	u := e.user("bob", "pw-bob-1", cheap)
	ns := e.login("bob", "pw-bob-1")
	nt, err := e.a.CreateToken(e.ctx, ns.Identity, TokenRequest{Name: "ci"})
	e.must(err)

	db, err := sql.Open("sqlite", "file:"+e.path+"?mode=ro")
	e.must(err)
	defer db.Close()
	secrets := map[string]string{"session secret": ns.Secret, "API token": nt.Secret, "API token body": nt.Secret[len(TokenPrefix):]}
	for _, table := range []string{"sessions", "api_tokens", "audit", "users", "changes"} {
		rows, err := db.Query(`SELECT * FROM ` + table)
		e.must(err)
		cols, err := rows.Columns()
		e.must(err)
		n := 0
		for rows.Next() {
			n++
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			e.must(rows.Scan(ptrs...))
			for i, v := range vals {
				text := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					text = string(b)
				}
				for what, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("table %s column %s holds the %s in clear", table, cols[i], what)
					}
				}
			}
		}
		e.must(rows.Err())
		rows.Close()
		if (table == "sessions" || table == "api_tokens") && n != 1 {
			t.Errorf("table %s has %d rows, want 1", table, n)
		}
	}
	var sh, th string
	e.must(db.QueryRow(`SELECT token_hash FROM sessions WHERE user_id = ?`, u.ID).Scan(&sh))
	e.must(db.QueryRow(`SELECT token_hash FROM api_tokens WHERE user_id = ?`, u.ID).Scan(&th))
	if sh != HashSecret(ns.Secret) || th != HashSecret(nt.Secret) {
		t.Errorf("stored hashes %s / %s, want the SHA-256 of the secrets", sh, th)
	}
}

func TestLoginFailuresAreGenericAndAudited(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", "right", cheap)
	dora := e.user("dora", "right", cheap)
	e.setStatus(dora.ID, domain.UserDisabled)
	scim := e.user("sam", "", cheap) // no password: SCIM or OIDC user
	cases := []struct {
		name, username, pw string
		target             string // the audit record's TargetID
		detail             string
		hash               string // the hash verified ("" = the dummy)
	}{
		{"wrong password", "alice", "wrong", alice.ID, "invalid username or password", alice.PasswordHash},
		{"unknown user", "nobody", "right", "", "invalid username or password", ""},
		{"empty username", "", "right", "", "invalid username or password", ""},
		{"R11 disabled user, right password", "dora", "right", dora.ID, "the account is disabled (R11)", dora.PasswordHash},
		{"R11 disabled user, wrong password", "dora", "wrong", dora.ID, "the account is disabled (R11)", dora.PasswordHash},
		{"user without a password", "sam", "", scim.ID, "invalid username or password", ""},
		{"control characters", "eve\x00\n", "x", "", "invalid username or password", ""},
	}
	var msg string
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.verifications()
			_, err := e.a.Login(e.ctx, c.username, c.pw, fmt.Sprintf("198.51.100.%d:1", i), "ua")
			wantUnauth(t, "Login", err)
			if RetryAfterOf(err) != 0 {
				t.Errorf("Login throttled already: %v", err)
			}
			if msg == "" {
				msg = err.Error()
			} else if err.Error() != msg {
				t.Errorf("error %q differs from the first case's %q: it must not tell which part was wrong", err, msg)
			}
			// Timing: one argon2id verification in every case, against
			// the dummy hash when there is no usable user hash.
			want := c.hash
			if want == "" {
				want = e.a.dummyHash
			}
			if v := e.verifications(); len(v) != 1 || v[0] != want {
				t.Errorf("verified hashes %v, want exactly one (%s)", v, map[bool]string{true: "the dummy hash", false: "the user's"}[c.hash == ""])
			}
			evs := e.audit(ActionLogin)
			if len(evs) == 0 {
				t.Fatalf("no %s audit record", ActionLogin)
			}
			ev := evs[0]
			if ev.Outcome != domain.OutcomeDenied || ev.ActorID != "" || ev.TargetID != c.target || ev.Detail != c.detail {
				t.Errorf("audit = outcome %s actor %q target %q detail %q, want denied, no actor, target %q, detail %q",
					ev.Outcome, ev.ActorID, ev.TargetID, ev.Detail, c.target, c.detail)
			}
			if strings.ContainsAny(ev.ActorName, "\x00\n") {
				t.Errorf("audit actor name %q keeps control characters", ev.ActorName)
			}
		})
	}
	if n := len(e.audit(ActionLogin)); n != len(cases) {
		t.Errorf("%d login audit records, want %d", n, len(cases))
	}
}

func TestLoginRehashesOldHashes(t *testing.T) {
	e := newEnv(t)
	old := cheap
	old.Memory = 512
	u := e.user("ron", "pw", old)
	if !password.NeedsRehash(u.PasswordHash, cheap) {
		t.Fatal("test setup: the old hash should need a rehash")
	}
	ns := e.login("ron", "pw")
	if _, err := e.a.AuthenticateSession(e.ctx, ns.Secret); err != nil {
		t.Errorf("the session of the sign-in that rehashed does not authenticate: %v", err)
	}
	got, err := e.st.GetUser(e.ctx, u.ID)
	e.must(err)
	if got.PasswordHash == u.PasswordHash || password.NeedsRehash(got.PasswordHash, cheap) {
		t.Errorf("hash after login = %s, want a new hash with the current costs", got.PasswordHash)
	}
	if err := password.Verify("pw", got.PasswordHash); err != nil {
		t.Errorf("the new hash does not verify the password: %v", err)
	}
	e.login("ron", "pw")
	again, _ := e.st.GetUser(e.ctx, u.ID)
	if again.PasswordHash != got.PasswordHash {
		t.Errorf("a current hash was rehashed again")
	}
}

func TestSessionLifetimeAndIdleTimeout(t *testing.T) {
	const idle, life = time.Hour, 3 * time.Hour
	cases := []struct {
		name  string
		steps []time.Duration // time between uses of the session
		ok    []bool          // whether each use is admitted
	}{
		{"used within the idle timeout", []time.Duration{59 * time.Minute, 59 * time.Minute}, []bool{true, true}},
		{"idle exactly the timeout", []time.Duration{time.Hour}, []bool{false}},
		{"idle past the timeout", []time.Duration{61 * time.Minute, time.Second}, []bool{false, false}},
		{"busy until the absolute lifetime", []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 29 * time.Minute, time.Minute}, []bool{true, true, true, true, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.IdleTimeout, o.Lifetime = idle, life })
			e.user("ida", "pw", cheap)
			ns := e.login("ida", "pw")
			for i, d := range c.steps {
				e.clock.advance(d)
				_, err := e.a.AuthenticateSession(e.ctx, ns.Secret)
				if c.ok[i] && err != nil {
					t.Errorf("use %d after %v: %v, want admitted", i, d, err)
				}
				if !c.ok[i] {
					wantUnauth(t, fmt.Sprintf("use %d after %v", i, d), err)
				}
			}
		})
	}
}

func TestSessionTouchedAtMostOncePerInterval(t *testing.T) {
	e := newEnv(t)
	e.user("tim", "pw", cheap)
	ns := e.login("tim", "pw")
	t0 := ns.Session.LastSeenAt
	seen := func() time.Time {
		s, err := e.st.GetSessionByHash(e.ctx, HashSecret(ns.Secret))
		e.must(err)
		return s.LastSeenAt
	}
	steps := []struct {
		advance time.Duration
		want    time.Time
	}{
		{10 * time.Second, t0},                  // too soon: no write
		{49 * time.Second, t0},                  // 59 s: still no write
		{time.Second, t0.Add(time.Minute)},      // a minute: written
		{30 * time.Second, t0.Add(time.Minute)}, // too soon again
	}
	for i, s := range steps {
		e.clock.advance(s.advance)
		_, err := e.a.AuthenticateSession(e.ctx, ns.Secret)
		e.must(err)
		if got := seen(); !got.Equal(s.want) {
			t.Errorf("step %d: LastSeenAt = %v, want %v", i, got, s.want)
		}
	}
}

func TestMalformedAndUnknownSessionSecrets(t *testing.T) {
	e := newEnv(t)
	for _, s := range []string{"", "short", strings.Repeat("a", 42), strings.Repeat("!", 43), newSessionSecret()} {
		_, err := e.a.AuthenticateSession(e.ctx, s)
		wantUnauth(t, fmt.Sprintf("AuthenticateSession(%q)", s), err)
	}
}

func TestLogoutRevokesTheSession(t *testing.T) {
	e := newEnv(t)
	u := e.user("lou", "pw", cheap)
	ns := e.login("lou", "pw")
	other := e.login("lou", "pw")
	e.must(e.a.Logout(e.ctx, ns.Secret, "192.0.2.1"))
	_, err := e.a.AuthenticateSession(e.ctx, ns.Secret)
	wantUnauth(t, "AuthenticateSession after Logout", err)
	if _, err := e.a.AuthenticateSession(e.ctx, other.Secret); err != nil {
		t.Errorf("the user's other session after Logout: %v, want it still valid", err)
	}
	// Signing out again, or with junk, is not an error and not audited.
	e.must(e.a.Logout(e.ctx, ns.Secret, "192.0.2.1"))
	e.must(e.a.Logout(e.ctx, "junk", "192.0.2.1"))
	evs := e.audit(ActionLogout)
	if len(evs) != 1 || evs[0].ActorID != u.ID || evs[0].Outcome != domain.OutcomeSuccess || !strings.Contains(evs[0].Detail, ns.Session.ID) {
		t.Errorf("logout audit = %+v, want one success by %s naming session %s", evs, u.ID, ns.Session.ID)
	}
}

func TestRevokeUserSessions(t *testing.T) {
	e := newEnv(t)
	u := e.user("rita", "pw", cheap)
	e.user("otto", "pw", cheap)
	s1, s2 := e.login("rita", "pw"), e.login("rita", "pw")
	o := e.login("otto", "pw")
	admin := domain.Principal{UserID: "admin-id", Username: "admin", RemoteAddr: "192.0.2.99"}
	n, err := e.a.RevokeUserSessions(e.ctx, admin, u.ID, "password reset")
	e.must(err)
	if n != 2 {
		t.Errorf("RevokeUserSessions = %d, want 2", n)
	}
	for _, s := range []NewSession{s1, s2} {
		_, err := e.a.AuthenticateSession(e.ctx, s.Secret)
		wantUnauth(t, "a revoked user's session", err)
	}
	if _, err := e.a.AuthenticateSession(e.ctx, o.Secret); err != nil {
		t.Errorf("another user's session: %v", err)
	}
	evs := e.audit(ActionRevokeSessions)
	if len(evs) != 1 || evs[0].ActorID != "admin-id" || evs[0].TargetID != u.ID || !strings.Contains(evs[0].Detail, "password reset") {
		t.Errorf("revoke audit = %+v, want one by admin-id about %s giving the reason", evs, u.ID)
	}

	// Inside the service's own transaction: rolled back with it.
	s3 := e.login("rita", "pw")
	boom := errors.New("boom")
	_, err = e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := RevokeSessionsInTx(ctx, tx, admin, u.ID, "disabled"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	if _, err := e.a.AuthenticateSession(e.ctx, s3.Secret); err != nil {
		t.Errorf("session after a rolled-back revocation: %v, want still valid", err)
	}
}

func TestR11DisabledUserSessionRefused(t *testing.T) {
	e := newEnv(t)
	u := e.user("dan", "pw", cheap)
	ns := e.login("dan", "pw")
	e.setStatus(u.ID, domain.UserDisabled)
	_, err := e.a.AuthenticateSession(e.ctx, ns.Secret)
	wantUnauth(t, "session of a disabled user", err)
	e.setStatus(u.ID, domain.UserActive)
	if _, err := e.a.AuthenticateSession(e.ctx, ns.Secret); err != nil {
		t.Errorf("session after re-enabling: %v (disabling does not revoke by itself; the service revokes)", err)
	}
}

func TestPrune(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Lifetime = time.Hour })
	e.user("pam", "pw", cheap)
	e.login("pam", "pw")
	n, err := e.a.Prune(e.ctx)
	e.must(err)
	if n != 0 {
		t.Errorf("Prune of a live session = %d, want 0", n)
	}
	e.clock.advance(26 * time.Hour)
	n, err = e.a.Prune(e.ctx)
	e.must(err)
	if n != 1 {
		t.Errorf("Prune a day after expiry = %d, want 1", n)
	}
}

func TestPruneEveryStopsWithItsContext(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Lifetime = time.Hour })
	e.user("pete", "pw", cheap)
	ns := e.login("pete", "pw")
	e.clock.advance(26 * time.Hour)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.a.PruneEvery(ctx, time.Hour); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := e.st.GetSessionByHash(e.ctx, HashSecret(ns.Secret))
		if domain.Is(err, domain.KindNotFound) {
			break
		}
		e.must(err)
		if time.Now().After(deadline) {
			t.Fatal("PruneEvery did not prune at start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("PruneEvery did not return after its context ended")
	}
}

// TestUnreadableStoredHashRefusesAndTellsTheLog: a stored hash that cannot
// be parsed refuses the sign-in like a wrong password and is reported to
// the configured logger (the operator's only way to learn of it).
func TestUnreadableStoredHashRefusesAndTellsTheLog(t *testing.T) {
	var logged strings.Builder
	e := newEnv(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logged, nil)) })
	u := e.user("uma", "pw", cheap)
	_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error { return tx.SetPasswordHash(ctx, u.ID, "not-a-hash") })
	e.must(err)
	_, err = e.a.Login(e.ctx, "uma", "pw", "192.0.2.10:5555", "test-agent/1.0")
	wantUnauth(t, "a sign-in against an unreadable hash", err)
	if !strings.Contains(logged.String(), "cannot be read") || !strings.Contains(logged.String(), u.ID) {
		t.Errorf("the configured logger got %q, want the unreadable hash reported with the user id", logged.String())
	}
}

// TestCleanTextDropsControlsAndCutsAtACharacter: attacker-supplied text
// kept in the audit log and the session list loses its control characters
// and is cut to n bytes without splitting a character.
func TestCleanTextDropsControlsAndCutsAtACharacter(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\x00b\nc\x1b[31m", 20, "abc[31m"},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"hé", 2, "h"}, // é is two bytes: not split
		{"\xffx", 10, "\uFFFDx"},
	} {
		if got := cleanText(c.in, c.n); got != c.want {
			t.Errorf("cleanText(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
