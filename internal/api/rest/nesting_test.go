package rest_test

import (
	"strings"
	"testing"
)

func (e *env) nest(parent, child string) resp {
	e.t.Helper()
	return e.do(&e.admin, "POST", "/api/v1/groups/"+parent+"/group-members", map[string]any{"groups": []map[string]any{{"group_id": child}}})
}

// Nested groups over REST: add a group member, list it both ways, list
// the effective members with their path, refuse a cycle as problem+json
// naming it, remove the nesting.
func TestNestedGroupsOverREST_R12_R19(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", "")
	rad, xyz := e.sysGroup("Radiologists", "users.view"), e.sysGroup("XYZ radiologists")
	e.add(xyz, alice)
	r := e.nest(rad, xyz).want(t, 200)
	if users, _ := r.Body["users"].([]any); len(users) != 1 || users[0] != alice.UserID || r.num("revision") == 0 {
		t.Errorf("add-group-members answer = %s", r.Raw)
	}
	kids := e.do(&e.admin, "GET", "/api/v1/groups/"+rad+"/group-members", nil).want(t, 200)
	parents := e.do(&e.admin, "GET", "/api/v1/groups/"+xyz+"/parents", nil).want(t, 200)
	if !strings.Contains(string(kids.Raw), `"XYZ radiologists"`) || !strings.Contains(string(parents.Raw), `"Radiologists"`) {
		t.Errorf("group-members %s, parents %s", kids.Raw, parents.Raw)
	}
	direct := e.do(&e.admin, "GET", "/api/v1/groups/"+rad+"/members", nil).want(t, 200)
	eff := e.do(&e.admin, "GET", "/api/v1/groups/"+rad+"/members?effective=true", nil).want(t, 200)
	if items, _ := direct.Body["items"].([]any); len(items) != 0 {
		t.Errorf("direct members of Radiologists = %s, want none", direct.Raw)
	}
	if !strings.Contains(string(eff.Raw), `"through":["XYZ radiologists"]`) || !strings.Contains(string(eff.Raw), alice.UserID) {
		t.Errorf("effective members = %s, want alice through XYZ radiologists", eff.Raw)
	}
	e.nest(xyz, rad).problem(t, 409, "", "Radiologists → XYZ radiologists")
	e.nest(rad, "00000000-0000-7000-8000-000000000002").problem(t, 422, "", "implicit members")
	e.do(&e.admin, "POST", "/api/v1/groups/"+rad+"/group-members", map[string]any{"groups": []map[string]any{}}).problem(t, 422, "body.groups")
	e.do(&e.admin, "POST", "/api/v1/groups/"+rad+"/group-members/remove", map[string]any{"group_ids": []string{xyz}}).want(t, 200)
	if kids := e.do(&e.admin, "GET", "/api/v1/groups/"+rad+"/group-members", nil).want(t, 200); strings.Contains(string(kids.Raw), xyz) {
		t.Errorf("XYZ still a member after remove: %s", kids.Raw)
	}
}
