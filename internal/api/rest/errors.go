package rest

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// statusOf is the one table from domain error kinds to HTTP statuses.
// KindInvalid is 422 Unprocessable Content, the status huma's own schema
// validation uses, so every "the input is wrong" answer has one status;
// 400 is kept for bodies that are not JSON at all.
var statusOf = map[domain.Kind]int{
	domain.KindInvalid:         http.StatusUnprocessableEntity,
	domain.KindNotFound:        http.StatusNotFound,
	domain.KindExists:          http.StatusConflict,
	domain.KindConflict:        http.StatusConflict,
	domain.KindForbidden:       http.StatusForbidden,
	domain.KindUnauthenticated: http.StatusUnauthorized,
	domain.KindUnavailable:     http.StatusServiceUnavailable,
	domain.KindOther:           http.StatusInternalServerError,
}

// Problem is the API's error answer (pkg/gatehouse/api): every error a
// handler returns becomes one.
type Problem = api.Problem

func newProblem(status int, kind, detail string) *Problem {
	return &Problem{Title: http.StatusText(status), Status: status, Kind: kind, Detail: detail}
}

// problem turns a service error into a problem document, as
// service.Describe reads it. Unexpected
// errors (KindOther) are logged and answered with a generic message: their
// text may hold internals.
func (a *API) problem(err error) error { return a.problemAt(err) }

// problemAt is problem for a handler whose input is not all in the body:
// at maps the service's field names to their locations ("id",
// "path.id", "members", "query.members", ...). Other fields are in the
// body.
func (a *API) problemAt(err error, at ...string) error {
	if err == nil {
		return nil
	}
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	d := service.Describe(err)
	kind := d.Kind
	status, ok := statusOf[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		a.log.Error("rest: unexpected error", "err", err)
		return newProblem(status, domain.KindOther.String(), "internal error; the server log has the details")
	}
	p = newProblem(status, kind.String(), d.Message)
	for _, f := range d.Fields {
		loc := location(f.Field)
		for i := 0; i+1 < len(at); i += 2 {
			if f.Field == at[i] || strings.HasPrefix(f.Field, at[i]+"[") {
				loc = at[i+1] + strings.TrimPrefix(f.Field, at[i])
			}
		}
		p.Errors = append(p.Errors, &api.ErrorDetail{Location: loc, Message: f.Message})
	}
	for _, h := range d.Holders {
		p.Holders = append(p.Holders, holderOf(h))
	}
	return p
}

func holderOf(h service.RoleHolder) api.Holder {
	return api.Holder{Kind: h.Kind, ID: h.ID, Name: h.Name, ProjectID: h.ProjectID}
}

// location turns a domain field name into huma's location syntax. Field
// names are the JSON names of the request body; path parameters keep
// theirs when the service names them.
func location(field string) string {
	if strings.HasPrefix(field, "path.") || strings.HasPrefix(field, "query.") || strings.HasPrefix(field, "body.") {
		return field
	}
	return "body." + field
}

// preconditionFailed is the 412 of a stale If-Match.
func preconditionFailed(current int64) error {
	return newProblem(http.StatusPreconditionFailed, "precondition_failed",
		"the object changed since you read it: its ETag is now "+etag(current)+"; read it again and retry")
}

func (a *API) logPanic(r *http.Request, v any, stack []byte) {
	a.log.Error("rest: panic serving request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Any("panic", v), slog.String("stack", string(stack)))
}

// problemTransformer rewrites huma's own error answers (schema validation,
// malformed JSON, body too large) into Problems, so every error has one
// shape with a kind, and drops echoed values that are whole objects or
// may be secrets (a password sent with a misspelt field would otherwise
// come back in the answer).
func problemTransformer(_ huma.Context, _ string, v any) (any, error) {
	em, ok := v.(*huma.ErrorModel)
	if !ok {
		return v, nil
	}
	p := &Problem{Type: em.Type, Title: em.Title, Status: em.Status, Detail: em.Detail, Instance: em.Instance}
	for _, d := range em.Errors {
		p.Errors = append(p.Errors, &api.ErrorDetail{Message: d.Message, Location: d.Location, Value: d.Value})
	}
	switch em.Status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		p.Kind = domain.KindInvalid.String()
	case http.StatusNotFound:
		p.Kind = domain.KindNotFound.String()
	}
	for _, d := range p.Errors {
		switch d.Value.(type) {
		case map[string]any, []any:
			d.Value = nil
		}
		if l := strings.ToLower(d.Location); strings.Contains(l, "password") || strings.Contains(l, "secret") {
			d.Value = nil
		}
	}
	return p, nil
}
