package authn

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// A refused OpenID Connect sign-in is unauthenticated, names why, and is
// audited as a denied sign-in naming the provider.
func TestRefuseOIDCIsUnauthenticatedAndAudited(t *testing.T) {
	e := newEnv(t)
	err := e.a.RefuseOIDC(e.ctx, "corp", "alice", "", "the email domain is not allowed", "192.0.2.1:1234")
	if !domain.Is(err, domain.KindUnauthenticated) || !strings.Contains(err.Error(), "the email domain is not allowed") {
		t.Fatalf("RefuseOIDC = %v, want unauthenticated naming the reason", err)
	}
	evs := e.audit(ActionLogin)
	if len(evs) != 1 || evs[0].Outcome != domain.OutcomeDenied || !strings.Contains(evs[0].Detail, "provider corp") {
		t.Errorf("audit = %+v, want one denied sign-in naming provider corp", evs)
	}
}

// Recording a session's use writes nothing to the log when it works.
func TestSessionTouchLogsNothing(t *testing.T) {
	var logged bytes.Buffer
	e := newEnv(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logged, nil)) })
	e.user("tim", "pw", cheap)
	ns := e.login("tim", "pw")
	e.clock.advance(2 * time.Minute)
	if _, err := e.a.AuthenticateSession(e.ctx, ns.Secret); err != nil {
		t.Fatal(err)
	}
	if logged.Len() > 0 {
		t.Errorf("a session's use, recorded, logged: %s", logged.String())
	}
}

// A bearer credential is taken for a JWT when it has three parts and is
// shorter than 16 KiB.
func TestLooksLikeJWTBounds(t *testing.T) {
	jwt := func(n int) string { return "a." + strings.Repeat("b", n-4) + ".c" }
	for _, c := range []struct {
		s    string
		want bool
	}{
		{jwt(16<<10 - 1), true}, {jwt(16 << 10), false}, {"a.b", false}, {"a.b.c.d", false}, {"a.b.c", true},
	} {
		if got := looksLikeJWT(c.s); got != c.want {
			t.Errorf("looksLikeJWT(%d bytes, %d dots) = %v, want %v", len(c.s), strings.Count(c.s, "."), got, c.want)
		}
	}
}

// The address throttle locks an address for 30 s at its 20th failure
// within 15 minutes, then doubles up to 15 minutes.
func TestDefaultAddrThrottle(t *testing.T) {
	th := newThrottle(DefaultAddrThrottle)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i < 20; i++ {
		if lock := th.fail("192.0.2.1", now); lock != 0 {
			t.Fatalf("failure %d locked for %v", i, lock)
		}
	}
	for _, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute} {
		if lock := th.fail("192.0.2.1", now); lock != want {
			t.Errorf("lock %v, want %v", lock, want)
		}
	}
}
