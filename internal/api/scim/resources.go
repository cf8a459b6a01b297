package scim

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/api/input"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Conversions between Gatehouse's objects and their SCIM JSON form. The
// JSON form (map[string]any with canonical attribute names) is what
// filters, sorting, attribute selection and PATCH work on, so they need
// no per-attribute code.

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// stamp has a fixed number of fraction digits, so that timestamps sort
// correctly as strings too (sortBy=meta.created).
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func meta(kind, location string, created, modified time.Time, version int64) map[string]any {
	return map[string]any{"resourceType": kind, "created": stamp(created), "lastModified": stamp(modified),
		"location": location, "version": etag(version)}
}

func userJSON(u domain.User, groups []domain.Group, base string) map[string]any {
	m := map[string]any{
		"schemas":  []any{URIUser},
		"id":       u.ID,
		"userName": u.Username,
		"active":   u.Status == domain.UserActive,
		"meta":     meta("User", base+"/Users/"+u.ID, u.CreatedAt, u.UpdatedAt, u.Version),
	}
	if u.ExternalID != "" {
		m["externalId"] = u.ExternalID
	}
	if u.DisplayName != "" {
		m["displayName"] = u.DisplayName
	}
	if u.Email != "" {
		m["emails"] = []any{map[string]any{"value": u.Email, "type": "work", "primary": true}}
	}
	gs := []any{}
	for _, g := range groups {
		gs = append(gs, map[string]any{"value": g.ID, "$ref": base + "/Groups/" + g.ID, "display": g.Name, "type": "direct"})
	}
	if len(gs) > 0 {
		m["groups"] = gs
	}
	return m
}

func groupJSON(sg service.SCIMGroup, base string) map[string]any {
	g := sg.Group
	members := []any{}
	for _, u := range sg.Members {
		d := u.DisplayName
		if d == "" {
			d = u.Username
		}
		members = append(members, map[string]any{"value": u.ID, "$ref": base + "/Users/" + u.ID, "display": d, "type": "User"})
	}
	for _, c := range sg.Groups {
		members = append(members, map[string]any{"value": c.ID, "$ref": base + "/Groups/" + c.ID, "display": c.Name, "type": "Group"})
	}
	m := map[string]any{
		"schemas":     []any{URIGroup},
		"id":          g.ID,
		"displayName": g.Name,
		"meta":        meta("Group", base+"/Groups/"+g.ID, g.CreatedAt, g.UpdatedAt, g.Version),
	}
	if g.ExternalID != "" {
		m["externalId"] = g.ExternalID
	}
	if len(members) > 0 {
		m["members"] = members
	}
	return m
}

// userFields is what Gatehouse keeps of a SCIM User.
type userFields struct {
	userName, displayName, externalID, email string
	active                                   bool
	hasUserName, hasActive                   bool
}

// checkSchemas accepts a body without "schemas" (some clients omit it) but
// refuses one whose schemas do not name the resource's core schema.
func checkSchemas(body map[string]any, core string) *scimError {
	v := getCI(body, "schemas")
	if v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		return errInvalidSyntax("schemas must be an array of schema URIs")
	}
	for _, s := range l {
		if s, ok := s.(string); ok && strings.EqualFold(s, core) {
			return nil
		}
	}
	return errInvalidSyntax("schemas must include " + core)
}

// readUser extracts the stored fields of a User body. Unknown and
// read-only attributes are ignored (RFC 7644 §3.3: the provider's schema
// decides what it keeps).
func readUser(body map[string]any) (userFields, *scimError) {
	var f userFields
	if e := checkSchemas(body, URIUser); e != nil {
		return f, e
	}
	var e *scimError
	if f.userName, f.hasUserName, e = optString(body, "userName"); e != nil {
		return f, e
	}
	if f.displayName, _, e = optString(body, "displayName"); e != nil {
		return f, e
	}
	if f.externalID, _, e = optString(body, "externalId"); e != nil {
		return f, e
	}
	f.active = true
	if v := getCI(body, "active"); v != nil {
		b, ok := boolish(v)
		if !ok {
			return f, errInvalidValue("active must be true or false")
		}
		f.active, f.hasActive = b, true
	}
	email, e := pickEmail(getCI(body, "emails"))
	if e != nil {
		return f, e
	}
	f.email = email
	return f, nil
}

func optString(body map[string]any, name string) (string, bool, *scimError) {
	v := getCI(body, name)
	if v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, errInvalidValue(name + " must be a string")
	}
	return s, true, nil
}

// boolish accepts a JSON boolean, and also the strings "true" and "false"
// in any case: Entra ID sends "True" and "False" in PATCH values.
func boolish(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// pickEmail chooses the one address Gatehouse keeps: the primary, else a
// work one, else the first; among those, the first that is a valid
// address. An IdP's undeliverable placeholder is skipped rather than
// failing the whole provisioning of the user.
func pickEmail(v any) (string, *scimError) {
	if v == nil {
		return "", nil
	}
	l, ok := v.([]any)
	if !ok {
		l = []any{v}
	}
	type cand struct {
		value string
		rank  int
	}
	var cands []cand
	for _, el := range l {
		obj, ok := el.(map[string]any)
		if !ok {
			return "", errInvalidValue("emails must be an array of objects with a value")
		}
		val, _ := getCI(obj, "value").(string)
		rank := 2
		if p, _ := boolish(getCI(obj, "primary")); p {
			rank = 0
		} else if t, _ := getCI(obj, "type").(string); strings.EqualFold(t, "work") {
			rank = 1
		}
		cands = append(cands, cand{val, rank})
	}
	for rank := 0; rank <= 2; rank++ {
		for _, c := range cands {
			if c.rank == rank && validEmail(c.value) {
				return c.value, nil
			}
		}
	}
	return "", nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

// groupFields is what Gatehouse keeps of a SCIM Group.
type groupFields struct {
	name, externalID string
	members          []service.SCIMMember // nil when members is absent
	hasName          bool
	hasExternalID    bool
}

// readGroup extracts a Group body's name, external id and members.
func readGroup(body map[string]any) (groupFields, *scimError) {
	var f groupFields
	if e := checkSchemas(body, URIGroup); e != nil {
		return f, e
	}
	var e *scimError
	if f.name, f.hasName, e = optString(body, "displayName"); e != nil {
		return f, e
	}
	if f.externalID, f.hasExternalID, e = optString(body, "externalId"); e != nil {
		return f, e
	}
	if v := getCI(body, "members"); v != nil {
		f.members, e = readMembers(v)
	}
	return f, e
}

// readMembers reads members as the IdP sends them: value (the user's or
// group's id) and type. Which member that is, and whether it may be one,
// is the service's to say (service.SCIMMember).
func readMembers(v any) ([]service.SCIMMember, *scimError) {
	l, ok := v.([]any)
	if !ok {
		l = []any{v}
	}
	out := []service.SCIMMember{}
	for i, el := range l {
		obj, ok := el.(map[string]any)
		if !ok {
			return nil, errInvalidValue("members must be objects with the member's id as value, such as {\"value\": \"<user or group id>\", \"type\": \"User\"}")
		}
		id, ok := getCI(obj, "value").(string)
		if !ok || id == "" {
			return nil, errInvalidValue(fmt.Sprintf("members[%d].value must be the member user's or group's id", i))
		}
		typ, ok := getCI(obj, "type").(string)
		if !ok && getCI(obj, "type") != nil {
			return nil, errInvalidValue(fmt.Sprintf("members[%d].type must be a string, User or Group", i))
		}
		out = append(out, service.SCIMMember{ID: id, Type: typ})
	}
	return out, nil
}

// decodeObject parses a JSON object body, after the checks every
// transport shares (internal/api/input): UTF-8, and no attribute given
// twice, names compared case-insensitively as RFC 7643 §2.1 has them.
func decodeObject(raw []byte) (map[string]any, *scimError) {
	if e := input.CheckJSON(raw, input.FoldedNames); e != nil {
		return nil, errInvalidSyntax(e.Error())
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errInvalidSyntax("the body is not a JSON object")
	}
	return m, nil
}
