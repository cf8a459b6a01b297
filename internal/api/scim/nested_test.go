package scim_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/api/scim"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Nested groups over SCIM (issue 20, RFC 7643 §4.2): a Group's members
// are users (type User, $ref /Users/{id}) and groups (type Group, $ref
// /Groups/{id}); the service applies every nesting rule.

// memberSet reads a Group's members as value → type, checking that each
// $ref points where its type says.
func (e *env) memberSet(body map[string]any) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	l, _ := body["members"].([]any)
	for _, m := range l {
		v, typ, ref := str(m, "value"), str(m, "type"), str(m, "$ref")
		if want := "http://gh.example" + scim.Prefix + "/" + typ + "s/" + v; ref != want {
			e.t.Errorf("member %s of type %s has $ref %q, want %q", v, typ, ref, want)
		}
		out[v] = typ
	}
	return out
}

func (e *env) membersOf(gid string) map[string]string {
	e.t.Helper()
	return e.memberSet(e.must(200, "GET", "/Groups/"+gid, nil).Body)
}

func member(id, typ string) map[string]any {
	m := map[string]any{"value": id}
	if typ != "" {
		m["type"] = typ
	}
	return m
}

// TestSCIMNestedGroupsGetShowsBothKinds: POST takes a user and a group;
// GET, the list, filters and attribute selection show both kinds.
func TestSCIMNestedGroupsGetShowsBothKinds(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", map[string]any{"displayName": "Alice A"})
	child := e.group("Site 1")
	r := e.must(201, "POST", "/Groups", map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "Sites",
		"members": []any{member(a, "User"), member(child, "Group")}})
	top := str(r.Body, "id")
	want := map[string]string{a: "User", child: "Group"}
	if got := e.memberSet(r.Body); !maps.Equal(got, want) {
		t.Errorf("POST answer members = %v, want %v", got, want)
	}
	if got := e.membersOf(top); !maps.Equal(got, want) {
		t.Errorf("GET members = %v, want %v", got, want)
	}
	for _, m := range e.must(200, "GET", "/Groups/"+top, nil).Body["members"].([]any) {
		if d := str(m, "display"); d != map[string]string{a: "Alice A", child: "Site 1"}[str(m, "value")] {
			t.Errorf("member %s display = %q", str(m, "value"), d)
		}
	}
	l := e.must(200, "GET", "/Groups?filter="+q(`members.type eq "Group"`), nil)
	if got := names(l, "displayName"); !slices.Equal(got, []string{"Sites"}) {
		t.Errorf("groups with a group member = %v", got)
	}
	if got := e.memberSet(resources(l)[0]); !maps.Equal(got, want) {
		t.Errorf("listed members = %v, want %v", got, want)
	}
	if r := e.must(200, "GET", "/Groups/"+top+"?excludedAttributes=members", nil); r.Body["members"] != nil {
		t.Errorf("excludedAttributes=members still shows %v", r.Body["members"])
	}
	r = e.must(200, "GET", "/Groups/"+top+"?attributes=members.type", nil)
	if l, _ := r.Body["members"].([]any); len(l) != 2 || str(l[0], "type") == "" || str(l[0], "value") != "" || r.Body["displayName"] != nil {
		t.Errorf("attributes=members.type = %s", r.Raw)
	}
	// The nested group's own members are not the parent's direct members.
	e.must(204, "PATCH", "/Groups/"+child, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{member(e.user("bob"), "")}}))
	if got := e.membersOf(top); !maps.Equal(got, want) {
		t.Errorf("members after bob joined Site 1 = %v, want %v (direct members only)", got, want)
	}
}

// TestSCIMNestedGroupsPatch: add, remove and replace of group members by
// every path form, a member without type resolved to a user first, then
// a group.
func TestSCIMNestedGroupsPatch(t *testing.T) {
	type ids struct{ a, b, g1, g2 string }
	cases := []struct {
		name string
		ops  func(x ids) []map[string]any
		want func(x ids) map[string]string
	}{
		{"add a group with type Group",
			func(x ids) []map[string]any {
				return []map[string]any{{"op": "add", "path": "members", "value": []any{member(x.g2, "Group")}}}
			},
			func(x ids) map[string]string { return map[string]string{x.a: "User", x.g1: "Group", x.g2: "Group"} }},
		{"add without type: a group's id is a group",
			func(x ids) []map[string]any {
				return []map[string]any{{"op": "add", "path": "members", "value": []any{member(x.g2, ""), member(x.b, "")}}}
			},
			func(x ids) map[string]string {
				return map[string]string{x.a: "User", x.b: "User", x.g1: "Group", x.g2: "Group"}
			}},
		{"add without a path (Okta)",
			func(x ids) []map[string]any {
				return []map[string]any{{"op": "add", "value": map[string]any{"members": []any{member(x.g2, "group")}}}}
			},
			func(x ids) map[string]string { return map[string]string{x.a: "User", x.g1: "Group", x.g2: "Group"} }},
		{"remove members[value eq]",
			func(x ids) []map[string]any {
				return []map[string]any{{"op": "remove", "path": `members[value eq "` + x.g1 + `"]`}}
			},
			func(x ids) map[string]string { return map[string]string{x.a: "User"} }},
		{"remove members[type eq Group]",
			func(x ids) []map[string]any {
				return []map[string]any{
					{"op": "add", "path": "members", "value": []any{member(x.g2, "Group")}},
					{"op": "remove", "path": `members[type eq "Group"]`}}
			},
			func(x ids) map[string]string { return map[string]string{x.a: "User"} }},
		{"remove with members as value (Entra)",
			func(x ids) []map[string]any {
				return []map[string]any{{"op": "remove", "path": "members", "value": []any{member(x.g1, "")}}}
			},
			func(x ids) map[string]string { return map[string]string{x.a: "User"} }},
		{"replace members with a mix",
			func(x ids) []map[string]any {
				return []map[string]any{{"op": "replace", "path": "members", "value": []any{member(x.b, "User"), member(x.g2, "Group")}}}
			},
			func(x ids) map[string]string { return map[string]string{x.b: "User", x.g2: "Group"} }},
		{"replace members[type eq Group] by another group",
			func(x ids) []map[string]any {
				return []map[string]any{{"op": "replace", "path": `members[type eq "Group"].value`, "value": x.g2}}
			},
			func(x ids) map[string]string { return map[string]string{x.a: "User", x.g2: "Group"} }},
		{"remove all members",
			func(x ids) []map[string]any { return []map[string]any{{"op": "remove", "path": "members"}} },
			func(x ids) map[string]string { return map[string]string{} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			x := ids{a: e.user("a"), b: e.user("b"), g1: e.group("G1"), g2: e.group("G2")}
			top := e.group("Top", x.a, x.g1)
			if got, want := e.membersOf(top), map[string]string{x.a: "User", x.g1: "Group"}; !maps.Equal(got, want) {
				t.Fatalf("initial members = %v, want %v", got, want)
			}
			e.must(204, "PATCH", "/Groups/"+top, patchOp(c.ops(x)...))
			if got, want := e.membersOf(top), c.want(x); !maps.Equal(got, want) {
				t.Errorf("members = %v, want %v", got, want)
			}
		})
	}
}

// TestSCIMNestedGroupsPutReplacesAMix: PUT's members replace users and
// groups alike; a group member SCIM does not see (Administrators, nested
// with the REST API) is kept, as a local user member is.
func TestSCIMNestedGroupsPutReplacesAMix(t *testing.T) {
	e := newEnv(t)
	a, b := e.user("a"), e.user("b")
	g1, g2 := e.group("G1"), e.group("G2")
	top := e.group("Top", a, g1)
	r := e.must(200, "PUT", "/Groups/"+top, map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "Top",
		"members": []any{member(b, "User"), member(g2, "Group")}})
	want := map[string]string{b: "User", g2: "Group"}
	if got := e.memberSet(r.Body); !maps.Equal(got, want) {
		t.Errorf("PUT answer members = %v, want %v", got, want)
	}
	gms, err := e.st.ListGroupMembers(e.ctx, top)
	if err != nil || len(gms) != 1 || gms[0].MemberGroupID != g2 {
		t.Errorf("stored group members = %+v (%v), want G2 only", gms, err)
	}
	e.must(200, "PUT", "/Groups/"+top, map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "Top"})
	if got := e.membersOf(top); len(got) != 0 {
		t.Errorf("PUT without members left %v", got)
	}
}

// TestSCIMNestedGroupsRefusals: every nesting rule is the service's and
// answers 400 invalidValue naming the member (its place in the member
// list the PATCH makes: Outer has two members already) and the cause; a
// refused PATCH writes nothing, not even the user it also adds.
func TestSCIMNestedGroupsRefusals(t *testing.T) {
	e := newEnv(t)
	a, b := e.user("a"), e.user("b")
	inner := e.group("Inner")
	outer := e.group("Outer", a, inner)
	chain := []string{e.group("D0")}
	for i := 1; i <= 10; i++ {
		chain = append(chain, e.group("D"+string(rune('0'+i%10))+strings.Repeat("x", i/10), chain[len(chain)-1]))
	}
	cases := []struct {
		name   string
		group  string
		value  []any
		detail []string
	}{
		{"cycle", inner, []any{member(b, "User"), member(outer, "Group")}, []string{"members[1].value", "cycle", "Outer", "Inner"}},
		{"cycle without type", inner, []any{member(outer, "")}, []string{"members[0].value", "cycle"}},
		{"itself", outer, []any{member(outer, "Group")}, []string{"members[2].value", "itself"}},
		{"depth", e.group("Deep"), []any{member(chain[len(chain)-1], "Group")}, []string{"members[0].value", "deeper than the limit of 10"}},
		{"Everyone", outer, []any{member(domain.GroupEveryoneID, "Group")}, []string{"members[2].value", "implicit members"}},
		{"Public without type", outer, []any{member(domain.GroupPublicID, "")}, []string{"implicit members"}},
		{"Administrators", outer, []any{member(domain.GroupAdministratorsID, "Group")}, []string{"members[2].value", "among the groups provisioned over SCIM"}},
		{"no such id", outer, []any{member("no-such-id", "")}, []string{"members[2].value", "no user and no group"}},
		{"a group's id as a User", outer, []any{member(inner, "User")}, []string{"members[2].value", "among the users provisioned over SCIM"}},
		{"unknown type", outer, []any{member(inner, "Device")}, []string{"members[2].type", "Device"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.must(200, "GET", "/Groups/"+c.group, nil)
			audits, err := e.st.ListAudit(e.ctx, store.AuditQuery{TargetID: c.group})
			if err != nil {
				t.Fatal(err)
			}
			r := e.do("PATCH", "/Groups/"+c.group, patchOp(map[string]any{"op": "add", "path": "members", "value": c.value}))
			e.scimErr(r, 400, "invalidValue")
			for _, d := range c.detail {
				if !strings.Contains(str(r.Body, "detail"), d) {
					t.Errorf("detail %q does not name %q", str(r.Body, "detail"), d)
				}
			}
			after := e.must(200, "GET", "/Groups/"+c.group, nil)
			if str(after.Body, "meta.version") != str(before.Body, "meta.version") || !maps.Equal(e.memberSet(after.Body), e.memberSet(before.Body)) {
				t.Errorf("the refused PATCH changed the group: %s → %s", before.Raw, after.Raw)
			}
			if again, err := e.st.ListAudit(e.ctx, store.AuditQuery{TargetID: c.group}); err != nil || len(again.Items) != len(audits.Items) {
				t.Errorf("audit records on the group %d → %d (%v): a refused value writes none", len(audits.Items), len(again.Items), err)
			}
		})
	}
	// The same through PUT and POST.
	e.scimErr(e.do("PUT", "/Groups/"+inner, map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "Inner",
		"members": []any{member(outer, "Group")}}), 400, "invalidValue")
	e.scimErr(e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URIGroup}, "displayName": "New",
		"members": []any{member(domain.GroupEveryoneID, "Group")}}), 400, "invalidValue")
	if n := num(e.must(200, "GET", "/Groups?filter="+q(`displayName eq "New"`), nil).Body, "totalResults"); n != 0 {
		t.Errorf("a refused POST created the group (%d found)", n)
	}
}

// TestSCIM_R29_NestingIsAuditedAsOverSCIM: each nested group added or
// removed over SCIM is one audit record saying so.
func TestSCIM_R29_NestingIsAuditedAsOverSCIM(t *testing.T) {
	e := newEnv(t)
	g1 := e.group("G1")
	top := e.group("Top", g1)
	e.must(204, "PATCH", "/Groups/"+top, patchOp(map[string]any{"op": "remove", "path": "members"}))
	for _, action := range []string{"group.group_member_add", "group.group_member_remove"} {
		page, err := e.st.ListAudit(e.ctx, store.AuditQuery{TargetID: top, Action: action})
		if err != nil || len(page.Items) != 1 || !strings.Contains(page.Items[0].Detail, "G1; over SCIM") {
			t.Errorf("%s records = %+v (%v), want one naming G1 over SCIM", action, page.Items, err)
		}
	}
}

// TestSCIM_R23_NestingIntoAnExclusiveProjectIsRefused: a user reached
// through two groups present in an exclusive project is refused at the
// SCIM write that would do it, both paths named, and nothing is written.
func TestSCIM_R23_NestingIntoAnExclusiveProjectIsRefused(t *testing.T) {
	e := newEnv(t)
	trial, _, err := e.svc.CreateProject(e.ctx, e.admin, domain.Project{Name: "Trial", MembershipMode: domain.ModeExclusive})
	if err != nil {
		t.Fatal(err)
	}
	a := e.user("alice")
	monitors, site1 := e.group("Monitors", a), e.group("Site 1", a)
	sites := e.group("Sites")
	for _, g := range []string{monitors, sites} {
		if _, _, err := e.svc.ImportGroup(e.ctx, e.admin, g, []string{trial.ID}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.do("PATCH", "/Groups/"+sites, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{member(site1, "Group")}}))
	e.scimErr(r, 400, "invalidValue")
	if d := str(r.Body, "detail"); !strings.Contains(d, "R23") || !strings.Contains(d, "alice → Monitors") || !strings.Contains(d, "alice → Site 1 → Sites") {
		t.Errorf("detail = %q", d)
	}
	if got := e.membersOf(sites); len(got) != 0 {
		t.Errorf("Sites members after the refusal = %v", got)
	}
}

// TestSCIM_R22_NestingNeedsWhatTheParentGives: nesting a group in one
// that grants what the token's user does not hold would hand it to the
// nested group's users: refused with 403 and audited as refused (R29),
// as over REST.
func TestSCIM_R22_NestingNeedsWhatTheParentGives(t *testing.T) {
	e := newEnv(t)
	prov, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "provisioner"})
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Provisioners", Scope: domain.ScopeSystem,
		SystemPermissions: []string{domain.PermScimProvision, domain.PermUsersView, domain.PermUsersEdit,
			domain.PermGroupsView, domain.PermGroupsEdit, domain.PermGroupsMembers, domain.PermRolesView}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AddMembers(e.ctx, e.admin, g.ID, []service.MemberInput{{UserID: prov.ID}}); err != nil {
		t.Fatal(err)
	}
	powerful, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Powerful", Scope: domain.ScopeSystem,
		SystemPermissions: []string{domain.PermUsersDelete}})
	if err != nil {
		t.Fatal(err)
	}
	e.token = "test:" + prov.ID + ":" + domain.PermScimProvision
	site := e.group("Site", e.user("u"))
	r := e.do("PATCH", "/Groups/"+powerful.ID, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{member(site, "Group")}}))
	e.scimErr(r, 403, "")
	if !strings.Contains(str(r.Body, "detail"), domain.PermUsersDelete) {
		t.Errorf("detail does not name %s: %s", domain.PermUsersDelete, r.Raw)
	}
	page, err := e.st.ListAudit(e.ctx, store.AuditQuery{ActorID: prov.ID})
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, a := range page.Items {
		if a.Outcome == domain.OutcomeDenied && strings.Contains(a.Detail, "R22") && strings.Contains(a.Detail, "Powerful") {
			denied++
		}
	}
	if denied != 1 {
		t.Errorf("denied R22 audit records naming Powerful = %d, want 1: %+v", denied, page.Items)
	}
	if gms, err := e.st.ListGroupMembers(e.ctx, powerful.ID); err != nil || len(gms) != 0 {
		t.Errorf("Powerful's group members = %+v (%v), want none", gms, err)
	}
}

// R18: a Group's members are shown by display name to a provisioner who
// may see personal information, by username to one who may not (the
// display name is personal, as on /Users).
func TestSCIM_R18_GroupMembersAreMaskedWithoutPersonalInfo(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", map[string]any{"displayName": "Alice A"})
	top := e.group("Sites", a, e.group("Site 1"))
	prov, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "prov", Email: "prov@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Provisioners", Scope: domain.ScopeSystem,
		SystemPermissions: []string{domain.PermScimProvision, domain.PermUsersView, domain.PermGroupsView}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AddMembers(e.ctx, e.admin, g.ID, []service.MemberInput{{UserID: prov.ID}}); err != nil {
		t.Fatal(err)
	}
	display := func(token string) string {
		r := e.must(200, "GET", "/Groups/"+top, nil, "Authorization", "Bearer "+token)
		for _, m := range r.Body["members"].([]any) {
			if str(m, "value") == a {
				return str(m, "display")
			}
		}
		t.Fatalf("alice is not a member: %s", r.Raw)
		return ""
	}
	if d := display(e.token); d != "Alice A" {
		t.Errorf("the administrator's provisioner sees alice as %q, want Alice A", d)
	}
	if d := display("test:" + prov.ID + ":" + domain.PermScimProvision); d != "alice" {
		t.Errorf("a provisioner without personal_info.view sees alice as %q, want her username (R18)", d)
	}
}
