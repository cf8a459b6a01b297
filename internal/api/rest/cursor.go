package rest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"github.com/gatehouse/gatehouse/internal/service"
	"net/http"
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

type apiKey struct{}

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

// pageOf is the answer of a list: its items and the sealed cursor of the
// next page.
func pageOf[T any](ctx context.Context, p service.Page[T]) *pageOut[T] {
	items := p.Items
	if items == nil {
		items = []T{}
	}
	next := p.Next
	if a, _ := ctx.Value(apiKey{}).(*API); a != nil {
		next = a.sealCursor(request(ctx), next)
	}
	return &pageOut[T]{Body: Page[T]{Items: items, NextCursor: next}}
}
