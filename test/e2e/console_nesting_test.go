package e2e

import (
	"strings"
	"testing"
)

// TestConsoleNestedGroups: in Chromium, an administrator nests one group
// in another with the group picker, sees the parent on the child's page
// and the member through the nesting, and gets the cycle named when
// trying the reverse (issue 20); the tab's trees show the chain both ways
// and its search finds the members through it.
func TestConsoleNestedGroups(t *testing.T) {
	base := startStory(t)
	a := adminClient(t, base)
	rad := a.create("/groups", obj{"name": "Radiologists", "scope": "system"})
	xyz := a.create("/groups", obj{"name": "XYZ radiologists", "scope": "system"})
	a.addMembers(xyz, a.user("alice", "pw-alice-Secret-1"))
	a.addMembers(rad, a.user("bob", "pw-bob-Secret-1"))
	staff := a.create("/groups", obj{"name": "Hospital staff", "scope": "system"})
	a.call("POST", "/groups/"+staff+"/group-members", obj{"groups": []obj{{"group_id": rad, "expires_at": "2099-01-01T00:00:00Z"}}}, 200)

	b := newUIBrowser(t, strings.TrimSuffix(base, "/api/v1"))
	b.signIn("admin", adminPassword)
	b.open("/admin/groups/"+rad+"/nesting", "Radiologists nesting tab")
	b.choose("#add-group", "XYZ radiologists")
	b.submit("#add-group-button", "XYZ added to Radiologists")
	b.wantFlash("Group added; members through it: 1 user.")
	b.wantText("#children", "XYZ radiologists")
	b.wantText("#effective", "alice", "XYZ radiologists → Radiologists", "bob", "direct member")
	b.wantText("#tree-up", "Hospital staff", "until 2099-01-01")
	b.wantText("#tree-down", "XYZ radiologists")
	b.fill("#effective-search", "ali")
	b.submit("#effective-search-button", "effective members found by ali")
	b.wantText("#effective", "alice", "XYZ radiologists → Radiologists")
	if got := b.text("#effective"); strings.Contains(got, "bob") {
		t.Errorf("searching ali still lists bob:\n%s", got)
	}
	b.open("/admin/groups/"+xyz+"/nesting", "XYZ nesting tab")
	b.wantText("#parents", "Radiologists")
	b.wantText("#tree-up", "Radiologists", "Hospital staff")
	b.choose("#add-group", "Radiologists")
	b.submit("#add-group-button", "cycle refused")
	b.wantText("#flash-error", "Radiologists → XYZ radiologists → Radiologists")
}
