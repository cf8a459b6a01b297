package scim_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api/scim"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// One test per RFC 7644 requirement (MUST/SHALL) that applies to a
// provider of Users and Groups, named after its section.

// §2: every request is authenticated; Gatehouse takes bearer API tokens
// whose user holds scim.provision, and refuses sessions and anonymous
// requests.
func TestRFC7644_2_Authentication(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/Users", nil, "Authorization", "")
	e.scimErr(r, 401, "")
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	e.scimErr(e.do("GET", "/Users", nil, "Authorization", "Basic eDp5"), 401, "")
	e.scimErr(e.do("GET", "/Users", nil, "Authorization", "", "Cookie", "session="+e.admin.UserID), 401, "")
	// A token limited to something else than scim.provision.
	e.scimErr(e.do("GET", "/Users", nil, "Authorization", "Bearer test:"+e.admin.UserID+":users.view"), 403, "")
	// An unlimited token of the administrator carries scim.provision.
	e.must(200, "GET", "/Users", nil, "Authorization", "Bearer test:"+e.admin.UserID)
}

// The token's user must hold the users.*/groups.* permission each write
// needs (R21): scim.provision does not imply them.
func TestSCIM_R21_TokenNeedsTheUsersRights(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	// A System Member (view only) in a group that grants scim.provision.
	member, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: "viewer", SystemRoleID: domain.RoleSystemMemberID})
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "Provisioners", Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermScimProvision}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AddMembers(ctx, e.admin, g.ID, []service.MemberInput{{UserID: member.ID}}); err != nil {
		t.Fatal(err)
	}
	tok := "Bearer test:" + member.ID + ":" + domain.PermScimProvision
	e.must(200, "GET", "/Users", nil, "Authorization", tok) // users.view is theirs
	r := e.do("POST", "/Users", map[string]any{"schemas": []string{scim.URIUser}, "userName": "x"}, "Authorization", tok)
	e.scimErr(r, 403, "")
	if !strings.Contains(str(r.Body, "detail"), "users.edit") {
		t.Errorf("detail does not name users.edit: %s", r.Raw)
	}
	// The refusal is audited (R29), as over REST.
	page, err := e.st.ListAudit(ctx, store.AuditQuery{ActorID: member.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) == 0 || page.Items[0].Outcome != domain.OutcomeDenied {
		t.Errorf("no denied audit record: %+v", page.Items)
	}
	// users.view without groups.view: users are listed, without groups.
	reader, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	g2, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "Readers", Scope: domain.ScopeSystem,
		SystemPermissions: []string{domain.PermScimProvision, domain.PermUsersView}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AddMembers(ctx, e.admin, g2.ID, []service.MemberInput{{UserID: reader.ID}}); err != nil {
		t.Fatal(err)
	}
	uid := e.user("listed")
	e.group("Hidden", uid)
	rtok := "Bearer test:" + reader.ID + ":" + domain.PermScimProvision
	if r := e.must(200, "GET", "/Users", nil, "Authorization", rtok); len(resources(r)) != 1 || resources(r)[0]["groups"] != nil {
		t.Errorf("users without groups.view = %s", r.Raw)
	}
	e.scimErr(e.do("GET", "/Groups", nil, "Authorization", rtok), 403, "")
	// A System Manager without scim.provision cannot use SCIM at all.
	mgr, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: "manager", SystemRoleID: domain.RoleSystemManagerID})
	if err != nil {
		t.Fatal(err)
	}
	e.scimErr(e.do("GET", "/Users", nil, "Authorization", "Bearer test:"+mgr.ID+":"+domain.PermScimProvision), 403, "")
}

// SCIM writes are audited like REST writes (R29), and users created over
// SCIM have source scim; SCIM sees only those.
func TestSCIM_R29_AuditAndSource(t *testing.T) {
	e := newEnv(t)
	id := e.user("alice")
	u, err := e.st.GetUser(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Source != domain.SourceSCIM {
		t.Errorf("source = %s, want scim", u.Source)
	}
	page, err := e.st.ListAudit(e.ctx, store.AuditQuery{ActorID: e.admin.UserID, Action: "user.create"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].TargetID != id {
		t.Errorf("audit = %+v", page.Items)
	}
	// The local administrator is not a SCIM resource.
	e.must(404, "GET", "/Users/"+e.admin.UserID, nil)
	if r := e.must(200, "GET", "/Users", nil); num(r.Body, "totalResults") != 1 {
		t.Errorf("totalResults = %d, want 1 (local users are not listed)", num(r.Body, "totalResults"))
	}
}

// §3.1: id and meta (resourceType, created, lastModified, location,
// version) on every resource.
func TestRFC7644_3_1_CommonAttributes(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/Users/" + e.user("bjensen"), "/Groups/" + e.group("Tour Guides")} {
		r := e.must(200, "GET", path, nil)
		if str(r.Body, "id") == "" || !strings.HasSuffix(path, str(r.Body, "id")) {
			t.Errorf("%s: id = %q", path, str(r.Body, "id"))
		}
		for _, k := range []string{"meta.resourceType", "meta.created", "meta.lastModified", "meta.location", "meta.version"} {
			if str(r.Body, k) == "" {
				t.Errorf("%s: %s missing: %s", path, k, r.Raw)
			}
		}
		if want := "http://gh.example/scim/v2" + path; str(r.Body, "meta.location") != want {
			t.Errorf("location = %s, want %s", str(r.Body, "meta.location"), want)
		}
		if r.Header.Get("ETag") != str(r.Body, "meta.version") {
			t.Errorf("ETag %q != meta.version %q", r.Header.Get("ETag"), str(r.Body, "meta.version"))
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/scim+json" {
			t.Errorf("Content-Type = %s", ct)
		}
	}
}

// §3.3: 201 with the resource and a Location header; a duplicate userName
// is 409 uniqueness; readOnly attributes sent are ignored.
func TestRFC7644_3_3_Create(t *testing.T) {
	e := newEnv(t)
	r := e.must(201, "POST", "/Users", map[string]any{"schemas": []string{scim.URIUser}, "userName": "bjensen", "externalId": "bj",
		"id": "client-chosen", "groups": []any{map[string]any{"value": "x"}}, "meta": map[string]any{"version": "W/\"9\""},
		"displayName": "Babs", "active": false})
	if r.Header.Get("Location") == "" || r.Header.Get("Location") != str(r.Body, "meta.location") {
		t.Errorf("Location = %q, meta.location = %q", r.Header.Get("Location"), str(r.Body, "meta.location"))
	}
	if id := str(r.Body, "id"); id == "client-chosen" || id == "" {
		t.Errorf("id = %q: the provider assigns it", id)
	}
	if get(r.Body, "active") != false || str(r.Body, "externalId") != "bj" || get(r.Body, "groups") != nil {
		t.Errorf("created = %s", r.Raw)
	}
	e.scimErr(e.do("POST", "/Users", map[string]any{"schemas": []string{scim.URIUser}, "userName": "BJENSEN"}), 409, "uniqueness")
	e.group("Admins2")
	e.scimErr(e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "admins2"}), 409, "uniqueness")
	e.scimErr(e.do("POST", "/Users", map[string]any{"schemas": []string{scim.URIUser}}), 400, "invalidValue")
	e.scimErr(e.do("POST", "/Users", `{"userName": "x",`), 400, "invalidSyntax")
	e.scimErr(e.do("POST", "/Users", map[string]any{"schemas": []string{scim.URIGroup}, "userName": "y"}), 400, "invalidSyntax")
}

// §3.4.1: GET of a known resource is 200; of an unknown one 404.
func TestRFC7644_3_4_1_Get(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen")
	if r := e.must(200, "GET", "/Users/"+id, nil); str(r.Body, "userName") != "bjensen" {
		t.Errorf("got %s", r.Raw)
	}
	e.scimErr(e.do("GET", "/Users/nope", nil), 404, "")
	e.scimErr(e.do("GET", "/Groups/nope", nil), 404, "")
	// Built-in groups are not SCIM groups.
	e.scimErr(e.do("GET", "/Groups/"+domain.GroupAdministratorsID, nil), 404, "")
}

// §3.4.2: a query answers a ListResponse with totalResults, Resources,
// startIndex and itemsPerPage; no match is 200 with an empty list.
func TestRFC7644_3_4_2_ListResponse(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, "GET", "/Users?filter="+q(`userName eq "nobody"`), nil)
	if !hasSchema(r.Body, scim.URIListResponse) || num(r.Body, "totalResults") != 0 || r.Body["Resources"] == nil {
		t.Errorf("empty list = %s", r.Raw)
	}
	e.user("a")
	r = e.must(200, "GET", "/Users", nil)
	if num(r.Body, "totalResults") != 1 || num(r.Body, "itemsPerPage") != 1 || num(r.Body, "startIndex") != 1 {
		t.Errorf("list = %s", r.Raw)
	}
}

func q(s string) string {
	return strings.NewReplacer(" ", "%20", `"`, "%22", "[", "%5B", "]", "%5D", "(", "%28", ")", "%29").Replace(s)
}

// §3.4.2.2: the filter operators, case-insensitive per schema, and
// invalidFilter for a bad filter.
func TestRFC7644_3_4_2_2_Filtering(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", map[string]any{"displayName": "Alice Smith", "externalId": "EXT-A"})
	b := e.user("bob", map[string]any{"displayName": "Bob Jones", "active": false})
	c := e.user("carol")
	g := e.group("Readers", a, c)
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`userName eq "ALICE"`, []string{"alice"}},
		{`UserName Eq "alice"`, []string{"alice"}},
		{`externalId eq "ext-a"`, nil},
		{`externalId eq "EXT-A"`, []string{"alice"}},
		{`userName ne "alice"`, []string{"bob", "carol"}},
		{`displayName co "SMITH"`, []string{"alice"}},
		{`userName sw "b"`, []string{"bob"}},
		{`userName ew "OL"`, []string{"carol"}},
		{`userName gt "bob"`, []string{"carol"}},
		{`userName ge "bob"`, []string{"bob", "carol"}},
		{`userName lt "bob"`, []string{"alice"}},
		{`userName le "bob"`, []string{"alice", "bob"}},
		{`displayName pr`, []string{"alice", "bob"}},
		{`active eq false`, []string{"bob"}},
		{`emails[type eq "work" and value ew "@example.org"] and not (userName eq "bob")`, []string{"alice", "carol"}},
		{`(userName eq "alice" or userName eq "bob") and active eq true`, []string{"alice"}},
		{`groups.value eq "` + g + `"`, []string{"alice", "carol"}},
		{`meta.created gt "2000-01-01T00:00:00Z"`, []string{"alice", "bob", "carol"}},
		{`id eq "` + b + `"`, []string{"bob"}},
	} {
		r := e.must(200, "GET", "/Users?sortBy=userName&filter="+q(tc.filter), nil)
		if got := names(r, "userName"); !slices.Equal(got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.filter, got, tc.want)
		}
	}
	r := e.must(200, "GET", "/Groups?filter="+q(`members.value eq "`+c+`"`), nil)
	if got := names(r, "displayName"); !slices.Equal(got, []string{"Readers"}) {
		t.Errorf("groups by member = %v", got)
	}
	r = e.must(200, "GET", "/Groups?filter="+q(`displayName eq "readers"`), nil)
	if len(resources(r)) != 1 {
		t.Errorf("group displayName is case-insensitive: %s", r.Raw)
	}
	for _, bad := range []string{`userName eq alice`, `userName xx "a"`, `(userName eq "a"`, `userName`} {
		e.scimErr(e.do("GET", "/Users?filter="+q(bad), nil), 400, "invalidFilter")
	}
}

// §3.4.2.3: sortBy and sortOrder (ascending by default).
func TestRFC7644_3_4_2_3_Sorting(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"displayName": "Zed"})
	e.user("Alice")
	e.user("carol", map[string]any{"displayName": "Amy"})
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"sortBy=userName", []string{"Alice", "bob", "carol"}},
		{"sortBy=userName&sortOrder=descending", []string{"carol", "bob", "Alice"}},
		{"sortBy=displayName", []string{"carol", "bob", "Alice"}}, // no displayName sorts last
		{"sortBy=emails.value", []string{"Alice", "bob", "carol"}},
	} {
		if got := names(e.must(200, "GET", "/Users?"+tc.query, nil), "userName"); !slices.Equal(got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.query, got, tc.want)
		}
	}
	e.scimErr(e.do("GET", "/Users?sortBy=userName&sortOrder=sideways", nil), 400, "invalidValue")
}

// §3.4.2.4: startIndex is 1-based (below 1 means 1), count bounds the page
// (negative means 0), totalResults counts all matches.
func TestRFC7644_3_4_2_4_Pagination(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.user(fmt.Sprintf("u%d", i))
	}
	for _, tc := range []struct {
		query       string
		want        []string
		start, page int
	}{
		{"startIndex=1&count=2", []string{"u0", "u1"}, 1, 2},
		{"startIndex=4&count=2", []string{"u3", "u4"}, 4, 2},
		{"startIndex=5&count=10", []string{"u4"}, 5, 1},
		{"startIndex=9", nil, 9, 0},
		{"startIndex=0&count=1", []string{"u0"}, 1, 1},
		{"startIndex=-3&count=1", []string{"u0"}, 1, 1},
		{"count=0", nil, 1, 0},
		{"count=-1", nil, 1, 0},
	} {
		r := e.must(200, "GET", "/Users?sortBy=userName&"+tc.query, nil)
		if got := names(r, "userName"); !slices.Equal(got, tc.want) || num(r.Body, "totalResults") != 5 ||
			num(r.Body, "startIndex") != tc.start || num(r.Body, "itemsPerPage") != tc.page {
			t.Errorf("%s: %v %s", tc.query, got, r.Raw)
		}
	}
	e.scimErr(e.do("GET", "/Users?count=many", nil), 400, "invalidValue")
}

// §3.4.2.5 (and §3.9): attributes narrows to the named attributes, id is
// always returned; excludedAttributes drops them.
func TestRFC7644_3_4_2_5_Attributes(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen", map[string]any{"displayName": "Babs"})
	r := e.must(200, "GET", "/Users/"+id+"?attributes=userName,emails.value", nil)
	if str(r.Body, "id") != id || str(r.Body, "userName") != "bjensen" || get(r.Body, "displayName") != nil ||
		str(r.Body, "emails.0.value") != "bjensen@example.org" || get(r.Body, "emails.0.type") != nil || get(r.Body, "meta") != nil {
		t.Errorf("attributes = %s", r.Raw)
	}
	r = e.must(200, "GET", "/Users?attributes=urn:ietf:params:scim:schemas:core:2.0:User:displayName", nil)
	if res := resources(r); len(res) != 1 || str(res[0], "displayName") != "Babs" || res[0]["userName"] != nil {
		t.Errorf("URI-qualified attributes = %s", r.Raw)
	}
	r = e.must(200, "GET", "/Users/"+id+"?excludedAttributes=emails,id", nil)
	if get(r.Body, "emails") != nil || str(r.Body, "id") != id || str(r.Body, "userName") == "" {
		t.Errorf("excludedAttributes = %s", r.Raw)
	}
	gid := e.group("G", id)
	r = e.must(200, "GET", "/Groups/"+gid+"?excludedAttributes=members", nil)
	if get(r.Body, "members") != nil || str(r.Body, "displayName") != "G" {
		t.Errorf("group without members = %s", r.Raw)
	}
}

// §3.4.3: POST .search with a SearchRequest, on a resource type and at
// the root.
func TestRFC7644_3_4_3_Search(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice")
	e.user("bob")
	e.group("alice-team", a)
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
		"attributes": []string{"displayName", "userName"}, "filter": `userName sw "a" or displayName sw "a"`,
		"sortBy": "meta.created", "startIndex": 1, "count": 10}
	r := e.must(200, "POST", "/Users/.search", body)
	if got := names(r, "userName"); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("Users/.search = %s", r.Raw)
	}
	r = e.must(200, "POST", "/.search", body)
	if num(r.Body, "totalResults") != 2 {
		t.Errorf("root .search = %s", r.Raw)
	}
	e.scimErr(e.do("POST", "/Users/.search", map[string]any{"filter": `userName eq "a"`}), 400, "invalidSyntax")
	e.scimErr(e.do("POST", "/Users/.search", map[string]any{"schemas": body["schemas"], "filter": `userName eq`}), 400, "invalidFilter")
	e.must(405, "GET", "/Users/.search", nil)
}

// §3.5.1: PUT replaces the resource's writable attributes; id is
// immutable; a Group's members are set.
func TestRFC7644_3_5_1_Put(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen", map[string]any{"displayName": "Babs", "externalId": "e1"})
	r := e.must(200, "PUT", "/Users/"+id, map[string]any{"schemas": []string{scim.URIUser}, "id": id, "userName": "bjensen2",
		"displayName": "Barbara", "active": false, "emails": []any{map[string]any{"value": "b2@example.org", "primary": true}}})
	if str(r.Body, "userName") != "bjensen2" || str(r.Body, "displayName") != "Barbara" || get(r.Body, "active") != false ||
		str(r.Body, "emails.0.value") != "b2@example.org" || str(r.Body, "externalId") != "e1" {
		t.Errorf("PUT = %s", r.Raw)
	}
	e.scimErr(e.do("PUT", "/Users/"+id, map[string]any{"schemas": []string{scim.URIUser}, "id": "other", "userName": "x"}), 400, "mutability")
	e.scimErr(e.do("PUT", "/Users/"+id, map[string]any{"schemas": []string{scim.URIUser}, "userame": "x"}), 400, "invalidValue")
	e.scimErr(e.do("PUT", "/Users/nope", map[string]any{"schemas": []string{scim.URIUser}, "userName": "x"}), 404, "")

	u2 := e.user("u2")
	gid := e.group("G", id)
	r = e.must(200, "PUT", "/Groups/"+gid, map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "G2",
		"members": []any{map[string]any{"value": u2}}})
	if str(r.Body, "displayName") != "G2" || str(r.Body, "members.0.value") != u2 || get(r.Body, "members.1") != nil {
		t.Errorf("group PUT = %s", r.Raw)
	}
}

// §3.5.2: PATCH needs the PatchOp schema and is atomic: when one operation
// fails, none is applied.
func TestRFC7644_3_5_2_PatchAtomic(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen", map[string]any{"displayName": "Babs"})
	r := e.do("PATCH", "/Users/"+id, patchOp(
		map[string]any{"op": "replace", "path": "displayName", "value": "Changed"},
		map[string]any{"op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"}))
	e.scimErr(r, 400, "mutability")
	if got := str(e.must(200, "GET", "/Users/"+id, nil).Body, "displayName"); got != "Babs" {
		t.Errorf("displayName = %q after a failed PATCH, want it unchanged", got)
	}
	e.scimErr(e.do("PATCH", "/Users/"+id, map[string]any{"Operations": []any{map[string]any{"op": "add", "path": "displayName", "value": "x"}}}), 400, "invalidSyntax")
	e.scimErr(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "move", "path": "displayName"})), 400, "invalidSyntax")
	e.scimErr(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "add", "path": "emails[type eq]", "value": "x"})), 400, "invalidPath")
	e.scimErr(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "groups", "value": []any{}})), 400, "mutability")
	e.scimErr(e.do("PATCH", "/Users/nope", patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "x"})), 404, "")
}

// §3.5.2.1: add, with and without a path, to single and multi-valued
// attributes.
func TestRFC7644_3_5_2_1_PatchAdd(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen")
	r := e.must(200, "PATCH", "/Users/"+id, patchOp(
		map[string]any{"op": "add", "value": map[string]any{"displayName": "Babs", "externalId": "x9", "nickName": "ignored"}}))
	if str(r.Body, "displayName") != "Babs" || str(r.Body, "externalId") != "x9" || get(r.Body, "nickName") != nil {
		t.Errorf("add without path = %s", r.Raw)
	}
	a, b := e.user("a"), e.user("b")
	gid := e.group("G")
	rr := e.must(204, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members",
		"value": []any{map[string]any{"value": a}, map[string]any{"value": b}}}))
	if rr.Header.Get("ETag") == "" {
		t.Error("PATCH 204 without ETag")
	}
	r = e.must(200, "GET", "/Groups/"+gid, nil)
	if len(get(r.Body, "members").([]any)) != 2 {
		t.Errorf("members = %s", r.Raw)
	}
	// Adding a member that is already there changes nothing (no error).
	e.must(204, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": a}}}))
	e.scimErr(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "nope"}}})), 400, "invalidValue")
	e.scimErr(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": "string id"})), 400, "invalidValue")
	// The local administrator cannot be put in a group over SCIM.
	e.scimErr(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": e.admin.UserID}}})), 400, "invalidValue")
	// attributes asks for the resource back.
	r = e.must(200, "PATCH", "/Groups/"+gid+"?attributes=members", patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": a}}}))
	if len(get(r.Body, "members").([]any)) != 2 {
		t.Errorf("PATCH with attributes = %s", r.Raw)
	}
}

// §3.5.2.2: remove needs a path (noTarget), removes a whole attribute or
// the values a filter selects.
func TestRFC7644_3_5_2_2_PatchRemove(t *testing.T) {
	e := newEnv(t)
	a, b, c := e.user("a"), e.user("b"), e.user("c")
	gid := e.group("G", a, b, c)
	e.must(204, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + b + `"]`}))
	r := e.must(200, "GET", "/Groups/"+gid, nil)
	if s := string(r.Raw); strings.Contains(s, b) || !strings.Contains(s, a) || !strings.Contains(s, c) {
		t.Errorf("after remove of b: %s", r.Raw)
	}
	e.must(204, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": "members"}))
	if r := e.must(200, "GET", "/Groups/"+gid, nil); get(r.Body, "members") != nil {
		t.Errorf("after remove of all: %s", r.Raw)
	}
	e.scimErr(e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove"})), 400, "noTarget")
	id := e.user("d", map[string]any{"displayName": "Dee"})
	r = e.must(200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "remove", "path": "displayName"}))
	if get(r.Body, "displayName") != nil {
		t.Errorf("displayName not removed: %s", r.Raw)
	}
	e.scimErr(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "remove", "path": "userName"})), 400, "mutability")
}

// §3.5.2.3: replace, of attributes, of sub-attributes selected by a value
// filter, and of a Group's whole member list.
func TestRFC7644_3_5_2_3_PatchReplace(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen")
	r := e.must(200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": `emails[type eq "work"].value`, "value": "new@example.org"}))
	if str(r.Body, "emails.0.value") != "new@example.org" {
		t.Errorf("emails[type eq work].value = %s", r.Raw)
	}
	r = e.must(200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "value": map[string]any{"active": "False", "userName": "babs"}}))
	if get(r.Body, "active") != false || str(r.Body, "userName") != "babs" {
		t.Errorf("replace without path = %s", r.Raw)
	}
	e.scimErr(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": `emails[type eq "home"]`, "value": map[string]any{"value": "h@example.org"}})), 400, "noTarget")
	e.scimErr(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "active", "value": "maybe"})), 400, "invalidValue")
	// Okta's rename carries the resource's own id: fine when unchanged.
	e.scimErr(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "value": map[string]any{"id": "other"}})), 400, "mutability")
	e.must(200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "value": map[string]any{"id": id, "displayName": "X"}}))
	a, b, c := e.user("a"), e.user("b"), e.user("c")
	gid := e.group("G", a, b)
	e.must(204, "PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "path": "members", "value": []any{map[string]any{"value": c}}},
		map[string]any{"op": "replace", "path": "displayName", "value": "G renamed"}))
	r = e.must(200, "GET", "/Groups/"+gid, nil)
	if str(r.Body, "displayName") != "G renamed" || str(r.Body, "members.0.value") != c || get(r.Body, "members.1") != nil {
		t.Errorf("replace members = %s", r.Raw)
	}
}

// §3.6: DELETE is 204, then the resource is 404.
func TestRFC7644_3_6_Delete(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen")
	gid := e.group("G", id)
	e.must(204, "DELETE", "/Users/"+id, nil)
	e.scimErr(e.do("GET", "/Users/"+id, nil), 404, "")
	e.scimErr(e.do("DELETE", "/Users/"+id, nil), 404, "")
	e.must(204, "DELETE", "/Groups/"+gid, nil)
	e.scimErr(e.do("GET", "/Groups/"+gid, nil), 404, "")
	e.scimErr(e.do("DELETE", "/Users/"+e.admin.UserID, nil), 404, "")
}

// §3.7: Bulk with bulkId references (in any order), failOnErrors, and the
// advertised limits.
func TestRFC7644_3_7_Bulk(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": []any{
		// The group refers to a user created by a later operation.
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": map[string]any{"schemas": []string{scim.URIGroup},
			"displayName": "Bulk Group", "members": []any{map[string]any{"type": "User", "value": "bulkId:u1"}}}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1", "data": map[string]any{"schemas": []string{scim.URIUser}, "userName": "bulk1"}},
		map[string]any{"method": "PATCH", "path": "/Users/bulkId:u1", "data": patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "B1"})},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "dup", "data": map[string]any{"schemas": []string{scim.URIUser}, "userName": "BULK1"}},
	}}
	r := e.must(200, "POST", "/Bulk", body)
	ops, _ := r.Body["Operations"].([]any)
	if len(ops) != 4 {
		t.Fatalf("bulk = %s", r.Raw)
	}
	statuses := []string{str(ops[0], "status"), str(ops[1], "status"), str(ops[2], "status"), str(ops[3], "status")}
	if !slices.Equal(statuses, []string{"201", "201", "200", "409"}) || str(ops[3], "response.scimType") != "uniqueness" {
		t.Errorf("statuses = %v: %s", statuses, r.Raw)
	}
	gr := e.must(200, "GET", "/Groups?filter="+q(`displayName eq "Bulk Group"`), nil)
	if str(resources(gr)[0], "members.0.display") != "B1" {
		t.Errorf("group = %s", gr.Raw)
	}
	// failOnErrors: 1 stops after the first error.
	body = map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "failOnErrors": 1, "Operations": []any{
		map[string]any{"method": "DELETE", "path": "/Users/nope"},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "x", "data": map[string]any{"schemas": []string{scim.URIUser}, "userName": "never"}},
	}}
	r = e.must(200, "POST", "/Bulk", body)
	if ops, _ := r.Body["Operations"].([]any); len(ops) != 1 || str(ops[0], "status") != "404" {
		t.Errorf("failOnErrors = %s", r.Raw)
	}
	if rr := e.must(200, "GET", "/Users?filter="+q(`userName eq "never"`), nil); num(rr.Body, "totalResults") != 0 {
		t.Error("operation after failOnErrors ran")
	}
	// A reference to a failed POST fails too; a cycle fails with 409.
	body = map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": []any{
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "bad", "data": map[string]any{"schemas": []string{scim.URIUser}}},
		map[string]any{"method": "PATCH", "path": "/Users/bulkId:bad", "data": patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "x"})},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "c1", "data": map[string]any{"displayName": "C1", "members": []any{map[string]any{"value": "bulkId:c2"}}}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "c2", "data": map[string]any{"displayName": "C2", "members": []any{map[string]any{"value": "bulkId:c1"}}}},
	}}
	r = e.must(200, "POST", "/Bulk", body)
	ops, _ = r.Body["Operations"].([]any)
	got := []string{}
	for _, o := range ops {
		got = append(got, str(o, "status"))
	}
	if !slices.Equal(got, []string{"400", "409", "409", "409"}) {
		t.Errorf("failed references = %v: %s", got, r.Raw)
	}
	// maxOperations.
	many := []any{}
	for i := range scim.MaxBulkOps + 1 {
		many = append(many, map[string]any{"method": "DELETE", "path": fmt.Sprintf("/Users/%d", i)})
	}
	e.scimErr(e.do("POST", "/Bulk", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": many}), 413, "")
	// maxPayloadSize.
	e.scimErr(e.do("POST", "/Bulk", `{"x": "`+strings.Repeat("a", scim.MaxBodyBytes)+`"}`), 413, "")
}

// §3.11: /Me is the authenticated user.
func TestRFC7644_3_11_Me(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, "GET", "/Me", nil)
	if str(r.Body, "id") != e.admin.UserID || str(r.Body, "userName") != "admin" {
		t.Errorf("/Me = %s", r.Raw)
	}
	e.scimErr(e.do("DELETE", "/Me", nil), 501, "")
}

// §3.12: errors carry the Error schema, status as a string, scimType
// where one applies, and detail.
func TestRFC7644_3_12_Errors(t *testing.T) {
	e := newEnv(t)
	e.scimErr(e.do("GET", "/Users?filter=x", nil), 400, "invalidFilter")
	e.scimErr(e.do("GET", "/Nothing", nil), 404, "")
	e.scimErr(e.do("DELETE", "/Users", nil), 405, "")
	e.scimErr(e.do("POST", "/Users", "userName=x", "Content-Type", "application/x-www-form-urlencoded"), 415, "")
}

// §3.14: ETags: If-None-Match answers 304 for the current version; a
// stale If-Match is 412 and changes nothing.
func TestRFC7644_3_14_Versioning(t *testing.T) {
	e := newEnv(t)
	id := e.user("bjensen")
	r := e.must(200, "GET", "/Users/"+id, nil)
	v1 := r.Header.Get("ETag")
	if !strings.HasPrefix(v1, `W/"`) {
		t.Fatalf("ETag = %q", v1)
	}
	if rr := e.do("GET", "/Users/"+id, nil, "If-None-Match", v1); rr.Status != http.StatusNotModified {
		t.Errorf("If-None-Match current = %d", rr.Status)
	}
	r = e.must(200, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "B"}), "If-Match", v1)
	v2 := r.Header.Get("ETag")
	if v2 == v1 || str(r.Body, "meta.version") != v2 {
		t.Errorf("version after PATCH = %q (was %q)", v2, v1)
	}
	e.must(200, "GET", "/Users/"+id, nil, "If-None-Match", v1)
	e.scimErr(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "C"}), "If-Match", v1), 412, "")
	e.scimErr(e.do("PUT", "/Users/"+id, map[string]any{"userName": "x"}, "If-Match", v1), 412, "")
	e.scimErr(e.do("DELETE", "/Users/"+id, nil, "If-Match", v1), 412, "")
	e.scimErr(e.do("DELETE", "/Users/"+id, nil, "If-Match", "garbage"), 400, "invalidSyntax")
	if got := str(e.must(200, "GET", "/Users/"+id, nil).Body, "displayName"); got != "B" {
		t.Errorf("displayName = %q after refused writes", got)
	}
	e.must(204, "DELETE", "/Users/"+id, nil, "If-Match", v2)
	gid := e.group("G")
	gv := e.must(200, "GET", "/Groups/"+gid, nil).Header.Get("ETag")
	e.must(200, "PUT", "/Groups/"+gid, map[string]any{"displayName": "G2"}, "If-Match", gv)
	e.scimErr(e.do("PUT", "/Groups/"+gid, map[string]any{"displayName": "G3"}, "If-Match", gv), 412, "")
}

// §4: discovery says what is supported.
func TestRFC7644_4_Discovery(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, "GET", "/ServiceProviderConfig", nil)
	for _, k := range []string{"patch.supported", "bulk.supported", "filter.supported", "sort.supported", "etag.supported"} {
		if get(r.Body, k) != true {
			t.Errorf("%s = %v", k, get(r.Body, k))
		}
	}
	if get(r.Body, "changePassword.supported") != false || num(r.Body, "bulk.maxOperations") != scim.MaxBulkOps ||
		num(r.Body, "bulk.maxPayloadSize") != scim.MaxBodyBytes || num(r.Body, "filter.maxResults") != scim.MaxPageCount ||
		str(r.Body, "authenticationSchemes.0.type") != "oauthbearertoken" {
		t.Errorf("ServiceProviderConfig = %s", r.Raw)
	}
	r = e.must(200, "GET", "/ResourceTypes", nil)
	if got := names(r, "endpoint"); !slices.Equal(got, []string{"/Users", "/Groups"}) ||
		str(resources(r)[0], "schemaExtensions.0.schema") != scim.URIEnterprise {
		t.Errorf("ResourceTypes = %s", r.Raw)
	}
	e.must(200, "GET", "/ResourceTypes/User", nil)
	r = e.must(200, "GET", "/Schemas", nil)
	if got := names(r, "id"); !slices.Equal(got, []string{scim.URIUser, scim.URIGroup, scim.URIEnterprise}) {
		t.Errorf("Schemas = %v", got)
	}
	r = e.must(200, "GET", "/Schemas/"+scim.URIUser, nil)
	attrs, _ := r.Body["attributes"].([]any)
	var userName map[string]any
	for _, a := range attrs {
		if str(a, "name") == "userName" {
			userName = a.(map[string]any)
		}
	}
	if userName == nil || userName["uniqueness"] != "server" || userName["caseExact"] != false || userName["required"] != true {
		t.Errorf("userName attribute = %v", userName)
	}
	e.scimErr(e.do("GET", "/Schemas/urn:nope", nil), 404, "")
}
