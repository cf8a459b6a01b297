package service_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// The folder page's rules (R16, R21): whoever may see the folder and the
// groups (groups.view, or files.admin) reads the rules matching it or an
// ancestor, as the engine finds them, nearest first; a caller who sees the
// folder through a level but may not see groups is refused, and one who
// may not see the folder is told it does not exist.
func TestR16R21ConsoleFolderRules(t *testing.T) {
	e := newEnv(t)
	ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Study", Contexts: []string{domain.ContextRoot, "data"}, Properties: []string{"site"}})
	e.must(err)
	top, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "top", TypeID: ft.ID, Properties: map[string]string{"site": "a"}})
	e.must(err)
	child, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "child", ParentID: top.ID, TypeID: ft.ID, Properties: map[string]string{"site": "b"}})
	e.must(err)
	siteA, siteB := e.sysGroup("Site A"), e.sysGroup("Site B")
	rule := func(g domain.Group, name, site string) domain.Rule {
		r, _, err := e.svc.CreateRule(e.ctx, e.admin, domain.Rule{GroupID: g.ID, Name: name,
			Criteria: []domain.Criterion{{FolderTypeID: ft.ID, Property: "site", Operator: domain.OpEq, Value: site}},
			Grants:   map[string][]string{"data": {"edit", "read"}}})
		e.must(err)
		return r
	}
	ra, rb := rule(siteA, "site a", "a"), rule(siteB, "site b", "b")

	viewer, fadmin, reader, nobody := e.user("viewer", ""), e.user("fadmin", ""), e.user("reader", ""), e.user("nobody", "")
	e.add(e.sysGroup("Viewers", domain.PermGroupsView).ID, viewer)
	e.add(e.sysGroup("File admins", domain.PermFilesAdmin).ID, fadmin)
	readers := e.sysGroup("Readers")
	e.add(readers.ID, reader)
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, top.ID, readers.ID, domain.LevelView)
	e.must(err)

	for _, c := range []struct {
		name   string
		caller domain.Principal
	}{{"groups.view", viewer}, {"files.admin", fadmin}} {
		rs, err := e.svc.FolderRules(e.ctx, c.caller, child.ID)
		e.must(err)
		if len(rs) != 2 || rs[0].RuleID != rb.ID || rs[0].MatchedID != child.ID || rs[1].RuleID != ra.ID || rs[1].MatchedID != top.ID ||
			rs[1].GroupName != "Site A" || len(rs[1].Grants["data"]) != 2 || rs[1].Grants["data"][0] != "read" {
			t.Errorf("%s: FolderRules(child) = %+v, want site b matched here, then site a inherited from top, granting data read and edit", c.name, rs)
		}
	}
	if rs, err := e.svc.FolderRules(e.ctx, viewer, top.ID); err != nil || len(rs) != 1 || rs[0].RuleID != ra.ID {
		t.Errorf("FolderRules(top) = %+v, %v; want site a only (a rule does not grant above its match)", rs, err)
	}
	if _, err := e.svc.FolderRules(e.ctx, reader, child.ID); !domain.Is(err, domain.KindForbidden) {
		t.Errorf("a reader of the folder without groups.view read its rules: %v", err)
	}
	if _, err := e.svc.FolderRules(e.ctx, nobody, child.ID); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("a caller who may not see the folder: %v, want not found", err)
	}
	if _, err := e.svc.FolderRules(e.ctx, e.admin, "00000000-0000-7000-8000-00000000dead"); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("an unknown folder: %v, want not found", err)
	}
}
