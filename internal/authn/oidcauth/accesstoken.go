package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// AccessTokens verifies JWT access tokens a provider issued for the API
// (client credentials, or a user's token for an application): signature
// with the issuer's published keys, issuer, audience and expiry. It is
// off unless the configuration has access_tokens.
type AccessTokens struct {
	cfg    AccessTokenConfig
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

// NewAccessTokens returns the verifier of c (nil when c is nil).
func NewAccessTokens(c *AccessTokenConfig, o Options) *AccessTokens {
	if c == nil {
		return nil
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &AccessTokens{cfg: *c, client: o.HTTPClient, now: o.Now}
}

// Verified is who a verified access token names.
type Verified struct {
	Issuer, Subject, Username string
}

// VerifyAccessToken is Verify in the shape internal/authn asks for: an
// unreachable issuer is a domain.KindUnavailable error.
func (a *AccessTokens) VerifyAccessToken(ctx context.Context, raw string) (issuer, subject, username string, err error) {
	v, err := a.Verify(ctx, raw)
	if errors.Is(err, ErrUnavailable) {
		return "", "", "", domain.E("oidcauth.VerifyAccessToken", domain.KindUnavailable, err)
	}
	return v.Issuer, v.Subject, v.Username, err
}

// Verify checks raw and returns who it names. The error wraps
// ErrUnavailable when the issuer's discovery or keys cannot be read, and
// ErrRefused otherwise.
func (a *AccessTokens) Verify(ctx context.Context, raw string) (Verified, error) {
	v, err := a.verifierFor(ctx)
	if err != nil {
		return Verified{}, err
	}
	tok, err := v.Verify(oidc.ClientContext(ctx, a.client), raw)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: the access token: %v", ErrRefused, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Verified{}, fmt.Errorf("%w: the access token's claims: %v", ErrRefused, err)
	}
	name := claimString(claims, a.cfg.UsernameClaim)
	if name == "" {
		return Verified{}, fmt.Errorf("%w: the access token has no %s claim to name the user", ErrRefused, a.cfg.UsernameClaim)
	}
	return Verified{Issuer: tok.Issuer, Subject: tok.Subject, Username: name}, nil
}

func (a *AccessTokens) verifierFor(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.verifier != nil {
		return a.verifier, nil
	}
	prov, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), a.client), a.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery at %s failed: %v", ErrUnavailable, a.cfg.Issuer, err)
	}
	a.verifier = prov.Verifier(&oidc.Config{ClientID: a.cfg.Audience, Now: a.now})
	return a.verifier, nil
}
