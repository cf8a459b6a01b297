package rest

import (
	"context"
	"fmt"
	"github.com/gatehouse/gatehouse/internal/service"
	"math"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/domain"
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

type requestKey struct{}

// request is the *http.Request being served, for the few handlers that
// set cookies; ServeHTTP puts it in the context.
func request(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
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

// LoginRequest signs in with a username and password.
type LoginRequest struct {
	Username string `json:"username" minLength:"1" maxLength:"1000"`
	Password string `json:"password" minLength:"1" maxLength:"1024"`
}

// LoginResponse describes the session opened; its secret is in the cookie only.
type LoginResponse struct {
	UserID    string    `json:"user_id"`
	Username  string    `json:"username"`
	SessionID string    `json:"session_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

type loginOut struct {
	SetCookie []string `header:"Set-Cookie"`
	Body      LoginResponse
}

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

// TokenRequestBody asks for a new API token.
type TokenRequestBody struct {
	UserID      string     `json:"user_id,omitempty" maxLength:"200" doc:"Whose token; default yourself."`
	Name        string     `json:"name" maxLength:"1000" doc:"What the token is for."`
	Permissions []string   `json:"permissions,omitempty" maxItems:"100" doc:"Limit the token to these system permissions; empty: everything the user holds."`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

type tokensIn struct {
	UserID string `query:"user_id" maxLength:"200" doc:"Whose tokens; default yours."`
}

// RegisterAuth adds the sign-in, sign-out and API token endpoints
// (/login, /logout, /tokens) over s (*authn.Authenticator) and c
// (*httpauth.Auth). Call it once, before serving.
func (a *API) RegisterAuth(s Sessions, c Cookies) {
	api := a.huma
	o := op("login", http.MethodPost, "/login", "Sign in: opens a session (cookie)", "Authentication")
	o.Security = []map[string][]string{}
	o.Errors = []int{http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTooManyRequests}
	huma.Register(api, publicOp(o), func(ctx context.Context, in *struct{ Body LoginRequest }) (*loginOut, error) {
		r := request(ctx)
		ns, err := s.Login(ctx, in.Body.Username, in.Body.Password, httpauth.RemoteIP(r), r.UserAgent())
		if err != nil {
			return nil, a.authProblem(err)
		}
		return &loginOut{
			SetCookie: cookieHeaders(func(w http.ResponseWriter) { c.SetSessionCookie(w, r, ns) }),
			Body: LoginResponse{UserID: ns.Identity.UserID, Username: ns.Identity.Username, SessionID: ns.Session.ID,
				ExpiresAt: ns.Session.ExpiresAt},
		}, nil
	})
	o = op("logout", http.MethodPost, "/logout", "Sign out: revokes the session and clears the cookie", "Authentication")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, publicOp(o), func(ctx context.Context, _ *struct{}) (*logoutOut, error) {
		r := request(ctx)
		if err := s.Logout(ctx, httpauth.SessionSecret(r), httpauth.RemoteIP(r)); err != nil {
			return nil, a.authProblem(err)
		}
		return &logoutOut{SetCookie: cookieHeaders(func(w http.ResponseWriter) { c.ClearSessionCookie(w, r) })}, nil
	})
	o = op("create-token", http.MethodPost, "/tokens", "Create an API token (the secret is shown once)", "Authentication")
	o.DefaultStatus = http.StatusCreated
	huma.Register(api, o, func(ctx context.Context, in *struct{ Body TokenRequestBody }) (*struct{ Body authn.NewToken }, error) {
		id, _ := httpauth.FromContext(ctx)
		b := in.Body
		nt, err := s.CreateToken(ctx, id, authn.TokenRequest{UserID: b.UserID, Name: b.Name, Permissions: b.Permissions, ExpiresAt: b.ExpiresAt})
		if err != nil {
			return nil, a.problem(err)
		}
		return &struct{ Body authn.NewToken }{nt}, nil
	})
	huma.Register(api, op("list-tokens", http.MethodGet, "/tokens", "List a user's API tokens (never their secrets)", "Authentication"),
		func(ctx context.Context, in *tokensIn) (*struct{ Body Page[domain.APIToken] }, error) {
			id, _ := httpauth.FromContext(ctx)
			ts, err := s.ListTokens(ctx, id, in.UserID)
			if err != nil {
				return nil, a.problem(err)
			}
			return &struct{ Body Page[domain.APIToken] }{Page[domain.APIToken]{Items: nonNil(ts)}}, nil
		})
	o = op("revoke-token", http.MethodDelete, "/tokens/{id}", "Revoke an API token", "Authentication")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, func(ctx context.Context, in *IDPath) (*struct{}, error) {
		id, _ := httpauth.FromContext(ctx)
		if err := s.RevokeToken(ctx, id, in.ID); err != nil {
			return nil, a.problem(err)
		}
		return &struct{}{}, nil
	})
}
