package service_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Tests for what mutation testing (docs/testing.md) found unpinned in
// groups.go and members.go past line 235, folders.go, nesting.go,
// nestingviews.go and effcache.go (the fourth session). The effective-
// member cache's own tests are in effcache_test.go, inside the package.

// effectivePages reads a group's effective members page by page with q,
// as usernames, one slice a page.
func (e *env) effectivePages(c service.Caller, groupID string, q service.ListQuery) [][]string {
	e.t.Helper()
	var out [][]string
	for {
		page, err := e.svc.ListEffectiveMembersPage(e.ctx, c, groupID, q)
		e.must(err)
		out = append(out, usernames(page.Items))
		if page.Next == "" || len(out) > 10 {
			return out
		}
		q.Cursor = page.Next
	}
}

// TestEffectiveMembersSortedByThroughAndReadBackwards: sorted by
// "through", direct members come first whatever their names; read
// backwards, each page starts after the last row of the page before,
// never repeating it, and the last page says there is no more; the
// member list's effective view refuses what the page refuses.
func TestEffectiveMembersSortedByThroughAndReadBackwards(t *testing.T) {
	e := newEnv(t)
	top, low := e.sysGroup("Top"), e.sysGroup("Low")
	_, err := e.nest(top.ID, low.ID)
	e.must(err)
	e.add(low.ID, e.user("abe", ""), e.user("bea", ""), e.user("cal", ""))
	e.add(top.ID, e.user("zed", ""))
	for _, tc := range []struct {
		sort string
		desc bool
		want [][]string
	}{
		{service.EffectiveSortUsername, false, [][]string{{"abe", "bea"}, {"cal", "zed"}}},
		{service.EffectiveSortUsername, true, [][]string{{"zed", "cal"}, {"bea", "abe"}}},
		{service.EffectiveSortThrough, false, [][]string{{"zed", "abe"}, {"bea", "cal"}}},
		{service.EffectiveSortThrough, true, [][]string{{"cal", "bea"}, {"abe", "zed"}}},
	} {
		got := e.effectivePages(e.admin, top.ID, service.ListQuery{Sort: tc.sort, Desc: tc.desc, Limit: 2})
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("sorted by %s, desc %t: pages %v, want %v", tc.sort, tc.desc, got, tc.want)
		}
	}
	// Three a page backwards: the last page is short and ends the list.
	got := e.effectivePages(e.admin, top.ID, service.ListQuery{Desc: true, Limit: 3})
	if want := [][]string{{"zed", "cal", "bea"}, {"abe"}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("desc, three a page: %v, want %v", got, want)
	}
	// The member list's effective view refuses what the page refuses.
	_, err = e.svc.ListMembers(e.ctx, e.admin, top.ID, service.MemberQuery{Effective: true, Sort: "email"})
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "sort")
}

// TestR6AddingANestedGroupAgainChangesItsExpiry: adding a group that is
// already a member changes the membership's expiry (R6), and its audit
// record shows the membership before; a new nesting's record has none.
func TestR6AddingANestedGroupAgainChangesItsExpiry(t *testing.T) {
	e := newEnv(t)
	top, low := e.sysGroup("Top"), e.sysGroup("Low")
	_, err := e.nest(top.ID, low.ID)
	e.must(err)
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	_, _, err = e.svc.AddGroupMembers(e.ctx, e.admin, top.ID, []service.GroupMemberInput{{GroupID: low.ID, ExpiresAt: &until}})
	e.must(err)
	m, err := e.st.GetGroupMembership(e.ctx, top.ID, low.ID)
	e.must(err)
	if m.ExpiresAt == nil || !m.ExpiresAt.Equal(until) {
		t.Errorf("after adding Low again with an expiry: expires %v, want %v", m.ExpiresAt, until)
	}
	var befores []string
	for _, a := range e.audits("group.group_member_add", domain.OutcomeSuccess) {
		befores = append(befores, string(a.Before))
	}
	slices.Sort(befores)
	if len(befores) != 2 || befores[0] != "" || !strings.Contains(befores[1], `"member_group_id":"`+low.ID+`"`) || strings.Contains(befores[1], "expires_at") {
		t.Errorf("the two records' before: %q; want none for the new nesting, the membership without an expiry for the change", befores)
	}
}

// TestR25RemovingANestingKeepsEveryUserInEveryProject: every user who
// leaves the group through the removal keeps a row in every project the
// group is present in, not only the first user or the first project;
// the audit record names the group removed.
func TestR25RemovingANestingKeepsEveryUserInEveryProject(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	rad, xyz := e.sysGroup("Radiologists"), e.sysGroup("XYZ radiologists")
	img, lab := e.project("Imaging", domain.ModeMultiple), e.project("Lab", domain.ModeMultiple)
	e.readersIn(rad.ID, img.ID)
	e.readersIn(rad.ID, lab.ID)
	e.add(xyz.ID, ann, bob)
	_, err := e.nest(rad.ID, xyz.ID)
	e.must(err)
	res, _, err := e.svc.RemoveGroupMembers(e.ctx, e.admin, rad.ID, []string{xyz.ID})
	e.must(err)
	if !sameSet(res.Users, []string{ann.UserID, bob.UserID}) || len(res.Projects) != 2 {
		t.Errorf("the answer names users %v and projects %v, want ann and bob, Imaging and Lab", res.Users, res.Projects)
	}
	for _, u := range []service.Caller{ann, bob} {
		for _, p := range []domain.Project{img, lab} {
			if _, ok := e.individualRow(u.UserID, p.ID); !ok {
				t.Errorf("%s keeps no row in %s (R25)", u.Username, p.Name)
			}
		}
	}
	if as := e.audits("group.group_member_remove", domain.OutcomeSuccess); len(as) != 1 || as[0].Detail != "group "+xyz.Name {
		t.Errorf("the removal's audit records: %+v, want one naming the group %q", as, xyz.Name)
	}
}

// study registers the folder type Study (contexts root and data, the
// property site) and a root folder s1 of it at site a.
func (e *env) study() (domain.FolderType, domain.Folder) {
	e.t.Helper()
	ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Study", Contexts: []string{domain.ContextRoot, "data"}, Properties: []string{"site"}})
	e.must(err)
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "s1", TypeID: ft.ID, Properties: map[string]string{"site": "a"}})
	e.must(err)
	return ft, f
}

// siteARule is a rule giving groupID data.read on the folders of type
// ftID at site a.
func siteARule(ftID, groupID string) domain.Rule {
	return domain.Rule{GroupID: groupID, Name: "site a",
		Criteria: []domain.Criterion{{FolderTypeID: ftID, Property: "site", Operator: domain.OpEq, Value: "a"}},
		Grants:   map[string][]string{"data": {"read"}}}
}

// TestFolderTypesFoldersAndRulesKeepTheIDTheCallerChose: applications
// register their folder tree under their own ids (as users, groups, roles
// and projects keep theirs); one created without an id gets a fresh one.
func TestFolderTypesFoldersAndRulesKeepTheIDTheCallerChose(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Site A")
	ftID, fID, rID := domain.NewID(), domain.NewID(), domain.NewID()
	ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{ID: ftID, Name: "Study", Contexts: []string{domain.ContextRoot, "data"}, Properties: []string{"site"}})
	e.must(err)
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{ID: fID, Name: "s1", TypeID: ftID, Properties: map[string]string{"site": "a"}})
	e.must(err)
	rule := func(id, name string) domain.Rule {
		r := siteARule(ftID, g.ID)
		r.ID, r.Name = id, name
		return r
	}
	r, _, err := e.svc.CreateRule(e.ctx, e.admin, rule(rID, "chosen"))
	e.must(err)
	_, errT := e.st.GetFolderType(e.ctx, ftID)
	_, errF := e.st.GetFolder(e.ctx, fID)
	_, errR := e.st.GetRule(e.ctx, rID)
	if ft.ID != ftID || f.ID != fID || r.ID != rID || errT != nil || errF != nil || errR != nil {
		t.Errorf("created %s, %s, %s (stored: %v, %v, %v); want the ids chosen %s, %s, %s", ft.ID, f.ID, r.ID, errT, errF, errR, ftID, fID, rID)
	}
	ft2, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Other"})
	e.must(err)
	f2, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "s2", TypeID: ftID})
	e.must(err)
	r2, _, err := e.svc.CreateRule(e.ctx, e.admin, rule("", "fresh"))
	e.must(err)
	for _, id := range []string{ft2.ID, f2.ID, r2.ID} {
		if id == "" || id == ftID || id == fID || id == rID {
			t.Errorf("an object created without an id got %q", id)
		}
	}
}

// TestIfMatchFolderTypeFolderAndRuleUpdatesRefuseAnOlderVersion: as for
// roles and projects (docs/api.md's If-Match), an update naming an older
// version is a conflict that writes nothing; the current version or none
// (0) is applied.
func TestIfMatchFolderTypeFolderAndRuleUpdatesRefuseAnOlderVersion(t *testing.T) {
	e := newEnv(t)
	ft, f := e.study()
	r, _, err := e.svc.CreateRule(e.ctx, e.admin, siteARule(ft.ID, e.sysGroup("Site A").ID))
	e.must(err)
	updates := []struct {
		what   string
		update func(name string, version int64) (int64, error) // the version after
	}{
		{"folder type", func(name string, version int64) (int64, error) {
			u := ft
			u.Name, u.Version = name, version
			got, _, err := e.svc.UpdateFolderType(e.ctx, e.admin, ft.ID, u)
			return got.Version, err
		}},
		{"folder", func(name string, version int64) (int64, error) {
			got, _, err := e.svc.UpdateFolder(e.ctx, e.admin, f.ID, service.FolderUpdate{Name: &name, Version: version})
			return got.Version, err
		}},
		{"rule", func(name string, version int64) (int64, error) {
			u := r
			u.Name, u.Version = name, version
			got, _, err := e.svc.UpdateRule(e.ctx, e.admin, r.ID, u)
			return got.Version, err
		}},
	}
	for _, u := range updates {
		v1, err := u.update("one", 0)
		e.must(err)
		v2, err := u.update("two", v1)
		e.must(err)
		if v2 == v1 {
			t.Fatalf("%s: the version did not move from %d", u.what, v1)
		}
		before := e.rev()
		_, err = u.update("three", v1)
		wantKind(t, err, domain.KindConflict, "changed meanwhile")
		if e.rev() != before {
			t.Errorf("%s: a refused update moved the revision from %d to %d", u.what, before, e.rev())
		}
	}
}

// TestFolderRefusalsSayWhatIsWrong: a property the type does not declare
// is named with the type's properties, or alone when it declares none; a
// folder whose parent exists is still refused a project that does not;
// a move below one of the folder's own descendants names the folder.
func TestFolderRefusalsSayWhatIsWrong(t *testing.T) {
	e := newEnv(t)
	ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Study", Contexts: []string{domain.ContextRoot}, Properties: []string{"site", "phase"}})
	e.must(err)
	bare, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Bare"})
	e.must(err)
	_, _, err = e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "x", TypeID: ft.ID, Properties: map[string]string{"colour": "red"}})
	wantKind(t, err, domain.KindInvalid, `folder type "Study" declares no property "colour"; its properties are: site, phase`)
	_, _, err = e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "x", TypeID: bare.ID, Properties: map[string]string{"colour": "red"}})
	wantKind(t, err, domain.KindInvalid, `folder type "Bare" declares no property "colour"`)
	if strings.Contains(err.Error(), "its properties") {
		t.Errorf("a type with no properties lists them: %v", err)
	}

	top, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "top", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	missing := domain.NewID()
	_, _, err = e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "x", ParentID: top.ID, ProjectID: missing, TypeID: domain.FolderTypeFolderID})
	wantKind(t, err, domain.KindInvalid, "project "+missing+" does not exist")
	wantField(t, err, "project_id")

	mid, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "mid", ParentID: top.ID, TypeID: domain.FolderTypeFolderID})
	e.must(err)
	low, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "low", ParentID: mid.ID, TypeID: domain.FolderTypeFolderID})
	e.must(err)
	_, _, err = e.svc.UpdateFolder(e.ctx, e.admin, top.ID, service.FolderUpdate{ParentID: &low.ID})
	wantKind(t, err, domain.KindInvalid, `cannot move folder "top" below itself or one of its descendants`)
	wantField(t, err, "parent_id")
}

// TestR15R21DeletingAFolderLevelInheritsAgain: deleting a group's entry
// on a folder removes it, so the level of the folder above applies again
// (R15), audited under the group's name; an entry that does not exist is
// not_found, and a caller with neither groups.edit nor files.admin is
// refused (R21), writing nothing.
func TestR15R21DeletingAFolderLevelInheritsAgain(t *testing.T) {
	e := newEnv(t)
	top, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "top", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	low, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "low", ParentID: top.ID, TypeID: domain.FolderTypeFolderID})
	e.must(err)
	readers, u := e.sysGroup("Readers"), e.user("u", "")
	e.add(readers.ID, u)
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, top.ID, readers.ID, domain.LevelView)
	e.must(err)
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, low.ID, readers.ID, domain.LevelNone)
	e.must(err)
	if e.can(u, "root.read", folder(low.ID)) {
		t.Fatal("the explicit none on low does not override the level inherited from top")
	}

	viewer := e.user("viewer", "")
	e.add(e.sysGroup("Viewers", domain.PermGroupsView).ID, viewer)
	before := e.rev()
	wantKind(t, errOf(e.svc.DeleteFolderLevel(e.ctx, viewer, low.ID, readers.ID)), domain.KindForbidden, domain.PermGroupsEdit, domain.PermFilesAdmin)
	if e.rev() != before {
		t.Errorf("a refused delete moved the revision from %d to %d", before, e.rev())
	}

	e.must(errOf(e.svc.DeleteFolderLevel(e.ctx, e.admin, low.ID, readers.ID)))
	if !e.can(u, "root.read", folder(low.ID)) {
		t.Error("after deleting the entry on low, the level of top is not inherited")
	}
	if as := e.audits("folder_level.delete", domain.OutcomeSuccess); len(as) != 1 || as[0].TargetID != low.ID || as[0].Detail != "group Readers" {
		t.Errorf("audit records of the delete: %+v, want one on low naming the group", as)
	}
	wantKind(t, errOf(e.svc.DeleteFolderLevel(e.ctx, e.admin, low.ID, readers.ID)), domain.KindNotFound, "has no level")
}

// TestR21RulesOfAGroupTheCallerMayNotSeeAndDeletingOne: a rule for a
// group the caller may not see is refused as if the group did not exist
// (R21: not a refusal that tells it exists); deleting a rule removes it
// and what it granted, audited under the group's name.
func TestR21RulesOfAGroupTheCallerMayNotSeeAndDeletingOne(t *testing.T) {
	e := newEnv(t)
	ft, f := e.study()
	g, u, outsider := e.sysGroup("Site A"), e.user("u", ""), e.user("outsider", "")
	e.add(g.ID, u)
	rule := siteARule(ft.ID, g.ID)
	_, _, err := e.svc.CreateRule(e.ctx, outsider, rule)
	wantKind(t, err, domain.KindInvalid, "group "+g.ID+" does not exist")
	wantField(t, err, "group_id")

	r, _, err := e.svc.CreateRule(e.ctx, e.admin, rule)
	e.must(err)
	if !e.can(u, "data.read", folder(f.ID)) {
		t.Fatal("the rule grants nothing")
	}
	e.must(errOf(e.svc.DeleteRule(e.ctx, e.admin, r.ID)))
	if _, err := e.st.GetRule(e.ctx, r.ID); !domain.Is(err, domain.KindNotFound) || e.can(u, "data.read", folder(f.ID)) {
		t.Errorf("after DeleteRule: the rule reads %v, u reads the folder %t; want not found and no access", err, e.can(u, "data.read", folder(f.ID)))
	}
	if as := e.audits("rule.delete", domain.OutcomeSuccess); len(as) != 1 || as[0].TargetID != r.ID || as[0].Detail != "group Site A" {
		t.Errorf("audit records of the delete: %+v, want one naming the group", as)
	}
}

// TestR5PublicIsToldWhatItMayHoldAndMayBeLeftWithNone: a role or
// checkboxes for Public are refused with what it may hold instead (R5);
// setting it no system grant at all (as a form or apply that lists every
// group does) is not a refusal.
func TestR5PublicIsToldWhatItMayHoldAndMayBeLeftWithNone(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		role string
		keys []string
	}{{domain.RoleSystemMemberID, nil}, {"", []string{domain.PermUsersView}}} {
		_, _, err := e.svc.SetGroupSystemGrants(e.ctx, e.admin, domain.GroupPublicID, c.role, c.keys)
		wantKind(t, err, domain.KindInvalid, "can hold no system permission (R5); give it folder levels or project read rights instead")
	}
	g, _, err := e.svc.SetGroupSystemGrants(e.ctx, e.admin, domain.GroupPublicID, "", nil)
	e.must(err)
	if g.SystemRoleID != "" || len(g.SystemPermissions) != 0 {
		t.Errorf("Public holds %q, %v after being set none", g.SystemRoleID, g.SystemPermissions)
	}
}

// TestR29GroupProjectRightsAndDeletionsAuditWhatTheyChanged: a group's
// first rights in a project are audited with nothing before, a change
// with the rights it replaced; a deletion's record says what happened to
// the members: kept or removed for a project group (R26), confirmed and
// gone from the projects for a system group (R27).
func TestR29GroupProjectRightsAndDeletionsAuditWhatTheyChanged(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeMultiple)
	pg, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Investigators", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	for _, keys := range [][]string{{domain.PermProjectRead}, {domain.PermProjectRead, domain.PermProjectWrite}} {
		_, _, err = e.svc.SetGroupProjectRights(e.ctx, e.admin, pg.ID, p.ID, "", keys)
		e.must(err)
	}
	var befores []string
	for _, a := range e.audits("group.set_project_rights", domain.OutcomeSuccess) {
		befores = append(befores, string(a.Before))
	}
	slices.Sort(befores)
	if len(befores) != 2 || befores[0] != "" || !strings.Contains(befores[1], `"permissions":["`+domain.PermProjectRead+`"]`) {
		t.Errorf("the rights' records before: %q; want none, then the first rights", befores)
	}

	sys := e.sysGroup("Monitors")
	e.readersIn(sys.ID, p.ID)
	_, _, err = e.svc.DeleteGroup(e.ctx, e.admin, pg.ID, service.DeleteGroupOptions{})
	e.must(err)
	_, _, err = e.svc.DeleteGroup(e.ctx, e.admin, sys.ID, service.DeleteGroupOptions{Confirm: true})
	e.must(err)
	details := map[string]string{}
	for _, a := range e.audits("group.delete", domain.OutcomeSuccess) {
		details[a.TargetID] = a.Detail
	}
	if want := map[string]string{pg.ID: "members: keep_users; projects: 1", sys.ID: "confirmed; members left 1 projects"}; !maps.Equal(details, want) {
		t.Errorf("the deletions' details: %q, want %q", details, want)
	}
}

// TestR23R27ImportingIntoAnExclusiveProjectAndRemovingFromSeveral: a
// group whose members are in no other group of an exclusive project is
// imported into it, every member's individual rights there emptied
// (R23); one whose member is already in a group there is refused, naming
// the user and the group; removing a group from several projects removes
// it from each (R27), not only the first.
func TestR23R27ImportingIntoAnExclusiveProjectAndRemovingFromSeveral(t *testing.T) {
	e := newEnv(t)
	ex, open := e.project("Exclusive", domain.ModeExclusive), e.project("Open", domain.ModeMultiple)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	for _, u := range []service.Caller{ann, bob} {
		_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, u.UserID, ex.ID, "", []string{domain.PermProjectRead})
		e.must(err)
	}
	g, h := e.sysGroup("G"), e.sysGroup("H")
	e.add(g.ID, ann, bob)
	e.add(h.ID, ann)
	_, _, err := e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{ex.ID, open.ID})
	e.must(err)
	for _, u := range []service.Caller{ann, bob} {
		if row, ok := e.individualRow(u.UserID, ex.ID); !ok || row.RoleID != "" || len(row.Permissions) != 0 {
			t.Errorf("%s's individual row in the exclusive project after joining G there: %+v (%t), want kept and empty", u.Username, row, ok)
		}
	}
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, h.ID, []string{ex.ID})
	wantKind(t, err, domain.KindConflict, `project "Exclusive" is exclusive and ann → H is already in group "G" there (R23)`)

	res, _, err := e.svc.RemoveGroupFromProjects(e.ctx, e.admin, g.ID, []string{ex.ID, open.ID}, true)
	e.must(err)
	if len(res.Projects) != 2 {
		t.Errorf("removed from %+v, want both projects", res.Projects)
	}
	for _, p := range []domain.Project{ex, open} {
		if _, err := e.st.GetProjectGrant(e.ctx, p.ID, domain.SubjectGroup, g.ID); !domain.Is(err, domain.KindNotFound) {
			t.Errorf("G is still present in %s: %v", p.Name, err)
		}
	}
}

// TestR29RemovingSeveralMembersRemovesAndAuditsEachByName: every user
// named leaves the group, not only the first, each with an audit record
// naming them by username.
func TestR29RemovingSeveralMembersRemovesAndAuditsEachByName(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Staff")
	ann, bob := e.user("ann", ""), e.user("bob", "")
	e.add(g.ID, ann, bob)
	res, _, err := e.svc.RemoveMembers(e.ctx, e.admin, g.ID, []string{ann.UserID, bob.UserID})
	e.must(err)
	if !sameSet(res.Users, []string{ann.UserID, bob.UserID}) {
		t.Errorf("removed %v, want ann and bob", res.Users)
	}
	for _, u := range []service.Caller{ann, bob} {
		if _, err := e.st.GetMembership(e.ctx, g.ID, u.UserID); !domain.Is(err, domain.KindNotFound) {
			t.Errorf("%s is still a member: %v", u.Username, err)
		}
	}
	var details []string
	for _, a := range e.audits("group.member_remove", domain.OutcomeSuccess) {
		details = append(details, a.Detail)
	}
	if !sameSet(details, []string{"user ann", "user bob"}) {
		t.Errorf("the removals' details: %q, want user ann and user bob", details)
	}
}

// TestR5R21GroupPrivilegesAndDefaultProjectRights: the privileges form
// sets a group's role, checkboxes and domains together, writing the
// system grants only when they change, and ignores checkboxes for Public
// (R5), whose domains it still sets; default project rights (R9) need
// groups.edit (R21) and are kept as given.
func TestR5R21GroupPrivilegesAndDefaultProjectRights(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Staff")
	in := service.GroupPrivileges{RoleID: domain.RoleSystemMemberID, Domains: []string{"xyz.example"}}
	for range 2 {
		got, doms, _, err := e.svc.SetGroupPrivileges(e.ctx, e.admin, g.ID, in)
		e.must(err)
		if got.SystemRoleID != in.RoleID || !slices.Equal(doms, in.Domains) {
			t.Errorf("Staff holds role %q and domains %v, want %q and %v", got.SystemRoleID, doms, in.RoleID, in.Domains)
		}
	}
	if n := len(e.audits("group.set_system_grants", domain.OutcomeSuccess)); n != 1 {
		t.Errorf("the same privileges set twice wrote the system grants %d times, want once", n)
	}
	pub, doms, _, err := e.svc.SetGroupPrivileges(e.ctx, e.admin, domain.GroupPublicID, service.GroupPrivileges{Permissions: []string{domain.PermUsersView}, Domains: []string{"public.example"}})
	e.must(err)
	if len(pub.SystemPermissions) != 0 || !slices.Equal(doms, []string{"public.example"}) {
		t.Errorf("Public holds %v and domains %v; want no checkbox and public.example", pub.SystemPermissions, doms)
	}

	viewer := e.user("viewer", "")
	e.add(e.sysGroup("Viewers", domain.PermGroupsView).ID, viewer)
	keys := []string{domain.PermProjectRead}
	_, _, err = e.svc.SetGroupDefaultProjectRights(e.ctx, viewer, g.ID, "", keys)
	wantKind(t, err, domain.KindForbidden, "missing permission "+domain.PermGroupsEdit+" (R21)")
	got, _, err := e.svc.SetGroupDefaultProjectRights(e.ctx, e.admin, g.ID, domain.RoleViewerID, keys)
	e.must(err)
	stored, err := e.st.GetGroup(e.ctx, g.ID)
	e.must(err)
	for _, x := range []domain.Group{got, stored} {
		if x.DefaultProjectRoleID != domain.RoleViewerID || !slices.Equal(x.DefaultProjectPermissions, keys) {
			t.Errorf("default project rights %q %v, want Viewer and %v", x.DefaultProjectRoleID, x.DefaultProjectPermissions, keys)
		}
	}
	_, _, err = e.svc.SetGroupDefaultProjectRights(e.ctx, e.admin, g.ID, domain.RoleSystemMemberID, nil)
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "default_project_role_id")
}
