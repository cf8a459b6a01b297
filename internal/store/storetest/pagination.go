package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// churn describes a list paged while rows come and go.
type churn[T any] struct {
	list  func(q store.ListQuery) (store.Page[T], error)
	id    func(T) string
	order func(a, b T) int // the order the query asks for, id included
	// insert adds a row named name; remove deletes the row with id.
	insert func(t *testing.T, name string)
	remove func(t *testing.T, id string)
}

// runChurn pages through c with Limit 7. Between pages it inserts two rows
// (one sorting first, one last) and deletes two of the initial rows: the
// last row of the page just read (the cursor's row) when it is removable,
// and one not read yet. It checks that no row comes twice, that every
// initial row never deleted comes once, and that rows come in order.
func runChurn[T any](t *testing.T, what string, c churn[T], q store.ListQuery, initial []string) {
	t.Helper()
	removable := map[string]bool{}
	for i, id := range initial {
		if i%3 == 0 {
			removable[id] = true
		}
	}
	deleted := map[string]bool{}
	seen := map[string]int{}
	var got []T
	q.Limit = 7
	for page := 0; ; page++ {
		p, err := c.list(q)
		noErr(t, err, what)
		if len(p.Items) > 7 {
			t.Errorf("%s: page %d has %d rows, want at most 7", what, page, len(p.Items))
		}
		for _, x := range p.Items {
			seen[c.id(x)]++
		}
		got = append(got, p.Items...)
		if p.Next == "" {
			break
		}
		if page > 100 {
			t.Fatalf("%s: more than 100 pages of 7, want the cursor to end", what)
		}
		q.Cursor = p.Next
		c.insert(t, fmt.Sprintf("a%03d", page))
		c.insert(t, fmt.Sprintf("zz%03d", page))
		if len(p.Items) > 0 {
			if last := c.id(p.Items[len(p.Items)-1]); removable[last] && !deleted[last] {
				c.remove(t, last)
				deleted[last] = true
			}
		}
		for _, id := range initial {
			if removable[id] && !deleted[id] && seen[id] == 0 {
				c.remove(t, id)
				deleted[id] = true
				break
			}
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s: row %s returned %d times while rows were inserted and deleted between pages, want once", what, id, n)
		}
	}
	missing := 0
	for _, id := range initial {
		if !deleted[id] && seen[id] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d rows that existed throughout were never returned (cursor not stable across inserts and deletes)", what, missing)
	}
	for i := 1; i < len(got); i++ {
		if c.order(got[i-1], got[i]) >= 0 {
			t.Errorf("%s: row %d (%s) comes after row %d (%s), want them in the query's order", what, i, c.id(got[i]), i-1, c.id(got[i-1]))
			break
		}
	}
	if len(deleted) == 0 {
		t.Errorf("%s: the test deleted nothing between pages; it needs more rows", what)
	}
}

func testPagination(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	userChurn := func(s store.Store, display string) churn[domain.User] {
		return churn[domain.User]{
			list: func(q store.ListQuery) (store.Page[domain.User], error) { return s.ListUsers(ctx, q) },
			id:   userID,
			insert: func(t *testing.T, name string) {
				u := newUser(name)
				u.DisplayName = display
				mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, u) })
			},
			remove: func(t *testing.T, id string) {
				mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, id) })
			},
		}
	}
	for _, sc := range []struct {
		column string
		desc   bool
	}{{"username", false}, {"username", true}, {"display_name", false}, {"display_name", true}, {"email", true}, {"created_at", false}, {"created_at", true}} {
		t.Run(fmt.Sprintf("Users/%s/desc=%v", sc.column, sc.desc), func(t *testing.T) {
			s := newStore(t)
			users, _ := sortUsers(t, s, 40)
			c := userChurn(s, "anna")
			c.order = userOrder(sc.column, sc.desc)
			runChurn(t, "ListUsers", c, store.ListQuery{Sort: sc.column, Desc: sc.desc}, ids(users, userID))
		})
	}
	t.Run("Members", func(t *testing.T) {
		for _, sc := range []struct {
			column string
			desc   bool
		}{{"", false}, {"display_name", true}, {"email", false}} {
			s := newStore(t)
			users, g := sortUsers(t, s, 40)
			c := churn[store.Member]{
				list: func(q store.ListQuery) (store.Page[store.Member], error) { return s.ListMembers(ctx, g.ID, q) },
				id:   memberID,
				order: func(a, b store.Member) int {
					return userOrder(sc.column, sc.desc)(a.User, b.User)
				},
				insert: func(t *testing.T, name string) {
					mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
						u := newUser(name)
						u.DisplayName = "mira"
						if err := tx.CreateUser(ctx, u); err != nil {
							return err
						}
						return tx.PutMembership(ctx, &domain.Membership{GroupID: g.ID, UserID: u.ID})
					})
				},
				remove: func(t *testing.T, id string) {
					mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteMembership(ctx, g.ID, id) })
				},
			}
			runChurn(t, fmt.Sprintf("ListMembers(sort %q, desc %v)", sc.column, sc.desc), c, store.ListQuery{Sort: sc.column, Desc: sc.desc}, ids(users, userID))
		}
	})
	t.Run("Groups", func(t *testing.T) {
		for _, desc := range []bool{false, true} {
			s := newStore(t)
			var initial []string
			gids := shuffledIDs(40)
			mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
				for i := range 40 {
					g := newSystemGroup(fmt.Sprintf("g%02d", i%35)) // a few names twice: system and project scope
					if i >= 35 {
						p := newProject(fmt.Sprintf("p%02d", i))
						if err := tx.CreateProject(ctx, p); err != nil {
							return err
						}
						g = newProjectGroup(g.Name, p.ID)
					}
					g.ID = gids[i]
					if err := tx.CreateGroup(ctx, g); err != nil {
						return err
					}
					initial = append(initial, g.ID)
				}
				return nil
			})
			c := churn[domain.Group]{
				list:  func(q store.ListQuery) (store.Page[domain.Group], error) { return s.ListGroups(ctx, q) },
				id:    groupID,
				order: groupOrder("name", desc),
				insert: func(t *testing.T, name string) {
					mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateGroup(ctx, newSystemGroup(name)) })
				},
				remove: func(t *testing.T, id string) {
					mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteGroup(ctx, id) })
				},
			}
			runChurn(t, fmt.Sprintf("ListGroups(desc %v)", desc), c, store.ListQuery{Sort: "name", Desc: desc}, initial)
		}
	})
	t.Run("Folders", func(t *testing.T) {
		s := newStore(t)
		var initial []string
		var parent *domain.Folder
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			ft := newFolderType("t")
			if err := tx.CreateFolderType(ctx, ft); err != nil {
				return err
			}
			parent = newFolder("parent", "", ft.ID)
			if err := tx.CreateFolder(ctx, parent); err != nil {
				return err
			}
			for i := range 30 {
				f := newFolder(fmt.Sprintf("f%02d", i), parent.ID, ft.ID)
				if err := tx.CreateFolder(ctx, f); err != nil {
					return err
				}
				initial = append(initial, f.ID)
			}
			return nil
		})
		c := churn[domain.Folder]{
			list: func(q store.ListQuery) (store.Page[domain.Folder], error) { return s.ListFolders(ctx, parent.ID, q) },
			id:   folderID,
			order: func(a, b domain.Folder) int {
				if a.Name != b.Name {
					return strings.Compare(a.Name, b.Name)
				}
				return strings.Compare(a.ID, b.ID)
			},
			insert: func(t *testing.T, name string) {
				mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
					return tx.CreateFolder(ctx, newFolder(name, parent.ID, parent.TypeID))
				})
			},
			remove: func(t *testing.T, id string) {
				mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteFolder(ctx, id) })
			},
		}
		runChurn(t, "ListFolders(parent)", c, store.ListQuery{}, initial)
	})
}
