package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// scimError is an RFC 7644 §3.12 error response.
type scimError struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *scimError) Error() string { return e.Detail }

func errInvalidSyntax(d string) *scimError {
	return &scimError{http.StatusBadRequest, "invalidSyntax", d}
}
func errInvalidValue(d string) *scimError {
	return &scimError{http.StatusBadRequest, "invalidValue", d}
}
func errInvalidFilter(d string) *scimError {
	return &scimError{http.StatusBadRequest, "invalidFilter", d}
}
func errInvalidPath(d string) *scimError { return &scimError{http.StatusBadRequest, "invalidPath", d} }
func errNoTarget(d string) *scimError    { return &scimError{http.StatusBadRequest, "noTarget", d} }
func errMutability(d string) *scimError  { return &scimError{http.StatusBadRequest, "mutability", d} }
func errNotFound(d string) *scimError    { return &scimError{http.StatusNotFound, "", d} }

func writeSCIMError(w http.ResponseWriter, e *scimError) {
	body := map[string]any{"schemas": []string{URIError}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.ScimType != "" {
		body["scimType"] = e.ScimType
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fromService maps a service error to a SCIM error by its kind, as the REST
// API's one table does; only the status and scimType differ.
func (h *Handler) fromService(r *http.Request, err error) *scimError {
	var se *scimError
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(err, service.ErrStaleVersion) {
		return &scimError{http.StatusPreconditionFailed, "", "the resource changed since the version named in If-Match"}
	}
	d := service.Describe(err)
	detail := d.Message
	switch d.Kind {
	case domain.KindInvalid:
		return errInvalidValue(detail)
	case domain.KindNotFound:
		return errNotFound(detail)
	case domain.KindExists:
		return &scimError{http.StatusConflict, "uniqueness", detail}
	case domain.KindConflict:
		// A member the model refuses (a cycle of nested groups, R23's
		// exclusive projects) is a refused value, not a clash between
		// resources (RFC 7644 §3.12 keeps 409 for uniqueness and versions).
		if len(d.Fields) > 0 {
			return errInvalidValue(detail)
		}
		return &scimError{http.StatusConflict, "", detail}
	case domain.KindForbidden:
		return &scimError{http.StatusForbidden, "", detail}
	case domain.KindUnauthenticated:
		return &scimError{http.StatusUnauthorized, "", detail}
	case domain.KindUnavailable:
		return &scimError{http.StatusServiceUnavailable, "", "the server cannot serve this now; try again shortly"}
	}
	h.log.Error("scim: unexpected error", "method", r.Method, "path", r.URL.Path, "err", err)
	return &scimError{http.StatusInternalServerError, "", "internal error; the server log has the cause"}
}
