package rest

import (
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// A check's and a batch's bodies almost always have one shape: an object
// of the three check members (a batch: an object whose one member,
// "checks", is an array of them), each a string without escapes. The
// general decoder (decodeStrict) spent as long on a batch of 1,000 as the
// engine spent answering it, most of it reflecting over the structs and
// allocating each string. fastParser reads that shape alone, in one pass,
// the strings cut from one copy of the body; on anything else (another
// member, a repeated one, another type, an escape, a control character,
// invalid UTF-8, trailing data) it gives up and the caller hands the body
// to decodeStrict, which decodes it or answers its problem as before.
// What it accepts, decodeStrict decodes to the same request
// (FuzzFastDecodeMatchesStrict).

// fastParser reads JSON from s at i.
type fastParser struct {
	s string
	i int
}

// ws skips JSON whitespace.
func (p *fastParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// lit consumes c, after whitespace, if it comes next.
func (p *fastParser) lit(c byte) bool {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// plainByte marks the bytes that may stand in a string as themselves:
// not a quote, a backslash or a control character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < len(t); c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string without escapes or control characters, in valid
// UTF-8.
func (p *fastParser) str() (string, bool) {
	if !p.lit('"') {
		return "", false
	}
	s, i := p.s, p.i
	var high byte // the bytes' bits OR-ed: below 0x80, the string is ASCII
	for i < len(s) && plainByte[s[i]] {
		high |= s[i]
		i++
	}
	if i == len(s) || s[i] != '"' {
		return "", false
	}
	v := s[p.i:i]
	p.i = i + 1
	return v, high < utf8.RuneSelf || utf8.ValidString(v)
}

// end reports whether only whitespace is left.
func (p *fastParser) end() bool {
	p.ws()
	return p.i == len(p.s)
}

// item reads an object of the check members, each at most once.
func (p *fastParser) item() (c api.CheckItem, ok bool) {
	if !p.lit('{') {
		return c, false
	}
	if p.lit('}') {
		return c, true
	}
	var seen [3]bool
	for {
		name, ok := p.str()
		if !ok || !p.lit(':') {
			return c, false
		}
		v, ok := p.str()
		if !ok {
			return c, false
		}
		var k int
		switch name {
		case "subject":
			k, c.Subject = 0, v
		case "permission":
			k, c.Permission = 1, v
		case "resource":
			k, c.Resource = 2, v
		default:
			return c, false
		}
		if seen[k] {
			return c, false
		}
		seen[k] = true
		if p.lit('}') {
			return c, true
		}
		if !p.lit(',') {
			return c, false
		}
	}
}

// fastCheck decodes a check's body of the common shape into r, or
// reports false and leaves r as it was.
func fastCheck(raw []byte, r *api.CheckRequest) bool {
	p := fastParser{s: string(raw)}
	c, ok := p.item()
	if !ok || !p.end() {
		return false
	}
	r.Subject, r.Permission, r.Resource = c.Subject, c.Permission, c.Resource
	return true
}

// fastBatch decodes a batch's body of the common shape into r, or
// reports false and leaves r as it was.
func fastBatch(raw []byte, r *api.BatchCheckRequest) bool {
	p := fastParser{s: string(raw)}
	if !p.lit('{') {
		return false
	}
	if name, ok := p.str(); !ok || name != "checks" || !p.lit(':') || !p.lit('[') {
		return false
	}
	checks := make([]api.CheckItem, 0, min(len(raw)/64+1, MaxBatch+1))
	if !p.lit(']') {
		for {
			c, ok := p.item()
			if !ok {
				return false
			}
			checks = append(checks, c)
			if p.lit(']') {
				break
			}
			if !p.lit(',') {
				return false
			}
		}
	}
	if !p.lit('}') || !p.end() {
		return false
	}
	r.Checks = checks
	return true
}
