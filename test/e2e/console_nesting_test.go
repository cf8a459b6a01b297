package e2e

import (
	"strings"
	"testing"
)

// TestConsoleNestedGroups: in Chromium, an administrator nests one group
// in another with the group picker, sees the parent on the child's page
// and the member through the nesting, and gets the cycle named when
// trying the reverse (issue 20).
func TestConsoleNestedGroups(t *testing.T) {
	base := startStory(t)
	a := adminClient(t, base)
	rad := a.create("/groups", obj{"name": "Radiologists", "scope": "system"})
	xyz := a.create("/groups", obj{"name": "XYZ radiologists", "scope": "system"})
	a.addMembers(xyz, a.user("alice", "pw-alice-Secret-1"))

	b := newUIBrowser(t, strings.TrimSuffix(base, "/api/v1"))
	b.signIn("admin", adminPassword)
	b.open("/admin/groups/"+rad+"/nesting", "Radiologists nesting tab")
	b.choose("#add-group", "XYZ radiologists")
	b.submit("#add-group-button", "XYZ added to Radiologists")
	b.wantFlash("Group added; members through it: 1 user.")
	b.wantText("#children", "XYZ radiologists")
	b.wantText("#effective", "alice", "XYZ radiologists → Radiologists")
	b.open("/admin/groups/"+xyz+"/nesting", "XYZ nesting tab")
	b.wantText("#parents", "Radiologists")
	b.choose("#add-group", "Radiologists")
	b.submit("#add-group-button", "cycle refused")
	b.wantText("#flash-error", "Radiologists → XYZ radiologists → Radiologists")
}
