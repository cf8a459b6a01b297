package authn

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/oidcauth"
	"github.com/gatehouse/gatehouse/internal/authn/oidcauth/oidctest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

func (e *env) link(userID, issuer, subject string) {
	e.t.Helper()
	_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOIDCLink(ctx, &domain.OIDCLink{Issuer: issuer, Subject: subject, UserID: userID, Provider: "idp"}); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "test", Action: "user.oidc_link", Outcome: domain.OutcomeSuccess})
	})
	e.must(err)
}

func TestPasswordSignInLocalOnlyRefusesLinkedUsers(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PasswordSignIn = PasswordLocalOnly })
	local := e.user("local", "pw-local-1", cheap)
	linked := e.user("linked", "pw-linked-1", cheap)
	e.link(linked.ID, "https://idp.example", "sub-1")
	e.login("local", "pw-local-1")
	_, err := e.a.Login(e.ctx, "linked", "pw-linked-1", "192.0.2.1", "")
	wantUnauth(t, "linked user's right password", err)
	recs := e.audit(ActionLogin)
	if last := recs[0]; last.Outcome != domain.OutcomeDenied || !strings.Contains(last.Detail, "turned off") || last.TargetID != linked.ID {
		t.Errorf("record = %+v, want denied saying password sign-in is turned off for linked", last)
	}
	_ = local
}

func TestPasswordSignInBreakGlassKeepsOnlyTheNamedAccounts(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PasswordSignIn = PasswordBreakGlass; o.BreakGlass = []string{"Admin"} })
	e.user("admin", "pw-admin-1", cheap)
	e.user("bob", "pw-bob-12", cheap)
	e.login("admin", "pw-admin-1") // the break-glass account, any case in the list
	_, err := e.a.Login(e.ctx, "bob", "pw-bob-12", "192.0.2.1", "")
	wantUnauth(t, "bob with only OIDC for everyone else", err)
}

// jwtEnv is an Authenticator that accepts access tokens of a rogue
// provider (its discovery and keys behave; the test signs the tokens).
func jwtEnv(t *testing.T) (*env, *oidctest.Rogue) {
	g := oidctest.StartRogue(t, func(oidctest.TokenRequest) string { return "" })
	v := oidcauth.NewAccessTokens(&oidcauth.AccessTokenConfig{Issuer: g.Issuer, Audience: "gatehouse-api", UsernameClaim: "azp"}, oidcauth.Options{})
	allow := func(context.Context, string, string) error { return nil }
	return newEnv(t, func(o *Options) { o.AccessTokens = v; o.MayActByName = allow }), g
}

// An unlinked token acts as the user its claim names only when
// MayActByName allows it: without the function it is refused, a refusal
// is 401, and an error while deciding is an error, never a sign-in.
func TestJWTUnlinkedTokenAsksMayActByName(t *testing.T) {
	g := oidctest.StartRogue(t, func(oidctest.TokenRequest) string { return "" })
	v := oidcauth.NewAccessTokens(&oidcauth.AccessTokenConfig{Issuer: g.Issuer, Audience: "gatehouse-api", UsernameClaim: "azp"}, oidcauth.Options{})
	e := newEnv(t, func(o *Options) { o.AccessTokens = v })
	e.user("app", "", cheap)
	_, err := e.a.AuthenticateToken(e.ctx, g.Sign(accessClaims(g, "s", "app")))
	wantUnauth(t, "no MayActByName: an unlinked token", err)

	for _, tc := range []struct {
		name   string
		answer error
		unauth bool
	}{
		{"refused", domain.Errorf("test", domain.KindUnauthenticated, "holds server.manage"), true},
		{"store failed", errors.New("database gone"), false},
	} {
		var asked []string
		decide := func(_ context.Context, issuer, userID string) error {
			asked = append(asked, issuer+" "+userID)
			return tc.answer
		}
		e := newEnv(t, func(o *Options) { o.AccessTokens = v; o.MayActByName = decide })
		app := e.user("app", "", cheap)
		_, err := e.a.AuthenticateToken(e.ctx, g.Sign(accessClaims(g, "s", "app")))
		if err == nil || domain.Is(err, domain.KindUnauthenticated) != tc.unauth {
			t.Errorf("%s: AuthenticateToken = %v, want an error (unauthenticated %v)", tc.name, err, tc.unauth)
		}
		if want := g.Issuer + " " + app.ID; len(asked) == 0 || asked[len(asked)-1] != want {
			t.Errorf("%s: MayActByName asked %q, want %q", tc.name, asked, want)
		}
	}
}

func accessClaims(g *oidctest.Rogue, sub, azp string) oidctest.Claims {
	c := g.Good(oidctest.TokenRequest{ClientID: "gatehouse-api"}, sub, "")
	delete(c, "nonce")
	delete(c, "preferred_username")
	c["azp"] = azp
	return c
}

func TestJWTAccessTokensMapToAUser(t *testing.T) {
	e, g := jwtEnv(t)
	svc := e.user("reporting-app", "", cheap)
	linked := e.user("carol", "", cheap)
	e.link(linked.ID, g.Issuer, "sub-carol")

	id, err := e.a.AuthenticateToken(e.ctx, g.Sign(accessClaims(g, "client-123", "reporting-app")))
	if err != nil || id.UserID != svc.ID {
		t.Fatalf("client-credentials token: %+v, %v; want the user its azp names", id, err)
	}
	// A linked subject wins over the username claim.
	id, err = e.a.AuthenticateToken(e.ctx, g.Sign(accessClaims(g, "sub-carol", "reporting-app")))
	if err != nil || id.UserID != linked.ID {
		t.Fatalf("linked subject's token: %+v, %v; want carol", id, err)
	}
	// A gh_ API token still works beside it.
	if _, err := e.a.AuthenticateToken(e.ctx, "gh_not-a-token"); err == nil {
		t.Error("a malformed gh_ token was accepted")
	}
}

func TestJWTAccessTokenRefusals(t *testing.T) {
	e, g := jwtEnv(t)
	u := e.user("app", "", cheap)
	bad := map[string]string{}
	c := accessClaims(g, "s", "app")
	c["aud"] = "another-api"
	bad["wrong audience"] = g.Sign(c)
	c = accessClaims(g, "s", "app")
	c["exp"] = time.Now().Add(-time.Minute).Unix()
	bad["expired"] = g.Sign(c)
	bad["bad signature"] = g.SignWith(oidctest.NewKey(), accessClaims(g, "s", "app"))
	bad["alg none"] = oidctest.Unsigned(accessClaims(g, "s", "app"))
	bad["no such user"] = g.Sign(accessClaims(g, "s", "nobody"))
	c = accessClaims(g, "s", "app")
	c["iss"] = "https://evil.example"
	bad["wrong issuer"] = g.Sign(c)
	for name, tok := range bad {
		_, err := e.a.AuthenticateToken(e.ctx, tok)
		wantUnauth(t, name, err)
	}
	e.setStatus(u.ID, domain.UserDisabled)
	_, err := e.a.AuthenticateToken(e.ctx, g.Sign(accessClaims(g, "s", "app")))
	wantUnauth(t, "a disabled user's token (R11)", err)
}

func TestJWTAccessTokensOffByDefault(t *testing.T) {
	e := newEnv(t)
	g := oidctest.StartRogue(t, func(oidctest.TokenRequest) string { return "" })
	e.user("app", "", cheap)
	_, err := e.a.AuthenticateToken(e.ctx, g.Sign(accessClaims(g, "s", "app")))
	wantUnauth(t, "a JWT without access_tokens configured", err)
}

func TestJWTIssuerDownIsUnavailableNotAnonymous(t *testing.T) {
	v := oidcauth.NewAccessTokens(&oidcauth.AccessTokenConfig{Issuer: "http://127.0.0.1:1", Audience: "a", UsernameClaim: "sub"}, oidcauth.Options{})
	e := newEnv(t, func(o *Options) { o.AccessTokens = v })
	_, err := e.a.AuthenticateToken(e.ctx, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
	if !domain.Is(err, domain.KindUnavailable) {
		t.Fatalf("issuer down: %v, want KindUnavailable", err)
	}
}
