// Package httpauth is the HTTP side of internal/authn, shared by the REST
// API and the web console: it turns a request into an authn.Identity, sets
// and clears the session cookie, and answers authentication failures as
// RFC 9457 problem documents.
//
// A request is recognised, in this order, by
//
//   - an Authorization: Bearer gh_… header: an API token;
//   - else the gatehouse_session cookie: a sign-in session;
//   - else nothing: it is anonymous and acts as Public (R12).
//
// Credentials that are present but bad (unknown, revoked, expired, of a
// disabled user, or another Authorization scheme) get 401 and never fall
// back to anonymous, so a client with a dead token learns it at once
// rather than seeing less. A request authenticated by the cookie, which a
// browser sends by itself, must also pass net/http's cross-origin check
// (CSRF) when its method is unsafe; a bearer token is never sent by a
// browser on its own, so it needs no such check.
package httpauth

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/domain"
)

// CookieName is the session cookie's name.
const CookieName = "gatehouse_session"

// Authenticator is what the middleware needs of authn.Authenticator.
type Authenticator interface {
	AuthenticateSession(ctx context.Context, secret string) (authn.Identity, error)
	AuthenticateToken(ctx context.Context, secret string) (authn.Identity, error)
}

// Options configure an Auth.
type Options struct {
	// SecureCookies marks the session cookie Secure on every request, not
	// only those that came over TLS (--secure-cookies): for a server
	// behind a proxy that terminates TLS, where the request the server
	// sees is plain HTTP.
	SecureCookies bool
	// AnonymousOnStaleCookie makes a bad session cookie clear itself and
	// the request go on anonymous instead of failing with 401: what the
	// console wants, so that a browser with an expired cookie still
	// reaches the sign-in page. A bad bearer token is always 401.
	AnonymousOnStaleCookie bool
	// CrossOrigin checks cookie-authenticated requests; nil uses
	// http.NewCrossOriginProtection() (no trusted extra origins).
	CrossOrigin *http.CrossOriginProtection
}

// Auth holds the middleware and cookie helpers.
type Auth struct {
	a     Authenticator
	o     Options
	cross *http.CrossOriginProtection
}

// New returns the HTTP glue over a.
func New(a Authenticator, o Options) *Auth {
	h := &Auth{a: a, o: o, cross: o.CrossOrigin}
	if h.cross == nil {
		h.cross = http.NewCrossOriginProtection()
	}
	return h
}

// Failure is why a request's credentials were refused.
type Failure struct {
	Status int    // 401, 403 (cross-origin) or what the error's kind says
	Bearer bool   // the refused credential was a bearer token
	Err    error  // the cause
	Detail string // what the client is told
}

func (f *Failure) Error() string { return f.Detail }
func (f *Failure) Unwrap() error { return f.Err }

// Identify returns who r acts as. The error, when not nil, is a *Failure.
// It does not touch the response: Middleware does that.
func (h *Auth) Identify(r *http.Request) (authn.Identity, error) {
	addr := RemoteIP(r)
	if hv := r.Header.Get("Authorization"); strings.TrimSpace(hv) != "" {
		scheme, cred, _ := strings.Cut(strings.TrimSpace(hv), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return authn.Identity{}, &Failure{Status: http.StatusUnauthorized, Bearer: true,
				Detail: "only Bearer API tokens are accepted in the Authorization header"}
		}
		id, err := h.a.AuthenticateToken(r.Context(), strings.TrimSpace(cred))
		if err != nil {
			return authn.Identity{}, failure(err, true)
		}
		id.RemoteAddr = addr
		return id, nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return authn.Anonymous(addr), nil
	}
	id, err := h.a.AuthenticateSession(r.Context(), c.Value)
	if err != nil {
		return authn.Identity{}, failure(err, false)
	}
	if err := h.cross.Check(r); err != nil {
		return authn.Identity{}, &Failure{Status: http.StatusForbidden, Err: err,
			Detail: "a cross-origin request may not use the session cookie"}
	}
	id.RemoteAddr = addr
	return id, nil
}

func failure(err error, bearer bool) *Failure {
	return &Failure{Status: Status(err), Bearer: bearer, Err: err, Detail: publicDetail(err)}
}

// Middleware puts r's identity in its context for next (see FromContext),
// or answers 401 (403 for a cross-origin use of the cookie) as
// problem+json when the credentials are bad.
func (h *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := h.Identify(r)
		if err != nil {
			var f *Failure
			if errors.As(err, &f) && !f.Bearer && f.Status == http.StatusUnauthorized && h.o.AnonymousOnStaleCookie {
				h.ClearSessionCookie(w, r)
				next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), authn.Anonymous(RemoteIP(r)))))
				return
			}
			if errors.As(err, &f) && f.Status == http.StatusUnauthorized && !f.Bearer {
				// The cookie is dead: drop it so the next request is
				// anonymous rather than refused again.
				h.ClearSessionCookie(w, r)
			}
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

type ctxKey struct{}

// WithIdentity returns ctx carrying id (the middleware does this; tests
// and other transports may too).
func WithIdentity(ctx context.Context, id authn.Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity the middleware found, and whether
// there was one. Without the middleware it returns an anonymous identity
// and false: a handler that forgot the middleware serves Public, never
// more.
func FromContext(ctx context.Context) (authn.Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(authn.Identity)
	return id, ok
}

// SetSessionCookie gives the browser the secret of a new session: HttpOnly
// (no script reads it), SameSite=Lax (not sent on cross-site
// subrequests and form posts), Path=/, Secure when the request came over
// TLS or Options.SecureCookies, and expiring with the session's lifetime.
func (h *Auth) SetSessionCookie(w http.ResponseWriter, r *http.Request, s authn.NewSession) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    s.Secret,
		Path:     "/",
		Expires:  s.Session.ExpiresAt.UTC(),
		HttpOnly: true,
		Secure:   h.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie tells the browser to forget the session cookie (on
// sign-out, or when it is no longer valid), with the same attributes so
// that the browser matches it.
func (h *Auth) ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    "",
		Path:     "/",
		Expires:  time.Unix(0, 0),
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   h.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// SessionSecret returns the session cookie's value ("" when none), for
// sign-out.
func SessionSecret(r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

func (h *Auth) secure(r *http.Request) bool { return r.TLS != nil || h.o.SecureCookies }

// RemoteIP is the client's address as the audit log records it: the IP of
// the connection, without the port. Forwarded headers are not trusted:
// any client can write them.
func RemoteIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// Status maps an authentication error to an HTTP status: 429 for a
// throttled sign-in, 401 for other KindUnauthenticated, 503 for
// KindUnavailable, and the usual status of the other kinds.
func Status(err error) int {
	if authn.RetryAfterOf(err) > 0 {
		return http.StatusTooManyRequests
	}
	switch domain.KindOf(err) {
	case domain.KindUnauthenticated:
		return http.StatusUnauthorized
	case domain.KindUnavailable:
		return http.StatusServiceUnavailable
	case domain.KindInvalid:
		return http.StatusBadRequest
	case domain.KindNotFound:
		return http.StatusNotFound
	case domain.KindForbidden:
		return http.StatusForbidden
	case domain.KindExists, domain.KindConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// publicDetail is what a client is told of err: the innermost message of
// an authentication failure (written for clients by authn), a generic
// sentence otherwise, so that no store error text leaks.
func publicDetail(err error) string {
	switch Status(err) {
	case http.StatusUnauthorized, http.StatusTooManyRequests:
		var de *domain.Error
		for e := err; errors.As(e, &de) && de.Err != nil; e = de.Err {
			var inner *domain.Error
			if !errors.As(de.Err, &inner) {
				return de.Err.Error()
			}
		}
		return "authentication failed"
	case http.StatusServiceUnavailable:
		return "the server cannot check credentials right now; try again shortly"
	}
	return "authentication failed"
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// WriteProblem writes an application/problem+json response.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
}

// WriteError answers an authentication failure (a *Failure, or an error
// from authn such as Login's) as problem+json, with WWW-Authenticate on
// 401 (RFC 9110) and Retry-After on 429.
func WriteError(w http.ResponseWriter, err error) {
	var f *Failure
	if !errors.As(err, &f) {
		f = failure(err, false)
	}
	switch f.Status {
	case http.StatusUnauthorized:
		v := `Bearer realm="gatehouse"`
		if f.Bearer {
			v += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	case http.StatusTooManyRequests:
		secs := int((authn.RetryAfterOf(err) + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	WriteProblem(w, f.Status, f.Detail)
}
