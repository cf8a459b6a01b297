package oidcauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// edgeProvider is a provider whose discovery behaves and whose token
// endpoint answers the status the test sets.
func edgeProvider(t *testing.T) (*Provider, *atomic.Int32) {
	t.Helper()
	var status atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize",
				"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/keys", "end_session_endpoint": srv.URL + "/logout",
				"id_token_signing_alg_values_supported": []string{"RS256"}})
		case "/token":
			w.WriteHeader(int(status.Load()))
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "server_error"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c := Config{BaseURL: "http://gatehouse.test", Providers: []ProviderConfig{{ID: "edge", Issuer: srv.URL, ClientID: "gh"}}}
	return New(c, map[string]string{"edge": "s"}, Options{}).Get("edge"), &status
}

// A token endpoint that fails (5xx) makes the provider unavailable; one
// that answers a client error (4xx) refuses the sign-in.
func TestFinishTellsAFailingTokenEndpointFromARefusal(t *testing.T) {
	p, status := edgeProvider(t)
	for _, c := range []struct {
		status int32
		want   error
	}{
		{400, ErrRefused}, {499, ErrRefused}, {500, ErrUnavailable}, {503, ErrUnavailable},
	} {
		status.Store(c.status)
		_, _, err := p.Finish(context.Background(), time.Now, "code", "verifier", "nonce")
		if !errors.Is(err, c.want) {
			t.Errorf("token endpoint %d: %v, want %v", c.status, err, c.want)
		}
	}
}

// The logout address carries the ID token as a hint only when there is
// one.
func TestLogoutURLCarriesTheHintGiven(t *testing.T) {
	p, _ := edgeProvider(t)
	for _, hint := range []string{"", "the-id-token"} {
		u, err := url.Parse(p.LogoutURL(context.Background(), time.Now, hint, "http://gatehouse.test/login"))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("client_id") != "gh" || q.Get("post_logout_redirect_uri") != "http://gatehouse.test/login" {
			t.Errorf("logout URL %s, want the client id and the way back", u)
		}
		if got, present := q.Get("id_token_hint"), q.Has("id_token_hint"); got != hint || present != (hint != "") {
			t.Errorf("hint %q: logout URL %s", hint, u)
		}
	}
}
