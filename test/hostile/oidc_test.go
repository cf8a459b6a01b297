package hostile

import (
	"context"
	"fmt"
	"io"
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
	base := startWithOIDC(t)
	c := oidctest.NewClient()
	callback := oidcOpenRedirect(t, base, c)
	n := oidcRefusals(t, base, c, callback)
	api := newClient(base, adminToken(t, base))
	if got := auditCount(t, api, url.Values{"action": {"auth.login"}}, "denied"); got < n {
		t.Errorf("denied auth.login records = %d, want one per refused callback (%d)", got, n)
	}
	oidcHostileValues(t, base)
}

// startWithOIDC starts the server with provider idp, a real provider on
// loopback that knows eve, and returns the server's URL.
func startWithOIDC(t *testing.T) string {
	prov := oidctest.Start(t)
	prov.AddUser(oidctest.User{ID: "sub-eve", Username: "eve", Password: "pw-eve"})
	addr, base := prov.ForGatehouse(t, "idp")
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
	t.Cleanup(func() { s.checkLog(t) })
	return s.URL
}

// oidcOpenRedirect signs eve in with next=//evil.example: she must land
// in the console. It returns the (now used) callback URL.
func oidcOpenRedirect(t *testing.T, base string, c *http.Client) string {
	resp, err := oidctest.SignIn(context.Background(), c, base+"/login/oidc/idp?next=//evil.example/x", "eve", "pw-eve")
	must(t, err)
	callback := oidctest.CallbackURL(resp)
	r := getRaw(t, c, callback)
	to := r.Header.Get("Location")
	ok := r.StatusCode == http.StatusSeeOther && strings.HasPrefix(to, "/") && !strings.HasPrefix(to, "//")
	attempted(ok, false)
	if !ok {
		t.Errorf("sign-in with next=//evil.example: %d to %q, want a redirect into the console", r.StatusCode, to)
	}
	return callback
}

type oidcRefusal struct {
	what   string
	client *http.Client
	url    string
	want   int
}

// oidcRefusals tries callbacks that must be refused without a session,
// and returns how many.
func oidcRefusals(t *testing.T, base string, c *http.Client, used string) int {
	// A callback URL stolen from another browser (its code unused).
	resp, err := oidctest.SignIn(context.Background(), oidctest.NewClient(), base+"/login/oidc/idp", "eve", "pw-eve")
	must(t, err)
	refusals := []oidcRefusal{
		{"a replayed callback", c, used, http.StatusBadRequest},
		{"a forged state", oidctest.NewClient(), base + "/login/oidc/idp/callback?state=forged&code=forged", http.StatusBadRequest},
		{"the provider's error answer", oidctest.NewClient(), base + "/login/oidc/idp/callback?error=access_denied&error_description=%3Cscript%3E", http.StatusUnauthorized},
		{"a callback stolen from another browser", oidctest.NewClient(), oidctest.CallbackURL(resp), http.StatusBadRequest},
	}
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
	return len(refusals)
}

// oidcHostileValues sends hostile provider ids and callback fields: never
// a 5xx.
func oidcHostileValues(t *testing.T, base string) {
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
