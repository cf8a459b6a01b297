package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Well-known ids of built-in objects (internal/domain/builtin.go).
const (
	applyViewerRoleID    = "00000000-0000-7000-8000-000000000111"
	applyEditorRoleID    = "00000000-0000-7000-8000-000000000112"
	applyFolderTypeID    = "00000000-0000-7000-8000-000000000201"
	applyPublicGroupID   = "00000000-0000-7000-8000-000000000003"
	applyEveryoneGroupID = "00000000-0000-7000-8000-000000000002"
	applyConfigFile      = "gatehouse.yaml"
)

// gatehouseCLI runs a gatehouse command against the server of c, as c's token.
func (c *client) gatehouseCLI(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "GATEHOUSE_SERVER="+c.base, "GATEHOUSE_TOKEN="+c.token, "GATEHOUSE_CONFIG_DIR="+c.t.TempDir())
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func (c *client) mustGatehouseCLI(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.gatehouseCLI(args...)
	if err != nil {
		c.t.Fatalf("gatehouse %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// populate builds a realistic configuration through the API: folder types,
// a custom role, users, a system group with grants, domains, a rule and
// expiring memberships, a project in each membership mode with project
// groups, an imported group and individual rights, and a folder tree with
// levels.
func populateForApply(t *testing.T, c *client) {
	t.Helper()
	grt := c.create("/folder-types", obj{"name": "GRT Study", "contexts": []string{"root", "data", "document", "analysis"}, "properties": []string{"phase", "status"}})
	reader := c.create("/roles", obj{"name": "Reader", "scope": "project", "description": "Reads project data.", "permissions": []string{"project.read"}})
	users := map[string]string{}
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"} {
		users[u] = c.user(u, "pw-"+u+"-Secret-1")
	}
	c.call("PUT", "/users/"+users["heidi"]+"/status", obj{"status": "disabled"}, 200)
	c.call("PUT", "/users/"+users["grace"]+"/preferences", obj{"show_personal_info": false}, 200)

	lib := c.create("/projects", obj{"name": "Image Library", "description": "Radiology images."})
	trial := c.create("/projects", obj{"name": "Clinical Trial ABC", "membership_mode": "exclusive"})

	rad := c.create("/groups", obj{"name": "Radiologists", "scope": "system", "description": "Reads and downloads images.",
		"system_permissions": []string{"volume.download"}, "default_project_role_id": applyViewerRoleID})
	c.call("PUT", "/groups/"+rad+"/domains", obj{"domains": []string{"ct.example.org", "mr.example.org"}}, 200)
	monitors := c.create("/groups", obj{"name": "Monitors", "scope": "system"})
	inv := c.create("/groups", obj{"name": "Investigators", "scope": "project", "project_id": trial})
	c.call("PUT", "/groups/"+inv+"/projects/"+trial, obj{"role_id": applyEditorRoleID}, 200)
	coord := c.create("/groups", obj{"name": "Coordinators", "scope": "project", "project_id": trial})
	c.call("PUT", "/groups/"+coord+"/projects/"+trial, obj{"role_id": reader}, 200)

	c.call("POST", "/groups/"+rad+"/projects/import", obj{"project_ids": []string{lib}}, 200)
	c.call("POST", "/groups/"+monitors+"/projects/import", obj{"project_ids": []string{trial}}, 200)

	expires := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	c.call("POST", "/groups/"+rad+"/members", obj{"members": []obj{{"user_id": users["alice"]}, {"user_id": users["bob"], "expires_at": expires}}}, 200)
	c.addMembers(inv, users["carol"])
	c.call("POST", "/groups/"+coord+"/members", obj{"members": []obj{{"user_id": users["dave"], "expires_at": expires}}}, 200)
	c.addMembers(monitors, users["erin"])
	c.call("PUT", "/users/"+users["frank"]+"/projects/"+lib, obj{"permissions": []string{"project.read", "project.write"}}, 200)
	// Nested groups: a system group in a system group, until a date, and
	// a system group in a project group.
	chest := c.create("/groups", obj{"name": "Chest radiologists", "scope": "system"})
	c.addMembers(chest, users["grace"])
	c.call("POST", "/groups/"+rad+"/group-members", obj{"groups": []obj{{"group_id": chest, "expires_at": expires}}}, 200)
	leads := c.create("/groups", obj{"name": "Site leads", "scope": "system"})
	c.call("POST", "/groups/"+inv+"/group-members", obj{"groups": []obj{{"group_id": leads}}}, 200)

	images := c.create("/folders", obj{"name": "Images", "type_id": applyFolderTypeID, "project_id": lib})
	ct := c.create("/folders", obj{"name": "CT", "parent_id": images, "type_id": applyFolderTypeID, "project_id": lib})
	c.call("PUT", "/folders/"+images+"/levels/"+applyPublicGroupID, obj{"level": "view"}, 200)
	c.call("PUT", "/folders/"+images+"/levels/"+applyEveryoneGroupID, obj{"level": "download"}, 200)
	c.call("PUT", "/folders/"+ct+"/levels/"+rad, obj{"level": "delete"}, 200)
	c.call("PUT", "/folders/"+ct+"/levels/"+applyPublicGroupID, obj{"level": "none"}, 200)
	tmf := c.create("/folders", obj{"name": "TMF", "type_id": applyFolderTypeID})
	study := c.create("/folders", obj{"name": "ABC-001", "parent_id": tmf, "type_id": grt, "project_id": trial, "properties": obj{"phase": "2", "status": "open"}})
	c.call("PUT", "/folders/"+study+"/levels/"+inv, obj{"level": "upload"}, 200)
	c.create("/groups/"+monitors+"/rules", obj{"name": "Phase 2 studies", "criteria": []obj{{"folder_type_id": grt, "property": "phase", "operator": "in", "values": []string{"2", "3"}}},
		"grants": obj{"data": []string{"read", "view_blinded"}, "document": []string{"read"}}})
}

func TestApplyExportRoundTrip(t *testing.T) {
	a := adminClient(t, startStory(t))
	populateForApply(t, a)
	exportA := a.mustGatehouseCLI("export")
	for _, want := range []string{"name: Clinical Trial ABC", "membership_mode: exclusive", "path: TMF/ABC-001", "expires: ", "operator: in", "group: Radiologists", "status: disabled",
		"member_groups:\n", "- group: Chest radiologists\n", "- group: Site leads\n            system: true"} {
		if !strings.Contains(exportA, want) {
			t.Errorf("export lacks %q:\n%s", want, exportA)
		}
	}
	if strings.Contains(exportA, "password") || strings.Contains(exportA, "$argon2") {
		t.Errorf("export holds a secret:\n%s", exportA)
	}
	file := filepath.Join(t.TempDir(), applyConfigFile)
	if err := os.WriteFile(file, []byte(exportA), 0o600); err != nil {
		t.Fatal(err)
	}

	b := adminClient(t, startStory(t))
	// --dry-run prints the plan and changes nothing.
	before := len(b.audit(""))
	plan := b.mustGatehouseCLI("apply", "-f", file, "--dry-run")
	for _, want := range []string{"folder types:\n  + create GRT Study", "  + create Clinical Trial ABC", "  + create Radiologists ∋ alice", "  + create TMF/ABC-001", "Plan: "} {
		if !strings.Contains(plan, want) {
			t.Errorf("dry-run plan lacks %q:\n%s", want, plan)
		}
	}
	if after := len(b.audit("")); after != before {
		t.Errorf("--dry-run changed the server: audit events %d → %d", before, after)
	}
	if out := b.mustGatehouseCLI("export"); out == exportA {
		t.Fatal("the fresh server already matches the export before apply")
	}

	out := b.mustGatehouseCLI("apply", "-f", file)
	if !strings.HasPrefix(out, "Applied: ") {
		t.Errorf("apply said %q", out)
	}
	if exportB := b.mustGatehouseCLI("export"); exportB != exportA {
		t.Errorf("export after apply differs from the applied export:\n--- A\n%s\n--- B\n%s", exportA, exportB)
	}
	// Applying the same file again changes nothing.
	before = len(b.audit(""))
	if out := b.mustGatehouseCLI("apply", "-f", file); !strings.HasPrefix(out, "No changes") {
		t.Errorf("second apply: got %q, want No changes", out)
	}
	if after := len(b.audit("")); after != before {
		t.Errorf("second apply wrote %d audit events, want none", after-before)
	}
	// The applied configuration answers checks: carol is an Editor of the
	// trial through its Investigators group.
	carol := str(t, items(t, b.call("GET", "/users?search=carol", nil, 200))[0], "id")
	trial := str(t, items(t, b.call("GET", "/projects?search=Clinical", nil, 200))[0], "id")
	b.check("user:"+carol, "project.write", "project:"+trial, true)

	// Objects absent from the file are deleted only with --prune.
	extra := b.user("mallory", "pw-mallory-Secret-1")
	b.create("/folders", obj{"name": "Scratch", "type_id": applyFolderTypeID})
	out = b.mustGatehouseCLI("apply", "-f", file)
	for _, want := range []string{"No changes", "2 object(s) absent from the file kept"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply without --prune: %q lacks %q", out, want)
		}
	}
	plan = b.mustGatehouseCLI("apply", "-f", file, "--dry-run")
	if !strings.Contains(plan, "= keep   mallory (absent from the file; would delete with --prune)") {
		t.Errorf("dry-run without --prune does not list mallory as kept:\n%s", plan)
	}
	b.call("GET", "/users/"+extra, nil, 200)
	plan = b.mustGatehouseCLI("apply", "-f", file, "--dry-run", "--prune")
	if !strings.Contains(plan, "  - delete mallory") || !strings.Contains(plan, "  - delete Scratch") || !strings.Contains(plan, "0 to create, 0 to update, 2 to delete") {
		t.Errorf("dry-run --prune plan:\n%s", plan)
	}
	b.call("GET", "/users/"+extra, nil, 200)
	out = b.mustGatehouseCLI("apply", "-f", file, "--prune")
	if !strings.Contains(out, "0 created, 0 updated, 2 deleted") {
		t.Errorf("apply --prune said %q", out)
	}
	b.problem("GET", "/users/"+extra, nil, 404)
	if exportB := b.mustGatehouseCLI("export"); exportB != exportA {
		t.Errorf("export after --prune differs from the file:\n%s", exportB)
	}
	// The changes went through the API as the CLI's user: audited.
	b.wantAudit("action=user.delete", obj{"target_id": extra, "actor_name": "admin"})
}

func TestApplyRejectsInvalidFileAndAppliesNothing(t *testing.T) {
	c := adminClient(t, startStory(t))
	file := filepath.Join(t.TempDir(), applyConfigFile)
	bad := "version: 1\nusers:\n  - username: zoe\ngroups:\n  - name: Readers\n    members:\n      - zoe\n      - nobody\n    colour: blue\n"
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(c.audit(""))
	_, errOut, err := c.gatehouseCLI("apply", "-f", file)
	if err == nil {
		t.Fatal("apply accepted an invalid file")
	}
	if want := fmt.Sprintf("%s:9: unknown key \"colour\" in a group", file); !strings.Contains(errOut, want) {
		t.Errorf("stderr %q lacks %q", errOut, want)
	}
	bad = strings.Replace(bad, "    colour: blue\n", "", 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, err = c.gatehouseCLI("apply", "-f", file)
	if want := fmt.Sprintf("%s:8: groups[0].members[1].user: unknown user \"nobody\"", file); err == nil || !strings.Contains(errOut, want) {
		t.Errorf("apply with an unknown user: err %v, stderr %q, want %q", err, errOut, want)
	}
	if after := len(c.audit("")); after != before {
		t.Errorf("an invalid file changed the server: audit events %d → %d", before, after)
	}
}
