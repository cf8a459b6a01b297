package scim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Fuzz targets of the SCIM parsers besides the filter (FuzzParseFilter in
// filter_test.go): PATCH paths, whole PATCH bodies applied to a resource,
// and the search parameters of a list. Seed corpora: testdata/fuzz/<target>.

func checkSCIMError(t *testing.T, in any, e *scimError) {
	t.Helper()
	if e.Status < 400 || e.Status >= 500 || e.Detail == "" {
		t.Fatalf("%q: refused with %d %q, want a 4xx with a detail", in, e.Status, e.Detail)
	}
}

// FuzzParsePatchPath: a PATCH path parses or is refused with a 400.
func FuzzParsePatchPath(f *testing.F) {
	for _, s := range []string{
		"userName", "name.givenName", `emails[type eq "work"].value`, `members[value eq "u1"]`,
		"urn:ietf:params:scim:schemas:core:2.0:User:userName", "emails[", "a..b", `x[y eq 1]].z`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, e := parsePatchPath(s); e != nil {
			checkSCIMError(t, s, e)
		}
	})
}

// FuzzApplyPatch: a PATCH body is read and applied to a user and a group
// without a panic; a refusal is a 4xx SCIM error.
func FuzzApplyPatch(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails[type eq \"work\"].value","value":"a@b"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"u1\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","value":{"name.givenName":"x","id":"1"}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"u2"}]}]}`,
		`{"schemas":[],"Operations":"x"}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"nonexistent\"].value","value":"a@b.c"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"nonexistentAttr","value":1},{"op":"remove","path":"active"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"x"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"externalId":"E-1","members":[{"value":"u3","type":"Group"}]}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName[value eq \"x\"].y","value":"z"}]}`,
	} {
		f.Add([]byte(s))
	}
	user := `{"id":"1","userName":"b","active":true,"name":{"givenName":"B"},"emails":[{"value":"x@y.z","type":"work","primary":true}]}`
	group := `{"id":"g","displayName":"G","externalId":"E-0","members":[{"value":"u1","type":"User"},{"value":"u2"}]}`
	f.Fuzz(func(t *testing.T, b []byte) {
		var body map[string]any
		if json.Unmarshal(b, &body) != nil {
			return
		}
		ops, e := readPatch(body)
		if e != nil {
			checkSCIMError(t, string(b), e)
			return
		}
		for _, c := range []struct {
			s   *resourceSchema
			res string
		}{{userSchema, user}, {groupSchema, group}} {
			var res map[string]any
			_ = json.Unmarshal([]byte(c.res), &res)
			if e := applyPatch(res, c.s, ops); e != nil {
				checkSCIMError(t, string(b), e)
				continue
			}
			// What patchWith then reads from the patched resource.
			var e *scimError
			if c.s == userSchema {
				_, e = readUser(res)
			} else {
				_, e = readGroup(res)
			}
			if e != nil {
				checkSCIMError(t, string(b), e)
			}
		}
	})
}

// FuzzParsePrecondition: an If-Match value (or a Bulk version) is "*",
// entity tags, or refused with a 400; the tags read are the ones written
// back, and a tag naming the version matches it.
func FuzzParsePrecondition(f *testing.F) {
	for _, s := range []string{`W/"3"`, `"3"`, "*", `W/"wrong-version"`, `"xyz", W/"1"`, `"a,b"`, `,,W/"1",`, "garbage", `W/`, `"1" "2"`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, e := parsePrecondition(s, "If-Match")
		if e != nil {
			checkSCIMError(t, s, e)
			return
		}
		if !p.set {
			return
		}
		if len(p.tags) == 0 {
			t.Fatalf("%q: a precondition without tags", s)
		}
		again, ok := parseEntityTags(`"` + strings.Join(p.tags, `", W/"`) + `"`)
		if !ok || !slices.Equal(again, p.tags) {
			t.Fatalf("%q: tags %q do not read back (%q)", s, p.tags, again)
		}
		if n, err := strconv.ParseInt(p.tags[0], 10, 64); err == nil && strconv.FormatInt(n, 10) == p.tags[0] && !p.holds(n) {
			t.Fatalf("%q: does not hold for version %d, its first tag", s, n)
		}
	})
}

// FuzzSearchParams: the query of a list (filter, sortBy, sortOrder,
// startIndex, count, attributes) is read or refused with a 400, and the
// page it asks for is within the limits.
func FuzzSearchParams(f *testing.F) {
	for _, s := range []string{
		`filter=userName+eq+"b"&startIndex=1&count=10`, "startIndex=-1&count=-5", "count=100000", "sortBy=name.givenName&sortOrder=descending",
		"attributes=userName,emails.value&excludedAttributes=meta", "startIndex=1e99", "sortBy=a..b", "filter=%28",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := &http.Request{URL: &url.URL{RawQuery: q}}
		sp, e := searchFromQuery(r)
		if e != nil {
			checkSCIMError(t, q, e)
			return
		}
		if sp.startIndex < 1 || sp.count < 0 || sp.count > MaxPageCount {
			t.Fatalf("%q: startIndex %d, count %d out of range", q, sp.startIndex, sp.count)
		}
	})
}
