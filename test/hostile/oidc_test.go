package hostile

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/authn/oidcauth/oidctest"
)

// attackOIDC attacks the OpenID Connect sign-in of the real binary,
// configured with a real provider on loopback (zitadel's op package):
// forged, stolen and replayed states, an open redirect through next, the
// provider's error answer, and hostile provider ids and callback fields.
// The refusals of bad ID tokens (audience, expiry, signature, alg none,
// nonce, issuer) need a provider that misbehaves: they are in
// internal/api/console (TestOIDCRefusesBadIDTokens) and, for API access
// tokens, internal/authn (TestJWTAccessTokenRefusals).
func attackOIDC(t *testing.T) {
	prov := oidctest.Start(t)
	prov.AddUser(oidctest.User{ID: "sub-eve", Username: "eve", Password: "pw-eve"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	prov.SetRedirectURIs(base+"/login/oidc/idp/callback", base+"/login")
	dir := t.TempDir()
	secret, conf := filepath.Join(dir, "secret"), filepath.Join(dir, "oidc.yaml")
	must(t, os.WriteFile(secret, []byte(prov.ClientSecret), 0o600))
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf(`base_url: %s
providers:
  - id: idp
    issuer: %s
    client_id: %s
    client_secret_file: %s
    jit: true
    provision_as: admin
`, base, prov.Issuer, prov.ClientID, secret)), 0o600))
	s := start(t, "--listen", addr, "--oidc-config", conf)
	ctx := context.Background()

	// An open redirect through next: a sign-in asked to go on to another
	// site lands on the console.
	c := oidctest.NewClient()
	resp, err := oidctest.SignIn(ctx, c, base+"/login/oidc/idp?next=//evil.example/x", "eve", "pw-eve")
	must(t, err)
	callback := oidctest.CallbackURL(resp)
	r := getRaw(t, c, callback)
	to := r.Header.Get("Location")
	attempted(strings.HasPrefix(to, "/") && !strings.HasPrefix(to, "//"), false)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") {
		t.Errorf("sign-in with next=//evil.example: %d to %q, want a redirect into the console", r.StatusCode, to)
	}

	refusals := []struct {
		what   string
		client *http.Client
		url    string
		want   int
	}{
		{"a replayed callback", c, callback, http.StatusBadRequest},
		{"a forged state", oidctest.NewClient(), base + "/login/oidc/idp/callback?state=forged&code=forged", http.StatusBadRequest},
		{"the provider's error answer", oidctest.NewClient(), base + "/login/oidc/idp/callback?error=access_denied&error_description=%3Cscript%3E", http.StatusUnauthorized},
	}
	// A callback URL stolen from another browser (its code unused).
	other := oidctest.NewClient()
	resp, err = oidctest.SignIn(ctx, other, base+"/login/oidc/idp", "eve", "pw-eve")
	must(t, err)
	refusals = append(refusals, struct {
		what   string
		client *http.Client
		url    string
		want   int
	}{"a callback stolen from another browser", oidctest.NewClient(), oidctest.CallbackURL(resp), http.StatusBadRequest})
	for _, rf := range refusals {
		r := getRaw(t, rf.client, rf.url)
		signed := false
		for _, ck := range r.Cookies() {
			signed = signed || ck.Name == "gatehouse_session" && ck.Value != ""
		}
		attempted(r.StatusCode == rf.want && !signed, false)
		if r.StatusCode != rf.want || signed {
			t.Errorf("%s: %d (session set: %v), want %d and no session", rf.what, r.StatusCode, signed, rf.want)
		}
	}
	api := newClient(s.URL, adminToken(t, s.URL))
	if n := auditCount(t, api, url.Values{"action": {"auth.login"}}, "denied"); n < len(refusals)-1 {
		t.Errorf("denied auth.login records = %d, want one per refused callback", n)
	}

	// Hostile provider ids and callback fields: never a 5xx.
	hostile := []string{"..", "%2e%2e%2f", "%00", "%ff%fe", "<script>alert(1)</script>", "' OR 1=1 --", strings.Repeat("a", 4000)}
	for _, h := range hostile {
		for _, u := range []string{
			base + "/login/oidc/" + h,
			base + "/login/oidc/" + h + "/callback?state=x",
			base + "/login/oidc/idp/callback?state=" + h + "&code=" + h,
			base + "/login/oidc/idp/callback?error=" + h,
			base + "/login/oidc/idp?next=" + h,
		} {
			r := getRaw(t, oidctest.NewClient(), u)
			attempted(r.StatusCode < 500, false)
			if r.StatusCode >= 500 {
				t.Errorf("GET %.120s: %d, want no 5xx", u, r.StatusCode)
			}
		}
	}
	s.checkLog(t)
}

func getRaw(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	r, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %.120s: %v", u, err)
	}
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
