package rest_test

import (
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
)

// A provider's JWT access token on the REST API, through the real
// authentication (internal/authn/httpauth): accepted for the user its
// claim names, refused with 401 invalid_token otherwise.
func TestJWTAccessTokenOnTheAPI(t *testing.T) {
	e := newEnv(t)
	g := oidctest.StartRogue(t, func(oidctest.TokenRequest) string { return "" })
	v := oidcauth.NewAccessTokens(&oidcauth.AccessTokenConfig{Issuer: g.Issuer, Audience: "gatehouse-api", UsernameClaim: "azp"}, oidcauth.Options{})
	a, err := authn.New(e.st, authn.Options{PasswordParams: &cheap, AccessTokens: v})
	if err != nil {
		t.Fatal(err)
	}
	api := rest.New(e.svc, httpauth.New(a, httpauth.Options{}), rest.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	token := func(aud string) string {
		c := g.Good(oidctest.TokenRequest{ClientID: aud}, "client-1", "")
		delete(c, "nonce")
		c["azp"] = "admin"
		return g.Sign(c)
	}
	call := func(tok string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, rest.Prefix+"/users", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		return w
	}
	if w := call(token("gatehouse-api")); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"admin"`) {
		t.Fatalf("GET /users with the access token: %d %s, want 200 listing admin", w.Code, w.Body)
	}
	w := call(token("another-api"))
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("a token for another audience: %d %q, want 401 invalid_token", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}
