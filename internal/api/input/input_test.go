package input_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/api/input"
)

func TestCheckJSON(t *testing.T) {
	cases := []struct {
		body      string
		names     input.Names
		location  string // "-": accepted
		malformed bool
	}{
		{`{"name": "x", "members": [{"user_id": "a"}, {"user_id": "b"}]}`, input.ExactNames, "-", false},
		{`{"name": "x", "NAME": "y"}`, input.ExactNames, "-", false},
		{`[1, "two", null, true, {"a": {}}]`, input.ExactNames, "-", false},
		{`"\ud83d\ude00 ok"`, input.ExactNames, "-", false},
		{`{"user_id": "A", "user_id": "B"}`, input.ExactNames, "user_id", false},
		{`{"members": [{"user_id": "a"}, {"user_id": "a", "user_id": "b"}]}`, input.ExactNames, "members[1].user_id", false},
		{`{"userName": "a", "USERNAME": "b"}`, input.FoldedNames, "USERNAME", false},
		{`{"a": {"b": 1}, "c": {"b": 2}}`, input.FoldedNames, "-", false},
		{"{\"name\": \"bad\xff\xfe\"}", input.ExactNames, "name", true},
		{"{\"name\": \"over\xc0\xaflong\"}", input.ExactNames, "name", true},
		{`{"name": "lone \ud800"}`, input.ExactNames, "name", true},
		{`{"list": ["ok", "lone \udc00"]}`, input.ExactNames, "list[1]", true},
		{"{\"n\xffame\": 1}", input.ExactNames, "", true},
		{`{"a": 1} {"b": 2}`, input.ExactNames, "", true},
		{`{"a": 1} x`, input.ExactNames, "", true},
		{`{"a": `, input.ExactNames, "a", true},
		{strings.Repeat("[", input.MaxDepth+1) + strings.Repeat("]", input.MaxDepth+1), input.ExactNames, "", true},
	}
	for _, c := range cases {
		err := input.CheckJSON([]byte(c.body), c.names)
		switch {
		case c.location == "-" && err != nil:
			t.Errorf("CheckJSON(%q) = %v, want accepted", c.body, err)
		case c.location == "-":
		case err == nil:
			t.Errorf("CheckJSON(%q) accepted, want refused at %q", c.body, c.location)
		case c.location != "" && err.Location != c.location || err.Malformed != c.malformed:
			t.Errorf("CheckJSON(%q) = %+v, want location %q, malformed %v", c.body, err, c.location, c.malformed)
		}
	}
}

func TestCheckForm(t *testing.T) {
	if err := input.CheckForm(url.Values{"name": {"Zoë"}}); err != nil {
		t.Errorf("CheckForm(UTF-8) = %v", err)
	}
	if err := input.CheckForm(url.Values{"name": {"ok", "bad\xff"}}); err == nil || err.Location != "name" {
		t.Errorf("CheckForm(invalid UTF-8) = %v, want refused at name", err)
	}
}

func TestMediaType(t *testing.T) {
	for h, want := range map[string]bool{
		"application/json": true, "Application/JSON; charset=utf-8": true,
		"": false, "application/json; charset=latin1": false, "application/json-patch+json": false,
		"text/plain": false, "application/x-www-form-urlencoded": false,
	} {
		if got := input.MediaType(h, "application/json"); got != want {
			t.Errorf("MediaType(%q) = %v, want %v", h, got, want)
		}
	}
}

// FuzzCheckJSON: whatever the bytes, the check never panics; what it
// accepts is one JSON value (encoding/json agrees) in UTF-8; what it
// accepts with case-insensitive names it accepts with exact ones; a
// refusal says where and why. The seed corpus is in
// testdata/fuzz/FuzzCheckJSON.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a": 1, "A": 2}`, `{"a": [1, {"b": "\ud800"}]}`, "\"\xff\"", `[[[]]]`, `{"a":1,"a":2}`, `1 2`,
		"{\"n\": \"\xc0\xaf\"}", `{"x": "\ud83d\ude00"}`, `{"members": [{"user_id": "a", "USER_ID": "b"}]}`} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, folded bool) {
		names := input.ExactNames
		if folded {
			names = input.FoldedNames
		}
		err := input.CheckJSON(b, names)
		switch {
		case err != nil && err.Message == "":
			t.Errorf("CheckJSON(%q) refused without a reason", b)
		case err != nil || len(b) == 0:
		case !utf8.Valid(b):
			t.Errorf("CheckJSON accepted invalid UTF-8 %q", b)
		case !json.Valid(b):
			t.Errorf("CheckJSON accepted %q, which encoding/json says is not JSON", b)
		}
		if err == nil && folded && input.CheckJSON(b, input.ExactNames) != nil {
			t.Errorf("CheckJSON(%q) accepts with folded names but not with exact ones", b)
		}
	})
}

// countingReader counts the reads asked of it.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

// TestReadBodyBySize: a body is read whole whatever length was announced
// (exact, unknown, shorter or longer than the body), a body or an
// announced length over the limit is ErrTooLarge, and a body of the
// announced length is read into one buffer of its size.
func TestReadBodyBySize(t *testing.T) {
	const limit = 100 << 10
	body := bytes.Repeat([]byte("0123456789"), 12<<10/10)
	for _, c := range []struct {
		name    string
		body    []byte
		size    int64
		tooLong bool
	}{
		{"announced", body, int64(len(body)), false},
		{"unknown length", body, -1, false},
		{"announced shorter than the body", body, 10, false},
		{"announced longer than the body", body, int64(len(body)) + 50, false},
		{"empty", nil, 0, false},
		{"exactly the limit, announced", make([]byte, limit), limit, false},
		{"exactly the limit, unknown length", make([]byte, limit), -1, false},
		{"over the limit, announced", make([]byte, limit+1), limit + 1, true},
		{"over the limit, unknown length", make([]byte, limit+1), -1, true},
		{"announced over the limit", body, limit + 1, true},
	} {
		r := &countingReader{r: bytes.NewReader(c.body)}
		got, err := input.ReadBody(r, c.size, limit)
		if c.tooLong {
			if !errors.Is(err, input.ErrTooLarge) {
				t.Errorf("%s: %v, want ErrTooLarge", c.name, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, c.body) {
			t.Errorf("%s: %d bytes, %v; want the %d bytes of the body", c.name, len(got), err, len(c.body))
		}
	}
	r := &countingReader{r: bytes.NewReader(body)}
	if _, err := input.ReadBody(r, int64(len(body)), limit); err != nil || r.reads > 2 {
		t.Errorf("a body of its announced length took %d reads (%v), want the body's and the end's", r.reads, err)
	}
}
