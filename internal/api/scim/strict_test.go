package scim_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api/scim"
)

// Bodies are checked like every transport's (internal/api/input): invalid
// UTF-8 and lone surrogates are refused, not stored as U+FFFD; an
// attribute given twice is refused, names compared case-insensitively as
// RFC 7643 §2.1 has them (which is also why {"USERNAME": …} is userName
// here, unlike in the REST API); a body needs a SCIM or JSON media type.
func TestStrictBodies(t *testing.T) {
	e := newEnv(t)
	before := num(e.must(200, "GET", "/Users", nil).Body, "totalResults")
	head := `{"schemas": ["` + scim.URIUser + `"], `
	for name, body := range map[string]string{
		"invalid UTF-8":               head + "\"userName\": \"bad\xff\xfe\"}",
		"overlong UTF-8":              head + "\"userName\": \"x\xc0\xafy\"}",
		"lone surrogate":              head + `"userName": "x\ud800"}`,
		"repeated attribute":          head + `"userName": "a", "userName": "b"}`,
		"repeated in another case":    head + `"userName": "a", "USERNAME": "b"}`,
		"repeated in a complex value": head + `"userName": "c", "name": {"givenName": "A", "givenname": "B"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do("POST", "/Users", body)
			e.scimErr(r, 400, "invalidSyntax")
			if name != "invalid UTF-8" && name != "overlong UTF-8" && name != "lone surrogate" && !strings.Contains(str(r.Body, "detail"), "repeated") {
				t.Errorf("detail does not name the repetition: %s", r.Raw)
			}
		})
	}
	id := e.user("upper")
	e.scimErr(e.do("PATCH", "/Users/"+id, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "A", "VALUE": "B"}]}`), 400, "invalidSyntax")
	for _, ct := range []string{"", "application/json-patch+json", "text/plain", "application/scim+json; charset=latin1"} {
		e.scimErr(e.do("POST", "/Users", head+`"userName": "ct"}`, "Content-Type", ct), 415, "")
	}
	e.must(201, "POST", "/Users", head+`"userName": "json"}`, "Content-Type", "application/json; charset=utf-8")
	// Case-insensitive names are still one attribute each.
	e.must(201, "POST", "/Users", head+`"USERNAME": "folded"}`)
	if n := num(e.must(200, "GET", "/Users", nil).Body, "totalResults"); n != before+3 {
		t.Errorf("%d users after, want %d: refused bodies wrote something", n, before+3)
	}
}
