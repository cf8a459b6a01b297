package storetest

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// txOp is one write inside a transaction.
type txOp = func(ctx context.Context, tx store.Tx) error

// uniqueFixture is what testUniqueNames' cases write against.
type uniqueFixture struct {
	d          deps
	p2         string // a second project
	folder     string // a root folder named "Data" with children "Raw" and "Clean"
	raw, clean string
	other      string // a root folder named "Other" with a child "Data"
}

// setupUnique writes the fixture of testUniqueNames.
func setupUnique(t *testing.T, s store.Store) uniqueFixture {
	var f uniqueFixture
	f.d = makeDeps(t, s)
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		p2 := newProject("second-project")
		if err := tx.CreateProject(ctx, p2); err != nil {
			return err
		}
		f.p2 = p2.ID
		data, other := newFolder("Data", "", f.d.typeID), newFolder("Other", "", f.d.typeID)
		if err := tx.CreateFolder(ctx, data); err != nil {
			return err
		}
		if err := tx.CreateFolder(ctx, other); err != nil {
			return err
		}
		raw, clean, od := newFolder("Raw", data.ID, f.d.typeID), newFolder("Clean", data.ID, f.d.typeID), newFolder("Data", other.ID, f.d.typeID)
		for _, x := range []*domain.Folder{raw, clean, od} {
			if err := tx.CreateFolder(ctx, x); err != nil {
				return err
			}
		}
		f.folder, f.raw, f.clean, f.other = data.ID, raw.ID, clean.ID, other.ID
		return nil
	})
	return f
}

// The writes of testUniqueNames' cases: each returns the write to make
// against the fixture.
type uniqueWrite = func(f uniqueFixture) txOp

// fixed is a write that needs nothing of the fixture.
func fixed(o txOp) uniqueWrite { return func(uniqueFixture) txOp { return o } }

// nothing writes nothing: the fixture alone is the first object.
var nothing = fixed(func(context.Context, store.Tx) error { return nil })

func createUser(name string) uniqueWrite {
	return fixed(func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, newUser(name)) })
}

// createUserWithID creates a user with a given id.
func createUserWithID(name, id string) uniqueWrite {
	return fixed(func(ctx context.Context, tx store.Tx) error {
		u := newUser(name)
		u.ID = id
		return tx.CreateUser(ctx, u)
	})
}

// renameUser creates the user from and renames it to.
func renameUser(from, to string) uniqueWrite {
	return fixed(func(ctx context.Context, tx store.Tx) error {
		u := newUser(from)
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		u.Username = to
		return tx.UpdateUser(ctx, u)
	})
}

func createProject(name string) uniqueWrite {
	return fixed(func(ctx context.Context, tx store.Tx) error { return tx.CreateProject(ctx, newProject(name)) })
}

func createSystemGroup(name string) uniqueWrite {
	return fixed(func(ctx context.Context, tx store.Tx) error { return tx.CreateGroup(ctx, newSystemGroup(name)) })
}

// renameSystemGroup creates the system group from and renames it to.
func renameSystemGroup(from, to string) uniqueWrite {
	return fixed(func(ctx context.Context, tx store.Tx) error {
		g := newSystemGroup(from)
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		g.Name = to
		return tx.UpdateGroup(ctx, g)
	})
}

// createProjectGroup creates a group of the fixture's first project, or
// of its second.
func createProjectGroup(name string, second bool) uniqueWrite {
	return func(f uniqueFixture) txOp {
		p := f.d.projectID
		if second {
			p = f.p2
		}
		return func(ctx context.Context, tx store.Tx) error { return tx.CreateGroup(ctx, newProjectGroup(name, p)) }
	}
}

func createRole(name string, scope domain.Scope) uniqueWrite {
	return fixed(func(ctx context.Context, tx store.Tx) error { return tx.CreateRole(ctx, newRole(name, scope)) })
}

func createFolderType(name string) uniqueWrite {
	return fixed(func(ctx context.Context, tx store.Tx) error { return tx.CreateFolderType(ctx, newFolderType(name)) })
}

// createFolder creates a folder under the fixture's folder parent
// picks ("" for a root).
func createFolder(name string, parent func(uniqueFixture) string) uniqueWrite {
	return func(f uniqueFixture) txOp {
		return func(ctx context.Context, tx store.Tx) error {
			return tx.CreateFolder(ctx, newFolder(name, parent(f), f.d.typeID))
		}
	}
}

// editFolder reads the fixture's folder which picks, edits it and writes
// it back.
func editFolder(which func(uniqueFixture) string, edit func(f uniqueFixture, x *domain.Folder)) uniqueWrite {
	return func(f uniqueFixture) txOp {
		return func(ctx context.Context, tx store.Tx) error {
			x, err := tx.GetFolder(ctx, which(f))
			if err != nil {
				return err
			}
			edit(f, &x)
			return tx.UpdateFolder(ctx, &x)
		}
	}
}

// createRule creates a rule of the fixture's group, or of a new system
// group.
func createRule(name string, newGroup bool) uniqueWrite {
	return func(f uniqueFixture) txOp {
		return func(ctx context.Context, tx store.Tx) error {
			gid := f.d.groupID
			if newGroup {
				g := newSystemGroup("another")
				if err := tx.CreateGroup(ctx, g); err != nil {
					return err
				}
				gid = g.ID
			}
			return tx.CreateRule(ctx, newRule(name, gid, f.d.typeID))
		}
	}
}

// testUniqueNames checks the unique keys: names compare case-insensitively
// (domain.NameKey) within their scope, usernames and group, role and
// project names are refused when they look like a taken one
// (identifier.Skeleton), and a taken key is KindExists.
func testUniqueNames(t *testing.T, newStore NewStore) {
	const takenID = "00000000-0000-7000-8000-00000000aaaa"
	root := func(uniqueFixture) string { return "" }
	data := func(f uniqueFixture) string { return f.folder }
	other := func(f uniqueFixture) string { return f.other }
	clean := func(f uniqueFixture) string { return f.clean }
	cases := []struct {
		name   string
		first  uniqueWrite // creates the first object
		second uniqueWrite // tries the clashing (or allowed) write
		want   domain.Kind // KindOther: the second write must succeed
	}{
		{"username differing in case", createUser("Alice"), createUser("alice"), domain.KindExists},
		{"username differing in non-ASCII case", createUser("Ölaf"), createUser("öLAF"), domain.KindExists},
		{"user renamed onto a taken username", createUser("bob"), renameUser("carol", "BOB"), domain.KindExists},
		{"user id taken", createUserWithID("dave", takenID), createUserWithID("erin", takenID), domain.KindExists},
		{"project name differing in case", createProject("Trial"), createProject("TRIAL"), domain.KindExists},
		{"system group name differing in case", createSystemGroup("Staff"), createSystemGroup("staff"), domain.KindExists},
		{"system group renamed onto a taken name", createSystemGroup("Staff"), renameSystemGroup("Guests", "STAFF"), domain.KindExists},
		{"project group name differing in case in the same project", createProjectGroup("Staff", false), createProjectGroup("STAFF", false), domain.KindExists},
		{"same name as a system group and a project group", createSystemGroup("Staff"), createProjectGroup("staff", false), domain.KindOther},
		{"same group name in two projects", createProjectGroup("Staff", false), createProjectGroup("Staff", true), domain.KindOther},
		{"system role name differing in case", createRole("Auditor", domain.ScopeSystem), createRole("auditor", domain.ScopeSystem), domain.KindExists},
		{"same role name in the system and project scopes", createRole("Auditor", domain.ScopeSystem), createRole("Auditor", domain.ScopeProject), domain.KindOther},
		// Look-alikes (TR39 skeletons, migration 00005): the database refuses
		// them as it refuses a name differing in case.
		{"username with a Cyrillic а for a Latin a", createUser("admin"), createUser("\u0430dmin"), domain.KindExists},
		{"user renamed onto a look-alike (capital I for l)", createUser("Alice"), renameUser("mallory", "AIice"), domain.KindExists},
		{"project name look-alike (Greek Ο for O)", createProject("ONCO"), createProject("\u039fNCO"), domain.KindExists},
		{"system group renamed onto a look-alike", createSystemGroup("Staff"), renameSystemGroup("Guests", "\u0405taff"), domain.KindExists}, // Cyrillic Ѕ
		{"look-alike group names in two projects", createProjectGroup("Staff", false), createProjectGroup("\u0405taff", true), domain.KindOther},
		{"system role name look-alike", createRole("Auditor", domain.ScopeSystem), createRole("Audit\u043er", domain.ScopeSystem), domain.KindExists},
		{"folder type name differing in case", createFolderType("Study"), createFolderType("STUDY"), domain.KindExists},
		{"sibling folder name differing in case", nothing, createFolder("raw", data), domain.KindExists},
		{"root folder name differing in case", nothing, createFolder("DATA", root), domain.KindExists},
		{"folder renamed onto a sibling's name", nothing, editFolder(clean, func(_ uniqueFixture, x *domain.Folder) { x.Name = "RAW" }), domain.KindExists},
		// "Data" under the root, into Other, which has a "Data".
		{"folder moved next to a sibling of the same name", nothing, editFolder(data, func(f uniqueFixture, x *domain.Folder) { x.ParentID = f.other }), domain.KindExists},
		{"same folder name under different parents", nothing, createFolder("Raw", other), domain.KindOther},
		{"rule name differing in case in one group", createRule("Monitors", false), createRule("MONITORS", false), domain.KindExists},
		{"same rule name in two groups", createRule("Monitors", false), createRule("Monitors", true), domain.KindOther},
	}
	// Each case gets its own store: the fixture, then the first write
	// committed, then the second write, refused or allowed.
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			f := setupUnique(t, s)
			mustWrite(t, s, c.first(f))
			if c.want == domain.KindOther {
				_, err := s.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
					if err := c.second(f)(ctx, tx); err != nil {
						return err
					}
					return tx.Audit(ctx, auditEvent("storetest.unique"))
				})
				if err != nil {
					t.Errorf("%s: got error %v (kind %v), want it allowed", c.name, err, domain.KindOf(err))
				}
				return
			}
			rev := revision(t, s)
			expectKind(t, s, c.want, c.name, c.second(f))
			if r := revision(t, s); r != rev {
				t.Errorf("Revision after a refused write = %d, want %d", r, rev)
			}
		})
	}
}

// testMissingReferences checks that a write referring to a missing object
// is KindInvalid, and that the store keeps nothing of it.
func testMissingReferences(t *testing.T, s store.Store) {
	d := makeDeps(t, s)
	u := newUser("present")
	f := newFolder("present", "", d.typeID)
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return tx.CreateFolder(ctx, f)
	})
	missing := domain.NewID()
	type op = func(ctx context.Context, tx store.Tx) error
	cases := []struct {
		name string
		op   op
	}{
		{"membership of an unknown user", func(ctx context.Context, tx store.Tx) error {
			return tx.PutMembership(ctx, &domain.Membership{GroupID: d.groupID, UserID: missing})
		}},
		{"membership in an unknown group", func(ctx context.Context, tx store.Tx) error {
			return tx.PutMembership(ctx, &domain.Membership{GroupID: missing, UserID: u.ID})
		}},
		{"project group of an unknown project", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateGroup(ctx, newProjectGroup("orphan", missing))
		}},
		{"user with an unknown system role", func(ctx context.Context, tx store.Tx) error {
			x := newUser("x")
			x.SystemRoleID = missing
			return tx.CreateUser(ctx, x)
		}},
		{"group with an unknown system role", func(ctx context.Context, tx store.Tx) error {
			g := newSystemGroup("x")
			g.SystemRoleID = missing
			return tx.CreateGroup(ctx, g)
		}},
		{"group with an unknown default project role", func(ctx context.Context, tx store.Tx) error {
			g := newSystemGroup("x")
			g.DefaultProjectRoleID = missing
			return tx.CreateGroup(ctx, g)
		}},
		{"project grant on an unknown project", func(ctx context.Context, tx store.Tx) error {
			return tx.PutProjectGrant(ctx, &domain.ProjectGrant{ProjectID: missing, SubjectKind: domain.SubjectUser, SubjectID: u.ID})
		}},
		{"project grant to an unknown user", func(ctx context.Context, tx store.Tx) error {
			return tx.PutProjectGrant(ctx, &domain.ProjectGrant{ProjectID: d.projectID, SubjectKind: domain.SubjectUser, SubjectID: missing})
		}},
		{"project grant to an unknown group", func(ctx context.Context, tx store.Tx) error {
			return tx.PutProjectGrant(ctx, &domain.ProjectGrant{ProjectID: d.projectID, SubjectKind: domain.SubjectGroup, SubjectID: missing})
		}},
		{"project grant to a user id given as a group", func(ctx context.Context, tx store.Tx) error {
			return tx.PutProjectGrant(ctx, &domain.ProjectGrant{ProjectID: d.projectID, SubjectKind: domain.SubjectGroup, SubjectID: u.ID})
		}},
		{"project grant with an unknown role", func(ctx context.Context, tx store.Tx) error {
			return tx.PutProjectGrant(ctx, &domain.ProjectGrant{ProjectID: d.projectID, SubjectKind: domain.SubjectUser, SubjectID: u.ID, RoleID: missing})
		}},
		{"domain grant of an unknown group", func(ctx context.Context, tx store.Tx) error {
			return tx.PutDomainGrant(ctx, &domain.DomainGrant{GroupID: missing, Domain: "a"})
		}},
		{"folder with an unknown parent", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateFolder(ctx, newFolder("x", missing, d.typeID))
		}},
		{"folder with an unknown type", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateFolder(ctx, newFolder("x", "", missing))
		}},
		{"folder in an unknown project", func(ctx context.Context, tx store.Tx) error {
			x := newFolder("x", "", d.typeID)
			x.ProjectID = missing
			return tx.CreateFolder(ctx, x)
		}},
		{"folder moved under an unknown parent", func(ctx context.Context, tx store.Tx) error {
			x, err := tx.GetFolder(ctx, f.ID)
			if err != nil {
				return err
			}
			x.ParentID = missing
			return tx.UpdateFolder(ctx, &x)
		}},
		{"folder level on an unknown folder", func(ctx context.Context, tx store.Tx) error {
			return tx.PutFolderLevel(ctx, &domain.FolderLevel{FolderID: missing, GroupID: d.groupID, Level: domain.LevelView})
		}},
		{"folder level of an unknown group", func(ctx context.Context, tx store.Tx) error {
			return tx.PutFolderLevel(ctx, &domain.FolderLevel{FolderID: f.ID, GroupID: missing, Level: domain.LevelView})
		}},
		{"rule of an unknown group", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateRule(ctx, newRule("x", missing, d.typeID))
		}},
		{"rule on an unknown folder type", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateRule(ctx, newRule("x", d.groupID, missing))
		}},
	}
	rev := revision(t, s)
	for _, c := range cases {
		expectKind(t, s, domain.KindInvalid, c.name, c.op)
	}
	if r := revision(t, s); r != rev {
		t.Errorf("Revision after refused writes = %d, want %d unchanged", r, rev)
	}
	ctx := context.Background()
	if ms, err := s.ListUserMemberships(ctx, u.ID); err != nil || len(ms) != 0 {
		t.Errorf("ListUserMemberships after refused writes = %v, %v; want none", ms, err)
	}
	if gs, err := s.ListProjectGrants(ctx, store.GrantFilter{ProjectID: d.projectID}); err != nil || len(gs) != 0 {
		t.Errorf("ListProjectGrants after refused writes = %v, %v; want none", gs, err)
	}
	if ls, err := s.ListFolderLevels(ctx, f.ID, ""); err != nil || len(ls) != 0 {
		t.Errorf("ListFolderLevels after refused writes = %v, %v; want none", ls, err)
	}
}

// testLegacyLookalikes: rows written before skeletons existed get them
// from Migrate, oldest first; a younger look-alike is left without one, can
// still be edited under its name, and gets a skeleton when renamed.
func testLegacyLookalikes(t *testing.T, newStore NewStore) {
	s := newStore(t)
	raw, ok := s.(rawExecer)
	m, ok2 := s.(interface{ Migrate(context.Context) error })
	if !ok || !ok2 {
		t.Skipf("%T offers no ExecRaw and Migrate", s)
	}
	ctx := context.Background()
	admin, twin := newUser("admin"), newUser("bob")
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateUser(ctx, admin); err != nil {
			return err
		}
		return tx.CreateUser(ctx, twin)
	})
	// As an older version would have left them: a look-alike pair, no
	// skeletons.
	noErr(t, raw.ExecRaw(ctx, `UPDATE users SET username = ?, username_key = ? WHERE id = ?`, "\u0430dmin", "\u0430dmin", twin.ID), "make a look-alike")
	noErr(t, raw.ExecRaw(ctx, `UPDATE users SET username_skel = NULL`), "drop the skeletons")
	noErr(t, m.Migrate(ctx), "Migrate")
	expectKind(t, s, domain.KindExists, "a third look-alike after Migrate", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateUser(ctx, newUser("adm\u0456n"))
	})
	got, err := s.GetUser(ctx, twin.ID)
	noErr(t, err, "GetUser")
	got.DisplayName = "still editable"
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, &got) })
	got.Username = "robert"
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, &got) })
	expectKind(t, s, domain.KindExists, "a look-alike of the renamed user", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateUser(ctx, newUser("r\u043ebert"))
	})
	noErr(t, m.Migrate(ctx), "Migrate again")
	testLegacyProjectLookalikes(t, s, raw, m)
}

// testLegacyProjectLookalikes: Migrate fills the skeletons of every
// table, not only users', and a legacy name that looks like a name that
// already has its skeleton is left without one (warned about), without
// failing the migration.
func testLegacyProjectLookalikes(t *testing.T, s store.Store, raw rawExecer, m interface{ Migrate(context.Context) error }) {
	ctx := context.Background()
	trial, study, twin := newProject("Trial"), newProject("Study"), newProject("Other")
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, p := range []*domain.Project{trial, study, twin} {
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	noErr(t, raw.ExecRaw(ctx, `UPDATE projects SET name = ?, name_key = ?, name_skel = NULL WHERE id = ?`, "Tr\u0456al", "tr\u0456al", twin.ID), "make a legacy look-alike")
	noErr(t, raw.ExecRaw(ctx, `UPDATE projects SET name_skel = NULL WHERE id = ?`, study.ID), "drop a skeleton")
	noErr(t, m.Migrate(ctx), "Migrate with a legacy look-alike project")
	expectKind(t, s, domain.KindExists, "a look-alike of a project whose skeleton Migrate filled", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateProject(ctx, newProject("Stud\u0443"))
	})
}
