package main

import (
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/authn/oidcauth"
)

// loadOIDC reads --oidc-config, if set: a mistake in it (or a secret
// that cannot be read) is a usage error naming the field, and stops the
// server before it starts. The secrets are kept apart and never logged.
func (c *serveConfig) loadOIDC() error {
	if c.oidcConfig == "" {
		return nil
	}
	conf, secrets, err := oidcauth.Load(c.oidcConfig, c.getenv)
	if err != nil {
		return usageError{err}
	}
	c.oidc, c.oidcSecrets = conf, secrets
	return nil
}

// oidcProviders builds the providers and the access-token verifier (nil
// when not configured), logging each provider's redirect URI to register
// at the provider.
func (c *serveConfig) oidcProviders(log *slog.Logger) (*oidcauth.Set, *oidcauth.AccessTokens) {
	if c.oidcConfig == "" {
		return nil, nil
	}
	set := oidcauth.New(c.oidc, c.oidcSecrets, oidcauth.Options{})
	for _, p := range set.Providers {
		log.Info("OpenID Connect provider", "id", p.Config.ID, "issuer", p.Config.Issuer, "client_id", p.Config.ClientID,
			"redirect_uri", p.RedirectURI(), "jit", p.Config.JIT, "group_mapping", p.Config.GroupMapping.Enabled())
	}
	if c.oidc.AccessTokens != nil {
		log.Info("API accepts JWT access tokens", "issuer", c.oidc.AccessTokens.Issuer, "audience", c.oidc.AccessTokens.Audience)
	}
	log.Info("password sign-in", "who", c.oidc.PasswordSignIn, "break_glass", c.oidc.BreakGlass)
	return set, oidcauth.NewAccessTokens(c.oidc.AccessTokens, oidcauth.Options{})
}
