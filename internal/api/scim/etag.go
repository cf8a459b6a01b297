package scim

import (
	"net/http"
	"strconv"
	"strings"
)

// Entity tags and preconditions (RFC 7644 §3.14, RFC 7232 §3.1, §3.2).
// A resource's ETag is W/"<version>". Comparison is weak (RFC 7232
// §2.3.2): SCIM's tags are weak, and RFC 7644 §3.14 sends them back in
// If-Match as they are.

// precondition is an If-Match header, or a Bulk operation's version.
type precondition struct {
	set  bool     // false: no header, or "*" (the resource exists)
	tags []string // the opaque tags listed, without W/ and quotes
}

// unmatchable is the version passed to a service write when the resource
// could not be read to check a precondition: no stored version equals it,
// so the write can only be refused (and the service audits and words the
// refusal, as without If-Match), never applied.
const unmatchable int64 = -1

// parseEntityTags reads `1#entity-tag` (RFC 7232 §2.3, RFC 7230 §7:
// empty list elements are allowed). Commas may appear inside a tag.
func parseEntityTags(v string) ([]string, bool) {
	var tags []string
	i := 0
	skip := func() {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
	}
	for {
		skip()
		for i < len(v) && v[i] == ',' {
			i++
			skip()
		}
		if i == len(v) {
			return tags, len(tags) > 0
		}
		if strings.HasPrefix(v[i:], "W/") {
			i += 2
		}
		if i == len(v) || v[i] != '"' {
			return nil, false
		}
		end := i + 1
		for end < len(v) && v[end] != '"' {
			if c := v[end]; c < 0x21 || c == 0x7f {
				return nil, false // etagc: no controls, no spaces
			}
			end++
		}
		if end == len(v) {
			return nil, false
		}
		tags = append(tags, v[i+1:end])
		i = end + 1
		skip()
		if i < len(v) && v[i] != ',' {
			return nil, false
		}
	}
}

// parsePrecondition reads an If-Match value: "*", a list of entity tags,
// or nothing. Only a malformed value is an error (400); a well-formed tag
// that is not one of Gatehouse's is simply one that never matches (412).
func parsePrecondition(v, what string) (precondition, *scimError) {
	v = strings.TrimSpace(v)
	if v == "" || v == "*" {
		return precondition{}, nil
	}
	tags, ok := parseEntityTags(v)
	if !ok {
		return precondition{}, errInvalidSyntax(what + ` must be "*" or entity tags such as W/"3" (RFC 7232 §3.1)`)
	}
	return precondition{set: true, tags: tags}, nil
}

func ifMatch(r *http.Request) (precondition, *scimError) {
	return parsePrecondition(r.Header.Get("If-Match"), "If-Match")
}

// holds reports whether the resource at version v satisfies p: any
// listed tag names v.
func (p precondition) holds(v int64) bool {
	if !p.set {
		return true
	}
	s := strconv.FormatInt(v, 10)
	for _, t := range p.tags {
		if t == s {
			return true
		}
	}
	return false
}

func errPrecondition(v int64) *scimError {
	return &scimError{Status: http.StatusPreconditionFailed,
		Detail: "the resource is at version " + etag(v) + ", which If-Match does not name"}
}

// etagMatches reports whether an If-None-Match list names version v; a
// malformed list names nothing, so the resource is sent.
func etagMatches(list string, v int64) bool {
	if strings.TrimSpace(list) == "*" {
		return true
	}
	tags, _ := parseEntityTags(list)
	return precondition{set: true, tags: tags}.holds(v)
}

// expectVersion turns a precondition into the version a PUT or DELETE
// passes to the service: 0 without one; the current version when a tag
// names it (the service refuses the write if it changes meanwhile); 412
// when none does. A resource that cannot be read gets unmatchable, so
// that the service answers (404, audited refusal) as it does without
// If-Match.
func (h *Handler) expectVersion(q *req, kind, id string, p precondition) (int64, *scimError) {
	if !p.set {
		return 0, nil
	}
	_, v, err := h.load(q, kind, id)
	if err != nil {
		return unmatchable, nil
	}
	if !p.holds(v) {
		return 0, errPrecondition(v)
	}
	return v, nil
}
