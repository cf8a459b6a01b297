package oidcauth

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const good = `base_url: https://gatehouse.example.com/
providers:
  - id: corp
    issuer: https://login.example.com/tenant/v2.0
    client_id: abc
    client_secret_env: CORP_SECRET
    groups_claim: groups
    provision_as: idp-bot
    group_mapping: {prefix: gh-, exact: {"0a1b": Staff}}
password_sign_in: break_glass
`

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseFillsDefaultsAndKeepsTheSecretApart(t *testing.T) {
	c, secrets, err := Parse([]byte(good), env(map[string]string{"CORP_SECRET": " hunter2\n"}))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Providers[0]
	if c.BaseURL != "https://gatehouse.example.com" || p.DisplayName != "corp" || p.UsernameClaim != "preferred_username" ||
		!slices.Equal(p.Scopes, []string{"openid", "profile", "email"}) || !slices.Equal(c.BreakGlass, []string{"admin"}) {
		t.Errorf("defaults = %+v", c)
	}
	if secrets["corp"] != "hunter2" {
		t.Errorf("secret = %q, want hunter2 trimmed", secrets["corp"])
	}
	set := New(c, secrets, Options{})
	if got := set.Get("corp").RedirectURI(); got != "https://gatehouse.example.com/login/oidc/corp/callback" {
		t.Errorf("redirect URI = %q", got)
	}
}

func TestParseSecretFromAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(good, "client_secret_env: CORP_SECRET", "client_secret_file: "+f, 1)
	_, secrets, err := Parse([]byte(conf), env(nil))
	if err != nil || secrets["corp"] != "from-file" {
		t.Fatalf("secret from a file = %q, %v", secrets["corp"], err)
	}
}

func TestParseRefusals(t *testing.T) {
	cases := map[string]struct{ conf, want string }{
		"inline secret":         {strings.Replace(good, "client_secret_env: CORP_SECRET", "client_secret: hunter2", 1), "client_secret may not be written"},
		"empty secret":          {good, "is empty"},
		"unknown field":         {good + "colour: blue\n", "colour"},
		"bad id":                {strings.Replace(good, "id: corp", "id: Corp Inc", 1), "providers[0].id"},
		"no base url":           {strings.Replace(good, "base_url: https://gatehouse.example.com/", "base_url: gatehouse", 1), "base_url"},
		"bad issuer":            {strings.Replace(good, "issuer: https://login.example.com/tenant/v2.0", "issuer: login", 1), "issuer"},
		"mapping without user":  {strings.Replace(good, "provision_as: idp-bot", "", 1), "provision_as"},
		"mapping without claim": {strings.Replace(good, "groups_claim: groups", "", 1), "groups_claim"},
		"bad policy":            {strings.Replace(good, "break_glass", "nobody", 1), "password_sign_in"},
		"bad username claim":    {strings.Replace(good, "client_id: abc", "client_id: abc\n    username_claim: phone", 1), "username_claim"},
	}
	for name, tc := range cases {
		secret := "x"
		if name == "empty secret" {
			secret = ""
		}
		_, _, err := Parse([]byte(tc.conf), env(map[string]string{"CORP_SECRET": secret}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
}

func TestMapGroupsExactAndPrefix(t *testing.T) {
	m := GroupMapping{Exact: map[string]string{"0a1b": "Staff"}, Prefix: "gh-"}
	got := m.MapGroups([]string{"gh-Editors", "0a1b", "other", "gh-", "gh-Editors"})
	if !slices.Equal(got, []string{"Editors", "Staff"}) {
		t.Errorf("MapGroups = %v, want [Editors Staff]", got)
	}
}

func TestStatesAreSingleUseBoundAndExpire(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewStates(func() time.Time { return now })
	state, p := s.Start("corp", "/next", "browser-a")
	if p.Nonce == "" || p.Verifier == "" || p.Nonce == p.Verifier {
		t.Fatalf("pending = %+v, want a nonce and a verifier", p)
	}
	if _, ok := s.Take(state, "browser-b"); ok {
		t.Error("another browser's binding was accepted")
	}
	if _, ok := s.Take(state, "browser-a"); ok {
		t.Error("a state was usable after a failed try")
	}
	state, _ = s.Start("corp", "", "browser-a")
	got, ok := s.Take(state, "browser-a")
	if !ok || got.Provider != "corp" {
		t.Errorf("Take = %+v, %v", got, ok)
	}
	if _, ok := s.Take(state, "browser-a"); ok {
		t.Error("a state was usable twice")
	}
	state, _ = s.Start("corp", "", "browser-a")
	now = now.Add(StateTTL + time.Second)
	if _, ok := s.Take(state, "browser-a"); ok {
		t.Error("an expired state was accepted")
	}
}

// FuzzParse feeds the configuration parser arbitrary files: an error or a
// configuration, never a panic, and never a secret in an error.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("providers: [{id: a, issuer: 'http://x', client_id: c, client_secret_env: S, group_mapping: {prefix: p}}]"))
	f.Add([]byte("access_tokens: {issuer: https://i, audience: a}\npassword_sign_in: local"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, secrets, err := Parse(data, env(map[string]string{"CORP_SECRET": "hunter2", "S": "hunter2"}))
		if err != nil {
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error shows the secret: %v", err)
			}
			return
		}
		for _, p := range c.Providers {
			if secrets[p.ID] == "" || p.UsernameClaim == "" || !slices.Contains(p.Scopes, "openid") {
				t.Fatalf("accepted provider %+v without a secret, a username claim or the openid scope", p)
			}
		}
	})
}
