package reference

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

func fixture() *domain.Snapshot {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return &domain.Snapshot{
		Revision: 7,
		Users:    []domain.User{{ID: "u", Username: "u", Status: domain.UserActive}, {ID: "v", Username: "v", Status: domain.UserActive}},
		Projects: []domain.Project{{ID: "p", MembershipMode: domain.ModeMultiple}},
		Groups: append(domain.BuiltinGroups(),
			domain.Group{ID: "pg", Scope: domain.ScopeProject, ProjectID: "p"},
			domain.Group{ID: "sg", Scope: domain.ScopeSystem}),
		Memberships: []domain.Membership{{GroupID: "pg", UserID: "u", ExpiresAt: &exp}, {GroupID: "sg", UserID: "u"}, {GroupID: "sg", UserID: "v"}},
		Roles:       domain.BuiltinRoles(),
		ProjectGrants: []domain.ProjectGrant{
			{ProjectID: "p", SubjectKind: domain.SubjectGroup, SubjectID: "pg", RoleID: domain.RoleViewerID},
			{ProjectID: "p", SubjectKind: domain.SubjectGroup, SubjectID: "sg", Permissions: []string{"project.read"}},
			{ProjectID: "p", SubjectKind: domain.SubjectUser, SubjectID: "u"},
		},
		DomainGrants: []domain.DomainGrant{{GroupID: "pg", Domain: "ct"}, {GroupID: "sg", Domain: "mri"}},
		FolderTypes:  []domain.FolderType{domain.BuiltinFolderType()},
		Folders: []domain.Folder{
			{ID: "a", TypeID: domain.FolderTypeFolderID, ProjectID: "p"},
			{ID: "b", ParentID: "a", TypeID: domain.FolderTypeFolderID},
			{ID: "c", ParentID: "b", TypeID: domain.FolderTypeFolderID, Properties: map[string]string{"k": "v"}},
			{ID: "d", TypeID: domain.FolderTypeFolderID},
		},
		FolderLevels: []domain.FolderLevel{{FolderID: "c", GroupID: "sg", Level: domain.LevelView}, {FolderID: "d", GroupID: "pg", Level: domain.LevelEdit}},
		Rules: []domain.Rule{{ID: "r", GroupID: "pg", Criteria: []domain.Criterion{{FolderTypeID: domain.FolderTypeFolderID, Property: "k", Operator: domain.OpExists}},
			Grants: map[string][]string{"root": {"lock"}}}},
	}
}

func del(rev int64, m domain.Mutation) domain.Change {
	m.Op = domain.OpDelete
	return domain.Change{Revision: rev, Mutations: []domain.Mutation{m}}
}

// TestApplyCascades checks each cascade of domain.Mutation's doc.
func TestApplyCascades(t *testing.T) {
	t.Run("user", func(t *testing.T) {
		s := fixture()
		if err := Apply(s, del(8, domain.Mutation{Entity: domain.EntityUser, User: &domain.User{ID: "u"}})); err != nil {
			t.Fatal(err)
		}
		if len(s.Users) != 1 || len(s.Memberships) != 1 || len(s.ProjectGrants) != 2 || s.Revision != 8 {
			t.Errorf("after deleting u: users %v memberships %v grants %v revision %d", s.Users, s.Memberships, s.ProjectGrants, s.Revision)
		}
	})
	t.Run("group", func(t *testing.T) {
		s := fixture()
		if err := Apply(s, del(8, domain.Mutation{Entity: domain.EntityGroup, Group: &domain.Group{ID: "sg"}})); err != nil {
			t.Fatal(err)
		}
		if len(s.Groups) != 4 || len(s.Memberships) != 1 || len(s.ProjectGrants) != 2 || len(s.DomainGrants) != 1 || len(s.FolderLevels) != 1 || len(s.Rules) != 1 {
			t.Errorf("after deleting sg: %+v", s)
		}
	})
	t.Run("project", func(t *testing.T) {
		s := fixture()
		if err := Apply(s, del(8, domain.Mutation{Entity: domain.EntityProject, Project: &domain.Project{ID: "p"}})); err != nil {
			t.Fatal(err)
		}
		// The project group pg goes with its membership, domain grant,
		// level and rule; every grant on p goes; folder a stays, unlinked.
		if len(s.Projects) != 0 || len(s.Groups) != 4 || len(s.Memberships) != 2 || len(s.ProjectGrants) != 0 ||
			len(s.DomainGrants) != 1 || len(s.FolderLevels) != 1 || len(s.Rules) != 0 || len(s.Folders) != 4 || s.Folders[0].ProjectID != "" {
			t.Errorf("after deleting p: %+v", s)
		}
	})
	t.Run("folder", func(t *testing.T) {
		s := fixture()
		if err := Apply(s, del(8, domain.Mutation{Entity: domain.EntityFolder, Folder: &domain.Folder{ID: "a"}})); err != nil {
			t.Fatal(err)
		}
		if len(s.Folders) != 1 || s.Folders[0].ID != "d" || len(s.FolderLevels) != 1 {
			t.Errorf("after deleting a: folders %v levels %v", s.Folders, s.FolderLevels)
		}
	})
}

// TestApplyPutReplacesByKeyAndCopies checks that a put replaces the object
// with the same key and keeps no reference to the change's objects.
func TestApplyPutReplacesByKeyAndCopies(t *testing.T) {
	s := fixture()
	exp := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	given := exp
	m := domain.Membership{GroupID: "sg", UserID: "u", ExpiresAt: &given} // no expiry → expired in 2020
	f := domain.Folder{ID: "c", ParentID: "d", TypeID: domain.FolderTypeFolderID, Properties: map[string]string{"k": "w"}}
	c := domain.Change{Revision: 8, Mutations: []domain.Mutation{
		{Op: domain.OpPut, Entity: domain.EntityMembership, Membership: &m},
		{Op: domain.OpPut, Entity: domain.EntityFolder, Folder: &f},
	}}
	if err := Apply(s, c); err != nil {
		t.Fatal(err)
	}
	if len(s.Memberships) != 3 || len(s.Folders) != 4 {
		t.Fatalf("put appended instead of replacing: %v %v", s.Memberships, s.Folders)
	}
	f.Properties["k"] = "changed after Apply"
	*m.ExpiresAt = exp.Add(time.Hour)
	for _, x := range s.Folders {
		if x.ID == "c" && (x.ParentID != "d" || x.Properties["k"] != "w") {
			t.Errorf("folder c = %+v, want moved under d with k=w, unaffected by later edits of the change", x)
		}
	}
	for _, x := range s.Memberships {
		if x.GroupID == "sg" && x.UserID == "u" && !x.ExpiresAt.Equal(exp) {
			t.Errorf("membership expiry = %v, want %v", x.ExpiresAt, exp)
		}
	}
	// The evaluator sees the new state: u's membership of sg expired in
	// 2020 (R6), so sg's domain is no longer u's; v's still counts.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mri := engine.Resource{Kind: engine.KindDomain, ID: "mri"}
	d, err := New(s).Check(engine.Subject{UserID: "u"}, domain.PermDomainAccess, mri, now)
	if err != nil || d.Allowed || d.Revision != 8 {
		t.Errorf("Check(u, domain.access, domain:mri) = %+v, %v; want deny at revision 8", d, err)
	}
	d, err = New(s).Check(engine.Subject{UserID: "v"}, domain.PermDomainAccess, mri, now)
	if err != nil || !d.Allowed {
		t.Errorf("Check(v, domain.access, domain:mri) = %+v, %v; want allow", d, err)
	}
	// And folder c, moved under d, inherits pg's edit from d (R15).
	d, err = New(s).Check(engine.Subject{UserID: "u"}, "root.edit", engine.Resource{Kind: engine.KindFolder, ID: "c"}, now)
	if err != nil || !d.Allowed {
		t.Errorf("Check(u, root.edit, folder:c) = %+v, %v; want allow", d, err)
	}
}

// TestCloneSharesNothing checks that Clone is deep.
func TestCloneSharesNothing(t *testing.T) {
	s := fixture()
	c := Clone(s)
	c.Folders[2].Properties["k"] = "x"
	*c.Memberships[0].ExpiresAt = time.Time{}
	c.Rules[0].Grants["root"][0] = "read"
	c.Rules[0].Criteria[0].Property = "z"
	c.Roles[0].Permissions[0] = "x"
	if s.Folders[2].Properties["k"] != "v" || s.Memberships[0].ExpiresAt.IsZero() || s.Rules[0].Grants["root"][0] != "lock" ||
		s.Rules[0].Criteria[0].Property != "k" || s.Roles[0].Permissions[0] == "x" {
		t.Errorf("Clone shares data with its source: %+v", s)
	}
}
