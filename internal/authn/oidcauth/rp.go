package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Errors a sign-in can end with. ErrUnavailable means the provider could
// not be reached (or answered nonsense): the console says so, and never
// answers 500.
var (
	ErrUnavailable = errors.New("the identity provider cannot be reached")
	ErrRefused     = errors.New("the identity provider's answer was refused")
)

// Provider is one configured identity provider at run time. Discovery is
// lazy and retried: a provider that is down when the server starts only
// makes its own sign-in button fail until it is back.
type Provider struct {
	Config   ProviderConfig
	secret   string
	redirect string
	client   *http.Client

	mu       sync.Mutex
	discover *discovered
}

type discovered struct {
	provider   *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	endSession string
}

// Options of NewProviders.
type Options struct {
	// HTTPClient talks to the providers (default: a client with a 10 s
	// timeout).
	HTTPClient *http.Client
	// Now is the clock ID tokens are checked against (tests).
	Now func() time.Time
}

// Set is every configured provider, in the configuration's order.
type Set struct {
	Config    Config
	Providers []*Provider
	now       func() time.Time
}

// New builds the providers of c with their secrets (from Load).
func New(c Config, secrets map[string]string, o Options) *Set {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Set{Config: c, now: o.Now}
	for _, pc := range c.Providers {
		s.Providers = append(s.Providers, &Provider{Config: pc, secret: secrets[pc.ID], client: o.HTTPClient,
			redirect: c.BaseURL + "/login/oidc/" + pc.ID + "/callback"})
	}
	return s
}

// Get returns the provider with id, or nil.
func (s *Set) Get(id string) *Provider {
	if s == nil {
		return nil
	}
	for _, p := range s.Providers {
		if p.Config.ID == id {
			return p
		}
	}
	return nil
}

// RedirectURI is the callback address to register at the provider.
func (p *Provider) RedirectURI() string { return p.redirect }

// ctx carries the provider's HTTP client to go-oidc and oauth2.
func (p *Provider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.client)
}

// discovered returns the provider's metadata and verifier, reading
// /.well-known/openid-configuration the first time (and again after a
// failure). go-oidc checks that the document's issuer is the configured
// one, and its verifier accepts only the algorithms the document lists
// (id_token_signing_alg_values_supported, RS256 when absent), never none.
func (p *Provider) discovered(ctx context.Context, now func() time.Time) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discover != nil {
		return p.discover, nil
	}
	// The key set go-oidc builds keeps this context for its later JWKS
	// fetches (only its HTTP client, not its deadline).
	prov, err := oidc.NewProvider(p.ctx(context.WithoutCancel(ctx)), p.Config.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery at %s failed: %v", ErrUnavailable, p.Config.Issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = prov.Claims(&extra)
	d := &discovered{provider: prov, endSession: extra.EndSession,
		verifier: prov.Verifier(&oidc.Config{ClientID: p.Config.ClientID, Now: now})}
	p.discover = d
	return d, nil
}

func (p *Provider) oauth(d *discovered) *oauth2.Config {
	return &oauth2.Config{ClientID: p.Config.ClientID, ClientSecret: p.secret, Endpoint: d.provider.Endpoint(),
		RedirectURL: p.redirect, Scopes: p.Config.Scopes}
}

// AuthURL is where the browser goes to sign in at the provider: the
// authorization code flow with state, nonce and a PKCE S256 challenge of
// verifier.
func (p *Provider) AuthURL(ctx context.Context, now func() time.Time, state, nonce, verifier string) (string, error) {
	d, err := p.discovered(ctx, now)
	if err != nil {
		return "", err
	}
	return p.oauth(d).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Identity is what a verified ID token says about the person.
type Identity struct {
	Provider    string
	Issuer      string
	Subject     string
	Username    string
	Email       string
	DisplayName string
	// Groups are the groups claim's values; Mapped the Gatehouse group
	// names the mapping turns them into.
	Groups []string
	Mapped []string
}

// Finish exchanges the code for tokens (sending the PKCE verifier),
// verifies the ID token (signature with the provider's published keys,
// issuer, audience, expiry, algorithm) and its nonce, and reads the
// person's claims. Any failure is ErrUnavailable (the provider could not
// be reached) or ErrRefused, wrapped with the reason.
func (p *Provider) Finish(ctx context.Context, now func() time.Time, code, verifier, nonce string) (Identity, string, error) {
	d, err := p.discovered(ctx, now)
	if err != nil {
		return Identity{}, "", err
	}
	tok, err := p.oauth(d).Exchange(p.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.Response == nil || re.Response.StatusCode < 500) {
			return Identity{}, "", fmt.Errorf("%w: the token endpoint refused the code: %s", ErrRefused, re.ErrorCode)
		}
		return Identity{}, "", fmt.Errorf("%w: the token endpoint: %v", ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, "", fmt.Errorf("%w: the token response has no ID token", ErrRefused)
	}
	id, err := d.verifier.Verify(p.ctx(ctx), raw)
	if err != nil {
		return Identity{}, "", fmt.Errorf("%w: the ID token: %v", ErrRefused, err)
	}
	if id.Nonce != nonce {
		return Identity{}, "", fmt.Errorf("%w: the ID token's nonce is not the one this sign-in sent", ErrRefused)
	}
	who, err := p.identity(id)
	return who, raw, err
}

// identity reads the person's claims from a verified ID token.
func (p *Provider) identity(id *oidc.IDToken) (Identity, error) {
	var claims map[string]any
	if err := id.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: the ID token's claims: %v", ErrRefused, err)
	}
	who := Identity{Provider: p.Config.ID, Issuer: id.Issuer, Subject: id.Subject,
		Email: claimString(claims, "email"), DisplayName: claimString(claims, "name")}
	who.Username = claimString(claims, p.Config.UsernameClaim)
	if who.Username == "" {
		return Identity{}, fmt.Errorf("%w: the ID token has no %s claim to name the user", ErrRefused, p.Config.UsernameClaim)
	}
	if err := p.checkDomain(claims, who.Email); err != nil {
		return Identity{}, err
	}
	if p.Config.GroupsClaim != "" {
		who.Groups = claimStrings(claims, p.Config.GroupsClaim)
		who.Mapped = p.Config.GroupMapping.MapGroups(who.Groups)
	}
	return who, nil
}

// checkDomain applies allowed_email_domains: the email must be there,
// not said to be unverified, and of one of the domains.
func (p *Provider) checkDomain(claims map[string]any, email string) error {
	if len(p.Config.AllowedEmailDomains) == 0 {
		return nil
	}
	if v, ok := claims["email_verified"].(bool); ok && !v {
		return fmt.Errorf("%w: the email address is not verified by the provider", ErrRefused)
	}
	_, dom, ok := strings.Cut(email, "@")
	for _, d := range p.Config.AllowedEmailDomains {
		if ok && strings.EqualFold(dom, d) {
			return nil
		}
	}
	return fmt.Errorf("%w: the email address %q is not of an allowed domain", ErrRefused, email)
}

func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return strings.TrimSpace(s)
}

// claimStrings reads a claim that is a list of strings, or one string.
func claimStrings(claims map[string]any, name string) []string {
	switch v := claims[name].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// LogoutURL is the provider's end_session_endpoint with this client's id
// and where to come back to (OpenID Connect RP-Initiated Logout 1.0), or
// "" when the provider advertises none or cannot be reached.
func (p *Provider) LogoutURL(ctx context.Context, now func() time.Time, idTokenHint, back string) string {
	d, err := p.discovered(ctx, now)
	if err != nil || d.endSession == "" {
		return ""
	}
	u, err := url.Parse(d.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", p.Config.ClientID)
	q.Set("post_logout_redirect_uri", back)
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
