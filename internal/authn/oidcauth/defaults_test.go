package oidcauth

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Without providers (access tokens only, or a password policy) the
// console's address is not needed; access tokens name their user by
// "sub" unless told otherwise.
func TestParseAccessTokensAloneNeedNoBaseURL(t *testing.T) {
	c, _, err := Parse([]byte("access_tokens: {issuer: http://idp.example, audience: gatehouse}\n"), env(nil))
	if err != nil {
		t.Fatalf("access tokens without providers: %v", err)
	}
	if c.AccessTokens.UsernameClaim != "sub" {
		t.Errorf("username claim = %q, want sub", c.AccessTokens.UsernameClaim)
	}
	c, _, err = Parse([]byte("access_tokens: {issuer: https://idp.example, audience: gatehouse, username_claim: email}\n"), env(nil))
	if err != nil || c.AccessTokens.UsernameClaim != "email" {
		t.Errorf("a username claim given: %q, %v; want email kept", c.AccessTokens.UsernameClaim, err)
	}
	for name, conf := range map[string]string{
		"no audience":     "access_tokens: {issuer: https://idp.example}\n",
		"no issuer":       "access_tokens: {audience: gatehouse}\n",
		"issuer, no host": "access_tokens: {issuer: 'https://', audience: gatehouse}\n",
		"issuer, ftp":     "access_tokens: {issuer: 'ftp://idp.example', audience: gatehouse}\n",
	} {
		if _, _, err := Parse([]byte(conf), env(nil)); err == nil || !strings.Contains(err.Error(), "access_tokens") {
			t.Errorf("%s: error %v, want one naming access_tokens", name, err)
		}
	}
}

// A plain-HTTP console address and issuer are accepted (a test or an
// internal network); a provider that maps no groups needs neither a
// groups claim nor a user to act as.
func TestParseAcceptsHTTPAndAProviderWithoutMapping(t *testing.T) {
	conf := `base_url: http://gatehouse.internal
providers:
  - id: corp
    issuer: http://login.internal
    client_id: abc
    client_secret_env: CORP_SECRET
`
	c, _, err := Parse([]byte(conf), env(map[string]string{"CORP_SECRET": "s"}))
	if err != nil {
		t.Fatalf("a provider over HTTP without mapping: %v", err)
	}
	if c.Providers[0].GroupMapping.Enabled() {
		t.Error("a provider without group_mapping maps groups")
	}
	prefixOnly := strings.Replace(conf, "client_id: abc", "client_id: abc\n    group_mapping: {prefix: gh-}\n    provision_as: bot", 1)
	if _, _, err := Parse([]byte(prefixOnly), env(map[string]string{"CORP_SECRET": "s"})); err == nil || !strings.Contains(err.Error(), "groups_claim") {
		t.Errorf("a prefix mapping without groups_claim: %v, want it refused", err)
	}
	noHost := strings.Replace(conf, "base_url: http://gatehouse.internal", "base_url: 'http://'", 1)
	if _, _, err := Parse([]byte(noHost), env(map[string]string{"CORP_SECRET": "s"})); err == nil || !strings.Contains(err.Error(), "base_url") {
		t.Errorf("a base_url without a host: %v, want it refused", err)
	}
}

func TestGroupMappingEnabled(t *testing.T) {
	for _, c := range []struct {
		m    GroupMapping
		want bool
	}{
		{GroupMapping{}, false},
		{GroupMapping{Prefix: "gh-"}, true},
		{GroupMapping{Exact: map[string]string{"a": "A"}}, true},
	} {
		if got := c.m.Enabled(); got != c.want {
			t.Errorf("%+v.Enabled() = %v, want %v", c.m, got, c.want)
		}
	}
}

func TestLoadReadsTheFile(t *testing.T) {
	if _, _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), env(nil)); err == nil || !strings.Contains(err.Error(), "--oidc-config") {
		t.Errorf("a missing file: %v, want an error naming --oidc-config", err)
	}
	f := filepath.Join(t.TempDir(), "oidc.yaml")
	if err := os.WriteFile(f, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	c, secrets, err := Load(f, env(map[string]string{"CORP_SECRET": "s"}))
	if err != nil || len(c.Providers) != 1 || secrets["corp"] != "s" {
		t.Errorf("Load = %+v, %v, %v", c, secrets, err)
	}
}

// Providers and the access-token verifier talk through the client given,
// or by default through one that gives up after 10 s.
func TestHTTPClientDefaults(t *testing.T) {
	c, secrets, err := Parse([]byte(good), env(map[string]string{"CORP_SECRET": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	mine := &http.Client{}
	if got := New(c, secrets, Options{HTTPClient: mine}).Get("corp").client; got != mine {
		t.Error("a provider does not use the client given")
	}
	if got := New(c, secrets, Options{}).Get("corp").client; got == nil || got.Timeout != 10*time.Second {
		t.Errorf("a provider's default client = %+v, want a 10 s timeout", got)
	}
	at := &AccessTokenConfig{Issuer: "https://idp.example", Audience: "a"}
	if got := NewAccessTokens(at, Options{HTTPClient: mine}).client; got != mine {
		t.Error("the access-token verifier does not use the client given")
	}
	if got := NewAccessTokens(at, Options{}).client; got == nil || got.Timeout != 10*time.Second {
		t.Errorf("the verifier's default client = %+v, want a 10 s timeout", got)
	}
}

// A sign-in is pending for ten minutes.
func TestStatesLiveTenMinutes(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewStates(func() time.Time { return now })
	a, _ := s.Start("corp", "", "b")
	b, _ := s.Start("corp", "", "b")
	now = now.Add(10 * time.Minute)
	if _, ok := s.Take(a, "b"); !ok {
		t.Error("a sign-in was gone at ten minutes")
	}
	now = now.Add(time.Second)
	if _, ok := s.Take(b, "b"); ok {
		t.Error("a sign-in was still pending past ten minutes")
	}
}

// At most maxPending sign-ins are pending: when full, the expired go
// first, then the oldest.
func TestStatesStayBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewStates(func() time.Time { return now })
	first, _ := s.Start("corp", "", "b")
	for range maxPending - 1 {
		now = now.Add(time.Millisecond)
		s.Start("corp", "", "b")
	}
	now = now.Add(time.Millisecond)
	last, _ := s.Start("corp", "", "b")
	if n := len(s.m); n != maxPending {
		t.Errorf("%d pending after one more than the bound, want %d", n, maxPending)
	}
	if _, ok := s.Take(first, "b"); ok {
		t.Error("the oldest sign-in was kept when full")
	}
	if _, ok := s.Take(last, "b"); !ok {
		t.Error("the newest sign-in was dropped")
	}
	for len(s.m) < maxPending {
		s.Start("corp", "", "b")
	}
	now = now.Add(StateTTL + time.Minute)
	s.Start("corp", "", "b")
	if n := len(s.m); n != 1 {
		t.Errorf("%d pending after a start when full of expired ones, want 1", n)
	}
}
