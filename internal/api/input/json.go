package input

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// fewNames is how many names an object's frame compares by scanning a
// slice before it switches to a map: most objects are small, and a
// hostile one with many names must not cost quadratic time.
const fewNames = 16

// frame is one open array or object while scanning.
type frame struct {
	array    bool
	index    int    // array: the element being read (-1 before the first)
	name     string // object: the name whose value is being read
	wantName bool   // object: the next string is a name
	few      []string
	many     map[string]struct{}
}

// seen records key in the object and reports whether it was there.
func (f *frame) seen(key string) bool {
	if f.many != nil {
		if _, ok := f.many[key]; ok {
			return true
		}
		f.many[key] = struct{}{}
		return false
	}
	for _, k := range f.few {
		if k == key {
			return true
		}
	}
	f.few = append(f.few, key)
	if len(f.few) > fewNames {
		f.many = make(map[string]struct{}, 2*fewNames)
		for _, k := range f.few {
			f.many[k] = struct{}{}
		}
		f.few = nil
	}
	return false
}

// scanner walks a JSON text token by token, keeping the path to the
// value being read so that a refusal can name it.
type scanner struct {
	dec   *jsontext.Decoder
	names Names
	stack []*frame
	done  bool // the top-level value ended: only the end may follow
}

// CheckJSON checks raw is exactly one JSON value, in UTF-8 with valid
// escapes (no lone surrogates), nested at most MaxDepth deep, whose
// objects never repeat a name (compared as names says). An empty body is
// left to the caller (a required body is its own error).
func CheckJSON(raw []byte, names Names) *Error {
	if len(raw) == 0 {
		return nil
	}
	s := &scanner{names: names, dec: jsontext.NewDecoder(bytes.NewReader(raw),
		// Repetitions are found here, with the caller's comparison.
		jsontext.AllowDuplicateNames(true),
		jsontext.AllowInvalidUTF8(false))}
	for {
		tok, err := s.dec.ReadToken()
		if err == io.EOF && !s.done {
			return &Error{Message: "the body holds no JSON value", Malformed: true}
		}
		if err == io.EOF {
			return nil
		}
		if s.done {
			return &Error{Message: "the body holds more than one JSON value", Malformed: true}
		}
		if err != nil {
			return s.syntax(err)
		}
		if e := s.step(tok); e != nil {
			return e
		}
	}
}

// step takes one token in.
func (s *scanner) step(tok jsontext.Token) *Error {
	top := s.top()
	switch k := tok.Kind(); {
	case k == ']' || k == '}':
		s.stack = s.stack[:len(s.stack)-1]
		s.valueDone()
		return nil
	case top != nil && top.array:
		top.index++
	case top != nil && top.wantName:
		return s.name(top, tok.String())
	}
	if k := tok.Kind(); (k == '[' || k == '{') && len(s.stack) >= MaxDepth {
		return &Error{Location: s.path(false), Message: "arrays and objects nest more than " + strconv.Itoa(MaxDepth) + " deep", Malformed: true}
	}
	switch tok.Kind() {
	case '[':
		s.stack = append(s.stack, &frame{array: true, index: -1})
	case '{':
		s.stack = append(s.stack, &frame{wantName: true})
	default:
		s.valueDone()
	}
	return nil
}

func (s *scanner) name(top *frame, name string) *Error {
	key := name
	if s.names == FoldedNames {
		key = strings.ToLower(name)
	}
	top.name, top.wantName = name, false
	if top.seen(key) {
		msg := "the property is repeated; send each property once"
		if key != name || s.names == FoldedNames {
			msg = "the property is repeated (names are case-insensitive); send each property once"
		}
		return &Error{Location: s.path(false), Message: msg}
	}
	return nil
}

// valueDone notes that the value of the current object member ended.
func (s *scanner) valueDone() {
	top := s.top()
	if top == nil {
		s.done = true
	} else if !top.array {
		top.wantName = true
	}
}

func (s *scanner) top() *frame {
	if len(s.stack) == 0 {
		return nil
	}
	return s.stack[len(s.stack)-1]
}

// syntax turns the tokenizer's error into an Error at the value it was
// reading: the next element of an array, the value of the current name,
// or the object itself when a name was expected.
func (s *scanner) syntax(err error) *Error {
	msg := err.Error()
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		msg = se.Err.Error()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "the body ends in the middle of a JSON value"
	}
	msg = strings.TrimPrefix(msg, "jsontext: ")
	if strings.Contains(msg, "UTF-8") || strings.Contains(msg, "surrogate") {
		// The tokenizer's message quotes the bad bytes: not echoed.
		msg = "not valid UTF-8 text: invalid bytes, an overlong form or a lone surrogate escape such as \\ud800"
	} else {
		msg = "the body is not valid JSON: " + msg
	}
	return &Error{Location: s.path(true), Message: msg, Malformed: true}
}

// path is the location being read, as "members[3].user_id". pending
// means a token failed to read: in an array that is the next element.
func (s *scanner) path(pending bool) string {
	var b strings.Builder
	for i, f := range s.stack {
		last := i == len(s.stack)-1
		switch {
		case f.array:
			n := f.index
			if last && pending {
				n++
			}
			b.WriteString("[" + strconv.Itoa(max(n, 0)) + "]")
		case !f.wantName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.name)
		}
	}
	return b.String()
}
