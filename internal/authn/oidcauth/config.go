// Package oidcauth is Gatehouse's OpenID Connect relying party: the
// providers' configuration (a YAML file named by --oidc-config), discovery
// and signing keys (github.com/coreos/go-oidc's remote key set, which
// fetches the provider's JWKS again when a token names a key it has not
// seen: key rotation), the authorization code flow with PKCE, state and
// nonce, the verification of ID tokens and of API access tokens, and the
// mapping of group claims to Gatehouse group names.
//
// It decides nothing about Gatehouse users or permissions: the service
// links, creates and maps users (through the authorization kernel), and
// internal/authn opens the session. See docs/authentication.md.
package oidcauth

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is the file --oidc-config names.
type Config struct {
	// BaseURL is the address people reach the console at, for example
	// https://gatehouse.example.com: the redirect URI given to every
	// provider is BaseURL + "/login/oidc/" + provider id + "/callback".
	// The request's Host header is never trusted for it.
	BaseURL string `yaml:"base_url"`
	// Providers are the identity providers, one sign-in button each.
	Providers []ProviderConfig `yaml:"providers"`
	// PasswordSignIn is who may still sign in with a password:
	// "everyone" (the default), "local" (not users linked to a provider)
	// or "break_glass" (only the usernames of BreakGlass).
	PasswordSignIn string `yaml:"password_sign_in"`
	// BreakGlass are the usernames that keep password sign-in under
	// "break_glass"; default the initial administrator, "admin".
	BreakGlass []string `yaml:"break_glass"`
	// AccessTokens, when set, makes the API accept the provider's JWT
	// access tokens (off by default).
	AccessTokens *AccessTokenConfig `yaml:"access_tokens"`
}

// Password sign-in policies (Config.PasswordSignIn); internal/authn
// applies them under the same names.
const (
	PasswordEveryone   = "everyone"
	PasswordLocalOnly  = "local"
	PasswordBreakGlass = "break_glass"
)

// ProviderConfig is one identity provider.
type ProviderConfig struct {
	// ID names the provider in URLs and the audit log: lower-case
	// letters, digits and '-'.
	ID string `yaml:"id"`
	// DisplayName is the sign-in button's text ("Sign in with …").
	DisplayName string `yaml:"display_name"`
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer + "/.well-known/openid-configuration".
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecretFile or ClientSecretEnv holds the client secret (one of
	// them): never in this file, never logged.
	ClientSecretFile string `yaml:"client_secret_file"`
	ClientSecretEnv  string `yaml:"client_secret_env"`
	// Scopes asked for; "openid" is always added. Default openid,
	// profile, email.
	Scopes []string `yaml:"scopes"`
	// UsernameClaim names the Gatehouse username: preferred_username
	// (default), email or sub.
	UsernameClaim string `yaml:"username_claim"`
	// GroupsClaim is the claim listing the person's groups ("" turns the
	// group mapping off).
	GroupsClaim string `yaml:"groups_claim"`
	// AllowedEmailDomains, when set, refuses a person whose email claim
	// is missing, unverified or of another domain.
	AllowedEmailDomains []string `yaml:"allowed_email_domains"`
	// JIT creates a Gatehouse user at a person's first sign-in; off, only
	// users an administrator or SCIM created may sign in.
	JIT bool `yaml:"jit"`
	// ProvisionAs is the Gatehouse user that JIT creation and the group
	// mapping act as, as SCIM acts as its token's user: the authorization
	// kernel bounds what they may do by what that user holds (R21, R22).
	ProvisionAs string `yaml:"provision_as"`
	// GroupMapping turns group claim values into Gatehouse groups.
	GroupMapping GroupMapping `yaml:"group_mapping"`
}

// GroupMapping maps a groups claim's values to Gatehouse system groups.
type GroupMapping struct {
	// Exact maps a claim value to a group name.
	Exact map[string]string `yaml:"exact"`
	// Prefix, when set, maps a value that starts with it to the group
	// named by the rest ("gatehouse-Editors" → "Editors").
	Prefix string `yaml:"prefix"`
	// AllowAdministrators lets the mapping put people into the built-in
	// Administrators group; without it such a value is refused.
	AllowAdministrators bool `yaml:"allow_administrators"`
}

// AccessTokenConfig accepts a provider's JWT access tokens on the API.
type AccessTokenConfig struct {
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	// UsernameClaim names the Gatehouse user the token acts as (default
	// sub; for client credentials often azp, appid or client_id).
	UsernameClaim string `yaml:"username_claim"`
}

var providerID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Load reads and checks the configuration file at path; getenv reads the
// secrets named by client_secret_env. A mistake is an error naming the
// field; the secrets are returned apart, by provider id.
func Load(path string, getenv func(string) string) (Config, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, fmt.Errorf("--oidc-config: %w", err)
	}
	return Parse(data, getenv)
}

// Parse is Load of the file's contents.
func Parse(data []byte, getenv func(string) string) (Config, map[string]string, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if strings.Contains(err.Error(), "client_secret ") || strings.Contains(err.Error(), "field client_secret not found") {
			return Config{}, nil, errors.New("oidc config: client_secret may not be written in the file: use client_secret_file or client_secret_env")
		}
		return Config{}, nil, fmt.Errorf("oidc config: %w", err)
	}
	if err := c.normalize(); err != nil {
		return Config{}, nil, err
	}
	secrets := map[string]string{}
	for _, p := range c.Providers {
		s, err := p.secret(getenv)
		if err != nil {
			return Config{}, nil, err
		}
		secrets[p.ID] = s
	}
	return c, secrets, nil
}

// normalize fills defaults and checks every field.
func (c *Config) normalize() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("oidc config: "+format, a...)) }
	if len(c.Providers) > 0 {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("base_url %q: want the console's address, such as https://gatehouse.example.com", c.BaseURL)
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	switch c.PasswordSignIn {
	case "":
		c.PasswordSignIn = PasswordEveryone
	case PasswordEveryone, PasswordLocalOnly, PasswordBreakGlass:
	default:
		bad("password_sign_in %q: want everyone, local or break_glass", c.PasswordSignIn)
	}
	if len(c.BreakGlass) == 0 {
		c.BreakGlass = []string{"admin"}
	}
	seen := map[string]bool{}
	for i := range c.Providers {
		p := &c.Providers[i]
		if !providerID.MatchString(p.ID) {
			bad("providers[%d].id %q: want 1 to 32 lower-case letters, digits or '-'", i, p.ID)
		}
		if seen[p.ID] {
			bad("providers[%d].id %q: used twice", i, p.ID)
		}
		seen[p.ID] = true
		errs = append(errs, p.normalize(i)...)
	}
	if a := c.AccessTokens; a != nil {
		if !httpURL(a.Issuer) || a.Audience == "" {
			bad("access_tokens: want an issuer URL and an audience")
		}
		if a.UsernameClaim == "" {
			a.UsernameClaim = "sub"
		}
	}
	return errors.Join(errs...)
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func (p *ProviderConfig) normalize(i int) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("oidc config: providers[%d] (%s): "+format, append([]any{i, p.ID}, a...)...))
	}
	if !httpURL(p.Issuer) {
		bad("issuer %q: want the provider's issuer URL", p.Issuer)
	}
	if p.ClientID == "" {
		bad("client_id is missing")
	}
	if (p.ClientSecretFile == "") == (p.ClientSecretEnv == "") {
		bad("name the client secret with exactly one of client_secret_file or client_secret_env")
	}
	if p.DisplayName == "" {
		p.DisplayName = p.ID
	}
	if len(p.Scopes) == 0 {
		p.Scopes = []string{"openid", "profile", "email"}
	}
	if !slices.Contains(p.Scopes, "openid") {
		p.Scopes = append([]string{"openid"}, p.Scopes...)
	}
	switch p.UsernameClaim {
	case "":
		p.UsernameClaim = "preferred_username"
	case "preferred_username", "email", "sub", "upn", "name":
	default:
		bad("username_claim %q: want preferred_username, email, upn, name or sub", p.UsernameClaim)
	}
	for j, d := range p.AllowedEmailDomains {
		p.AllowedEmailDomains[j] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	mapped := len(p.GroupMapping.Exact) > 0 || p.GroupMapping.Prefix != ""
	if mapped && p.GroupsClaim == "" {
		bad("group_mapping needs groups_claim, the claim that lists the groups")
	}
	if (p.JIT || mapped) && p.ProvisionAs == "" {
		bad("jit and group_mapping act as a Gatehouse user: name it with provision_as")
	}
	return errs
}

// secret reads the provider's client secret.
func (p *ProviderConfig) secret(getenv func(string) string) (string, error) {
	if p.ClientSecretEnv != "" {
		s := strings.TrimSpace(getenv(p.ClientSecretEnv))
		if s == "" {
			return "", fmt.Errorf("oidc config: provider %s: the environment variable %s named by client_secret_env is empty", p.ID, p.ClientSecretEnv)
		}
		return s, nil
	}
	b, err := os.ReadFile(p.ClientSecretFile)
	if err != nil {
		// The error names the file, never its contents.
		return "", fmt.Errorf("oidc config: provider %s: client_secret_file: %w", p.ID, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("oidc config: provider %s: client_secret_file %s is empty", p.ID, p.ClientSecretFile)
	}
	return s, nil
}

// MapGroups turns a groups claim's values into the Gatehouse group names
// the mapping names, sorted, without repeats.
func (m GroupMapping) MapGroups(values []string) []string {
	var out []string
	for _, v := range values {
		if name, ok := m.Exact[v]; ok {
			out = append(out, name)
			continue
		}
		if m.Prefix != "" && strings.HasPrefix(v, m.Prefix) && len(v) > len(m.Prefix) {
			out = append(out, v[len(m.Prefix):])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Enabled reports whether the mapping maps anything.
func (m GroupMapping) Enabled() bool { return len(m.Exact) > 0 || m.Prefix != "" }
