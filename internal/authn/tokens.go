package authn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TokenRequest asks for a new API token.
type TokenRequest struct {
	// UserID is whose token it is; empty means the actor's own.
	UserID string `json:"user_id,omitempty"`
	// Name says what the token is for (1 to 100 characters).
	Name string `json:"name"`
	// Permissions limits the token to these system permission keys
	// (empty: all of the user's).
	Permissions []string `json:"permissions,omitempty"`
	// ExpiresAt, when set, must be in the future.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// NewToken is a created token: the secret, shown this once and stored
// nowhere, and the token's record.
type NewToken struct {
	Secret string          `json:"secret"`
	Token  domain.APIToken `json:"token"`
}

const maxTokenName = 100

// CreateToken creates an API token for req.UserID (default: the actor)
// and audits it. Errors: KindUnauthenticated for an anonymous actor;
// KindNotFound when the actor may not manage that user's tokens
// (Options.MayManageTokens) or there is no such user; KindInvalid for a bad
// name, an unknown or non-system permission, an expiry in the past, a
// disabled user, or a limited token asking for more than its own limit
// (a token can only make tokens weaker than itself). A refusal for lack of
// permission is audited too.
func (a *Authenticator) CreateToken(ctx context.Context, actor Identity, req TokenRequest) (NewToken, error) {
	const op = "authn.CreateToken"
	if actor.Anonymous() {
		return NewToken{}, unauthenticated(op, fmt.Errorf("sign in to create an API token"))
	}
	if req.UserID == "" {
		req.UserID = actor.UserID
	}
	if err := a.mayManageUser(ctx, op, actor, req.UserID, ActionTokenCreate, ""); err != nil {
		return NewToken{}, err
	}
	now := a.now()
	if err := a.validateToken(op, actor, &req, now); err != nil {
		return NewToken{}, err
	}
	u, err := a.st.GetUser(ctx, req.UserID)
	if domain.Is(err, domain.KindNotFound) {
		return NewToken{}, domain.Errorf(op, domain.KindNotFound, "user %s not found", req.UserID)
	}
	if err != nil {
		return NewToken{}, domain.E(op, err)
	}
	if !u.Active() {
		return NewToken{}, domain.E(op, domain.KindInvalid, domain.FieldError{Field: "user_id", Message: "the user is disabled and cannot use a token (R11)"})
	}
	secret := newTokenSecret()
	tok := domain.APIToken{TokenHash: HashSecret(secret), UserID: u.ID, Name: req.Name, Permissions: req.Permissions,
		CreatedAt: now, ExpiresAt: req.ExpiresAt}
	_, err = a.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateAPIToken(ctx, &tok); err != nil {
			return err
		}
		after, err := json.Marshal(tok) // TokenHash is not in the JSON
		if err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: actor.UserID, ActorName: actor.Name(), Action: ActionTokenCreate,
			TargetKind: "api_token", TargetID: tok.ID, Outcome: domain.OutcomeSuccess, After: after,
			Detail: fmt.Sprintf("API token %q for user %s", tok.Name, u.Username), RemoteAddr: actor.RemoteAddr})
	})
	if err != nil {
		return NewToken{}, domain.E(op, err)
	}
	return NewToken{Secret: secret, Token: tok}, nil
}

func (a *Authenticator) validateToken(op string, actor Identity, req *TokenRequest, now time.Time) error {
	var fields []domain.FieldError
	add := func(field, format string, args ...any) {
		fields = append(fields, domain.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	req.Name = strings.TrimSpace(req.Name)
	switch n := utf8.RuneCountInString(req.Name); {
	case n == 0:
		add("name", "is required: say what the token is for")
	case n > maxTokenName:
		add("name", "is %d characters long; at most %d", n, maxTokenName)
	}
	seen := map[string]bool{}
	for i, k := range req.Permissions {
		f := fmt.Sprintf("permissions[%d]", i)
		p, ok := domain.LookupPermission(k)
		switch {
		case !ok || p.Scope != domain.ScopeSystem:
			add(f, "%q is not a system permission; system permissions are: %s", k, strings.Join(domain.PermissionsOfScope(domain.ScopeSystem), ", "))
		case seen[k]:
			add(f, "permission %q is listed twice", k)
		case actor.Limited() && !actor.Allows(k):
			add(f, "this request's API token is limited to %s and cannot make a token with %q", strings.Join(actor.Limit, ", "), k)
		}
		seen[k] = true
	}
	if actor.Limited() && len(req.Permissions) == 0 {
		add("permissions", "this request's API token is limited to %s: a token it makes must be limited to some of those too", strings.Join(actor.Limit, ", "))
	}
	if req.ExpiresAt != nil {
		if !req.ExpiresAt.After(now) {
			add("expires_at", "%s is not in the future", req.ExpiresAt.UTC().Format(time.RFC3339))
		}
		e := req.ExpiresAt.UTC()
		req.ExpiresAt = &e
	}
	if len(fields) > 0 {
		return domain.E(op, domain.KindInvalid, fields)
	}
	return nil
}

// mayManageUser refuses an actor who may not manage userID's tokens with
// KindNotFound (a caller who may not see an object gets NotFound), and
// audits the refusal under action.
func (a *Authenticator) mayManageUser(ctx context.Context, op string, actor Identity, userID, action, tokenID string) error {
	refusal := a.refusal(ctx, actor, userID)
	if refusal == nil {
		return nil
	}
	target, id := "user", userID
	if tokenID != "" {
		target, id = "api_token", tokenID
	}
	detail := "may not manage another user's API tokens"
	if domain.Is(refusal, domain.KindForbidden) {
		detail += ": " + refusal.Error()
	}
	_, err := a.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: actor.UserID, ActorName: actor.Name(), Action: action,
			TargetKind: target, TargetID: id, Outcome: domain.OutcomeDenied,
			Detail: detail, RemoteAddr: actor.RemoteAddr})
	})
	if err != nil {
		return domain.E(op, err)
	}
	return a.refused(op, refusal, userID, tokenID)
}

// refusal asks Options.MayManageTokens about another user's tokens: nil
// for one's own.
func (a *Authenticator) refusal(ctx context.Context, actor Identity, userID string) error {
	if userID == actor.UserID {
		return nil
	}
	if a.mayManage == nil {
		return domain.Errorf("authn", domain.KindNotFound, "user %s not found", userID)
	}
	return a.mayManage(ctx, actor, userID)
}

// refused words a refusal: a forbidden one as the service said it (the
// missing permission), anything else as not found (R21: what one may not
// act on one may not see either).
func (a *Authenticator) refused(op string, refusal error, userID, tokenID string) error {
	if domain.Is(refusal, domain.KindForbidden) {
		return domain.E(op, refusal)
	}
	if tokenID != "" {
		return domain.Errorf(op, domain.KindNotFound, "API token %s not found", tokenID)
	}
	return domain.Errorf(op, domain.KindNotFound, "user %s not found", userID)
}

// ListTokens lists a user's API tokens (userID empty: the actor's own),
// oldest first, revoked and expired ones included; never a secret or its
// hash. Errors as for CreateToken.
func (a *Authenticator) ListTokens(ctx context.Context, actor Identity, userID string) ([]domain.APIToken, error) {
	const op = "authn.ListTokens"
	if actor.Anonymous() {
		return nil, unauthenticated(op, fmt.Errorf("sign in to list API tokens"))
	}
	if userID == "" {
		userID = actor.UserID
	}
	if refusal := a.refusal(ctx, actor, userID); refusal != nil {
		// A read: refused without an audit record.
		return nil, a.refused(op, refusal, userID, "")
	}
	toks, err := a.st.ListAPITokens(ctx, userID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	for i := range toks {
		toks[i].TokenHash = ""
	}
	return toks, nil
}

// RevokeToken revokes an API token and audits it. The owner may revoke
// their tokens, and whoever Options.MayManageTokens allows; a limited
// token may revoke only tokens limited to some of its own permissions
// (itself included). Others get KindNotFound. Revoking a revoked token is
// not an error and is not audited again.
func (a *Authenticator) RevokeToken(ctx context.Context, actor Identity, tokenID string) error {
	const op = "authn.RevokeToken"
	if actor.Anonymous() {
		return unauthenticated(op, fmt.Errorf("sign in to revoke an API token"))
	}
	tok, err := a.st.GetAPIToken(ctx, tokenID)
	if domain.Is(err, domain.KindNotFound) {
		return domain.Errorf(op, domain.KindNotFound, "API token %s not found", tokenID)
	}
	if err != nil {
		return domain.E(op, err)
	}
	if err := a.mayManageUser(ctx, op, actor, tok.UserID, ActionTokenRevoke, tok.ID); err != nil {
		return err
	}
	if actor.Limited() && (!tok.Limited() || slices.ContainsFunc(tok.Permissions, func(k string) bool { return !actor.Allows(k) })) {
		return domain.Errorf(op, domain.KindNotFound, "API token %s not found", tokenID)
	}
	if tok.RevokedAt != nil {
		return nil
	}
	_, err = a.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.RevokeAPIToken(ctx, tok.ID); err != nil {
			return err
		}
		before, err := json.Marshal(tok)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: actor.UserID, ActorName: actor.Name(), Action: ActionTokenRevoke,
			TargetKind: "api_token", TargetID: tok.ID, Outcome: domain.OutcomeSuccess, Before: before,
			Detail: fmt.Sprintf("API token %q of user %s", tok.Name, tok.UserID), RemoteAddr: actor.RemoteAddr})
	})
	if err != nil {
		return domain.E(op, err)
	}
	a.tokens.forget(tok.ID)
	return nil
}

// AuthenticateToken recognises an API token (the bearer credential). It
// fails with KindUnauthenticated when the token is malformed (checked
// without a database read), unknown, revoked or expired, or its user
// disabled (R11). It writes LastUsedAt at most once per TouchInterval.
func (a *Authenticator) AuthenticateToken(ctx context.Context, secret string) (Identity, error) {
	const op = "authn.AuthenticateToken"
	if a.jwt != nil && !strings.HasPrefix(secret, TokenPrefix) && looksLikeJWT(secret) {
		return a.authenticateJWT(ctx, secret)
	}
	// The cache first: a secret found there is the very secret verified
	// when it was put (they have the same SHA-256), well formed then and
	// now; this path runs on every request and allocates nothing. Only a
	// secret of a token's length is hashed.
	if len(secret) != tokenLen {
		return Identity{}, unauthenticated(op, errBadToken)
	}
	var b [tokenLen]byte // []byte(secret) would be made on the heap
	copy(b[:], secret)
	sum := sha256.Sum256(b[:])
	if id, ok := a.tokens.get(sum, a.now()); ok {
		return id, nil
	}
	if !wellFormedToken(secret) {
		return Identity{}, unauthenticated(op, errBadToken)
	}
	tok, err := a.st.GetAPITokenByHash(ctx, hex.EncodeToString(sum[:]))
	if domain.Is(err, domain.KindNotFound) {
		return Identity{}, unauthenticated(op, errBadToken)
	}
	if err != nil {
		return Identity{}, domain.E(op, err)
	}
	now := a.now()
	if tok.RevokedAt != nil || (tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt)) {
		return Identity{}, unauthenticated(op, errBadToken)
	}
	u, err := a.activeUser(ctx, op, tok.UserID, errBadToken)
	if err != nil {
		return Identity{}, err
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= a.touch {
		if err := a.st.TouchAPIToken(ctx, tok.ID, now); err != nil {
			if domain.Is(err, domain.KindNotFound) {
				return Identity{}, unauthenticated(op, errBadToken)
			}
			a.log.Warn("authn: recording an API token's use failed", "token", tok.ID, "err", err)
		}
	}
	id := Identity{Principal: domain.Principal{UserID: u.ID, Username: u.Username, Limit: tok.Permissions}, TokenID: tok.ID}
	a.tokens.put(sum, id, tok.ExpiresAt, now)
	return id, nil
}
