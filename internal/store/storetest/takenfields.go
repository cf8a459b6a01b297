package storetest

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testTakenKeyFields checks that a taken unique key is KindExists naming
// the input field the key holds: "id" for an id taken, "username" or
// "name" for a name taken, whether equal, differing in case or looking
// alike (the skeleton keys), for every entity with such keys. The service
// words the clash from this field; without it, it would have to guess.
func testTakenKeyFields(t *testing.T, s store.Store) {
	d := makeDeps(t, s)
	nameField := map[string]string{"User": "username"}
	for _, k := range versionedKinds() {
		field := nameField[k.name]
		if field == "" {
			field = "name"
		}
		t.Run(k.name, func(t *testing.T) {
			id := domain.NewID()
			mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
				_, err := k.create(ctx, tx, d, id, "Taken"+k.name)
				return err
			})
			for _, c := range []struct {
				what, id, name, field string
			}{
				{"the same id", id, "Other" + k.name, "id"},
				{"the same name", "", "Taken" + k.name, field},
				{"the name in other case", "", "TAKEN" + k.name, field},
			} {
				expectField(t, s, k.name+" with "+c.what, c.field, func(ctx context.Context, tx store.Tx) error {
					_, err := k.create(ctx, tx, d, c.id, c.name)
					return err
				})
			}
		})
	}
	// The look-alike keys (skeletons) of usernames and of project, group
	// and role names.
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, err := range []error{tx.CreateUser(ctx, newUser("admin")), tx.CreateProject(ctx, newProject("ONCO")),
			tx.CreateGroup(ctx, newSystemGroup("Staff")), tx.CreateRole(ctx, newRole("Auditor", domain.ScopeSystem))} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range []struct {
		what, field string
		op          func(ctx context.Context, tx store.Tx) error
	}{
		{"a username with a Cyrillic а", "username", func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, newUser("\u0430dmin")) }},
		{"a project name with a Greek Ο", "name", func(ctx context.Context, tx store.Tx) error { return tx.CreateProject(ctx, newProject("\u039fNCO")) }},
		{"a group name with a Cyrillic Ѕ", "name", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateGroup(ctx, newSystemGroup("\u0405taff"))
		}},
		{"a role name with a Cyrillic о", "name", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateRole(ctx, newRole("Audit\u043er", domain.ScopeSystem))
		}},
	} {
		expectField(t, s, c.what, c.field, c.op)
	}
}

// expectField runs op, expecting KindExists naming field.
func expectField(t *testing.T, s store.Store, what, field string, op func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	var opErr error
	_, _ = s.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
		opErr = op(ctx, tx)
		if opErr == nil {
			return errRollback
		}
		return opErr
	})
	fs := domain.FieldsOf(opErr)
	if !domain.Is(opErr, domain.KindExists) || len(fs) != 1 || fs[0].Field != field {
		t.Errorf("%s: got %v (kind %v, fields %v), want KindExists naming %s", what, opErr, domain.KindOf(opErr), fs, field)
	}
}
