package rest_test

import (
	"net/http"
	"strings"
	"testing"
)

// Rules and folder types have their own GET with an ETag, and a stale
// If-Match on a rule update is 412 with the current version.
func TestGetRuleAndFolderTypeWithETags(t *testing.T) {
	e := newEnv(t)
	ft := e.do(&e.admin, http.MethodPost, "/api/v1/folder-types", map[string]any{
		"name": "Project", "contexts": []string{"root", "document"}, "properties": []string{"Therapeutic area"}}).want(t, http.StatusCreated)
	ftID := ft.str("id")
	got := e.do(&e.admin, http.MethodGet, "/api/v1/folder-types/"+ftID, nil).want(t, http.StatusOK)
	if got.str("name") != "Project" || got.Header.Get("ETag") != `"1"` {
		t.Errorf("GET folder type = %s, ETag %q", got.Raw, got.Header.Get("ETag"))
	}
	e.do(&e.admin, http.MethodGet, "/api/v1/folder-types/nope", nil).want(t, http.StatusNotFound)

	g := e.sysGroup("Cardiology")
	rule := e.do(&e.admin, http.MethodPost, "/api/v1/groups/"+g+"/rules", map[string]any{
		"name":     "Cardio documents",
		"criteria": []map[string]any{{"folder_type_id": ftID, "property": "Therapeutic area", "operator": "eq", "value": "Cardiovascular"}},
		"grants":   map[string][]string{"document": {"read", "edit"}},
	}).want(t, http.StatusCreated)
	id := rule.str("id")
	got = e.do(&e.admin, http.MethodGet, "/api/v1/rules/"+id, nil).want(t, http.StatusOK)
	if got.str("name") != "Cardio documents" || got.Header.Get("ETag") != `"1"` {
		t.Errorf("GET rule = %s, ETag %q", got.Raw, got.Header.Get("ETag"))
	}
	body := map[string]any{
		"name":     "Cardio documents (read)",
		"criteria": []map[string]any{{"folder_type_id": ftID, "property": "Therapeutic area", "operator": "eq", "value": "Cardiovascular"}},
		"grants":   map[string][]string{"document": {"read"}},
	}
	e.do(&e.admin, http.MethodPut, "/api/v1/rules/"+id, body, "If-Match", `"1"`).want(t, http.StatusOK)
	stale := e.do(&e.admin, http.MethodPut, "/api/v1/rules/"+id, body, "If-Match", `"1"`)
	if stale.Status != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match on a rule = %d %s, want 412", stale.Status, stale.Raw)
	}
	// Someone who may not see the group does not see its rule either (R21).
	bob := e.user("bob", "")
	e.do(&bob, http.MethodGet, "/api/v1/rules/"+id, nil).want(t, http.StatusNotFound)
}

// What anonymous requests may do is public: anyone may ask, even
// anonymously; asking about another user needs users.view.
func TestAnyoneMayAskAboutAnonymous(t *testing.T) {
	e := newEnv(t)
	bob := e.user("bob", "")
	q := map[string]any{"subject": "anonymous", "permission": "project.read", "resource": "project:" + e.project("CT", "multiple")}
	if r := e.do(nil, http.MethodPost, "/api/v1/check", q).want(t, http.StatusOK); r.Body["allowed"] != false {
		t.Errorf("anonymous asking about anonymous: %s", r.Raw)
	}
	e.do(&bob, http.MethodPost, "/api/v1/check", q).want(t, http.StatusOK)
	q["subject"] = "user:" + e.admin.UserID
	e.do(&bob, http.MethodPost, "/api/v1/check", q).problem(t, http.StatusForbidden, "", "users.view")
}

// A context the folder's type does not declare is a 422 naming the
// permission field, with the type's contexts in the message (R16).
func TestUndeclaredContextNamesThePermissionField(t *testing.T) {
	e := newEnv(t)
	f := e.do(&e.admin, http.MethodPost, "/api/v1/folders", map[string]any{"name": "images", "type_id": "00000000-0000-7000-8000-000000000201"}).want(t, http.StatusCreated)
	q := map[string]any{"permission": "finance.read", "resource": "folder:" + f.str("id")}
	e.do(&e.admin, http.MethodPost, "/api/v1/check", q).problem(t, http.StatusUnprocessableEntity, "body.permission", "root")
	b := e.do(&e.admin, http.MethodPost, "/api/v1/check/batch", map[string]any{"checks": []any{q}}).want(t, http.StatusOK)
	if !strings.Contains(string(b.Raw), `"location":"body.checks[0].permission"`) {
		t.Errorf("batch item error = %s, want its location body.checks[0].permission", b.Raw)
	}
}

// Refusing to delete a built-in role names the path parameter, not a body.
func TestDeleteBuiltinRoleNamesThePath(t *testing.T) {
	e := newEnv(t)
	r := e.do(&e.admin, http.MethodDelete, "/api/v1/roles/00000000-0000-7000-8000-000000000101", nil)
	if r.Status < 400 || r.Status >= 500 || !strings.Contains(string(r.Raw), `"location":"path.id"`) {
		t.Errorf("DELETE built-in role = %d %s, want a 4xx at path.id", r.Status, r.Raw)
	}
}
