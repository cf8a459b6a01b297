// Package input checks request bodies at the edge, once, for every
// transport (REST, SCIM and the console), before any of them decodes a
// value: the body's size, its media type, that JSON is well-formed UTF-8
// with no repeated property names, and that form values are UTF-8.
//
// encoding/json (which huma and the SCIM handler decode with) replaces
// invalid UTF-8 and lone surrogate escapes with U+FFFD and keeps the last
// of two equal names, so a body it accepts may not mean what the client
// sent; the checks here refuse such bodies instead (docs/security.md).
// The scanner is the RFC 8259 tokenizer of github.com/go-json-experiment/json
// (jsontext), which validates UTF-8 and escapes strictly.
package input

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits shared by every transport.
const (
	// MaxBodyBytes is the largest request body accepted (413 beyond).
	MaxBodyBytes = 1 << 20
	// MaxDepth is how deeply JSON arrays and objects may nest.
	MaxDepth = 64
)

// Names says how property names compare when looking for repeated ones.
type Names int

const (
	// ExactNames: names are compared byte for byte (REST: {"name"} and
	// {"NAME"} are different properties, the second unknown).
	ExactNames Names = iota
	// FoldedNames: names are compared case-insensitively, as SCIM's
	// attribute names are (RFC 7643 §2.1), so {"userName", "USERNAME"}
	// is a repetition.
	FoldedNames
)

// Error is a refused body. Location is where, as a path below the body
// ("members[3].user_id", "" for the body itself); Malformed says the body
// is not JSON at all (RFC 8259: text, escapes or UTF-8), otherwise it is
// JSON that this server refuses (a repeated name).
type Error struct {
	Location  string
	Message   string
	Malformed bool
}

func (e *Error) Error() string {
	if e.Location == "" {
		return e.Message
	}
	return e.Location + ": " + e.Message
}

// ErrTooLarge is returned by ReadBody for a body over its limit.
var ErrTooLarge = errors.New("the body is larger than 1 MiB")

// ReadBody reads at most limit bytes of r; more is ErrTooLarge. size is
// the length the request announced (http.Request.ContentLength, -1 when
// unknown): a body read into a buffer of that size arrives in a few
// large reads of the connection rather than one per 4 KB of its buffer,
// and is not copied as the buffer grows (issue 18: a batch of a thousand
// checks is some 120 KB).
func ReadBody(r io.Reader, size, limit int64) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	if size > limit {
		return nil, ErrTooLarge
	}
	var raw []byte
	if size > 0 {
		// One byte more than announced, to see a body that goes on: net/http
		// stops at the announced length, another reader may not.
		raw = make([]byte, 0, size+1)
	}
	raw, err := readAll(io.LimitReader(r, limit+1), raw)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, ErrTooLarge
		}
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, ErrTooLarge
	}
	return raw, nil
}

// readAll is io.ReadAll appending to b, so that a buffer of the right
// size is filled in place.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	if cap(b) == 0 {
		return io.ReadAll(r)
	}
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // longer than announced: let append grow it
		}
	}
}

// MediaType reports whether a Content-Type header names one of the
// allowed media types (compared case-insensitively) with, if any, a UTF-8
// charset. An absent or malformed header is not allowed.
func MediaType(header string, allowed ...string) bool {
	mt, params, err := mime.ParseMediaType(header)
	if err != nil {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	for _, a := range allowed {
		if mt == a {
			return true
		}
	}
	return false
}

// CheckForm refuses form names and values that are not UTF-8: browsers
// send UTF-8 for the console's pages, so anything else is a hand-made
// request, refused rather than stored with replacement characters.
func CheckForm(v url.Values) *Error {
	for k, vs := range v {
		if !utf8.ValidString(k) {
			return &Error{Message: "a form field name is not valid UTF-8", Malformed: true}
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return &Error{Location: k, Message: "not valid UTF-8 text", Malformed: true}
			}
		}
	}
	return nil
}
