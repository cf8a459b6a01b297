package e2e

// The administration stories of the five systems Gatehouse was built from
// (docs/model.md: [C], [S2], [S3], [Q], [S5]), each walked against the real binary over HTTP
// only, as an administrator (and the other people of the story) would with
// the console or a script. Each story starts its own server on a fresh
// database so the stories run in parallel and cannot lean on one
// another's data; S2 runs on SQLite and on PostgreSQL.

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store/postgres/pgtest"
)

// Built-in ids (internal/domain/builtin.go): fixed, so an application can
// name them in configuration; the stories use them as such a client would.
const (
	administratorsID  = "00000000-0000-7000-8000-000000000001"
	everyoneID        = "00000000-0000-7000-8000-000000000002"
	publicID          = "00000000-0000-7000-8000-000000000003"
	itAdminRoleID     = "00000000-0000-7000-8000-000000000101"
	sysAdminRoleID    = "00000000-0000-7000-8000-000000000102"
	sysManagerRoleID  = "00000000-0000-7000-8000-000000000103"
	sysMemberRoleID   = "00000000-0000-7000-8000-000000000104"
	editorRoleID      = "00000000-0000-7000-8000-000000000112"
	plainFolderTypeID = "00000000-0000-7000-8000-000000000201"
)

// TestStoryCircusGroups walks [C] (000): a group with global privileges,
// accessible domains and readable/writable/add-series/view-personal-info/
// moderate projects; the personal-information preference (R18).
func TestStoryCircusGroups(t *testing.T) {
	t.Parallel()
	base := startStory(t)
	admin := adminClient(t, base)

	lung := admin.create("/projects", obj{"name": "Lung CT", "description": "chest CT cases"})
	liver := admin.create("/projects", obj{"name": "Liver"})
	brain := admin.create("/projects", obj{"name": "Brain MR"})

	// "Create new": the group name, its privileges (checkboxes), then the
	// domains and project settings.
	g := admin.call("POST", "/groups", obj{"name": "radiologists of XYZ hosp", "scope": "system",
		"system_permissions": []string{"project.create", "personal_info.view", "volume.download"}}, 201)
	gid := str(t, g, "id")
	if got := strs(g, "system_permissions"); !sameSet(got, []string{"project.create", "personal_info.view", "volume.download"}) {
		t.Errorf("created group's system_permissions = %v", got)
	}
	admin.call("PUT", "/groups/"+gid+"/domains", obj{"domains": []string{"xyz-hosp", "abc-univ"}}, 200)
	// A system group is made present in a project first, then given its
	// rights there.
	imp := admin.call("POST", "/groups/"+gid+"/projects/import", obj{"project_ids": []string{lung, liver, brain}}, 200)
	if got := ids(list(t, imp, "projects"), "id"); !sameSet(got, []string{lung, liver, brain}) {
		t.Errorf("import answered projects %v", got)
	}
	// Readable, writable, add-series and view-personal-info on Lung CT;
	// readable only on Liver; moderate on Brain MR.
	admin.call("PUT", "/groups/"+gid+"/projects/"+lung, obj{"permissions": []string{
		"project.read", "project.write", "project.add_series", "project.view_personal_info"}}, 200)
	admin.call("PUT", "/groups/"+gid+"/projects/"+liver, obj{"permissions": []string{"project.read"}}, 200)
	admin.call("PUT", "/groups/"+gid+"/projects/"+brain, obj{"permissions": []string{"project.moderate"}}, 200)
	// R9: writable without readable is refused, naming the field.
	admin.problem("PUT", "/groups/"+gid+"/projects/"+liver, obj{"permissions": []string{"project.write"}}, 422, "project.read")

	alice := admin.user("alice", "alice-Secret-1")
	bob := admin.user("bob", "bob-Secret-1")
	added := admin.addMembers(gid, alice)
	if got := ids(list(t, added, "projects"), "id"); !sameSet(got, []string{lung, liver, brain}) {
		t.Errorf("adding alice listed projects %v, want the group's three", got)
	}

	ua, ub := "user:"+alice, "user:"+bob
	for _, c := range []struct {
		subject, perm, resource string
		want                    bool
	}{
		{ua, "project.create", "system", true},
		{ua, "project.delete", "system", false},
		{ua, "volume.download", "system", true},
		{ua, "server.manage", "system", false},
		{ua, "project.read", "project:" + lung, true},
		{ua, "project.write", "project:" + lung, true},
		{ua, "project.add_series", "project:" + lung, true},
		{ua, "project.view_personal_info", "project:" + lung, true},
		{ua, "project.moderate", "project:" + lung, false},
		{ua, "project.read", "project:" + liver, true},
		{ua, "project.write", "project:" + liver, false},
		// Moderate "grants all access ... takes precedence" (R8).
		{ua, "project.write", "project:" + brain, true},
		{ua, "project.view_personal_info", "project:" + brain, true},
		{ua, "domain.access", "domain:xyz-hosp", true},
		{ua, "domain.access", "domain:abc-univ", true},
		{ua, "domain.access", "domain:other", false},
		// bob is in no group: nothing.
		{ub, "project.read", "project:" + lung, false},
		{ub, "domain.access", "domain:xyz-hosp", false},
	} {
		admin.check(c.subject, c.perm, c.resource, c.want)
	}

	// The "admin" group: Manage Server implies every global privilege
	// (R8), and R9's requirements do not apply to what it implies.
	admins := admin.create("/groups", obj{"name": "admin", "scope": "system", "system_permissions": []string{"server.manage"}})
	carol := admin.user("carol", "carol-Secret-1")
	admin.addMembers(admins, carol)
	for _, p := range []string{"project.create", "project.delete", "personal_info.view", "volume.download", "groups.edit"} {
		admin.check("user:"+carol, p, "system", true)
	}

	// R18: alice hides personal information in her own preferences; the
	// privilege stays but is not used until she turns it back on.
	aliceC := login(t, base, "alice", "alice-Secret-1")
	aliceC.call("PUT", "/users/"+alice+"/preferences", obj{"show_personal_info": false}, 200)
	aliceC.check("", "project.view_personal_info", "project:"+lung, false)
	admin.check(ua, "personal_info.view", "system", false)
	admin.check(ua, "project.read", "project:"+lung, true)
	ex := admin.call("POST", "/explain", obj{"subject": ua, "permission": "project.view_personal_info", "resource": "project:" + lung}, 200)
	if ex["allowed"] != false || !strings.Contains(strings.ToLower(jsonString(ex)), "show_personal_info") {
		t.Errorf("explain with the preference off should deny and name show_personal_info (R18): %s", jsonString(ex))
	}
	aliceC.call("PUT", "/users/"+alice+"/preferences", obj{"show_personal_info": true}, 200)
	aliceC.check("", "project.view_personal_info", "project:"+lung, true)
	// Another user's preference is not hers to change.
	aliceC.call("PUT", "/users/"+bob+"/preferences", obj{"show_personal_info": false}, 404)

	// The audit trail holds the administration, with before and after.
	admin.wantAudit("target_id="+gid+"&action=group.create", obj{"outcome": "success", "actor_name": "admin"})
	dom := admin.wantAudit("target_id="+gid+"&action=group.set_domains", obj{"outcome": "success"})
	if !strings.Contains(jsonString(dom["after"]), "xyz-hosp") {
		t.Errorf("group.set_domains audit has no xyz-hosp after: %s", jsonString(dom))
	}
	if n := len(admin.audit("target_id=" + gid + "&action=group.set_project_rights")); n < 3 {
		t.Errorf("%d group.set_project_rights audit events, want at least 3 (one per project)", n)
	}
	admin.wantAudit("action=group.member_add&target_id="+gid, obj{"outcome": "success"})
	prefs := admin.audit("action=user.set_preference&target_id=" + alice)
	if len(prefs) != 2 || prefs[0]["actor_name"] != "alice" {
		t.Errorf("want two user.set_preference events by alice, got %s", jsonString(prefs))
	}
}

// TestStoryProjectAndSystemGroups walks [S2] (001) on SQLite.
func TestStoryProjectAndSystemGroups(t *testing.T) {
	t.Parallel()
	storyProjectAndSystemGroups(t, startStory(t))
}

// TestStoryProjectAndSystemGroupsPostgres walks [S2] (001) on PostgreSQL.
func TestStoryProjectAndSystemGroupsPostgres(t *testing.T) {
	t.Parallel()
	storyProjectAndSystemGroups(t, startStory(t, "--db", pgtest.NewDatabase(t)))
}

func storyProjectAndSystemGroups(t *testing.T, base string) {
	admin := adminClient(t, base)
	trialA := admin.create("/projects", obj{"name": "Trial A"})
	trialB := admin.create("/projects", obj{"name": "Trial B"})
	trialC := admin.create("/projects", obj{"name": "Trial C"})
	excl := admin.create("/projects", obj{"name": "Trial X", "membership_mode": "exclusive"})

	// A system level group used in several projects, with default rights
	// that importing copies into each project.
	monitors := admin.create("/groups", obj{"name": "Monitors", "scope": "system",
		"default_project_permissions": []string{"project.read"}})
	imp := admin.call("POST", "/groups/"+monitors+"/projects/import", obj{"project_ids": []string{trialA, trialB}}, 200)
	if got := ids(list(t, imp, "projects"), "id"); !sameSet(got, []string{trialA, trialB}) {
		t.Errorf("import answered projects %v, want Trial A and B", got)
	}
	// A project level group in Trial A.
	teamA := admin.create("/groups", obj{"name": "Trial A team", "scope": "project", "project_id": trialA})
	admin.call("PUT", "/groups/"+teamA+"/projects/"+trialA, obj{"role_id": editorRoleID}, 200)
	// Type cannot be edited afterwards (R1): scope is not an editable field.
	admin.problem("PATCH", "/groups/"+teamA, obj{"scope": "system"}, 422, "scope")
	// A project group cannot be imported into another project.
	code, _, _ := admin.raw("POST", "/groups/"+teamA+"/projects/import", obj{"project_ids": []string{trialB}})
	if code < 400 || code >= 500 {
		t.Errorf("importing a project group into another project: status %d, want a 4xx", code)
	}

	bob := admin.user("bob", "bob-Secret-1")
	fay := admin.user("fay", "fay-Secret-1")
	carol := admin.user("carol", "carol-Secret-1")
	dave := admin.user("dave", "dave-Secret-1")
	erin := admin.user("erin", "erin-Secret-1")

	// R24: adding bob to the system group lists every project it is in.
	add := admin.addMembers(monitors, bob)
	if got := ids(list(t, add, "projects"), "id"); !sameSet(got, []string{trialA, trialB}) {
		t.Errorf("R24: adding bob to Monitors listed %v, want Trial A and B", got)
	}
	if got := strs(add, "users"); !sameSet(got, []string{bob}) {
		t.Errorf("R24: answer users = %v, want bob", got)
	}
	admin.check("user:"+bob, "project.read", "project:"+trialA, true)
	admin.check("user:"+bob, "project.read", "project:"+trialB, true)
	admin.check("user:"+bob, "project.read", "project:"+trialC, false)
	admin.check("user:"+bob, "project.write", "project:"+trialA, false)
	// Importing into a third project reaches the existing members at once.
	admin.call("POST", "/groups/"+monitors+"/projects/import", obj{"project_ids": []string{trialC}}, 200)
	admin.check("user:"+bob, "project.read", "project:"+trialC, true)
	// Rights changed per project after the import.
	admin.call("PUT", "/groups/"+monitors+"/projects/"+trialC, obj{"permissions": []string{"project.read", "project.write"}}, 200)
	admin.check("user:"+bob, "project.write", "project:"+trialC, true)

	// fay was made a member of Trial A on her own, with no rights, before
	// joining Monitors.
	admin.call("PUT", "/users/"+fay+"/projects/"+trialA, obj{"permissions": []string{}}, 200)
	admin.addMembers(monitors, fay)
	admin.addMembers(teamA, dave, erin)
	admin.check("user:"+dave, "project.write", "project:"+trialA, true)

	// R23: in an exclusive project a user is in one group only; joining
	// a group drops the user's individual rights there.
	x1 := admin.create("/groups", obj{"name": "X readers", "scope": "project", "project_id": excl})
	x2 := admin.create("/groups", obj{"name": "X writers", "scope": "project", "project_id": excl})
	admin.call("PUT", "/groups/"+x1+"/projects/"+excl, obj{"permissions": []string{"project.read"}}, 200)
	admin.call("PUT", "/groups/"+x2+"/projects/"+excl, obj{"permissions": []string{"project.read", "project.write"}}, 200)
	admin.call("PUT", "/users/"+carol+"/projects/"+excl, obj{"permissions": []string{"project.read", "project.write"}}, 200)
	admin.check("user:"+carol, "project.write", "project:"+excl, true)
	joined := admin.addMembers(x1, carol)
	if d := jsonString(joined["rights_dropped"]); !strings.Contains(d, carol) || !strings.Contains(d, excl) {
		t.Errorf("R23: joining X readers should list carol's dropped rights in Trial X, got %s", d)
	}
	admin.check("user:"+carol, "project.write", "project:"+excl, false)
	admin.check("user:"+carol, "project.read", "project:"+excl, true)
	admin.problem("POST", "/groups/"+x2+"/members", obj{"members": []obj{{"user_id": carol}}}, 409, "X readers")
	admin.check("user:"+carol, "project.write", "project:"+excl, false)
	// The member list shows carol's current group, so a console can
	// disable her checkbox in the other group (R28).
	rows := items(t, admin.call("GET", "/groups/"+x2+"/members?all_users=true&search=carol", nil, 200))
	if len(rows) != 1 || !strings.Contains(jsonString(rows[0]["current_groups"]), "X readers") {
		t.Errorf("X writers' member list should show carol in X readers: %s", jsonString(rows))
	}

	// R25: removing carol from her group keeps her in the project without
	// rights, and the answer names the project.
	rm := admin.call("POST", "/groups/"+x1+"/members/remove", obj{"user_ids": []string{carol}}, 200)
	if got := ids(list(t, rm, "projects"), "id"); !sameSet(got, []string{excl}) {
		t.Errorf("R25: removing carol listed %v, want Trial X", got)
	}
	admin.check("user:"+carol, "project.read", "project:"+excl, false)
	if !grantFor(t, admin, excl, carol) {
		t.Errorf("R25: carol is no longer a member of Trial X after leaving its group")
	}
	// Now she may join the other group.
	admin.addMembers(x2, carol)
	admin.check("user:"+carol, "project.write", "project:"+excl, true)

	// R26: deleting a project group, keeping its users in the project
	// without access...
	del := admin.call("DELETE", "/groups/"+teamA+"?members=keep_users", nil, 200)
	if got := strs(del, "users"); !sameSet(got, []string{dave, erin}) {
		t.Errorf("R26 keep_users: answer users %v, want dave and erin", got)
	}
	admin.check("user:"+dave, "project.write", "project:"+trialA, false)
	if !grantFor(t, admin, trialA, dave) {
		t.Errorf("R26 keep_users: dave left Trial A")
	}
	// ... or removing them from it.
	admin.addMembers(x1, dave)
	del = admin.call("DELETE", "/groups/"+x1+"?members=remove_users", nil, 200)
	if got := strs(del, "users"); !sameSet(got, []string{dave}) {
		t.Errorf("R26 remove_users: answer users %v, want dave", got)
	}
	if grantFor(t, admin, excl, dave) {
		t.Errorf("R26 remove_users: dave is still a member of Trial X")
	}
	admin.call("GET", "/groups/"+x1, nil, 404)

	// R27: removing the system group from several projects needs a
	// confirmation and takes its members out of them.
	admin.problem("POST", "/groups/"+monitors+"/projects/remove", obj{"project_ids": []string{trialA, trialB}}, 422, "confirm")
	admin.check("user:"+bob, "project.read", "project:"+trialA, true)
	out := admin.call("POST", "/groups/"+monitors+"/projects/remove", obj{"project_ids": []string{trialA, trialB}, "confirm": true}, 200)
	if got := ids(list(t, out, "projects"), "id"); !sameSet(got, []string{trialA, trialB}) {
		t.Errorf("R27: removal answered projects %v", got)
	}
	// The answer lists fay, whose membership of Trial A is gone. (bob,
	// a member through the group only, is not listed: see the report.)
	if got := strs(out, "users"); !contains(got, fay) {
		t.Errorf("R27: removal answered users %v, want fay among them", got)
	}
	if grantFor(t, admin, trialA, fay) {
		t.Errorf("R27: fay is still a member of Trial A")
	}
	admin.check("user:"+bob, "project.read", "project:"+trialA, false)
	admin.check("user:"+bob, "project.read", "project:"+trialB, false)
	admin.check("user:"+bob, "project.read", "project:"+trialC, true)
	// Deleting the system group everywhere needs confirm=true too.
	admin.problem("DELETE", "/groups/"+monitors, nil, 422, "confirm")
	admin.call("DELETE", "/groups/"+monitors+"?confirm=true", nil, 200)
	admin.check("user:"+bob, "project.read", "project:"+trialC, false)

	// The audit trail.
	admin.wantAudit("action=group.import&target_id="+monitors, obj{"outcome": "success", "actor_name": "admin"})
	admin.wantAudit("action=group.member_add&target_id="+monitors, obj{"outcome": "success"})
	admin.wantAudit("action=group.member_remove&target_id="+x1, obj{"outcome": "success"})
	admin.wantAudit("action=group.remove_from_projects&target_id="+monitors, obj{"outcome": "success"})
	for _, g := range []string{teamA, x1, monitors} {
		ev := admin.wantAudit("action=group.delete&target_id="+g, obj{"outcome": "success"})
		if ev["before"] == nil {
			t.Errorf("group.delete of %s has no before: %s", g, jsonString(ev))
		}
	}
}

// grantFor reports whether user has a row (possibly empty) in the
// project's grants: project membership (docs/model.md section 2).
func grantFor(t *testing.T, c *client, projectID, userID string) bool {
	t.Helper()
	for _, g := range items(t, c.call("GET", "/projects/"+projectID+"/grants", nil, 200)) {
		if g["subject_kind"] == "user" && g["subject_id"] == userID {
			return true
		}
	}
	return false
}

// TestStoryDocumentRules walks [S3] (002): folder types and their
// security contexts, folders registered by an application, group rules
// whose criteria are joined by AND, editing a rule, check and explain.
func TestStoryDocumentRules(t *testing.T) {
	t.Parallel()
	base := startStory(t)
	admin := adminClient(t, base)

	contexts := []string{"root", "data", "document", "analysis"}
	projType := admin.create("/folder-types", obj{"name": "Project", "contexts": contexts,
		"properties": []string{"therapeutic_area", "description"}})
	studyType := admin.create("/folder-types", obj{"name": "GRT Study", "contexts": contexts,
		"properties": []string{"indication", "portfolio", "description"}})

	// The document system registers its folders.
	folder := func(name, parent, typ string, props map[string]string) string {
		body := obj{"name": name, "type_id": typ, "properties": props}
		if parent != "" {
			body["parent_id"] = parent
		}
		return admin.create("/folders", body)
	}
	cardio := folder("Heart failure program", "", projType, map[string]string{"therapeutic_area": "Cardiovascular", "description": "HF"})
	cardioDocs := folder("HF-101", cardio, studyType, map[string]string{"indication": "HF", "portfolio": "XYZ"})
	onco := folder("Oncology program", "", projType, map[string]string{"therapeutic_area": "Oncology"})
	grtABC := folder("GRT-001", onco, studyType, map[string]string{"indication": "GRT", "portfolio": "ABC"})
	grtDEF := folder("GRT-002", onco, studyType, map[string]string{"indication": "GRT", "portfolio": "DEF"})
	oncABC := folder("ONC-003", onco, studyType, map[string]string{"indication": "ONC", "portfolio": "ABC"})

	cardioGroup := admin.create("/groups", obj{"name": "Cardio writers", "scope": "system"})
	grtGroup := admin.create("/groups", obj{"name": "GRT ABC team", "scope": "system"})
	// Rule: folders of type Project with Therapeutic area = Cardiovascular
	// → Read and Edit on Documents.
	admin.create("/groups/"+cardioGroup+"/rules", obj{"name": "Cardio documents",
		"criteria": []obj{{"folder_type_id": projType, "property": "therapeutic_area", "operator": "eq", "value": "Cardiovascular"}},
		"grants":   obj{"document": []string{"read", "edit"}}})
	// Rule with two criteria, joined by AND.
	rule := admin.call("POST", "/groups/"+grtGroup+"/rules", obj{"name": "GRT in ABC",
		"criteria": []obj{
			{"folder_type_id": studyType, "property": "indication", "operator": "eq", "value": "GRT"},
			{"folder_type_id": studyType, "property": "portfolio", "operator": "eq", "value": "ABC"}},
		"grants": obj{"data": []string{"read"}, "analysis": []string{"read", "create"}}}, 201)
	ruleID := str(t, rule, "id")

	// R10: description cannot be a criterion.
	admin.problem("POST", "/groups/"+grtGroup+"/rules", obj{"name": "By description",
		"criteria": []obj{{"folder_type_id": projType, "property": "description", "operator": "eq", "value": "HF"}},
		"grants":   obj{"document": []string{"read"}}}, 422, "description")

	erin := admin.user("erin", "erin-Secret-1")
	frank := admin.user("frank", "frank-Secret-1")
	admin.addMembers(cardioGroup, erin)
	admin.addMembers(grtGroup, frank)
	ue, uf := "user:"+erin, "user:"+frank
	for _, c := range []struct {
		subject, perm, folder string
		want                  bool
	}{
		{ue, "document.read", cardio, true},
		{ue, "document.edit", cardio, true},
		{ue, "document.read", cardioDocs, true}, // R16: and below
		{ue, "document.delete", cardio, false},
		{ue, "data.read", cardio, false},
		{ue, "document.read", onco, false},
		{uf, "data.read", grtABC, true},
		{uf, "analysis.create", grtABC, true},
		{uf, "data.edit", grtABC, false},
		{uf, "data.read", grtDEF, false}, // portfolio differs
		{uf, "data.read", oncABC, false}, // indication differs
		{uf, "data.read", onco, false},
	} {
		admin.check(c.subject, c.perm, "folder:"+c.folder, c.want)
	}
	// A context the type does not declare is an invalid request naming the
	// type's contexts (R16).
	admin.problem("POST", "/check", obj{"subject": ue, "permission": "finance.read", "resource": "folder:" + cardio}, 422, "document")

	ex := admin.call("POST", "/explain", obj{"subject": uf, "permission": "data.read", "resource": "folder:" + grtABC}, 200)
	if ex["allowed"] != true || !strings.Contains(jsonString(ex["paths"]), "GRT in ABC") || !strings.Contains(jsonString(ex["paths"]), ruleID) {
		t.Errorf("explain of frank's data.read on GRT-001 should name the rule: %s", jsonString(ex))
	}
	ex = admin.call("POST", "/explain", obj{"subject": uf, "permission": "data.read", "resource": "folder:" + grtDEF}, 200)
	if ex["allowed"] != false || len(strs(ex, "considered")) == 0 {
		t.Errorf("explain of a deny should say what was considered: %s", jsonString(ex))
	}

	// Edit the rule: portfolio DEF instead of ABC, with If-Match.
	v := rule["version"].(float64)
	edited := admin.call("PUT", "/rules/"+ruleID, obj{"name": "GRT in DEF",
		"criteria": []obj{
			{"folder_type_id": studyType, "property": "indication", "operator": "eq", "value": "GRT"},
			{"folder_type_id": studyType, "property": "portfolio", "operator": "in", "values": []string{"DEF"}}},
		"grants": obj{"data": []string{"read"}}}, 200, "If-Match", `"`+strings.TrimSuffix(jsonString(v), ".0")+`"`)
	if edited["name"] != "GRT in DEF" {
		t.Errorf("edited rule = %s", jsonString(edited))
	}
	// The old version is stale now.
	stale := admin.call("PUT", "/rules/"+ruleID, obj{"name": "stale",
		"criteria": []obj{{"folder_type_id": studyType, "property": "indication", "operator": "exists"}},
		"grants":   obj{"data": []string{"read"}}}, 412, "If-Match", `"`+strings.TrimSuffix(jsonString(v), ".0")+`"`)
	if stale["status"] != float64(412) {
		t.Errorf("stale rule edit: %s", jsonString(stale))
	}
	admin.check(uf, "data.read", "folder:"+grtABC, false)
	admin.check(uf, "data.read", "folder:"+grtDEF, true)
	admin.check(uf, "analysis.create", "folder:"+grtDEF, false)
	// A folder's properties change: the rules follow.
	admin.call("PATCH", "/folders/"+oncABC, obj{"properties": map[string]string{"indication": "GRT", "portfolio": "DEF"}}, 200)
	admin.check(uf, "data.read", "folder:"+oncABC, true)

	upd := admin.wantAudit("action=rule.update&target_id="+ruleID, obj{"outcome": "success", "actor_name": "admin"})
	if !strings.Contains(jsonString(upd["before"]), "ABC") || !strings.Contains(jsonString(upd["after"]), "DEF") {
		t.Errorf("rule.update audit should hold ABC before and DEF after: %s", jsonString(upd))
	}
	admin.wantAudit("action=rule.create&target_id="+ruleID, obj{"outcome": "success"})
	admin.wantAudit("action=folder_type.create&target_id="+studyType, obj{"outcome": "success"})
	admin.wantAudit("action=folder.create&target_id="+grtABC, obj{"outcome": "success"})
	admin.wantAudit("action=folder.update&target_id="+oncABC, obj{"outcome": "success"})
}

// TestStoryImageFolders walks [Q] (003): folder access levels per group
// on an image folder tree, Public for anonymous users, a child lowering
// an inherited level, files.admin overriding, and R2–R4 on the built-in
// groups.
func TestStoryImageFolders(t *testing.T) {
	t.Parallel()
	base := startStory(t)
	admin := adminClient(t, base)
	anon := anonymous(t, base)

	images := admin.create("/folders", obj{"name": "images", "type_id": plainFolderTypeID})
	gallery := admin.create("/folders", obj{"name": "gallery", "parent_id": images})
	internal := admin.create("/folders", obj{"name": "internal", "parent_id": images})
	secret := admin.create("/folders", obj{"name": "secret", "parent_id": internal})

	// "Normal Users" is the display name of Everyone here (R2: renamable).
	et := admin.etag("/groups/" + everyoneID)
	admin.call("PATCH", "/groups/"+everyoneID, obj{"name": "Normal Users"}, 200, "If-Match", et)
	// A second console still holding the old version cannot overwrite it.
	admin.call("PATCH", "/groups/"+everyoneID, obj{"name": "Everybody"}, 412, "If-Match", et)
	if g := admin.call("GET", "/groups/"+everyoneID, nil, 200); g["name"] != "Normal Users" {
		t.Errorf("Everyone is named %v after the stale rename, want Normal Users", g["name"])
	}
	level := func(folder, group, lv string) {
		admin.call("PUT", "/folders/"+folder+"/levels/"+group, obj{"level": lv}, 200)
	}
	level(images, publicID, "view")
	level(images, everyoneID, "download")
	level(internal, publicID, "none") // lowers the inherited view
	level(internal, everyoneID, "upload")
	level(secret, everyoneID, "none")

	// Anonymous requests act as Public.
	anon.check("", "root.read", "folder:"+images, true)
	anon.check("", "root.read", "folder:"+gallery, true)
	anon.check("", "root.download", "folder:"+gallery, false)
	anon.check("", "root.read", "folder:"+internal, false)
	anon.check("", "root.read", "folder:"+secret, false)
	admin.check("anonymous", "root.read", "folder:"+gallery, true)
	admin.check("anonymous", "root.read", "folder:"+secret, false)
	// Nothing administrative is open to Public.
	anon.call("GET", "/groups", nil, 401)

	// A new user is in Normal Users at once (R4).
	gina := admin.user("gina", "gina-Secret-1")
	ug := "user:" + gina
	admin.check(ug, "root.download", "folder:"+gallery, true)
	admin.check(ug, "root.edit", "folder:"+gallery, false)
	admin.check(ug, "root.create", "folder:"+internal, true) // upload → create
	admin.check(ug, "root.delete", "folder:"+internal, false)
	admin.check(ug, "root.read", "folder:"+secret, false) // the nearer none wins (R15)
	// The user's level is never below Public's.
	level(secret, publicID, "view")
	admin.check(ug, "root.read", "folder:"+secret, true)
	admin.call("DELETE", "/folders/"+secret+"/levels/"+publicID, nil, 200)
	admin.check(ug, "root.read", "folder:"+secret, false)

	// A group with the files and folders administration permission
	// overrides folder levels (R17).
	fileAdmins := admin.create("/groups", obj{"name": "File admins", "scope": "system", "system_permissions": []string{"files.admin"}})
	hank := admin.user("hank", "hank-Secret-1")
	admin.addMembers(fileAdmins, hank)
	admin.check("user:"+hank, "root.delete_folder", "folder:"+secret, true)
	ex := admin.call("POST", "/explain", obj{"subject": "user:" + hank, "permission": "root.read", "resource": "folder:" + secret}, 200)
	if ex["allowed"] != true || !strings.Contains(jsonString(ex["paths"]), "files_admin") {
		t.Errorf("explain should show the files_admin path: %s", jsonString(ex))
	}
	ex = admin.call("POST", "/explain", obj{"subject": ug, "permission": "root.read", "resource": "folder:" + gallery}, 200)
	if ex["allowed"] != true || !strings.Contains(jsonString(ex["paths"]), images) {
		t.Errorf("explain should show the level inherited from images: %s", jsonString(ex))
	}

	// R3: only an administrator may add to Administrators. ivan manages
	// memberships (groups.members), but holds no server.manage.
	helpdesk := admin.create("/groups", obj{"name": "Helpdesk", "scope": "system",
		"system_permissions": []string{"users.view", "groups.view", "groups.members"}})
	ivan := admin.user("ivan", "ivan-Secret-1")
	admin.addMembers(helpdesk, ivan)
	ivanC := login(t, base, "ivan", "ivan-Secret-1")
	ivanC.problem("POST", "/groups/"+administratorsID+"/members", obj{"members": []obj{{"user_id": ivan}}}, 403, "server.manage")
	admin.check("user:"+ivan, "server.manage", "system", false)
	// ivan may manage an ordinary group's members.
	photo := admin.create("/groups", obj{"name": "Photographers", "scope": "system"})
	ivanC.addMembers(photo, gina)
	// The administrator may not leave Administrators empty (R3: no
	// lock-out), but may add ivan, and then leave.
	adminID := str(t, admin.call("GET", "/me", nil, 200), "id")
	admin.problem("DELETE", "/groups/"+administratorsID+"/members/"+adminID, nil, 409)
	admin.addMembers(administratorsID, ivan)
	admin.check("user:"+ivan, "server.manage", "system", true)
	admin.check("user:"+ivan, "root.delete_folder", "folder:"+secret, true)

	// R4: Normal Users' list is not editable; R5: Public has none;
	// R2: built-in groups cannot be deleted.
	admin.problem("POST", "/groups/"+everyoneID+"/members", obj{"members": []obj{{"user_id": gina}}}, 422)
	admin.problem("POST", "/groups/"+publicID+"/members", obj{"members": []obj{{"user_id": gina}}}, 422)
	admin.problem("PUT", "/groups/"+publicID+"/system-grants", obj{"system_permissions": []string{"reports.view"}}, 422)
	for _, g := range []string{administratorsID, everyoneID, publicID} {
		code, _, b := admin.raw("DELETE", "/groups/"+g+"?confirm=true", nil)
		if code < 400 || code >= 500 {
			t.Errorf("R2: deleting built-in group %s: %d %s, want a 4xx", g, code, b)
		}
	}

	// The audit trail: the refusal with its actor, the levels, the rename.
	admin.wantAudit("action=group.member_add&target_id="+administratorsID, obj{"outcome": "denied", "actor_name": "ivan"})
	admin.wantAudit("action=group.member_add&target_id="+administratorsID, obj{"outcome": "success", "actor_name": "admin"})
	admin.wantAudit("action=group.member_add&target_id="+photo, obj{"outcome": "success", "actor_name": "ivan"})
	lv := admin.wantAudit("action=folder_level.set&target_id="+internal, obj{"outcome": "success"})
	if lv["after"] == nil {
		t.Errorf("folder_level.set audit has no after: %s", jsonString(lv))
	}
	ren := admin.wantAudit("action=group.update&target_id="+everyoneID, obj{"outcome": "success"})
	if !strings.Contains(jsonString(ren["after"]), "Normal Users") {
		t.Errorf("the rename's audit after does not hold the new name: %s", jsonString(ren))
	}

	// With ivan in Administrators, admin may leave it; ivan, now an
	// administrator, sees the change.
	admin.call("DELETE", "/groups/"+administratorsID+"/members/"+adminID, nil, 200)
	ivanC.check("user:"+adminID, "server.manage", "system", false)
	ivanC.wantAudit("action=group.member_remove&target_id="+administratorsID, obj{"outcome": "success", "actor_name": "admin"})
}

// TestStorySystemGroupRoles walks [S5] (004): system groups with the
// predefined roles, the union of a user's own role and the group's (R13),
// admin roles only for holders of roles.assign_admin (R22), and R7.
func TestStorySystemGroupRoles(t *testing.T) {
	t.Parallel()
	base := startStory(t)
	admin := adminClient(t, base)

	// The four predefined system roles and their flags.
	roles := items(t, admin.call("GET", "/roles?scope=system&limit=100", nil, 200))
	byID := map[string]obj{}
	for _, r := range roles {
		byID[r["id"].(string)] = r
	}
	for id, name := range map[string]string{itAdminRoleID: "IT Administrator", sysAdminRoleID: "System Administrator",
		sysManagerRoleID: "System Manager", sysMemberRoleID: "System Member"} {
		if r, ok := byID[id]; !ok || r["name"] != name || r["builtin"] != true {
			t.Errorf("predefined role %s (%s) missing or not built in: %s", name, id, jsonString(r))
		}
	}
	// IT Administrator "cannot be deleted"; System Administrator "cannot
	// be edited or deleted".
	if r := byID[itAdminRoleID]; r["deletable"] != false {
		t.Errorf("IT Administrator: deletable %v, want false", r["deletable"])
	}
	if r := byID[sysAdminRoleID]; r["editable"] != false || r["deletable"] != false {
		t.Errorf("System Administrator: editable %v deletable %v, want false false", r["editable"], r["deletable"])
	}
	admin.problem("DELETE", "/roles/"+itAdminRoleID, nil, 422, "cannot be deleted")
	admin.problem("PATCH", "/roles/"+sysAdminRoleID, obj{"description": "changed"}, 422)

	// A custom role, a system group with the System Member role, and a user
	// with the custom role of her own.
	auditor := admin.create("/roles", obj{"name": "Auditor", "scope": "system", "permissions": []string{"audit.view", "reports.view"}})
	reviewers := admin.create("/groups", obj{"name": "Reviewers", "scope": "system", "system_role_id": sysMemberRoleID})
	jane := admin.user("jane", "jane-Secret-1")
	admin.call("PUT", "/users/"+jane+"/system-role", obj{"role_id": auditor}, 200)
	uj := "user:" + jane
	admin.check(uj, "audit.view", "system", true)
	admin.check(uj, "groups.view", "system", false)
	admin.addMembers(reviewers, jane)
	// R13: the union of her role and the group's.
	admin.check(uj, "audit.view", "system", true)
	admin.check(uj, "groups.view", "system", true)
	admin.check(uj, "users.view", "system", true)
	admin.check(uj, "users.edit", "system", false)
	eff := admin.call("GET", "/effective-permissions?resource=system&subject="+uj, nil, 200)
	if p := strs(eff, "permissions"); !contains(p, "audit.view") || !contains(p, "groups.view") || contains(p, "users.edit") {
		t.Errorf("jane's effective system permissions %v, want audit.view and groups.view, not users.edit", p)
	}
	ex := admin.call("POST", "/explain", obj{"subject": uj, "permission": "groups.view", "resource": "system"}, 200)
	if !strings.Contains(jsonString(ex["paths"]), "Reviewers") || !strings.Contains(jsonString(ex["paths"]), "System Member") {
		t.Errorf("explain should name the Reviewers group and its System Member role: %s", jsonString(ex))
	}

	// A System Manager manages users and groups, but may not make anyone
	// a System Administrator (R22), and the refusal is audited.
	kim := admin.user("kim", "kim-Secret-1")
	lee := admin.user("lee", "lee-Secret-1")
	admin.call("PUT", "/users/"+kim+"/system-role", obj{"role_id": sysManagerRoleID}, 200)
	kimC := login(t, base, "kim", "kim-Secret-1")
	kimC.problem("PUT", "/users/"+lee+"/system-role", obj{"role_id": sysAdminRoleID}, 403, "roles.assign_admin")
	kimC.problem("PUT", "/users/"+lee+"/system-role", obj{"role_id": itAdminRoleID}, 403, "roles.assign_admin")
	kimC.problem("PUT", "/groups/"+reviewers+"/system-grants", obj{"system_role_id": sysAdminRoleID}, 403)
	// Nor act on jane, who holds audit.view that kim lacks (R22).
	kimC.problem("PUT", "/users/"+jane+"/system-role", obj{"role_id": sysMemberRoleID}, 403, "audit.view")
	admin.check("user:"+lee, "server.manage", "system", false)
	admin.check("user:"+lee, "roles.assign_admin", "system", false)
	denied := admin.wantAudit("action=user.set_role&target_id="+lee, obj{"outcome": "denied", "actor_name": "kim"})
	if !strings.Contains(jsonString(denied["detail"]), "roles.assign_admin") {
		t.Errorf("the denied audit record should say what was missing: %s", jsonString(denied))
	}
	admin.wantAudit("action=user.set_role&target_id="+jane, obj{"outcome": "denied", "actor_name": "kim"})
	admin.wantAudit("action=group.set_system_grants&target_id="+reviewers, obj{"outcome": "denied", "actor_name": "kim"})
	// What kim may do: a new system group with System Member, members.
	team := kimC.create("/groups", obj{"name": "Site monitors", "scope": "system", "system_role_id": sysMemberRoleID})
	kimC.addMembers(team, lee)
	admin.check("user:"+lee, "users.view", "system", true)
	// The administrator may assign System Administrator.
	admin.call("PUT", "/users/"+lee+"/system-role", obj{"role_id": sysAdminRoleID}, 200)
	admin.check("user:"+lee, "roles.assign_admin", "system", true)
	admin.check("user:"+lee, "storage.edit", "system", false)

	// R7: a role still assigned is not deleted; the answer names holders.
	p := admin.problem("DELETE", "/roles/"+auditor, nil, 409)
	if !strings.Contains(jsonString(p["holders"]), "jane") {
		t.Errorf("R7: the refusal should list jane among the holders: %s", jsonString(p))
	}
	admin.call("GET", "/roles/"+auditor, nil, 200)
	admin.call("PUT", "/users/"+jane+"/system-role", obj{"role_id": ""}, 200)
	admin.call("DELETE", "/roles/"+auditor, nil, 200)
	admin.call("GET", "/roles/"+auditor, nil, 404)
	admin.check(uj, "audit.view", "system", false)
	admin.check(uj, "groups.view", "system", true) // the group's role remains

	admin.wantAudit("action=role.create&target_id="+auditor, obj{"outcome": "success"})
	admin.wantAudit("action=role.delete&target_id="+auditor, obj{"outcome": "success", "actor_name": "admin"})
	admin.wantAudit("action=group.create&target_id="+team, obj{"outcome": "success", "actor_name": "kim"})
	admin.wantAudit("action=user.set_role&target_id="+lee, obj{"outcome": "success", "actor_name": "admin"})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
