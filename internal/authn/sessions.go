package authn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Audit actions of this package.
const (
	ActionLogin          = "auth.login"  // success, or denied for bad credentials, a disabled account or a lock
	ActionLogout         = "auth.logout" // a session signed out
	ActionRevokeSessions = "auth.revoke_sessions"
	ActionTokenCreate    = "token.create"
	ActionTokenRevoke    = "token.revoke"
)

// Bounds on what a client sends that is kept or used as a key.
const (
	maxUserAgent = 512
	maxNameShown = 128 // an attempted username, in the audit log
)

// NewSession is a successful sign-in: the secret to put in the cookie
// (shown to no one else, stored nowhere) and the session it opens.
type NewSession struct {
	Secret   string
	Session  domain.Session
	Identity Identity
}

// Login checks a username and password and opens a session. It fails with
// KindUnauthenticated and one generic message whether the username is
// unknown, the password wrong or the account disabled (R11), and takes as
// long in each case; with a *ThrottledError cause when the username or
// the address has failed too often lately (see ThrottlePolicy). Every
// outcome but a throttled refusal is audited.
func (a *Authenticator) Login(ctx context.Context, username, pw, remoteAddr, userAgent string) (NewSession, error) {
	const op = "authn.Login"
	username = strings.TrimSpace(username)
	userKey := truncate(domain.NameKey(username), maxKeyLen)
	addr := addrKey(remoteAddr)
	if err := a.throttled(op, userKey, addr); err != nil {
		return NewSession{}, err
	}
	if err := a.acquireHash(ctx); err != nil {
		return NewSession{}, err
	}
	// Check again now that this attempt has a slot: the attempts that
	// queued for one may have locked the key meanwhile, and the slots
	// bound how many can slip past a lock at once.
	if err := a.throttled(op, userKey, addr); err != nil {
		a.releaseHash()
		return NewSession{}, err
	}
	u, found, verr, err := a.verify(ctx, username, pw)
	ok := err == nil && found && verr == nil && u.Active()
	if ok {
		// Checked after the hash, so that a refusal takes as long.
		ok, err = a.passwordAllowed(ctx, u)
	}
	// Upgrade the hash if the costs changed, still holding the slot: a
	// hash costs what a verification does.
	var rehash string
	if ok && password.NeedsRehash(u.PasswordHash, a.params) {
		if h, herr := password.Hash(pw, a.params); herr == nil {
			rehash = h
		} else {
			a.log.Warn("authn: rehashing a password failed; keeping the old hash", "user", u.ID, "err", herr)
		}
	}
	a.releaseHash()
	if err != nil {
		return NewSession{}, domain.E(op, err)
	}
	now := a.now()
	if !ok {
		detail := "invalid username or password"
		if found && verr == nil && u.Active() {
			detail = "password sign-in is turned off for this user (password_sign_in: " + a.passwords + ")"
		}
		if found && !u.Active() {
			// Said whether or not the password was right, so that the
			// audit log does not tell a reader which it was.
			detail = "the account is disabled (R11)"
		}
		lockU, lockA := a.users.fail(userKey, now), a.addrs.fail(addr, now)
		if lockU > 0 {
			detail += fmt.Sprintf("; sign-in as this username now refused for %s", lockU)
		}
		if lockA > 0 {
			detail += fmt.Sprintf("; sign-in from this address now refused for %s", lockA)
		}
		ev := &domain.AuditEvent{ActorName: cleanText(username, maxNameShown), Action: ActionLogin, TargetKind: "user",
			Outcome: domain.OutcomeDenied, Detail: detail, RemoteAddr: remoteAddr}
		if found {
			ev.TargetID = u.ID
		}
		if _, err := a.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Audit(ctx, ev) }); err != nil {
			return NewSession{}, domain.E(op, err)
		}
		return NewSession{}, unauthenticated(op, errBadLogin)
	}

	// The password is right: store the upgraded hash, if any, and open
	// the session, in one transaction with the audit record.
	detail := "signed in with a password"
	var upgrade func(context.Context, store.Tx) error
	if rehash != "" {
		detail += "; password hash upgraded to the current argon2id costs"
		upgrade = func(ctx context.Context, tx store.Tx) error { return tx.SetPasswordHash(ctx, u.ID, rehash) }
	}
	ns, err := a.openSession(ctx, u, remoteAddr, userAgent, detail, upgrade)
	if err != nil {
		return NewSession{}, domain.E(op, err)
	}
	// A success forgets the username's failures, not the address's: one
	// valid account must not let a host go on guessing at others.
	a.users.reset(userKey)
	return ns, nil
}

// openSession opens a session for u in one transaction with its audit
// record (auth.login, success, detail and the session's id) and with
// also, when not nil, run first in the same transaction.
func (a *Authenticator) openSession(ctx context.Context, u domain.User, remoteAddr, userAgent, detail string, also func(context.Context, store.Tx) error) (NewSession, error) {
	now := a.now()
	secret := newSessionSecret()
	s := domain.Session{
		TokenHash: HashSecret(secret), UserID: u.ID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.lifetime),
		RemoteAddr: remoteAddr, UserAgent: cleanText(userAgent, maxUserAgent),
	}
	_, err := a.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if also != nil {
			if err := also(ctx, tx); err != nil {
				return err
			}
		}
		if err := tx.CreateSession(ctx, &s); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: u.ID, ActorName: u.Username, Action: ActionLogin,
			TargetKind: "user", TargetID: u.ID, Outcome: domain.OutcomeSuccess, Detail: detail + "; session " + s.ID, RemoteAddr: remoteAddr})
	})
	if err != nil {
		return NewSession{}, err
	}
	return NewSession{Secret: secret, Session: s, Identity: Identity{
		Principal: domain.Principal{UserID: u.ID, Username: u.Username, RemoteAddr: remoteAddr},
		SessionID: s.ID,
	}}, nil
}

// throttled refuses a sign-in while the username or the address is locked.
func (a *Authenticator) throttled(op, userKey, addr string) error {
	now := a.now()
	if d := max(a.users.wait(userKey, now), a.addrs.wait(addr, now)); d > 0 {
		return unauthenticated(op, &ThrottledError{RetryAfter: d})
	}
	return nil
}

// verify looks the user up and checks the password, spending one argon2id
// computation whatever happens: against the dummy hash when there is no
// such user or it has no password (SCIM, OIDC), so that timing does not
// tell which usernames exist. found says the user exists; verr is the
// password's verdict; err a failure to read the store.
func (a *Authenticator) verify(ctx context.Context, username, pw string) (u domain.User, found bool, verr, err error) {
	u, err = a.st.GetUserByUsername(ctx, username)
	switch {
	case domain.Is(err, domain.KindNotFound):
		u, err = domain.User{}, nil
	case err != nil:
		return u, false, nil, err
	default:
		found = true
	}
	if u.PasswordHash == "" {
		_ = a.verifyPW(pw, a.dummyHash)
		return u, found, password.ErrMismatch, nil
	}
	verr = a.verifyPW(pw, u.PasswordHash)
	if verr != nil && !errors.Is(verr, password.ErrMismatch) {
		a.log.Warn("authn: a stored password hash cannot be read; the user cannot sign in with a password", "user", u.ID, "err", verr)
	}
	return u, true, verr, nil
}

// AuthenticateSession recognises a session secret (the cookie's value).
// It fails with KindUnauthenticated when the secret is malformed or
// unknown, the session revoked, past its lifetime or idle for longer than
// the idle timeout, or its user disabled (R11). It writes LastSeenAt at
// most once per TouchInterval.
func (a *Authenticator) AuthenticateSession(ctx context.Context, secret string) (Identity, error) {
	const op = "authn.AuthenticateSession"
	if !wellFormedSession(secret) {
		return Identity{}, unauthenticated(op, errBadSession)
	}
	s, err := a.st.GetSessionByHash(ctx, HashSecret(secret))
	if domain.Is(err, domain.KindNotFound) {
		return Identity{}, unauthenticated(op, errBadSession)
	}
	if err != nil {
		return Identity{}, domain.E(op, err)
	}
	now := a.now()
	if !a.sessionLive(s, now) {
		return Identity{}, unauthenticated(op, errBadSession)
	}
	u, err := a.activeUser(ctx, op, s.UserID, errBadSession)
	if err != nil {
		return Identity{}, err
	}
	if now.Sub(s.LastSeenAt) >= a.touch {
		if err := a.st.TouchSession(ctx, s.ID, now); err != nil {
			if domain.Is(err, domain.KindNotFound) {
				return Identity{}, unauthenticated(op, errBadSession) // deleted meanwhile
			}
			// The request may go on: it was recognised; only the idle
			// clock is a little behind.
			a.log.Warn("authn: recording a session's use failed", "session", s.ID, "err", err)
		}
	}
	return Identity{Principal: domain.Principal{UserID: u.ID, Username: u.Username}, SessionID: s.ID}, nil
}

// sessionLive reports whether s still admits its holder at now.
func (a *Authenticator) sessionLive(s domain.Session, now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt) && now.Sub(s.LastSeenAt) < a.idle
}

// activeUser reads a session's or token's user, refusing a missing or
// disabled one with bad as the cause.
func (a *Authenticator) activeUser(ctx context.Context, op, id string, bad error) (domain.User, error) {
	u, err := a.st.GetUser(ctx, id)
	if domain.Is(err, domain.KindNotFound) {
		return domain.User{}, unauthenticated(op, bad)
	}
	if err != nil {
		return domain.User{}, domain.E(op, err)
	}
	if !u.Active() {
		return domain.User{}, unauthenticated(op, bad)
	}
	u.PasswordHash = ""
	return u, nil
}

// Logout revokes the session a secret opens, and audits it. An unknown,
// malformed or already revoked secret is not an error: there is nothing
// left to sign out of.
func (a *Authenticator) Logout(ctx context.Context, secret, remoteAddr string) error {
	const op = "authn.Logout"
	if !wellFormedSession(secret) {
		return nil
	}
	s, err := a.st.GetSessionByHash(ctx, HashSecret(secret))
	if domain.Is(err, domain.KindNotFound) {
		return nil
	}
	if err != nil {
		return domain.E(op, err)
	}
	if s.RevokedAt != nil {
		return nil
	}
	u, err := a.st.GetUser(ctx, s.UserID)
	if err != nil && !domain.Is(err, domain.KindNotFound) {
		return domain.E(op, err)
	}
	_, err = a.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.RevokeSession(ctx, s.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: s.UserID, ActorName: nameOr(u.Username, s.UserID), Action: ActionLogout,
			TargetKind: "user", TargetID: s.UserID, Outcome: domain.OutcomeSuccess, Detail: "signed out of session " + s.ID, RemoteAddr: remoteAddr})
	})
	if err != nil {
		return domain.E(op, err)
	}
	return nil
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

// RevokeUserSessions signs a user out everywhere, in a transaction of its
// own, audited as done by actor for reason (for example "password reset").
// It returns how many sessions it revoked. Authorization is the caller's.
func (a *Authenticator) RevokeUserSessions(ctx context.Context, actor domain.Principal, userID, reason string) (int, error) {
	var n int
	_, err := a.st.InTx(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		n, err = RevokeSessionsInTx(ctx, tx, actor, userID, reason)
		return err
	})
	if err != nil {
		return 0, domain.E("authn.RevokeUserSessions", err)
	}
	return n, nil
}

// RevokeSessionsInTx revokes every session of userID inside the caller's
// transaction and audits it there, so that the service can sign a user out
// in the same transaction that resets their password or disables them:
// either both happen or neither. API tokens are left alone (they do not
// depend on the password, and a disabled user's tokens are refused anyway).
// Nothing is audited when there was no session to revoke.
func RevokeSessionsInTx(ctx context.Context, tx store.Tx, actor domain.Principal, userID, reason string) (int, error) {
	n, err := tx.RevokeUserSessions(ctx, userID)
	if err != nil || n == 0 {
		return n, err
	}
	detail := fmt.Sprintf("signed out of %d session(s)", n)
	if reason != "" {
		detail += ": " + reason
	}
	return n, tx.Audit(ctx, &domain.AuditEvent{ActorID: actor.UserID, ActorName: actor.Name(), Action: ActionRevokeSessions,
		TargetKind: "user", TargetID: userID, Outcome: domain.OutcomeSuccess, Detail: detail, RemoteAddr: actor.RemoteAddr})
}

// Prune deletes the sessions that ended (expired or revoked) more than a
// day ago, and returns how many; the server calls it now and then. The
// day's grace keeps a recent session's record for whoever investigates a
// sign-in. Sessions ended by the idle timeout go when their lifetime ends.
func (a *Authenticator) Prune(ctx context.Context) (int, error) {
	n, err := a.st.PruneSessions(ctx, a.now().Add(-24*time.Hour))
	if err != nil {
		return 0, domain.E("authn.Prune", err)
	}
	return n, nil
}

// PruneEvery runs Prune now and then every interval until ctx ends; the
// server starts it in a goroutine. Failures are logged and retried at the
// next tick: a missed pruning only leaves dead rows a little longer.
func (a *Authenticator) PruneEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := a.Prune(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("authn: pruning ended sessions failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
