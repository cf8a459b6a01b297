package rest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// A list's next_cursor is the store's cursor (the last row's sort key)
// behind an HMAC-SHA256 tag over the request path and the query
// parameters that choose the rows and their order (all but cursor and
// limit). So a cursor only works on the list, and with the search and
// sort, that gave it; a hand-made or altered one is refused (422,
// query.cursor) before the store sees it. The key is the database's
// (service.CursorKey), so every replica on one database accepts the
// others' cursors (docs/api.md, Lists).

// cursorTagLen is how many bytes of the HMAC a cursor carries: 128 bits
// cannot be guessed.
const cursorTagLen = 16

// newCursorKey is the key of an API given none: good for one process
// (tests), not for replicas, which must share Options.CursorKey.
func newCursorKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// cursorBinding is what a cursor is bound to.
func cursorBinding(r *http.Request) string {
	q := r.URL.Query()
	q.Del("cursor")
	q.Del("limit")
	return r.URL.Path + "?" + q.Encode() // Encode sorts the keys
}

func (a *API) cursorTag(r *http.Request, inner string) []byte {
	m := hmac.New(sha256.New, a.cursorKey)
	m.Write([]byte(cursorBinding(r)))
	m.Write([]byte{0})
	m.Write([]byte(inner))
	return m.Sum(nil)[:cursorTagLen]
}

func (a *API) sealCursor(r *http.Request, inner string) string {
	if inner == "" || r == nil {
		return inner
	}
	return base64.RawURLEncoding.EncodeToString(append(a.cursorTag(r, inner), inner...))
}

// openCursor checks the request's cursor and hands the store's cursor
// inside it on to the handler in its place.
func (a *API) openCursor(r *http.Request) *Problem {
	q := r.URL.Query()
	c := q.Get("cursor")
	if c == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) <= cursorTagLen || !hmac.Equal(b[:cursorTagLen], a.cursorTag(r, string(b[cursorTagLen:]))) {
		p := invalidAt("query.cursor", "not a cursor this list returned for this query: pass next_cursor back unchanged, with the same search, sort and order")
		p.Errors[0].Value = c
		return p
	}
	q.Set("cursor", string(b[cursorTagLen:]))
	r.URL.RawQuery = q.Encode()
	return nil
}

// pageOut is a page of a list.
type pageOut[T any] struct {
	Body api.Page[T]
}

// pageOf is the answer of a list: its items as API values and the sealed
// cursor of the next page, bound to the request r that listed them.
func pageOf[T, U any](a *API, r *http.Request, p service.Page[T], conv func(T) U) *pageOut[U] {
	return &pageOut[U]{Body: api.Page[U]{Items: apiList(p.Items, conv), NextCursor: a.sealCursor(r, p.Next)}}
}

// HTTPRequest gives a handler the *http.Request it serves, for what huma's
// parameters do not carry: the binding of a list's cursor, the sign-in
// cookies. huma fills it (Resolve) when it reads the input, before the
// handler runs; it adds nothing to the OpenAPI document.
type HTTPRequest struct {
	r *http.Request
}

// Resolve takes the request from huma's context.
func (h *HTTPRequest) Resolve(ctx huma.Context) []error {
	h.r, _ = humago.Unwrap(ctx)
	return nil
}
