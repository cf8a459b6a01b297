package authn

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
)

// cheap keeps the tests fast; production uses password.Default.
var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is an Authenticator over a fresh SQLite store with a fake clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    *sqlite.DB
	path  string
	clock *clock
	a     *Authenticator

	mu       sync.Mutex
	verified []string // the hashes verifyPW was called with
}

func newEnv(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Near the real time: the store stamps revocations with its own clock.
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	o := Options{Now: c.now, PasswordParams: &cheap}
	for _, f := range opts {
		f(&o)
	}
	a, err := New(st, o)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, st: st, path: path, clock: c, a: a}
	a.verifyPW = func(pw, hash string) error {
		e.mu.Lock()
		e.verified = append(e.verified, hash)
		e.mu.Unlock()
		return password.Verify(pw, hash)
	}
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// verifications returns and forgets the hashes verified so far.
func (e *env) verifications() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	v := e.verified
	e.verified = nil
	return v
}

// user creates an active local user with password pw (none if empty).
func (e *env) user(name, pw string, params password.Params) domain.User {
	e.t.Helper()
	u := domain.User{Username: name, Email: name + "@example.org", Status: domain.UserActive, Source: domain.SourceLocal}
	var hash string
	if pw != "" {
		var err error
		hash, err = password.Hash(pw, params)
		e.must(err)
	}
	_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if hash != "" {
			if err := tx.SetPasswordHash(ctx, u.ID, hash); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "test", Action: "user.create", Outcome: domain.OutcomeSuccess})
	})
	e.must(err)
	u.PasswordHash = hash
	return u
}

// setStatus disables or enables a user.
func (e *env) setStatus(id string, st domain.UserStatus) {
	e.t.Helper()
	_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		u.Status = st
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "test", Action: "user.update", Outcome: domain.OutcomeSuccess})
	})
	e.must(err)
}

// login signs in and stops the test on failure.
func (e *env) login(name, pw string) NewSession {
	e.t.Helper()
	ns, err := e.a.Login(e.ctx, name, pw, "192.0.2.10:5555", "test-agent/1.0")
	if err != nil {
		e.t.Fatalf("Login(%s): %v", name, err)
	}
	return ns
}

// audit returns the audit records of action, newest first.
func (e *env) audit(action string) []domain.AuditEvent {
	e.t.Helper()
	p, err := e.st.ListAudit(e.ctx, store.AuditQuery{Action: action, Limit: 1000})
	e.must(err)
	return p.Items
}

// wantUnauth checks that err is KindUnauthenticated.
func wantUnauth(t *testing.T, what string, err error) {
	t.Helper()
	if !domain.Is(err, domain.KindUnauthenticated) {
		t.Errorf("%s: got %v (kind %v), want kind unauthenticated", what, err, domain.KindOf(err))
	}
}
