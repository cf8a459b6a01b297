package authn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// AccessTokenVerifier checks a JWT access token and says who it names
// (internal/authn/oidcauth.AccessTokens). An error of kind
// KindUnavailable means the issuer could not be asked.
type AccessTokenVerifier interface {
	VerifyAccessToken(ctx context.Context, raw string) (issuer, subject, username string, err error)
}

// Password sign-in policies (Options.PasswordSignIn), as
// internal/authn/oidcauth's configuration names them.
const (
	PasswordEveryone   = "everyone"
	PasswordLocalOnly  = "local"
	PasswordBreakGlass = "break_glass"
)

// looksLikeJWT reports whether s has the shape of a compact JWS.
func looksLikeJWT(s string) bool { return strings.Count(s, ".") == 2 && len(s) < 16<<10 }

// passwordAllowed applies Options.PasswordSignIn to a user whose password
// is right. An error reading the user's links refuses (fail closed).
func (a *Authenticator) passwordAllowed(ctx context.Context, u domain.User) (bool, error) {
	switch a.passwords {
	case PasswordBreakGlass:
		return a.breakGlass[domain.NameKey(u.Username)], nil
	case PasswordLocalOnly:
		if u.Source == domain.SourceOIDC {
			return false, nil
		}
		links, err := a.st.ListOIDCLinks(ctx, u.ID)
		return err == nil && len(links) == 0, err
	}
	return true, nil
}

// OIDCSignIn names the provider and subject a session is opened for.
type OIDCSignIn struct {
	Provider, Issuer, Subject string
	// Changes says what the sign-in changed (user created or linked,
	// groups added, removed or refused), for the audit record.
	Changes string
}

// CheckAddress refuses, with a *ThrottledError cause, a sign-in from an
// address that failed too often lately: an OpenID Connect callback is
// throttled by address like a password sign-in.
func (a *Authenticator) CheckAddress(remoteAddr string) error {
	now := a.now()
	if d := a.addrs.wait(addrKey(remoteAddr), now); d > 0 {
		return unauthenticated("authn.CheckAddress", &ThrottledError{RetryAfter: d})
	}
	return nil
}

// OpenOIDCSession opens a session for u after a verified OpenID Connect
// sign-in: the same session, cookie and audit action (auth.login) as a
// password sign-in, the record naming the provider. A disabled user is
// refused (R11) and audited, as RefuseOIDC does.
func (a *Authenticator) OpenOIDCSession(ctx context.Context, u domain.User, in OIDCSignIn, remoteAddr, userAgent string) (NewSession, error) {
	const op = "authn.OpenOIDCSession"
	if !u.Active() {
		return NewSession{}, a.RefuseOIDC(ctx, in.Provider, u.Username, u.ID, "the account is disabled (R11)", remoteAddr)
	}
	detail := fmt.Sprintf("signed in with OpenID Connect provider %s (issuer %s, subject %s)", in.Provider, in.Issuer, in.Subject)
	if in.Changes != "" {
		detail += "; " + in.Changes
	}
	ns, err := a.openSession(ctx, u, remoteAddr, userAgent, detail, nil)
	if err != nil {
		return NewSession{}, domain.E(op, err)
	}
	a.users.reset(truncate(domain.NameKey(u.Username), maxKeyLen))
	return ns, nil
}

// RefuseOIDC audits a refused OpenID Connect sign-in (auth.login,
// denied, naming the provider and why) and counts it against the
// address, as a failed password is; it returns the refusal as
// KindUnauthenticated.
func (a *Authenticator) RefuseOIDC(ctx context.Context, provider, username, userID, reason, remoteAddr string) error {
	const op = "authn.RefuseOIDC"
	detail := fmt.Sprintf("OpenID Connect provider %s: %s", provider, cleanText(reason, 1024))
	if lock := a.addrs.fail(addrKey(remoteAddr), a.now()); lock > 0 {
		detail += fmt.Sprintf("; sign-in from this address now refused for %s", lock)
	}
	ev := &domain.AuditEvent{ActorName: cleanText(username, maxNameShown), Action: ActionLogin, TargetKind: "user", TargetID: userID,
		Outcome: domain.OutcomeDenied, Detail: detail, RemoteAddr: remoteAddr}
	if _, err := a.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Audit(ctx, ev) }); err != nil {
		return domain.E(op, err)
	}
	return unauthenticated(op, errors.New(reason))
}

// authenticateJWT recognises a provider's JWT access token: the user
// linked to its (issuer, subject), else the user its username claim
// names if the service allows it (Options.MayActByName: never the
// break-glass administrator); the user must be active (R11). A token
// whose issuer cannot be reached is KindUnavailable (503), never
// anonymous; an error while deciding refuses (fail closed).
func (a *Authenticator) authenticateJWT(ctx context.Context, raw string) (Identity, error) {
	const op = "authn.AuthenticateToken"
	issuer, subject, username, err := a.jwt.VerifyAccessToken(ctx, raw)
	if domain.Is(err, domain.KindUnavailable) {
		return Identity{}, domain.E(op, err)
	}
	if err != nil {
		return Identity{}, unauthenticated(op, errBadJWT)
	}
	userID, err := a.jwtUser(ctx, op, issuer, subject, username)
	if err != nil {
		return Identity{}, err
	}
	u, err := a.activeUser(ctx, op, userID, errBadJWT)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Principal: domain.Principal{UserID: u.ID, Username: u.Username}}, nil
}

// jwtUser finds the user a verified access token acts as.
func (a *Authenticator) jwtUser(ctx context.Context, op, issuer, subject, username string) (string, error) {
	l, err := a.st.GetOIDCLink(ctx, issuer, subject)
	if err == nil {
		return l.UserID, nil
	}
	if !domain.Is(err, domain.KindNotFound) {
		return "", domain.E(op, err)
	}
	u, err := a.st.GetUserByUsername(ctx, strings.TrimSpace(username))
	if domain.Is(err, domain.KindNotFound) {
		return "", unauthenticated(op, errBadJWT)
	}
	if err != nil {
		return "", domain.E(op, err)
	}
	if a.mayByName == nil {
		return "", unauthenticated(op, errBadJWT)
	}
	if err := a.mayByName(ctx, issuer, u.ID); err != nil {
		if domain.Is(err, domain.KindUnauthenticated) {
			return "", unauthenticated(op, fmt.Errorf("%w: %s", errBadJWT, domain.Message(err)))
		}
		return "", domain.E(op, err)
	}
	return u.ID, nil
}

var errBadJWT = errors.New("invalid or expired access token, or it names no Gatehouse user")
