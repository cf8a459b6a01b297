package rest

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// ---- the registration tables ----

// route registers one operation with its handler; each resource file
// lists its routes in a table (userRoutes, groupRoutes, ...).
type route func(huma.API)

// handle is the route of operation o served by h.
func handle[I, O any](o huma.Operation, h func(context.Context, *I) (*O, error)) route {
	return func(api huma.API) { huma.Register(api, o, h) }
}

// created marks an operation that creates: 201, or 409 when the object exists.
func created(o huma.Operation) huma.Operation {
	o.DefaultStatus = http.StatusCreated
	return withErrors(o, http.StatusConflict)
}

// noContent marks an operation that answers 204 with no body.
func noContent(o huma.Operation) huma.Operation {
	o.DefaultStatus = http.StatusNoContent
	return o
}

// withErrors adds answers the operation may give to its documented errors.
func withErrors(o huma.Operation, statuses ...int) huma.Operation {
	o.Errors = append(o.Errors, statuses...)
	return o
}

// ---- answers ----

// versioned is an object answer with its ETag and revision.
type versioned[T any] struct {
	ETag string `header:"ETag"`
	Revisioned
	Body T
}

// withETag is the answer of an object at version, read or written at
// revision rev.
func withETag[T any](version, rev int64, body T) *versioned[T] {
	return &versioned[T]{ETag: etag(version), Revisioned: Revisioned{rev}, Body: body}
}

// bodyOut is an answer with a revision and a body.
type bodyOut[T any] struct {
	Revisioned
	Body T
}

// RevisionOut is the answer of a write that returns no object.
type RevisionOut = bodyOut[api.RevisionBody]

func (a *API) revisionOut(committed int64) *RevisionOut {
	rev := a.revision(committed)
	return &RevisionOut{Revisioned{rev}, api.RevisionBody{Revision: rev}}
}

// itemsOut is the answer of a list that is never paged.
type itemsOut[T any] struct{ Body T }

// ---- versioned writes (ETag, If-Match, 412) ----

// versionOf reads the current version of the object a write concerns,
// as the caller sees it.
type versionOf func() (int64, error)

// updateVersioned is the update every versioned object shares, answering
// the object and the revision its write committed: the
// If-Match header's version goes into the write (0 without one, which
// makes the write unconditional); when the write conflicts and the object
// has moved on from that version, the answer is 412 with its current ETag.
func updateVersioned[T any](a *API, ifMatchHeader string, current versionOf, write func(version int64) (T, int64, error)) (T, int64, error) {
	want, err := ifMatch(ifMatchHeader)
	if err != nil {
		var zero T
		return zero, 0, err
	}
	v, rev, err := write(want)
	if err != nil {
		return v, 0, a.staleOr(err, want, current)
	}
	return v, rev, nil
}

// checkIfMatch answers 412 when the request's If-Match names another
// version than the object's current one (read by current); without
// If-Match it reads nothing. Writes whose service call takes no version
// (deletes, setters) use it before writing.
func (a *API) checkIfMatch(header string, current versionOf) error {
	want, err := ifMatch(header)
	if err != nil || want == 0 {
		return err
	}
	v, err := current()
	if err != nil {
		return a.problem(err)
	}
	if v != want {
		return preconditionFailed(v)
	}
	return nil
}

// staleOr turns the KindConflict of a write that carried a version into
// 412 when the object's version now differs from the one demanded.
func (a *API) staleOr(err error, want int64, current versionOf) error {
	if want != 0 && domain.Is(err, domain.KindConflict) {
		if v, gerr := current(); gerr == nil && v != want {
			return preconditionFailed(v)
		}
	}
	return a.problem(err)
}

// ---- inputs shared by the resources ----

// IDPath is the {id} of a path.
type IDPath struct {
	ID string `path:"id" maxLength:"200"`
}

// IfMatchHeader is the optional If-Match of an update.
type IfMatchHeader struct {
	IfMatch string `header:"If-Match" doc:"The ETag of the object as you read it; 412 when it changed since. Optional: without it the write is unconditional."`
}

// idIfMatchIn is an object's id with the If-Match of a write to it.
type idIfMatchIn struct {
	IDPath
	IfMatchHeader
}

// bodyIn is a request body alone.
type bodyIn[T any] struct{ Body T }

// idBodyIn is an object's id and a request body.
type idBodyIn[T any] struct {
	IDPath
	Body T
}

// versionedIn is an object's id, the If-Match of a write to it and the
// write's body.
type versionedIn[T any] struct {
	IDPath
	IfMatchHeader
	Body T
}

// register adds routes to the API.
func register(api huma.API, routes ...route) {
	for _, r := range routes {
		r(api)
	}
}
