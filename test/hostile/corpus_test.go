package hostile

import (
	"fmt"
	"strings"
)

// The corpus: hostile values, shared by the REST, SCIM and console runs.
// Path values are raw (already percent-encoded, sent as they are); the
// others are sent encoded as their transport needs.

// hostileIDs are path segments put where an id goes.
func hostileIDs() []string {
	ids := []string{
		"..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "%2e%2e%2f%2e%2e%2fapi", "a%2Fb", "..%5C..%5Cwindows",
		"%00", "a%00b", "%ff%fe", "%C0%AE%C0%AE", "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		"'%20OR%20'1'%3D'1", "1%3B%20DROP%20TABLE%20users%3B--", "%E2%80%AE", "%20",
		strings.Repeat("a", 4000), "user:x", "folder:..",
	}
	if *long {
		ids = append(ids, strings.Repeat("%2e%2e%2f", 500), strings.Repeat("%ff", 2000), "%25", "%%", "null", "-1", "0",
			"99999999999999999999999", strings.Repeat("x", 20000))
	}
	return ids
}

// hostileQueryValues are put in query parameters (url.QueryEscape'd).
func hostileQueryValues() []string {
	v := []string{
		"-1", "0", "1001", "99999999999999999999", "abc", "1e309", "NaN", "", " ", "\xff\xfe", "\x00",
		"' OR '1'='1' --", "<script>alert(1)</script>", "../../etc/passwd", strings.Repeat("z", 5000),
		"user:", "folder:", "system:x", "domain:", "nope.permission", "true", "[]", "{}",
	}
	if *long {
		v = append(v, strings.Repeat("\xff", 3000), "-9223372036854775808", "9223372036854775807", "0x10", "1.5",
			"%", "%zz", "Robert'); DROP TABLE groups;--", strings.Repeat("(", 5000))
	}
	return v
}

// hostileCursors go where a next_cursor does.
var hostileCursors = []string{
	"garbage", "e30", "eyJ9", "eyJhIjoxfQ", "!!!!", strings.Repeat("A", 1000), "eyJrIjoiJyBPUiAxPTEgLS0iLCJpZCI6IngifQ",
}

// hostileStrings go in string fields of JSON bodies and forms.
func hostileStrings() []string {
	v := []string{
		"' OR 1=1 --", "Robert'); DROP TABLE users;--", `<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`,
		"../../etc/passwd", "\x00", "\u202e", "a\nb", strings.Repeat("x", 20000), "nope.permission",
		"folder:../../x", "user:", "{{.}}", "${jndi:ldap://x}",
		// Identifiers and passwords (issue 15, test/hostile/identifiers_test.go):
		// look-alikes, invisible and direction-changing characters, a
		// built-in group's name, passwords the policy refuses.
		"\u0430dmin", "ａｄｍｉｎ", "AIice", "ad\u200bmin", "ad\u200dmin", "\u202eadmin", "admin\u2066", "admin\ufe0f",
		"Sta\u00adff", "john smith", "smile😀", "abc\u05d0\u05d1", "Administrators", "Everyone", "PubIic",
		"short", "password1", "PassWord123", "nul\x00inside-it", strings.Repeat("p", 257),
	}
	if *long {
		v = append(v, strings.Repeat("é", 100000), strings.Repeat("\u0300", 5000), "\ufeff", "\ud7ff",
			"%00", "\\u0000", strings.Repeat("'", 1000), "-1", "1e309")
	}
	return v
}

// malformedJSON are bodies that are not the JSON an endpoint wants.
func malformedJSON() []string {
	v := []string{
		``, `{`, `{"a":`, `{"name": "x",}`, `nul`, `[`, `"unterminated`, `{"name":"x"} trailing`,
		`{"name":"x"}{"name":"y"}`, "\x00", "\ufeff{}", `{}`, `null`, `[]`, `123`, `true`, `"x"`,
		`{"name":1e999}`, `{"name":"a","name":"b"}`, `{"name":"\ud800"}`, `{"name":"\x00"}`,
		"{\"name\":\"\xff\xfe\"}", `{"__proto__":{"x":1}}`, `{"name":{"$gt":""}}`,
		// issue 15: overlong UTF-8, a low surrogate alone, names in another case, a name twice in another case
		"{\"name\":\"\xc0\xaf\"}", `{"name":"\udc00x"}`, `{"NAME":"x","SCOPE":"system"}`, `{"Name":"x","name":"y"}`,
	}
	return v
}

// deepJSON is a body nested n levels deep, of three shapes.
func deepJSON(n int) []string {
	return []string{
		strings.Repeat("[", n) + strings.Repeat("]", n),
		strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n),
		`{"name":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`,
	}
}

// hugeJSON is a body over the 1 MiB limit, in two shapes.
func hugeJSON() []string {
	return []string{
		`{"name":"` + strings.Repeat("a", 1<<20+100) + `"}`,
		`[` + strings.Repeat(`1,`, 600000) + `1]`,
	}
}

// wrongTypes are values of the wrong JSON type for a schema type.
func wrongTypes(typ string) []any {
	switch typ {
	case "string":
		return []any{123, true, []any{"x"}, map[string]any{"a": 1}, 1.5e300}
	case "integer", "number":
		return []any{"1", 1.5, -1, 1e20, true, []any{}, map[string]any{}}
	case "boolean":
		return []any{"true", 1, []any{}, map[string]any{}}
	case "array":
		return []any{"x", 1, map[string]any{}, []any{1, 2}, []any{[]any{[]any{}}}, []any{nil}}
	case "object":
		return []any{"x", 1, []any{}, true}
	}
	return []any{123, "x", []any{}, map[string]any{}}
}

// contentTypes are wrong or odd content types sent with a JSON body.
var contentTypes = []string{
	"text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
	"application/json; charset=latin1", "application/json; charset=utf-16", "image/png", "application/json, text/html",
	"", "*/*", strings.Repeat("a/", 500), "application/json-patch+json", "application/merge-patch+json",
}

// hostileFilters are SCIM filter expressions.
func hostileFilters() []string {
	v := []string{
		`userName eq`, `userName eq "x" and`, `userName eq "x" or or`, `((((userName eq "x"`, `userName eq "x"))`,
		`emails[type eq "work"`, `emails[type eq "work"]]`, `members[value eq ]`, `userName eq "\`, `userName eq "\u00"`,
		`userName eq "' OR 1=1 --"`, `nosuchattr eq "x"`, `meta.created gt "not-a-date"`, `userName sw 123`,
		`userName gt true`, `userName pr pr`, `not`, `not (`, `urn:bad:schema:x eq "x"`, `..x eq "y"`, `a.b.c.d.e eq "x"`,
		`emails[value[value eq "x"] eq "y"]`, `userName eq "` + strings.Repeat("x", 10000) + `"`,
		strings.Repeat("(", 5000) + `userName eq "x"` + strings.Repeat(")", 5000),
		strings.Repeat(`not (`, 3000) + `userName pr` + strings.Repeat(`)`, 3000),
		strings.Repeat(`userName eq "x" and `, 3000) + `userName pr`,
		"userName eq \"\xff\xfe\"", "\x00", `displayName co "<script>"`, `id eq "../../etc/passwd"`,
	}
	if *long {
		v = append(v, strings.Repeat("[", 20000), strings.Repeat(`emails[`, 3000), `userName eq 1e999`, `userName eq -0`,
			`userName eq 99999999999999999999999999`, strings.Repeat(`"`, 999))
	}
	return v
}

// hostilePatchPaths are SCIM PATCH paths.
func hostilePatchPaths() []string {
	return []string{
		"", "emails[", `emails[type eq "work"`, `emails[type eq "work"].`, `members[value eq ]`, "..", "a..b",
		"urn:bad:", "urn:ietf:params:scim:schemas:core:2.0:User:", "name.givenName.x.y", `members[value eq "x"].value.y`,
		strings.Repeat("a.", 3000) + "b", strings.Repeat("[", 3000), "userName[", "meta.created", "id", "schemas",
		"\xff", "\x00", "<script>", `emails[type eq "work" and value co "@"].display`,
		// RFC 7644 §3.5.2.3 noTarget, unknown paths (invalidPath), removing
		// active, a Group's externalId, Entra's paths (docs/scim.md).
		`emails[type eq "nonexistent"].value`, `members[value eq "nobody"].display`, "nonexistentAttr", "nonexistentAttr.sub",
		"displayName.sub", `displayName[value eq "x"]`, "emails.bogus", "active", "externalId", "name.givenName",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "urn:example:unknown:2.0:User:x",
	}
}

// hostileEntityTags are If-Match values (and Bulk versions): well-formed
// tags that name no version (412), malformed ones (400), lists.
func hostileEntityTags() []string {
	return []string{
		`W/"wrong-version"`, `"xyz"`, `W/"1", "xyz"`, `"a,b"`, `W/"0"`, `W/"-1"`, `""`, `W/"99999999999999999999"`, "*", `*, "1"`,
		"garbage", `W/`, `"unterminated`, `W/"1" x`, `"1" "2"`, ",", ", ,", "\u00e9", "W/\"a\tb\"", "\"\xff\xfe\"", strings.Repeat(`"1",`, 5000),
		strings.Repeat(`W/"`, 3000),
	}
}

// label shortens a value for a failure message.
func label(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 60 {
		s = fmt.Sprintf("%s…(%d bytes)", s[:60], len(s))
	}
	return fmt.Sprintf("%q", s)
}
