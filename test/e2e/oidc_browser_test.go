package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/oidcauth/oidctest"
)

// TestConsoleOIDCSignInBrowser is the OpenID Connect story in Chromium
// against the real binary and a real provider on loopback (zitadel's
// certified op package): the login page's button, the provider's own
// sign-in page, back to Gatehouse signed in (the user created just in
// time), sign-out through the provider (RP-initiated logout), and the
// administrator, who keeps a password (break-glass), seeing the link on
// the user's page.
func TestConsoleOIDCSignInBrowser(t *testing.T) {
	prov := oidctest.Start(t)
	prov.AddUser(oidctest.User{ID: "sub-dana", Username: "dana", Password: "pw-dana", Email: "dana@example.com", Name: "Dana"})
	addr, base := prov.ForGatehouse(t, "idp")

	dir := t.TempDir()
	conf := filepath.Join(dir, "oidc.yaml")
	yaml := fmt.Sprintf(`base_url: %s
providers:
  - id: idp
    display_name: Example SSO
    issuer: %s
    client_id: %s
    client_secret_env: IDP_SECRET
    jit: true
    provision_as: admin
password_sign_in: break_glass
`, base, prov.Issuer, prov.ClientID)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, dir, []string{"GATEHOUSE_ADMIN_PASSWORD=pw-admin-123", "IDP_SECRET=" + prov.ClientSecret},
		"--listen", addr, "--oidc-config", conf)
	if strings.Contains(s.Log(), prov.ClientSecret) {
		t.Fatal("the server logged the client secret")
	}

	b := newUIBrowser(t, s.URL)
	b.open("/login?next=/preferences", "login page with the provider button")
	b.wantText("#oidc-idp", "Sign in with Example SSO")
	b.submit("#oidc-idp", "the provider's sign-in page")
	if !strings.HasPrefix(b.location(), prov.Issuer) {
		t.Fatalf("the button led to %s, want the provider", b.location())
	}
	b.fill("#username", "dana")
	b.fill("#password", "pw-dana")
	b.submit(`button[type="submit"]`, "back in gatehouse signed in")
	if loc := b.location(); loc != s.URL+"/preferences" {
		t.Fatalf("after the provider: %s, want %s/preferences", loc, s.URL)
	}
	b.wantText("body", "dana")

	// The signed-out page moves on at once (a refresh) to the provider,
	// which sends the browser back to the sign-in page: no screenshot of
	// the page in between, which is gone as it is taken.
	b.click("#usermenu")
	b.click("#logout")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.HasPrefix(b.location(), s.URL+"/login") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	b.shot("back from the provider's logout")
	if loc := b.location(); !strings.HasPrefix(loc, s.URL+"/login") {
		t.Errorf("after sign-out (through the provider): %s, want the sign-in page", loc)
	}

	b.signIn("admin", "pw-admin-123")
	b.open("/admin/users/"+b.userID("dana"), "dana's user page with the provider link")
	b.wantText("#oidc-links", "idp", prov.Issuer, "sub-dana")
}
