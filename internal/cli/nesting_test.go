package cli_test

import (
	"strings"
	"testing"
)

// TestNestedGroupsCommands: members add-groups, groups, parents, list
// --effective and remove-groups against a real server (issue 20).
func TestNestedGroupsCommands(t *testing.T) {
	h := newHarness(t)
	h.login()
	h.ok("users", "create", "alice", "--email", "alice@example.org")
	h.ok("groups", "create", "Radiologists", "--permissions", "audit.view")
	h.ok("groups", "create", "XYZ radiologists")
	h.ok("members", "add", "XYZ radiologists", "alice")
	if out := h.ok("members", "add-groups", "Radiologists", "XYZ radiologists", "--expires", "30d"); !strings.Contains(out, "Added 1 group(s) to Radiologists; 1 user(s) are members through them") {
		t.Errorf("add-groups printed %q", out)
	}
	row(t, h.ok("members", "groups", "Radiologists"), "XYZ radiologists", "system")
	row(t, h.ok("members", "parents", "XYZ radiologists"), "Radiologists", "system")
	row(t, h.ok("members", "list", "Radiologists", "--effective"), "alice", "XYZ radiologists")
	if out := h.ok("check", "alice", "audit.view", "system"); !strings.HasPrefix(out, "allowed") {
		t.Errorf("alice through XYZ radiologists: check = %q", out)
	}
	h.fails(1, []string{"cycle", "Radiologists → XYZ radiologists → Radiologists"}, "members", "add-groups", "XYZ radiologists", "Radiologists")
	h.ok("members", "remove-groups", "Radiologists", "XYZ radiologists")
	noRow(t, h.ok("members", "groups", "Radiologists"), "XYZ radiologists")
}
