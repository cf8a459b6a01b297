package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a refusal from the server: the RFC 9457 problem document it
// answered with (application/problem+json), or what could be made of a
// non-JSON answer (a proxy's error page).
type Error struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int    `json:"-"`
	Type       string `json:"type,omitempty"`
	Title      string `json:"title,omitempty"`
	Status     int    `json:"status,omitempty"`
	Detail     string `json:"detail,omitempty"`
	// Kind is Gatehouse's error kind: invalid, not_found, exists,
	// conflict, forbidden, unauthenticated, unavailable,
	// precondition_failed, throttled or other.
	Kind string `json:"kind,omitempty"`
	// Fields are the fields at fault, each with its location (body.name,
	// query.user_id, path.id, header.If-Match) and what is wrong.
	Fields []FieldError `json:"errors,omitempty"`
	// Holders, for a role that cannot be deleted (R7), are who holds it.
	Holders []Holder `json:"holders,omitempty"`
	// Revision, for a 503 after an at_least wait, is the revision the
	// server had.
	Revision int64 `json:"revision,omitempty"`
	// RetryAfter is the Retry-After of a 429 or 503 (0 when absent).
	RetryAfter time.Duration `json:"-"`
}

// FieldError is one field at fault.
type FieldError struct {
	Location string `json:"location,omitempty"`
	Message  string `json:"message"`
	Value    any    `json:"value,omitempty"`
}

// Holder is one holder of a role (R7).
type Holder struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id,omitempty"`
}

// Error is one line: the detail, then each field at fault with its
// location. Gatehouse's own details already repeat the fields' messages
// ("username: is required"): then the fields alone are shown, with their
// locations, so that nothing is said twice.
func (e *Error) Error() string {
	var b strings.Builder
	head := e.Detail
	if head == "" {
		head = e.Title
	}
	if head == "" {
		head = http.StatusText(e.StatusCode)
	}
	if len(e.Fields) == 0 || !e.detailRepeatsFields() {
		b.WriteString(head)
	}
	for i, f := range e.Fields {
		if b.Len() > 0 {
			if i == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString("; ")
			}
		}
		if f.Location != "" {
			b.WriteString(f.Location + ": ")
		}
		b.WriteString(f.Message)
	}
	if len(e.Holders) > 0 {
		names := make([]string, len(e.Holders))
		for i, h := range e.Holders {
			names[i] = h.Kind + " " + h.Name
		}
		b.WriteString(" (held by " + strings.Join(names, ", ") + ")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return fmt.Sprintf("%s (%d %s)", b.String(), e.StatusCode, http.StatusText(e.StatusCode))
}

func (e *Error) detailRepeatsFields() bool {
	for _, f := range e.Fields {
		if !strings.Contains(e.Detail, f.Message) {
			return false
		}
	}
	return true
}

// decodeError turns a non-2xx answer into an *Error.
func decodeError(res *http.Response, raw []byte) error {
	e := &Error{StatusCode: res.StatusCode}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if ct == "application/problem+json" || ct == "application/json" {
		if err := json.Unmarshal(raw, e); err != nil {
			e.Detail = "the server's error answer is not valid JSON"
		}
	} else if s := strings.TrimSpace(string(raw)); s != "" {
		// Not from Gatehouse itself, most likely (a proxy): keep a
		// readable start of it.
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		e.Detail = s
	}
	e.StatusCode = res.StatusCode
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// StatusOf returns the HTTP status of an *Error in err's chain (0 when
// err is not a refusal from the server: a network failure, say).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsNotFound reports whether err is a 404: the object does not exist, or
// the caller may not see it.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// IsUnauthenticated reports whether err is a 401: no credentials, or bad ones.
func IsUnauthenticated(err error) bool { return StatusOf(err) == http.StatusUnauthorized }

// IsForbidden reports whether err is a 403.
func IsForbidden(err error) bool { return StatusOf(err) == http.StatusForbidden }

// IsConflict reports whether err is a 409 (exists, or conflicts with the
// current state) or a 412 (a stale If-Match).
func IsConflict(err error) bool {
	s := StatusOf(err)
	return s == http.StatusConflict || s == http.StatusPreconditionFailed
}
