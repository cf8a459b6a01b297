package rest_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Each rule of docs/model.md §8 (and R3–R9 where the API answers them) has a
// test here at the HTTP level: status codes and bodies.

const (
	admins   = domain.GroupAdministratorsID
	everyone = domain.GroupEveryoneID
	public   = domain.GroupPublicID
)

func members(ids ...string) map[string]any {
	var ms []map[string]any
	for _, id := range ids {
		ms = append(ms, map[string]any{"user_id": id})
	}
	return map[string]any{"members": ms}
}

func (e *env) can(userID, perm, res string) bool {
	e.t.Helper()
	subject := "anonymous"
	if userID != "" {
		subject = "user:" + userID
	}
	r := e.do(&e.admin, "POST", "/api/v1/check", map[string]any{"subject": subject, "permission": perm, "resource": res}).want(e.t, 200)
	return r.Body["allowed"] == true
}

func projectNames(r resp) []string {
	var out []string
	ps, _ := r.Body["projects"].([]any)
	for _, p := range ps {
		out = append(out, p.(map[string]any)["name"].(string))
	}
	slices.Sort(out)
	return out
}

func TestAPI_R3OnlyServerManageChangesAdministrators(t *testing.T) {
	e := newEnv(t)
	mgr := e.user("manager", domain.RoleSystemManagerID)
	// Escalation: a groups.members holder adding themself to Administrators.
	e.do(&mgr, "POST", "/api/v1/groups/"+admins+"/members", members(mgr.UserID)).problem(t, 403, "", "server.manage", "R3")
	e.deniedAudit(mgr, "group.member_add")
	if e.can(mgr.UserID, "server.manage", "system") {
		t.Fatal("manager holds server.manage after a refused add")
	}
	// The last active administrator cannot be removed.
	e.do(&e.admin, "DELETE", "/api/v1/groups/"+admins+"/members/"+e.admin.UserID, nil).problem(t, 409, "", "R3")
	bob := e.user("bob", "")
	r := e.add(admins, bob)
	if r.num("revision") == 0 || r.Header.Get("X-Gatehouse-Revision") == "" {
		t.Errorf("membership answer carries no revision: %s", r.Raw)
	}
	e.do(&e.admin, "POST", "/api/v1/groups/"+admins+"/members/remove", map[string]any{"user_ids": []string{bob.UserID}}).want(t, 200)
}

func TestAPI_R4EveryoneMemberListIsNotEditable(t *testing.T) {
	e := newEnv(t)
	u := e.user("u", "")
	e.do(&e.admin, "POST", "/api/v1/groups/"+everyone+"/members", members(u.UserID)).problem(t, 422, "", "R4")
	e.do(&e.admin, "DELETE", "/api/v1/groups/"+everyone+"/members/"+u.UserID, nil).problem(t, 422, "", "R4")
}

func TestAPI_R5PublicHasNoMembersAndNoSystemPermission(t *testing.T) {
	e := newEnv(t)
	u := e.user("u", "")
	e.do(&e.admin, "POST", "/api/v1/groups/"+public+"/members", members(u.UserID)).problem(t, 422, "", "R5")
	e.do(&e.admin, "PUT", "/api/v1/groups/"+public+"/system-grants", map[string]any{"system_permissions": []string{"users.view"}}).
		problem(t, 422, "body.system_permissions", "R5")
	p := e.project("Open data", "multiple")
	e.do(&e.admin, "PUT", "/api/v1/groups/"+public+"/projects/"+p, map[string]any{"permissions": []string{"project.read"}}).want(t, 200)
	if !e.can("", "project.read", "project:"+p) {
		t.Error("anonymous cannot read the project Public may read")
	}
	// Anonymous callers may check themselves, and nothing administrative.
	r := e.do(nil, "POST", "/api/v1/check", map[string]any{"permission": "project.read", "resource": "project:" + p}).want(t, 200)
	if r.Body["allowed"] != true {
		t.Errorf("anonymous self-check = %s", r.Raw)
	}
	e.do(nil, "GET", "/api/v1/groups", nil).problem(t, 401, "")
}

func TestAPI_R7DeletingAnAssignedRoleListsItsHolders(t *testing.T) {
	e := newEnv(t)
	r := e.do(&e.admin, "POST", "/api/v1/roles", map[string]any{"name": "Auditor", "scope": "system", "permissions": []string{"audit.view"}}).want(t, 201)
	role := r.str("id")
	carol := e.user("carol", role)
	g := e.sysGroup("Auditors")
	e.do(&e.admin, "PUT", "/api/v1/groups/"+g+"/system-grants", map[string]any{"system_role_id": role}).want(t, 200)
	d := e.do(&e.admin, "DELETE", "/api/v1/roles/"+role, nil).problem(t, 409, "", "R7", "carol", "Auditors")
	holders, _ := d.Body["holders"].([]any)
	var names []string
	for _, h := range holders {
		names = append(names, h.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Auditors", "carol"}) {
		t.Errorf("holders = %v, want [Auditors carol]", names)
	}
	e.do(&e.admin, "DELETE", "/api/v1/roles/"+domain.RoleViewerID, nil).problem(t, 422, "")
	e.do(&e.admin, "PUT", "/api/v1/groups/"+g+"/system-grants", map[string]any{}).want(t, 200)
	e.do(&e.admin, "PUT", "/api/v1/users/"+carol.UserID+"/system-role", map[string]any{"role_id": ""}).want(t, 200)
	e.do(&e.admin, "DELETE", "/api/v1/roles/"+role, nil).want(t, 200)
	e.do(&e.admin, "GET", "/api/v1/roles/"+role, nil).problem(t, 404, "")
}

func TestAPI_R9RequirementsAreChecked(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Helpers")
	e.do(&e.admin, "PUT", "/api/v1/groups/"+g+"/system-grants", map[string]any{"system_permissions": []string{"groups.members"}}).
		problem(t, 422, "body.system_permissions", "users.view", "R9")
	e.do(&e.admin, "PUT", "/api/v1/groups/"+g+"/system-grants", map[string]any{"system_role_id": domain.RoleSystemMemberID, "system_permissions": []string{"groups.members"}}).want(t, 200)
	e.do(&e.admin, "POST", "/api/v1/roles", map[string]any{"name": "Bad", "scope": "project", "permissions": []string{"project.add_series"}}).
		problem(t, 422, "", "project.read")
	// Unknown permission keys are named.
	e.do(&e.admin, "POST", "/api/v1/roles", map[string]any{"name": "Typo", "scope": "system", "permissions": []string{"users.veiw"}}).
		problem(t, 422, "body.permissions[0]", "users.veiw")
}

func TestAPI_R21WhoMayDoWhat(t *testing.T) {
	e := newEnv(t)
	nobody := e.user("nobody", "")
	viewer := e.user("viewer", domain.RoleSystemMemberID)
	g := e.sysGroup("Radiologists")
	// A group the caller may not see is 404, not 403 — and so is acting on it.
	e.do(&nobody, "GET", "/api/v1/groups/"+g, nil).problem(t, 404, "")
	e.do(&nobody, "POST", "/api/v1/groups/"+g+"/members", members(nobody.UserID)).problem(t, 404, "")
	e.do(&nobody, "GET", "/api/v1/groups", nil).problem(t, 403, "", "groups.view")
	// With groups.view: visible, with an ETag, but not editable.
	r := e.do(&viewer, "GET", "/api/v1/groups/"+g, nil).want(t, 200)
	if r.Header.Get("ETag") != `"1"` {
		t.Errorf("ETag = %q", r.Header.Get("ETag"))
	}
	e.do(&viewer, "POST", "/api/v1/groups", map[string]any{"name": "X", "scope": "system"}).problem(t, 403, "", "groups.edit")
	e.deniedAudit(viewer, "group.create")
	e.do(&viewer, "DELETE", "/api/v1/groups/"+g+"?confirm=true", nil).problem(t, 403, "", "groups.delete")
	e.do(&viewer, "POST", "/api/v1/groups/"+g+"/members", members(viewer.UserID)).problem(t, 403, "", "groups.members")

	// Project delegation: a moderator of P administers P's groups only.
	p, q := e.project("P", "multiple"), e.project("Q", "multiple")
	mod := e.user("mod", "")
	e.do(&e.admin, "PUT", "/api/v1/users/"+mod.UserID+"/projects/"+p, map[string]any{"role_id": domain.RoleModeratorID}).want(t, 200)
	e.do(&mod, "POST", "/api/v1/groups", map[string]any{"name": "Readers", "scope": "project", "project_id": p}).want(t, 201)
	e.do(&mod, "POST", "/api/v1/groups", map[string]any{"name": "Qs", "scope": "project", "project_id": q}).problem(t, 403, "")
	e.do(&mod, "GET", "/api/v1/groups?project_id="+p+"&scope=project", nil).want(t, 200)
}

func TestAPI_R22EscalationsAreRefusedAndAudited(t *testing.T) {
	e := newEnv(t)
	mgr := e.user("manager", domain.RoleSystemManagerID)
	victim := e.user("victim", "")

	t.Run("groups.members holder adds themself to Administrators", func(t *testing.T) {
		e.do(&mgr, "POST", "/api/v1/groups/"+admins+"/members", members(mgr.UserID)).problem(t, 403, "", "server.manage")
		e.deniedAudit(mgr, "group.member_add")
	})
	t.Run("System Manager assigns System Administrator", func(t *testing.T) {
		e.do(&mgr, "PUT", "/api/v1/users/"+victim.UserID+"/system-role", map[string]any{"role_id": domain.RoleSystemAdministratorID}).
			problem(t, 403, "", "roles.assign_admin")
		e.deniedAudit(mgr, "user.set_role")
	})
	t.Run("role with a permission the caller lacks", func(t *testing.T) {
		g := e.sysGroup("Role editors", "roles.edit", "users.view")
		ed := e.user("roleeditor", "")
		e.add(g, ed)
		e.do(&ed, "POST", "/api/v1/roles", map[string]any{"name": "Sneaky", "scope": "system", "permissions": []string{"users.view", "files.admin"}}).
			problem(t, 403, "", "files.admin", "R22")
		e.deniedAudit(ed, "role.create")
		r := e.do(&ed, "POST", "/api/v1/roles", map[string]any{"name": "Users", "scope": "system", "permissions": []string{"users.view"}}).want(t, 201)
		e.do(&ed, "PATCH", "/api/v1/roles/"+r.str("id"), map[string]any{"permissions": []string{"users.view", "audit.view"}}).problem(t, 403, "", "audit.view")
		e.deniedAudit(ed, "role.update")
	})
	t.Run("rule granting more than the caller holds", func(t *testing.T) {
		ft := e.do(&e.admin, "POST", "/api/v1/folder-types", map[string]any{"name": "Study", "contexts": []string{"root", "data"}, "properties": []string{"indication"}}).want(t, 201)
		g := e.sysGroup("Study team")
		e.do(&mgr, "POST", "/api/v1/groups/"+g+"/rules", map[string]any{"name": "all data",
			"criteria": []map[string]any{{"folder_type_id": ft.str("id"), "property": "indication", "operator": "exists"}},
			"grants":   map[string]any{"data": []string{"read", "edit"}}}).problem(t, 403, "", "files.admin", "R22")
		e.deniedAudit(mgr, "rule.create")
	})
	if e.can(mgr.UserID, "audit.view", "system") || e.can(mgr.UserID, "files.admin", "system") || e.can(mgr.UserID, "server.manage", "system") {
		t.Error("the manager escalated")
	}
}

func TestAPI_R23ExclusiveProjects(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", "exclusive")
	a := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Monitors", "scope": "project", "project_id": p}).want(t, 201).str("id")
	b := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Investigators", "scope": "project", "project_id": p}).want(t, 201).str("id")
	u := e.user("u", "")
	e.do(&e.admin, "PUT", "/api/v1/users/"+u.UserID+"/projects/"+p, map[string]any{"role_id": domain.RoleEditorID}).want(t, 200)
	r := e.add(a, u)
	if dropped, _ := r.Body["rights_dropped"].([]any); len(dropped) != 1 {
		t.Errorf("rights_dropped = %s", r.Raw)
	}
	e.do(&e.admin, "POST", "/api/v1/groups/"+b+"/members", members(u.UserID)).problem(t, 409, "", "Monitors", "R23")

	// Switching a project to exclusive is refused, listing the users.
	m := e.project("Multi", "multiple")
	x := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "X", "scope": "project", "project_id": m}).want(t, 201).str("id")
	y := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Y", "scope": "project", "project_id": m}).want(t, 201).str("id")
	e.add(x, u)
	e.add(y, u)
	e.do(&e.admin, "PATCH", "/api/v1/projects/"+m, map[string]any{"membership_mode": "exclusive"}).problem(t, 409, "body.membership_mode", "u (X, Y)", "R23")
}

func TestAPI_R24AddingToASystemGroupListsItsProjects(t *testing.T) {
	e := newEnv(t)
	p1, p2 := e.project("P1", "multiple"), e.project("P2", "multiple")
	e.project("P3", "multiple")
	g := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Reviewers", "scope": "system", "default_project_role_id": domain.RoleViewerID}).want(t, 201).str("id")
	imp := e.do(&e.admin, "POST", "/api/v1/groups/"+g+"/projects/import", map[string]any{"project_ids": []string{p1, p2}}).want(t, 200)
	if got := projectNames(imp); !slices.Equal(got, []string{"P1", "P2"}) {
		t.Errorf("imported into %v", got)
	}
	u := e.user("u", "")
	r := e.add(g, u)
	if got := projectNames(r); !slices.Equal(got, []string{"P1", "P2"}) {
		t.Errorf("projects in the answer = %v, want [P1 P2]", got)
	}
	if !e.can(u.UserID, "project.read", "project:"+p1) {
		t.Error("u cannot read P1")
	}
}

func TestAPI_R25RemovedMembersKeepProjectMembership(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", "multiple")
	g := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Team", "scope": "project", "project_id": p}).want(t, 201).str("id")
	e.do(&e.admin, "PUT", "/api/v1/groups/"+g+"/projects/"+p, map[string]any{"role_id": domain.RoleEditorID}).want(t, 200)
	u := e.user("u", "")
	e.add(g, u)
	r := e.do(&e.admin, "POST", "/api/v1/groups/"+g+"/members/remove", map[string]any{"user_ids": []string{u.UserID}}).want(t, 200)
	if got := projectNames(r); !slices.Equal(got, []string{"P"}) {
		t.Errorf("affected projects = %v", got)
	}
	grants := e.do(&e.admin, "GET", "/api/v1/projects/"+p+"/grants", nil).want(t, 200)
	if !strings.Contains(string(grants.Raw), u.UserID) {
		t.Errorf("u is no longer a member of P: %s", grants.Raw)
	}
	if e.can(u.UserID, "project.read", "project:"+p) {
		t.Error("u keeps rights from the group")
	}
}

func TestAPI_R26DeletingAProjectGroupKeepsOrRemovesUsers(t *testing.T) {
	for _, opt := range []string{"", "keep_users", "remove_users"} {
		t.Run("members="+opt, func(t *testing.T) {
			e := newEnv(t)
			p := e.project("P", "multiple")
			g := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Team", "scope": "project", "project_id": p}).want(t, 201).str("id")
			u := e.user("u", "")
			e.add(g, u)
			r := e.do(&e.admin, "DELETE", "/api/v1/groups/"+g+"?members="+opt, nil).want(t, 200)
			if users, _ := r.Body["users"].([]any); len(users) != 1 {
				t.Errorf("answer = %s", r.Raw)
			}
			grants := e.do(&e.admin, "GET", "/api/v1/projects/"+p+"/grants", nil).want(t, 200)
			if kept := strings.Contains(string(grants.Raw), u.UserID); kept != (opt != "remove_users") {
				t.Errorf("u still a member: %v; grants %s", kept, grants.Raw)
			}
		})
	}
	e := newEnv(t)
	e.do(&e.admin, "DELETE", "/api/v1/groups/"+admins+"?confirm=true", nil).problem(t, 422, "path.id", "built-in")
	g := e.sysGroup("S")
	e.do(&e.admin, "DELETE", "/api/v1/groups/"+g+"?members=sideways", nil).problem(t, 422, "query.members")
}

func TestAPI_R27SystemGroupRemovalNeedsConfirmation(t *testing.T) {
	e := newEnv(t)
	p1, p2 := e.project("P1", "multiple"), e.project("P2", "multiple")
	g := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Sys", "scope": "system", "default_project_role_id": domain.RoleViewerID}).want(t, 201).str("id")
	e.do(&e.admin, "POST", "/api/v1/groups/"+g+"/projects/import", map[string]any{"project_ids": []string{p1, p2}}).want(t, 200)
	u := e.user("u", "")
	e.add(g, u)
	e.do(&e.admin, "POST", "/api/v1/groups/"+g+"/projects/remove", map[string]any{"project_ids": []string{p1}}).problem(t, 422, "body.confirm", "R27")
	r := e.do(&e.admin, "POST", "/api/v1/groups/"+g+"/projects/remove", map[string]any{"project_ids": []string{p1}, "confirm": true}).want(t, 200)
	if got := projectNames(r); !slices.Equal(got, []string{"P1"}) {
		t.Errorf("removed from %v", got)
	}
	if e.can(u.UserID, "project.read", "project:"+p1) || !e.can(u.UserID, "project.read", "project:"+p2) {
		t.Error("u's projects after removal from P1 are wrong")
	}
	e.do(&e.admin, "DELETE", "/api/v1/groups/"+g, nil).problem(t, 422, "query.confirm", "R27")
	d := e.do(&e.admin, "DELETE", "/api/v1/groups/"+g+"?confirm=true", nil).want(t, 200)
	if got := projectNames(d); !slices.Equal(got, []string{"P2"}) {
		t.Errorf("deleted group was present in %v", got)
	}
	if e.can(u.UserID, "project.read", "project:"+p2) {
		t.Error("u still reads P2")
	}
}

func TestAPI_R28ListingMembers(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", "exclusive")
	g := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Site A", "scope": "project", "project_id": p}).want(t, 201).str("id")
	other := e.do(&e.admin, "POST", "/api/v1/groups", map[string]any{"name": "Site B", "scope": "project", "project_id": p}).want(t, 201).str("id")
	var us []string
	for _, n := range []string{"delta", "alpha", "charlie", "bravo"} {
		us = append(us, e.user(n, domain.RoleSystemMemberID).UserID)
	}
	e.do(&e.admin, "POST", "/api/v1/groups/"+g+"/members", members(us[0], us[1], us[2])).want(t, 200)
	e.do(&e.admin, "POST", "/api/v1/groups/"+other+"/members", members(us[3])).want(t, 200)

	names := func(query string) ([]string, resp) {
		t.Helper()
		r := e.do(&e.admin, "GET", "/api/v1/groups/"+g+"/members"+query, nil).want(t, 200)
		var out []string
		items, _ := r.Body["items"].([]any)
		for _, it := range items {
			out = append(out, it.(map[string]any)["user"].(map[string]any)["username"].(string))
		}
		return out, r
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"alpha", "charlie", "delta"}},
		{"?order=desc", []string{"delta", "charlie", "alpha"}},
		{"?order=none", []string{"delta", "alpha", "charlie"}},
		{"?search=CHAR", []string{"charlie"}},
		{"?sort=email&order=desc", []string{"delta", "charlie", "alpha"}},
	} {
		if got, _ := names(c.query); !slices.Equal(got, c.want) {
			t.Errorf("members%s = %v, want %v", c.query, got, c.want)
		}
	}
	// Cursor pagination walks the same order.
	first, r := names("?limit=2")
	next := r.str("next_cursor")
	if len(first) != 2 || next == "" {
		t.Fatalf("first page %v, next %q", first, next)
	}
	rest, r2 := names("?limit=2&cursor=" + next)
	if !slices.Equal(append(first, rest...), []string{"alpha", "charlie", "delta"}) || r2.str("next_cursor") != "" {
		t.Errorf("pages %v + %v", first, rest)
	}
	e.do(&e.admin, "GET", "/api/v1/groups/"+g+"/members?order=sideways", nil).problem(t, 422, "query.order")
	e.do(&e.admin, "GET", "/api/v1/groups/"+g+"/members?cursor=garbage", nil).problem(t, 422, "")
	// Rows show role and email, and in exclusive projects the current group.
	_, all := names("?all_users=true")
	items, _ := all.Body["items"].([]any)
	found := false
	for _, it := range items {
		row := it.(map[string]any)
		u := row["user"].(map[string]any)
		switch u["username"] {
		case "alpha":
			if row["member"] != true || row["role_name"] != "System Member" || row["email"] != "alpha@example.org" {
				t.Errorf("alpha row = %v", row)
			}
		case "bravo":
			found = true
			b, _ := json.Marshal(row)
			if row["member"] == true || !strings.Contains(string(b), "Site B") {
				t.Errorf("bravo row = %s; want not a member, current group Site B", b)
			}
		}
	}
	if !found {
		t.Error("all_users does not list bravo")
	}
}

func TestAPI_R29EveryChangeIsAudited(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Old name")
	e.do(&e.admin, "PATCH", "/api/v1/groups/"+g, map[string]any{"name": "New name"}).want(t, 200)
	r := e.do(&e.admin, "GET", "/api/v1/audit?action=group.update&target_id="+g, nil).want(t, 200)
	items, _ := r.Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("audit = %s", r.Raw)
	}
	ev := items[0].(map[string]any)
	before, _ := ev["before"].(map[string]any)
	after, _ := ev["after"].(map[string]any)
	if before["name"] != "Old name" || after["name"] != "New name" || ev["actor_id"] != e.admin.UserID || ev["outcome"] != "success" || ev["remote_addr"] == "" {
		t.Errorf("audit record = %v", ev)
	}
	// Filters by actor, action and time; audit.view needed.
	u := e.user("u", "")
	e.do(&u, "GET", "/api/v1/audit", nil).problem(t, 403, "", "audit.view")
	r = e.do(&e.admin, "GET", "/api/v1/audit?actor_id="+e.admin.UserID+"&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z&limit=1", nil).want(t, 200)
	if items, _ := r.Body["items"].([]any); len(items) != 1 || r.str("next_cursor") == "" {
		t.Errorf("paged audit = %s", r.Raw)
	}
	e.do(&e.admin, "GET", "/api/v1/audit?since=yesterday", nil).problem(t, 422, "query.since")
}

// Bulk adds with an expiry (R6): the expiry shows in the member list and
// can be changed by adding again; the add is all or nothing.
func TestAPI_MembersInBulkWithExpiry(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Temps")
	a, b := e.user("a", ""), e.user("b", "")
	exp := "2099-01-02T03:04:05Z"
	e.do(&e.admin, "POST", "/api/v1/groups/"+g+"/members", map[string]any{"members": []map[string]any{
		{"user_id": a.UserID, "expires_at": exp}, {"user_id": b.UserID}}}).want(t, 200)
	r := e.do(&e.admin, "GET", "/api/v1/groups/"+g+"/members", nil).want(t, 200)
	items := r.Body["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["expires_at"] != exp || items[1].(map[string]any)["expires_at"] != nil {
		t.Errorf("members = %s", r.Raw)
	}
	// One unknown user: nobody is added.
	c := e.user("c", "")
	e.do(&e.admin, "POST", "/api/v1/groups/"+g+"/members", members(c.UserID, "no-such-user")).want(t, 422)
	r = e.do(&e.admin, "GET", "/api/v1/groups/"+g+"/members", nil).want(t, 200)
	if n := len(r.Body["items"].([]any)); n != 2 {
		t.Errorf("%d members after a refused bulk add, want 2", n)
	}
}
