package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/authn/oidcauth"
	"github.com/gatehouse/gatehouse/internal/authn/oidcauth/oidctest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The OpenID Connect sign-in against a real provider (zitadel's certified
// op package, in-process on loopback) and a rogue one that hands out the
// tokens a correct provider never would. The browser's part is in
// test/e2e (TestConsoleOIDCSignInBrowser).

type oidcEnv struct {
	base  string
	prov  *oidctest.Provider
	st    store.Store
	svc   *service.Service
	admin service.Caller
}

// providerYAML is the configuration of the test provider "idp"; extra is
// added to its entry.
func providerYAML(base, issuer, clientID, extra string) string {
	return fmt.Sprintf(`base_url: %s
providers:
  - id: idp
    display_name: Test IdP
    issuer: %s
    client_id: %s
    client_secret_env: IDP_SECRET
    groups_claim: groups
    provision_as: admin
%s`, base, issuer, clientID, extra)
}

// newOIDCEnv serves the console over HTTP with provider idp, configured
// by providerYAML with extra.
func newOIDCEnv(t *testing.T, extra string) *oidcEnv {
	t.Helper()
	prov := oidctest.Start(t)
	e := oidcConsole(t, func(base string) (string, string) {
		prov.SetRedirectURIs(base+"/login/oidc/idp/callback", base+"/login")
		return providerYAML(base, prov.Issuer, prov.ClientID, extra), prov.ClientSecret
	})
	e.prov = prov
	return e
}

// oidcConsole starts the console with the configuration conf returns for
// its base URL (and the client secret).
func oidcConsole(t *testing.T, conf func(base string) (yaml, secret string)) *oidcEnv {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	yaml, secret := conf(base)
	cfg, secrets, err := oidcauth.Parse([]byte(yaml), func(string) string { return secret })
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	ctx := context.Background()
	svc, err := service.New(ctx, st, service.Options{PasswordParams: &cheap})
	if err != nil {
		t.Fatal(err)
	}
	a, err := authn.New(st, authn.Options{PasswordParams: &cheap, Logger: quiet, PasswordSignIn: cfg.PasswordSignIn, BreakGlass: cfg.BreakGlass})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(svc, a, httpauth.New(a, httpauth.Options{AnonymousOnStaleCookie: true}), Options{Log: quiet, OIDC: oidcauth.New(cfg, secrets, oidcauth.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = c
	srv.Start()
	t.Cleanup(srv.Close)
	u, err := st.GetUserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return &oidcEnv{base: base, st: st, svc: svc, admin: service.Caller{UserID: u.ID, Username: u.Username}}
}

// signIn signs in at the provider as username and follows the provider's
// redirect to Gatehouse's callback, returning the callback's answer and
// its body.
func (e *oidcEnv) signIn(t *testing.T, client *http.Client, username, pw string) (*http.Response, string) {
	t.Helper()
	resp, err := oidctest.SignIn(context.Background(), client, e.base+"/login/oidc/idp?next=/admin/users", username, pw)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return e.get(t, client, oidctest.CallbackURL(resp))
}

func (e *oidcEnv) get(t *testing.T, client *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signedIn reports whether the response set a session cookie and sent
// the browser on into the console.
func signedIn(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == httpauth.CookieName && c.Value != "" {
			return resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/admin/users"
		}
	}
	return false
}

func (e *oidcEnv) lastAudit(t *testing.T, action string) domain.AuditEvent {
	t.Helper()
	page, err := e.st.ListAudit(context.Background(), store.AuditQuery{Action: action, Limit: 1})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("no %s audit record (%v)", action, err)
	}
	return page.Items[0]
}

func TestOIDCCodeFlowCreatesUserJustInTimeAndKeepsItAcrossEmailChanges(t *testing.T) {
	e := newOIDCEnv(t, "    jit: true\n")
	e.prov.AddUser(oidctest.User{ID: "sub-ann", Username: "ann", Password: "pw-ann", Email: "ann@example.com", Name: "Ann"})
	client := oidctest.NewClient()
	resp, body := e.signIn(t, client, "ann", "pw-ann")
	if !signedIn(resp) {
		t.Fatalf("callback answered %s %q, want a session and a redirect to /admin/users", resp.Status, body)
	}
	ctx := context.Background()
	u, err := e.st.GetUserByUsername(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if u.Source != domain.SourceOIDC || u.Email != "ann@example.com" {
		t.Errorf("the created user = %+v, want source oidc and the provider's email", u)
	}
	link, err := e.st.GetOIDCLink(ctx, e.prov.Issuer, "sub-ann")
	if err != nil || link.UserID != u.ID || link.Provider != "idp" {
		t.Errorf("link = %+v, %v; want ann linked by provider idp", link, err)
	}
	login := e.lastAudit(t, authn.ActionLogin)
	if login.Outcome != domain.OutcomeSuccess || login.ActorID != u.ID || !strings.Contains(login.Detail, "OpenID Connect provider idp") {
		t.Errorf("auth.login record = %+v, want ann's success naming provider idp", login)
	}
	if create := e.lastAudit(t, "user.create"); create.ActorID != e.admin.UserID || !strings.Contains(create.Detail, "first sign-in") {
		t.Errorf("user.create record = %+v, want it done as provision_as (admin) at the first sign-in", create)
	}

	// The session is a console session like a password's.
	if resp, body := e.get(t, client, e.base+"/preferences"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "ann") {
		t.Errorf("GET /preferences with the session = %s, want 200 with ann signed in", resp.Status)
	}

	// A new email (and username) at the provider: the same user, by subject.
	e.prov.SetEmail("sub-ann", "ann.smith@example.com")
	resp, body = e.signIn(t, oidctest.NewClient(), "ann", "pw-ann")
	if !signedIn(resp) {
		t.Fatalf("second sign-in answered %s %q", resp.Status, body)
	}
	page, err := e.st.ListUsers(ctx, store.ListQuery{Search: "ann"})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != u.ID {
		t.Errorf("users named ann after an email change = %+v (%v), want only the first one", page.Items, err)
	}
}

func TestOIDCWithoutJITOnlyExistingUsersSignIn(t *testing.T) {
	e := newOIDCEnv(t, "")
	e.prov.AddUser(oidctest.User{ID: "sub-bo", Username: "bo", Password: "pw-bo"})
	e.prov.AddUser(oidctest.User{ID: "sub-cy", Username: "cy", Password: "pw-cy"})
	resp, body := e.signIn(t, oidctest.NewClient(), "bo", "pw-bo")
	if signedIn(resp) || resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "does not create users") {
		t.Fatalf("unknown person without JIT: %s %q, want 403 saying users are not created", resp.Status, body)
	}
	if _, err := e.st.GetUserByUsername(context.Background(), "bo"); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("user bo after a refused sign-in: %v, want none", err)
	}
	if rec := e.lastAudit(t, authn.ActionLogin); rec.Outcome != domain.OutcomeDenied || !strings.Contains(rec.Detail, "provider idp") {
		t.Errorf("refusal record = %+v, want a denied auth.login naming the provider", rec)
	}
	// A user an administrator made is linked at their first sign-in.
	cy, _, err := e.svc.CreateUser(context.Background(), e.admin, service.NewUser{Username: "cy"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body = e.signIn(t, oidctest.NewClient(), "cy", "pw-cy")
	if !signedIn(resp) {
		t.Fatalf("existing user cy: %s %q, want signed in", resp.Status, body)
	}
	if l, err := e.st.GetOIDCLink(context.Background(), e.prov.Issuer, "sub-cy"); err != nil || l.UserID != cy.ID {
		t.Errorf("cy's link = %+v, %v", l, err)
	}
}

func TestOIDCBreakGlassAdministratorIsNeverLinkedR3(t *testing.T) {
	e := newOIDCEnv(t, "")
	// The provider has a person whose username is the local admin's.
	e.prov.AddUser(oidctest.User{ID: "sub-evil", Username: "admin", Password: "pw"})
	resp, body := e.signIn(t, oidctest.NewClient(), "admin", "pw")
	if signedIn(resp) || !strings.Contains(body, "break-glass") {
		t.Fatalf("provider person named admin: %s %q, want refused (break-glass)", resp.Status, body)
	}
	if _, err := e.st.GetOIDCLink(context.Background(), e.prov.Issuer, "sub-evil"); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("admin was linked: %v", err)
	}
}

func TestOIDCDisabledUserIsRefusedR11(t *testing.T) {
	e := newOIDCEnv(t, "")
	e.prov.AddUser(oidctest.User{ID: "sub-di", Username: "di", Password: "pw-di"})
	u, _, err := e.svc.CreateUser(context.Background(), e.admin, service.NewUser{Username: "di"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.SetUserStatus(context.Background(), e.admin, u.ID, domain.UserDisabled); err != nil {
		t.Fatal(err)
	}
	resp, body := e.signIn(t, oidctest.NewClient(), "di", "pw-di")
	if signedIn(resp) || resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "disabled") {
		t.Fatalf("disabled user: %s %q, want 403 saying the account is disabled", resp.Status, body)
	}
}

func TestOIDCStateIsSingleUseAndBoundToTheBrowser(t *testing.T) {
	e := newOIDCEnv(t, "    jit: true\n")
	e.prov.AddUser(oidctest.User{ID: "sub-st", Username: "st", Password: "pw-st"})
	client := oidctest.NewClient()
	resp, err := oidctest.SignIn(context.Background(), client, e.base+"/login/oidc/idp", "st", "pw-st")
	if err != nil {
		t.Fatal(err)
	}
	callback := oidctest.CallbackURL(resp)

	// Another browser (no binding cookie) with the stolen callback URL.
	if resp, body := e.get(t, oidctest.NewClient(), callback); signedIn(resp) || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback in another browser: %s %q, want 400", resp.Status, body)
	}
	// The state was spent by that attempt: the right browser is refused
	// too (a state is tried once), and so is a replay.
	for i := range 2 {
		if resp, body := e.get(t, client, callback); signedIn(resp) || !strings.Contains(body, "used already") {
			t.Fatalf("callback replay %d: %s %q, want refused", i, resp.Status, body)
		}
	}
	// A fresh sign-in in the right browser works.
	if resp, body := e.signIn(t, client, "st", "pw-st"); !signedIn(resp) {
		t.Fatalf("fresh sign-in: %s %q", resp.Status, body)
	}
}

func TestOIDCSigningKeyRotation(t *testing.T) {
	e := newOIDCEnv(t, "    jit: true\n")
	e.prov.AddUser(oidctest.User{ID: "sub-ro", Username: "ro", Password: "pw-ro"})
	if resp, body := e.signIn(t, oidctest.NewClient(), "ro", "pw-ro"); !signedIn(resp) {
		t.Fatalf("first sign-in: %s %q", resp.Status, body)
	}
	old := e.prov.KeyID()
	e.prov.RotateKey()
	if e.prov.KeyID() == old {
		t.Fatal("the key did not rotate")
	}
	// Signed with a key Gatehouse has not seen: go-oidc's remote key set
	// reads the JWKS again and finds it.
	if resp, body := e.signIn(t, oidctest.NewClient(), "ro", "pw-ro"); !signedIn(resp) {
		t.Fatalf("sign-in after the key rotated: %s %q", resp.Status, body)
	}
}

func TestOIDCProviderDownIsAClearPageNot500(t *testing.T) {
	e := newOIDCEnv(t, "    jit: true\n")
	e.prov.AddUser(oidctest.User{ID: "sub-dn", Username: "dn", Password: "pw-dn"})
	e.prov.SetDown(true)
	resp, body := e.get(t, oidctest.NewClient(), e.base+"/login/oidc/idp")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be reached") {
		t.Fatalf("start with the provider down: %s %q, want 503 saying it cannot be reached", resp.Status, body)
	}
	// Down between the redirect and the token exchange.
	e.prov.SetDown(false)
	client := oidctest.NewClient()
	r, err := oidctest.SignIn(context.Background(), client, e.base+"/login/oidc/idp", "dn", "pw-dn")
	if err != nil {
		t.Fatal(err)
	}
	e.prov.SetDown(true)
	resp, body = e.get(t, client, oidctest.CallbackURL(r))
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be reached") {
		t.Fatalf("callback with the provider down: %s %q, want 503", resp.Status, body)
	}
	// The login page still works, with its password form.
	if resp, body := e.get(t, client, e.base+"/login"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Sign in with Test IdP") {
		t.Errorf("login page with the provider down: %s", resp.Status)
	}
}

func TestOIDCLogoutEndsTheProviderSessionToo(t *testing.T) {
	e := newOIDCEnv(t, "    jit: true\n")
	e.prov.AddUser(oidctest.User{ID: "sub-lo", Username: "lo", Password: "pw-lo"})
	client := oidctest.NewClient()
	if resp, body := e.signIn(t, client, "lo", "pw-lo"); !signedIn(resp) {
		t.Fatalf("sign-in: %s %q", resp.Status, body)
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/logout", nil)
	req.Header.Set("Origin", e.base)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	to := regexp.MustCompile(`id="provider-logout" href="([^"]+)"`).FindStringSubmatch(string(b))
	if resp.StatusCode != http.StatusOK || to == nil || !strings.HasPrefix(to[1], e.prov.Issuer) || !strings.Contains(to[1], "post_logout_redirect_uri=") {
		t.Fatalf("logout answered %s %q, want a page moving on to the provider's end_session_endpoint", resp.Status, b)
	}
	if r, _ := e.get(t, client, e.base+"/admin/users"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout /admin/users = %s, want a redirect to sign in", r.Status)
	}
}

const mappingYAML = `    jit: true
    group_mapping:
      exact: {staff: Staff, auditors: Auditors}
      prefix: gh-
`

func (e *oidcEnv) group(t *testing.T, name string) domain.Group {
	t.Helper()
	g, _, err := e.svc.CreateGroup(context.Background(), e.admin, domain.Group{Name: name, Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// groupsOf is the user's memberships by group name, with their source.
func (e *oidcEnv) groupsOf(t *testing.T, username string) map[string]domain.MembershipSource {
	t.Helper()
	ctx := context.Background()
	u, err := e.st.GetUserByUsername(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := e.st.ListUserMemberships(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]domain.MembershipSource{}
	for _, m := range ms {
		g, err := e.st.GetGroup(ctx, m.GroupID)
		if err != nil {
			t.Fatal(err)
		}
		out[g.Name] = m.Source
	}
	return out
}

func TestOIDCGroupMappingAddsAndRemovesOnlyItsOwnMemberships(t *testing.T) {
	e := newOIDCEnv(t, mappingYAML)
	e.group(t, "Staff")
	e.group(t, "Editors")
	auditors := e.group(t, "Auditors")
	e.prov.AddUser(oidctest.User{ID: "sub-gm", Username: "gm", Password: "pw-gm", Groups: []string{"staff", "gh-Editors", "unmapped"}})
	if resp, body := e.signIn(t, oidctest.NewClient(), "gm", "pw-gm"); !signedIn(resp) {
		t.Fatalf("sign-in: %s %q", resp.Status, body)
	}
	got := e.groupsOf(t, "gm")
	if len(got) != 2 || got["Staff"] != domain.MembershipByOIDC || got["Editors"] != domain.MembershipByOIDC {
		t.Fatalf("memberships after the first sign-in = %v, want Staff and Editors made by the mapping", got)
	}
	if rec := e.lastAudit(t, "group.member_add"); rec.ActorID != e.admin.UserID || !strings.Contains(rec.Detail, "group mapping of OpenID Connect provider idp") {
		t.Errorf("member_add record = %+v, want it done as provision_as, naming the mapping", rec)
	}
	// An administrator adds gm to Auditors by hand.
	u, _ := e.st.GetUserByUsername(context.Background(), "gm")
	if _, _, err := e.svc.AddMembers(context.Background(), e.admin, auditors.ID, []service.MemberInput{{UserID: u.ID}}); err != nil {
		t.Fatal(err)
	}
	// The provider now lists Editors only.
	e.prov.SetGroups("sub-gm", "gh-Editors")
	if resp, body := e.signIn(t, oidctest.NewClient(), "gm", "pw-gm"); !signedIn(resp) {
		t.Fatalf("second sign-in: %s %q", resp.Status, body)
	}
	got = e.groupsOf(t, "gm")
	if len(got) != 2 || got["Editors"] != domain.MembershipByOIDC || got["Auditors"] != domain.MembershipByAdministrator {
		t.Fatalf("memberships after the claim dropped staff = %v, want Editors (mapping) and Auditors (administrator's, kept)", got)
	}
	if rec := e.lastAudit(t, "group.member_remove"); !strings.Contains(rec.Detail, "group mapping") {
		t.Errorf("member_remove record = %+v, want the mapping's", rec)
	}
	// The claim lists auditors now: the administrator's membership stays
	// the administrator's, and leaving the claim does not remove it.
	e.prov.SetGroups("sub-gm", "auditors")
	e.signIn(t, oidctest.NewClient(), "gm", "pw-gm")
	e.prov.SetGroups("sub-gm")
	e.signIn(t, oidctest.NewClient(), "gm", "pw-gm")
	if got = e.groupsOf(t, "gm"); len(got) != 1 || got["Auditors"] != domain.MembershipByAdministrator {
		t.Errorf("memberships after the claim emptied = %v, want only the administrator's Auditors", got)
	}
}

func TestOIDCGroupMappingNeverIntoAdministratorsUnlessAllowedR3R22(t *testing.T) {
	e := newOIDCEnv(t, mappingYAML)
	e.prov.AddUser(oidctest.User{ID: "sub-ad", Username: "ad", Password: "pw-ad", Groups: []string{"gh-Administrators"}})
	resp, _ := e.signIn(t, oidctest.NewClient(), "ad", "pw-ad")
	if !signedIn(resp) {
		t.Fatalf("sign-in: %s", resp.Status)
	}
	if got := e.groupsOf(t, "ad"); len(got) != 0 {
		t.Fatalf("memberships = %v, want none: Administrators is not allowed", got)
	}
	rec := e.lastAudit(t, "group.member_add")
	if rec.Outcome != domain.OutcomeDenied || !strings.Contains(rec.Detail, "allow_administrators") {
		t.Errorf("record of the refused mapping = %+v, want denied naming allow_administrators", rec)
	}
	if login := e.lastAudit(t, authn.ActionLogin); !strings.Contains(login.Detail, "not applied") {
		t.Errorf("the sign-in's record %q does not say what was not applied", login.Detail)
	}
}

func TestOIDCGroupMappingReportsAnExclusiveProjectConflictR23(t *testing.T) {
	e := newOIDCEnv(t, mappingYAML)
	staff, editors := e.group(t, "Staff"), e.group(t, "Editors")
	ctx := context.Background()
	proj, _, err := e.svc.CreateProject(ctx, e.admin, domain.Project{Name: "Trial", MembershipMode: domain.ModeExclusive})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []domain.Group{staff, editors} {
		if _, _, err := e.svc.ImportGroup(ctx, e.admin, g.ID, []string{proj.ID}); err != nil {
			t.Fatal(err)
		}
	}
	e.prov.AddUser(oidctest.User{ID: "sub-ex", Username: "ex", Password: "pw-ex", Groups: []string{"staff", "gh-Editors"}})
	client := oidctest.NewClient()
	resp, body := e.signIn(t, client, "ex", "pw-ex")
	if !signedIn(resp) {
		t.Fatalf("sign-in: %s %q, want signed in with the conflict reported", resp.Status, body)
	}
	got := e.groupsOf(t, "ex")
	if len(got) != 1 {
		t.Fatalf("memberships = %v, want exactly one of the two exclusive groups", got)
	}
	rec := e.lastAudit(t, "group.member_add")
	if rec.Outcome != domain.OutcomeDenied || !strings.Contains(rec.Detail, "exclusive") {
		t.Errorf("record = %+v, want the conflict audited as denied", rec)
	}
	// The person is told on the next page.
	if _, body := e.get(t, client, e.base+"/preferences"); !strings.Contains(body, "were not applied") {
		t.Errorf("the page after sign-in does not report the conflict")
	}
}

// rogueEnv serves the console with provider idp at a rogue provider
// whose ID tokens tok makes.
func rogueEnv(t *testing.T, tok func(g *oidctest.Rogue, r oidctest.TokenRequest) string) *oidcEnv {
	t.Helper()
	var g *oidctest.Rogue
	g = oidctest.StartRogue(t, func(r oidctest.TokenRequest) string { return tok(g, r) })
	return oidcConsole(t, func(base string) (string, string) {
		return providerYAML(base, g.Issuer, "gatehouse", "    jit: true\n"), "rogue-secret"
	})
}

func TestOIDCRefusesBadIDTokens(t *testing.T) {
	cases := []struct {
		name string
		tok  func(g *oidctest.Rogue, r oidctest.TokenRequest) string
		want string
	}{
		{"good token (control)", func(g *oidctest.Rogue, r oidctest.TokenRequest) string {
			return g.Sign(g.Good(r, "s1", "good"))
		}, ""},
		{"wrong audience", func(g *oidctest.Rogue, r oidctest.TokenRequest) string {
			c := g.Good(r, "s1", "aud")
			c["aud"] = "another-client"
			return g.Sign(c)
		}, "audience"},
		{"expired", func(g *oidctest.Rogue, r oidctest.TokenRequest) string {
			c := g.Good(r, "s1", "exp")
			c["exp"] = c["iat"].(int64) - 60
			return g.Sign(c)
		}, "expired"},
		{"bad signature", func(g *oidctest.Rogue, r oidctest.TokenRequest) string {
			return g.SignWith(oidctest.NewKey(), g.Good(r, "s1", "sig"))
		}, "signature"},
		{"alg none", func(g *oidctest.Rogue, r oidctest.TokenRequest) string {
			return oidctest.Unsigned(g.Good(r, "s1", "none"))
		}, "refused"},
		{"wrong nonce", func(g *oidctest.Rogue, r oidctest.TokenRequest) string {
			c := g.Good(r, "s1", "nonce")
			c["nonce"] = "not-the-one"
			return g.Sign(c)
		}, "nonce"},
		{"wrong issuer", func(g *oidctest.Rogue, r oidctest.TokenRequest) string {
			c := g.Good(r, "s1", "iss")
			c["iss"] = "https://evil.example"
			return g.Sign(c)
		}, "different provider"},
		{"no username claim", func(g *oidctest.Rogue, r oidctest.TokenRequest) string {
			c := g.Good(r, "s1", "")
			delete(c, "preferred_username")
			return g.Sign(c)
		}, "preferred_username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := rogueEnv(t, tc.tok)
			client := oidctest.NewClient()
			resp, _ := e.get(t, client, e.base+"/login/oidc/idp?next=/admin/users")
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("start: %s", resp.Status)
			}
			resp, _ = e.get(t, client, resp.Header.Get("Location")) // the rogue's /authorize
			resp, body := e.get(t, client, resp.Header.Get("Location"))
			if tc.want == "" {
				if !signedIn(resp) {
					t.Fatalf("good token: %s %q", resp.Status, body)
				}
				return
			}
			if signedIn(resp) || resp.StatusCode != http.StatusUnauthorized || !strings.Contains(strings.ToLower(body), tc.want) {
				t.Fatalf("%s: %s %q, want 401 mentioning %q", tc.name, resp.Status, body, tc.want)
			}
			if rec := e.lastAudit(t, authn.ActionLogin); rec.Outcome != domain.OutcomeDenied {
				t.Errorf("record = %+v, want a denied auth.login", rec)
			}
			page, _ := e.st.ListUsers(context.Background(), store.ListQuery{})
			if len(page.Items) != 1 {
				t.Errorf("users after a refused token = %d, want only admin", len(page.Items))
			}
		})
	}
}
