package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// stamps are the fields the store sets on a versioned object.
type stamps struct {
	ID        string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// deps are objects that other objects reference.
type deps struct {
	projectID, groupID, typeID, roleID string
}

func makeDeps(t *testing.T, s store.Store) deps {
	t.Helper()
	var d deps
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		p, g, ft, r := newProject("deps-project"), newSystemGroup("deps-group"), newFolderType("deps-type"), newRole("deps-role", domain.ScopeSystem)
		for _, err := range []error{tx.CreateProject(ctx, p), tx.CreateGroup(ctx, g), tx.CreateFolderType(ctx, ft), tx.CreateRole(ctx, r)} {
			if err != nil {
				return err
			}
		}
		d = deps{projectID: p.ID, groupID: g.ID, typeID: ft.ID, roleID: r.ID}
		return nil
	})
	return d
}

// versionedKind adapts one versioned entity to the shared tests of
// Create, Update and Delete.
type versionedKind struct {
	name string
	// create creates a new object named name with the given id ("" for
	// one the store assigns) and returns the stamps written back.
	create func(ctx context.Context, tx store.Tx, d deps, id, name string) (stamps, error)
	get    func(ctx context.Context, r store.Reader, id string) (stamps, error)
	// update loads id (or builds a fresh object if it does not exist),
	// sets Version to version, changes a field and updates it.
	update func(ctx context.Context, tx store.Tx, d deps, id string, version int64) (stamps, error)
	del    func(ctx context.Context, tx store.Tx, id string) error
}

func versionedKinds() []versionedKind {
	return []versionedKind{
		{
			name: "User",
			create: func(ctx context.Context, tx store.Tx, d deps, id, name string) (stamps, error) {
				u := newUser(name)
				u.ID = id
				err := tx.CreateUser(ctx, u)
				return stamps{u.ID, u.CreatedAt, u.UpdatedAt, u.Version}, err
			},
			get: func(ctx context.Context, r store.Reader, id string) (stamps, error) {
				u, err := r.GetUser(ctx, id)
				return stamps{u.ID, u.CreatedAt, u.UpdatedAt, u.Version}, err
			},
			update: func(ctx context.Context, tx store.Tx, d deps, id string, version int64) (stamps, error) {
				u, err := tx.GetUser(ctx, id)
				if domain.Is(err, domain.KindNotFound) {
					u, err = *newUser("fresh-" + id), nil
					u.ID = id
				}
				if err != nil {
					return stamps{}, err
				}
				u.Version = version
				u.DisplayName = "changed"
				err = tx.UpdateUser(ctx, &u)
				return stamps{u.ID, u.CreatedAt, u.UpdatedAt, u.Version}, err
			},
			del: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteUser(ctx, id) },
		},
		{
			name: "Project",
			create: func(ctx context.Context, tx store.Tx, d deps, id, name string) (stamps, error) {
				p := newProject(name)
				p.ID = id
				err := tx.CreateProject(ctx, p)
				return stamps{p.ID, p.CreatedAt, p.UpdatedAt, p.Version}, err
			},
			get: func(ctx context.Context, r store.Reader, id string) (stamps, error) {
				p, err := r.GetProject(ctx, id)
				return stamps{p.ID, p.CreatedAt, p.UpdatedAt, p.Version}, err
			},
			update: func(ctx context.Context, tx store.Tx, d deps, id string, version int64) (stamps, error) {
				p, err := tx.GetProject(ctx, id)
				if domain.Is(err, domain.KindNotFound) {
					p, err = *newProject("fresh-" + id), nil
					p.ID = id
				}
				if err != nil {
					return stamps{}, err
				}
				p.Version = version
				p.Description = "changed"
				err = tx.UpdateProject(ctx, &p)
				return stamps{p.ID, p.CreatedAt, p.UpdatedAt, p.Version}, err
			},
			del: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteProject(ctx, id) },
		},
		{
			name: "Group",
			create: func(ctx context.Context, tx store.Tx, d deps, id, name string) (stamps, error) {
				g := newProjectGroup(name, d.projectID)
				g.ID = id
				err := tx.CreateGroup(ctx, g)
				return stamps{g.ID, g.CreatedAt, g.UpdatedAt, g.Version}, err
			},
			get: func(ctx context.Context, r store.Reader, id string) (stamps, error) {
				g, err := r.GetGroup(ctx, id)
				return stamps{g.ID, g.CreatedAt, g.UpdatedAt, g.Version}, err
			},
			update: func(ctx context.Context, tx store.Tx, d deps, id string, version int64) (stamps, error) {
				g, err := tx.GetGroup(ctx, id)
				if domain.Is(err, domain.KindNotFound) {
					g, err = *newProjectGroup("fresh-"+id, d.projectID), nil
					g.ID = id
				}
				if err != nil {
					return stamps{}, err
				}
				g.Version = version
				g.Description = "changed"
				err = tx.UpdateGroup(ctx, &g)
				return stamps{g.ID, g.CreatedAt, g.UpdatedAt, g.Version}, err
			},
			del: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteGroup(ctx, id) },
		},
		{
			name: "Role",
			create: func(ctx context.Context, tx store.Tx, d deps, id, name string) (stamps, error) {
				r := newRole(name, domain.ScopeProject)
				r.ID = id
				err := tx.CreateRole(ctx, r)
				return stamps{r.ID, r.CreatedAt, r.UpdatedAt, r.Version}, err
			},
			get: func(ctx context.Context, rd store.Reader, id string) (stamps, error) {
				r, err := rd.GetRole(ctx, id)
				return stamps{r.ID, r.CreatedAt, r.UpdatedAt, r.Version}, err
			},
			update: func(ctx context.Context, tx store.Tx, d deps, id string, version int64) (stamps, error) {
				r, err := tx.GetRole(ctx, id)
				if domain.Is(err, domain.KindNotFound) {
					r, err = *newRole("fresh-"+id, domain.ScopeProject), nil
					r.ID = id
				}
				if err != nil {
					return stamps{}, err
				}
				r.Version = version
				r.Description = "changed"
				err = tx.UpdateRole(ctx, &r)
				return stamps{r.ID, r.CreatedAt, r.UpdatedAt, r.Version}, err
			},
			del: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteRole(ctx, id) },
		},
		{
			name: "FolderType",
			create: func(ctx context.Context, tx store.Tx, d deps, id, name string) (stamps, error) {
				ft := newFolderType(name)
				ft.ID = id
				err := tx.CreateFolderType(ctx, ft)
				return stamps{ft.ID, ft.CreatedAt, ft.UpdatedAt, ft.Version}, err
			},
			get: func(ctx context.Context, r store.Reader, id string) (stamps, error) {
				ft, err := r.GetFolderType(ctx, id)
				return stamps{ft.ID, ft.CreatedAt, ft.UpdatedAt, ft.Version}, err
			},
			update: func(ctx context.Context, tx store.Tx, d deps, id string, version int64) (stamps, error) {
				ft, err := tx.GetFolderType(ctx, id)
				if domain.Is(err, domain.KindNotFound) {
					ft, err = *newFolderType("fresh-" + id), nil
					ft.ID = id
				}
				if err != nil {
					return stamps{}, err
				}
				ft.Version = version
				ft.Properties = append(ft.Properties, "zz_changed")
				err = tx.UpdateFolderType(ctx, &ft)
				return stamps{ft.ID, ft.CreatedAt, ft.UpdatedAt, ft.Version}, err
			},
			del: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteFolderType(ctx, id) },
		},
		{
			name: "Folder",
			create: func(ctx context.Context, tx store.Tx, d deps, id, name string) (stamps, error) {
				f := newFolder(name, "", d.typeID)
				f.ID = id
				err := tx.CreateFolder(ctx, f)
				return stamps{f.ID, f.CreatedAt, f.UpdatedAt, f.Version}, err
			},
			get: func(ctx context.Context, r store.Reader, id string) (stamps, error) {
				f, err := r.GetFolder(ctx, id)
				return stamps{f.ID, f.CreatedAt, f.UpdatedAt, f.Version}, err
			},
			update: func(ctx context.Context, tx store.Tx, d deps, id string, version int64) (stamps, error) {
				f, err := tx.GetFolder(ctx, id)
				if domain.Is(err, domain.KindNotFound) {
					f, err = *newFolder("fresh-"+id, "", d.typeID), nil
					f.ID = id
				}
				if err != nil {
					return stamps{}, err
				}
				f.Version = version
				f.Properties = map[string]string{"site": "changed"}
				err = tx.UpdateFolder(ctx, &f)
				return stamps{f.ID, f.CreatedAt, f.UpdatedAt, f.Version}, err
			},
			del: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteFolder(ctx, id) },
		},
		{
			name: "Rule",
			create: func(ctx context.Context, tx store.Tx, d deps, id, name string) (stamps, error) {
				r := newRule(name, d.groupID, d.typeID)
				r.ID = id
				err := tx.CreateRule(ctx, r)
				return stamps{r.ID, r.CreatedAt, r.UpdatedAt, r.Version}, err
			},
			get: func(ctx context.Context, rd store.Reader, id string) (stamps, error) {
				r, err := rd.GetRule(ctx, id)
				return stamps{r.ID, r.CreatedAt, r.UpdatedAt, r.Version}, err
			},
			update: func(ctx context.Context, tx store.Tx, d deps, id string, version int64) (stamps, error) {
				r, err := tx.GetRule(ctx, id)
				if domain.Is(err, domain.KindNotFound) {
					r, err = *newRule("fresh-"+id, d.groupID, d.typeID), nil
					r.ID = id
				}
				if err != nil {
					return stamps{}, err
				}
				r.Version = version
				r.Grants = map[string][]string{domain.ContextRoot: {"edit", "read"}}
				err = tx.UpdateRule(ctx, &r)
				return stamps{r.ID, r.CreatedAt, r.UpdatedAt, r.Version}, err
			},
			del: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteRule(ctx, id) },
		},
	}
}

// testVersioned checks, for every versioned entity, what Create, Update and
// Delete promise: Create sets CreatedAt, UpdatedAt and Version 1 and
// assigns an id when empty; Update needs the stored Version (else
// KindConflict), bumps it and UpdatedAt and writes both back; Update and
// Delete of a missing object are KindNotFound.
func testVersioned(t *testing.T, newStore NewStore) {
	for _, k := range versionedKinds() {
		t.Run(k.name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			d := makeDeps(t, s)

			var created stamps
			before := time.Now()
			mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
				var err error
				created, err = k.create(ctx, tx, d, "", "first")
				return err
			})
			if created.ID == "" {
				t.Errorf("Create with an empty ID: ID is still empty, want one from domain.NewID")
			}
			if created.Version != 1 {
				t.Errorf("Create: Version = %d, want 1", created.Version)
			}
			checkStoreTime(t, "Create: CreatedAt", created.CreatedAt)
			checkStoreTime(t, "Create: UpdatedAt", created.UpdatedAt)
			if created.CreatedAt.Before(utc(before).Add(-time.Minute)) {
				t.Errorf("Create: CreatedAt = %v, want after the test began (%v)", created.CreatedAt, before.UTC())
			}

			got, err := k.get(ctx, s, created.ID)
			noErr(t, err, "Get after Create")
			if d := diff(got, created); d != "" {
				t.Errorf("Get after Create: stamps differ from those Create wrote back (-want +got):\n%s", d)
			}

			explicit := domain.NewID()
			mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
				st, err := k.create(ctx, tx, d, explicit, "second")
				if err == nil && st.ID != explicit {
					t.Errorf("Create with ID %q: ID = %q, want the caller's id kept", explicit, st.ID)
				}
				return err
			})
			if _, err := k.get(ctx, s, explicit); err != nil {
				t.Errorf("Get(%q) of an object created with that id: %v", explicit, err)
			}

			var updated stamps
			mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
				var err error
				updated, err = k.update(ctx, tx, d, created.ID, 1)
				return err
			})
			if updated.Version != 2 {
				t.Errorf("Update: written-back Version = %d, want 2", updated.Version)
			}
			checkStoreTime(t, "Update: UpdatedAt", updated.UpdatedAt)
			if updated.UpdatedAt.Before(created.UpdatedAt) {
				t.Errorf("Update: UpdatedAt = %v, want at or after the previous UpdatedAt %v", updated.UpdatedAt, created.UpdatedAt)
			}
			got, err = k.get(ctx, s, created.ID)
			noErr(t, err, "Get after Update")
			if got.Version != 2 {
				t.Errorf("Get after Update: Version = %d, want 2", got.Version)
			}
			if !got.UpdatedAt.Equal(updated.UpdatedAt) {
				t.Errorf("Get after Update: UpdatedAt = %v, want the one written back, %v", got.UpdatedAt, updated.UpdatedAt)
			}
			if !got.CreatedAt.Equal(created.CreatedAt) {
				t.Errorf("Get after Update: CreatedAt = %v, want it unchanged, %v", got.CreatedAt, created.CreatedAt)
			}

			expectKind(t, s, domain.KindConflict, "Update with stale Version 1 (stored 2)", func(ctx context.Context, tx store.Tx) error {
				_, err := k.update(ctx, tx, d, created.ID, 1)
				return err
			})
			expectKind(t, s, domain.KindConflict, "Update with Version 3 (stored 2)", func(ctx context.Context, tx store.Tx) error {
				_, err := k.update(ctx, tx, d, created.ID, 3)
				return err
			})
			if got, err := k.get(ctx, s, created.ID); err != nil || got.Version != 2 {
				t.Errorf("Get after refused Updates: Version %d, error %v; want Version 2", got.Version, err)
			}
			expectKind(t, s, domain.KindNotFound, "Update of a missing object", func(ctx context.Context, tx store.Tx) error {
				_, err := k.update(ctx, tx, d, domain.NewID(), 1)
				return err
			})

			mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return k.del(ctx, tx, created.ID) })
			_, err = k.get(ctx, s, created.ID)
			wantKind(t, err, domain.KindNotFound, "Get after Delete")
			expectKind(t, s, domain.KindNotFound, "Delete of a deleted object", func(ctx context.Context, tx store.Tx) error {
				return k.del(ctx, tx, created.ID)
			})
			_, err = k.get(ctx, s, domain.NewID())
			wantKind(t, err, domain.KindNotFound, "Get of an id never used")
			if _, err := k.get(ctx, s, explicit); err != nil {
				t.Errorf("Get(%q) after deleting another object: %v, want it kept", explicit, err)
			}
		})
	}
}
