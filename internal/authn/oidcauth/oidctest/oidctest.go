// Package oidctest runs a real OpenID Provider on loopback for tests: the
// op package of github.com/zitadel/oidc (an OpenID Certified provider
// library) with its example server's storage and login page, extended
// with a groups claim, mutable users, key rotation and an outage switch.
// Only tests import it.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a person the provider knows.
type User struct {
	ID, Username, Password, Email, Name string
	Groups                              []string
}

// Provider is a running OpenID Provider.
type Provider struct {
	// Issuer is its URL (http://127.0.0.1:port), ClientID and
	// ClientSecret the one web client it knows.
	Issuer, ClientID, ClientSecret string

	st   *store
	srv  *http.Server
	down atomic.Bool
}

// Start runs a provider until the test ends, with a confidential web
// client that may redirect to redirectURIs (SetRedirectURIs changes them).
func Start(t testing.TB, redirectURIs ...string) *Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{Issuer: "http://" + ln.Addr().String(), ClientID: "gatehouse", ClientSecret: "s3cret-" + rand.Text()}
	users := &userStore{users: map[string]*storage.User{}}
	client := &client{Client: storage.WebClient(p.ClientID, p.ClientSecret, redirectURIs...), redirects: redirectURIs}
	base := storage.NewStorageWithClients(users, map[string]*storage.Client{p.ClientID: client.Client})
	p.st = &store{Storage: base, users: users, client: client, groups: map[string][]string{}}
	p.st.rotate()
	router := exampleop.SetupServer(p.Issuer, p.st, nil, false)
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "the provider is down", http.StatusBadGateway)
			return
		}
		router.ServeHTTP(w, r)
	})}
	go func() { _ = p.srv.Serve(ln) }()
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

// SetRedirectURIs replaces the client's allowed redirect and post-logout
// redirect URIs.
func (p *Provider) SetRedirectURIs(uris ...string) {
	p.st.client.mu.Lock()
	defer p.st.client.mu.Unlock()
	p.st.client.redirects = uris
}

// AddUser adds or replaces a person.
func (p *Provider) AddUser(u User) {
	p.st.users.put(&storage.User{ID: u.ID, Username: u.Username, Password: u.Password, Email: u.Email, EmailVerified: true,
		FirstName: u.Name, PreferredLanguage: language.English})
	p.SetGroups(u.ID, u.Groups...)
}

// SetGroups sets the groups claim of a person's next tokens.
func (p *Provider) SetGroups(userID string, groups ...string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.groups[userID] = groups
}

// SetEmail changes a person's email (and nothing else).
func (p *Provider) SetEmail(userID, email string) {
	p.st.users.mu.Lock()
	defer p.st.users.mu.Unlock()
	p.st.users.users[userID].Email = email
}

// RotateKey signs from now on with a new key, which the JWKS publishes
// (alone: the old key is withdrawn).
func (p *Provider) RotateKey() { p.st.rotate() }

// KeyID is the id of the current signing key.
func (p *Provider) KeyID() string {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.key.ID()
}

// SetDown makes every endpoint answer 502 (down) or serve again.
func (p *Provider) SetDown(down bool) { p.down.Store(down) }

// loginForm finds the hidden id of the provider's login page.
var loginForm = regexp.MustCompile(`name="id" value="([^"]+)"`)

// SignIn follows a sign-in without a browser: from start (a Gatehouse
// /login/oidc/… URL) through the provider's login page, as username with
// password, back to Gatehouse's callback, whose response it returns
// unfollowed. The client must have a cookie jar.
func SignIn(ctx context.Context, c *http.Client, start, username, password string) (*http.Response, error) {
	if c.Jar == nil {
		return nil, errors.New("oidctest.SignIn: the client needs a cookie jar")
	}
	follow := *c
	follow.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.Contains(req.URL.Path, "/callback") && strings.HasPrefix(req.URL.Path, "/login/oidc/") {
			return http.ErrUseLastResponse // stop at Gatehouse's callback
		}
		return nil
	}
	resp, err := get(ctx, &follow, start)
	if err != nil {
		return nil, err
	}
	page, err := readAll(resp)
	if err != nil {
		return nil, err
	}
	m := loginForm.FindStringSubmatch(page)
	if m == nil {
		return nil, errors.New("oidctest.SignIn: no login form at " + resp.Request.URL.String() + ": " + page)
	}
	form := url.Values{"id": {m[1]}, "username": {username}, "password": {password}}
	login := resp.Request.URL.ResolveReference(&url.URL{Path: "/login/username"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, login.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = follow.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		body, _ := readAll(resp)
		return nil, errors.New("oidctest.SignIn: the provider did not send the browser back: " + resp.Status + " " + body)
	}
	return resp, nil
}

// CallbackURL returns where a SignIn response sends the browser.
func CallbackURL(resp *http.Response) string { return resp.Header.Get("Location") }

// NewClient is an HTTP client with a cookie jar that does not follow
// redirects.
func NewClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(ctx context.Context, c *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

func readAll(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b.String(), nil
			}
			return b.String(), err
		}
	}
}

// store is the example storage with groups, a rotating key and a client
// whose ID tokens carry the profile and email claims.
type store struct {
	*storage.Storage
	users  *userStore
	client *client

	mu     sync.Mutex
	groups map[string][]string
	key    *signingKey
}

func (s *store) rotate() {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = &signingKey{id: rand.Text()[:12], key: k}
}

func (s *store) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key, nil
}

func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *store) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []op.Key{publicKey{s.key}}, nil
}

func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	if id != s.client.GetID() {
		return s.Storage.GetClientByClientID(ctx, id)
	}
	return s.client, nil
}

// SetUserinfoFromScopes adds the groups claim to what the example sets.
func (s *store) SetUserinfoFromScopes(ctx context.Context, info *oidc.UserInfo, userID, clientID string, scopes []string) error {
	if err := s.Storage.SetUserinfoFromScopes(ctx, info, userID, clientID, scopes); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.groups[userID]; ok {
		info.AppendClaims("groups", g)
	}
	return nil
}

// client asserts the userinfo claims in the ID token (as Entra ID and
// Keycloak do by default), and takes its redirect URIs from the test.
type client struct {
	*storage.Client
	mu        sync.Mutex
	redirects []string
}

func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) RedirectURIs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.redirects
}
func (c *client) PostLogoutRedirectURIs() []string { return c.RedirectURIs() }

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.key.PublicKey }

type userStore struct {
	mu    sync.Mutex
	users map[string]*storage.User
}

func (u *userStore) put(x *storage.User) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.users[x.ID] = x
}

func (u *userStore) GetUserByID(id string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	if x, ok := u.users[id]; ok {
		c := *x
		return &c
	}
	return nil
}

func (u *userStore) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.users {
		if strings.EqualFold(x.Username, name) {
			c := *x
			return &c
		}
	}
	return nil
}

func (u *userStore) ExampleClientID() string { return "service" }

// ForGatehouse reserves a loopback address for a Gatehouse server that
// has this provider under providerID, and lets the client redirect to its
// callback and its sign-in page (the post-logout redirect). It returns the
// address (for serve --listen) and the server's URL (its base_url).
func (p *Provider) ForGatehouse(t testing.TB, providerID string) (addr, base string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	base = "http://" + addr
	p.SetRedirectURIs(base+"/login/oidc/"+providerID+"/callback", base+"/login")
	return addr, base
}
