package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testCascades checks the deletes of domain.Mutation's doc: what each
// delete takes with it, what it leaves, and that the cascaded deletes are
// not listed as mutations of their own.
func testCascades(t *testing.T, newStore NewStore) {
	t.Run("Group", func(t *testing.T) { testCascadeGroup(t, newStore(t)) })
	t.Run("User", func(t *testing.T) { testCascadeUser(t, newStore(t)) })
	t.Run("Project", func(t *testing.T) { testCascadeProject(t, newStore(t)) })
	t.Run("Folder", func(t *testing.T) { testCascadeFolder(t, newStore(t)) })
	t.Run("R7_RoleInUse", func(t *testing.T) { testRoleInUse(t, newStore) })
	t.Run("FolderTypeInUse", func(t *testing.T) { testFolderTypeInUse(t, newStore(t)) })
	t.Run("FolderMoveCycle", func(t *testing.T) { testFolderMoveCycle(t, newStore(t)) })
}

// checkSingleDelete checks that a delete's change holds exactly one
// mutation: the delete of entity id.
func checkSingleDelete(t *testing.T, ch domain.Change, entity domain.Entity, id string) {
	t.Helper()
	if len(ch.Mutations) != 1 {
		t.Errorf("change of a cascading delete of %s holds %d mutations, want 1 (cascaded deletes are not listed): %+v", entity, len(ch.Mutations), ch.Mutations)
		return
	}
	m := ch.Mutations[0]
	if m.Op != domain.OpDelete || m.Entity != entity {
		t.Errorf("mutation = %s %s, want %s %s", m.Op, m.Entity, domain.OpDelete, entity)
	}
	if got := m.ObjectID(); got != id {
		t.Errorf("delete mutation names %s %q, want %q", entity, got, id)
	}
}

// countLevels and the functions below count what is left after a delete.
func countLevels(t *testing.T, s store.Store, folderID, groupID string) int {
	t.Helper()
	ls, err := s.ListFolderLevels(context.Background(), folderID, groupID)
	noErr(t, err, "ListFolderLevels")
	return len(ls)
}

func countGrants(t *testing.T, s store.Store, f store.GrantFilter) int {
	t.Helper()
	gs, err := s.ListProjectGrants(context.Background(), f)
	noErr(t, err, "ListProjectGrants")
	return len(gs)
}

func countDomains(t *testing.T, s store.Store, groupID string) int {
	t.Helper()
	ds, err := s.ListDomainGrants(context.Background(), groupID)
	noErr(t, err, "ListDomainGrants")
	return len(ds)
}

func countRules(t *testing.T, s store.Store, groupID string) int {
	t.Helper()
	rs, err := s.ListRules(context.Background(), groupID)
	noErr(t, err, "ListRules")
	return len(rs)
}

func countMemberships(t *testing.T, s store.Store, userID string) int {
	t.Helper()
	ms, err := s.ListUserMemberships(context.Background(), userID)
	noErr(t, err, "ListUserMemberships")
	return len(ms)
}

func countMembers(t *testing.T, s store.Store, groupID string) int {
	t.Helper()
	ms := collect(t, "ListMembers", func(q store.ListQuery) (store.Page[store.Member], error) {
		return s.ListMembers(context.Background(), groupID, q)
	}, store.ListQuery{})
	return len(ms)
}

func wantCount(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %d, want %d", what, got, want)
	}
}

// equipGroup gives group g a membership of each user, a grant on project
// p, domain grants a and b, a level on each folder and two rules.
func equipGroup(ctx context.Context, tx store.Tx, g *domain.Group, p *domain.Project, users []*domain.User, folders []*domain.Folder, typeID string) error {
	for _, u := range users {
		if err := tx.PutMembership(ctx, &domain.Membership{GroupID: g.ID, UserID: u.ID}); err != nil {
			return err
		}
	}
	if err := tx.PutProjectGrant(ctx, &domain.ProjectGrant{ProjectID: p.ID, SubjectKind: domain.SubjectGroup, SubjectID: g.ID,
		Permissions: []string{domain.PermProjectRead}}); err != nil {
		return err
	}
	for _, d := range []string{"a", "b"} {
		if err := tx.PutDomainGrant(ctx, &domain.DomainGrant{GroupID: g.ID, Domain: d}); err != nil {
			return err
		}
	}
	for _, f := range folders {
		if err := tx.PutFolderLevel(ctx, &domain.FolderLevel{FolderID: f.ID, GroupID: g.ID, Level: domain.LevelView}); err != nil {
			return err
		}
	}
	for _, n := range []string{"r1", "r2"} {
		if err := tx.CreateRule(ctx, newRule(n, g.ID, typeID)); err != nil {
			return err
		}
	}
	return nil
}

func testCascadeGroup(t *testing.T, s store.Store) {
	ctx := context.Background()
	u1, u2 := newUser("u1"), newUser("u2")
	p := newProject("p")
	g, h := newSystemGroup("victim"), newSystemGroup("survivor")
	ft := newFolderType("t")
	var f1, f2 *domain.Folder
	var rules []domain.Rule
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateUser(ctx, u1), tx.CreateUser(ctx, u2), tx.CreateProject(ctx, p),
			tx.CreateGroup(ctx, g), tx.CreateGroup(ctx, h), tx.CreateFolderType(ctx, ft)} {
			if err != nil {
				return err
			}
		}
		f1, f2 = newFolder("f1", "", ft.ID), newFolder("f2", "", ft.ID)
		if err := tx.CreateFolder(ctx, f1); err != nil {
			return err
		}
		if err := tx.CreateFolder(ctx, f2); err != nil {
			return err
		}
		if err := equipGroup(ctx, tx, g, p, []*domain.User{u1, u2}, []*domain.Folder{f1, f2}, ft.ID); err != nil {
			return err
		}
		return equipGroup(ctx, tx, h, p, []*domain.User{u1}, []*domain.Folder{f1}, ft.ID)
	})
	var err error
	rules, err = s.ListRules(ctx, g.ID)
	noErr(t, err, "ListRules")
	ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteGroup(ctx, g.ID) })
	checkSingleDelete(t, ch, domain.EntityGroup, g.ID)

	_, err = s.GetGroup(ctx, g.ID)
	wantKind(t, err, domain.KindNotFound, "GetGroup after DeleteGroup")
	_, err = s.GetMembership(ctx, g.ID, u1.ID)
	wantKind(t, err, domain.KindNotFound, "GetMembership(deleted group, u1)")
	wantCount(t, "memberships of u1 after deleting one of its two groups", countMemberships(t, s, u1.ID), 1)
	wantCount(t, "memberships of u2 after deleting its only group", countMemberships(t, s, u2.ID), 0)
	wantCount(t, "project grants held by the deleted group", countGrants(t, s, store.GrantFilter{SubjectKind: domain.SubjectGroup, SubjectID: g.ID}), 0)
	wantCount(t, "project grants on the project (the survivor's)", countGrants(t, s, store.GrantFilter{ProjectID: p.ID}), 1)
	wantCount(t, "domain grants of the deleted group", countDomains(t, s, g.ID), 0)
	wantCount(t, "folder levels of the deleted group", countLevels(t, s, "", g.ID), 0)
	wantCount(t, "folder levels on f1 (the survivor's)", countLevels(t, s, f1.ID, ""), 1)
	wantCount(t, "folder levels on f2", countLevels(t, s, f2.ID, ""), 0)
	wantCount(t, "rules of the deleted group", countRules(t, s, g.ID), 0)
	for _, r := range rules {
		_, err := s.GetRule(ctx, r.ID)
		wantKind(t, err, domain.KindNotFound, "GetRule of a deleted group's rule")
	}
	// The survivor keeps everything.
	wantCount(t, "survivor's members", countMembers(t, s, h.ID), 1)
	wantCount(t, "survivor's project grants", countGrants(t, s, store.GrantFilter{SubjectKind: domain.SubjectGroup, SubjectID: h.ID}), 1)
	wantCount(t, "survivor's domain grants", countDomains(t, s, h.ID), 2)
	wantCount(t, "survivor's folder levels", countLevels(t, s, "", h.ID), 1)
	wantCount(t, "survivor's rules", countRules(t, s, h.ID), 2)
	for _, id := range []string{u1.ID, u2.ID} {
		if _, err := s.GetUser(ctx, id); err != nil {
			t.Errorf("GetUser of a member of the deleted group: %v, want the user kept", err)
		}
	}
}

func testCascadeUser(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, v := newUser("victim"), newUser("survivor")
	p, q := newProject("p"), newProject("q")
	g, h := newSystemGroup("g"), newSystemGroup("h")
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateUser(ctx, u), tx.CreateUser(ctx, v), tx.CreateProject(ctx, p), tx.CreateProject(ctx, q),
			tx.CreateGroup(ctx, g), tx.CreateGroup(ctx, h)} {
			if err != nil {
				return err
			}
		}
		for _, m := range []domain.Membership{{GroupID: g.ID, UserID: u.ID}, {GroupID: h.ID, UserID: u.ID}, {GroupID: g.ID, UserID: v.ID}} {
			if err := tx.PutMembership(ctx, &m); err != nil {
				return err
			}
		}
		for _, pg := range []domain.ProjectGrant{
			{ProjectID: p.ID, SubjectKind: domain.SubjectUser, SubjectID: u.ID, Permissions: []string{domain.PermProjectRead}},
			{ProjectID: q.ID, SubjectKind: domain.SubjectUser, SubjectID: u.ID},
			{ProjectID: p.ID, SubjectKind: domain.SubjectUser, SubjectID: v.ID},
			{ProjectID: p.ID, SubjectKind: domain.SubjectGroup, SubjectID: g.ID},
		} {
			if err := tx.PutProjectGrant(ctx, &pg); err != nil {
				return err
			}
		}
		return nil
	})
	// The user acts: its id is in an audit record, which must survive it.
	_, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		e := auditEvent("storetest.by_victim")
		e.ActorID, e.ActorName = u.ID, u.Username
		return tx.Audit(ctx, e)
	})
	noErr(t, err, "InTx audit by the user")

	ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, u.ID) })
	checkSingleDelete(t, ch, domain.EntityUser, u.ID)

	_, err = s.GetUser(ctx, u.ID)
	wantKind(t, err, domain.KindNotFound, "GetUser after DeleteUser")
	_, err = s.GetUserByUsername(ctx, u.Username)
	wantKind(t, err, domain.KindNotFound, "GetUserByUsername after DeleteUser")
	wantCount(t, "memberships of the deleted user", countMemberships(t, s, u.ID), 0)
	_, err = s.GetMembership(ctx, h.ID, u.ID)
	wantKind(t, err, domain.KindNotFound, "GetMembership(h, deleted user)")
	wantCount(t, "members of g (the survivor)", countMembers(t, s, g.ID), 1)
	wantCount(t, "members of h", countMembers(t, s, h.ID), 0)
	wantCount(t, "project grants of the deleted user", countGrants(t, s, store.GrantFilter{SubjectKind: domain.SubjectUser, SubjectID: u.ID}), 0)
	wantCount(t, "project grants on p (survivor's and g's)", countGrants(t, s, store.GrantFilter{ProjectID: p.ID}), 2)
	wantCount(t, "project grants on q", countGrants(t, s, store.GrantFilter{ProjectID: q.ID}), 0)
	wantCount(t, "memberships of the survivor", countMemberships(t, s, v.ID), 1)
	evs := allAudit(t, s, store.AuditQuery{ActorID: u.ID})
	if len(evs) != 1 || evs[0].Action != "storetest.by_victim" {
		t.Errorf("ListAudit(actor = deleted user) = %d events, want the 1 event the user made, kept after the delete", len(evs))
	}
}

func testCascadeProject(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser("u")
	p, q := newProject("victim"), newProject("survivor")
	sys := newSystemGroup("sys")
	ft := newFolderType("t")
	var pg, qg *domain.Group
	var fp, fq, fn *domain.Folder
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateUser(ctx, u), tx.CreateProject(ctx, p), tx.CreateProject(ctx, q),
			tx.CreateGroup(ctx, sys), tx.CreateFolderType(ctx, ft)} {
			if err != nil {
				return err
			}
		}
		pg, qg = newProjectGroup("staff", p.ID), newProjectGroup("staff", q.ID)
		if err := tx.CreateGroup(ctx, pg); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, qg); err != nil {
			return err
		}
		fp, fq, fn = newFolder("fp", "", ft.ID), newFolder("fq", "", ft.ID), newFolder("fn", "", ft.ID)
		fp.ProjectID, fq.ProjectID = p.ID, q.ID
		for _, f := range []*domain.Folder{fp, fq, fn} {
			if err := tx.CreateFolder(ctx, f); err != nil {
				return err
			}
		}
		// The project group, fully equipped, and the same for q's group.
		if err := equipGroup(ctx, tx, pg, p, []*domain.User{u}, []*domain.Folder{fp, fn}, ft.ID); err != nil {
			return err
		}
		if err := equipGroup(ctx, tx, qg, q, []*domain.User{u}, []*domain.Folder{fq}, ft.ID); err != nil {
			return err
		}
		// The system group is present in both; the user has rights in both.
		for _, g := range []domain.ProjectGrant{
			{ProjectID: p.ID, SubjectKind: domain.SubjectGroup, SubjectID: sys.ID},
			{ProjectID: q.ID, SubjectKind: domain.SubjectGroup, SubjectID: sys.ID},
			{ProjectID: p.ID, SubjectKind: domain.SubjectUser, SubjectID: u.ID},
			{ProjectID: q.ID, SubjectKind: domain.SubjectUser, SubjectID: u.ID},
		} {
			if err := tx.PutProjectGrant(ctx, &g); err != nil {
				return err
			}
		}
		return nil
	})
	ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteProject(ctx, p.ID) })
	checkSingleDelete(t, ch, domain.EntityProject, p.ID)

	_, err := s.GetProject(ctx, p.ID)
	wantKind(t, err, domain.KindNotFound, "GetProject after DeleteProject")
	_, err = s.GetGroup(ctx, pg.ID)
	wantKind(t, err, domain.KindNotFound, "GetGroup of the deleted project's group")
	groups := collect(t, "ListGroups", func(q store.ListQuery) (store.Page[domain.Group], error) { return s.ListGroups(ctx, q) },
		store.ListQuery{Scope: domain.ScopeProject, ProjectID: p.ID})
	wantCount(t, "ListGroups of the deleted project", len(groups), 0)
	wantCount(t, "project grants on the deleted project", countGrants(t, s, store.GrantFilter{ProjectID: p.ID}), 0)
	wantCount(t, "project grants of the deleted project's group", countGrants(t, s, store.GrantFilter{SubjectKind: domain.SubjectGroup, SubjectID: pg.ID}), 0)
	wantCount(t, "domain grants of the deleted project's group", countDomains(t, s, pg.ID), 0)
	wantCount(t, "folder levels of the deleted project's group", countLevels(t, s, "", pg.ID), 0)
	wantCount(t, "rules of the deleted project's group", countRules(t, s, pg.ID), 0)
	wantCount(t, "memberships of u (only q's group left)", countMemberships(t, s, u.ID), 1)
	wantCount(t, "folder levels on fn (set by the deleted group)", countLevels(t, s, fn.ID, ""), 0)

	// What survives.
	if _, err := s.GetGroup(ctx, sys.ID); err != nil {
		t.Errorf("GetGroup of a system group present in the deleted project: %v, want it kept", err)
	}
	if _, err := s.GetGroup(ctx, qg.ID); err != nil {
		t.Errorf("GetGroup of the other project's group: %v, want it kept", err)
	}
	wantCount(t, "project grants on the surviving project", countGrants(t, s, store.GrantFilter{ProjectID: q.ID}), 3)
	wantCount(t, "system group's grants (q only)", countGrants(t, s, store.GrantFilter{SubjectKind: domain.SubjectGroup, SubjectID: sys.ID}), 1)
	wantCount(t, "user's grants (q only)", countGrants(t, s, store.GrantFilter{SubjectKind: domain.SubjectUser, SubjectID: u.ID}), 1)
	wantCount(t, "domain grants of q's group", countDomains(t, s, qg.ID), 2)
	wantCount(t, "rules of q's group", countRules(t, s, qg.ID), 2)

	got, err := s.GetFolder(ctx, fp.ID)
	if err != nil {
		t.Errorf("GetFolder of the deleted project's folder: %v, want it kept with ProjectID cleared", err)
	} else if got.ProjectID != "" {
		t.Errorf("GetFolder of the deleted project's folder: ProjectID = %q, want it cleared", got.ProjectID)
	}
	got, err = s.GetFolder(ctx, fq.ID)
	noErr(t, err, "GetFolder")
	if got.ProjectID != q.ID {
		t.Errorf("GetFolder of the surviving project's folder: ProjectID = %q, want %q", got.ProjectID, q.ID)
	}
}

func testCascadeFolder(t *testing.T, s store.Store) {
	ctx := context.Background()
	ft := newFolderType("t")
	g := newSystemGroup("g")
	// a ─┬─ b ── c
	//    └─ d
	// e
	var a, b, c, d, e *domain.Folder
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateFolderType(ctx, ft); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		a = newFolder("a", "", ft.ID)
		if err := tx.CreateFolder(ctx, a); err != nil {
			return err
		}
		b, d = newFolder("b", a.ID, ft.ID), newFolder("d", a.ID, ft.ID)
		if err := tx.CreateFolder(ctx, b); err != nil {
			return err
		}
		if err := tx.CreateFolder(ctx, d); err != nil {
			return err
		}
		c, e = newFolder("c", b.ID, ft.ID), newFolder("e", "", ft.ID)
		if err := tx.CreateFolder(ctx, c); err != nil {
			return err
		}
		if err := tx.CreateFolder(ctx, e); err != nil {
			return err
		}
		for _, f := range []*domain.Folder{a, b, c, d, e} {
			if err := tx.PutFolderLevel(ctx, &domain.FolderLevel{FolderID: f.ID, GroupID: g.ID, Level: domain.LevelEdit}); err != nil {
				return err
			}
		}
		return nil
	})
	ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteFolder(ctx, b.ID) })
	checkSingleDelete(t, ch, domain.EntityFolder, b.ID)
	for _, f := range []*domain.Folder{b, c} {
		_, err := s.GetFolder(ctx, f.ID)
		wantKind(t, err, domain.KindNotFound, "GetFolder("+f.Name+") in the deleted subtree")
	}
	for _, f := range []*domain.Folder{a, d, e} {
		if _, err := s.GetFolder(ctx, f.ID); err != nil {
			t.Errorf("GetFolder(%s) outside the deleted subtree: %v, want it kept", f.Name, err)
		}
	}
	levels, err := s.ListFolderLevels(ctx, "", g.ID)
	noErr(t, err, "ListFolderLevels")
	got := map[string]bool{}
	for _, l := range levels {
		got[l.FolderID] = true
	}
	for _, f := range []*domain.Folder{a, d, e} {
		if !got[f.ID] {
			t.Errorf("folder level on %s (outside the deleted subtree) is gone, want it kept", f.Name)
		}
	}
	for _, f := range []*domain.Folder{b, c} {
		if got[f.ID] {
			t.Errorf("folder level on %s (in the deleted subtree) is still listed, want it deleted", f.Name)
		}
	}
	kids := collect(t, "ListFolders", func(q store.ListQuery) (store.Page[domain.Folder], error) { return s.ListFolders(ctx, a.ID, q) }, store.ListQuery{})
	if len(kids) != 1 || kids[0].ID != d.ID {
		t.Errorf("ListFolders(a) after deleting b lists %d folders, want only d", len(kids))
	}
}

func testRoleInUse(t *testing.T, newStore NewStore) {
	type holderSetup func(ctx context.Context, tx store.Tx, name, sysRole, projRole string, p *domain.Project) (store.RoleHolder, func(ctx context.Context, tx store.Tx) error, error)
	cases := []struct {
		name  string
		which string // "sys" or "proj": the role the case deletes
		setup holderSetup
	}{
		{"user system role", "sys", func(ctx context.Context, tx store.Tx, name, sysRole, projRole string, p *domain.Project) (store.RoleHolder, func(ctx context.Context, tx store.Tx) error, error) {
			u := newUser(name)
			u.SystemRoleID = sysRole
			err := tx.CreateUser(ctx, u)
			return store.RoleHolder{Kind: "user", ID: u.ID, Name: u.Username}, func(ctx context.Context, tx store.Tx) error {
				x, err := tx.GetUser(ctx, u.ID)
				if err != nil {
					return err
				}
				x.SystemRoleID = ""
				return tx.UpdateUser(ctx, &x)
			}, err
		}},
		{"group system role", "sys", func(ctx context.Context, tx store.Tx, name, sysRole, projRole string, p *domain.Project) (store.RoleHolder, func(ctx context.Context, tx store.Tx) error, error) {
			g := newSystemGroup(name)
			g.SystemRoleID = sysRole
			err := tx.CreateGroup(ctx, g)
			return store.RoleHolder{Kind: "group", ID: g.ID, Name: g.Name}, func(ctx context.Context, tx store.Tx) error {
				x, err := tx.GetGroup(ctx, g.ID)
				if err != nil {
					return err
				}
				x.SystemRoleID = ""
				return tx.UpdateGroup(ctx, &x)
			}, err
		}},
		{"group default project role", "proj", func(ctx context.Context, tx store.Tx, name, sysRole, projRole string, p *domain.Project) (store.RoleHolder, func(ctx context.Context, tx store.Tx) error, error) {
			g := newSystemGroup(name)
			g.DefaultProjectRoleID = projRole
			err := tx.CreateGroup(ctx, g)
			return store.RoleHolder{Kind: "group_default", ID: g.ID, Name: g.Name}, func(ctx context.Context, tx store.Tx) error {
				x, err := tx.GetGroup(ctx, g.ID)
				if err != nil {
					return err
				}
				x.DefaultProjectRoleID = ""
				return tx.UpdateGroup(ctx, &x)
			}, err
		}},
		{"user project grant", "proj", func(ctx context.Context, tx store.Tx, name, sysRole, projRole string, p *domain.Project) (store.RoleHolder, func(ctx context.Context, tx store.Tx) error, error) {
			u := newUser(name)
			if err := tx.CreateUser(ctx, u); err != nil {
				return store.RoleHolder{}, nil, err
			}
			err := tx.PutProjectGrant(ctx, &domain.ProjectGrant{ProjectID: p.ID, SubjectKind: domain.SubjectUser, SubjectID: u.ID, RoleID: projRole})
			return store.RoleHolder{Kind: "project_grant", ID: u.ID, Name: u.Username, ProjectID: p.ID}, func(ctx context.Context, tx store.Tx) error {
				return tx.DeleteProjectGrant(ctx, p.ID, domain.SubjectUser, u.ID)
			}, err
		}},
		{"group project grant", "proj", func(ctx context.Context, tx store.Tx, name, sysRole, projRole string, p *domain.Project) (store.RoleHolder, func(ctx context.Context, tx store.Tx) error, error) {
			g := newProjectGroup(name, p.ID)
			if err := tx.CreateGroup(ctx, g); err != nil {
				return store.RoleHolder{}, nil, err
			}
			err := tx.PutProjectGrant(ctx, &domain.ProjectGrant{ProjectID: p.ID, SubjectKind: domain.SubjectGroup, SubjectID: g.ID, RoleID: projRole})
			return store.RoleHolder{Kind: "project_grant", ID: g.ID, Name: g.Name, ProjectID: p.ID}, func(ctx context.Context, tx store.Tx) error {
				x, err := tx.GetProjectGrant(ctx, p.ID, domain.SubjectGroup, g.ID)
				if err != nil {
					return err
				}
				x.RoleID = ""
				x.Permissions = []string{domain.PermProjectRead}
				return tx.PutProjectGrant(ctx, &x)
			}, err
		}},
	}
	holderKey := func(h store.RoleHolder) string { return h.Kind + "/" + h.ID + "/" + h.ProjectID }
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			sysRole, projRole, unused := newRole("sys", domain.ScopeSystem), newRole("proj", domain.ScopeProject), newRole("unused", domain.ScopeProject)
			p := newProject("p")
			var want store.RoleHolder
			var release func(ctx context.Context, tx store.Tx) error
			mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
				for _, err := range []error{tx.CreateRole(ctx, sysRole), tx.CreateRole(ctx, projRole), tx.CreateRole(ctx, unused), tx.CreateProject(ctx, p)} {
					if err != nil {
						return err
					}
				}
				var err error
				want, release, err = c.setup(ctx, tx, "holder", sysRole.ID, projRole.ID, p)
				return err
			})
			roleID := sysRole.ID
			if c.which == "proj" {
				roleID = projRole.ID
			}
			holders, err := s.RoleHolders(ctx, roleID)
			noErr(t, err, "RoleHolders")
			if d := diff(holders, []store.RoleHolder{want}); d != "" {
				t.Errorf("RoleHolders of a role held by a %s (-want +got):\n%s", c.name, d)
			}
			expectKind(t, s, domain.KindConflict, "DeleteRole of a role held by a "+c.name+" (R7)", func(ctx context.Context, tx store.Tx) error {
				return tx.DeleteRole(ctx, roleID)
			})
			if _, err := s.GetRole(ctx, roleID); err != nil {
				t.Errorf("GetRole after a refused DeleteRole: %v, want the role kept", err)
			}
			holders, err = s.RoleHolders(ctx, unused.ID)
			noErr(t, err, "RoleHolders")
			if len(holders) != 0 {
				t.Errorf("RoleHolders of an unused role = %v, want none", holders)
			}
			mustWrite(t, s, release)
			holders, err = s.RoleHolders(ctx, roleID)
			noErr(t, err, "RoleHolders")
			if len(holders) != 0 {
				t.Errorf("RoleHolders after the holder let go = %v, want none", holders)
			}
			// The change log names the delete, or replicas and the engine
			// would keep the role.
			ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteRole(ctx, roleID) })
			checkSingleDelete(t, ch, domain.EntityRole, roleID)
			_, err = s.GetRole(ctx, roleID)
			wantKind(t, err, domain.KindNotFound, "GetRole after DeleteRole")
		})
	}
	t.Run("all holders listed", func(t *testing.T) {
		s := newStore(t)
		ctx := context.Background()
		sysRole, projRole := newRole("sys", domain.ScopeSystem), newRole("proj", domain.ScopeProject)
		p := newProject("p")
		var want = map[string][]store.RoleHolder{}
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, err := range []error{tx.CreateRole(ctx, sysRole), tx.CreateRole(ctx, projRole), tx.CreateProject(ctx, p)} {
				if err != nil {
					return err
				}
			}
			for i, c := range cases {
				h, _, err := c.setup(ctx, tx, fmt.Sprintf("holder%d", i), sysRole.ID, projRole.ID, p)
				if err != nil {
					return err
				}
				want[c.which] = append(want[c.which], h)
			}
			return nil
		})
		for which, roleID := range map[string]string{"sys": sysRole.ID, "proj": projRole.ID} {
			got, err := s.RoleHolders(ctx, roleID)
			noErr(t, err, "RoleHolders")
			sortBy(got, holderKey)
			sortBy(want[which], holderKey)
			if d := diff(got, want[which]); d != "" {
				t.Errorf("RoleHolders of the %s role held in every way (-want +got):\n%s", which, d)
			}
			expectKind(t, s, domain.KindConflict, "DeleteRole of a role with several holders (R7)", func(ctx context.Context, tx store.Tx) error {
				return tx.DeleteRole(ctx, roleID)
			})
		}
	})
}

func testFolderTypeInUse(t *testing.T, s store.Store) {
	ctx := context.Background()
	byFolder, byRule, unused := newFolderType("by-folder"), newFolderType("by-rule"), newFolderType("unused")
	g := newSystemGroup("g")
	var f *domain.Folder
	var r *domain.Rule
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateFolderType(ctx, byFolder), tx.CreateFolderType(ctx, byRule), tx.CreateFolderType(ctx, unused), tx.CreateGroup(ctx, g)} {
			if err != nil {
				return err
			}
		}
		f = newFolder("f", "", byFolder.ID)
		r = newRule("r", g.ID, byRule.ID)
		if err := tx.CreateFolder(ctx, f); err != nil {
			return err
		}
		return tx.CreateRule(ctx, r)
	})
	expectKind(t, s, domain.KindConflict, "DeleteFolderType of a type a folder has", func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteFolderType(ctx, byFolder.ID)
	})
	expectKind(t, s, domain.KindConflict, "DeleteFolderType of a type a rule's criteria use", func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteFolderType(ctx, byRule.ID)
	})
	ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteFolderType(ctx, unused.ID) })
	checkSingleDelete(t, ch, domain.EntityFolderType, unused.ID)
	ch = mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteFolder(ctx, f.ID) })
	checkSingleDelete(t, ch, domain.EntityFolder, f.ID)
	ch = mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteRule(ctx, r.ID) })
	checkSingleDelete(t, ch, domain.EntityRule, r.ID)
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeleteFolderType(ctx, byFolder.ID); err != nil {
			return err
		}
		return tx.DeleteFolderType(ctx, byRule.ID)
	})
	types, err := s.ListFolderTypes(ctx)
	noErr(t, err, "ListFolderTypes")
	wantCount(t, "folder types after deleting all three", len(types), 0)
}

func testFolderMoveCycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	ft := newFolderType("t")
	var a, b, c, e *domain.Folder // a ── b ── c ; e
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateFolderType(ctx, ft); err != nil {
			return err
		}
		a, e = newFolder("a", "", ft.ID), newFolder("e", "", ft.ID)
		if err := tx.CreateFolder(ctx, a); err != nil {
			return err
		}
		if err := tx.CreateFolder(ctx, e); err != nil {
			return err
		}
		b = newFolder("b", a.ID, ft.ID)
		if err := tx.CreateFolder(ctx, b); err != nil {
			return err
		}
		c = newFolder("c", b.ID, ft.ID)
		return tx.CreateFolder(ctx, c)
	})
	move := func(f *domain.Folder, parent string) func(ctx context.Context, tx store.Tx) error {
		return func(ctx context.Context, tx store.Tx) error {
			x, err := tx.GetFolder(ctx, f.ID)
			if err != nil {
				return err
			}
			x.ParentID = parent
			return tx.UpdateFolder(ctx, &x)
		}
	}
	cases := []struct {
		name      string
		f         *domain.Folder
		newParent *domain.Folder
	}{
		{"a under itself", a, a},
		{"a under its child b", a, b},
		{"a under its grandchild c", a, c},
		{"b under its child c", b, c},
	}
	for _, cs := range cases {
		expectKind(t, s, domain.KindInvalid, "UpdateFolder moving "+cs.name, move(cs.f, cs.newParent.ID))
	}
	for _, f := range []*domain.Folder{a, b, c} {
		got, err := s.GetFolder(ctx, f.ID)
		noErr(t, err, "GetFolder")
		if got.ParentID != f.ParentID || got.Version != 1 {
			t.Errorf("folder %s after refused moves: parent %q version %d, want parent %q version 1", f.Name, got.ParentID, got.Version, f.ParentID)
		}
	}
	// A legal move takes the subtree along.
	mustWrite(t, s, move(b, e.ID))
	got, err := s.GetFolder(ctx, c.ID)
	noErr(t, err, "GetFolder")
	if got.ParentID != b.ID {
		t.Errorf("c after moving its parent b: ParentID = %q, want %q", got.ParentID, b.ID)
	}
	// Now a may go under c's old ancestor chain: a under c is legal (c is under e, not a).
	mustWrite(t, s, move(a, c.ID))
	expectKind(t, s, domain.KindInvalid, "UpdateFolder moving e under its descendant a", move(e, a.ID))
}
