package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping on a good store: got %v, want nil", err)
	}
}

// testEmpty checks that a new store is at revision 0 with an empty change
// log and snapshot.
func testEmpty(t *testing.T, s store.Store) {
	ctx := context.Background()
	if r := revision(t, s); r != 0 {
		t.Errorf("Revision of a new store = %d, want 0", r)
	}
	chs, err := s.ReadChanges(ctx, 0, 0)
	noErr(t, err, "ReadChanges")
	if len(chs) != 0 {
		t.Errorf("ReadChanges(0) of a new store returned %d changes, want 0", len(chs))
	}
	snap, err := s.LoadSnapshot(ctx)
	noErr(t, err, "LoadSnapshot")
	if d := diff(*snap, domain.Snapshot{}); d != "" {
		t.Errorf("LoadSnapshot of a new store is not empty at revision 0 (-want +got):\n%s", d)
	}
}

func testUsers(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		role := newRole("user-role", domain.ScopeSystem)
		u := &domain.User{
			ID: domain.NewID(), Username: "Alice.Example", Email: "alice@example.org", DisplayName: "Alice Ëxample",
			Status: domain.UserDisabled, Source: domain.SourceSCIM, ExternalID: "ext-17", ShowPersonalInfo: true,
		}
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateRole(ctx, role); err != nil {
				return err
			}
			u.SystemRoleID = role.ID
			return tx.CreateUser(ctx, u)
		})
		got, err := s.GetUser(ctx, u.ID)
		noErr(t, err, "GetUser")
		if d := diff(got, *u); d != "" {
			t.Errorf("GetUser after CreateUser (-want +got):\n%s", d)
		}
		for _, name := range []string{"Alice.Example", "alice.example", "ALICE.EXAMPLE"} {
			got, err := s.GetUserByUsername(ctx, name)
			if err != nil || got.ID != u.ID {
				t.Errorf("GetUserByUsername(%q) = %q, %v; want user %q (usernames compare case-insensitively)", name, got.ID, err, u.ID)
			}
		}
		_, err = s.GetUserByUsername(ctx, "nobody")
		wantKind(t, err, domain.KindNotFound, "GetUserByUsername of an unknown name")

		// Change every field.
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			u.Username, u.Email, u.DisplayName = "alice2", "alice2@example.net", "Alice Two"
			u.Status, u.Source, u.ExternalID = domain.UserActive, domain.SourceOIDC, "oidc|42"
			u.SystemRoleID, u.ShowPersonalInfo = "", false
			return tx.UpdateUser(ctx, u)
		})
		got, err = s.GetUser(ctx, u.ID)
		noErr(t, err, "GetUser")
		if d := diff(got, *u); d != "" {
			t.Errorf("GetUser after UpdateUser of every field (-want +got):\n%s", d)
		}
		if got, err := s.GetUserByUsername(ctx, "ALICE2"); err != nil || got.ID != u.ID {
			t.Errorf("GetUserByUsername(ALICE2) after rename = %q, %v; want %q", got.ID, err, u.ID)
		}
		_, err = s.GetUserByUsername(ctx, "alice.example")
		wantKind(t, err, domain.KindNotFound, "GetUserByUsername of the old name after rename")
	})

	t.Run("PasswordHash", func(t *testing.T) {
		s := newStore(t)
		u := newUser("hashed")
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, u) })
		rev := revision(t, s)
		const hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
		ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.SetPasswordHash(ctx, u.ID, hash) })
		if ch.Revision != 0 || len(ch.Mutations) != 0 {
			t.Errorf("InTx of SetPasswordHash + audit = revision %d with %d mutations, want revision 0 and no mutation (the hash never enters the change log)", ch.Revision, len(ch.Mutations))
		}
		if r := revision(t, s); r != rev {
			t.Errorf("Revision after SetPasswordHash = %d, want %d unchanged", r, rev)
		}
		got, err := s.GetUser(ctx, u.ID)
		noErr(t, err, "GetUser")
		if got.PasswordHash != hash {
			t.Errorf("GetUser after SetPasswordHash: PasswordHash = %q, want %q", got.PasswordHash, hash)
		}
		if got, err := s.GetUserByUsername(ctx, "hashed"); err != nil || got.PasswordHash != hash {
			t.Errorf("GetUserByUsername after SetPasswordHash: PasswordHash = %q, %v; want %q", got.PasswordHash, err, hash)
		}
		// An update of the user as read (hash included) must not put the hash in the log.
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			got.DisplayName = "changed"
			return tx.UpdateUser(ctx, &got)
		})
		got2, err := s.GetUser(ctx, u.ID)
		noErr(t, err, "GetUser")
		if got2.PasswordHash != hash {
			t.Errorf("GetUser after UpdateUser: PasswordHash = %q, want %q kept", got2.PasswordHash, hash)
		}
		for _, c := range changesSince(t, s, 0) {
			for i, m := range c.Mutations {
				if m.User != nil && m.User.PasswordHash != "" {
					t.Errorf("change %d mutation %d carries the password hash %q, want it never in the change log", c.Revision, i, m.User.PasswordHash)
				}
			}
		}
		snap, err := s.LoadSnapshot(ctx)
		noErr(t, err, "LoadSnapshot")
		for _, su := range snap.Users {
			if su.PasswordHash != "" {
				t.Errorf("snapshot user %q carries password hash %q, want none", su.Username, su.PasswordHash)
			}
		}
		expectKind(t, s, domain.KindNotFound, "SetPasswordHash of an unknown user", func(ctx context.Context, tx store.Tx) error {
			return tx.SetPasswordHash(ctx, domain.NewID(), hash)
		})
	})
}

func testProjects(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := &domain.Project{Name: "Trial 42", Description: "line one\nline two", MembershipMode: domain.ModeExclusive}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateProject(ctx, p) })
	got, err := s.GetProject(ctx, p.ID)
	noErr(t, err, "GetProject")
	if d := diff(got, *p); d != "" {
		t.Errorf("GetProject after CreateProject (-want +got):\n%s", d)
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		p.Name, p.Description, p.MembershipMode = "Trial 43", "", domain.ModeMultiple
		return tx.UpdateProject(ctx, p)
	})
	got, err = s.GetProject(ctx, p.ID)
	noErr(t, err, "GetProject")
	if d := diff(got, *p); d != "" {
		t.Errorf("GetProject after UpdateProject (-want +got):\n%s", d)
	}
	page, err := s.ListProjects(ctx, store.ListQuery{})
	noErr(t, err, "ListProjects")
	if d := diff(page.Items, []domain.Project{*p}); d != "" {
		t.Errorf("ListProjects (-want +got):\n%s", d)
	}
}

func testGroups(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		sysRole, projRole := newRole("sys", domain.ScopeSystem), newRole("proj", domain.ScopeProject)
		p := newProject("p")
		sys := &domain.Group{
			Name: "Radiologists", Description: "Reads images", Scope: domain.ScopeSystem, ExternalID: "Entra-Obj-17",
			SystemPermissions:         []string{domain.PermGroupsView, domain.PermUsersView},
			DefaultProjectPermissions: []string{domain.PermProjectRead, domain.PermProjectWrite},
		}
		proj := &domain.Group{ID: domain.NewID(), Name: "Monitors", Description: "CRA", Scope: domain.ScopeProject}
		builtins := domain.BuiltinGroups()
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, err := range []error{tx.CreateRole(ctx, sysRole), tx.CreateRole(ctx, projRole), tx.CreateProject(ctx, p)} {
				if err != nil {
					return err
				}
			}
			sys.SystemRoleID, sys.DefaultProjectRoleID, proj.ProjectID = sysRole.ID, projRole.ID, p.ID
			if err := tx.CreateGroup(ctx, sys); err != nil {
				return err
			}
			if err := tx.CreateGroup(ctx, proj); err != nil {
				return err
			}
			for i := range builtins {
				if err := tx.CreateGroup(ctx, &builtins[i]); err != nil {
					return err
				}
			}
			return nil
		})
		for _, want := range append([]domain.Group{*sys, *proj}, builtins...) {
			got, err := s.GetGroup(ctx, want.ID)
			noErr(t, err, "GetGroup "+want.Name)
			if d := diff(got, want); d != "" {
				t.Errorf("GetGroup(%s) after CreateGroup (-want +got):\n%s", want.Name, d)
			}
		}
		// UpdateGroup stores every field but scope, project and builtin.
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			sys.Name, sys.Description, sys.ExternalID = "Radiology", "changed", "entra-obj-17"
			sys.SystemRoleID, sys.SystemPermissions = "", []string{domain.PermAuditView}
			sys.DefaultProjectRoleID, sys.DefaultProjectPermissions = "", nil
			if err := tx.UpdateGroup(ctx, sys); err != nil {
				return err
			}
			pub := builtins[2]
			pub.Name, pub.Description = "Anyone", "renamed built-in (R2)"
			if err := tx.UpdateGroup(ctx, &pub); err != nil {
				return err
			}
			builtins[2] = pub
			return nil
		})
		for _, want := range []domain.Group{*sys, builtins[2]} {
			got, err := s.GetGroup(ctx, want.ID)
			noErr(t, err, "GetGroup")
			if d := diff(got, want); d != "" {
				t.Errorf("GetGroup(%s) after UpdateGroup (-want +got):\n%s", want.Name, d)
			}
		}
	})

	t.Run("R1_ScopeFixed", func(t *testing.T) {
		s := newStore(t)
		p1, p2 := newProject("p1"), newProject("p2")
		sys, proj := newSystemGroup("sys"), newProjectGroup("proj", "")
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateProject(ctx, p1); err != nil {
				return err
			}
			if err := tx.CreateProject(ctx, p2); err != nil {
				return err
			}
			proj.ProjectID = p1.ID
			if err := tx.CreateGroup(ctx, sys); err != nil {
				return err
			}
			return tx.CreateGroup(ctx, proj)
		})
		cases := []struct {
			name   string
			g      domain.Group
			change func(g *domain.Group)
		}{
			{"system to project scope", *sys, func(g *domain.Group) { g.Scope, g.ProjectID = domain.ScopeProject, p1.ID }},
			{"project to system scope", *proj, func(g *domain.Group) { g.Scope, g.ProjectID = domain.ScopeSystem, "" }},
			{"move to another project", *proj, func(g *domain.Group) { g.ProjectID = p2.ID }},
			{"become built-in", *sys, func(g *domain.Group) { g.Builtin = domain.BuiltinPublic }},
		}
		for _, c := range cases {
			g := c.g
			c.change(&g)
			expectKind(t, s, domain.KindInvalid, "UpdateGroup: "+c.name+" (R1)", func(ctx context.Context, tx store.Tx) error {
				return tx.UpdateGroup(ctx, &g)
			})
			got, err := s.GetGroup(ctx, c.g.ID)
			noErr(t, err, "GetGroup")
			if got.Scope != c.g.Scope || got.ProjectID != c.g.ProjectID || got.Builtin != c.g.Builtin || got.Version != 1 {
				t.Errorf("after refused UpdateGroup (%s): group = scope %q project %q builtin %q version %d, want it unchanged", c.name, got.Scope, got.ProjectID, got.Builtin, got.Version)
			}
		}
	})
}

func testMemberships(t *testing.T, s store.Store) {
	ctx := context.Background()
	u1, u2 := newUser("m1"), newUser("m2")
	g1, g2 := newSystemGroup("g1"), newSystemGroup("g2")
	exp := utc(time.Now().Add(48 * time.Hour))
	past := utc(time.Now().Add(-48 * time.Hour))
	m1 := &domain.Membership{GroupID: g1.ID, UserID: u1.ID}
	var m2, m3 *domain.Membership
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, u := range []*domain.User{u1, u2} {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		for _, g := range []*domain.Group{g1, g2} {
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
		}
		m1 = &domain.Membership{GroupID: g1.ID, UserID: u1.ID}
		m2 = &domain.Membership{GroupID: g2.ID, UserID: u1.ID, ExpiresAt: ptr(exp)}
		m3 = &domain.Membership{GroupID: g1.ID, UserID: u2.ID, ExpiresAt: ptr(past)}
		for _, m := range []*domain.Membership{m1, m2, m3} {
			if err := tx.PutMembership(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	ignoreCreated := cmpopts.IgnoreFields(domain.Membership{}, "CreatedAt")
	for _, want := range []*domain.Membership{m1, m2, m3} {
		got, err := s.GetMembership(ctx, want.GroupID, want.UserID)
		noErr(t, err, "GetMembership")
		if d := diff(got, *want, ignoreCreated); d != "" {
			t.Errorf("GetMembership after PutMembership (-want +got):\n%s", d)
		}
	}
	_, err := s.GetMembership(ctx, g2.ID, u2.ID)
	wantKind(t, err, domain.KindNotFound, "GetMembership of a user not in the group")

	// PutMembership replaces the expiry: set, change, clear.
	later := utc(time.Now().Add(96 * time.Hour))
	for _, e := range []*time.Time{ptr(later), nil, ptr(exp)} {
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.PutMembership(ctx, &domain.Membership{GroupID: g1.ID, UserID: u1.ID, ExpiresAt: e})
		})
		got, err := s.GetMembership(ctx, g1.ID, u1.ID)
		noErr(t, err, "GetMembership")
		if d := diff(got.ExpiresAt, e); d != "" {
			t.Errorf("GetMembership after PutMembership replacing the expiry: ExpiresAt (-want +got):\n%s", d)
		}
	}
	m1.ExpiresAt = ptr(exp)

	got, err := s.ListUserMemberships(ctx, u1.ID)
	noErr(t, err, "ListUserMemberships")
	sortMemberships(got)
	want := []domain.Membership{*m1, *m2}
	sortMemberships(want)
	if d := diff(got, want, ignoreCreated); d != "" {
		t.Errorf("ListUserMemberships(u1) (-want +got):\n%s", d)
	}
	got, err = s.ListUserMemberships(ctx, u2.ID)
	noErr(t, err, "ListUserMemberships")
	if d := diff(got, []domain.Membership{*m3}, ignoreCreated); d != "" {
		t.Errorf("ListUserMemberships(u2) must include the expired membership (-want +got):\n%s", d)
	}

	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteMembership(ctx, g1.ID, u1.ID) })
	_, err = s.GetMembership(ctx, g1.ID, u1.ID)
	wantKind(t, err, domain.KindNotFound, "GetMembership after DeleteMembership")
	if _, err := s.GetMembership(ctx, g2.ID, u1.ID); err != nil {
		t.Errorf("GetMembership(g2, u1) after deleting (g1, u1): %v, want it kept", err)
	}
}

func sortMemberships(ms []domain.Membership) {
	slices.SortFunc(ms, func(a, b domain.Membership) int {
		return strings.Compare(a.GroupID+"/"+a.UserID, b.GroupID+"/"+b.UserID)
	})
}

func testRoles(t *testing.T, s store.Store) {
	ctx := context.Background()
	builtins := domain.BuiltinRoles()
	custom := &domain.Role{Name: "Auditor", Description: "reads the audit log", Scope: domain.ScopeSystem,
		Permissions: []string{domain.PermAuditView, domain.PermReportsView}, Editable: true, Deletable: true}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range builtins {
			if err := tx.CreateRole(ctx, &builtins[i]); err != nil {
				return err
			}
		}
		return tx.CreateRole(ctx, custom)
	})
	all := append(slices.Clone(builtins), *custom)
	for _, want := range all {
		got, err := s.GetRole(ctx, want.ID)
		noErr(t, err, "GetRole")
		if d := diff(got, want); d != "" {
			t.Errorf("GetRole(%s) after CreateRole (-want +got):\n%s", want.Name, d)
		}
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		custom.Name, custom.Description, custom.Permissions = "Auditors", "", []string{domain.PermAuditView}
		custom.Editable, custom.Deletable = false, false
		return tx.UpdateRole(ctx, custom)
	})
	got, err := s.GetRole(ctx, custom.ID)
	noErr(t, err, "GetRole")
	if d := diff(got, *custom); d != "" {
		t.Errorf("GetRole after UpdateRole (-want +got):\n%s", d)
	}
	all[len(all)-1] = *custom
	for _, scope := range []domain.Scope{domain.ScopeSystem, domain.ScopeProject} {
		list := collect(t, "ListRoles", func(q store.ListQuery) (store.Page[domain.Role], error) { return s.ListRoles(ctx, q) }, store.ListQuery{Scope: scope})
		var want []domain.Role
		for _, r := range all {
			if r.Scope == scope {
				want = append(want, r)
			}
		}
		sortBy(list, func(r domain.Role) string { return r.ID })
		sortBy(want, func(r domain.Role) string { return r.ID })
		if d := diff(list, want); d != "" {
			t.Errorf("ListRoles(scope %s) (-want +got):\n%s", scope, d)
		}
	}
}

func sortBy[T any](xs []T, key func(T) string) {
	slices.SortFunc(xs, func(a, b T) int { return strings.Compare(key(a), key(b)) })
}

func grantKey(g domain.ProjectGrant) string {
	return g.ProjectID + "/" + string(g.SubjectKind) + "/" + g.SubjectID
}

func testProjectGrants(t *testing.T, s store.Store) {
	ctx := context.Background()
	p1, p2 := newProject("p1"), newProject("p2")
	u := newUser("u")
	g := newSystemGroup("g")
	viewer, editor := newRole("viewer", domain.ScopeProject), newRole("editor", domain.ScopeProject)
	var ug1, gg1, gg2 *domain.ProjectGrant
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateProject(ctx, p1), tx.CreateProject(ctx, p2), tx.CreateUser(ctx, u), tx.CreateGroup(ctx, g),
			tx.CreateRole(ctx, viewer), tx.CreateRole(ctx, editor)} {
			if err != nil {
				return err
			}
		}
		ug1 = &domain.ProjectGrant{ProjectID: p1.ID, SubjectKind: domain.SubjectUser, SubjectID: u.ID, RoleID: viewer.ID}
		gg1 = &domain.ProjectGrant{ProjectID: p1.ID, SubjectKind: domain.SubjectGroup, SubjectID: g.ID,
			Permissions: []string{domain.PermProjectRead, domain.PermProjectWrite}}
		gg2 = &domain.ProjectGrant{ProjectID: p2.ID, SubjectKind: domain.SubjectGroup, SubjectID: g.ID} // presence, no rights
		for _, pg := range []*domain.ProjectGrant{ug1, gg1, gg2} {
			if err := tx.PutProjectGrant(ctx, pg); err != nil {
				return err
			}
		}
		return nil
	})
	ignoreUpdated := cmpopts.IgnoreFields(domain.ProjectGrant{}, "UpdatedAt")
	for _, want := range []*domain.ProjectGrant{ug1, gg1, gg2} {
		got, err := s.GetProjectGrant(ctx, want.ProjectID, want.SubjectKind, want.SubjectID)
		noErr(t, err, "GetProjectGrant")
		if d := diff(got, *want, ignoreUpdated); d != "" {
			t.Errorf("GetProjectGrant(%s) after PutProjectGrant (-want +got):\n%s", grantKey(*want), d)
		}
	}
	_, err := s.GetProjectGrant(ctx, p2.ID, domain.SubjectUser, u.ID)
	wantKind(t, err, domain.KindNotFound, "GetProjectGrant of a grant never put")
	_, err = s.GetProjectGrant(ctx, p1.ID, domain.SubjectGroup, u.ID)
	wantKind(t, err, domain.KindNotFound, "GetProjectGrant of a user's grant asked as a group's")

	// Replace: role to permissions.
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		ug1.RoleID, ug1.Permissions = "", []string{domain.PermProjectModerate}
		return tx.PutProjectGrant(ctx, ug1)
	})
	got, err := s.GetProjectGrant(ctx, p1.ID, domain.SubjectUser, u.ID)
	noErr(t, err, "GetProjectGrant")
	if d := diff(got, *ug1, ignoreUpdated); d != "" {
		t.Errorf("GetProjectGrant after PutProjectGrant replacing the role by permissions (-want +got):\n%s", d)
	}

	cases := []struct {
		name string
		f    store.GrantFilter
		want []domain.ProjectGrant
	}{
		{"by project", store.GrantFilter{ProjectID: p1.ID}, []domain.ProjectGrant{*ug1, *gg1}},
		{"by project with none", store.GrantFilter{ProjectID: domain.NewID()}, nil},
		{"by group subject", store.GrantFilter{SubjectKind: domain.SubjectGroup, SubjectID: g.ID}, []domain.ProjectGrant{*gg1, *gg2}},
		{"by user subject", store.GrantFilter{SubjectKind: domain.SubjectUser, SubjectID: u.ID}, []domain.ProjectGrant{*ug1}},
		{"by project and subject", store.GrantFilter{ProjectID: p2.ID, SubjectKind: domain.SubjectGroup, SubjectID: g.ID}, []domain.ProjectGrant{*gg2}},
		{"by project and other subject", store.GrantFilter{ProjectID: p2.ID, SubjectKind: domain.SubjectUser, SubjectID: u.ID}, nil},
	}
	for _, c := range cases {
		got, err := s.ListProjectGrants(ctx, c.f)
		noErr(t, err, "ListProjectGrants "+c.name)
		sortBy(got, grantKey)
		sortBy(c.want, grantKey)
		if d := diff(got, c.want, ignoreUpdated); d != "" {
			t.Errorf("ListProjectGrants %s (-want +got):\n%s", c.name, d)
		}
	}

	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteProjectGrant(ctx, p1.ID, domain.SubjectGroup, g.ID)
	})
	_, err = s.GetProjectGrant(ctx, p1.ID, domain.SubjectGroup, g.ID)
	wantKind(t, err, domain.KindNotFound, "GetProjectGrant after DeleteProjectGrant")
	if _, err := s.GetProjectGrant(ctx, p1.ID, domain.SubjectUser, u.ID); err != nil {
		t.Errorf("GetProjectGrant of the user's grant after deleting the group's: %v, want it kept", err)
	}
}

func testDomainGrants(t *testing.T, s store.Store) {
	ctx := context.Background()
	g1, g2 := newSystemGroup("g1"), newSystemGroup("g2")
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateGroup(ctx, g1); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, g2); err != nil {
			return err
		}
		for _, d := range []domain.DomainGrant{{GroupID: g1.ID, Domain: "hospital-a"}, {GroupID: g1.ID, Domain: "hospital-b"}, {GroupID: g2.ID, Domain: "hospital-a"}} {
			if err := tx.PutDomainGrant(ctx, &d); err != nil {
				return err
			}
		}
		return nil
	})
	// Putting an existing grant again is not an error.
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutDomainGrant(ctx, &domain.DomainGrant{GroupID: g1.ID, Domain: "hospital-b"})
	})
	key := func(d domain.DomainGrant) string { return d.GroupID + "/" + d.Domain }
	check := func(groupID string, want []domain.DomainGrant) {
		t.Helper()
		got, err := s.ListDomainGrants(ctx, groupID)
		noErr(t, err, "ListDomainGrants")
		sortBy(got, key)
		sortBy(want, key)
		if d := diff(got, want); d != "" {
			t.Errorf("ListDomainGrants(%s) (-want +got):\n%s", groupID, d)
		}
	}
	check(g1.ID, []domain.DomainGrant{{GroupID: g1.ID, Domain: "hospital-a"}, {GroupID: g1.ID, Domain: "hospital-b"}})
	check(g2.ID, []domain.DomainGrant{{GroupID: g2.ID, Domain: "hospital-a"}})
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteDomainGrant(ctx, g1.ID, "hospital-a") })
	check(g1.ID, []domain.DomainGrant{{GroupID: g1.ID, Domain: "hospital-b"}})
	check(g2.ID, []domain.DomainGrant{{GroupID: g2.ID, Domain: "hospital-a"}})
}

func testFolderTypes(t *testing.T, s store.Store) {
	ctx := context.Background()
	builtin := domain.BuiltinFolderType()
	study := &domain.FolderType{Name: "GRT Study", Contexts: []string{"analysis", "data", "document", domain.ContextRoot}, Properties: []string{"site", "study"}}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateFolderType(ctx, &builtin); err != nil {
			return err
		}
		return tx.CreateFolderType(ctx, study)
	})
	for _, want := range []domain.FolderType{builtin, *study} {
		got, err := s.GetFolderType(ctx, want.ID)
		noErr(t, err, "GetFolderType")
		if d := diff(got, want); d != "" {
			t.Errorf("GetFolderType(%s) after CreateFolderType (-want +got):\n%s", want.Name, d)
		}
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		study.Name, study.Contexts, study.Properties = "GRT Study v2", []string{"data", domain.ContextRoot}, nil
		return tx.UpdateFolderType(ctx, study)
	})
	got, err := s.ListFolderTypes(ctx)
	noErr(t, err, "ListFolderTypes")
	want := []domain.FolderType{builtin, *study}
	sortBy(got, func(f domain.FolderType) string { return f.ID })
	sortBy(want, func(f domain.FolderType) string { return f.ID })
	if d := diff(got, want); d != "" {
		t.Errorf("ListFolderTypes after UpdateFolderType (-want +got):\n%s", d)
	}
}

func testFolders(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := newProject("p")
	ft1, ft2 := newFolderType("t1"), newFolderType("t2")
	root := &domain.Folder{Name: "Studies", Properties: map[string]string{"site": "Berlin", "study": "S-1"}}
	var child, other *domain.Folder
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateProject(ctx, p), tx.CreateFolderType(ctx, ft1), tx.CreateFolderType(ctx, ft2)} {
			if err != nil {
				return err
			}
		}
		root.TypeID, root.ProjectID = ft1.ID, p.ID
		if err := tx.CreateFolder(ctx, root); err != nil {
			return err
		}
		child = &domain.Folder{ID: domain.NewID(), ParentID: root.ID, Name: "Site 1", TypeID: ft2.ID, Properties: map[string]string{"site": ""}}
		other = &domain.Folder{Name: "Other", TypeID: ft1.ID}
		if err := tx.CreateFolder(ctx, child); err != nil {
			return err
		}
		return tx.CreateFolder(ctx, other)
	})
	for _, want := range []*domain.Folder{root, child, other} {
		got, err := s.GetFolder(ctx, want.ID)
		noErr(t, err, "GetFolder")
		if d := diff(got, *want); d != "" {
			t.Errorf("GetFolder(%s) after CreateFolder (-want +got):\n%s", want.Name, d)
		}
	}
	// Rename, move, retype, change properties and project in one update.
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		child.Name, child.ParentID, child.TypeID = "Site One", other.ID, ft1.ID
		child.Properties, child.ProjectID = map[string]string{"study": "S-2", "site": "Paris"}, p.ID
		return tx.UpdateFolder(ctx, child)
	})
	got, err := s.GetFolder(ctx, child.ID)
	noErr(t, err, "GetFolder")
	if d := diff(got, *child); d != "" {
		t.Errorf("GetFolder after UpdateFolder (-want +got):\n%s", d)
	}
	children := func(parent string) []domain.Folder {
		t.Helper()
		return collect(t, "ListFolders", func(q store.ListQuery) (store.Page[domain.Folder], error) { return s.ListFolders(ctx, parent, q) }, store.ListQuery{})
	}
	if d := diff(children(root.ID), []domain.Folder(nil)); d != "" {
		t.Errorf("ListFolders(old parent) after moving its only child away (-want +got):\n%s", d)
	}
	if d := diff(children(other.ID), []domain.Folder{*child}); d != "" {
		t.Errorf("ListFolders(new parent) after the move (-want +got):\n%s", d)
	}
	if d := diff(children(""), []domain.Folder{*other, *root}); d != "" {
		t.Errorf("ListFolders(\"\") lists the roots by name (-want +got):\n%s", d)
	}
	// Back to the root level: ParentID "".
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		child.ParentID, child.ProjectID, child.Properties = "", "", nil
		return tx.UpdateFolder(ctx, child)
	})
	got, err = s.GetFolder(ctx, child.ID)
	noErr(t, err, "GetFolder")
	if d := diff(got, *child); d != "" {
		t.Errorf("GetFolder after moving to the root level (-want +got):\n%s", d)
	}
}

func levelKey(l domain.FolderLevel) string { return l.FolderID + "/" + l.GroupID }

func testFolderLevels(t *testing.T, s store.Store) {
	ctx := context.Background()
	ft := newFolderType("t")
	g1, g2 := newSystemGroup("g1"), newSystemGroup("g2")
	var f1, f2 *domain.Folder
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateFolderType(ctx, ft), tx.CreateGroup(ctx, g1), tx.CreateGroup(ctx, g2)} {
			if err != nil {
				return err
			}
		}
		f1, f2 = newFolder("f1", "", ft.ID), newFolder("f2", "", ft.ID)
		if err := tx.CreateFolder(ctx, f1); err != nil {
			return err
		}
		return tx.CreateFolder(ctx, f2)
	})
	levels := []domain.FolderLevel{
		{FolderID: f1.ID, GroupID: g1.ID, Level: domain.LevelView},
		{FolderID: f1.ID, GroupID: g2.ID, Level: domain.LevelNone}, // an explicit none overrides inheritance (R15)
		{FolderID: f2.ID, GroupID: g1.ID, Level: domain.LevelDeleteFolder},
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range levels {
			if err := tx.PutFolderLevel(ctx, &levels[i]); err != nil {
				return err
			}
		}
		return nil
	})
	// Replace.
	levels[0].Level = domain.LevelEdit
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutFolderLevel(ctx, &levels[0]) })
	cases := []struct {
		name            string
		folderID, group string
		want            []domain.FolderLevel
	}{
		{"by folder", f1.ID, "", levels[:2]},
		{"by group", "", g1.ID, []domain.FolderLevel{levels[0], levels[2]}},
		{"by folder and group", f1.ID, g2.ID, levels[1:2]},
		{"by folder and group without level", f2.ID, g2.ID, nil},
	}
	for _, c := range cases {
		got, err := s.ListFolderLevels(ctx, c.folderID, c.group)
		noErr(t, err, "ListFolderLevels")
		sortBy(got, levelKey)
		want := slices.Clone(c.want)
		sortBy(want, levelKey)
		if d := diff(got, want); d != "" {
			t.Errorf("ListFolderLevels %s (-want +got):\n%s", c.name, d)
		}
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteFolderLevel(ctx, f1.ID, g1.ID) })
	got, err := s.ListFolderLevels(ctx, f1.ID, "")
	noErr(t, err, "ListFolderLevels")
	if d := diff(got, levels[1:2]); d != "" {
		t.Errorf("ListFolderLevels(f1) after DeleteFolderLevel(f1, g1) (-want +got):\n%s", d)
	}
}

func testRules(t *testing.T, s store.Store) {
	ctx := context.Background()
	ft := &domain.FolderType{Name: "GRT Study", Contexts: []string{"data", "document", domain.ContextRoot}, Properties: []string{"phase", "site", "study"}}
	g1, g2 := newSystemGroup("g1"), newSystemGroup("g2")
	var r1, r2, r3 *domain.Rule
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateFolderType(ctx, ft), tx.CreateGroup(ctx, g1), tx.CreateGroup(ctx, g2)} {
			if err != nil {
				return err
			}
		}
		r1 = &domain.Rule{Name: "Study monitors", GroupID: g1.ID,
			Criteria: []domain.Criterion{
				{FolderTypeID: ft.ID, Property: "phase", Operator: domain.OpIn, Values: []string{"I", "II"}},
				{FolderTypeID: ft.ID, Property: "site", Operator: domain.OpExists},
				{FolderTypeID: ft.ID, Property: "study", Operator: domain.OpStartsWith, Value: "GRT-"},
			},
			Grants: map[string][]string{
				"data":             {"create", "read"},
				"document":         {"edit", "lock", "read", "set_blinded", "view_blinded"},
				domain.ContextRoot: {"read"},
			},
		}
		r2 = newRule("Second", g1.ID, ft.ID)
		r3 = newRule("Other group", g2.ID, ft.ID)
		for _, r := range []*domain.Rule{r1, r2, r3} {
			if err := tx.CreateRule(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.GetRule(ctx, r1.ID)
	noErr(t, err, "GetRule")
	if d := diff(got, *r1); d != "" {
		t.Errorf("GetRule after CreateRule (-want +got):\n%s", d)
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		r1.Name = "Study monitors (all)"
		r1.Criteria = []domain.Criterion{{FolderTypeID: ft.ID, Property: "study", Operator: domain.OpNe, Value: "X"}}
		r1.Grants = map[string][]string{"data": {"delete"}}
		return tx.UpdateRule(ctx, r1)
	})
	got, err = s.GetRule(ctx, r1.ID)
	noErr(t, err, "GetRule")
	if d := diff(got, *r1); d != "" {
		t.Errorf("GetRule after UpdateRule (-want +got):\n%s", d)
	}
	list, err := s.ListRules(ctx, g1.ID)
	noErr(t, err, "ListRules")
	sortBy(list, func(r domain.Rule) string { return r.ID })
	want := []domain.Rule{*r1, *r2}
	sortBy(want, func(r domain.Rule) string { return r.ID })
	if d := diff(list, want); d != "" {
		t.Errorf("ListRules(g1) (-want +got):\n%s", d)
	}
}

func testSettings(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutSetting(ctx, &domain.Setting{Key: "everyone_name", Value: "Normal Users"}); err != nil {
			return err
		}
		return tx.PutSetting(ctx, &domain.Setting{Key: "empty", Value: ""})
	})
	for _, want := range []domain.Setting{{Key: "everyone_name", Value: "Normal Users"}, {Key: "empty", Value: ""}} {
		got, err := s.GetSetting(ctx, want.Key)
		noErr(t, err, "GetSetting")
		if d := diff(got, want); d != "" {
			t.Errorf("GetSetting(%s) (-want +got):\n%s", want.Key, d)
		}
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutSetting(ctx, &domain.Setting{Key: "everyone_name", Value: "Everyone"})
	})
	got, err := s.GetSetting(ctx, "everyone_name")
	noErr(t, err, "GetSetting")
	if got.Value != "Everyone" {
		t.Errorf("GetSetting after PutSetting replacing it: Value = %q, want %q", got.Value, "Everyone")
	}
	_, err = s.GetSetting(ctx, "never_set")
	wantKind(t, err, domain.KindNotFound, "GetSetting of a key never put")
}

// testDeleteMissing checks that every delete of a missing object is
// KindNotFound.
func testDeleteMissing(t *testing.T, s store.Store) {
	d := makeDeps(t, s)
	u := newUser("u")
	ft := newFolderType("ft2")
	f := newFolder("f", "", d.typeID)
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateUser(ctx, u), tx.CreateFolderType(ctx, ft), tx.CreateFolder(ctx, f)} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	missing := domain.NewID()
	cases := []struct {
		name string
		op   func(ctx context.Context, tx store.Tx) error
	}{
		{"DeleteUser", func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, missing) }},
		{"DeleteProject", func(ctx context.Context, tx store.Tx) error { return tx.DeleteProject(ctx, missing) }},
		{"DeleteGroup", func(ctx context.Context, tx store.Tx) error { return tx.DeleteGroup(ctx, missing) }},
		{"DeleteMembership of an existing user and group", func(ctx context.Context, tx store.Tx) error { return tx.DeleteMembership(ctx, d.groupID, u.ID) }},
		{"DeleteMembership of unknown ids", func(ctx context.Context, tx store.Tx) error { return tx.DeleteMembership(ctx, missing, missing) }},
		{"DeleteRole", func(ctx context.Context, tx store.Tx) error { return tx.DeleteRole(ctx, missing) }},
		{"DeleteProjectGrant", func(ctx context.Context, tx store.Tx) error {
			return tx.DeleteProjectGrant(ctx, d.projectID, domain.SubjectUser, u.ID)
		}},
		{"DeleteDomainGrant", func(ctx context.Context, tx store.Tx) error { return tx.DeleteDomainGrant(ctx, d.groupID, "nowhere") }},
		{"DeleteFolderType", func(ctx context.Context, tx store.Tx) error { return tx.DeleteFolderType(ctx, missing) }},
		{"DeleteFolder", func(ctx context.Context, tx store.Tx) error { return tx.DeleteFolder(ctx, missing) }},
		{"DeleteFolderLevel", func(ctx context.Context, tx store.Tx) error { return tx.DeleteFolderLevel(ctx, f.ID, d.groupID) }},
		{"DeleteRule", func(ctx context.Context, tx store.Tx) error { return tx.DeleteRule(ctx, missing) }},
	}
	rev := revision(t, s)
	for _, c := range cases {
		expectKind(t, s, domain.KindNotFound, c.name+" of a missing object", c.op)
	}
	if r := revision(t, s); r != rev {
		t.Errorf("Revision after refused deletes = %d, want %d", r, rev)
	}
}
