package gatehouse

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
)

// ErrDenied is the error a refusal handler receives when the check said no.
var ErrDenied = errors.New("gatehouse: permission denied")

// RejectError is returned by a middleware's decide function to answer a
// request without asking Gatehouse, with this status (for example 401
// for a request whose user cannot be identified, 404 for an unknown
// document).
type RejectError struct {
	Status  int
	Message string
}

func (e *RejectError) Error() string { return e.Message }

// Reject is a decide function's way to refuse a request itself.
func Reject(status int, message string) error { return &RejectError{Status: status, Message: message} }

type decisionKey struct{}

// DecisionFromContext is the decision that let the request through, put
// in its context by Middleware (false outside of it).
func DecisionFromContext(ctx context.Context) (Decision, bool) {
	d, ok := ctx.Value(decisionKey{}).(Decision)
	return d, ok
}

// RefusalFunc writes the answer to a request the middleware refuses, with
// the status it chose and why (ErrDenied, a *RejectError, or the check's
// *Error).
type RefusalFunc func(w http.ResponseWriter, r *http.Request, status int, err error)

// MiddlewareOption configures Middleware.
type MiddlewareOption func(*middleware)

// WithRefusal replaces the default refusal, a plain-text answer, with f
// (for example to answer JSON, or to redirect to a sign-in page on 401).
func WithRefusal(f RefusalFunc) MiddlewareOption {
	return func(m *middleware) {
		if f != nil {
			m.refuse = f
		}
	}
}

// WithLogger sets where the middleware logs the checks that failed
// (default slog.Default()).
func WithLogger(l *slog.Logger) MiddlewareOption {
	return func(m *middleware) {
		if l != nil {
			m.log = l
		}
	}
}

type middleware struct {
	c      Checker
	decide func(*http.Request) (CheckRequest, error)
	refuse RefusalFunc
	log    *slog.Logger
}

// Middleware guards a handler with a check: decide says which check a
// request needs, and the request goes through only when Gatehouse allows
// it, with the Decision in its context (DecisionFromContext). Otherwise
// it fails closed:
//
//   - the check says no: 403 Forbidden;
//   - decide returns a *RejectError (Reject): its status (a 503 with
//     Retry-After); another error: 400;
//   - Gatehouse is unavailable (unreachable, timed out, 502/503/504, or an
//     AtLeast revision that did not arrive): 503 with Retry-After;
//   - Gatehouse does not know the subject or the resource (404): 403,
//     since nothing is allowed on what does not exist;
//   - any other refusal from Gatehouse (a bad token, an unknown
//     permission, a token that may not ask about other users): 500, and
//     the error is logged, since the application is misconfigured.
func Middleware(c *Client, decide func(*http.Request) (CheckRequest, error), opts ...MiddlewareOption) func(http.Handler) http.Handler {
	m := &middleware{c: c, decide: decide, refuse: plainRefusal, log: slog.Default()}
	for _, o := range opts {
		o(m)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, err := m.decide(r)
			if err != nil {
				status := http.StatusBadRequest
				var re *RejectError
				if errors.As(err, &re) && re.Status >= 400 && re.Status <= 599 {
					status = re.Status
				}
				if status == http.StatusServiceUnavailable {
					w.Header().Set("Retry-After", "1")
				}
				m.refuse(w, r, status, err)
				return
			}
			d, err := m.c.Check(r.Context(), req)
			switch {
			case err == nil && d.Allowed:
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), decisionKey{}, d)))
			case err == nil:
				m.refuse(w, r, http.StatusForbidden, ErrDenied)
			case IsUnavailable(err):
				retry := 1
				var e *Error
				if errors.As(err, &e) && e.RetryAfter > 0 {
					retry = max(int(e.RetryAfter.Seconds()), 1)
				}
				m.log.Warn("gatehouse: check unavailable, request refused", "method", r.Method, "path", r.URL.Path, "err", err)
				w.Header().Set("Retry-After", strconv.Itoa(retry))
				m.refuse(w, r, http.StatusServiceUnavailable, err)
			case IsNotFound(err):
				m.refuse(w, r, http.StatusForbidden, err)
			default:
				m.log.Error("gatehouse: check failed, request refused", "method", r.Method, "path", r.URL.Path, "err", err)
				m.refuse(w, r, http.StatusInternalServerError, err)
			}
		})
	}
}

// plainRefusal answers a short text. It does not repeat Gatehouse's
// error to the client: that may say more about the installation than an
// outsider should learn; the log has it.
func plainRefusal(w http.ResponseWriter, _ *http.Request, status int, err error) {
	msg := http.StatusText(status)
	var re *RejectError
	switch {
	case errors.As(err, &re):
		msg = re.Message
	case status == http.StatusBadRequest:
		msg = err.Error()
	case status == http.StatusServiceUnavailable:
		msg = "the permission service is unavailable; try again later"
	}
	http.Error(w, msg, status)
}
