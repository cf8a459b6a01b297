package rest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/gatehouse/gatehouse/internal/api/input"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The edge runs after routing and before huma parses or validates
// anything, in this order: an anonymous caller of an administrative
// operation is refused (401), so that nobody learns the schema of an
// endpoint they may not call; then the query string (UTF-8), the body's
// size, media type and JSON (internal/api/input: UTF-8, no repeated
// names); then the cursor.

func init() {
	// Property names match exactly: {"NAME": …} is an unknown property,
	// not name. huma's validator folds case unless told otherwise; the
	// REST API is the only huma API of the process.
	huma.ValidateStrictCasing = true
}

// publicOp marks an operation anonymous callers may use (checks about
// themselves, signing in and out); every other one needs credentials.
func publicOp(o huma.Operation) huma.Operation {
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata["public"] = true
	return o
}

// edge is the huma middleware described above.
func (a *API) edge(ctx huma.Context, next func(huma.Context)) {
	r, w := humago.Unwrap(ctx)
	if p := a.refuse(ctx.Operation(), r); p != nil {
		if p.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		}
		writeProblem(w, p)
		return
	}
	if ctx.Operation().RequestBody != nil {
		ctx = bodyReadContext{ctx}
	}
	next(ctx)
}

// bodyReadContext is huma's context once the edge has read the body
// (checkBody) under the server's own read timeout, or found none. huma
// would then set its body read deadline (Operation.BodyReadTimeout) on
// the connection, where net/http's background read, started when the
// body ended, waits for the client to go away: the deadline fired there
// and cancelled the request's context while the handler still ran (a
// sign-in queued for a hashing slot under load answered 503 "context
// canceled"). There is no body left to bound, so no deadline is set.
type bodyReadContext struct{ humaContext }

// humaContext names the embedded context apart from its Context method.
type humaContext = huma.Context

func (bodyReadContext) SetReadDeadline(time.Time) error { return nil }

// Unwrap lets humago.Unwrap reach the request and the writer.
func (c bodyReadContext) Unwrap() huma.Context { return c.humaContext }

func (a *API) refuse(o *huma.Operation, r *http.Request) *Problem {
	if id, _ := httpauth.FromContext(r.Context()); id.Anonymous() && o.Metadata["public"] != true {
		return newProblem(http.StatusUnauthorized, domain.KindUnauthenticated.String(),
			"sign in: this endpoint needs an API token or a session")
	}
	if e := input.CheckForm(r.URL.Query()); e != nil {
		p := badJSON("the query string is not valid UTF-8 text")
		p.Errors = []*api.ErrorDetail{{Location: "query." + e.Location, Message: e.Message}}
		return p
	}
	if p := checkBody(o, r); p != nil {
		return p
	}
	if hasCursor(o) {
		return a.openCursor(r)
	}
	return nil
}

// hasCursor reports whether the operation is a list that takes a cursor.
func hasCursor(o *huma.Operation) bool {
	for _, p := range o.Parameters {
		if p.In == "query" && p.Name == "cursor" {
			return true
		}
	}
	return false
}

// checkBody reads the body (then given back to huma unchanged) and
// refuses it unless it is within the size limit, sent as application/json
// and strict JSON.
func checkBody(o *huma.Operation, r *http.Request) *Problem {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	limit := o.MaxBodyBytes
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	raw, err := input.ReadBody(r.Body, r.ContentLength, limit)
	if errors.Is(err, input.ErrTooLarge) {
		return newProblem(http.StatusRequestEntityTooLarge, domain.KindInvalid.String(), "the body is larger than 1 MiB")
	}
	if err != nil {
		return badJSON("cannot read the body")
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if len(raw) == 0 {
		return nil
	}
	if !input.MediaType(r.Header.Get("Content-Type"), "application/json") {
		p := newProblem(http.StatusUnsupportedMediaType, domain.KindInvalid.String(),
			"send the body as Content-Type: application/json")
		p.Errors = []*api.ErrorDetail{{Location: "header.Content-Type", Message: "expected application/json", Value: r.Header.Get("Content-Type")}}
		return p
	}
	if o.Metadata[strictDecoder] == true {
		return nil
	}
	return bodyProblem(input.CheckJSON(raw, input.ExactNames))
}

// strictDecoder marks an operation whose handler decodes its body with
// decodeStrict, as strictly as the edge would check it.
const strictDecoder = "strict-decoder"

// bodyProblem answers a refused body: 400 when it is not JSON (RFC 8259
// text in UTF-8), 422 when it is JSON the API refuses (a repeated name),
// both naming the place.
func bodyProblem(e *input.Error) *Problem {
	if e == nil {
		return nil
	}
	loc := "body"
	if e.Location != "" {
		if e.Location[0] == '[' {
			loc += e.Location
		} else {
			loc += "." + e.Location
		}
	}
	if !e.Malformed {
		return invalidAt(loc, e.Message)
	}
	p := badJSON(e.Message)
	p.Errors = []*api.ErrorDetail{{Location: loc, Message: e.Message}}
	return p
}
