package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// tracelessState is what a rolled-back transaction must leave unchanged:
// the revision and the number of audit records.
type tracelessState struct {
	rev    int64
	audits int
}

func stateOf(t *testing.T, s store.Store) tracelessState {
	t.Helper()
	return tracelessState{rev: revision(t, s), audits: len(allAudit(t, s, store.AuditQuery{}))}
}

// writeSeveral writes a user, a group, a membership and a setting and
// records two audit events.
func writeSeveral(ctx context.Context, t *testing.T, tx store.Tx) error {
	u, g := newUser("ghost"), newSystemGroup("ghosts")
	u.ID, g.ID = ghostUser, ghostGroup
	for _, err := range []error{
		tx.CreateUser(ctx, u), tx.CreateGroup(ctx, g),
		tx.PutMembership(ctx, &domain.Membership{GroupID: g.ID, UserID: u.ID}),
		tx.PutSetting(ctx, &domain.Setting{Key: "ghost", Value: "boo"}),
		tx.Audit(ctx, auditEvent("ghost.first")),
		tx.Audit(ctx, auditEvent("ghost.second")),
	} {
		if err != nil {
			t.Errorf("write inside the transaction: %v", err)
			return err
		}
	}
	if _, err := tx.GetUser(ctx, u.ID); err != nil {
		t.Errorf("GetUser inside the transaction that created the user: %v, want the transaction's own write", err)
	}
	return nil
}

const (
	ghostUser  = "00000000-0000-7000-8000-00000000f001"
	ghostGroup = "00000000-0000-7000-8000-00000000f002"
)

// checkTraceless checks that nothing writeSeveral wrote in a rolled-back
// transaction is visible, that the revision, change log and audit log did
// not move, and that the store still commits the next revision.
func checkTraceless(t *testing.T, s store.Store, before tracelessState) {
	t.Helper()
	ctx := context.Background()
	if after := stateOf(t, s); after != before {
		t.Errorf("after a rolled-back transaction: revision %d and %d audit events, want %d and %d unchanged", after.rev, after.audits, before.rev, before.audits)
	}
	if chs := changesSince(t, s, before.rev); len(chs) != 0 {
		t.Errorf("ReadChanges after a rolled-back transaction returned %d changes, want none", len(chs))
	}
	_, err := s.GetUser(ctx, ghostUser)
	wantKind(t, err, domain.KindNotFound, "GetUser of a user created in a rolled-back transaction")
	_, err = s.GetUserByUsername(ctx, "ghost")
	wantKind(t, err, domain.KindNotFound, "GetUserByUsername of a user created in a rolled-back transaction")
	_, err = s.GetGroup(ctx, ghostGroup)
	wantKind(t, err, domain.KindNotFound, "GetGroup of a group created in a rolled-back transaction")
	_, err = s.GetMembership(ctx, ghostGroup, ghostUser)
	wantKind(t, err, domain.KindNotFound, "GetMembership created in a rolled-back transaction")
	_, err = s.GetSetting(ctx, "ghost")
	wantKind(t, err, domain.KindNotFound, "GetSetting put in a rolled-back transaction")
	for _, a := range []string{"ghost.first", "ghost.second"} {
		if evs := allAudit(t, s, store.AuditQuery{Action: a}); len(evs) != 0 {
			t.Errorf("ListAudit(action %s) after a rolled-back transaction = %d events, want none", a, len(evs))
		}
	}
	// The store is still usable and the next revision follows on.
	ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, newUser("after-rollback")) })
	if ch.Revision != before.rev+1 {
		t.Errorf("the first commit after a rolled-back transaction got revision %d, want %d", ch.Revision, before.rev+1)
	}
}

func testTransactions(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	seed := func(t *testing.T, s store.Store) {
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, newUser("seed")) })
	}

	t.Run("ErrorRollsBack", func(t *testing.T) {
		s := newStore(t)
		seed(t, s)
		before := stateOf(t, s)
		sentinel := errors.New("closure failed")
		_, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := writeSeveral(ctx, t, tx); err != nil {
				return err
			}
			return sentinel
		})
		if !errors.Is(err, sentinel) {
			t.Errorf("InTx whose closure returned %v: got %v, want the closure's error (errors.Is)", sentinel, err)
		}
		checkTraceless(t, s, before)
	})

	t.Run("ContextEndedIsUnavailable", func(t *testing.T) {
		// net/http cancels a request's context when its client goes
		// away; the transaction in flight must roll back and say the
		// store was unavailable to it (503), never KindOther (500).
		s := newStore(t)
		seed(t, s)
		before := stateOf(t, s)
		cctx, cancel := context.WithCancel(ctx)
		_, err := s.InTx(cctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateUser(ctx, newUser("half")); err != nil {
				return err
			}
			cancel()
			if err := tx.CreateGroup(ctx, newSystemGroup("half")); err != nil {
				return err
			}
			return tx.Audit(ctx, auditEvent("half"))
		})
		wantKind(t, err, domain.KindUnavailable, "InTx whose context was cancelled halfway")
		checkTraceless(t, s, before)
		_, err = s.GetUserByUsername(ctx, "half")
		wantKind(t, err, domain.KindNotFound, "GetUserByUsername of a user created before the context was cancelled")
		_, err = s.InTx(cctx, func(ctx context.Context, tx store.Tx) error { return tx.Audit(ctx, auditEvent("late")) })
		wantKind(t, err, domain.KindUnavailable, "InTx begun with a cancelled context")
	})

	t.Run("DomainErrorKindKept", func(t *testing.T) {
		s := newStore(t)
		_, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			return domain.E("service.Test", domain.KindForbidden)
		})
		wantKind(t, err, domain.KindForbidden, "InTx whose closure returned a KindForbidden error")
	})

	t.Run("PanicRollsBack", func(t *testing.T) {
		s := newStore(t)
		seed(t, s)
		before := stateOf(t, s)
		type boom struct{ msg string }
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			_, _ = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				_ = writeSeveral(ctx, t, tx)
				panic(boom{"closure panicked"})
			})
		}()
		if recovered != (boom{"closure panicked"}) {
			t.Errorf("InTx whose closure panicked: recovered %v, want the closure's panic value re-raised", recovered)
		}
		checkTraceless(t, s, before)
	})

	t.Run("R29_AuditRequired", func(t *testing.T) {
		s := newStore(t)
		seed(t, s)
		before := stateOf(t, s)
		_, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			u, g := newUser("ghost"), newSystemGroup("ghosts")
			u.ID, g.ID = ghostUser, ghostGroup
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			return tx.CreateGroup(ctx, g)
		})
		wantKind(t, err, domain.KindInvalid, "InTx with writes and no audit record (R29)")
		checkTraceless(t, s, before)
	})

	t.Run("AuditOnly", func(t *testing.T) {
		s := newStore(t)
		check := func(action string) {
			t.Helper()
			rev := revision(t, s)
			ch, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				e := auditEvent(action)
				e.Outcome = domain.OutcomeDenied
				e.Detail = "refused: missing groups.edit"
				return tx.Audit(ctx, e)
			})
			noErr(t, err, "InTx with only an audit record")
			if ch.Revision != 0 || len(ch.Mutations) != 0 {
				t.Errorf("InTx with only an audit record returned revision %d with %d mutations, want revision 0 and none", ch.Revision, len(ch.Mutations))
			}
			if r := revision(t, s); r != rev {
				t.Errorf("Revision after an audit-only transaction = %d, want %d unchanged", r, rev)
			}
			if chs := changesSince(t, s, rev); len(chs) != 0 {
				t.Errorf("ReadChanges after an audit-only transaction returned %d changes, want none", len(chs))
			}
			evs := allAudit(t, s, store.AuditQuery{Action: action})
			if len(evs) != 1 {
				t.Fatalf("ListAudit(action %s) = %d events, want the audit-only record stored", action, len(evs))
			}
			if evs[0].Revision != rev || evs[0].Outcome != domain.OutcomeDenied {
				t.Errorf("audit-only record: revision %d outcome %q, want the current revision %d and outcome denied", evs[0].Revision, evs[0].Outcome, rev)
			}
		}
		check("refused.on_empty_store")
		seed(t, s)
		seed2 := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, newUser("seed2")) })
		if seed2.Revision != 2 {
			t.Errorf("second commit after an audit-only transaction got revision %d, want 2", seed2.Revision)
		}
		check("refused.after_two_changes")
	})

	t.Run("Nothing", func(t *testing.T) {
		s := newStore(t)
		ch, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return nil })
		noErr(t, err, "InTx with an empty closure")
		if ch.Revision != 0 || len(ch.Mutations) != 0 {
			t.Errorf("InTx with an empty closure returned revision %d with %d mutations, want revision 0 and none", ch.Revision, len(ch.Mutations))
		}
		if r := revision(t, s); r != 0 {
			t.Errorf("Revision after an empty transaction = %d, want 0", r)
		}
	})

	t.Run("ReadsSeeOwnWrites", func(t *testing.T) {
		s := newStore(t)
		g := newSystemGroup("old")
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateGroup(ctx, g) })
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			u := newUser("Fresh")
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if got, err := tx.GetUserByUsername(ctx, "fresh"); err != nil || got.ID != u.ID {
				t.Errorf("tx.GetUserByUsername of a user created in the transaction = %q, %v; want %q", got.ID, err, u.ID)
			}
			p, err := tx.ListUsers(ctx, store.ListQuery{})
			if err != nil || len(p.Items) != 1 {
				t.Errorf("tx.ListUsers in the transaction that created the only user = %d users, %v; want 1", len(p.Items), err)
			}
			if err := tx.DeleteGroup(ctx, g.ID); err != nil {
				return err
			}
			_, err = tx.GetGroup(ctx, g.ID)
			wantKind(t, err, domain.KindNotFound, "tx.GetGroup of a group deleted in the transaction")
			return nil
		})
	})
}

// testChangeLog checks the Change InTx returns and ReadChanges: revision,
// mutations in order holding the objects as stored, actor, and paging.
func testChangeLog(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	t.Run("Mutations", func(t *testing.T) {
		s := newStore(t)
		actor := newUser("actor")
		gone := newSystemGroup("to-delete")
		mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateUser(ctx, actor); err != nil {
				return err
			}
			return tx.CreateGroup(ctx, gone)
		})
		rev := revision(t, s)
		var want []domain.Mutation
		put := func(e domain.Entity, m domain.Mutation) {
			m.Op, m.Entity = domain.OpPut, e
			want = append(want, m)
		}
		var (
			u  = newUser("logged")
			p  = newProject("p")
			g  = newSystemGroup("g")
			ft = newFolderType("t")
			r  = newRole("r", domain.ScopeProject)
		)
		var f *domain.Folder
		var rule *domain.Rule
		ch, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			steps := []func() error{
				func() error {
					err := tx.CreateUser(ctx, u)
					put(domain.EntityUser, domain.Mutation{User: ptr(*u)})
					return err
				},
				func() error {
					err := tx.CreateProject(ctx, p)
					put(domain.EntityProject, domain.Mutation{Project: ptr(*p)})
					return err
				},
				func() error {
					err := tx.CreateGroup(ctx, g)
					put(domain.EntityGroup, domain.Mutation{Group: ptr(*g)})
					return err
				},
				func() error {
					m := &domain.Membership{GroupID: g.ID, UserID: u.ID}
					err := tx.PutMembership(ctx, m)
					put(domain.EntityMembership, domain.Mutation{Membership: m})
					return err
				},
				func() error {
					err := tx.CreateRole(ctx, r)
					put(domain.EntityRole, domain.Mutation{Role: ptr(*r)})
					return err
				},
				func() error {
					pg := &domain.ProjectGrant{ProjectID: p.ID, SubjectKind: domain.SubjectGroup, SubjectID: g.ID, RoleID: r.ID}
					err := tx.PutProjectGrant(ctx, pg)
					put(domain.EntityProjectGrant, domain.Mutation{ProjectGrant: pg})
					return err
				},
				func() error {
					dg := &domain.DomainGrant{GroupID: g.ID, Domain: "hospital"}
					err := tx.PutDomainGrant(ctx, dg)
					put(domain.EntityDomainGrant, domain.Mutation{DomainGrant: dg})
					return err
				},
				func() error {
					err := tx.CreateFolderType(ctx, ft)
					put(domain.EntityFolderType, domain.Mutation{FolderType: ptr(*ft)})
					return err
				},
				func() error {
					f = newFolder("f", "", ft.ID)
					f.Properties = map[string]string{"site": "x"}
					err := tx.CreateFolder(ctx, f)
					put(domain.EntityFolder, domain.Mutation{Folder: ptr(*f)})
					return err
				},
				func() error {
					l := &domain.FolderLevel{FolderID: f.ID, GroupID: g.ID, Level: domain.LevelUpload}
					err := tx.PutFolderLevel(ctx, l)
					put(domain.EntityFolderLevel, domain.Mutation{FolderLevel: l})
					return err
				},
				func() error {
					rule = newRule("rule", g.ID, ft.ID)
					err := tx.CreateRule(ctx, rule)
					put(domain.EntityRule, domain.Mutation{Rule: ptr(*rule)})
					return err
				},
				func() error {
					st := &domain.Setting{Key: "k", Value: "v"}
					err := tx.PutSetting(ctx, st)
					put(domain.EntitySetting, domain.Mutation{Setting: st})
					return err
				},
				func() error {
					u.DisplayName = "updated in the same transaction"
					err := tx.UpdateUser(ctx, u)
					put(domain.EntityUser, domain.Mutation{User: ptr(*u)})
					return err
				},
				func() error {
					err := tx.DeleteGroup(ctx, gone.ID)
					want = append(want, domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityGroup, Group: &domain.Group{ID: gone.ID}})
					return err
				},
				func() error {
					e := auditEvent("changelog.write")
					e.ActorID, e.ActorName = actor.ID, actor.Username
					return tx.Audit(ctx, e)
				},
			}
			for _, step := range steps {
				if err := step(); err != nil {
					return err
				}
			}
			return nil
		})
		noErr(t, err, "InTx")
		if ch.Revision != rev+1 {
			t.Errorf("Change.Revision = %d, want %d (the next revision)", ch.Revision, rev+1)
		}
		if ch.ActorID != actor.ID {
			t.Errorf("Change.ActorID = %q, want %q (the actor of the transaction's audit record)", ch.ActorID, actor.ID)
		}
		checkStoreTime(t, "Change.At", ch.At)
		// Fill in what Put* set on objects the store does not write back:
		// the stored membership's CreatedAt and the grant's UpdatedAt.
		m, err := s.GetMembership(ctx, g.ID, u.ID)
		noErr(t, err, "GetMembership")
		want[3].Membership = &m
		pg, err := s.GetProjectGrant(ctx, p.ID, domain.SubjectGroup, g.ID)
		noErr(t, err, "GetProjectGrant")
		want[5].ProjectGrant = &pg
		// Everything put is stored as the mutation says.
		gotUser, err := s.GetUser(ctx, u.ID)
		noErr(t, err, "GetUser")
		if d := diff(gotUser, *want[12].User); d != "" {
			t.Errorf("GetUser differs from the last mutation of the user (-mutation +stored):\n%s", d)
		}
		if want[12].User.Version != 2 {
			t.Errorf("user created and updated in one transaction: Version %d, want 2", want[12].User.Version)
		}
		// Delete mutations hold at least the key.
		ignoreDeleted := cmpopts.IgnoreFields(domain.Group{}, "Name", "Description", "Scope", "ProjectID", "Builtin", "SystemRoleID",
			"SystemPermissions", "DefaultProjectRoleID", "DefaultProjectPermissions", "CreatedAt", "UpdatedAt", "Version")
		if len(ch.Mutations) != len(want) {
			var got, exp []string
			for _, m := range ch.Mutations {
				got = append(got, string(m.Op)+" "+string(m.Entity))
			}
			for _, m := range want {
				exp = append(exp, string(m.Op)+" "+string(m.Entity))
			}
			t.Fatalf("InTx: mutations %v, want %v in the order written", got, exp)
		}
		for i := range want {
			var extra []cmp.Option
			if want[i].Op == domain.OpDelete {
				extra = append(extra, ignoreDeleted)
			}
			if d := diff(ch.Mutations[i], want[i], extra...); d != "" {
				t.Errorf("mutation %d (%s %s) differs from the object as stored (-want +got):\n%s", i, want[i].Op, want[i].Entity, d)
			}
		}
		chs, err := s.ReadChanges(ctx, rev, 0)
		noErr(t, err, "ReadChanges")
		if len(chs) != 1 {
			t.Fatalf("ReadChanges(%d) = %d changes, want 1", rev, len(chs))
		}
		if d := diff(chs[0], ch); d != "" {
			t.Errorf("ReadChanges returned a change that differs from the one InTx returned (-InTx +ReadChanges):\n%s", d)
		}
		evs := allAudit(t, s, store.AuditQuery{Action: "changelog.write"})
		if len(evs) != 1 || evs[0].Revision != ch.Revision {
			t.Errorf("audit record of the transaction: %d records, want 1 stamped with revision %d", len(evs), ch.Revision)
		}
	})

	t.Run("ReadChanges", func(t *testing.T) {
		s := newStore(t)
		var committed []domain.Change
		for i := range 6 {
			ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
				return tx.PutSetting(ctx, &domain.Setting{Key: "k", Value: string(rune('a' + i))})
			})
			if ch.Revision != int64(i+1) {
				t.Errorf("commit %d got revision %d, want %d", i+1, ch.Revision, i+1)
			}
			committed = append(committed, ch)
		}
		cases := []struct {
			since int64
			limit int
			want  []domain.Change
		}{
			{0, 0, committed},
			{0, 1000, committed},
			{0, 1, committed[:1]},
			{2, 2, committed[2:4]},
			{4, 10, committed[4:]},
			{5, -1, committed[5:]},
			{6, 10, nil},
			{100, 10, nil},
		}
		for _, c := range cases {
			got, err := s.ReadChanges(ctx, c.since, c.limit)
			noErr(t, err, "ReadChanges")
			if d := diff(got, c.want); d != "" {
				t.Errorf("ReadChanges(since %d, limit %d): (-want +got):\n%s", c.since, c.limit, d)
			}
		}
		if r := revision(t, s); r != 6 {
			t.Errorf("Revision = %d, want 6", r)
		}
	})
}
