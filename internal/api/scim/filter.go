package scim

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The filter grammar of RFC 7644 §3.4.2.2, parsed by hand: a tokenizer and
// a recursive-descent parser with the RFC's precedence (not, then and,
// then or). The parser is strict: a compValue must be a JSON literal
// (quoted string, number, true, false, null), so an unquoted value is
// invalidFilter rather than a guess.

// Filter is a parsed filter expression.
type Filter interface{ filter() }

// AttrPath is [URI ":"] attrName ["." subAttr].
type AttrPath struct {
	URI  string // schema URI, "" when absent
	Name string
	Sub  string
}

func (p AttrPath) String() string {
	s := p.Name
	if p.URI != "" {
		s = p.URI + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// And, Or, Not, Compare, Present and ValuePath are the filter's nodes.
type (
	And     struct{ L, R Filter }
	Or      struct{ L, R Filter }
	Not     struct{ X Filter }
	Compare struct {
		Path  AttrPath
		Op    string // eq ne co sw ew gt ge lt le
		Value any    // string, float64, bool or nil
	}
	Present   struct{ Path AttrPath }
	ValuePath struct {
		Path   AttrPath
		Filter Filter // over the sub-attributes of Path's values
	}
)

func (And) filter()       {}
func (Or) filter()        {}
func (Not) filter()       {}
func (Compare) filter()   {}
func (Present) filter()   {}
func (ValuePath) filter() {}

// maxFilterLen and maxDepth bound the work one filter can ask for.
const (
	maxFilterLen = 4096
	maxDepth     = 32
)

type token struct {
	kind byte // 'w' word, 's' string, '(' ')' '[' ']', 'e' end
	text string
	pos  int
}

func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']':
			out = append(out, token{kind: c, text: string(c), pos: i})
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\\' {
					j++
					continue
				}
				if s[j] == '"' {
					break
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, fmt.Errorf("bad string at %d: %v", i, err)
			}
			out = append(out, token{kind: 's', text: v, pos: i})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()[]\"", rune(s[j])) {
				j++
			}
			out = append(out, token{kind: 'w', text: s[i:j], pos: i})
			i = j
		}
	}
	return append(out, token{kind: 'e', pos: len(s)}), nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == 'w' && strings.EqualFold(t.text, w)
}

// ParseFilter parses a SCIM filter.
func ParseFilter(s string) (Filter, error) {
	if len(s) > maxFilterLen {
		return nil, fmt.Errorf("filter longer than %d bytes", maxFilterLen)
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	f, err := p.or(false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 'e' {
		return nil, fmt.Errorf("unexpected %q at %d", t.text, t.pos)
	}
	return f, nil
}

func (p *parser) or(inValue bool) (Filter, error) {
	l, err := p.and(inValue)
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		p.next()
		r, err := p.and(inValue)
		if err != nil {
			return nil, err
		}
		l = Or{l, r}
	}
	return l, nil
}

func (p *parser) and(inValue bool) (Filter, error) {
	l, err := p.unary(inValue)
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		p.next()
		r, err := p.unary(inValue)
		if err != nil {
			return nil, err
		}
		l = And{l, r}
	}
	return l, nil
}

func (p *parser) unary(inValue bool) (Filter, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, fmt.Errorf("filter nested deeper than %d", maxDepth)
	}
	t := p.peek()
	if p.isWord("not") && p.toks[p.i+1].kind == '(' {
		p.next()
		x, err := p.group(inValue)
		if err != nil {
			return nil, err
		}
		return Not{x}, nil
	}
	if t.kind == '(' {
		return p.group(inValue)
	}
	if t.kind != 'w' {
		return nil, fmt.Errorf("expected an attribute at %d", t.pos)
	}
	p.next()
	path, err := parseAttrPath(t.text)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == '[' {
		return p.valuePath(path, inValue)
	}
	return p.comparison(path)
}

// valuePath parses attr[filter], the [ next.
func (p *parser) valuePath(path AttrPath, inValue bool) (Filter, error) {
	if inValue {
		return nil, fmt.Errorf("a value filter cannot hold another at %d", p.peek().pos)
	}
	if path.Sub != "" {
		return nil, fmt.Errorf("%s: a value filter applies to an attribute, not a sub-attribute", path)
	}
	p.next()
	inner, err := p.or(true)
	if err != nil {
		return nil, err
	}
	if c := p.next(); c.kind != ']' {
		return nil, fmt.Errorf("expected ] at %d", c.pos)
	}
	return ValuePath{Path: path, Filter: inner}, nil
}

// comparison parses "attr pr" or "attr op value", the operator next.
func (p *parser) comparison(path AttrPath) (Filter, error) {
	opTok := p.next()
	if opTok.kind != 'w' {
		return nil, fmt.Errorf("expected an operator after %s at %d", path, opTok.pos)
	}
	op := strings.ToLower(opTok.text)
	switch op {
	case "pr":
		return Present{path}, nil
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
	default:
		return nil, fmt.Errorf("unknown operator %q at %d", opTok.text, opTok.pos)
	}
	v, err := p.value(path, op)
	if err != nil {
		return nil, err
	}
	if (op == "co" || op == "sw" || op == "ew") && !isString(v) {
		return nil, fmt.Errorf("%s needs a string value", op)
	}
	if (op == "gt" || op == "ge" || op == "lt" || op == "le") && (v == nil || isBool(v)) {
		return nil, fmt.Errorf("%s needs a string or number value", op)
	}
	return Compare{Path: path, Op: op, Value: v}, nil
}

// value parses a comparison's value: a quoted string, a JSON number,
// true, false or null.
func (p *parser) value(path AttrPath, op string) (any, error) {
	vt := p.next()
	switch vt.kind {
	case 's':
		return vt.text, nil
	case 'w':
		switch strings.ToLower(vt.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		f, err := strconv.ParseFloat(vt.text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || !isJSONNumber(vt.text) {
			return nil, fmt.Errorf("value %q at %d is not a quoted string, number, true, false or null", vt.text, vt.pos)
		}
		return f, nil
	}
	return nil, fmt.Errorf("expected a value after %s %s at %d", path, op, vt.pos)
}

func isString(v any) bool { _, ok := v.(string); return ok }
func isBool(v any) bool   { _, ok := v.(bool); return ok }

func isJSONNumber(s string) bool {
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

func (p *parser) group(inValue bool) (Filter, error) {
	if t := p.next(); t.kind != '(' {
		return nil, fmt.Errorf("expected ( at %d", t.pos)
	}
	f, err := p.or(inValue)
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != ')' {
		return nil, fmt.Errorf("expected ) at %d", t.pos)
	}
	return f, nil
}

// parseAttrPath parses [URI ":"] ATTRNAME ["." subAttr]. A schema URI
// holds colons and dots ("...:core:2.0:User"), so the attribute is what
// follows its last colon.
func parseAttrPath(s string) (AttrPath, error) {
	var p AttrPath
	rest := s
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		i := strings.LastIndexByte(s, ':')
		p.URI, rest = s[:i], s[i+1:]
		if p.URI == "" || rest == "" {
			return p, fmt.Errorf("bad attribute path %q", s)
		}
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if !validName(name) || (hasSub && !validName(sub)) {
		return p, fmt.Errorf("bad attribute path %q", s)
	}
	p.Name, p.Sub = name, sub
	return p, nil
}

// validName is ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT /
// ALPHA; "$ref" is allowed too (RFC 7643 §2.4).
func validName(s string) bool {
	if s == "$ref" {
		return true
	}
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// ---- evaluation over a resource in its JSON form ----

// matcher evaluates filters over one resource type's JSON form; the schema
// says which strings compare case-exactly.
type matcher struct{ s *resourceSchema }

// Match reports whether the resource r matches f.
func (m matcher) Match(f Filter, r map[string]any) bool {
	switch f := f.(type) {
	case And:
		return m.Match(f.L, r) && m.Match(f.R, r)
	case Or:
		return m.Match(f.L, r) || m.Match(f.R, r)
	case Not:
		return !m.Match(f.X, r)
	case Present:
		for _, v := range m.values(r, f.Path) {
			if present(v) {
				return true
			}
		}
		return false
	case Compare:
		exact := m.s.caseExact(f.Path)
		vals := m.values(r, f.Path)
		if f.Op == "ne" {
			// ne holds when no value equals (absent attributes included).
			for _, v := range vals {
				if compare(v, "eq", f.Value, exact) {
					return false
				}
			}
			return true
		}
		if len(vals) == 0 && f.Op == "eq" && f.Value == nil {
			return true
		}
		for _, v := range vals {
			if compare(v, f.Op, f.Value, exact) {
				return true
			}
		}
		return false
	case ValuePath:
		parent := AttrPath{URI: f.Path.URI, Name: f.Path.Name}
		sub := m.withParent(parent)
		for _, v := range m.raw(r, parent) {
			for _, el := range asList(v) {
				if obj, ok := el.(map[string]any); ok && sub.Match(f.Filter, obj) {
					return true
				}
			}
		}
		return false
	}
	return false
}

// withParent returns a matcher for the sub-attributes of a complex
// attribute: a path "type" inside emails[...] is emails.type.
func (m matcher) withParent(parent AttrPath) matcher {
	return matcher{s: m.s.sub(parent)}
}

func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// raw returns the value of the top-level attribute of path (inside its
// extension object when the URI names one), or nothing.
func (m matcher) raw(r map[string]any, path AttrPath) []any {
	obj := r
	if path.URI != "" && !strings.EqualFold(path.URI, m.s.core) {
		ext, ok := getCI(r, path.URI).(map[string]any)
		if !ok {
			return nil
		}
		obj = ext
	}
	v := getCI(obj, path.Name)
	if v == nil {
		return nil
	}
	return []any{v}
}

// values returns the simple values path names: for a multi-valued or
// complex attribute without a sub-attribute, its "value" sub-attribute
// (so emails co "x" looks at the addresses, RFC 7644 §3.4.2.2).
func (m matcher) values(r map[string]any, path AttrPath) []any {
	var out []any
	for _, v := range m.raw(r, path) {
		for _, el := range asList(v) {
			obj, isObj := el.(map[string]any)
			switch {
			case path.Sub != "" && isObj:
				if sv := getCI(obj, path.Sub); sv != nil {
					out = append(out, asList(sv)...)
				}
			case path.Sub != "":
			case isObj:
				if sv := getCI(obj, "value"); sv != nil {
					out = append(out, sv)
				}
			default:
				out = append(out, el)
			}
		}
	}
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// getCI looks a key up case-insensitively: attribute names are
// case-insensitive (RFC 7643 §2.1).
func getCI(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func compare(have any, op string, want any, exact bool) bool {
	switch w := want.(type) {
	case nil:
		return op == "eq" && have == nil
	case bool:
		h, ok := have.(bool)
		return ok && op == "eq" && h == w
	case float64:
		var h float64
		switch x := have.(type) {
		case float64:
			h = x
		case int64:
			h = float64(x)
		case int:
			h = float64(x)
		default:
			return false
		}
		return ordered(cmpFloat(h, w), op)
	case string:
		h, ok := have.(string)
		if !ok {
			return false
		}
		// dateTime values compare as instants (meta.created gt "...").
		if ht, err := time.Parse(time.RFC3339Nano, h); err == nil {
			if wt, err := time.Parse(time.RFC3339Nano, w); err == nil {
				return ordered(ht.Compare(wt), op)
			}
		}
		if !exact {
			h, w = strings.ToLower(h), strings.ToLower(w)
		}
		switch op {
		case "co":
			return strings.Contains(h, w)
		case "sw":
			return strings.HasPrefix(h, w)
		case "ew":
			return strings.HasSuffix(h, w)
		}
		return ordered(strings.Compare(h, w), op)
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func ordered(c int, op string) bool {
	switch op {
	case "eq":
		return c == 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}
