package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Rogue is a provider that answers the token request with whatever ID
// token the test makes: for the refusals a correct provider never
// produces (wrong audience, expired, bad signature, alg none, wrong
// nonce). Its discovery, JWKS and authorization endpoints behave.
type Rogue struct {
	Issuer string
	Key    *rsa.PrivateKey // published in the JWKS as KeyID
	KeyID  string

	mu    sync.Mutex
	token func(r TokenRequest) string
}

// TokenRequest is what the token endpoint was asked, for the test's
// token function.
type TokenRequest struct {
	ClientID, Nonce string
}

// StartRogue runs a rogue provider until the test ends; token makes the
// ID token of each token request.
func StartRogue(t testing.TB, token func(TokenRequest) string) *Rogue {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	g := &Rogue{Issuer: "http://" + ln.Addr().String(), Key: k, KeyID: "rogue-1", token: token}
	srv := &http.Server{Handler: g.mux()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return g
}

// codes remembers the nonce of each code handed out.
var codes sync.Map

func (g *Rogue) mux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"issuer": g.Issuer, "authorization_endpoint": g.Issuer + "/authorize",
			"token_endpoint": g.Issuer + "/token", "jwks_uri": g.Issuer + "/keys", "end_session_endpoint": g.Issuer + "/logout",
			"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}})
	})
	m.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &g.Key.PublicKey, KeyID: g.KeyID, Algorithm: "RS256", Use: "sig"}}})
	})
	m.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := rand.Text()
		codes.Store(code, TokenRequest{ClientID: q.Get("client_id"), Nonce: q.Get("nonce")})
		back, _ := url.Parse(q.Get("redirect_uri"))
		v := back.Query()
		v.Set("code", code)
		v.Set("state", q.Get("state"))
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	m.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		req, ok := codes.LoadAndDelete(r.PostForm.Get("code"))
		if !ok || r.PostForm.Get("code_verifier") == "" {
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]string{"error": "invalid_grant"})
			return
		}
		g.mu.Lock()
		tok := g.token(req.(TokenRequest))
		g.mu.Unlock()
		writeJSON(w, map[string]any{"access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": tok})
	})
	return m
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Claims are an ID token's claims; Sign and friends make tokens of them.
type Claims map[string]any

// Good returns the claims a correct ID token for req would carry.
func (g *Rogue) Good(req TokenRequest, subject, username string) Claims {
	now := time.Now()
	return Claims{"iss": g.Issuer, "sub": subject, "aud": req.ClientID, "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "nonce": req.Nonce, "preferred_username": username}
}

// Sign signs claims with the published key (RS256).
func (g *Rogue) Sign(c Claims) string { return sign(g.Key, g.KeyID, c) }

// SignWith signs claims with another key under the published key's id:
// a bad signature.
func (g *Rogue) SignWith(k *rsa.PrivateKey, c Claims) string { return sign(k, g.KeyID, c) }

// Unsigned is the token with alg none and no signature.
func Unsigned(c Claims) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return strings.TrimRight(base64URL(b), "=")
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(c) + "."
}

func sign(k *rsa.PrivateKey, kid string, c Claims) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(c)
	obj, err := s.Sign(b)
	if err != nil {
		panic(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// NewKey is a fresh RSA key, for SignWith.
func NewKey() *rsa.PrivateKey {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	return k
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
