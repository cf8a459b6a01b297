// Package sqltest holds the tests of the SQL backends' own machinery
// (revision counter, error mapping by code, migrations, Ping, cascades,
// password hashes) that both the SQLite and the PostgreSQL backend run.
// The contract as a whole is tested by store/storetest.
package sqltest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Backend is what the tests need of a SQL backend.
type Backend interface {
	store.Store
	Migrate(ctx context.Context) error
}

// Run runs every test. open returns a fresh migrated store; openRaw
// returns a fresh store whose schema was never migrated.
func Run(t *testing.T, open func(t *testing.T) Backend, openRaw func(t *testing.T) Backend) {
	t.Run("Revisions", func(t *testing.T) { testRevisions(t, open(t)) })
	t.Run("ErrorKinds", func(t *testing.T) { testErrorKinds(t, open(t)) })
	t.Run("FolderSubtree", func(t *testing.T) { testFolderSubtree(t, open(t)) })
	t.Run("DeepSubtree", func(t *testing.T) { testDeepSubtree(t, open(t)) })
	t.Run("WritersSerialize", func(t *testing.T) { testWritersSerialize(t, open(t)) })
	t.Run("PasswordHash", func(t *testing.T) { testPasswordHash(t, open(t)) })
	t.Run("Search", func(t *testing.T) { testSearch(t, open(t)) })
	t.Run("PingOlderSchema", func(t *testing.T) { testPingOlderSchema(t, open(t)) })
	t.Run("PingAfterClose", func(t *testing.T) {
		// Close closes every pool, the read pool too: a server shutting
		// down reports itself unavailable instead of answering reads.
		db := open(t)
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := db.Ping(context.Background()); err == nil {
			t.Fatalf("Ping after Close = nil, want an error")
		}
	})
	t.Run("MigrateTwice", func(t *testing.T) {
		db := open(t)
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("Ping after second Migrate: %v", err)
		}
	})
	t.Run("PingUnmigrated", func(t *testing.T) {
		db := openRaw(t)
		ctx := context.Background()
		if err := db.Ping(ctx); !domain.Is(err, domain.KindUnavailable) || !strings.Contains(err.Error(), "run gatehouse migrate") {
			t.Fatalf("Ping on an unmigrated database = %v, want kind unavailable telling to run gatehouse migrate", err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("Ping after Migrate = %v, want nil", err)
		}
	})
}

var ctx = context.Background()

func audit(ctx context.Context, tx store.Tx, action string) error {
	return tx.Audit(ctx, &domain.AuditEvent{ActorID: "actor", ActorName: "tester", Action: action, Outcome: domain.OutcomeSuccess})
}

func mustTx(t *testing.T, db store.Store, fn func(tx store.Tx) error) domain.Change {
	t.Helper()
	ch, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return audit(ctx, tx, "test")
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	return ch
}

func wantKind(t *testing.T, what string, err error, k domain.Kind) {
	t.Helper()
	if got := domain.KindOf(err); got != k || err == nil {
		t.Errorf("%s: error %v (kind %v), want kind %v", what, err, got, k)
	}
}

func testRevisions(t *testing.T, db store.Store) {
	rev := func() int64 {
		t.Helper()
		r, err := db.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := rev(); r != 0 {
		t.Fatalf("new database revision = %d, want 0", r)
	}
	ch := mustTx(t, db, func(tx store.Tx) error {
		return tx.CreateProject(ctx, &domain.Project{Name: "P1", MembershipMode: domain.ModeMultiple})
	})
	if ch.Revision != 1 || len(ch.Mutations) != 1 || ch.ActorID != "actor" {
		t.Fatalf("first change = rev %d, %d mutations, actor %q; want 1, 1, actor", ch.Revision, len(ch.Mutations), ch.ActorID)
	}
	// A rolled-back transaction gives its number back.
	boom := errors.New("boom")
	_, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateProject(ctx, &domain.Project{Name: "P2", MembershipMode: domain.ModeMultiple}); err != nil {
			return err
		}
		_ = audit(ctx, tx, "x")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want the closure's error", err)
	}
	// Mutations without an audit event are refused.
	_, err = db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateProject(ctx, &domain.Project{Name: "P3", MembershipMode: domain.ModeMultiple})
	})
	wantKind(t, "mutation without audit", err, domain.KindInvalid)
	// Audit only: no new revision, the event carries the current one.
	ev := &domain.AuditEvent{ActorName: "x", Action: "denied", Outcome: domain.OutcomeDenied}
	ch, err = db.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.Audit(ctx, ev) })
	if err != nil || ch.Revision != 0 || ev.Revision != 1 {
		t.Fatalf("audit-only tx: change rev %d, event rev %d, err %v; want 0, 1, nil", ch.Revision, ev.Revision, err)
	}
	// A panic rolls back and is re-raised.
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("InTx swallowed the closure's panic")
			}
		}()
		_, _ = db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			_ = tx.CreateProject(ctx, &domain.Project{Name: "P4", MembershipMode: domain.ModeMultiple})
			_ = audit(ctx, tx, "x")
			panic("boom")
		})
	}()
	ch = mustTx(t, db, func(tx store.Tx) error {
		return tx.CreateProject(ctx, &domain.Project{Name: "P5", MembershipMode: domain.ModeMultiple})
	})
	if ch.Revision != 2 || rev() != 2 {
		t.Fatalf("after failures, next revision = %d (stored %d), want 2: failed transactions must leave no gap", ch.Revision, rev())
	}
	chs, err := db.ReadChanges(ctx, 0, 0)
	if err != nil || len(chs) != 2 || chs[0].Revision != 1 || chs[1].Revision != 2 || chs[1].Mutations[0].Project.Name != "P5" {
		t.Fatalf("ReadChanges = %+v, %v; want revisions 1 and 2", chs, err)
	}
	p, err := db.ListProjects(ctx, store.ListQuery{})
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("projects after rollbacks = %d (%v), want 2", len(p.Items), err)
	}
}

func testErrorKinds(t *testing.T, db store.Store) {
	u := &domain.User{Username: "Alice", Status: domain.UserActive, Source: domain.SourceLocal}
	mustTx(t, db, func(tx store.Tx) error { return tx.CreateUser(ctx, u) })
	role := &domain.Role{Name: "R", Scope: domain.ScopeSystem, Permissions: []string{domain.PermUsersView}, Deletable: true}
	mustTx(t, db, func(tx store.Tx) error { return tx.CreateRole(ctx, role) })

	try := func(fn func(tx store.Tx) error) error {
		_, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			return audit(ctx, tx, "x")
		})
		return err
	}
	wantKind(t, "username taken in other case", try(func(tx store.Tx) error {
		return tx.CreateUser(ctx, &domain.User{Username: "ALICE", Status: domain.UserActive, Source: domain.SourceLocal})
	}), domain.KindExists)
	wantKind(t, "duplicate id", try(func(tx store.Tx) error {
		return tx.CreateUser(ctx, &domain.User{ID: u.ID, Username: "bob", Status: domain.UserActive, Source: domain.SourceLocal})
	}), domain.KindExists)
	wantKind(t, "missing role reference", try(func(tx store.Tx) error {
		return tx.CreateUser(ctx, &domain.User{Username: "carol", Status: domain.UserActive, Source: domain.SourceLocal, SystemRoleID: domain.NewID()})
	}), domain.KindInvalid)
	wantKind(t, "bad status (CHECK)", try(func(tx store.Tx) error {
		return tx.CreateUser(ctx, &domain.User{Username: "dave", Status: "zombie", Source: domain.SourceLocal})
	}), domain.KindInvalid)
	stale := *u
	stale.Version = 7
	wantKind(t, "stale version", try(func(tx store.Tx) error { return tx.UpdateUser(ctx, &stale) }), domain.KindConflict)
	missing := *u
	missing.ID = domain.NewID()
	wantKind(t, "update missing", try(func(tx store.Tx) error { return tx.UpdateUser(ctx, &missing) }), domain.KindNotFound)

	held := *u
	held.SystemRoleID = role.ID
	mustTx(t, db, func(tx store.Tx) error { return tx.UpdateUser(ctx, &held) })
	err := try(func(tx store.Tx) error { return tx.DeleteRole(ctx, role.ID) })
	wantKind(t, "delete held role", err, domain.KindConflict)

	g := &domain.Group{Name: "G", Scope: domain.ScopeSystem}
	mustTx(t, db, func(tx store.Tx) error { return tx.CreateGroup(ctx, g) })
	pr := &domain.Project{Name: "P", MembershipMode: domain.ModeMultiple}
	mustTx(t, db, func(tx store.Tx) error { return tx.CreateProject(ctx, pr) })
	moved := *g
	moved.Scope, moved.ProjectID = domain.ScopeProject, pr.ID
	wantKind(t, "group scope change (R1)", try(func(tx store.Tx) error { return tx.UpdateGroup(ctx, &moved) }), domain.KindInvalid)
	wantKind(t, "membership of missing user", try(func(tx store.Tx) error {
		return tx.PutMembership(ctx, &domain.Membership{GroupID: g.ID, UserID: domain.NewID()})
	}), domain.KindInvalid)
	wantKind(t, "cursor garbage", func() error {
		_, err := db.ListUsers(ctx, store.ListQuery{Cursor: "!!"})
		return err
	}(), domain.KindInvalid)
	wantKind(t, "unknown sort", func() error {
		_, err := db.ListUsers(ctx, store.ListQuery{Sort: "password_hash"})
		return err
	}(), domain.KindInvalid)
}

func testFolderSubtree(t *testing.T, db store.Store) {
	g := &domain.Group{Name: "G", Scope: domain.ScopeSystem}
	var a, b, c, other domain.Folder
	mustTx(t, db, func(tx store.Tx) error {
		if err := tx.CreateFolderType(ctx, &domain.FolderType{ID: domain.FolderTypeFolderID, Name: "folder", Contexts: []string{"root"}}); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		a = domain.Folder{Name: "a", TypeID: domain.FolderTypeFolderID}
		if err := tx.CreateFolder(ctx, &a); err != nil {
			return err
		}
		b = domain.Folder{Name: "b", ParentID: a.ID, TypeID: domain.FolderTypeFolderID}
		if err := tx.CreateFolder(ctx, &b); err != nil {
			return err
		}
		c = domain.Folder{Name: "c", ParentID: b.ID, TypeID: domain.FolderTypeFolderID}
		if err := tx.CreateFolder(ctx, &c); err != nil {
			return err
		}
		other = domain.Folder{Name: "other", TypeID: domain.FolderTypeFolderID}
		if err := tx.CreateFolder(ctx, &other); err != nil {
			return err
		}
		for _, f := range []string{a.ID, b.ID, c.ID, other.ID} {
			if err := tx.PutFolderLevel(ctx, &domain.FolderLevel{FolderID: f, GroupID: g.ID, Level: domain.LevelView}); err != nil {
				return err
			}
		}
		return nil
	})
	loop := a
	loop.ParentID = c.ID
	_, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.UpdateFolder(ctx, &loop) })
	wantKind(t, "move a below its grandchild", err, domain.KindInvalid)
	_, err = db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteFolderType(ctx, domain.FolderTypeFolderID)
	})
	wantKind(t, "delete a folder type in use", err, domain.KindConflict)

	mustTx(t, db, func(tx store.Tx) error { return tx.DeleteFolder(ctx, a.ID) })
	for _, f := range []string{a.ID, b.ID, c.ID} {
		if _, err := db.GetFolder(ctx, f); !domain.Is(err, domain.KindNotFound) {
			t.Errorf("folder of the deleted subtree: GetFolder = %v, want not found", err)
		}
	}
	levels, err := db.ListFolderLevels(ctx, "", g.ID)
	if err != nil || len(levels) != 1 || levels[0].FolderID != other.ID {
		t.Errorf("levels after subtree delete = %+v (%v), want only the one on %q", levels, err, other.Name)
	}
}

func testPasswordHash(t *testing.T, db store.Store) {
	u := &domain.User{Username: "pw", Status: domain.UserActive, Source: domain.SourceLocal, PasswordHash: "$argon2id$secret1"}
	mustTx(t, db, func(tx store.Tx) error { return tx.CreateUser(ctx, u) })
	ch, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetPasswordHash(ctx, u.ID, "$argon2id$secret2"); err != nil {
			return err
		}
		return audit(ctx, tx, "user.password")
	})
	if err != nil || ch.Revision != 0 {
		t.Fatalf("SetPasswordHash: change rev %d, %v; want no change", ch.Revision, err)
	}
	got, err := db.GetUser(ctx, u.ID)
	if err != nil || got.PasswordHash != "$argon2id$secret2" {
		t.Fatalf("GetUser hash = %q (%v), want the new hash", got.PasswordHash, err)
	}
	got, err = db.GetUserByUsername(ctx, "PW")
	if err != nil || got.PasswordHash != "$argon2id$secret2" {
		t.Fatalf("GetUserByUsername hash = %q (%v), want the new hash", got.PasswordHash, err)
	}
	snap, err := db.LoadSnapshot(ctx)
	if err != nil || len(snap.Users) != 1 || snap.Users[0].PasswordHash != "" {
		t.Fatalf("snapshot users = %+v (%v), want one user without hash", snap.Users, err)
	}
	chs, err := db.ReadChanges(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(chs)
	if strings.Contains(string(js), "secret") {
		t.Fatalf("the change log holds a password hash: %s", js)
	}
	if err := func() error {
		_, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.SetPasswordHash(ctx, domain.NewID(), "x") })
		return err
	}(); !domain.Is(err, domain.KindNotFound) {
		t.Fatalf("SetPasswordHash of a missing user = %v, want not found", err)
	}
}

func testSearch(t *testing.T, db store.Store) {
	names := []string{"ann_x", "annex", "Zoë", "bob%", "Ámos"}
	mustTx(t, db, func(tx store.Tx) error {
		for i, n := range names {
			u := &domain.User{Username: n, Status: domain.UserActive, Source: domain.SourceLocal, Email: n + "@example.org"}
			if i == 1 {
				u.DisplayName = "Special 100%"
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	cases := []struct {
		search string
		want   []string
	}{
		{"_", []string{"ann_x"}},
		{"%", []string{"annex", "bob%"}},
		{"ZOË", []string{"Zoë"}},
		{"ámos", []string{"Ámos"}},
		{"EXAMPLE", []string{"ann_x", "annex", "bob%", "Zoë", "Ámos"}},
	}
	for _, c := range cases {
		p, err := db.ListUsers(ctx, store.ListQuery{Search: c.search})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range p.Items {
			got = append(got, u.Username)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("search %q = %v, want %v", c.search, got, c.want)
		}
	}
	// Paging by created_at, descending, two at a time, visits all once.
	seen := map[string]bool{}
	q := store.ListQuery{Sort: "created_at", Desc: true, Limit: 2}
	var prev time.Time
	for {
		p, err := db.ListUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range p.Items {
			if seen[u.ID] || (!prev.IsZero() && u.CreatedAt.After(prev)) {
				t.Fatalf("page order broken at %s", u.Username)
			}
			seen[u.ID], prev = true, u.CreatedAt
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(seen) != len(names) {
		t.Fatalf("paging saw %d users, want %d", len(seen), len(names))
	}
}

// testDeepSubtree deletes a chain of folders deeper than SQLite nests
// foreign-key cascades (1000). 1200 levels are exactly three bands of
// sqlstore's cascadeBand (400): the last band trimmed must stop above the
// root, which DeleteFolder deletes itself.
func testDeepSubtree(t *testing.T, db store.Store) {
	const depth = 1200
	var root, leaf string
	g := &domain.Group{Name: "G", Scope: domain.ScopeSystem}
	mustTx(t, db, func(tx store.Tx) error {
		ft := domain.BuiltinFolderType()
		if err := tx.CreateFolderType(ctx, &ft); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		parent := ""
		for i := range depth {
			f := &domain.Folder{Name: "f", ParentID: parent, TypeID: ft.ID}
			if err := tx.CreateFolder(ctx, f); err != nil {
				return err
			}
			if i == 0 {
				root = f.ID
			}
			parent, leaf = f.ID, f.ID
		}
		return tx.PutFolderLevel(ctx, &domain.FolderLevel{FolderID: leaf, GroupID: g.ID, Level: domain.LevelEdit})
	})
	mustTx(t, db, func(tx store.Tx) error { return tx.DeleteFolder(ctx, root) })
	snap, err := db.LoadSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Folders) != 0 || len(snap.FolderLevels) != 0 {
		t.Fatalf("after deleting the root of a %d-deep chain: %d folders and %d levels left, want none", depth, len(snap.Folders), len(snap.FolderLevels))
	}
}

// testWritersSerialize checks that a second write transaction does not
// start its closure before the first commits, while reads go on.
func testWritersSerialize(t *testing.T, db store.Store) {
	inside := make(chan struct{})
	var firstDone time.Time
	errs := make(chan error, 2)
	go func() {
		_, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			close(inside)
			if err := tx.PutSetting(ctx, &domain.Setting{Key: "a", Value: "1"}); err != nil {
				return err
			}
			time.Sleep(200 * time.Millisecond)
			firstDone = time.Now()
			return audit(ctx, tx, "first")
		})
		errs <- err
	}()
	<-inside
	if _, err := db.Revision(ctx); err != nil {
		t.Fatalf("Revision while a writer is open: %v", err)
	}
	var secondStart time.Time
	ch, err := db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		secondStart = time.Now()
		if err := tx.PutSetting(ctx, &domain.Setting{Key: "b", Value: "2"}); err != nil {
			return err
		}
		return audit(ctx, tx, "second")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if secondStart.Before(firstDone) {
		t.Errorf("the second writer's closure started %v before the first finished: writers must serialize", firstDone.Sub(secondStart))
	}
	if ch.Revision != 2 {
		t.Errorf("second writer's revision = %d, want 2", ch.Revision)
	}
}

// testPingOlderSchema: a database migrated by an older binary (its last
// migration missing) is not ready for this one: Ping says so, and a
// server behind a load balancer is taken out of rotation until someone
// runs gatehouse migrate.
func testPingOlderSchema(t *testing.T, db Backend) {
	raw, ok := db.(interface {
		ExecRaw(ctx context.Context, q string, args ...any) error
	})
	if !ok {
		t.Skipf("%T offers no ExecRaw", db)
	}
	if err := raw.ExecRaw(ctx, `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	err := db.Ping(ctx)
	if !domain.Is(err, domain.KindUnavailable) || !strings.Contains(err.Error(), "this binary needs") {
		t.Fatalf("Ping of a database one migration behind = %v, want kind unavailable naming the version this binary needs", err)
	}
}
