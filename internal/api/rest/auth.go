package rest

import (
	"context"
	"fmt"
	"github.com/gatehouse/gatehouse/internal/service"
	"math"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Sessions is what the sign-in and token endpoints need of
// *authn.Authenticator.
type Sessions interface {
	Login(ctx context.Context, username, pw, remoteAddr, userAgent string) (authn.NewSession, error)
	Logout(ctx context.Context, secret, remoteAddr string) error
	CreateToken(ctx context.Context, actor authn.Identity, req authn.TokenRequest) (authn.NewToken, error)
	ListTokens(ctx context.Context, actor authn.Identity, userID string) ([]domain.APIToken, error)
	RevokeToken(ctx context.Context, actor authn.Identity, tokenID string) error
}

// Cookies sets and clears the session cookie; *httpauth.Auth does.
type Cookies interface {
	SetSessionCookie(w http.ResponseWriter, r *http.Request, s authn.NewSession)
	ClearSessionCookie(w http.ResponseWriter, r *http.Request)
}

// authProblem answers an authentication error as httpauth does: 429 with
// Retry-After when throttled, 401 with WWW-Authenticate otherwise.
func (a *API) authProblem(err error) error {
	status := httpauth.Status(err)
	if status == http.StatusInternalServerError {
		return a.problem(err)
	}
	kind := domain.KindOf(err).String()
	p := newProblem(status, kind, service.Describe(err).Message)
	h := http.Header{}
	if d := authn.RetryAfterOf(err); d > 0 {
		p.Kind = "throttled"
		h.Set("Retry-After", fmt.Sprint(int(math.Ceil(d.Seconds()))))
	}
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	}
	return huma.ErrorWithHeaders(p, h)
}

type loginIn struct {
	HTTPRequest
	Body api.LoginRequest
}

type loginOut struct {
	SetCookie []string `header:"Set-Cookie"`
	Body      api.LoginResponse
}

type logoutIn struct{ HTTPRequest }

type logoutOut struct {
	SetCookie []string `header:"Set-Cookie"`
}

// cookieHeaders runs a cookie helper on a recorder and returns the
// Set-Cookie lines it wrote, so huma can send them.
func cookieHeaders(f func(w http.ResponseWriter)) []string {
	rec := headerRecorder{}
	f(rec)
	return http.Header(rec).Values("Set-Cookie")
}

// headerRecorder is a ResponseWriter that keeps only headers.
type headerRecorder http.Header

func (h headerRecorder) Header() http.Header       { return http.Header(h) }
func (headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (headerRecorder) WriteHeader(int)             {}

// RegisterAuth adds the sign-in, sign-out and API token endpoints
// (/login, /logout, /tokens) over s (*authn.Authenticator) and c
// (*httpauth.Auth). Call it once, before serving.
func (a *API) RegisterAuth(s Sessions, c Cookies) {
	h := &authHandlers{a: a, sessions: s, cookies: c}
	register(a.huma, h.routes()...)
}

// authHandlers serve the sign-in and token endpoints.
type authHandlers struct {
	a        *API
	sessions Sessions
	cookies  Cookies
}

func (h *authHandlers) routes() []route {
	const tag = "Authentication"
	login := op("login", http.MethodPost, "/login", "Sign in: opens a session (cookie)", tag)
	login.Security = []map[string][]string{}
	login.Errors = []int{http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTooManyRequests}
	logout := op("logout", http.MethodPost, "/logout", "Sign out: revokes the session and clears the cookie", tag)
	logout.DefaultStatus = http.StatusNoContent
	createToken := op("create-token", http.MethodPost, "/tokens", "Create an API token (the secret is shown once)", tag)
	createToken.DefaultStatus = http.StatusCreated
	revokeToken := op("revoke-token", http.MethodDelete, "/tokens/{id}", "Revoke an API token", tag)
	revokeToken.DefaultStatus = http.StatusNoContent
	return []route{
		handle(publicOp(login), h.login),
		handle(publicOp(logout), h.logout),
		handle(createToken, h.createToken),
		handle(op("list-tokens", http.MethodGet, "/tokens", "List a user's API tokens (never their secrets)", tag), h.listTokens),
		handle(revokeToken, h.revokeToken),
	}
}

func (h *authHandlers) login(ctx context.Context, in *loginIn) (*loginOut, error) {
	r := in.r
	ns, err := h.sessions.Login(ctx, in.Body.Username, in.Body.Password, httpauth.RemoteIP(r), r.UserAgent())
	if err != nil {
		return nil, h.a.authProblem(err)
	}
	return &loginOut{
		SetCookie: cookieHeaders(func(w http.ResponseWriter) { h.cookies.SetSessionCookie(w, r, ns) }),
		Body: api.LoginResponse{UserID: ns.Identity.UserID, Username: ns.Identity.Username, SessionID: ns.Session.ID,
			ExpiresAt: ns.Session.ExpiresAt},
	}, nil
}

func (h *authHandlers) logout(ctx context.Context, in *logoutIn) (*logoutOut, error) {
	r := in.r
	if err := h.sessions.Logout(ctx, httpauth.SessionSecret(r), httpauth.RemoteIP(r)); err != nil {
		return nil, h.a.authProblem(err)
	}
	return &logoutOut{SetCookie: cookieHeaders(func(w http.ResponseWriter) { h.cookies.ClearSessionCookie(w, r) })}, nil
}
