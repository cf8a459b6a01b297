package gatehouse

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Error is a call that failed: Gatehouse's refusal, with the RFC 9457
// problem document it answered with (application/problem+json), or no
// answer at all (Status 0, with the cause in Err: the server could not be
// reached, or the call timed out).
type Error struct {
	// Status is the HTTP status of the answer; 0 when none arrived.
	Status int `json:"-"`
	// Type, Title and Detail are the problem document's fields; Detail
	// says what went wrong in words.
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Kind is Gatehouse's error kind: invalid, not_found, exists,
	// conflict, forbidden, unauthenticated, unavailable,
	// precondition_failed, gone, diverged (410, the change feed) or
	// other ("unavailable" when no answer arrived).
	Kind string `json:"kind,omitempty"`
	// Fields are the fields at fault, each with its location
	// (body.permission, query.resource, body.checks[2].resource).
	Fields []FieldError `json:"errors,omitempty"`
	// Holders, for a role that cannot be deleted while assigned (R7),
	// are who holds it.
	Holders []api.Holder `json:"holders,omitempty"`
	// Revision, for a 503 after an AtLeast wait, is the revision the
	// server had.
	Revision int64 `json:"revision,omitempty"`
	// Oldest, for the change feed's 410 (Gone), is the oldest revision
	// the server still retains.
	Oldest int64 `json:"oldest,omitempty"`
	// RetryAfter is the answer's Retry-After (0 when absent).
	RetryAfter time.Duration `json:"-"`
	// Method and Path name the call (Path is under /api/v1).
	Method string `json:"-"`
	Path   string `json:"-"`
	// Err is the cause when no usable answer arrived.
	Err error `json:"-"`
}

// FieldError is one field at fault in a refused request: where, what is
// wrong, and (for some) the value the server read there.
type FieldError struct {
	Location string `json:"location,omitempty"`
	Message  string `json:"message"`
	Value    any    `json:"value,omitempty"`
}

// Error is one line: the call, the status and what went wrong.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("gatehouse: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	if e.Status == 0 {
		b.WriteString("no answer")
		if e.Err != nil {
			b.WriteString(": " + e.Err.Error())
		}
		return b.String()
	}
	b.WriteString(strconv.Itoa(e.Status))
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	b.WriteString(" " + msg)
	for _, f := range e.Fields {
		if f.Location != "" && !strings.Contains(msg, f.Message) {
			b.WriteString("; " + f.Location + ": " + f.Message)
		}
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap is the cause of a call that got no usable answer (a network
// error, context.DeadlineExceeded), nil for a refusal.
func (e *Error) Unwrap() error { return e.Err }

// Unavailable reports whether Gatehouse could not answer: no answer
// arrived (unreachable, timed out), or 502, 503 (its database is down,
// or an AtLeast revision did not arrive within the wait) or 504 (a proxy
// in between gave up).
func (e *Error) Unavailable() bool {
	switch e.Status {
	case 0, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func statusIs(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// IsUnavailable reports whether err is an *Error saying that Gatehouse
// could not answer (see Error.Unavailable). A caller should treat such a
// check as a refusal and may try again later.
func IsUnavailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Unavailable()
}

// IsForbidden reports a 403: the token lacks a permission for the
// question (for example users.view, to ask about another user).
func IsForbidden(err error) bool { return statusIs(err, http.StatusForbidden) }

// IsGone reports the change feed's 410: the revision asked after is no
// longer retained; resync from a snapshot, then follow from Error.Oldest-1.
// It is true of IsDiverged's answer too: both ask for a resync.
func IsGone(err error) bool { return statusIs(err, http.StatusGone) }

// IsDiverged reports the change feed's 410 with kind diverged: the
// history the consumer holds is not the server's (its revision is beyond
// the newest, or the change there is another one: the database was
// restored to an older revision). Reload from a snapshot.
func IsDiverged(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusGone && e.Kind == "diverged"
}

// IsNotFound reports a 404: an unknown user, folder or project (or one
// the token may not see).
func IsNotFound(err error) bool { return statusIs(err, http.StatusNotFound) }

// IsUnauthenticated reports a 401: the token is unknown, revoked or
// expired, or its user disabled.
func IsUnauthenticated(err error) bool { return statusIs(err, http.StatusUnauthorized) }

// IsInvalid reports a 422 or 400: the request itself is wrong (an
// unknown permission, a malformed resource); Fields names the field.
func IsInvalid(err error) bool {
	return statusIs(err, http.StatusUnprocessableEntity) || statusIs(err, http.StatusBadRequest)
}

// decodeError makes an *Error of a non-2xx answer: the problem document
// when there is one, or what can be said of another body (a proxy's
// error page).
func decodeError(cl call, res *http.Response, raw []byte) error {
	e := &Error{}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		// A body that is not the problem expected still leaves the
		// status, which is what callers branch on.
		_ = json.Unmarshal(raw, e)
	}
	e.Status, e.Method, e.Path = res.StatusCode, cl.method, cl.path
	if e.Detail == "" && e.Title == "" {
		text := strings.TrimSpace(string(raw))
		if len(text) > 200 {
			text = text[:200] + "…"
		}
		if mt == "text/plain" {
			e.Detail = text
		}
	}
	if e.Kind == "" && e.Status == http.StatusServiceUnavailable {
		e.Kind = "unavailable"
	}
	if e.Revision == 0 {
		e.Revision, _ = strconv.ParseInt(res.Header.Get(RevisionHeader), 10, 64)
	}
	if ra := res.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	return e
}

// StatusOf is the HTTP status of the *Error in err's chain: 0 when err is
// none, or when no answer arrived.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsConflict reports a 409 (the object exists, or the change conflicts
// with the current state) or a 412 (a stale If-Match: read it again).
func IsConflict(err error) bool {
	return statusIs(err, http.StatusConflict) || statusIs(err, http.StatusPreconditionFailed)
}
