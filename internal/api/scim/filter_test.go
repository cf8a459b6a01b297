package scim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// format prints a filter back in the RFC grammar, fully parenthesized, so
// that parsing it again must give the same tree.
func format(f Filter) string {
	switch f := f.(type) {
	case And:
		return "(" + format(f.L) + " and " + format(f.R) + ")"
	case Or:
		return "(" + format(f.L) + " or " + format(f.R) + ")"
	case Not:
		return "not (" + format(f.X) + ")"
	case Present:
		return f.Path.String() + " pr"
	case Compare:
		var v string
		switch x := f.Value.(type) {
		case nil:
			v = "null"
		case bool:
			v = strconv.FormatBool(x)
		case float64:
			v = strconv.FormatFloat(x, 'g', -1, 64)
		case string:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		return f.Path.String() + " " + f.Op + " " + v
	case ValuePath:
		return f.Path.String() + "[" + format(f.Filter) + "]"
	}
	return fmt.Sprintf("?%T", f)
}

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`userName eq "bjensen"`, `userName eq "bjensen"`},
		{`name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
		{`userName sw "J"`, `userName sw "J"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
		{`title pr`, `title pr`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{`title pr and userType eq "Employee"`, `(title pr and userType eq "Employee")`},
		{`title pr or userType eq "Intern"`, `(title pr or userType eq "Intern")`},
		// and binds tighter than or (RFC 7644 §3.4.2.2, Table 4).
		{`a eq 1 or b eq 2 and c eq 3`, `(a eq 1 or (b eq 2 and c eq 3))`},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, `(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))`},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, `(userType ne "Employee" and not ((emails co "example.com" or emails.value co "example.org")))`},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, `(userType eq "Employee" and emails[(type eq "work" and value co "@example.com")])`},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, `(emails[(type eq "work" and value co "@example.com")] or ims[(type eq "xmpp" and value co "@foo.com")])`},
		{`active eq true`, `active eq true`},
		{`x eq null`, `x eq null`},
		{`x ge -1.5e3`, `x ge -1500`},
		{`USERNAME EQ "a" AND NOT (Active Eq False)`, `(USERNAME eq "a" and not (Active eq false))`},
		{`members[value eq "a\"b"]`, `members[value eq "a\"b"]`},
		{`$ref eq "x"`, `$ref eq "x"`},
	} {
		f, err := ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.in, err)
			continue
		}
		if got := format(f); got != tc.want {
			t.Errorf("ParseFilter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	for _, in := range []string{
		``, `userName`, `userName eq`, `userName eq bjensen`, `userName zz "a"`, `(userName eq "a"`,
		`userName eq "a")`, `userName eq "a" and`, `emails[type eq "work"`, `emails[type eq "work"]]`,
		`emails[type eq "a"].value eq "x"`, `emails[x[y eq "a"]]`, `1abc eq "a"`, `a.b.c eq "a"`,
		`a co 1`, `a gt true`, `a lt null`, `not a eq "b"`, `a eq "unterminated`, `a eq 1e999`, `a eq 01`,
		`emails.type[value eq "a"]`, `urn:x: eq "a"`,
	} {
		if f, err := ParseFilter(in); err == nil {
			t.Errorf("ParseFilter(%q) = %s, want an error", in, format(f))
		}
	}
}

func TestMatch(t *testing.T) {
	var res map[string]any
	if err := json.Unmarshal([]byte(`{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"id": "2819c223-7f76-453a-919d-413861904646", "userName": "BJensen", "displayName": "Babs Jensen",
		"active": true, "externalId": "Ext-1",
		"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
		"meta": {"created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z", "resourceType": "User"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"}
	}`), &res); err != nil {
		t.Fatal(err)
	}
	m := matcher{s: userSchema}
	for _, tc := range []struct {
		f    string
		want bool
	}{
		{`userName eq "bjensen"`, true},                         // userName is caseExact false
		{`USERNAME eq "BJENSEN"`, true},                         // attribute names are case-insensitive
		{`id eq "2819C223-7F76-453A-919D-413861904646"`, false}, // id is caseExact
		{`externalId eq "ext-1"`, false},                        // externalId is caseExact
		{`externalId eq "Ext-1"`, true},
		{`userName ne "bjensen"`, false},
		{`displayName co "bs je"`, true},
		{`displayName sw "babs"`, true},
		{`displayName ew "JENSEN"`, true},
		{`userName gt "A"`, true},
		{`userName lt "A"`, false},
		{`userName ge "bjensen"`, true},
		{`userName le "bjensen"`, true},
		{`title pr`, false},
		{`emails pr`, true},
		{`title ne "x"`, true},
		{`emails co "jensen.org"`, true},
		{`emails.value ew "example.com"`, true},
		{`emails[type eq "work" and value co "@example.com"]`, true},
		{`emails[type eq "home" and value co "@example.com"]`, false},
		{`emails[not (type eq "work")]`, true},
		{`emails.type eq "HOME"`, true},
		{`active eq true`, true},
		{`active eq false`, false},
		{`meta.created gt "2010-01-01T00:00:00Z"`, true},
		{`meta.created lt "2010-01-23T05:56:22+01:00"`, false}, // the same instant
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true},
		{`title pr or userName eq "bjensen"`, true},
		{`title pr and userName eq "bjensen"`, false},
		{`not (title pr)`, true},
		{`title eq null`, true},
		{`nosuch eq 3`, false},
	} {
		f, err := ParseFilter(tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.f, err)
		}
		if got := m.Match(f, res); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.f, got, tc.want)
		}
	}
}

// TestMatchStringOperatorsAreAnchored: sw matches at the start only, ew
// at the end only, co anywhere (RFC 7644 §3.4.2.2). Each value below is
// contained in the attribute but not where the operator anchors it, so
// an sw or ew that behaved like co would match.
func TestMatchStringOperatorsAreAnchored(t *testing.T) {
	res := map[string]any{
		"userName": "bjensen", "displayName": "Babs Jensen", "externalId": "Ext-1",
		"emails": []any{map[string]any{"value": "bjensen@example.com"}},
	}
	wantMatches(t, res, []matchCase{
		{`displayName sw "jensen"`, false}, // inside, not at the start
		{`displayName sw "BABS"`, true},    // caseExact false
		{`displayName ew "babs"`, false},   // inside, not at the end
		{`displayName ew "s jensen"`, true},
		{`displayName co "s j"`, true},
		{`displayName co "jensens"`, false},
		{`userName sw "jensen"`, false},
		{`userName ew "bjen"`, false},
		{`emails.value sw "example.com"`, false},
		{`emails.value ew "bjensen"`, false},
		{`emails.value sw "bjensen@"`, true},
		{`externalId sw "ext"`, false}, // caseExact: the case counts
		{`externalId sw "Ext"`, true},
		{`externalId ew "T-1"`, false},
		{`externalId ew "t-1"`, true},
		{`externalId co "XT"`, false},
		{`externalId co "xt"`, true},
	})
}

// matchCase is a filter and whether a resource matches it.
type matchCase struct {
	f    string
	want bool
}

// wantMatches parses each case's filter and checks the user resource res
// against it.
func wantMatches(t *testing.T, res map[string]any, cases []matchCase) {
	t.Helper()
	m := matcher{s: userSchema}
	for _, tc := range cases {
		f, err := ParseFilter(tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.f, err)
		}
		if got := m.Match(f, res); got != tc.want {
			t.Errorf("%s on %v = %v, want %v", tc.f, res, got, tc.want)
		}
	}
}

// TestMatchOrderingBoundaries: gt and lt are strict and ge and le are
// not, for strings, numbers (a resource's JSON numbers and the Go
// integers the server's own forms hold) and instants; pr is false for an
// empty string, list or object; eq null matches an explicit null as well
// as an absent attribute, and ne null neither.
func TestMatchOrderingBoundaries(t *testing.T) {
	res := map[string]any{
		"userName": "bjensen", "n": 5.0, "i64": int64(5), "i": 5,
		"title": "", "emails": []any{}, "name": map[string]any{"givenName": map[string]any{}, "middleName": []any{[]any{}}},
		"ims": []any{[]any{}}, "roles": []any{[]any{"x"}}, "x509Certificates": []any{map[string]any{"display": map[string]any{"k": 1}}},
		"nick": []any{nil}, "meta": map[string]any{"created": "2010-01-23T04:56:22Z"},
	}
	wantMatches(t, res, []matchCase{
		{`userName gt "bjensen"`, false},
		{`userName lt "bjensen"`, false},
		{`userName ge "bjensen"`, true},
		{`userName le "bjensen"`, true},
		{`userName gt "bjensem"`, true},
		{`userName lt "bjenseo"`, true},
		{`userName ge "bjenseo"`, false},
		{`userName le "bjensem"`, false},
		{`meta.created gt "2010-01-23T04:56:22Z"`, false},
		{`meta.created lt "2010-01-23T04:56:22Z"`, false},
		{`meta.created ge "2010-01-23T04:56:22Z"`, true},
		{`meta.created le "2010-01-23T04:56:22Z"`, true},
		{`meta.created gt "2010-01-23T04:56:21Z"`, true},
		{`meta.created lt "2010-01-23T04:56:21Z"`, false},
	})
	var numbers []matchCase
	for _, attr := range []string{"n", "i64", "i"} {
		for _, tc := range []matchCase{
			{"eq 5", true}, {"eq 4", false}, {"eq 6", false}, {"ne 5", false}, {"ne 4", true},
			{"gt 5", false}, {"gt 4.5", true}, {"gt 6", false},
			{"lt 5", false}, {"lt 5.5", true}, {"lt 4", false},
			{"ge 5", true}, {"ge 6", false}, {"ge -5", true},
			{"le 5", true}, {"le 4", false}, {"le 1e1", true},
			{`eq "5"`, false}, {"eq true", false},
		} {
			numbers = append(numbers, matchCase{attr + " " + tc.f, tc.want})
		}
	}
	wantMatches(t, res, numbers)
	wantMatches(t, res, []matchCase{
		{`title pr`, false}, // ""
		{`emails pr`, false},
		{`name pr`, false},
		{`nick pr`, false},
		// present looks at what values hands it: an empty object or list
		// nested where a simple value was expected is not a value.
		{`name.givenName pr`, false},
		{`name.middleName pr`, false},
		{`ims pr`, false},
		{`roles pr`, true},
		{`x509Certificates.display pr`, true},
		{`n pr`, true},
		{`nick eq null`, true}, // an explicit null
		{`nick ne null`, false},
		{`nick eq "x"`, false},
		{`title eq null`, false}, // "" is a value, not null
		{`title eq ""`, true},
		{`userName eq null`, false},
		{`userName ne null`, true},
	})
}

// TestParseFilterLimits: the length and nesting limits are exact (a
// filter at the limit parses, one past it is refused naming the limit),
// and nesting counts depth, not the number of terms side by side.
func TestParseFilterLimits(t *testing.T) {
	long := `userName eq "` + strings.Repeat("x", maxFilterLen-len(`userName eq ""`)) + `"`
	nested := func(k int) string { return strings.Repeat("(", k) + `a eq 1` + strings.Repeat(")", k) }
	wide := strings.Repeat(`a eq 1 and `, 4*maxDepth) + `a eq 1`
	for _, c := range []struct {
		name, in, refusal string
	}{
		{"at the length limit", long, ""},
		{"past the length limit", long + " ", "longer than 4096"},
		{"at the nesting limit", nested(maxDepth - 1), ""},
		{"past the nesting limit", nested(maxDepth), "nested deeper than 32"},
		{"far past the nesting limit", nested(3 * maxDepth), "nested deeper than 32"},
		{"many terms side by side", wide, ""},
	} {
		_, err := ParseFilter(c.in)
		switch {
		case c.refusal == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.refusal != "" && (err == nil || !strings.Contains(err.Error(), c.refusal)):
			t.Errorf("%s: err = %v, want it to say %q", c.name, err, c.refusal)
		}
	}
}

// TestParseFilterAttributeNameCharacters: an attribute name is a letter
// then letters, digits, - and _ (RFC 7643 §2.1), every end of each range
// included.
func TestParseFilterAttributeNameCharacters(t *testing.T) {
	for _, name := range []string{"a", "z", "A", "Z", "a0", "a9", "aZ", "zA", "a-b_c", "x5y"} {
		if _, err := ParseFilter(name + ` eq 1`); err != nil {
			t.Errorf("attribute %q: %v", name, err)
		}
	}
	for _, name := range []string{"0a", "a{", "a@", "a`"} {
		if f, err := ParseFilter(name + ` eq 1`); err == nil {
			t.Errorf("attribute %q parsed as %s, want an error", name, format(f))
		}
	}
}

func TestParsePatchPath(t *testing.T) {
	for _, tc := range []struct {
		in        string
		name, sub string
		filter    bool
		fsub      string
	}{
		{"members", "members", "", false, ""},
		{"name.familyName", "name", "familyName", false, ""},
		{`members[value eq "2819c223"]`, "members", "", true, ""},
		{`emails[type eq "work"].value`, "emails", "", true, "value"},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName`, "userName", "", false, ""},
	} {
		p, e := parsePatchPath(tc.in)
		if e != nil {
			t.Errorf("%s: %v", tc.in, e)
			continue
		}
		if p.attr.Name != tc.name || p.attr.Sub != tc.sub || (p.filter != nil) != tc.filter || p.sub != tc.fsub {
			t.Errorf("%s = %+v", tc.in, p)
		}
	}
	for _, in := range []string{"", "emails[", `emails[type eq]`, `emails[type eq "w"]x`, `name.a.b`, `emails.type[value eq "a"]`} {
		if _, e := parsePatchPath(in); e == nil || e.ScimType != "invalidPath" {
			t.Errorf("%q: %v, want invalidPath", in, e)
		}
	}
}

// FuzzParseFilter: the parser never panics, an accepted filter prints
// back to one that parses to the same tree, and matching it never panics.
// The seed corpus is in testdata/fuzz/FuzzParseFilter.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`, `emails[type eq "work" and value co "@example.com"]`,
		`not (a pr) or b eq 1 and c ne null`, `meta.created gt "2011-05-13T04:42:34Z"`,
	} {
		f.Add(s)
	}
	var res map[string]any
	_ = json.Unmarshal([]byte(`{"userName": "b", "emails": [{"value": "x@y.z", "type": "work"}], "active": true, "n": 3,
		"meta": {"created": "2011-05-13T04:42:34Z"}}`), &res)
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFilter(s)
		if err != nil {
			return
		}
		out := format(fl)
		again, err := ParseFilter(out)
		if err != nil {
			t.Fatalf("%q parsed, but its print %q does not: %v", s, out, err)
		}
		if !reflect.DeepEqual(fl, again) {
			t.Fatalf("%q: print %q parses to a different tree", s, out)
		}
		matcher{s: userSchema}.Match(fl, res)
	})
}
