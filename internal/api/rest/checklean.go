package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/api/input"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The lean path of POST /api/v1/check (issue 18). A single check is the
// API's hottest request, and huma's generic machinery (routing, the edge
// middleware, reflection over the input and output structs, content
// negotiation, an encoder per answer) cost more than the check itself.
// ServeHTTP hands a plain check here after authentication; it is
// answered with the same decoder and validation (decodeCheck), the same
// use case (service.Check, which authorizes), the same problems, and
// the same bytes as the generic path (TestCheckLeanMatchesGeneric), with
// the body read into a pooled buffer and decoded into a pooled struct,
// the caller handed to the service without a context value, the answer
// appended to a pooled slice, and its revision header shared by the
// answers at the same revision: of its own it allocates only the decoded
// strings (TestLeanCheckAllocatesOnlyTheRequest).
//
// Anything out of the ordinary is left to the generic path, body
// restored: a query string, an escaped path, an Accept header other than
// JSON, a media type input.MediaType refuses, an empty body or one over
// the limit. Those answers come from the edge and huma as before.
//
// POST /api/v1/check/batch takes the same path (serveBatch): the same
// decoding and use case as the generic handler (decideBatch), the body
// read in a few reads into a buffer of its announced size, and the
// answer appended rather than encoded by reflection (issue 18: a batch is
// a thousand checks, and huma's copies and encoder were a tenth of it).

// The paths the lean path serves.
const (
	checkPath = Prefix + "/check"
	batchPath = Prefix + "/check/batch"
)

// jsonContentType is the Content-Type of a check's answer; a shared,
// never modified header value, so that setting it allocates nothing.
var jsonContentType = []string{"application/json"}

// checkScratch is one request's reusable memory.
type checkScratch struct {
	body    bytes.Buffer
	limit   io.LimitedReader
	req     api.CheckRequest
	batch   api.BatchCheckRequest
	results []api.BatchResult
	out     []byte
}

var checkScratchPool = sync.Pool{New: func() any { return new(checkScratch) }}

// keepBody is the largest body buffer given back to the pool: a check's
// body is a few hundred bytes and a batch's some 150 KB, and one odd
// megabyte must not stay held.
const keepBody = 256 << 10

func getCheckScratch() *checkScratch { return checkScratchPool.Get().(*checkScratch) }

func (s *checkScratch) release() {
	if s.body.Cap() > keepBody || cap(s.out) > keepBody {
		return
	}
	s.req, s.batch = api.CheckRequest{}, api.BatchCheckRequest{}
	clear(s.results) // their errors
	checkScratchPool.Put(s)
}

// IsHot reports whether r asks one of the API's hot routes, the check
// and the batch check (POST to their exact, unescaped paths), which a
// server may hand to the API directly: a mux in front, routing by path,
// would choose the API for them (cmd/gatehouse's hotRoutes).
func IsHot(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.RawPath == "" && (r.URL.Path == checkPath || r.URL.Path == batchPath)
}

// leanRoute returns the path of a check or a batch the lean path may
// answer, as far as its line and headers tell, or "".
func leanRoute(r *http.Request) string {
	if r.Method != http.MethodPost || r.URL.RawPath != "" || r.URL.RawQuery != "" {
		return ""
	}
	if r.URL.Path != checkPath && r.URL.Path != batchPath {
		return ""
	}
	switch r.Header.Get("Accept") {
	case "", "application/json", "*/*":
	default:
		return ""
	}
	ct := r.Header.Get("Content-Type")
	if ct != "application/json" && !input.MediaType(ct, "application/json") {
		return ""
	}
	return r.URL.Path
}

// serveLean answers a request leanRoute accepted on the path route, as
// serveCheck does.
func (a *API) serveLean(route string, w http.ResponseWriter, r *http.Request, c service.Caller, s *checkScratch) bool {
	if route == batchPath {
		return a.serveBatch(w, r, c, s)
	}
	return a.serveCheck(w, r, c, s)
}

// serveBatch is serveCheck for a batch.
func (a *API) serveBatch(w http.ResponseWriter, r *http.Request, c service.Caller, s *checkScratch) bool {
	if !s.readBody(r) {
		return false
	}
	out, err := a.decideBatch(r.Context(), c, s.body.Bytes(), &s.batch, s.results)
	if err != nil {
		a.writeHandlerError(a.revisionWriter(w), err)
		return true
	}
	s.results = out.Results
	s.out = appendBatchResponse(s.out[:0], out)
	a.writeAnswer(w, out.Revision, s.out)
	return true
}

// writeAnswer writes a lean answer: 200, JSON, the revision it was
// answered at.
func (a *API) writeAnswer(w http.ResponseWriter, revision int64, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h[RevisionHeader] = a.revisionValue(revision)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// sharedRevision is the value of an X-Gatehouse-Revision header, made
// once for each revision and shared by the answers given at it. Like
// jsonContentType it is never modified: net/http copies a header's values
// when it writes the answer's head.
type sharedRevision struct {
	revision int64
	value    []string
}

// revisionValue returns the header value of revision: the one of the last
// answer when that was at the same revision, which it is between two
// writes; otherwise a new one, kept for the next answer.
func (a *API) revisionValue(revision int64) []string {
	if v := a.lastRevision.Load(); v != nil && v.revision == revision {
		return v.value
	}
	v := &sharedRevision{revision: revision, value: []string{strconv.FormatInt(revision, 10)}}
	a.lastRevision.Store(v)
	return v.value
}

// serveCheck answers the check r (leanRoute) for the caller c and
// reports true; or, when the body is empty, unreadable or too large,
// restores the body for the generic path and reports false. The scratch
// s must outlive the generic path, which reads the body from it.
func (a *API) serveCheck(w http.ResponseWriter, r *http.Request, c service.Caller, s *checkScratch) bool {
	if !s.readBody(r) {
		return false
	}
	s.req = api.CheckRequest{}
	d, err := a.decideCheck(r.Context(), c, s.body.Bytes(), &s.req)
	if err != nil {
		a.writeHandlerError(a.revisionWriter(w), err)
		return true
	}
	s.out = appendCheckResponse(s.out[:0], d)
	a.writeAnswer(w, d.Revision, s.out)
	return true
}

// readBody reads r's body into s, up to MaxBodyBytes. When the body is
// empty, over the limit or fails to read, it puts back what it read in
// front of the rest and reports false.
func (s *checkScratch) readBody(r *http.Request) bool {
	s.body.Reset()
	if r.Body == nil || r.Body == http.NoBody {
		return false
	}
	if n := r.ContentLength; n > MaxBodyBytes {
		return false // the generic path refuses it unread, as too large
	} else if n > 0 {
		s.body.Grow(int(n) + 1) // read in a few reads, as input.ReadBody does
	}
	s.limit = io.LimitedReader{R: r.Body, N: MaxBodyBytes + 1}
	_, err := s.body.ReadFrom(&s.limit)
	s.limit.R = nil
	if err == nil && s.body.Len() > 0 && s.body.Len() <= MaxBodyBytes {
		return true
	}
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(s.body.Bytes()), r.Body))
	return false
}

// appendCheckResponse appends d as the JSON of an api.CheckResponse, as
// encoding/json writes it (field order, a final newline).
func appendCheckResponse(b []byte, d service.Decision) []byte {
	b = append(b, `{"allowed":`...)
	b = strconv.AppendBool(b, d.Allowed)
	b = append(b, `,"revision":`...)
	b = strconv.AppendInt(b, d.Revision, 10)
	return append(b, "}\n"...)
}

// appendBatchResponse appends out as the JSON of an
// api.BatchCheckResponse, as huma's encoder writes it (field order, HTML
// characters unescaped, a final newline).
func appendBatchResponse(b []byte, out api.BatchCheckResponse) []byte {
	b = append(b, `{"results":[`...)
	for i, r := range out.Results {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case r.Error != nil:
			b = append(b, `{"allowed":`...)
			b = strconv.AppendBool(b, r.Allowed)
			b = append(b, `,"error":`...)
			b = appendJSON(b, r.Error)
			b = append(b, '}')
		case r.Allowed:
			b = append(b, `{"allowed":true}`...)
		default:
			b = append(b, `{"allowed":false}`...)
		}
	}
	b = append(b, `],"revision":`...)
	b = strconv.AppendInt(b, out.Revision, 10)
	return append(b, "}\n"...)
}

// appendJSON appends v's JSON without HTML escaping or the newline an
// encoder ends it with.
func appendJSON(b []byte, v any) []byte {
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(b, "null"...) // an ItemError always encodes
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// writeHandlerError writes a handler's error as huma does for an
// operation's error (huma.Register): the error's headers, its status,
// its media type for JSON (application/problem+json) and its JSON.
func (a *API) writeHandlerError(w http.ResponseWriter, err error) {
	var he huma.HeadersError
	if errors.As(err, &he) {
		for k, vs := range he.GetHeaders() {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	var se huma.StatusError
	if !errors.As(err, &se) {
		// decideCheck's errors are all problems (decodeCheck,
		// queryProblem); anything else is a bug, answered as one.
		a.log.Error("rest: check answered with an error that is not a problem", "err", err)
		se = newProblem(http.StatusInternalServerError, domain.KindOther.String(), "internal error; the server log has the details")
	}
	ct := "application/json"
	if f, ok := se.(huma.ContentTypeFilter); ok {
		ct = f.ContentType(ct)
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(se.GetStatus())
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(se)
}
