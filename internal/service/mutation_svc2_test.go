package service_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Tests for what mutation testing (docs/testing.md, fourth session) found
// unpinned in reads.go, queries.go, console_reads.go, changes.go,
// follower.go, webhooks.go, service.go, bootstrap.go and oidc.go. Several
// reads were only ever called from the REST and console packages, whose
// tests the service's mutants never meet: their authorization is the
// service's, so it is pinned here.

// TestR21ProjectListAndGrantRowsFollowWhatTheCallerMaySee: ListProjects
// shows every project to a holder of server.manage and only the projects
// a caller may read to anyone else; a project's grant rows are for
// users.view, groups.view or a moderator of that project, and a project
// the caller may not see is not found.
func TestR21ProjectListAndGrantRowsFollowWhatTheCallerMaySee(t *testing.T) {
	e := newEnv(t)
	visible, hidden := e.project("Visible", domain.ModeMultiple), e.project("Hidden", domain.ModeMultiple)
	reader, mod, groupViewer := e.user("reader", ""), e.user("mod", ""), e.user("group-viewer", "")
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, reader.UserID, visible.ID, "", []string{domain.PermProjectRead})
	e.must(err)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, mod.UserID, visible.ID, "", []string{domain.PermProjectModerate})
	e.must(err)
	e.add(e.sysGroup("Group viewers", domain.PermGroupsView).ID, groupViewer)

	names := func(c service.Caller) []string {
		t.Helper()
		page, err := e.svc.ListProjects(e.ctx, c, service.ListQuery{Sort: "name"})
		e.must(err)
		var out []string
		for _, p := range page.Items {
			out = append(out, p.Name)
		}
		return out
	}
	if got := names(e.admin); !slices.Equal(got, []string{"Hidden", "Visible"}) {
		t.Errorf("the administrator's projects = %v, want both", got)
	}
	if got := names(reader); !slices.Equal(got, []string{"Visible"}) {
		t.Errorf("the reader's projects = %v, want the one they may read", got)
	}

	for _, c := range []struct {
		name   string
		caller service.Caller
	}{{"admin", e.admin}, {"groups.view", groupViewer}, {"moderator", mod}} {
		rows, err := e.svc.ListProjectGrants(e.ctx, c.caller, visible.ID)
		e.must(err)
		var subjects []string
		for _, r := range rows {
			subjects = append(subjects, r.SubjectID)
		}
		if !sameSet(subjects, []string{e.admin.UserID, reader.UserID, mod.UserID}) {
			t.Errorf("%s: ListProjectGrants(Visible) names %v, want the creator's, the reader's and the moderator's rows", c.name, subjects)
		}
	}
	_, err = e.svc.ListProjectGrants(e.ctx, reader, visible.ID)
	wantKind(t, err, domain.KindForbidden, domain.PermProjectModerate)
	_, err = e.svc.ListProjectGrants(e.ctx, reader, hidden.ID)
	wantKind(t, err, domain.KindNotFound)
}

// TestR21FoldersAndTheirLevelsAreReadAsTheCallerMaySeeThem: a folder is
// seen by holders of files.admin or groups.view, and by whoever may read
// it (a level); anyone else is told it does not exist, and a listing
// leaves it out. Levels are listed for groups.view or files.admin only.
// Folder types, the schema of the tree, are open to every signed-in user.
func TestR21FoldersAndTheirLevelsAreReadAsTheCallerMaySeeThem(t *testing.T) {
	e := newEnv(t)
	seen, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "seen", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	_, _, err = e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "unseen", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	reader, fadmin, nobody := e.user("reader", ""), e.user("fadmin", ""), e.user("nobody", "")
	readers := e.sysGroup("Readers")
	e.add(readers.ID, reader)
	e.add(e.sysGroup("File admins", domain.PermFilesAdmin).ID, fadmin)
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, seen.ID, readers.ID, domain.LevelView)
	e.must(err)

	for _, c := range []struct {
		name   string
		caller service.Caller
		want   []string
	}{{"admin", e.admin, []string{"seen", "unseen"}}, {"files.admin", fadmin, []string{"seen", "unseen"}},
		{"reader", reader, []string{"seen"}}, {"nobody", nobody, nil}} {
		page, err := e.svc.ListFolders(e.ctx, c.caller, "", service.ListQuery{Sort: "name"})
		e.must(err)
		var got []string
		for _, f := range page.Items {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: ListFolders = %v, want %v", c.name, got, c.want)
		}
		f, err := e.svc.GetFolder(e.ctx, c.caller, seen.ID)
		switch {
		case c.want == nil:
			wantKind(t, err, domain.KindNotFound)
		case err != nil || f.Name != "seen":
			t.Errorf("%s: GetFolder(seen) = %+v, %v", c.name, f, err)
		}
		ft, err := e.svc.GetFolderType(e.ctx, c.caller, domain.FolderTypeFolderID)
		if err != nil || ft.Name != "folder" {
			t.Errorf("%s: GetFolderType(folder) = %+v, %v; want the built-in type", c.name, ft, err)
		}
	}

	for _, c := range []struct {
		name   string
		caller service.Caller
	}{{"admin", e.admin}, {"files.admin", fadmin}} {
		ls, err := e.svc.ListFolderLevels(e.ctx, c.caller, seen.ID, "")
		e.must(err)
		if len(ls) != 1 || ls[0].GroupID != readers.ID || ls[0].Level != domain.LevelView {
			t.Errorf("%s: ListFolderLevels(seen) = %+v, want Readers at view", c.name, ls)
		}
	}
	_, err = e.svc.ListFolderLevels(e.ctx, reader, seen.ID, "")
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsView, domain.PermFilesAdmin)
}

// TestR21RolesNeedRolesView: roles are listed and read with roles.view; a
// caller without it is refused the list and told a role does not exist.
func TestR21RolesNeedRolesView(t *testing.T) {
	e := newEnv(t)
	page, err := e.svc.ListRoles(e.ctx, e.admin, service.ListQuery{})
	e.must(err)
	if len(page.Items) != len(domain.BuiltinRoles()) {
		t.Errorf("ListRoles = %d roles, want the %d built-in ones", len(page.Items), len(domain.BuiltinRoles()))
	}
	r, err := e.svc.GetRole(e.ctx, e.admin, domain.RoleSystemMemberID)
	if err != nil || r.Name != "System Member" {
		t.Errorf("GetRole(System Member) = %+v, %v", r, err)
	}
	nobody := e.user("nobody", "")
	_, err = e.svc.ListRoles(e.ctx, nobody, service.ListQuery{})
	wantKind(t, err, domain.KindForbidden, domain.PermRolesView)
	_, err = e.svc.GetRole(e.ctx, nobody, domain.RoleSystemMemberID)
	wantKind(t, err, domain.KindNotFound)
}

// TestR21AModeratorListsTheMembersOfTheirProjectsGroups: a moderator
// without users.view lists the members of their project's own groups
// (R21's delegation), usernames only (R18).
func TestR21AModeratorListsTheMembersOfTheirProjectsGroups(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeMultiple)
	mod, alice := e.user("mod", ""), e.user("alice", "")
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, mod.UserID, p.ID, "", []string{domain.PermProjectModerate})
	e.must(err)
	own := e.projectGroup(p, "Investigators")
	e.add(own.ID, alice)
	page, err := e.svc.ListMembers(e.ctx, mod, own.ID, service.MemberQuery{})
	e.must(err)
	if len(page.Items) != 1 || page.Items[0].User.Username != "alice" || page.Items[0].Email != "" {
		t.Errorf("the moderator's ListMembers = %+v, want alice, her email masked", page.Items)
	}
}

// TestR28SortingMembersByRoleReadsEveryPage: the role is sorted over the
// whole list, not over the store's first page (at most 1000 rows): with
// 1001 members the last by username, the only System Manager, comes
// first, and nothing is left for a next page; in the member list and in
// the list of every user alike.
func TestR28SortingMembersByRoleReadsEveryPage(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Many")
	ids := e.bulkMembers(g.ID, 1001, func(i int) string {
		if i == 1000 {
			return domain.RoleSystemManagerID
		}
		return domain.RoleSystemMemberID
	})
	last := ids[1000]
	for _, all := range []bool{false, true} {
		page, err := e.svc.ListMembers(e.ctx, e.admin, g.ID, service.MemberQuery{Sort: "role", AllUsers: all})
		e.must(err)
		want := 1001
		if all {
			want++ // the administrator, no member, with no role: sorted first
		}
		if len(page.Items) != want || page.Next != "" {
			t.Fatalf("AllUsers %t: %d rows, next %q; want %d, no next page", all, len(page.Items), page.Next, want)
		}
		first := page.Items[want-1001]
		if first.User.ID != last || first.RoleName != "System Manager" || !slices.IsSortedFunc(page.Items, func(a, b service.MemberRow) int {
			return strings.Compare(a.RoleName, b.RoleName)
		}) {
			t.Errorf("AllUsers %t: row %d is %s (%s); want the System Manager, the rows sorted by role", all, want-1001, first.User.Username, first.RoleName)
		}
	}
}

// TestR21ARuleIsSeenWithItsGroup: a rule is read by whoever may see its
// group, or by a holder of files.admin; anyone else is told it does not
// exist, as for the group itself.
func TestR21ARuleIsSeenWithItsGroup(t *testing.T) {
	e := newEnv(t)
	ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Study", Contexts: []string{domain.ContextRoot}, Properties: []string{"site"}})
	e.must(err)
	r, _, err := e.svc.CreateRule(e.ctx, e.admin, domain.Rule{GroupID: e.sysGroup("Site A").ID, Name: "site a",
		Criteria: []domain.Criterion{{FolderTypeID: ft.ID, Property: "site", Operator: domain.OpEq, Value: "a"}},
		Grants:   map[string][]string{domain.ContextRoot: {"read"}}})
	e.must(err)
	fadmin, nobody := e.user("fadmin", ""), e.user("nobody", "")
	e.add(e.sysGroup("File admins", domain.PermFilesAdmin).ID, fadmin)
	for _, c := range []service.Caller{e.admin, fadmin} {
		if got, err := e.svc.GetRule(e.ctx, c, r.ID); err != nil || got.ID != r.ID || got.Name != "site a" {
			t.Errorf("%s: GetRule = %+v, %v", c.Username, got, err)
		}
	}
	_, err = e.svc.GetRule(e.ctx, nobody, r.ID)
	wantKind(t, err, domain.KindNotFound)
}

// TestUserIDByUsernameIsToldAboutYourselfAndAboutOthersWithUsersView
// (docs/api.md, "Who may ask"): naming yourself, in any case, needs
// nothing; naming anyone else needs users.view, and without it an unknown
// name is refused the same way, so that whether a name exists is told
// only to a caller who could list users, who gets not found for it.
func TestUserIDByUsernameIsToldAboutYourselfAndAboutOthersWithUsersView(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	for _, name := range []string{"ann", "ANN"} {
		if id, err := e.svc.UserIDByUsername(e.ctx, ann, name); err != nil || id != ann.UserID {
			t.Errorf("ann naming herself as %q: %q, %v; want her id", name, id, err)
		}
	}
	for _, name := range []string{"bob", "ghost"} {
		_, err := e.svc.UserIDByUsername(e.ctx, ann, name)
		wantKind(t, err, domain.KindForbidden, domain.PermUsersView)
	}
	if id, err := e.svc.UserIDByUsername(e.ctx, e.admin, "bob"); err != nil || id != bob.UserID {
		t.Errorf("the administrator naming bob: %q, %v; want his id", id, err)
	}
	_, err := e.svc.UserIDByUsername(e.ctx, e.admin, "ghost")
	wantKind(t, err, domain.KindNotFound)
}

// writeAround commits fn straight to the store, as another replica or a
// bulk load would, with the audit record every change needs (R29); the
// service's engine hears of it only when it next reads the log.
func (e *env) writeAround(fn func(ctx context.Context, tx store.Tx) error) int64 {
	e.t.Helper()
	ch, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "test", Action: "test.write_around", Outcome: domain.OutcomeSuccess})
	})
	e.must(err)
	return ch.Revision
}

// TestR20AQueryAnswersOnTheRevisionAskedForOrLater: a revision the
// service's engine has not applied yet (committed by another replica) is
// read from the log before the answer; one not committed at all is
// refused after the wait, naming the revision the server has, or as
// ended with the request that waited.
func TestR20AQueryAnswersOnTheRevisionAskedForOrLater(t *testing.T) {
	e := newEnv(t)
	rev := e.writeAround(func(ctx context.Context, tx store.Tx) error {
		return tx.CreateUser(ctx, &domain.User{Username: "elsewhere", Status: domain.UserActive, Source: domain.SourceLocal})
	})
	if e.svc.Revision() >= rev {
		t.Fatalf("the engine is at %d already; the test needs it behind %d", e.svc.Revision(), rev)
	}
	q := service.CheckQuery{Permission: domain.PermServerManage, Resource: "system", Consistency: service.Consistency{AtLeast: rev}}
	d, err := e.svc.Check(e.ctx, e.admin, q)
	if err != nil || !d.Allowed || d.Revision != rev {
		t.Errorf("Check at least %d = %+v, %v; want allowed at %d", rev, d, err, rev)
	}
	q.AtLeast, q.Wait = rev+1, 10*time.Millisecond
	_, err = e.svc.Check(e.ctx, e.admin, q)
	var notYet *service.NotYetError
	if !errors.As(err, &notYet) || notYet.AtLeast != rev+1 || notYet.Have != rev || !domain.Is(err, domain.KindUnavailable) {
		t.Errorf("Check at least %d: %v; want NotYetError naming %d and the server's %d", rev+1, err, rev+1, rev)
	}
	// A request that ends while it waits says so, not that the revision
	// is missing.
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	q.Wait = time.Minute
	_, err = e.svc.Check(ctx, e.admin, q)
	if !errors.Is(err, context.Canceled) || errors.As(err, &notYet) || !domain.Is(err, domain.KindUnavailable) {
		t.Errorf("Check with its request ended: %v; want unavailable, the context's error", err)
	}
}

// TestBatchCheckAnswersEachItemWithItsOwnFieldNames (docs/api.md, "Who
// may ask"; R20): every item of a batch is answered on one revision, in
// order; an item that fails alone carries its error, its field named
// within the list (checks[i].subject, .permission, .resource), and the
// others are answered. Asking about another user needs users.view, asked
// once for the batch: each such item is refused alike.
func TestBatchCheckAnswersEachItemWithItsOwnFieldNames(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.user("ann", ""), e.user("bob", "")
	items := service.CheckList{
		{Permission: domain.PermServerManage, Resource: "system"},
		{Subject: "user:" + bob.UserID, Permission: domain.PermServerManage, Resource: "system"},
		{Subject: "username:bob", Permission: domain.PermServerManage, Resource: "system"},
		{Subject: "user:" + bob.UserID, Permission: domain.PermUsersView, Resource: "system"},
		{Subject: "anonymous", Permission: domain.PermProjectRead, Resource: "project:nope"},
		{Permission: domain.PermProjectRead, Resource: "system"},
		{Permission: domain.PermProjectRead, Resource: "planet:x"},
		{Subject: "user:", Permission: domain.PermProjectRead, Resource: "system"},
	}
	type answer struct {
		allowed bool
		kind    domain.Kind
		field   string
	}
	ok, refused := answer{}, answer{kind: domain.KindForbidden}
	for _, c := range []struct {
		caller service.Caller
		want   []answer
	}{
		{ann, []answer{ok, refused, refused, refused, {kind: domain.KindNotFound}, {kind: domain.KindInvalid, field: "checks[5].permission"},
			{kind: domain.KindInvalid, field: "checks[6].resource"}, {kind: domain.KindInvalid, field: "checks[7].subject"}}},
		{e.admin, []answer{{allowed: true}, ok, ok, ok, {kind: domain.KindNotFound}, {kind: domain.KindInvalid, field: "checks[5].permission"},
			{kind: domain.KindInvalid, field: "checks[6].resource"}, {kind: domain.KindInvalid, field: "checks[7].subject"}}},
	} {
		var got []answer
		var revs []int64
		rev, err := e.svc.BatchCheck(e.ctx, c.caller, service.BatchQuery{Checks: items}, func(i int, d service.Decision, err error) {
			a := answer{allowed: d.Allowed}
			if err != nil {
				a.kind = domain.KindOf(err)
				if fs := domain.FieldsOf(err); len(fs) > 0 {
					a.field = fs[0].Field
				}
			} else {
				revs = append(revs, d.Revision)
			}
			got = append(got, a)
		})
		e.must(err)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: BatchCheck answered %+v, want %+v", c.caller.Username, got, c.want)
		}
		for _, r := range revs {
			if r != rev {
				t.Errorf("%s: an item answered at %d, the batch at %d", c.caller.Username, r, rev)
			}
		}
	}
}

// TestR19AnExplanationNamesItsSubject: an explanation says whom it is
// about, user:<id> or anonymous, and a permission that does not fit the
// resource is an invalid permission field.
func TestR19AnExplanationNamesItsSubject(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeMultiple)
	ann := e.user("ann", "")
	for subject, want := range map[string]string{"anonymous": "anonymous", "user:" + ann.UserID: "user:" + ann.UserID, "": "user:" + e.admin.UserID} {
		x, err := e.svc.Explain(e.ctx, e.admin, service.CheckQuery{Subject: subject, Permission: domain.PermProjectRead, Resource: "project:" + p.ID})
		if err != nil || x.Subject != want || x.Resource != "project:"+p.ID {
			t.Errorf("Explain about %q: subject %q, resource %q, %v; want %q", subject, x.Subject, x.Resource, err, want)
		}
	}
	_, err := e.svc.Explain(e.ctx, e.admin, service.CheckQuery{Permission: domain.PermProjectRead, Resource: "system"})
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "permission")
}

// TestR19R20ListsAndEffectivePermissionsAnswerForTheSubjectAsked: the
// resource and subject lists and the effective permissions (with their
// grant paths, R19) answer on the engine's revision (R20) for the subject
// asked, and refuse what the engine refuses: an unknown resource, a
// permission that does not fit it (an invalid permission field).
func TestR19R20ListsAndEffectivePermissionsAnswerForTheSubjectAsked(t *testing.T) {
	e := newEnv(t)
	p, other := e.project("Trial", domain.ModeMultiple), e.project("Other", domain.ModeMultiple)
	ann := e.user("ann", "")
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, ann.UserID, p.ID, "", []string{domain.PermProjectRead})
	e.must(err)
	annSubject := "user:" + ann.UserID
	rev := e.svc.Revision()

	res, err := e.svc.ListResources(e.ctx, e.admin, service.ResourcesQuery{Subject: annSubject, Permission: domain.PermProjectRead, Kind: service.KindProject})
	if err != nil || !slices.Equal(res.IDs, []string{p.ID}) || res.Revision != rev {
		t.Errorf("ListResources(ann, project.read) = %+v, %v; want Trial only, at %d", res, err, rev)
	}
	_, err = e.svc.ListResources(e.ctx, e.admin, service.ResourcesQuery{Subject: annSubject, Permission: domain.PermServerManage, Kind: service.KindProject})
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "permission")

	subs, err := e.svc.ListSubjects(e.ctx, e.admin, service.SubjectsQuery{Permission: domain.PermProjectRead, Resource: "project:" + other.ID})
	if err != nil || len(subs.Users) != 1 || subs.Users[0].UserID != e.admin.UserID || subs.Anonymous || subs.Revision != rev {
		t.Errorf("ListSubjects(project.read on Other) = %+v, %v; want its creator only, at %d", subs, err, rev)
	}
	_, err = e.svc.ListSubjects(e.ctx, e.admin, service.SubjectsQuery{Permission: domain.PermProjectRead, Resource: "planet:x"})
	wantField(t, err, "resource")
	_, err = e.svc.ListSubjects(e.ctx, e.admin, service.SubjectsQuery{Permission: domain.PermProjectRead, Resource: "system"})
	wantField(t, err, "permission")

	eff, err := e.svc.EffectivePermissions(e.ctx, e.admin, service.EffectiveQuery{Subject: annSubject, Resource: "project:" + p.ID})
	if err != nil || !slices.Equal(eff.Permissions, []string{domain.PermProjectRead}) || eff.Subject != annSubject || eff.Revision != rev {
		t.Errorf("EffectivePermissions(ann on Trial) = %+v, %v; want project.read, at %d", eff, err, rev)
	}
	acc, err := e.svc.EffectiveAccess(e.ctx, e.admin, service.EffectiveQuery{Subject: annSubject, Resource: "project:" + p.ID})
	if err != nil || len(acc) != 1 || acc[0].Permission != domain.PermProjectRead || len(acc[0].Paths) != 1 || acc[0].Paths[0].GroupID != "" {
		t.Errorf("EffectiveAccess(ann on Trial) = %+v, %v; want project.read through her own grant", acc, err)
	}
	for name, q := range map[string]service.EffectiveQuery{
		"an unknown project":    {Subject: annSubject, Resource: "project:nope"},
		"a resource of no kind": {Subject: annSubject, Resource: "planet:x"},
	} {
		if _, err := e.svc.EffectivePermissions(e.ctx, e.admin, q); err == nil {
			t.Errorf("EffectivePermissions answered on %s", name)
		}
		if _, err := e.svc.EffectiveAccess(e.ctx, e.admin, q); err == nil {
			t.Errorf("EffectiveAccess answered on %s", name)
		}
	}
}

// TestR21TheGroupAndUserEditorsReadOnlyWhatTheCallerMaySee: the console's
// group editor reads a group's domains and project rows, and the user
// editor a user's own project rows, for whoever may see the group or the
// user; anyone else is told it does not exist. CheckActOnUser gives the
// refusal a write would get, without writing.
func TestR21TheGroupAndUserEditorsReadOnlyWhatTheCallerMaySee(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeMultiple)
	g := e.sysGroup("Hospital")
	_, _, err := e.svc.SetGroupDomains(e.ctx, e.admin, g.ID, []string{"xyz.example"})
	e.must(err)
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p.ID})
	e.must(err)
	ann, viewer, nobody := e.user("ann", ""), e.user("viewer", ""), e.user("nobody", "")
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, ann.UserID, p.ID, "", []string{domain.PermProjectRead})
	e.must(err)
	e.add(e.sysGroup("Viewers", domain.PermUsersView, domain.PermGroupsView).ID, viewer)

	for _, c := range []service.Caller{e.admin, viewer} {
		if ds, err := e.svc.GroupDomains(e.ctx, c, g.ID); err != nil || !slices.Equal(ds, []string{"xyz.example"}) {
			t.Errorf("%s: GroupDomains = %v, %v", c.Username, ds, err)
		}
		if gs, err := e.svc.GroupProjectGrants(e.ctx, c, g.ID); err != nil || len(gs) != 1 || gs[0].ProjectID != p.ID {
			t.Errorf("%s: GroupProjectGrants = %+v, %v; want its row in Trial", c.Username, gs, err)
		}
	}
	for _, c := range []service.Caller{e.admin, viewer, ann} {
		if gs, err := e.svc.UserProjectGrants(e.ctx, c, ann.UserID); err != nil || len(gs) != 1 || gs[0].ProjectID != p.ID || gs[0].SubjectID != ann.UserID {
			t.Errorf("%s: UserProjectGrants(ann) = %+v, %v; want her row in Trial", c.Username, gs, err)
		}
	}
	_, err = e.svc.GroupDomains(e.ctx, nobody, g.ID)
	wantKind(t, err, domain.KindNotFound)
	_, err = e.svc.GroupProjectGrants(e.ctx, nobody, g.ID)
	wantKind(t, err, domain.KindNotFound)
	_, err = e.svc.UserProjectGrants(e.ctx, nobody, ann.UserID)
	wantKind(t, err, domain.KindNotFound)

	e.must(e.svc.CheckActOnUser(e.ctx, e.admin, ann.UserID, domain.PermUsersEdit))
	wantKind(t, e.svc.CheckActOnUser(e.ctx, viewer, ann.UserID, domain.PermUsersEdit), domain.KindForbidden, domain.PermUsersEdit)
	wantKind(t, e.svc.CheckActOnUser(e.ctx, nobody, ann.UserID, domain.PermUsersEdit), domain.KindNotFound)
}

// TestR6AnEndedMembershipIsCountedApartAndMakesNoProjectMember: the
// group's counts keep ended memberships apart from those that count now,
// and a user whose only membership has ended is no member of the
// group's project.
func TestR6AnEndedMembershipIsCountedApartAndMakesNoProjectMember(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeMultiple)
	g := e.projectGroup(p, "Site A")
	current, ended := e.user("current", ""), e.user("ended", "")
	e.add(g.ID, current)
	past := time.Now().Add(-time.Hour)
	e.writeAround(func(ctx context.Context, tx store.Tx) error {
		return tx.PutMembership(ctx, &domain.Membership{GroupID: g.ID, UserID: ended.UserID, ExpiresAt: &past})
	})
	if n, err := e.svc.GroupMemberCounts(e.ctx, e.admin, g.ID); err != nil || n != (service.MemberCounts{Active: 1, Expired: 1}) {
		t.Errorf("GroupMemberCounts = %+v, %v; want 1 active, 1 ended", n, err)
	}
	members, total, err := e.svc.ProjectMembers(e.ctx, e.admin, p.ID, service.ProjectMemberQuery{})
	e.must(err)
	var names []string
	for _, m := range members {
		names = append(names, m.User.Username)
	}
	if total != 2 || !slices.Equal(names, []string{"admin", "current"}) {
		t.Errorf("ProjectMembers = %d %v; want the creator and current, not ended", total, names)
	}
}

// projectGroup creates a project group of p as admin.
func (e *env) projectGroup(p domain.Project, name string) domain.Group {
	e.t.Helper()
	g, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: name, Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	return g
}

// bulkMembers makes n users u0000, u0001, ..., each with the system role
// roleOf gives, members of group groupID, and returns their ids. They are
// written straight to the store: a thousand service writes would take the
// whole test budget.
func (e *env) bulkMembers(groupID string, n int, roleOf func(i int) string) []string {
	e.t.Helper()
	ids := make([]string, n)
	e.writeAround(func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			u := domain.User{Username: fmt.Sprintf("u%04d", i), Status: domain.UserActive, Source: domain.SourceLocal, SystemRoleID: roleOf(i)}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			ids[i] = u.ID
			if err := tx.PutMembership(ctx, &domain.Membership{GroupID: groupID, UserID: u.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	return ids
}

// TestR21R24ProjectMembersPageAndProjectGroupsOrder: the project page's
// member list is sorted by username either way and cut at Offset and
// Limit (an out-of-range Limit is 100, at most 1000 rows a page); its
// groups are sorted by name, the project's own group before a system
// group of the same name, with as many imported groups as it holds.
func TestR21R24ProjectMembersPageAndProjectGroupsOrder(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeMultiple)
	own := e.projectGroup(p, "Shared")
	e.bulkMembers(own.ID, 101, func(int) string { return "" })
	for _, name := range []string{"Shared", "Auditors"} {
		_, _, err := e.svc.ImportGroup(e.ctx, e.admin, e.sysGroup(name).ID, []string{p.ID})
		e.must(err)
	}

	page := func(q service.ProjectMemberQuery) []string {
		t.Helper()
		rows, total, err := e.svc.ProjectMembers(e.ctx, e.admin, p.ID, q)
		e.must(err)
		if total != 102 {
			t.Errorf("%+v: total %d, want 102 (101 members and the creator)", q, total)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.User.Username)
		}
		return out
	}
	for _, c := range []struct {
		q     service.ProjectMemberQuery
		first string
		n     int
	}{
		{service.ProjectMemberQuery{}, "admin", 100},
		{service.ProjectMemberQuery{Limit: 1000}, "admin", 102},
		{service.ProjectMemberQuery{Limit: 1001}, "admin", 100},
		{service.ProjectMemberQuery{Desc: true, Offset: 1, Limit: 2}, "u0099", 2},
		{service.ProjectMemberQuery{Offset: -5, Limit: 1}, "admin", 1},
		{service.ProjectMemberQuery{Offset: 200}, "", 0},
	} {
		got := page(c.q)
		if len(got) != c.n || (c.n > 0 && got[0] != c.first) {
			t.Errorf("ProjectMembers(%+v) = %d rows from %v, want %d from %q", c.q, len(got), got[:min(len(got), 2)], c.n, c.first)
		}
	}

	groups, err := e.svc.ProjectGroups(e.ctx, e.admin, p.ID)
	e.must(err)
	var got []string
	for _, g := range groups {
		got = append(got, fmt.Sprintf("%s/%s", g.Group.Name, g.Group.Scope))
	}
	if want := []string{"Auditors/system", "Shared/project", "Shared/system"}; !slices.Equal(got, want) {
		t.Errorf("ProjectGroups = %v, want %v", got, want)
	}
}

// TestR21AUsersGroupsAreSortedByNameTiesInTheStoresOrder: the user page
// lists the user's groups by name, case aside; groups of one name (project
// groups of two projects) keep the order the store lists them in, so the
// page does not reshuffle between two reads.
func TestR21AUsersGroupsAreSortedByNameTiesInTheStoresOrder(t *testing.T) {
	e := newEnv(t)
	ann := e.user("ann", "")
	e.add(e.sysGroup("beta").ID, ann)
	for _, name := range []string{"One", "Two"} {
		e.add(e.projectGroup(e.project(name, domain.ModeMultiple), "Alpha").ID, ann)
	}
	ms, err := e.st.ListUserMemberships(e.ctx, ann.UserID)
	e.must(err)
	var want []string
	for _, m := range ms {
		if g, err := e.st.GetGroup(e.ctx, m.GroupID); err == nil && g.Name == "Alpha" {
			want = append(want, g.ID)
		}
	}
	ug, err := e.svc.UserGroups(e.ctx, e.admin, ann.UserID)
	e.must(err)
	var got []string
	for _, g := range ug {
		got = append(got, g.Group.ID)
	}
	if len(ug) != 3 || ug[2].Group.Name != "beta" || !slices.Equal(got[:2], want) {
		t.Errorf("UserGroups(ann) = %v, want the two Alpha groups in the store's order %v, then beta", got, want)
	}
}

// TestChangeFeedBoundsAreInclusive: after 0, a limit of 1000, a wait of
// MaxFeedWait, and a mark or an action of 100 characters are read; one
// step past each is an invalid field, named.
func TestChangeFeedBoundsAreInclusive(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("m", 100)
	for _, c := range []struct {
		q     service.FeedQuery
		field string // "" when the read is answered
	}{
		{service.FeedQuery{After: 0}, ""},
		{service.FeedQuery{After: -1}, "after"},
		{service.FeedQuery{Limit: service.MaxFeedLimit}, ""},
		{service.FeedQuery{Limit: service.MaxFeedLimit + 1}, "limit"},
		{service.FeedQuery{Limit: -1}, "limit"},
		{service.FeedQuery{Wait: service.MaxFeedWait}, ""}, // the log holds changes after 0: no wait
		{service.FeedQuery{Wait: service.MaxFeedWait + time.Millisecond}, "wait_ms"},
		{service.FeedQuery{Wait: -time.Millisecond}, "wait_ms"},
		{service.FeedQuery{Action: long}, ""},
		{service.FeedQuery{Action: long + "m"}, "action"},
	} {
		_, err := e.svc.Changes(e.ctx, e.admin, c.q)
		if c.field == "" {
			if err != nil {
				t.Errorf("%+v: %v, want it read", c.q, err)
			}
			continue
		}
		wantKind(t, err, domain.KindInvalid)
		wantField(t, err, c.field)
	}
	// A mark of 100 characters is read, and found to be another change's.
	var div *service.ChangesDiverged
	if _, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: 1, AfterMark: long}); !errors.As(err, &div) {
		t.Errorf("a mark of 100 characters: %v, want ChangesDiverged", err)
	}
}

// TestChangeFeedReadsLimitChangesAfterTheOneHeld: a read after a change
// gives the next Limit changes, its mark proven on the way; a log that
// lost even its newest row (a hand edit) answers a consumer at the head
// with nothing new, and one that sends the head's mark with ChangesGone,
// since its history can no longer be proven; the next change is read
// again as usual.
func TestChangeFeedReadsLimitChangesAfterTheOneHeld(t *testing.T) {
	e := newEnv(t)
	from := e.rev()
	for _, name := range []string{"One", "Two", "Three"} {
		e.sysGroup(name)
	}
	page, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: from, Limit: 2})
	if err != nil || len(page.Changes) != 2 || page.Changes[0].Revision != from+1 || page.Next != from+2 {
		t.Fatalf("after %d, limit 2: %s, %v; want %d and %d", from, mustJSON(t, page), err, from+1, from+2)
	}
	head, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: page.Next, AfterMark: page.NextMark, Limit: 1})
	if err != nil || len(head.Changes) != 1 || head.Next != from+3 {
		t.Fatalf("after %d with its mark, limit 1: %s, %v; want %d", page.Next, mustJSON(t, head), err, from+3)
	}

	raw := e.st.(interface {
		ExecRaw(ctx context.Context, q string, args ...any) error
	})
	e.must(raw.ExecRaw(e.ctx, `DELETE FROM changes`))
	at, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: head.Next})
	if err != nil || len(at.Changes) != 0 || at.Next != head.Next || at.NextMark != "" {
		t.Errorf("at the head of an emptied log: %s, %v; want nothing new, no mark", mustJSON(t, at), err)
	}
	var gone *service.ChangesGone
	if _, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: head.Next, AfterMark: head.NextMark}); !errors.As(err, &gone) || gone.Oldest != head.Next+1 {
		t.Errorf("the head's mark on an emptied log: %v; want ChangesGone with oldest %d", err, head.Next+1)
	}
	e.sysGroup("Four")
	if next, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: head.Next}); err != nil || len(next.Changes) != 1 {
		t.Errorf("the change after the emptied log: %s, %v", mustJSON(t, next), err)
	}
}

// TestChangeFeedFindsEachObjectByWhatItConcerns: the feed's group,
// project and user filters keep every kind of object that names them: a
// project row by its project and its group or user, a domain grant, a
// folder level and a rule by their group, a folder by its project.
func TestChangeFeedFindsEachObjectByWhatItConcerns(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeMultiple)
	g := e.sysGroup("Hospital")
	u := e.user("ann", "")
	from := e.rev()
	_, _, err := e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p.ID})
	e.must(err)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, u.UserID, p.ID, "", []string{domain.PermProjectRead})
	e.must(err)
	_, _, err = e.svc.SetGroupDomains(e.ctx, e.admin, g.ID, []string{"xyz.example"})
	e.must(err)
	ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Study", Contexts: []string{domain.ContextRoot}, Properties: []string{"site"}})
	e.must(err)
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "data", TypeID: ft.ID, ProjectID: p.ID})
	e.must(err)
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, f.ID, g.ID, domain.LevelView)
	e.must(err)
	_, _, err = e.svc.CreateRule(e.ctx, e.admin, domain.Rule{GroupID: g.ID, Name: "site a",
		Criteria: []domain.Criterion{{FolderTypeID: ft.ID, Property: "site", Operator: domain.OpEq, Value: "a"}},
		Grants:   map[string][]string{domain.ContextRoot: {"read"}}})
	e.must(err)

	entities := func(q service.FeedQuery) []string {
		t.Helper()
		q.After = from
		page, err := e.svc.Changes(e.ctx, e.admin, q)
		e.must(err)
		var out []string
		for _, c := range page.Changes {
			for _, o := range c.Objects {
				out = append(out, string(o.Entity))
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		q    service.FeedQuery
		want []string
	}{
		{"group", service.FeedQuery{GroupID: g.ID}, []string{"project_grant", "domain_grant", "folder_level", "rule"}},
		{"project", service.FeedQuery{ProjectID: p.ID}, []string{"project_grant", "project_grant", "folder"}},
		{"user", service.FeedQuery{UserID: u.UserID}, []string{"project_grant"}},
		{"group and project", service.FeedQuery{GroupID: g.ID, ProjectID: p.ID}, []string{"project_grant"}},
	} {
		if got := entities(c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s filter: %v, want %v", c.name, got, c.want)
		}
	}
}

// pruneSpy is a store whose PruneChanges fails on the calls fail names
// (the database down), cancels the pruning's context after call cancelAt
// (the server stopping), and records the cut-offs it was given.
type pruneSpy struct {
	store.Store
	fail     []bool
	cancelAt int
	cancel   context.CancelFunc
	befores  []time.Time
}

func (s *pruneSpy) PruneChanges(ctx context.Context, before time.Time) (int, error) {
	i := len(s.befores)
	s.befores = append(s.befores, before)
	n, err := 0, errors.New("database down")
	if i >= len(s.fail) || !s.fail[i] {
		n, err = s.Store.PruneChanges(ctx, before)
	}
	if i == s.cancelAt {
		s.cancel()
	}
	return n, err
}

// TestPruneChangesEveryCutsAtTheRetentionAndLogsWhatItDid: the change log
// is pruned of what is older than the retention by the service's clock,
// again at the next tick after a failure, which is logged as a warning;
// rows pruned are logged at debug level, a tick that prunes nothing is
// silent, and so is a failure while the server stops.
func TestPruneChangesEveryCutsAtTheRetentionAndLogsWhatItDid(t *testing.T) {
	e := newEnv(t)
	e.sysGroup("One")
	e.sysGroup("Two")
	now := time.Now().Add(time.Hour)
	for _, c := range []struct {
		name     string
		fail     []bool
		cancelAt int
		want     []string // the messages logged, in order
	}{
		{"a failure, then rows pruned", []bool{true, false}, 1, []string{"level=WARN msg=\"pruning the change log failed\" err=\"database down\"", "level=DEBUG msg=\"change log pruned\""}},
		{"nothing left to prune", nil, 0, nil},
		{"a failure while stopping", []bool{true}, 0, nil},
	} {
		ctx, cancel := context.WithCancel(e.ctx)
		spy := &pruneSpy{Store: e.st, fail: c.fail, cancelAt: c.cancelAt, cancel: cancel}
		svc, err := service.New(e.ctx, spy, service.Options{PasswordParams: &cheap, Now: func() time.Time { return now }})
		e.must(err)
		var logs strings.Builder
		svc.PruneChangesEvery(ctx, time.Second, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if line != "" {
				_, msg, _ := strings.Cut(line, " ") // after the time
				got = append(got, msg)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: logged %q, want %q", c.name, got, c.want)
		}
		for i := range min(len(got), len(c.want)) {
			if !strings.HasPrefix(got[i], c.want[i]) {
				t.Errorf("%s: line %d is %q, want it to start %q", c.name, i, got[i], c.want[i])
			}
		}
		for _, b := range spy.befores {
			if !b.Equal(now.Add(-time.Second)) {
				t.Errorf("%s: pruned before %v, want the retention before the service's clock, %v", c.name, b, now.Add(-time.Second))
			}
		}
	}
}

// TestR20AFollowerBehindAnAnnouncedHeadReloadsOnce: a head announced far
// ahead of what the database holds yet makes a catch-up load one
// snapshot, at the revision the engine already has, and swap it in: the
// reload is reported and counted, once for the one catch-up.
func TestR20AFollowerBehindAnAnnouncedHeadReloadsOnce(t *testing.T) {
	l := &fakeLog{head: 3}
	f := newFollower(t, l)
	obs := &reloadRecorder{}
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake, PollInterval: time.Hour, ReloadAfter: 5, Observer: obs})
	wake <- 20
	eventually(t, "the reload is reported", func() bool { r, _ := obs.got(); return len(r) > 0 })
	if reasons, _ := obs.got(); len(reasons) != 1 || reasons[0] != service.ReloadBehind || f.Reloads() != 1 || f.Revision() != 3 {
		t.Errorf("reloads %v (Reloads() %d), revision %d; want one reload, behind, at 3", reasons, f.Reloads(), f.Revision())
	}
}

// staleSnapshots is a change log whose snapshots are taken at revision
// at, older than its head: a replica that lags.
type staleSnapshots struct {
	*fakeLog
	at int64
}

func (s *staleSnapshots) StreamSnapshot(ctx context.Context, start func(int64, string) error, put func(*domain.Mutation) error) error {
	return s.fakeLog.StreamSnapshot(ctx, func(int64, string) error { return start(s.at, "") }, put)
}

// TestR20AFollowerNeverGoesBackToAnOlderSnapshot: far behind the head, a
// follower whose snapshot comes back older than its engine keeps its
// engine (no reload is counted or reported) and reads the log from where
// it stands.
func TestR20AFollowerNeverGoesBackToAnOlderSnapshot(t *testing.T) {
	src := &staleSnapshots{fakeLog: &fakeLog{head: 10}, at: 10}
	f := newFollower(t, src)
	src.at = 5
	obs := &reloadRecorder{}
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake, PollInterval: time.Hour, ReloadAfter: 5, Observer: obs})
	wake <- src.commit(20)
	eventually(t, "the follower reaches 30", func() bool { return f.Revision() == 30 })
	eventually(t, "the applies are reported", func() bool { _, n := obs.got(); return n >= 20 })
	if reasons, applied := obs.got(); len(reasons) != 0 || applied != 20 || f.Reloads() != 0 {
		t.Errorf("reloads %v (Reloads() %d), applied %d; want none, and 11 to 30 applied from the log", reasons, f.Reloads(), applied)
	}
}

// TestFollowerLagIsNeverLongerThanTheWait: the time behind counts from
// when the head was first seen ahead, not from when the engine was last
// level, so it is never longer than the time since the head was
// announced.
func TestFollowerLagIsNeverLongerThanTheWait(t *testing.T) {
	l := &fakeLog{head: 2}
	f, wake := followUnreadable(t, l)
	// Level until now: the time it spent level must not count.
	time.Sleep(20 * time.Millisecond)
	announced := time.Now()
	wake <- l.commit(3)
	eventually(t, "the head is known", func() bool { return f.Head() == 5 })
	n, d := f.Lag()
	if since := time.Since(announced); n != 3 || d < 0 || d > since {
		t.Errorf("Lag() = %d, %v at 2 of 5; want 3 revisions and at most the %v since the head was announced", n, d, since)
	}
}

// TestR20CatchUpReadsTheLogOnceForWhatItHolds: one read of the log takes
// every change it holds; a revision already applied needs no read, and
// one the log does not hold yet is unavailable, not waited for.
func TestR20CatchUpReadsTheLogOnceForWhatItHolds(t *testing.T) {
	l := &fakeLog{}
	f := newFollower(t, l)
	l.commit(3)
	_, before := l.counts()
	if err := f.CatchUp(context.Background(), 3); err != nil || f.Revision() != 3 {
		t.Fatalf("CatchUp(3) = %v at %d", err, f.Revision())
	}
	e := f.CatchUp(context.Background(), 3)
	if _, after := l.counts(); e != nil || after != before+1 {
		t.Errorf("CatchUp(3) twice: %v, %d reads of the log; want one", e, after-before)
	}
	if err := f.CatchUp(context.Background(), 5); !domain.Is(err, domain.KindUnavailable) || f.Revision() != 3 {
		t.Errorf("CatchUp(5) with the log at 3: %v at %d; want unavailable", err, f.Revision())
	}
}

// racingLog is a change log whose first read lets another caller catch
// the follower up first, as a concurrent writer would while this one
// reads.
type racingLog struct {
	*fakeLog
	f     *service.Follower
	raced bool
}

func (l *racingLog) ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	if !l.raced {
		l.raced = true
		if err := l.f.CatchUp(ctx, 0); err != nil {
			return nil, err
		}
	}
	return l.fakeLog.ReadChanges(ctx, since, limit)
}

// TestR20ChangesAnotherCallerAppliedAreSkipped: changes applied by
// another caller while this one read the log are skipped, the last of
// them included; they are no gap, and nothing is reloaded.
func TestR20ChangesAnotherCallerAppliedAreSkipped(t *testing.T) {
	l := &racingLog{fakeLog: &fakeLog{}}
	f := newFollower(t, l)
	l.f = f
	l.commit(3)
	if err := f.CatchUp(context.Background(), 3); err != nil || f.Revision() != 3 || f.Reloads() != 0 || !l.raced {
		t.Errorf("CatchUp(3) = %v at %d, %d reloads; want 3, no reload", err, f.Revision(), f.Reloads())
	}
}

// followUnreadable runs a follower over l whose log cannot be read (the
// database down), with polls rare enough not to count: the returned
// channel announces heads.
func followUnreadable(t *testing.T, l *fakeLog) (*service.Follower, chan<- int64) {
	t.Helper()
	f := newFollower(t, l)
	l.mu.Lock()
	l.readErr = domain.E("store.ReadChanges", domain.KindUnavailable, errors.New("database down"))
	l.mu.Unlock()
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake, PollInterval: time.Hour})
	return f, wake
}

// batchRecorder records the size of every batch of changes a follower
// reports applied.
type batchRecorder struct {
	mu      sync.Mutex
	batches []int
}

func (r *batchRecorder) ChangesApplied(n int, _ time.Duration) {
	r.mu.Lock()
	r.batches = append(r.batches, n)
	r.mu.Unlock()
}

func (r *batchRecorder) SnapshotReloaded(string, time.Duration) {}

func (r *batchRecorder) got() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

// TestR20AFollowerReportsOnlyTheChangesItApplied: the metrics hear of
// each batch a catch-up applied, and nothing of a read whose changes
// another caller had applied meanwhile.
func TestR20AFollowerReportsOnlyTheChangesItApplied(t *testing.T) {
	l := &racingLog{fakeLog: &fakeLog{}}
	f := newFollower(t, l)
	l.f = f
	obs := &batchRecorder{}
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake, PollInterval: time.Hour, Observer: obs})
	wake <- l.commit(3)
	// The racing caller's two reads (the changes, then none), Run's and
	// Run's last, empty one: the first catch-up has reported its batch.
	eventually(t, "the first catch-up ends", func() bool { _, reads := l.counts(); return reads == 4 })
	wake <- l.commit(1)
	eventually(t, "the follower reaches 4", func() bool { return f.Revision() == 4 })
	eventually(t, "the last batch is reported", func() bool { b := obs.got(); return len(b) > 0 && b[len(b)-1] == 1 })
	if got := obs.got(); !slices.Equal(got, []int{3, 1}) {
		t.Errorf("batches reported %v, want [3 1]", got)
	}
}

// TestR20AfterAGapReloadTheLogIsReadOnFromTheSnapshot: a snapshot loaded
// for a gap may be older than the head (a lagging replica); the catch-up
// then goes on reading the log from the snapshot's revision.
func TestR20AfterAGapReloadTheLogIsReadOnFromTheSnapshot(t *testing.T) {
	src := &staleSnapshots{fakeLog: &fakeLog{head: 2}, at: 2}
	f := newFollower(t, src)
	src.mu.Lock()
	src.head, src.missing = 6, map[int64]bool{4: true}
	src.mu.Unlock()
	src.at = 4
	if err := f.CatchUp(context.Background(), 6); err != nil || f.Revision() != 6 || f.Reloads() != 1 {
		t.Errorf("CatchUp(6) over a gap at 4, the snapshot at 4: %v, at %d after %d reloads; want 6 after one", err, f.Revision(), f.Reloads())
	}
}

// TestR20WaitForBacksOffBetweenReads: without Run to advance it, WaitFor
// reads the log itself, backing off from 5ms to 100ms between reads
// (after 5, 10, 20, 40, 80 and 100ms: at most 7 reads in a wait of
// 300ms, whatever the machine's load, since timers never fire early).
func TestR20WaitForBacksOffBetweenReads(t *testing.T) {
	l := &fakeLog{}
	f := newFollower(t, l)
	_, before := l.counts()
	if err := f.WaitFor(context.Background(), 9, 300*time.Millisecond); !domain.Is(err, domain.KindUnavailable) {
		t.Fatalf("WaitFor(9) of a revision never committed = %v, want unavailable", err)
	}
	if _, reads := l.counts(); reads-before < 1 || reads-before > 7 {
		t.Errorf("%d reads of the log in a wait of 300ms, want 1 to 7", reads-before)
	}
}

// TestR20RunWithTheDefaultOptionsFollowsTheLog: Run with no poll interval
// nor reload bound set takes the defaults (500ms, 10000 revisions) and
// follows notified changes from the log.
func TestR20RunWithTheDefaultOptionsFollowsTheLog(t *testing.T) {
	l := &fakeLog{}
	f := newFollower(t, l)
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake})
	wake <- l.commit(3)
	eventually(t, "the follower applies the notified changes", func() bool { return f.Revision() == 3 })
	if loads, _ := l.counts(); loads != 1 || f.Reloads() != 0 {
		t.Errorf("%d snapshot loads, %d reloads; want the first load only", loads, f.Reloads())
	}
}

// syncBuffer is a log destination safe to read while a follower's
// goroutine writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestR20RunLogsToTheLoggerGiven: a failure to follow the log is logged
// as a warning, once, and the recovery as news, to the logger Run was
// given.
func TestR20RunLogsToTheLoggerGiven(t *testing.T) {
	l := &fakeLog{head: 2}
	f := newFollower(t, l)
	l.readErr = errors.New("database down")
	logs := &syncBuffer{}
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake, PollInterval: time.Hour, Log: slog.New(slog.NewTextHandler(logs, nil))})
	failed := `level=WARN msg="following the change log failed; retrying" err="service.CatchUp: database down"`
	wake <- l.commit(1)
	eventually(t, "the failure is logged", func() bool { return strings.Contains(logs.String(), failed) })
	l.mu.Lock()
	l.readErr = nil
	l.mu.Unlock()
	wake <- 3
	eventually(t, "the recovery is logged", func() bool {
		return strings.Contains(logs.String(), `level=INFO msg="following the change log again" engine_revision=3`)
	})
	if n := strings.Count(logs.String(), "following the change log failed"); n != 1 {
		t.Errorf("%d failures logged, want 1:\n%s", n, logs.String())
	}
}

// countedPolls is a change log that counts the reads of its head.
type countedPolls struct {
	*fakeLog
	polls atomic.Int64
}

func (l *countedPolls) Revision(ctx context.Context) (int64, error) {
	l.polls.Add(1)
	return l.fakeLog.Revision(ctx)
}

// TestR20APollAtTheHeadReadsNoLog: a poll that finds the head where the
// engine stands reads nothing more; one that finds it ahead reads the log.
func TestR20APollAtTheHeadReadsNoLog(t *testing.T) {
	l := &countedPolls{fakeLog: &fakeLog{head: 2}}
	f := newFollower(t, l)
	run(t, f, service.RunOptions{PollInterval: time.Millisecond})
	// The third poll starts after the first two ended.
	eventually(t, "three polls", func() bool { return l.polls.Load() >= 3 })
	if _, reads := l.counts(); reads != 0 {
		t.Errorf("%d reads of the log while level, want none", reads)
	}
	l.commit(1)
	eventually(t, "a poll brings the change", func() bool { return f.Revision() == 3 })
}

// TestAServerHoldsAtMostMaxWebhooksSubscriptions: the hundredth
// subscription is created, the next one refused, naming the field.
func TestAServerHoldsAtMostMaxWebhooksSubscriptions(t *testing.T) {
	e, _ := webhookEnv(t)
	for i := range domain.MaxWebhooks {
		_, _, _, err := e.svc.CreateWebhook(e.ctx, e.admin, hookInput(fmt.Sprintf("h%03d", i)))
		e.must(err)
	}
	_, _, _, err := e.svc.CreateWebhook(e.ctx, e.admin, hookInput("one-too-many"))
	wantKind(t, err, domain.KindInvalid, "at most 100")
	wantField(t, err, "name")
}

// TestRedeliverWebhookRewindsToJustBeforeFrom: redelivering from revision
// from sets the cursor to from-1, in the answer and in the audit record
// (R29), for any from up to the next revision; past it the refusal names
// the range.
func TestRedeliverWebhookRewindsToJustBeforeFrom(t *testing.T) {
	e, _ := webhookEnv(t)
	w, _, _, err := e.svc.CreateWebhook(e.ctx, e.admin, hookInput("cache"))
	e.must(err)
	rev := e.rev()
	got, _, err := e.svc.RedeliverWebhook(e.ctx, e.admin, w.ID, rev+1)
	if err != nil || got.State.Cursor != rev {
		t.Errorf("redeliver from %d (the next revision): cursor %d, %v; want %d", rev+1, got.State.Cursor, err, rev)
	}
	_, _, err = e.svc.RedeliverWebhook(e.ctx, e.admin, w.ID, rev+2)
	wantKind(t, err, domain.KindInvalid, fmt.Sprintf("between 1 and %d", rev+1))
	got, _, err = e.svc.RedeliverWebhook(e.ctx, e.admin, w.ID, 2)
	if err != nil || got.State.Cursor != 1 {
		t.Errorf("redeliver from 2: cursor %d, %v; want 1", got.State.Cursor, err)
	}
	recs := e.audits("webhook.redeliver", domain.OutcomeSuccess)
	if len(recs) != 2 || string(recs[0].Before) != fmt.Sprintf(`{"cursor":%d}`, rev) || string(recs[0].After) != `{"cursor":1}` {
		t.Errorf("the audit record of the redelivery from 2: %+v; want the cursor from %d to 1", recs, rev)
	}
}

// TestWebhookDeliveriesLimitIsInclusive: the delivery log is read up to
// store.MaxWebhookDeliveries rows; one more is an invalid limit.
func TestWebhookDeliveriesLimitIsInclusive(t *testing.T) {
	e, _ := webhookEnv(t)
	w, _, _, err := e.svc.CreateWebhook(e.ctx, e.admin, hookInput("cache"))
	e.must(err)
	if _, err := e.svc.WebhookDeliveries(e.ctx, e.admin, w.ID, store.MaxWebhookDeliveries); err != nil {
		t.Errorf("the largest limit: %v", err)
	}
	_, err = e.svc.WebhookDeliveries(e.ctx, e.admin, w.ID, store.MaxWebhookDeliveries+1)
	wantKind(t, err, domain.KindInvalid)
	wantField(t, err, "limit")
}

// TestPasswordsAreHashedWithTheParametersGiven: the service, and
// Bootstrap for the initial administrator, hash with the Argon2id
// parameters of their options, not the default ones.
func TestPasswordsAreHashedWithTheParametersGiven(t *testing.T) {
	e := newEnv(t)
	u := e.user("ann", "")
	e.must(errOf(e.svc.SetPassword(e.ctx, e.admin, u.UserID, "a-new-password-2026")))
	want := fmt.Sprintf("$m=%d,t=%d,p=%d$", cheap.Memory, cheap.Time, cheap.Threads)
	for _, id := range []string{u.UserID, e.admin.UserID} {
		stored, err := e.st.GetUser(e.ctx, id)
		e.must(err)
		if !strings.Contains(stored.PasswordHash, want) {
			t.Errorf("%s's stored hash %q, want the parameters %s", stored.Username, stored.PasswordHash, want)
		}
	}
}

// TestBootstrapLogsWhereTheGivenPasswordCameFrom: a given password is
// never logged, but where it came from is, "the password given to the
// server" when the caller does not say.
func TestBootstrapLogsWhereTheGivenPasswordCameFrom(t *testing.T) {
	for source, want := range map[string]string{"": "created with the password given to the server", "GATEHOUSE_ADMIN_PASSWORD": "created with GATEHOUSE_ADMIN_PASSWORD"} {
		var logs strings.Builder
		_, err := service.Bootstrap(context.Background(), backends(t)["sqlite"](t), service.BootstrapOptions{
			AdminPassword: "s3cret-Passw0rd", PasswordSource: source, PasswordParams: &cheap, Log: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil || !strings.Contains(logs.String(), want) {
			t.Errorf("source %q: %v, logged %s; want %q", source, err, logs.String(), want)
		}
	}
}

// unreadableLog is a store whose change log cannot be read once
// failReads is set, as during a database hiccup; writes still commit.
type unreadableLog struct {
	store.Store
	failReads atomic.Bool
}

func (s *unreadableLog) ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	if s.failReads.Load() {
		return nil, errors.New("database hiccup")
	}
	return s.Store.ReadChanges(ctx, since, limit)
}

// TestAWriteWithoutARevisionDoesNotWaitForTheEngine: a write that changes
// no permission data (a webhook subscription: audited, no revision) does
// not bring the engine up to date after its commit, so it succeeds even
// while the change log cannot be read; a write with a revision does, and
// reports that it could not.
func TestAWriteWithoutARevisionDoesNotWaitForTheEngine(t *testing.T) {
	e := newEnv(t)
	st := &unreadableLog{Store: e.st}
	svc, err := service.New(e.ctx, st, service.Options{PasswordParams: &cheap})
	e.must(err)
	svc.SetWebhookSender(&fakeSender{})
	st.failReads.Store(true)
	if _, _, rev, err := svc.CreateWebhook(e.ctx, e.admin, hookInput("cache")); err != nil || rev != 0 {
		t.Errorf("a webhook created while the log cannot be read: revision %d, %v; want 0, created", rev, err)
	}
	if _, _, err := svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "After", Scope: domain.ScopeSystem}); err == nil {
		t.Errorf("a group created while the engine could not follow: no error")
	}
}

// TestR22SignInOIDCLinksAnExistingUserOnceAndNeverTheAdministrator: an
// existing user named by a first sign-in is linked to that subject,
// audited, and the link is shown to whoever may see the user; another
// subject of the same issuer may not take the user over, and a holder of
// server.manage (the break-glass administrator) is linked only where the
// configuration allows administrators. MayActByName, the same rule for
// access tokens, never makes that exception.
func TestR22SignInOIDCLinksAnExistingUserOnceAndNeverTheAdministrator(t *testing.T) {
	e := newEnv(t)
	ann, nobody := e.user("ann", ""), e.user("nobody", "")
	in := signIn("s1", "ann")
	in.JIT, in.MapGroups = false, false
	res, err := e.svc.SignInOIDC(e.ctx, in)
	if err != nil || !res.Linked || res.User.ID != ann.UserID {
		t.Fatalf("first sign-in as ann: %+v, %v; want her linked", res, err)
	}
	if recs := e.audits(service.ActionOIDCLink, domain.OutcomeSuccess); len(recs) != 1 || recs[0].TargetID != ann.UserID {
		t.Errorf("link records %+v, want one on ann", recs)
	}
	for _, c := range []service.Caller{e.admin, ann} {
		if links, err := e.svc.UserOIDCLinks(e.ctx, c, ann.UserID); err != nil || len(links) != 1 || links[0].Subject != "s1" {
			t.Errorf("%s: UserOIDCLinks(ann) = %+v, %v; want s1", c.Username, links, err)
		}
	}
	_, err = e.svc.UserOIDCLinks(e.ctx, nobody, ann.UserID)
	wantKind(t, err, domain.KindNotFound)

	in.Subject = "s2"
	_, err = e.svc.SignInOIDC(e.ctx, in)
	wantKind(t, err, domain.KindUnauthenticated, "linked to another account")
	wantKind(t, e.svc.MayActByName(e.ctx, in.Issuer, ann.UserID), domain.KindUnauthenticated, "linked to another account")
	e.must(e.svc.MayActByName(e.ctx, "https://other.example", ann.UserID))

	in.Subject, in.Username = "s3", "admin"
	_, err = e.svc.SignInOIDC(e.ctx, in)
	wantKind(t, err, domain.KindUnauthenticated, domain.PermServerManage)
	wantKind(t, e.svc.MayActByName(e.ctx, in.Issuer, e.admin.UserID), domain.KindUnauthenticated, domain.PermServerManage)
	in.AllowAdministrators = true
	if res, err := e.svc.SignInOIDC(e.ctx, in); err != nil || !res.Linked || res.User.ID != e.admin.UserID {
		t.Errorf("the administrator's first sign-in where administrators are allowed: %+v, %v; want linked", res, err)
	}
	wantKind(t, e.svc.MayActByName(e.ctx, in.Issuer, domain.NewID()), domain.KindNotFound)
}

// TestSignInOIDCFailsWhenTheMappingCannotRun: a mapping whose
// provision_as names no user fails the sign-in as unavailable (the
// server's configuration needs fixing) rather than signing in unmapped.
func TestSignInOIDCFailsWhenTheMappingCannotRun(t *testing.T) {
	e := newEnv(t)
	e.user("ann", "")
	in := signIn("s1", "ann")
	in.ProvisionAs = "no-such-bot"
	_, err := e.svc.SignInOIDC(e.ctx, in)
	wantKind(t, err, domain.KindUnavailable, "no-such-bot")
}

// TestR29AWebhookUpdateSaysWhenItReplacedTheSecret: the audit record of
// an update says "secret replaced" when a new secret was given (the
// secret itself is never recorded), and nothing when it was kept.
func TestR29AWebhookUpdateSaysWhenItReplacedTheSecret(t *testing.T) {
	e, _ := webhookEnv(t)
	w, _, _, err := e.svc.CreateWebhook(e.ctx, e.admin, hookInput("cache"))
	e.must(err)
	in := hookInput("cache")
	in.Secret = service.NewWebhookSecret()
	_, _, err = e.svc.UpdateWebhook(e.ctx, e.admin, w.ID, in)
	e.must(err)
	in.Secret = ""
	_, _, err = e.svc.UpdateWebhook(e.ctx, e.admin, w.ID, in)
	e.must(err)
	recs := e.audits("webhook.update", domain.OutcomeSuccess) // newest first
	if len(recs) != 2 || recs[0].Detail != "" || recs[1].Detail != "secret replaced" {
		t.Errorf("webhook.update records %+v; want the first saying the secret was replaced, the second nothing", recs)
	}
}

// lateWinner is a store shared with a replica that wins the bootstrap
// race: when a transaction here fails on a key the winner wrote, the
// winner's last write (finish) lands.
type lateWinner struct {
	store.Store
	finish func(ctx context.Context, tx store.Tx) error
}

func (s *lateWinner) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (domain.Change, error) {
	ch, err := s.Store.InTx(ctx, fn)
	if domain.Is(err, domain.KindExists) && s.finish != nil {
		if _, ferr := s.Store.InTx(ctx, s.finish); ferr != nil {
			return ch, ferr
		}
		s.finish = nil
	}
	return ch, err
}

// TestBootstrapLosingTheRaceOnAKeyFindsItDone: a replica whose bootstrap
// fails on a key another replica wrote (a built-in role) while that one
// finishes finds the database bootstrapped and reports nothing done, no
// error.
func TestBootstrapLosingTheRaceOnAKeyFindsItDone(t *testing.T) {
	ctx := context.Background()
	st := backends(t)["sqlite"](t)
	audit := func(ctx context.Context, tx store.Tx) error {
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "winner", Action: "system.bootstrap", Outcome: domain.OutcomeSuccess})
	}
	_, err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		r := domain.BuiltinRoles()[0]
		if err := tx.CreateRole(ctx, &r); err != nil {
			return err
		}
		return audit(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	loser := &lateWinner{Store: st, finish: func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutSetting(ctx, &domain.Setting{Key: service.SettingBootstrapped, Value: "admin"}); err != nil {
			return err
		}
		return audit(ctx, tx)
	}}
	res, err := service.Bootstrap(ctx, loser, service.BootstrapOptions{AdminPassword: "s3cret-Passw0rd", PasswordParams: &cheap, Log: quiet})
	if err != nil || res.Created || loser.finish != nil {
		t.Errorf("Bootstrap losing the race = %+v, %v (winner finished: %t); want nothing done, no error", res, err, loser.finish == nil)
	}
}

// failingHead is a change log whose next fails reads of the head fail,
// as while the database is down.
type failingHead struct {
	*fakeLog
	fails atomic.Int64
}

func (l *failingHead) Revision(ctx context.Context) (int64, error) {
	if l.fails.Add(-1) >= 0 {
		return 0, errors.New("database down")
	}
	return l.fakeLog.Revision(ctx)
}

// TestR20RunGoesOnPollingAfterAFailedPoll: a poll that cannot read the
// head is logged and retried at the next one; Run does not stop.
func TestR20RunGoesOnPollingAfterAFailedPoll(t *testing.T) {
	l := &failingHead{fakeLog: &fakeLog{}}
	l.fails.Store(2)
	f := newFollower(t, l)
	logs := &syncBuffer{}
	run(t, f, service.RunOptions{PollInterval: time.Millisecond, Log: slog.New(slog.NewTextHandler(logs, nil))})
	l.commit(1)
	eventually(t, "a later poll brings the change", func() bool { return f.Revision() == 1 })
	if n := strings.Count(logs.String(), `msg="following the change log failed; retrying" err="database down"`); n != 1 {
		t.Errorf("%d failures logged, want 1:\n%s", n, logs.String())
	}
}
