package scim_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api/scim"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The stricter readings of RFC 7643 and RFC 7644 (docs/scim.md): no-op
// writes, noTarget, If-Match lists, unknown paths, removing active,
// canonicalValues and a Group's externalId.

// state is what a write that changes nothing must leave as it is: the
// resource's version and lastModified, the store's revision and the
// audit log.
type state struct {
	version, lastModified, etag string
	revision                    int64
	audit                       int
}

func (e *env) state(path string) state {
	e.t.Helper()
	r := e.must(200, "GET", path, nil)
	rev, err := e.st.Revision(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	page, err := e.st.ListAudit(e.ctx, store.AuditQuery{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return state{version: str(r.Body, "meta.version"), lastModified: str(r.Body, "meta.lastModified"),
		etag: r.Header.Get("ETag"), revision: rev, audit: len(page.Items)}
}

// unchanged fails unless path is in the state before was taken in.
func (e *env) unchanged(path string, before state, what string) {
	e.t.Helper()
	if after := e.state(path); after != before {
		e.t.Errorf("%s changed %s: %+v, was %+v", what, path, after, before)
	}
}

// §3.5.2.1, §3.5.2.3, §3.5.1: a PATCH that changes nothing (add or
// replace of the current value, remove of an unset attribute) and an
// identical PUT keep meta.version and meta.lastModified, and write
// nothing: no revision, no audit record.
func TestRFC7644_3_5_2_1_NoOpKeepsVersion(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen", map[string]any{"displayName": "Babs", "externalId": "ext-1"})
	path := "/Users/" + id
	before := e.state(path)
	noops := []map[string]any{
		patchOp(map[string]any{"op": "add", "path": "displayName", "value": "Babs"}),
		patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Babs"}),
		patchOp(map[string]any{"op": "replace", "value": map[string]any{"externalId": "ext-1", "active": true, "userName": "bjensen"}}),
		patchOp(map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "bjensen@example.org"}),
		patchOp(map[string]any{"op": "remove", "path": `emails[type eq "home"]`}),
		patchOp(map[string]any{"op": "replace", "path": "active", "value": "True"}),
		// Attributes RFC 7643 defines that Gatehouse does not keep.
		patchOp(map[string]any{"op": "replace", "path": "name.givenName", "value": "Barbara"}),
		patchOp(map[string]any{"op": "add", "path": scim.URIEnterprise + ":department", "value": "Tour"}),
	}
	for _, body := range noops {
		r := e.must(200, "PATCH", path, body)
		if got := r.Header.Get("ETag"); got != before.etag {
			t.Errorf("PATCH %v: ETag %s, want %s", body["Operations"], got, before.etag)
		}
		e.unchanged(path, before, "no-op PATCH")
	}
	// An identical PUT (externalId and active left out: not asserted).
	e.must(200, "PUT", path, map[string]any{"schemas": []string{scim.URIUser}, "userName": "bjensen", "displayName": "Babs",
		"emails": []any{map[string]any{"value": "bjensen@example.org", "type": "work", "primary": true}}})
	e.unchanged(path, before, "identical PUT")
	// Remove of an unset attribute.
	bare := str(e.must(201, "POST", "/Users", map[string]any{"schemas": []string{scim.URIUser}, "userName": "bare"}).Body, "id")
	b := e.state("/Users/" + bare)
	e.must(200, "PATCH", "/Users/"+bare, patchOp(map[string]any{"op": "remove", "path": "displayName"},
		map[string]any{"op": "remove", "path": "externalId"}, map[string]any{"op": "remove", "path": "emails"}))
	e.unchanged("/Users/"+bare, b, "remove of unset attributes")
	// A real change still gets a new version, one audit record.
	r := e.must(200, "PATCH", path, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Barbara"}))
	if str(r.Body, "meta.version") == before.version {
		t.Errorf("a real change kept version %s", before.version)
	}
	if after := e.state(path); after.audit != b.audit+1 || after.revision != b.revision+1 {
		t.Errorf("after one change: %d audit records, revision %d; want %d, %d", after.audit, after.revision, b.audit+1, b.revision+1)
	}

	// Groups: the same, with externalId and members.
	gid := e.group("G", id)
	e.must(204, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "externalId", "value": "g-ext"}))
	gpath := "/Groups/" + gid
	gb := e.state(gpath)
	e.must(204, "PATCH", gpath, patchOp(map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": "G", "externalId": "g-ext"}},
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}},
		map[string]any{"op": "remove", "path": `members[value eq "nobody"]`}))
	e.must(200, "PUT", gpath, map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "G", "members": []any{map[string]any{"value": id}}})
	e.unchanged(gpath, gb, "no-op group PATCH and PUT")
}

// A write that changes nothing is still authorized: a token whose user
// may only view users is refused (R21), not answered 200.
func TestSCIM_R21_NoOpStillAuthorized(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen", map[string]any{"displayName": "Babs"})
	viewer, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "viewer", SystemRoleID: domain.RoleSystemMemberID})
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Provisioners", Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermScimProvision}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AddMembers(e.ctx, e.admin, g.ID, []service.MemberInput{{UserID: viewer.ID}}); err != nil {
		t.Fatal(err)
	}
	tok := "Bearer test:" + viewer.ID + ":" + domain.PermScimProvision
	e.scimErr(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Babs"}), "Authorization", tok), 403, "")
}

// §3.5.2.3: replace with a value filter that matches no value of an
// attribute that has values is 400 noTarget, and changes nothing. The
// Entra habit of setting emails[type eq "work"].value on a user without
// any address still creates it (the attribute has no value at all).
func TestRFC7644_3_5_2_3_ReplaceUnmatchedFilterIsNoTarget(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen")
	path := "/Users/" + id
	before := e.state(path)
	for _, op := range []map[string]any{
		{"op": "replace", "path": `emails[type eq "nonexistent"].value`, "value": "x@example.org"},
		{"op": "add", "path": `emails[type eq "nonexistent"].value`, "value": "x@example.org"},
		{"op": "replace", "path": `emails[value eq "other@example.org"]`, "value": map[string]any{"value": "x@example.org"}},
	} {
		r := e.do("PATCH", path, patchOp(op))
		e.scimErr(r, 400, "noTarget")
		if !strings.Contains(str(r.Body, "detail"), "matches the filter") {
			t.Errorf("detail = %q", str(r.Body, "detail"))
		}
	}
	e.unchanged(path, before, "noTarget PATCH")
	gid := e.group("G", id)
	e.scimErr(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "path": `members[value eq "nobody"].display`, "value": "x"})), 400, "noTarget")

	bare := str(e.must(201, "POST", "/Users", map[string]any{"schemas": []string{scim.URIUser}, "userName": "bare"}).Body, "id")
	r := e.must(200, "PATCH", "/Users/"+bare, patchOp(map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "bare@example.org"}))
	if str(r.Body, "emails.0.value") != "bare@example.org" {
		t.Errorf("Entra's replace on a user without addresses = %s", r.Raw)
	}
}

// §3.14 with RFC 7232 §3.1: If-Match with any well-formed entity tag that
// names another version (W/"wrong-version", "xyz", a list) is 412; a
// list matches if any member matches; only a malformed value is 400.
func TestRFC7644_3_14_IfMatchEntityTags(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen")
	path := "/Users/" + id
	before := e.state(path)
	cur := before.etag                      // W/"1"
	strong := strings.TrimPrefix(cur, "W/") // "1": weak comparison
	patch := patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "X"})
	put := map[string]any{"schemas": []string{scim.URIUser}, "userName": "bjensen", "displayName": "Y"}
	for _, tag := range []string{`W/"wrong-version"`, `"xyz"`, `W/"99", "xyz"`, `"a,b"`, `W/"0"`, `W/"-1"`, `"", W/""`} {
		e.scimErr(e.do("PATCH", path, patch, "If-Match", tag), 412, "")
		e.scimErr(e.do("PUT", path, put, "If-Match", tag), 412, "")
		e.scimErr(e.do("DELETE", path, nil, "If-Match", tag), 412, "")
	}
	for _, bad := range []string{"garbage", `W/`, `"unterminated`, `W/"1" x`, `"1" "2"`, `*, "1"`, `W/"a b"`, ","} {
		e.scimErr(e.do("PATCH", path, patch, "If-Match", bad), 400, "invalidSyntax")
		e.scimErr(e.do("DELETE", path, nil, "If-Match", bad), 400, "invalidSyntax")
	}
	e.unchanged(path, before, "refused conditional writes")
	// A list matches if any member matches; the strong form matches too.
	r := e.must(200, "PATCH", path, patch, "If-Match", `"xyz", `+cur+`, W/"wrong"`)
	v2 := r.Header.Get("ETag")
	e.must(200, "PUT", path, put, "If-Match", `W/"1",`+strings.TrimPrefix(v2, "W/"))
	e.must(200, "PATCH", path, patch, "If-Match", "*")
	if strong == cur {
		t.Fatalf("ETag %s is not weak", cur)
	}
	// A resource that does not exist is 404 whatever the tags.
	e.scimErr(e.do("PUT", "/Users/nope", put, "If-Match", `W/"1"`), 404, "")
	e.scimErr(e.do("DELETE", "/Users/nope", nil, "If-Match", `W/"1"`), 404, "")
	// Bulk's version reads the same way.
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": []any{
		map[string]any{"method": "PATCH", "path": path, "version": `W/"wrong-version"`, "data": patch},
		map[string]any{"method": "DELETE", "path": path, "version": "garbage"},
	}}
	r = e.must(200, "POST", "/Bulk", body)
	ops, _ := r.Body["Operations"].([]any)
	if len(ops) != 2 || str(ops[0], "status") != "412" || str(ops[1], "status") != "400" {
		t.Errorf("bulk versions = %s", r.Raw)
	}
	// Groups, through the same code.
	gid := e.group("G")
	e.scimErr(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "H"}), "If-Match", `"xyz"`), 412, "")
	e.scimErr(e.do("DELETE", "/Groups/"+gid, nil, "If-Match", `W/"wrong-version"`), 412, "")
	e.must(204, "DELETE", "/Groups/"+gid, nil, "If-Match", `"nope", W/"1"`)
}

// A PATCH path outside the resource's schema is 400 invalidPath (RFC 7644
// §3.5.2, §3.12), and changes nothing. Attributes RFC 7643 defines that
// Gatehouse does not keep are accepted and ignored, as in POST and PUT.
func TestRFC7644_3_5_2_UnknownPathIsInvalidPath(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen", map[string]any{"displayName": "Babs"})
	path := "/Users/" + id
	before := e.state(path)
	for _, p := range []string{"nonexistentAttr", "nonexistentAttr.sub", `nonexistentAttr[value eq "x"]`, "displayName.sub",
		`displayName[value eq "x"]`, "emails.bogus", `emails[type eq "work"].bogus`, "urn:example:unknown:2.0:User:x",
		scim.URIGroup + ":displayName"} {
		for _, op := range []string{"add", "replace", "remove"} {
			r := e.do("PATCH", path, patchOp(map[string]any{"op": op, "path": p, "value": "x"}))
			e.scimErr(r, 400, "invalidPath")
		}
	}
	// Without a path, an unknown key is invalidPath too.
	e.scimErr(e.do("PATCH", path, patchOp(map[string]any{"op": "replace", "value": map[string]any{"displayName": "X", "bogus": 1}})), 400, "invalidPath")
	e.unchanged(path, before, "invalidPath PATCH")
	gid := e.group("G")
	e.scimErr(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "userName", "value": "x"})), 400, "invalidPath")
	e.scimErr(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": scim.URIEnterprise + ":department", "value": "x"})), 400, "invalidPath")
}

// Removing active asserts nothing (Gatehouse has no unset status, and RFC
// 7643 gives active no default): a disabled user stays disabled, an
// enabled one enabled, and the version is kept.
func TestSCIM_R11_RemoveActiveKeepsStatus(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen")
	path := "/Users/" + id
	e.must(200, "PATCH", path, patchOp(map[string]any{"op": "replace", "path": "active", "value": false}))
	before := e.state(path)
	r := e.must(200, "PATCH", path, patchOp(map[string]any{"op": "remove", "path": "active"}))
	if get(r.Body, "active") != false {
		t.Errorf("after remove active: %s", r.Raw)
	}
	e.unchanged(path, before, "remove active")
	u, err := e.st.GetUser(e.ctx, id)
	if err != nil || u.Status != domain.UserDisabled {
		t.Errorf("stored status = %s (%v), want disabled", u.Status, err)
	}
	other := e.user("active-one")
	if r := e.must(200, "PATCH", "/Users/"+other, patchOp(map[string]any{"op": "remove", "path": "active"})); get(r.Body, "active") != true {
		t.Errorf("enabled user after remove active: %s", r.Raw)
	}
}

// RFC 7643 §7: canonicalValues where Gatehouse keeps only some values;
// a member of another type than User or Group is refused, saying why.
func TestRFC7643_7_CanonicalValues(t *testing.T) {
	e := newEnv(t)
	sub := func(schema, attr, sub string) map[string]any {
		r := e.must(200, "GET", "/Schemas/"+schema, nil)
		attrs, _ := r.Body["attributes"].([]any)
		for _, a := range attrs {
			if str(a, "name") != attr {
				continue
			}
			subs, _ := get(a, "subAttributes").([]any)
			for _, s := range subs {
				if str(s, "name") == sub {
					return s.(map[string]any)
				}
			}
		}
		t.Fatalf("no %s.%s in %s", attr, sub, schema)
		return nil
	}
	canon := func(m map[string]any) []string {
		var out []string
		l, _ := m["canonicalValues"].([]any)
		for _, v := range l {
			out = append(out, v.(string))
		}
		return out
	}
	if got := canon(sub(scim.URIGroup, "members", "type")); !slices.Equal(got, []string{"User", "Group"}) {
		t.Errorf("members.type canonicalValues = %v", got)
	}
	if got := sub(scim.URIGroup, "members", "$ref")["referenceTypes"]; !slices.Equal(toStrings(got), []string{"User", "Group"}) {
		t.Errorf("members.$ref referenceTypes = %v", got)
	}
	if got := canon(sub(scim.URIUser, "emails", "type")); !slices.Equal(got, []string{"work"}) {
		t.Errorf("emails.type canonicalValues = %v", got)
	}
	u := e.user("a")
	// A type outside canonicalValues is refused; so is a type that does not
	// fit the id (a user's id as a Group).
	for typ, want := range map[string]string{"Device": "members[1].type", "Group": "members[1].value"} {
		r := e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "G" + typ,
			"members": []any{map[string]any{"value": u, "type": "User"}, map[string]any{"value": u, "type": typ}}})
		e.scimErr(r, 400, "invalidValue")
		d := str(r.Body, "detail")
		if !strings.Contains(d, want) || typ == "Device" && !strings.Contains(d, typ) || typ == "Group" && !strings.Contains(d, "among the groups provisioned over SCIM") {
			t.Errorf("detail for type %s = %q", typ, d)
		}
	}
	gid := e.group("G")
	e.scimErr(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members",
		"value": []any{map[string]any{"value": u, "type": "Group"}}})), 400, "invalidValue")
	e.must(204, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members",
		"value": []any{map[string]any{"value": u, "type": "user"}}}))
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// RFC 7643 §3.1: externalId is common to all resources; a Group's is
// stored, returned, case-exact in filters, changed by PATCH and PUT (kept
// by a PUT without it) and audited as a group.update.
func TestRFC7643_3_1_GroupExternalID(t *testing.T) {
	e := newEnv(t)
	r := e.must(201, "POST", "/Groups", map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "Ops", "externalId": "Entra-7f3a"})
	gid := str(r.Body, "id")
	if str(r.Body, "externalId") != "Entra-7f3a" {
		t.Errorf("created group = %s", r.Raw)
	}
	e.group("Other")
	if got := names(e.must(200, "GET", "/Groups?filter="+q(`externalId eq "Entra-7f3a"`), nil), "id"); !slices.Equal(got, []string{gid}) {
		t.Errorf("filter externalId eq = %v", got)
	}
	if n := num(e.must(200, "GET", "/Groups?filter="+q(`externalId eq "entra-7f3a"`), nil).Body, "totalResults"); n != 0 {
		t.Errorf("externalId compared regardless of case: %d results", n)
	}
	if got := names(e.must(200, "GET", "/Groups?filter="+q(`externalId pr`), nil), "displayName"); !slices.Equal(got, []string{"Ops"}) {
		t.Errorf("filter externalId pr = %v", got)
	}
	e.must(204, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "path": "externalId", "value": "Entra-8"}))
	if got := str(e.must(200, "GET", "/Groups/"+gid, nil).Body, "externalId"); got != "Entra-8" {
		t.Errorf("after PATCH externalId = %q", got)
	}
	e.must(200, "PUT", "/Groups/"+gid, map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "Ops"})
	if got := str(e.must(200, "GET", "/Groups/"+gid, nil).Body, "externalId"); got != "Entra-8" {
		t.Errorf("a PUT without externalId changed it to %q", got)
	}
	e.must(200, "PUT", "/Groups/"+gid, map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "Ops", "externalId": "Entra-9"})
	g, err := e.st.GetGroup(e.ctx, gid)
	if err != nil || g.ExternalID != "Entra-9" {
		t.Errorf("stored external id = %q (%v)", g.ExternalID, err)
	}
	e.must(204, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": "externalId"}))
	if r := e.must(200, "GET", "/Groups/"+gid, nil); get(r.Body, "externalId") != nil {
		t.Errorf("after remove externalId: %s", r.Raw)
	}
	page, err := e.st.ListAudit(e.ctx, store.AuditQuery{TargetID: gid, Action: "group.update"})
	if err != nil || len(page.Items) != 3 {
		t.Errorf("group.update records = %d (%v), want 3 (PATCH, PUT, remove)", len(page.Items), err)
	}
	e.scimErr(e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "Long", "externalId": strings.Repeat("x", 300)}), 400, "invalidValue")
}
