package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// snapshotOrder compares snapshots regardless of the order of their lists.
var snapshotOrder = cmp.Options{
	cmpopts.SortSlices(func(a, b domain.User) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b domain.Project) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b domain.Group) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b domain.Membership) bool { return a.GroupID+a.UserID < b.GroupID+b.UserID }),
	cmpopts.SortSlices(func(a, b domain.GroupMembership) bool { return a.GroupID+a.MemberGroupID < b.GroupID+b.MemberGroupID }),
	cmpopts.SortSlices(func(a, b domain.Role) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b domain.ProjectGrant) bool { return grantKey(a) < grantKey(b) }),
	cmpopts.SortSlices(func(a, b domain.DomainGrant) bool { return a.GroupID+a.Domain < b.GroupID+b.Domain }),
	cmpopts.SortSlices(func(a, b domain.FolderType) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b domain.Folder) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b domain.FolderLevel) bool { return levelKey(a) < levelKey(b) }),
	cmpopts.SortSlices(func(a, b domain.Rule) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b domain.Setting) bool { return a.Key < b.Key }),
}

func testSnapshot(t *testing.T, newStore NewStore) {
	t.Run("Contents", func(t *testing.T) {
		s := newStore(t)
		ctx := context.Background()
		var want domain.Snapshot
		var hashed string
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			want.Roles = domain.BuiltinRoles()
			custom := newRole("custom", domain.ScopeSystem)
			for i := range want.Roles {
				if err := tx.CreateRole(ctx, &want.Roles[i]); err != nil {
					return err
				}
			}
			if err := tx.CreateRole(ctx, custom); err != nil {
				return err
			}
			want.Roles = append(want.Roles, *custom)

			p1, p2 := newProject("p1"), &domain.Project{Name: "p2", MembershipMode: domain.ModeExclusive, Description: "exclusive"}
			for _, p := range []*domain.Project{p1, p2} {
				if err := tx.CreateProject(ctx, p); err != nil {
					return err
				}
				want.Projects = append(want.Projects, *p)
			}

			var users []*domain.User
			for i := range 4 {
				u := newUser(fmt.Sprintf("user%d", i))
				if i == 1 {
					u.SystemRoleID, u.ShowPersonalInfo, u.Status = custom.ID, true, domain.UserDisabled
				}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				users = append(users, u)
				want.Users = append(want.Users, *u)
			}
			hashed = users[0].ID
			if err := tx.SetPasswordHash(ctx, hashed, "$argon2id$secret"); err != nil {
				return err
			}

			groups := domain.BuiltinGroups()
			sys := newSystemGroup("sys")
			sys.SystemRoleID, sys.SystemPermissions = domain.RoleSystemMemberID, []string{domain.PermAuditView}
			sys.DefaultProjectRoleID = domain.RoleViewerID
			groups = append(groups, *sys, *newProjectGroup("pg", p1.ID))
			for i := range groups {
				if err := tx.CreateGroup(ctx, &groups[i]); err != nil {
					return err
				}
			}
			want.Groups = groups
			sys, pg := &groups[3], groups[4]

			exp := utc(time.Now().Add(time.Hour))
			for _, m := range []domain.Membership{
				{GroupID: groups[0].ID, UserID: users[0].ID},
				{GroupID: sys.ID, UserID: users[1].ID, ExpiresAt: &exp},
				{GroupID: pg.ID, UserID: users[2].ID},
				{GroupID: pg.ID, UserID: users[1].ID},
			} {
				if err := tx.PutMembership(ctx, &m); err != nil {
					return err
				}
				want.Memberships = append(want.Memberships, m)
			}
			for _, g := range []domain.ProjectGrant{
				{ProjectID: p1.ID, SubjectKind: domain.SubjectUser, SubjectID: users[3].ID, RoleID: domain.RoleEditorID},
				{ProjectID: p1.ID, SubjectKind: domain.SubjectGroup, SubjectID: groups[3].ID, Permissions: []string{domain.PermProjectRead}},
				{ProjectID: p2.ID, SubjectKind: domain.SubjectGroup, SubjectID: groups[2].ID},
			} {
				if err := tx.PutProjectGrant(ctx, &g); err != nil {
					return err
				}
				want.ProjectGrants = append(want.ProjectGrants, g)
			}
			for _, d := range []domain.DomainGrant{{GroupID: sys.ID, Domain: "a"}, {GroupID: pg.ID, Domain: "b"}} {
				if err := tx.PutDomainGrant(ctx, &d); err != nil {
					return err
				}
				want.DomainGrants = append(want.DomainGrants, d)
			}
			ft, ft2 := domain.BuiltinFolderType(), newFolderType("study")
			for _, x := range []*domain.FolderType{&ft, ft2} {
				if err := tx.CreateFolderType(ctx, x); err != nil {
					return err
				}
				want.FolderTypes = append(want.FolderTypes, *x)
			}
			root := &domain.Folder{Name: "root", TypeID: ft.ID, ProjectID: p1.ID}
			if err := tx.CreateFolder(ctx, root); err != nil {
				return err
			}
			child := &domain.Folder{Name: "child", ParentID: root.ID, TypeID: ft2.ID, Properties: map[string]string{"site": "Lyon", "study": "S1"}}
			if err := tx.CreateFolder(ctx, child); err != nil {
				return err
			}
			want.Folders = []domain.Folder{*root, *child}
			for _, l := range []domain.FolderLevel{
				{FolderID: root.ID, GroupID: groups[2].ID, Level: domain.LevelView},
				{FolderID: child.ID, GroupID: groups[2].ID, Level: domain.LevelNone},
				{FolderID: child.ID, GroupID: pg.ID, Level: domain.LevelDeleteFolder},
			} {
				if err := tx.PutFolderLevel(ctx, &l); err != nil {
					return err
				}
				want.FolderLevels = append(want.FolderLevels, l)
			}
			r := newRule("rule", sys.ID, ft2.ID)
			if err := tx.CreateRule(ctx, r); err != nil {
				return err
			}
			want.Rules = []domain.Rule{*r}
			for _, st := range []domain.Setting{{Key: "a", Value: "1"}, {Key: "b", Value: ""}} {
				if err := tx.PutSetting(ctx, &st); err != nil {
					return err
				}
				want.Settings = append(want.Settings, st)
			}
			return nil
		})
		// The store sets the memberships' and grants' timestamps; take them as stored.
		for i, m := range want.Memberships {
			got, err := s.GetMembership(ctx, m.GroupID, m.UserID)
			noErr(t, err, "GetMembership")
			want.Memberships[i] = got
		}
		for i, g := range want.ProjectGrants {
			got, err := s.GetProjectGrant(ctx, g.ProjectID, g.SubjectKind, g.SubjectID)
			noErr(t, err, "GetProjectGrant")
			want.ProjectGrants[i] = got
		}
		want.Revision = revision(t, s)

		snap, err := s.LoadSnapshot(ctx)
		noErr(t, err, "LoadSnapshot")
		if d := diff(*snap, want, snapshotOrder); d != "" {
			t.Errorf("LoadSnapshot differs from what was written (-want +got):\n%s", d)
		}
		for _, u := range snap.Users {
			if u.PasswordHash != "" {
				t.Errorf("snapshot user %s carries a password hash, want none", u.Username)
			}
		}
		if u, err := s.GetUser(ctx, hashed); err != nil || u.PasswordHash == "" {
			t.Errorf("GetUser of the user with a password: hash %q, %v; want the hash kept in the store", u.PasswordHash, err)
		}
	})
}
