package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func userID(u domain.User) string     { return u.ID }
func groupID(g domain.Group) string   { return g.ID }
func memberID(m store.Member) string  { return m.User.ID }
func folderID(f domain.Folder) string { return f.ID }

// userOrder returns the order ListUsers and ListMembers promise for a sort
// column: the column, then id; reversed entirely when desc. The suite only
// uses lower-case values, so the order does not depend on collation.
func userOrder(column string, desc bool) func(a, b domain.User) int {
	return func(a, b domain.User) int {
		var c int
		switch column {
		case "", "username":
			c = strings.Compare(a.Username, b.Username)
		case "display_name":
			c = strings.Compare(a.DisplayName, b.DisplayName)
		case "email":
			c = strings.Compare(a.Email, b.Email)
		case "created_at":
			c = a.CreatedAt.Compare(b.CreatedAt)
		default:
			panic("storetest: unknown column " + column)
		}
		c = cmp.Or(c, strings.Compare(a.ID, b.ID))
		if desc {
			return -c
		}
		return c
	}
}

func groupOrder(column string, desc bool) func(a, b domain.Group) int {
	return func(a, b domain.Group) int {
		var c int
		switch column {
		case "", "name":
			c = strings.Compare(a.Name, b.Name)
		case "created_at":
			c = a.CreatedAt.Compare(b.CreatedAt)
		default:
			panic("storetest: unknown column " + column)
		}
		c = cmp.Or(c, strings.Compare(a.ID, b.ID))
		if desc {
			return -c
		}
		return c
	}
}

// shuffledIDs returns n fresh ids in random order, so that id order is
// not creation order.
func shuffledIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = domain.NewID()
	}
	rand.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// sortUsers creates users with lower-case names, repeated display names
// (so the id tie-break matters) and emails in another order, over several
// transactions, all members of one group. It returns the users as stored
// and the group.
func sortUsers(t *testing.T, s store.Store, n int) ([]domain.User, *domain.Group) {
	t.Helper()
	g := newSystemGroup("sorted")
	ids := shuffledIDs(n)
	var users []domain.User
	for batch := 0; batch < n; batch += 4 {
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			if batch == 0 {
				if err := tx.CreateGroup(ctx, g); err != nil {
					return err
				}
			}
			for i := batch; i < min(batch+4, n); i++ {
				u := &domain.User{
					ID:          ids[i],
					Username:    fmt.Sprintf("user%02d", i),
					DisplayName: []string{"mira", "anna", "zoe"}[i%3],
					Email:       fmt.Sprintf("%c%02d@example.org", 'z'-i%26, i),
					Status:      domain.UserActive, Source: domain.SourceLocal,
				}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				if err := tx.PutMembership(ctx, &domain.Membership{GroupID: g.ID, UserID: u.ID}); err != nil {
					return err
				}
				users = append(users, *u)
			}
			return nil
		})
	}
	return users, g
}

func testLists(t *testing.T, newStore NewStore) {
	ctx := context.Background()

	t.Run("R28_SortUsersAndMembers", func(t *testing.T) {
		s := newStore(t)
		users, g := sortUsers(t, s, 23)
		for _, column := range []string{"", "username", "display_name", "email", "created_at"} {
			for _, desc := range []bool{false, true} {
				want := slices.Clone(users)
				slices.SortFunc(want, userOrder(column, desc))
				q := store.ListQuery{Sort: column, Desc: desc, Limit: 5}
				got := collect(t, "ListUsers", func(q store.ListQuery) (store.Page[domain.User], error) { return s.ListUsers(ctx, q) }, q)
				if d := diff(ids(got, userID), ids(want, userID)); d != "" {
					t.Errorf("ListUsers(sort %q, desc %v) in pages of 5: ids out of order (-want +got):\n%s", column, desc, d)
				}
				members := collect(t, "ListMembers", func(q store.ListQuery) (store.Page[store.Member], error) {
					return s.ListMembers(ctx, g.ID, q)
				}, q)
				if d := diff(ids(members, memberID), ids(want, userID)); d != "" {
					t.Errorf("ListMembers(sort %q, desc %v) in pages of 5: ids out of order (-want +got):\n%s", column, desc, d)
				}
			}
		}
		// Each member row carries the user record and the membership.
		members := collect(t, "ListMembers", func(q store.ListQuery) (store.Page[store.Member], error) {
			return s.ListMembers(ctx, g.ID, q)
		}, store.ListQuery{})
		for _, m := range members {
			u, err := s.GetUser(ctx, m.User.ID)
			noErr(t, err, "GetUser")
			if d := diff(m.User, u, cmpopts.IgnoreFields(domain.User{}, "PasswordHash")); d != "" {
				t.Errorf("ListMembers row's user differs from GetUser (-GetUser +row):\n%s", d)
			}
			ms, err := s.GetMembership(ctx, g.ID, m.User.ID)
			noErr(t, err, "GetMembership")
			if d := diff(m.Membership, ms); d != "" {
				t.Errorf("ListMembers row's membership differs from GetMembership (-GetMembership +row):\n%s", d)
			}
		}
	})

	t.Run("SortGroups", func(t *testing.T) {
		s := newStore(t)
		p := newProject("p")
		gids := shuffledIDs(12)
		var groups []domain.Group
		for batch := 0; batch < 12; batch += 3 {
			mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
				if batch == 0 {
					if err := tx.CreateProject(ctx, p); err != nil {
						return err
					}
				}
				for i := batch; i < batch+3; i++ {
					g := newSystemGroup(fmt.Sprintf("group-%c", 'l'-i))
					if i%2 == 1 {
						g = newProjectGroup(fmt.Sprintf("group-%c", 'l'-i+1), p.ID) // same name as a system group
					}
					g.ID = gids[i]
					if err := tx.CreateGroup(ctx, g); err != nil {
						return err
					}
					groups = append(groups, *g)
				}
				return nil
			})
		}
		for _, column := range []string{"", "name", "created_at"} {
			for _, desc := range []bool{false, true} {
				want := slices.Clone(groups)
				slices.SortFunc(want, groupOrder(column, desc))
				got := collect(t, "ListGroups", func(q store.ListQuery) (store.Page[domain.Group], error) { return s.ListGroups(ctx, q) },
					store.ListQuery{Sort: column, Desc: desc, Limit: 4})
				if d := diff(ids(got, groupID), ids(want, groupID)); d != "" {
					t.Errorf("ListGroups(sort %q, desc %v) in pages of 4: ids out of order (-want +got):\n%s", column, desc, d)
				}
			}
		}
	})

	t.Run("SortProjectsRolesFolders", func(t *testing.T) { testSortNamed(t, newStore(t)) })

	t.Run("UnknownSort", func(t *testing.T) {
		s := newStore(t)
		g := newSystemGroup("g")
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateGroup(ctx, g) })
		for _, col := range []string{"nope", "password_hash", "username; DROP TABLE users"} {
			q := store.ListQuery{Sort: col}
			_, err := s.ListUsers(ctx, q)
			wantKind(t, err, domain.KindInvalid, "ListUsers(sort "+col+")")
			_, err = s.ListMembers(ctx, g.ID, q)
			wantKind(t, err, domain.KindInvalid, "ListMembers(sort "+col+")")
			_, err = s.ListGroups(ctx, q)
			wantKind(t, err, domain.KindInvalid, "ListGroups(sort "+col+")")
			_, err = s.ListProjects(ctx, q)
			wantKind(t, err, domain.KindInvalid, "ListProjects(sort "+col+")")
			_, err = s.ListRoles(ctx, q)
			wantKind(t, err, domain.KindInvalid, "ListRoles(sort "+col+")")
			_, err = s.ListFolders(ctx, "", q)
			wantKind(t, err, domain.KindInvalid, "ListFolders(sort "+col+")")
		}
		_, err := s.ListGroups(ctx, store.ListQuery{Sort: "username"})
		wantKind(t, err, domain.KindInvalid, "ListGroups(sort username), a column of users only")
		// The refusal tells the caller what they may sort by instead.
		if err == nil || !strings.Contains(err.Error(), "sort by one of: created_at, name") {
			t.Errorf("ListGroups(sort username) = %v, want the sorts it allows named", err)
		}
		if _, err := s.ListGroups(ctx, store.ListQuery{Sort: "created_at", Desc: true}); err != nil {
			t.Errorf("ListGroups(sort created_at): %v, want it allowed", err)
		}
	})

	t.Run("Search", func(t *testing.T) {
		s := newStore(t)
		mk := func(username, display, email string) *domain.User {
			return &domain.User{Username: username, DisplayName: display, Email: email, Status: domain.UserActive, Source: domain.SourceLocal}
		}
		alice := mk("alice.smith", "Alice Smith", "alice@example.org")
		bob := mk("bob", "Bob Jones", "bob@corp.example")
		carol := mk("carol_x", "Carol", "carol@example.net")
		pct := mk("ax%b", "Percent", "pct@example.net")
		jg := mk("jgross", "Jürgen Groß", "jg@example.com")
		g := newSystemGroup("searchers")
		groups := []*domain.Group{newSystemGroup("Radiology"), newSystemGroup("radiographers"), newSystemGroup("Cardiology"), g}
		p1, p2 := newProject("Oncology Trial"), newProject("Neuro")
		var ft *domain.FolderType
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, u := range []*domain.User{alice, bob, carol, pct, jg} {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			for _, x := range groups {
				if err := tx.CreateGroup(ctx, x); err != nil {
					return err
				}
			}
			for _, u := range []*domain.User{alice, bob, jg} {
				if err := tx.PutMembership(ctx, &domain.Membership{GroupID: g.ID, UserID: u.ID}); err != nil {
					return err
				}
			}
			for _, p := range []*domain.Project{p1, p2} {
				if err := tx.CreateProject(ctx, p); err != nil {
					return err
				}
			}
			for _, r := range []*domain.Role{newRole("Data Manager", domain.ScopeSystem), newRole("Reader", domain.ScopeProject)} {
				if err := tx.CreateRole(ctx, r); err != nil {
					return err
				}
			}
			ft = newFolderType("t")
			if err := tx.CreateFolderType(ctx, ft); err != nil {
				return err
			}
			for _, n := range []string{"Baseline Scans", "Follow-up", "scans 2"} {
				if err := tx.CreateFolder(ctx, newFolder(n, "", ft.ID)); err != nil {
					return err
				}
			}
			return nil
		})
		users := func(search string) []string {
			got := collect(t, "ListUsers", func(q store.ListQuery) (store.Page[domain.User], error) { return s.ListUsers(ctx, q) }, store.ListQuery{Search: search})
			out := ids(got, func(u domain.User) string { return u.Username })
			slices.Sort(out)
			return out
		}
		userCases := []struct {
			search string
			want   []string
		}{
			{"SMITH", []string{"alice.smith"}},           // username and display name
			{"jones", []string{"bob"}},                   // display name only
			{"CORP.EXAMPLE", []string{"bob"}},            // email only
			{"example.net", []string{"ax%b", "carol_x"}}, // substring of the email
			{"_", []string{"carol_x"}},                   // a literal underscore, not a wildcard
			{"%", []string{"ax%b"}},                      // a literal percent sign
			{"x%", []string{"ax%b"}},                     // no wildcard
			{"JÜRGEN", []string{"jgross"}},               // case-insensitive beyond ASCII
			{"nobody-matches", nil},
			{"", []string{"alice.smith", "ax%b", "bob", "carol_x", "jgross"}},
		}
		for _, c := range userCases {
			if d := diff(users(c.search), c.want); d != "" {
				t.Errorf("ListUsers(search %q) usernames (-want +got):\n%s", c.search, d)
			}
		}
		members := func(search string) []string {
			got := collect(t, "ListMembers", func(q store.ListQuery) (store.Page[store.Member], error) {
				return s.ListMembers(ctx, g.ID, q)
			}, store.ListQuery{Search: search})
			out := ids(got, func(m store.Member) string { return m.User.Username })
			slices.Sort(out)
			return out
		}
		memberCases := []struct {
			search string
			want   []string
		}{
			{"JONES", []string{"bob"}},
			{"EXAMPLE.", []string{"alice.smith", "jgross"}}, // alice@example.org, jg@example.com; not bob@corp.example
			{"EXAMPLE.ORG", []string{"alice.smith"}},
			{"carol", nil}, // a user, but not a member
		}
		// R18: a caller who may not see personal fields searches usernames
		// only, and may not sort by what is hidden.
		hidden := func(list string, q store.ListQuery) ([]string, error) {
			q.AccountOnly = true
			var out []string
			var err error
			if list == "users" {
				var p store.Page[domain.User]
				p, err = s.ListUsers(ctx, q)
				out = ids(p.Items, func(u domain.User) string { return u.Username })
			} else {
				var p store.Page[store.Member]
				p, err = s.ListMembers(ctx, g.ID, q)
				out = ids(p.Items, func(m store.Member) string { return m.User.Username })
			}
			slices.Sort(out)
			return out, err
		}
		for _, list := range []string{"users", "members"} {
			for _, c := range []struct {
				search string
				want   []string
			}{{"SMITH", []string{"alice.smith"}}, {"jones", nil}, {"CORP.EXAMPLE", nil}, {"example", nil}} {
				got, err := hidden(list, store.ListQuery{Search: c.search})
				if err != nil {
					t.Fatal(err)
				}
				if d := diff(got, c.want); d != "" {
					t.Errorf("R18: %s search %q by username only (-want +got):\n%s", list, c.search, d)
				}
			}
			for _, col := range []string{"email", "display_name"} {
				if _, err := hidden(list, store.ListQuery{Sort: col}); !domain.Is(err, domain.KindInvalid) {
					t.Errorf("R18: %s sorted by %s without seeing it: err %v, want invalid", list, col, err)
				}
			}
		}
		for _, c := range memberCases {
			if d := diff(members(c.search), c.want); d != "" {
				t.Errorf("ListMembers(search %q) usernames (-want +got) (R28):\n%s", c.search, d)
			}
		}
		names := func(what string, got []string) []string { slices.Sort(got); return got }
		gs := collect(t, "ListGroups", func(q store.ListQuery) (store.Page[domain.Group], error) { return s.ListGroups(ctx, q) }, store.ListQuery{Search: "RADIO"})
		if d := diff(names("groups", ids(gs, func(g domain.Group) string { return g.Name })), []string{"Radiology", "radiographers"}); d != "" {
			t.Errorf("ListGroups(search RADIO) (-want +got):\n%s", d)
		}
		ps := collect(t, "ListProjects", func(q store.ListQuery) (store.Page[domain.Project], error) { return s.ListProjects(ctx, q) }, store.ListQuery{Search: "trial"})
		if d := diff(ids(ps, func(p domain.Project) string { return p.Name }), []string{"Oncology Trial"}); d != "" {
			t.Errorf("ListProjects(search trial) (-want +got):\n%s", d)
		}
		rs := collect(t, "ListRoles", func(q store.ListQuery) (store.Page[domain.Role], error) { return s.ListRoles(ctx, q) }, store.ListQuery{Search: "MANAGER"})
		if d := diff(ids(rs, func(r domain.Role) string { return r.Name }), []string{"Data Manager"}); d != "" {
			t.Errorf("ListRoles(search MANAGER) (-want +got):\n%s", d)
		}
		fs := collect(t, "ListFolders", func(q store.ListQuery) (store.Page[domain.Folder], error) { return s.ListFolders(ctx, "", q) }, store.ListQuery{Search: "SCANS"})
		if d := diff(names("folders", ids(fs, func(f domain.Folder) string { return f.Name })), []string{"Baseline Scans", "scans 2"}); d != "" {
			t.Errorf("ListFolders(search SCANS) (-want +got):\n%s", d)
		}
	})

	t.Run("GroupFilters", func(t *testing.T) {
		s := newStore(t)
		p1, p2 := newProject("p1"), newProject("p2")
		var s1, s2, a, b, c *domain.Group
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateProject(ctx, p1); err != nil {
				return err
			}
			if err := tx.CreateProject(ctx, p2); err != nil {
				return err
			}
			s1, s2 = newSystemGroup("s1"), newSystemGroup("s2")
			a, b, c = newProjectGroup("a", p1.ID), newProjectGroup("b", p1.ID), newProjectGroup("c", p2.ID)
			for _, g := range []*domain.Group{s1, s2, a, b, c} {
				if err := tx.CreateGroup(ctx, g); err != nil {
					return err
				}
			}
			return nil
		})
		cases := []struct {
			name string
			q    store.ListQuery
			want []string
		}{
			{"all", store.ListQuery{}, []string{"a", "b", "c", "s1", "s2"}},
			{"system scope", store.ListQuery{Scope: domain.ScopeSystem}, []string{"s1", "s2"}},
			{"project scope", store.ListQuery{Scope: domain.ScopeProject}, []string{"a", "b", "c"}},
			{"one project", store.ListQuery{ProjectID: p1.ID}, []string{"a", "b"}},
			{"project scope of one project", store.ListQuery{Scope: domain.ScopeProject, ProjectID: p2.ID}, []string{"c"}},
			{"a project with no group", store.ListQuery{ProjectID: domain.NewID()}, nil},
		}
		for _, cs := range cases {
			got := collect(t, "ListGroups", func(q store.ListQuery) (store.Page[domain.Group], error) { return s.ListGroups(ctx, q) }, cs.q)
			if d := diff(ids(got, func(g domain.Group) string { return g.Name }), cs.want); d != "" {
				t.Errorf("ListGroups %s, by name (-want +got):\n%s", cs.name, d)
			}
		}
	})

	t.Run("Limit", func(t *testing.T) {
		s := newStore(t)
		const n = 1003
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			for i := range n {
				if err := tx.CreateUser(ctx, newUser(fmt.Sprintf("u%04d", i))); err != nil {
					return err
				}
			}
			return nil
		})
		cases := []struct {
			limit, want int
		}{{0, 100}, {-5, 100}, {1, 1}, {250, 250}, {1000, 1000}, {5000, 1000}}
		for _, c := range cases {
			p, err := s.ListUsers(ctx, store.ListQuery{Limit: c.limit})
			noErr(t, err, "ListUsers")
			if len(p.Items) != c.want || p.Next == "" {
				t.Errorf("ListUsers(Limit %d) of %d users = %d users, Next %q; want %d and a Next cursor", c.limit, n, len(p.Items), p.Next, c.want)
			}
		}
		all := collect(t, "ListUsers", func(q store.ListQuery) (store.Page[domain.User], error) { return s.ListUsers(ctx, q) }, store.ListQuery{Limit: 1000})
		if len(all) != n {
			t.Errorf("ListUsers in pages of 1000 = %d users, want %d", len(all), n)
		}
		for i, u := range all {
			if want := fmt.Sprintf("u%04d", i); u.Username != want {
				t.Errorf("ListUsers row %d = %q, want %q", i, u.Username, want)
				break
			}
		}
	})
}

// named adapts a list sorted by name or created_at to checkNamedSort.
type named[T any] struct {
	list    func(q store.ListQuery) (store.Page[T], error)
	name    func(T) string
	id      func(T) string
	created func(T) time.Time
}

// checkNamedSort checks a list documented to sort by name (the default)
// or created_at, then id, ascending or descending, across pages of 3.
func checkNamedSort[T any](t *testing.T, what string, l named[T], items []T) {
	t.Helper()
	for _, column := range []string{"", "name", "created_at"} {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(items)
			slices.SortFunc(want, func(a, b T) int {
				var c int
				if column == "created_at" {
					c = l.created(a).Compare(l.created(b))
				} else {
					c = strings.Compare(l.name(a), l.name(b))
				}
				c = cmp.Or(c, strings.Compare(l.id(a), l.id(b)))
				if desc {
					return -c
				}
				return c
			})
			got := collect(t, what, l.list, store.ListQuery{Sort: column, Desc: desc, Limit: 3})
			if d := diff(ids(got, l.id), ids(want, l.id)); d != "" {
				t.Errorf("%s(sort %q, desc %v) in pages of 3: ids out of order (-want +got):\n%s", what, column, desc, d)
			}
		}
	}
}

func testSortNamed(t *testing.T, s store.Store) {
	ctx := context.Background()
	pids, rids, fids := shuffledIDs(8), shuffledIDs(8), shuffledIDs(8)
	var projects []domain.Project
	var roles []domain.Role
	var folders []domain.Folder
	var parent *domain.Folder
	for batch := 0; batch < 8; batch += 2 {
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			if batch == 0 {
				ft := newFolderType("t")
				if err := tx.CreateFolderType(ctx, ft); err != nil {
					return err
				}
				parent = newFolder("parent", "", ft.ID)
				if err := tx.CreateFolder(ctx, parent); err != nil {
					return err
				}
			}
			for i := batch; i < batch+2; i++ {
				name := fmt.Sprintf("n%c", 'h'-i) // creation order is not name order
				p := newProject(name)
				p.ID = pids[i]
				scope := domain.ScopeSystem
				if i%2 == 1 {
					scope, name = domain.ScopeProject, fmt.Sprintf("n%c", 'h'-i+1) // same name, other scope
				}
				r := newRole(name, scope)
				r.ID = rids[i]
				f := newFolder(fmt.Sprintf("n%c", 'h'-i), parent.ID, parent.TypeID)
				f.ID = fids[i]
				for _, err := range []error{tx.CreateProject(ctx, p), tx.CreateRole(ctx, r), tx.CreateFolder(ctx, f)} {
					if err != nil {
						return err
					}
				}
				projects, roles, folders = append(projects, *p), append(roles, *r), append(folders, *f)
			}
			return nil
		})
	}
	checkNamedSort(t, "ListProjects", named[domain.Project]{
		list: func(q store.ListQuery) (store.Page[domain.Project], error) { return s.ListProjects(ctx, q) },
		name: func(p domain.Project) string { return p.Name }, id: func(p domain.Project) string { return p.ID },
		created: func(p domain.Project) time.Time { return p.CreatedAt },
	}, projects)
	checkNamedSort(t, "ListRoles", named[domain.Role]{
		list: func(q store.ListQuery) (store.Page[domain.Role], error) { return s.ListRoles(ctx, q) },
		name: func(r domain.Role) string { return r.Name }, id: func(r domain.Role) string { return r.ID },
		created: func(r domain.Role) time.Time { return r.CreatedAt },
	}, roles)
	checkNamedSort(t, "ListFolders", named[domain.Folder]{
		list: func(q store.ListQuery) (store.Page[domain.Folder], error) { return s.ListFolders(ctx, parent.ID, q) },
		name: func(f domain.Folder) string { return f.Name }, id: folderID,
		created: func(f domain.Folder) time.Time { return f.CreatedAt },
	}, folders)
}
