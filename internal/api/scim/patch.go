package scim

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/service"
)

// PATCH (RFC 7644 §3.5.2) is applied to the resource's JSON form, then the
// result is read back like a PUT body and written in one service call, so
// a PATCH is all or nothing and every attribute path works the same way.

// patchPath is attrPath ["[" valFilter "]"] ["." subAttr].
type patchPath struct {
	attr   AttrPath // Name and, without a filter, maybe Sub
	filter Filter   // over the values of attr.Name, or nil
	sub    string   // the sub-attribute after a filter
}

func parsePatchPath(s string) (patchPath, *scimError) {
	var p patchPath
	s = strings.TrimSpace(s)
	head, rest := s, ""
	if i := strings.IndexByte(s, '['); i >= 0 {
		j := strings.LastIndexByte(s, ']')
		if j < i {
			return p, errInvalidPath("unbalanced [ in path " + s)
		}
		head, rest = s[:i], s[j+1:]
		f, err := ParseFilter(s[i+1 : j])
		if err != nil {
			return p, errInvalidPath("path " + s + ": " + err.Error())
		}
		p.filter = f
		if rest != "" {
			if rest[0] != '.' || !validName(rest[1:]) {
				return p, errInvalidPath("bad sub-attribute in path " + s)
			}
			p.sub = rest[1:]
		}
	}
	a, err := parseAttrPath(head)
	if err != nil {
		return p, errInvalidPath(err.Error())
	}
	if p.filter != nil && a.Sub != "" {
		return p, errInvalidPath("a value filter follows an attribute, not a sub-attribute: " + s)
	}
	p.attr = a
	return p, nil
}

type patchOp struct {
	op    string
	path  string
	value any
}

func readPatch(body map[string]any) ([]patchOp, *scimError) {
	if e := checkSchemas(body, URIPatchOp); e != nil || getCI(body, "schemas") == nil {
		return nil, errInvalidSyntax("schemas must be [" + URIPatchOp + "]")
	}
	l, ok := getCI(body, "Operations").([]any)
	if !ok || len(l) == 0 {
		return nil, errInvalidSyntax("Operations must be a non-empty array")
	}
	var ops []patchOp
	for _, el := range l {
		obj, ok := el.(map[string]any)
		if !ok {
			return nil, errInvalidSyntax("each operation must be an object")
		}
		op, _ := getCI(obj, "op").(string)
		op = strings.ToLower(op)
		if op != "add" && op != "remove" && op != "replace" {
			return nil, errInvalidSyntax("op must be add, remove or replace")
		}
		path, _ := getCI(obj, "path").(string)
		v := getCI(obj, "value")
		if op != "remove" && v == nil {
			return nil, errInvalidValue(op + " needs a value")
		}
		if op == "remove" && path == "" {
			return nil, errNoTarget("remove needs a path")
		}
		ops = append(ops, patchOp{op: op, path: path, value: v})
	}
	return ops, nil
}

// readOnlyAttrs may not be the target of a PATCH.
func readOnly(s *resourceSchema, name string) bool {
	a := s.find(name)
	return a != nil && (a.Mutability == "readOnly" || a.Mutability == "immutable")
}

// applyPatch applies ops to res (its full JSON form) in order.
func applyPatch(res map[string]any, s *resourceSchema, ops []patchOp) *scimError {
	for _, op := range ops {
		if op.path == "" {
			obj, ok := op.value.(map[string]any)
			if !ok {
				return errInvalidValue(op.op + " without a path needs an object value")
			}
			for k, v := range obj {
				// Okta's rename sends the group's own id along: an
				// unchanged read-only value is not a change.
				switch strings.ToLower(k) {
				case "id":
					if v != res["id"] {
						return errMutability("id is immutable")
					}
					continue
				case "meta", "schemas":
					continue
				}
				// Entra sends paths as keys ("name.givenName"); the URI of an
				// extension is a key too.
				if e := applyOne(res, s, op.op, k, v); e != nil {
					return e
				}
			}
			continue
		}
		if e := applyOne(res, s, op.op, op.path, op.value); e != nil {
			return e
		}
	}
	return nil
}

func applyOne(res map[string]any, s *resourceSchema, op, path string, value any) *scimError {
	def, p, e := patchTarget(s, path)
	if e != nil || def == nil {
		return e
	}
	switch {
	case p.filter == nil && p.attr.Sub == "":
		applyWhole(res, def, op, value)
	case p.filter == nil:
		applySub(res, def, op, p.attr.Sub, value)
	default:
		return applyFiltered(res, s, def, p, op, path, value)
	}
	return nil
}

// patchTarget resolves an operation's path to the attribute it changes:
// nil with no error for a path Gatehouse keeps nothing of (an extension,
// schemas, an ignored attribute), an error for one outside the schema or
// read-only.
func patchTarget(s *resourceSchema, path string) (*attr, patchPath, *scimError) {
	if strings.HasPrefix(strings.ToLower(path), "urn:") && !strings.HasPrefix(strings.ToLower(path), strings.ToLower(s.core)+":") {
		if s.extension(path) {
			return nil, patchPath{}, nil // an extension Gatehouse keeps nothing of
		}
		return nil, patchPath{}, errInvalidPath("path " + path + " is in no schema of this resource (see /Schemas)")
	}
	p, e := parsePatchPath(path)
	if e != nil {
		return nil, p, e
	}
	if strings.EqualFold(p.attr.Name, "schemas") {
		return nil, p, nil
	}
	def := s.find(p.attr.Name)
	if def == nil {
		if s.ignores(p.attr.Name) {
			return nil, p, nil // not kept by Gatehouse: ignored, as in POST and PUT
		}
		return nil, p, errInvalidPath("no attribute " + p.attr.Name + " in this resource's schema (see /Schemas)")
	}
	if e := checkPath(def, p, path); e != nil {
		return nil, p, e
	}
	if readOnly(s, p.attr.Name) {
		return nil, p, errMutability(p.attr.Name + " is read-only")
	}
	return def, p, nil
}

// applyWhole applies an operation on a whole attribute (path "emails").
func applyWhole(res map[string]any, def *attr, op string, value any) {
	name := def.Name
	cur := res[name]
	switch op {
	case "remove":
		if def.MultiValued && value != nil {
			removeValues(res, name, value)
			return
		}
		delete(res, name)
	case "add":
		if def.MultiValued {
			res[name] = append(asListOrNil(cur), asList(value)...)
		} else if obj, ok := value.(map[string]any); ok && def.Type == "complex" {
			merged, _ := cur.(map[string]any)
			if merged == nil {
				merged = map[string]any{}
			}
			for k, v := range obj {
				merged[k] = v
			}
			res[name] = merged
		} else {
			res[name] = value
		}
	case "replace":
		if def.MultiValued {
			res[name] = asList(value)
		} else {
			res[name] = value
		}
	}
}

// removeValues removes the values named in value from the multi-valued
// attribute name. Entra removes members with path "members" and the
// members to remove as value; RFC 7644 gives remove no value, so reading
// it as a selector changes nothing for other clients and keeps Entra from
// emptying the group.
func removeValues(res map[string]any, name string, value any) {
	drop := map[any]bool{}
	for _, v := range asList(value) {
		if obj, ok := v.(map[string]any); ok {
			drop[getCI(obj, "value")] = true
		} else {
			drop[v] = true
		}
	}
	var kept []any
	for _, el := range asListOrNil(res[name]) {
		obj, ok := el.(map[string]any)
		if ok && drop[getCI(obj, "value")] {
			continue
		}
		kept = append(kept, el)
	}
	res[name] = kept
	if kept == nil {
		delete(res, name)
	}
}

// applySub applies an operation on attr.sub: on a single complex
// attribute, or on every value of a multi-valued one.
func applySub(res map[string]any, def *attr, op, sub string, value any) {
	name := def.Name
	cur := res[name]
	if def.MultiValued {
		l := asListOrNil(cur)
		if len(l) == 0 && op != "remove" {
			res[name] = []any{map[string]any{sub: value}}
			return
		}
		for _, el := range l {
			if obj, ok := el.(map[string]any); ok {
				setSub(obj, op, sub, value)
			}
		}
		return
	}
	obj, _ := cur.(map[string]any)
	if obj == nil {
		if op == "remove" {
			return
		}
		obj = map[string]any{}
		res[name] = obj
	}
	setSub(obj, op, sub, value)
}

// applyFiltered applies an operation on the values a filter selects
// (emails[type eq "work"] or emails[type eq "work"].value).
func applyFiltered(res map[string]any, s *resourceSchema, def *attr, p patchPath, op, path string, value any) *scimError {
	name := def.Name
	m := matcher{s: s.sub(AttrPath{Name: name})}
	l := asListOrNil(res[name])
	var kept []any
	matched := 0
	for _, el := range l {
		obj, ok := el.(map[string]any)
		if !ok || !m.Match(p.filter, obj) {
			kept = append(kept, el)
			continue
		}
		matched++
		if op == "remove" && p.sub == "" {
			continue // dropped
		}
		applyToValue(obj, op, p.sub, value)
		kept = append(kept, obj)
	}
	if matched == 0 {
		if op == "remove" {
			return nil // nothing to remove is success: the state asked for holds
		}
		created, e := createFiltered(p, l, name, path, value)
		if e != nil {
			return e
		}
		kept = append(kept, created)
	}
	if kept == nil {
		delete(res, name)
	} else {
		res[name] = kept
	}
	return nil
}

// applyToValue applies an add or replace (or, with sub, a remove) to one
// selected value.
func applyToValue(obj map[string]any, op, sub string, value any) {
	switch {
	case sub != "":
		setSub(obj, op, sub, value)
	case op == "replace" || op == "add":
		if nv, ok := value.(map[string]any); ok {
			for k := range obj {
				if op == "replace" {
					delete(obj, k)
				}
			}
			for k, v := range nv {
				obj[k] = v
			}
		}
	}
}

// createFiltered is the value a filter describes, for an add or replace
// that matched none: emails[type eq "work"].value on a user without any
// address creates it (Entra's way of setting it; RFC 7644 §3.5.2.3 treats
// a replace of an attribute without values as an add). When the attribute
// has values and none matches, it is noTarget (§3.5.2.3).
func createFiltered(p patchPath, l []any, name, path string, value any) (map[string]any, *scimError) {
	c, ok := p.filter.(Compare)
	if len(l) > 0 || !ok || c.Op != "eq" || c.Path.Sub != "" || p.sub == "" {
		return nil, errNoTarget("no value of " + name + " matches the filter in " + path)
	}
	return map[string]any{c.Path.Name: c.Value, p.sub: value}, nil
}

// checkPath refuses a path that does not fit its attribute's definition:
// a value filter on a single value, a sub-attribute of a simple attribute
// or one the attribute does not have.
func checkPath(def *attr, p patchPath, path string) *scimError {
	if p.filter != nil && !def.MultiValued {
		return errInvalidPath(def.Name + " has a single value: no value filter applies, in " + path)
	}
	sub := p.attr.Sub
	if p.filter != nil {
		sub = p.sub
	}
	if sub != "" && def.subAttr(sub) == nil {
		return errInvalidPath(def.Name + " has no sub-attribute " + sub + " (see /Schemas), in " + path)
	}
	return nil
}

func asListOrNil(v any) []any {
	if v == nil {
		return nil
	}
	return asList(v)
}

func setSub(obj map[string]any, op, sub string, value any) {
	key, _ := keyCI(obj, sub)
	if key == "" {
		key = sub
	}
	if op == "remove" {
		delete(obj, key)
		return
	}
	obj[key] = value
}

func (h *Handler) patch(w http.ResponseWriter, q *req, kind, id string) {
	raw, e := h.readBody(q)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	body, e := decodeObject(raw)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	pre, e := ifMatch(q.r)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	res, v, err := h.patchWith(q, kind, id, body, pre)
	if err != nil {
		writeSCIMError(w, h.fromService(q.r, err))
		return
	}
	// RFC 7644 §3.5.2 allows 200 with the resource or 204. Users get the
	// resource (Okta reads it); Groups get 204 unless attributes were
	// asked for, so a large group's member list is not sent back on every
	// membership change.
	if kind == "Groups" && q.r.URL.Query().Get("attributes") == "" {
		w.Header().Set("ETag", etag(v))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.respond(w, q, http.StatusOK, kind, res, v)
}

func (h *Handler) patchWith(q *req, kind, id string, body map[string]any, pre precondition) (map[string]any, int64, error) {
	ops, e := readPatch(body)
	if e != nil {
		return nil, 0, e
	}
	res, current, err := h.load(q, kind, id)
	if err != nil {
		target := "group"
		if kind == "Users" {
			target = "user"
		}
		return nil, 0, h.svc.RefuseSCIMChange(q.ctx, q.caller, target, id, err)
	}
	if !pre.holds(current) {
		return nil, 0, errPrecondition(current)
	}
	if e := applyPatch(res, schemaOf(kind), ops); e != nil {
		return nil, 0, e
	}
	// The version read above is what the patch was computed on: the write
	// refuses if the resource changed in between.
	if kind == "Users" {
		f, e := readUser(res)
		if e != nil {
			return nil, 0, e
		}
		if !f.hasUserName || strings.TrimSpace(f.userName) == "" {
			return nil, 0, errMutability("userName is required and cannot be removed")
		}
		if _, ok := res["emails"]; ok && f.email == "" {
			return nil, 0, errInvalidValue("emails holds no valid address")
		}
		up := service.SCIMUserUpdate{Username: &f.userName, DisplayName: &f.displayName, Email: &f.email,
			ExternalID: &f.externalID, Version: current}
		// Gatehouse has no unset status: removing active (which RFC 7643
		// gives no default) asserts nothing, so the user stays enabled or
		// disabled as they are, as a PUT without active leaves them.
		if f.hasActive {
			up.Active = &f.active
		}
		if _, _, err := h.svc.UpdateSCIMUser(q.ctx, q.caller, id, up); err != nil {
			return nil, 0, err
		}
		return h.load(q, kind, id)
	}
	f, e := readGroup(res)
	if e != nil {
		return nil, 0, e
	}
	if !f.hasName || strings.TrimSpace(f.name) == "" {
		return nil, 0, errMutability("displayName is required and cannot be removed")
	}
	if f.members == nil {
		f.members = []service.SCIMMember{}
	}
	g, _, err := h.svc.ChangeSCIMGroup(q.ctx, q.caller, id, service.SCIMGroupChange{Name: &f.name, ExternalID: &f.externalID,
		Members: &f.members, Version: current})
	if err != nil {
		return nil, 0, err
	}
	return groupJSON(g, q.base), g.Group.Version, nil
}
