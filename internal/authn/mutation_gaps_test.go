package authn

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Tests for what mutation testing found unpinned in sessions.go
// (docs/testing.md): each was a surviving mutant.

// TestR29LoginAuditSaysWhenTheHashWasUpgraded: the sign-in's audit record
// says the stored hash changed, and says so only when it did.
func TestR29LoginAuditSaysWhenTheHashWasUpgraded(t *testing.T) {
	e := newEnv(t)
	old := cheap
	old.Memory = 512
	e.user("ron", "pw", old)
	const upgraded = "; password hash upgraded to the current argon2id costs"
	e.login("ron", "pw")
	if evs := e.audit(ActionLogin); len(evs) != 1 || !strings.Contains(evs[0].Detail, upgraded+";") {
		t.Fatalf("first sign-in's audit = %+v, want one record saying %q before the session", evs, upgraded)
	}
	e.login("ron", "pw")
	if evs := e.audit(ActionLogin); len(evs) != 2 || strings.Contains(evs[0].Detail, "upgraded") {
		t.Errorf("second sign-in's audit = %q, want no upgrade mentioned", evs[0].Detail)
	}
}

// TestR29LogoutAuditNamesTheUser: the sign-out record carries the
// user's name, not their id.
func TestR29LogoutAuditNamesTheUser(t *testing.T) {
	e := newEnv(t)
	u := e.user("lou", "pw", cheap)
	ns := e.login("lou", "pw")
	e.must(e.a.Logout(e.ctx, ns.Secret, "192.0.2.1:1"))
	evs := e.audit(ActionLogout)
	if len(evs) != 1 || evs[0].ActorName != "lou" || evs[0].ActorID != u.ID || evs[0].RemoteAddr != "192.0.2.1:1" {
		t.Errorf("logout audit = %+v, want actor lou (%s) from 192.0.2.1:1", evs, u.ID)
	}
	if got := nameOr("", "u-1"); got != "u-1" {
		t.Errorf("nameOr without a name = %q, want the id", got)
	}
}

// TestPruneKeepsADayOfEndedSessions: a session that ended less than a
// day ago is kept for whoever investigates a sign-in; one that ended more
// than a day ago goes.
func TestPruneKeepsADayOfEndedSessions(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Lifetime = time.Hour })
	e.user("pia", "pw", cheap)
	e.login("pia", "pw")
	e.clock.advance(24 * time.Hour) // ended 23 hours ago
	if n, err := e.a.Prune(e.ctx); err != nil || n != 0 {
		t.Errorf("Prune 23 h after the end = %d, %v; want 0", n, err)
	}
	e.clock.advance(2 * time.Hour) // ended 25 hours ago
	if n, err := e.a.Prune(e.ctx); err != nil || n != 1 {
		t.Errorf("Prune 25 h after the end = %d, %v; want 1", n, err)
	}
}

// TestPruneFailureIsReported: Prune's error keeps its kind and says where.
func TestPruneFailureIsReported(t *testing.T) {
	e := newEnv(t)
	e.st.Close()
	n, err := e.a.Prune(e.ctx)
	if err == nil || n != 0 || !strings.Contains(err.Error(), "authn.Prune") {
		t.Errorf("Prune on a closed store = %d, %v; want 0 and an error from authn.Prune", n, err)
	}
	if domain.Is(err, domain.KindNotFound) {
		t.Errorf("a closed store read as not found: %v", err)
	}
}

// syncBuffer is a log destination safe for PruneEvery's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPruneEveryLogsFailuresOnly: a pruning that fails while the server
// runs is logged (and retried at the next tick); one that succeeds is not.
func TestPruneEveryLogsFailuresOnly(t *testing.T) {
	const warning = "pruning ended sessions failed"
	for _, fail := range []bool{false, true} {
		var logged syncBuffer
		e := newEnv(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logged, nil)) })
		if fail {
			e.st.Close()
		}
		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() { e.a.PruneEvery(ctx, 20*time.Millisecond); close(done) }()
		deadline := time.Now().Add(5 * time.Second)
		for fail && !strings.Contains(logged.String(), warning) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !fail {
			time.Sleep(100 * time.Millisecond) // a few ticks
		}
		cancel()
		<-done
		if got := strings.Contains(logged.String(), warning); got != fail {
			t.Errorf("store failing %v: warning logged %v, want %v; log:\n%s", fail, got, fail, logged.String())
		}
	}
}
