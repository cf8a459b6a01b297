package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testAuthn holds the store to "Sessions and API tokens" in the store
// package doc.
func testAuthn(t *testing.T, newStore NewStore) {
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStore(t)) })
	t.Run("SessionErrors", func(t *testing.T) { testSessionErrors(t, newStore(t)) })
	t.Run("RevokeUserSessions", func(t *testing.T) { testRevokeUserSessions(t, newStore(t)) })
	t.Run("TouchSession", func(t *testing.T) { testTouchSession(t, newStore(t)) })
	t.Run("APITokens", func(t *testing.T) { testAPITokens(t, newStore(t)) })
	t.Run("APITokenErrors", func(t *testing.T) { testAPITokenErrors(t, newStore(t)) })
	t.Run("NoChangeLog", func(t *testing.T) { testAuthnNoChangeLog(t, newStore(t)) })
	t.Run("Rollback", func(t *testing.T) { testAuthnRollback(t, newStore(t)) })
	t.Run("UserDeleteCascades", func(t *testing.T) { testAuthnCascade(t, newStore(t)) })
	t.Run("PruneSessions", func(t *testing.T) { testPruneSessions(t, newStore(t)) })
	t.Run("ConcurrentTouch", func(t *testing.T) { testConcurrentTouch(t, newStore(t)) })
}

// secretHash is what internal/authn stores for a secret.
func secretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// authnUser creates a user for sessions and tokens to belong to.
func authnUser(t *testing.T, s store.Store, name string) string {
	t.Helper()
	u := newUser(name)
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, u) })
	return u.ID
}

// authnOnly runs fn in a transaction with no audit record and stops the
// test if it does not commit: session and token writes need none.
func authnOnly(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) domain.Change {
	t.Helper()
	ch, err := s.InTx(context.Background(), fn)
	if err != nil {
		t.Fatalf("InTx with only session or token writes: %v, want it to commit (they record no mutation, so need no audit record)", err)
	}
	return ch
}

func newSession(userID, secret string, created time.Time) *domain.Session {
	return &domain.Session{
		TokenHash:  secretHash(secret),
		UserID:     userID,
		CreatedAt:  created,
		ExpiresAt:  created.Add(7 * 24 * time.Hour),
		RemoteAddr: "192.0.2.7",
		UserAgent:  "storetest/1.0",
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	uid := authnUser(t, s, "sally")
	// A caller's clock with nanoseconds and a zone: the store keeps UTC
	// microseconds and writes them back.
	created := time.Now().Add(-time.Hour).In(time.FixedZone("X", 3600))
	sess := newSession(uid, "secret-1", created)
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, sess) })
	if sess.ID == "" {
		t.Fatalf("CreateSession with an empty ID: ID still empty, want domain.NewID()")
	}
	if !sess.CreatedAt.Equal(utc(created)) || sess.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt written back = %v, want the caller's time in UTC microseconds %v", sess.CreatedAt, utc(created))
	}
	if !sess.LastSeenAt.Equal(sess.CreatedAt) {
		t.Errorf("LastSeenAt written back = %v, want CreatedAt %v when left zero", sess.LastSeenAt, sess.CreatedAt)
	}
	got, err := s.GetSessionByHash(ctx, secretHash("secret-1"))
	noErr(t, err, "GetSessionByHash")
	if d := diff(got, *sess); d != "" {
		t.Errorf("GetSessionByHash (-want +got):\n%s", d)
	}
	// Inside a transaction, the transaction's own session is visible.
	_, err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		in := newSession(uid, "secret-2", time.Now())
		if err := tx.CreateSession(ctx, in); err != nil {
			return err
		}
		got, err := tx.GetSessionByHash(ctx, secretHash("secret-2"))
		if err != nil {
			t.Errorf("Tx.GetSessionByHash of the transaction's own session: %v", err)
		} else if got.ID != in.ID {
			t.Errorf("Tx.GetSessionByHash = session %s, want %s", got.ID, in.ID)
		}
		return errRollback
	})
	if err == nil {
		t.Fatalf("InTx returned nil after the closure failed")
	}
	_, err = s.GetSessionByHash(ctx, secretHash("secret-2"))
	wantKind(t, err, domain.KindNotFound, "GetSessionByHash of a rolled-back session")
	_, err = s.GetSessionByHash(ctx, secretHash("no such secret"))
	wantKind(t, err, domain.KindNotFound, "GetSessionByHash of an unknown hash")

	// Revoke: store time, kept on a second revoke, still readable.
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeSession(ctx, sess.ID) })
	got, err = s.GetSessionByHash(ctx, sess.TokenHash)
	noErr(t, err, "GetSessionByHash of a revoked session")
	if got.RevokedAt == nil {
		t.Fatalf("RevokedAt = nil after RevokeSession, want the store clock's time")
	}
	checkStoreTime(t, "RevokedAt", *got.RevokedAt)
	first := *got.RevokedAt
	time.Sleep(2 * time.Millisecond)
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeSession(ctx, sess.ID) })
	got, err = s.GetSessionByHash(ctx, sess.TokenHash)
	noErr(t, err, "GetSessionByHash")
	if got.RevokedAt == nil || !got.RevokedAt.Equal(first) {
		t.Errorf("RevokedAt after a second RevokeSession = %v, want the first revocation's %v", got.RevokedAt, first)
	}
	expectKind(t, s, domain.KindNotFound, "RevokeSession of a missing session", func(ctx context.Context, tx store.Tx) error {
		return tx.RevokeSession(ctx, domain.NewID())
	})
}

func testSessionErrors(t *testing.T, s store.Store) {
	uid := authnUser(t, s, "sam")
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateSession(ctx, newSession(uid, "taken", time.Now()))
	})
	cases := []struct {
		name string
		want domain.Kind
		edit func(s *domain.Session)
	}{
		{"hash taken", domain.KindExists, func(s *domain.Session) { s.TokenHash = secretHash("taken") }},
		{"missing user", domain.KindInvalid, func(s *domain.Session) { s.UserID = domain.NewID() }},
		{"secret in clear", domain.KindInvalid, func(s *domain.Session) { s.TokenHash = "an-unhashed-session-secret" }},
		{"upper-case hex", domain.KindInvalid, func(s *domain.Session) {
			s.TokenHash = "ABCDEF" + s.TokenHash[6:]
		}},
		{"64 characters not hex", domain.KindInvalid, func(s *domain.Session) {
			s.TokenHash = "zz" + s.TokenHash[2:]
		}},
		{"no expiry", domain.KindInvalid, func(s *domain.Session) { s.ExpiresAt = time.Time{} }},
	}
	for _, c := range cases {
		in := newSession(uid, "fresh-"+c.name, time.Now())
		c.edit(in)
		expectKind(t, s, c.want, "CreateSession with "+c.name, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateSession(ctx, in)
		})
	}
}

func testRevokeUserSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := authnUser(t, s, "ann"), authnUser(t, s, "bob")
	var early *domain.Session
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, x := range []struct{ user, secret string }{{a, "a1"}, {a, "a2"}, {a, "a3"}, {b, "b1"}} {
			in := newSession(x.user, x.secret, time.Now())
			if err := tx.CreateSession(ctx, in); err != nil {
				return err
			}
			if i == 0 {
				early = in
			}
		}
		return nil
	})
	// One of ann's sessions was revoked before: it is not counted again
	// and keeps its time.
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeSession(ctx, early.ID) })
	before, err := s.GetSessionByHash(ctx, early.TokenHash)
	noErr(t, err, "GetSessionByHash")
	var n int
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.RevokeUserSessions(ctx, a)
		return err
	})
	if n != 2 {
		t.Errorf("RevokeUserSessions(ann) = %d, want 2 (her sessions not yet revoked)", n)
	}
	for _, sec := range []string{"a1", "a2", "a3"} {
		got, err := s.GetSessionByHash(ctx, secretHash(sec))
		noErr(t, err, "GetSessionByHash")
		if got.RevokedAt == nil {
			t.Errorf("session %s of ann: RevokedAt nil after RevokeUserSessions", sec)
		}
	}
	got, _ := s.GetSessionByHash(ctx, early.TokenHash)
	if got.RevokedAt == nil || before.RevokedAt == nil || !got.RevokedAt.Equal(*before.RevokedAt) {
		t.Errorf("an already revoked session's RevokedAt = %v, want it kept at %v", got.RevokedAt, before.RevokedAt)
	}
	got, err = s.GetSessionByHash(ctx, secretHash("b1"))
	noErr(t, err, "GetSessionByHash")
	if got.RevokedAt != nil {
		t.Errorf("bob's session was revoked by RevokeUserSessions(ann)")
	}
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.RevokeUserSessions(ctx, domain.NewID())
		return err
	})
	if n != 0 {
		t.Errorf("RevokeUserSessions of a missing user = %d, want 0", n)
	}
}

func testTouchSession(t *testing.T, s store.Store) {
	ctx := context.Background()
	uid := authnUser(t, s, "tess")
	t0 := utc(time.Now().Add(-time.Hour))
	sess := newSession(uid, "touch", t0)
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, sess) })
	rev := revision(t, s)
	audits := len(allAudit(t, s, store.AuditQuery{}))

	steps := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"forward", t0.Add(time.Minute + 1500*time.Nanosecond), t0.Add(time.Minute + time.Microsecond)},
		{"backward is ignored", t0.Add(30 * time.Second), t0.Add(time.Minute + time.Microsecond)},
		{"forward again", t0.Add(5 * time.Minute), t0.Add(5 * time.Minute)},
	}
	for _, st := range steps {
		noErr(t, s.TouchSession(ctx, sess.ID, st.at), "TouchSession "+st.name)
		got, err := s.GetSessionByHash(ctx, sess.TokenHash)
		noErr(t, err, "GetSessionByHash")
		if !got.LastSeenAt.Equal(st.want) {
			t.Errorf("TouchSession %s: LastSeenAt = %v, want %v", st.name, got.LastSeenAt, st.want)
		}
	}
	wantKind(t, s.TouchSession(ctx, domain.NewID(), time.Now()), domain.KindNotFound, "TouchSession of a missing session")
	if r := revision(t, s); r != rev {
		t.Errorf("revision after TouchSession = %d, want %d (housekeeping allocates no revision)", r, rev)
	}
	if n := len(allAudit(t, s, store.AuditQuery{})); n != audits {
		t.Errorf("audit records after TouchSession = %d, want %d (housekeeping is not audited)", n, audits)
	}
}

func testAPITokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := authnUser(t, s, "alice"), authnUser(t, s, "bruno")
	base := utc(time.Now().Add(-time.Hour))
	exp := base.Add(30 * 24 * time.Hour)
	toks := []*domain.APIToken{
		{TokenHash: secretHash("t1"), UserID: a, Name: "ci", CreatedAt: base.Add(2 * time.Second)},
		{TokenHash: secretHash("t2"), UserID: a, Name: "scim", Permissions: []string{domain.PermScimProvision, domain.PermUsersView}, CreatedAt: base, ExpiresAt: &exp},
		{TokenHash: secretHash("t3"), UserID: b, Name: "other"},
	}
	// Fields the store ignores on create.
	used := base.Add(time.Minute)
	toks[0].LastUsedAt, toks[0].RevokedAt = &used, &used
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, k := range toks {
			if err := tx.CreateAPIToken(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	for _, k := range toks {
		if k.ID == "" {
			t.Fatalf("CreateAPIToken with an empty ID: ID still empty")
		}
	}
	if toks[0].LastUsedAt != nil || toks[0].RevokedAt != nil {
		t.Errorf("CreateAPIToken kept LastUsedAt %v / RevokedAt %v, want both nil on a new token", toks[0].LastUsedAt, toks[0].RevokedAt)
	}
	checkStoreTime(t, "CreatedAt of a token created with a zero CreatedAt", toks[2].CreatedAt)

	for _, k := range toks {
		got, err := s.GetAPIToken(ctx, k.ID)
		noErr(t, err, "GetAPIToken")
		if d := diff(got, *k); d != "" {
			t.Errorf("GetAPIToken(%s) (-want +got):\n%s", k.Name, d)
		}
		got, err = s.GetAPITokenByHash(ctx, k.TokenHash)
		noErr(t, err, "GetAPITokenByHash")
		if got.ID != k.ID {
			t.Errorf("GetAPITokenByHash(%s) = token %s, want %s", k.Name, got.ID, k.ID)
		}
	}
	got, err := s.GetAPIToken(ctx, toks[1].ID)
	noErr(t, err, "GetAPIToken")
	if len(got.Permissions) != 2 || got.Permissions[0] != domain.PermScimProvision {
		t.Errorf("token permissions = %v, want [%s %s] in the order written", got.Permissions, domain.PermScimProvision, domain.PermUsersView)
	}

	list, err := s.ListAPITokens(ctx, a)
	noErr(t, err, "ListAPITokens")
	var ids []string
	for _, k := range list {
		ids = append(ids, k.ID)
	}
	// Oldest first: t2 was created before t1.
	if d := diff(ids, []string{toks[1].ID, toks[0].ID}); d != "" {
		t.Errorf("ListAPITokens(alice) ids, oldest first (-want +got):\n%s", d)
	}
	list, err = s.ListAPITokens(ctx, domain.NewID())
	noErr(t, err, "ListAPITokens of a missing user")
	if len(list) != 0 {
		t.Errorf("ListAPITokens of a missing user = %d tokens, want none", len(list))
	}

	_, err = s.GetAPIToken(ctx, domain.NewID())
	wantKind(t, err, domain.KindNotFound, "GetAPIToken of a missing id")
	_, err = s.GetAPITokenByHash(ctx, secretHash("nope"))
	wantKind(t, err, domain.KindNotFound, "GetAPITokenByHash of an unknown hash")

	// Touch and revoke.
	at := base.Add(10 * time.Minute)
	noErr(t, s.TouchAPIToken(ctx, toks[0].ID, at), "TouchAPIToken")
	noErr(t, s.TouchAPIToken(ctx, toks[0].ID, at.Add(-time.Minute)), "TouchAPIToken backwards")
	got, _ = s.GetAPIToken(ctx, toks[0].ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(at) {
		t.Errorf("LastUsedAt after touches = %v, want %v (forward only)", got.LastUsedAt, at)
	}
	wantKind(t, s.TouchAPIToken(ctx, domain.NewID(), at), domain.KindNotFound, "TouchAPIToken of a missing token")

	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeAPIToken(ctx, toks[0].ID) })
	got, _ = s.GetAPIToken(ctx, toks[0].ID)
	if got.RevokedAt == nil {
		t.Fatalf("RevokedAt nil after RevokeAPIToken")
	}
	checkStoreTime(t, "token RevokedAt", *got.RevokedAt)
	first := *got.RevokedAt
	time.Sleep(2 * time.Millisecond)
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeAPIToken(ctx, toks[0].ID) })
	got, _ = s.GetAPIToken(ctx, toks[0].ID)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(first) {
		t.Errorf("RevokedAt after a second RevokeAPIToken = %v, want the first %v", got.RevokedAt, first)
	}
	expectKind(t, s, domain.KindNotFound, "RevokeAPIToken of a missing token", func(ctx context.Context, tx store.Tx) error {
		return tx.RevokeAPIToken(ctx, domain.NewID())
	})
}

func testAPITokenErrors(t *testing.T, s store.Store) {
	uid := authnUser(t, s, "tom")
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateAPIToken(ctx, &domain.APIToken{TokenHash: secretHash("taken"), UserID: uid, Name: "x"})
	})
	cases := []struct {
		name string
		want domain.Kind
		tok  domain.APIToken
	}{
		{"hash taken", domain.KindExists, domain.APIToken{TokenHash: secretHash("taken"), UserID: uid, Name: "y"}},
		{"missing user", domain.KindInvalid, domain.APIToken{TokenHash: secretHash("z"), UserID: domain.NewID(), Name: "z"}},
		{"secret in clear", domain.KindInvalid, domain.APIToken{TokenHash: "gh_an-unhashed-token-secret", UserID: uid, Name: "w"}},
	}
	for _, c := range cases {
		k := c.tok
		expectKind(t, s, c.want, "CreateAPIToken with "+c.name, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateAPIToken(ctx, &k)
		})
	}
}

// testAuthnNoChangeLog checks that session and token writes allocate no
// revision and leave no change-log row, and that a transaction holding
// them and an audit record commits the record under the current revision.
func testAuthnNoChangeLog(t *testing.T, s store.Store) {
	ctx := context.Background()
	uid := authnUser(t, s, "nora")
	rev := revision(t, s)
	sess := newSession(uid, "nc", time.Now())
	ev := auditEvent("auth.login")
	ch, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.CreateAPIToken(ctx, &domain.APIToken{TokenHash: secretHash("nc-token"), UserID: uid, Name: "n"}); err != nil {
			return err
		}
		if _, err := tx.RevokeUserSessions(ctx, uid); err != nil {
			return err
		}
		return tx.Audit(ctx, ev)
	})
	noErr(t, err, "InTx with session and token writes and an audit record")
	if ch.Revision != 0 || len(ch.Mutations) != 0 {
		t.Errorf("InTx change = revision %d with %d mutations, want revision 0 and none (sessions and tokens are not engine data)", ch.Revision, len(ch.Mutations))
	}
	if r := revision(t, s); r != rev {
		t.Errorf("revision = %d after session and token writes, want %d", r, rev)
	}
	if chs := changesSince(t, s, rev); len(chs) != 0 {
		t.Errorf("ReadChanges after session and token writes = %d changes, want none", len(chs))
	}
	evs := allAudit(t, s, store.AuditQuery{Action: "auth.login"})
	if len(evs) != 1 || evs[0].Revision != rev {
		t.Errorf("audit records of the transaction = %+v, want one at revision %d", evs, rev)
	}
	if _, err := s.GetSessionByHash(ctx, sess.TokenHash); err != nil {
		t.Errorf("the session written with only an audit record did not commit: %v", err)
	}
	snap, err := s.LoadSnapshot(ctx)
	noErr(t, err, "LoadSnapshot")
	if snap.Revision != rev {
		t.Errorf("snapshot revision = %d, want %d", snap.Revision, rev)
	}
}

func testAuthnRollback(t *testing.T, s store.Store) {
	ctx := context.Background()
	uid := authnUser(t, s, "rolf")
	_, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateSession(ctx, newSession(uid, "rb", time.Now())); err != nil {
			return err
		}
		if err := tx.CreateAPIToken(ctx, &domain.APIToken{TokenHash: secretHash("rb-token"), UserID: uid, Name: "rb"}); err != nil {
			return err
		}
		return errRollback
	})
	if err == nil {
		t.Fatalf("InTx returned nil after the closure failed")
	}
	_, err = s.GetSessionByHash(ctx, secretHash("rb"))
	wantKind(t, err, domain.KindNotFound, "session of a rolled-back transaction")
	_, err = s.GetAPITokenByHash(ctx, secretHash("rb-token"))
	wantKind(t, err, domain.KindNotFound, "token of a rolled-back transaction")
}

func testAuthnCascade(t *testing.T, s store.Store) {
	ctx := context.Background()
	uid, other := authnUser(t, s, "carl"), authnUser(t, s, "cleo")
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{
			tx.CreateSession(ctx, newSession(uid, "c1", time.Now())),
			tx.CreateSession(ctx, newSession(other, "c2", time.Now())),
			tx.CreateAPIToken(ctx, &domain.APIToken{TokenHash: secretHash("ct"), UserID: uid, Name: "c"}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, uid) })
	checkSingleDelete(t, ch, domain.EntityUser, uid)
	_, err := s.GetSessionByHash(ctx, secretHash("c1"))
	wantKind(t, err, domain.KindNotFound, "session of a deleted user")
	_, err = s.GetAPITokenByHash(ctx, secretHash("ct"))
	wantKind(t, err, domain.KindNotFound, "token of a deleted user")
	if _, err := s.GetSessionByHash(ctx, secretHash("c2")); err != nil {
		t.Errorf("another user's session after the delete: %v, want it kept", err)
	}
}

func testPruneSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	uid := authnUser(t, s, "pia")
	now := utc(time.Now())
	type row struct {
		secret  string
		expires time.Duration // from now
		revoke  bool
		kept    bool
	}
	rows := []row{
		{"expired", -time.Hour, false, false},
		{"live", time.Hour, false, true},
		{"revoked", time.Hour, true, false},
	}
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, r := range rows {
			in := newSession(uid, r.secret, now.Add(-2*time.Hour))
			in.ExpiresAt = now.Add(r.expires)
			if err := tx.CreateSession(ctx, in); err != nil {
				return err
			}
			if r.revoke {
				if err := tx.RevokeSession(ctx, in.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	// Revocation used the store clock; prune a little after it.
	n, err := s.PruneSessions(ctx, time.Now().Add(time.Second))
	noErr(t, err, "PruneSessions")
	if n != 2 {
		t.Errorf("PruneSessions = %d, want 2 (the expired and the revoked session)", n)
	}
	for _, r := range rows {
		_, err := s.GetSessionByHash(ctx, secretHash(r.secret))
		if r.kept && err != nil {
			t.Errorf("session %q after PruneSessions: %v, want it kept", r.secret, err)
		}
		if !r.kept {
			wantKind(t, err, domain.KindNotFound, "session "+r.secret+" after PruneSessions")
		}
	}
}

// testConcurrentTouch touches while write transactions run: housekeeping
// must neither deadlock with InTx nor fail.
func testConcurrentTouch(t *testing.T, s store.Store) {
	ctx := context.Background()
	uid := authnUser(t, s, "quinn")
	sess := newSession(uid, "cc", time.Now())
	authnOnly(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, sess) })
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- s.TouchSession(ctx, sess.ID, time.Now().Add(time.Duration(i)*time.Second))
		}()
		go func() {
			defer wg.Done()
			_, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if err := tx.PutSetting(ctx, &domain.Setting{Key: "k", Value: "v"}); err != nil {
					return err
				}
				return tx.Audit(ctx, auditEvent("setting.put"))
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent touch or write: %v", err)
		}
	}
	got, err := s.GetSessionByHash(ctx, sess.TokenHash)
	noErr(t, err, "GetSessionByHash")
	if got.LastSeenAt.Before(sess.CreatedAt) {
		t.Errorf("LastSeenAt %v went before CreatedAt %v", got.LastSeenAt, sess.CreatedAt)
	}
}
