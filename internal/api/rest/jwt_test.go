package rest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/authn/oidcauth"
	"github.com/gatehouse/gatehouse/internal/authn/oidcauth/oidctest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// jwtAPI is the REST API behind the real authentication with a rogue
// provider's JWT access tokens accepted (audience gatehouse-api, the user
// named by azp), and the service deciding unlinked tokens as serve does.
type jwtAPI struct {
	e    *env
	g    *oidctest.Rogue
	http http.Handler
}

func newJWTAPI(t *testing.T) *jwtAPI {
	e := newEnv(t)
	g := oidctest.StartRogue(t, func(oidctest.TokenRequest) string { return "" })
	v := oidcauth.NewAccessTokens(&oidcauth.AccessTokenConfig{Issuer: g.Issuer, Audience: "gatehouse-api", UsernameClaim: "azp"}, oidcauth.Options{})
	a, err := authn.New(e.st, authn.Options{PasswordParams: &cheap, AccessTokens: v, MayActByName: e.svc.MayActByName})
	if err != nil {
		t.Fatal(err)
	}
	api := rest.New(e.svc, httpauth.New(a, httpauth.Options{}), rest.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &jwtAPI{e: e, g: g, http: api}
}

// token is an access token of subject for audience aud naming azp.
func (j *jwtAPI) token(aud, subject, azp string) string {
	c := j.g.Good(oidctest.TokenRequest{ClientID: aud}, subject, "")
	delete(c, "nonce")
	c["azp"] = azp
	return j.g.Sign(c)
}

// me asks GET /me with tok and returns the status and the username.
func (j *jwtAPI) me(tok string) (int, string, http.Header) {
	req := httptest.NewRequest(http.MethodGet, rest.Prefix+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	j.http.ServeHTTP(w, req)
	var body struct{ Username string }
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w.Code, body.Username, w.Header()
}

// A provider's JWT access token on the REST API, through the real
// authentication (internal/authn/httpauth): accepted for the user its
// claim names, refused with 401 invalid_token otherwise.
func TestJWTAccessTokenOnTheAPI(t *testing.T) {
	j := newJWTAPI(t)
	if _, _, err := j.e.svc.CreateUser(j.e.ctx, j.e.admin, service.NewUser{Username: "reporting-app"}); err != nil {
		t.Fatal(err)
	}
	if code, name, _ := j.me(j.token("gatehouse-api", "client-1", "reporting-app")); code != http.StatusOK || name != "reporting-app" {
		t.Fatalf("GET /me with the application's access token: %d as %q, want 200 as reporting-app", code, name)
	}
	code, _, h := j.me(j.token("another-api", "client-1", "reporting-app"))
	if code != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("a token for another audience: %d %q, want 401 invalid_token", code, h.Get("WWW-Authenticate"))
	}
}

// R22: a provider account whose name claim says "admin" does not become
// the break-glass administrator, nor takes over a user linked to another
// account of the same issuer; a token linked to the administrator
// (an explicit link, as an administrator makes) does act as them.
func TestR22JWTAccessTokenCannotTakeOverByName(t *testing.T) {
	j := newJWTAPI(t)
	ctx := context.Background()
	if code, name, _ := j.me(j.token("gatehouse-api", "rogue-1", "admin")); code != http.StatusUnauthorized {
		t.Fatalf("an unlinked token naming admin: %d as %q, want 401 (the break-glass administrator is never taken by name)", code, name)
	}
	alice, _, err := j.e.svc.CreateUser(ctx, j.e.admin, service.NewUser{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	link := func(subject, userID string) {
		t.Helper()
		_, err := j.e.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateOIDCLink(ctx, &domain.OIDCLink{Issuer: j.g.Issuer, Subject: subject, UserID: userID, Provider: "corp"}); err != nil {
				return err
			}
			return tx.Audit(ctx, &domain.AuditEvent{Action: service.ActionOIDCLink, TargetKind: "user", TargetID: userID, Outcome: domain.OutcomeSuccess})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	link("alice-at-corp", alice.ID)
	if code, name, _ := j.me(j.token("gatehouse-api", "someone-else", "alice")); code != http.StatusUnauthorized {
		t.Fatalf("another account of the issuer naming alice, who is linked: %d as %q, want 401", code, name)
	}
	if code, name, _ := j.me(j.token("gatehouse-api", "alice-at-corp", "whatever")); code != http.StatusOK || name != "alice" {
		t.Fatalf("alice's own linked account: %d as %q, want 200 as alice", code, name)
	}
	link("admin-at-corp", j.e.admin.UserID)
	if code, name, _ := j.me(j.token("gatehouse-api", "admin-at-corp", "x")); code != http.StatusOK || name != "admin" {
		t.Fatalf("the administrator's linked account: %d as %q, want 200 as admin", code, name)
	}
}
