// Package storetest is the conformance suite of the store contract: one body
// of tests that every Gatehouse storage backend runs, as io/fs has
// testing/fstest and OpenFGA's storage has its shared test package.
//
// A backend's test calls Run with a constructor that returns a fresh, empty,
// migrated store for each call (the backend's test closes and removes it,
// typically with t.Cleanup):
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
//
//	func TestLargeSnapshot(t *testing.T) {
//		if testing.Short() {
//			t.Skip("loads 100,000 users and 1,000,000 memberships; skipped with -short")
//		}
//		storetest.RunLarge(t, openTemp)
//	}
//
// Every subtest asserts a rule stated in the package doc of store or in
// domain.Mutation's doc (cascades); failure messages say what the contract
// expects. The suite imports only domain, store, the standard library and
// go-cmp.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// NewStore returns a fresh, empty, migrated store for one test. The
// backend's test is responsible for closing and removing it.
type NewStore = func(t *testing.T) store.Store

// Run runs the conformance suite against the backend newStore opens. Each
// subtest gets its own store. It takes seconds, not minutes; the slow
// large-snapshot test is RunLarge.
func Run(t *testing.T, newStore NewStore) {
	t.Run("Ping", func(t *testing.T) { testPing(t, newStore(t)) })
	t.Run("Empty", func(t *testing.T) { testEmpty(t, newStore(t)) })
	t.Run("Versioned", func(t *testing.T) { testVersioned(t, newStore) })
	t.Run("Users", func(t *testing.T) { testUsers(t, newStore) })
	t.Run("Projects", func(t *testing.T) { testProjects(t, newStore(t)) })
	t.Run("Groups", func(t *testing.T) { testGroups(t, newStore) })
	t.Run("Memberships", func(t *testing.T) { testMemberships(t, newStore(t)) })
	t.Run("GroupMemberships", func(t *testing.T) { testGroupMemberships(t, newStore) })
	t.Run("Roles", func(t *testing.T) { testRoles(t, newStore(t)) })
	t.Run("ProjectGrants", func(t *testing.T) { testProjectGrants(t, newStore(t)) })
	t.Run("DomainGrants", func(t *testing.T) { testDomainGrants(t, newStore(t)) })
	t.Run("FolderTypes", func(t *testing.T) { testFolderTypes(t, newStore(t)) })
	t.Run("Folders", func(t *testing.T) { testFolders(t, newStore(t)) })
	t.Run("FolderLevels", func(t *testing.T) { testFolderLevels(t, newStore(t)) })
	t.Run("Rules", func(t *testing.T) { testRules(t, newStore(t)) })
	t.Run("Settings", func(t *testing.T) { testSettings(t, newStore(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, newStore) })
	t.Run("AuditChain", func(t *testing.T) { testAuditChain(t, newStore) })
	t.Run("DeleteMissing", func(t *testing.T) { testDeleteMissing(t, newStore(t)) })
	t.Run("UniqueNames", func(t *testing.T) { testUniqueNames(t, newStore) })
	t.Run("TakenKeyFields", func(t *testing.T) { testTakenKeyFields(t, newStore(t)) })
	t.Run("LegacyLookalikes", func(t *testing.T) { testLegacyLookalikes(t, newStore) })
	t.Run("MissingReferences", func(t *testing.T) { testMissingReferences(t, newStore(t)) })
	t.Run("Cascades", func(t *testing.T) { testCascades(t, newStore) })
	t.Run("Transactions", func(t *testing.T) { testTransactions(t, newStore) })
	t.Run("ChangeLog", func(t *testing.T) { testChangeLog(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("Lists", func(t *testing.T) { testLists(t, newStore) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, newStore) })
	t.Run("Snapshot", func(t *testing.T) { testSnapshot(t, newStore) })
	t.Run("StreamSnapshot", func(t *testing.T) { testStreamSnapshot(t, newStore) })
	t.Run("RevisionInTx", func(t *testing.T) { testRevisionInTx(t, newStore) })
	t.Run("Authn", func(t *testing.T) { testAuthn(t, newStore) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, newStore) })
	t.Run("Dump", func(t *testing.T) { testDump(t, newStore) })
	t.Run("OIDC", func(t *testing.T) { testOIDC(t, newStore) })
}

// errRollback makes a test closure roll its transaction back.
var errRollback = errors.New("storetest: deliberate rollback")

// auditEvent returns an audit record for a test transaction.
func auditEvent(action string) *domain.AuditEvent {
	return &domain.AuditEvent{ActorName: "storetest", Action: action, Outcome: domain.OutcomeSuccess}
}

// mustWrite runs fn in a transaction that also records one audit event and
// stops the test if it does not commit.
func mustWrite(t testing.TB, s store.Store, fn func(ctx context.Context, tx store.Tx) error) domain.Change {
	t.Helper()
	ch, err := s.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent("storetest.setup"))
	})
	if err != nil {
		t.Fatalf("InTx: got error %v, want the transaction to commit", err)
	}
	return ch
}

// expectKind runs op in a transaction and checks that op fails with an
// error of kind want. The transaction is always rolled back.
func expectKind(t testing.TB, s store.Store, want domain.Kind, what string, op func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	var opErr error
	_, txErr := s.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
		opErr = op(ctx, tx)
		if opErr == nil {
			return errRollback
		}
		return opErr
	})
	switch {
	case opErr == nil:
		t.Errorf("%s: got no error, want kind %v", what, want)
		return
	case !domain.Is(opErr, want):
		t.Errorf("%s: got error %q of kind %v, want kind %v", what, opErr, domain.KindOf(opErr), want)
	}
	var de *domain.Error
	if !errors.As(opErr, &de) {
		t.Errorf("%s: got error of type %T, want a *domain.Error", what, opErr)
	}
	if txErr == nil {
		t.Errorf("%s: InTx returned nil after the closure returned %v, want an error", what, opErr)
	}
}

// wantKind checks that err has kind want.
func wantKind(t testing.TB, err error, want domain.Kind, what string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: got no error, want kind %v", what, want)
	case !domain.Is(err, want):
		t.Errorf("%s: got error %q of kind %v, want kind %v", what, err, domain.KindOf(err), want)
	}
}

// noErr stops the test when err is not nil.
func noErr(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want none", what, err)
	}
}

// us is the precision the contract keeps times in.
const us = time.Microsecond

// utc truncates t to microseconds in UTC, the form the store keeps.
func utc(t time.Time) time.Time { return t.UTC().Truncate(us) }

// cmpOpts compare stored objects: times at microsecond precision in UTC,
// nil and empty slices and maps alike, JSON documents by value.
var cmpOpts = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b time.Time) bool { return utc(a).Equal(utc(b)) }),
	cmp.FilterValues(func(a, b json.RawMessage) bool { return len(a) > 0 || len(b) > 0 }, cmp.Comparer(jsonEqual)),
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if len(a) == 0 {
		a = json.RawMessage("null")
	}
	if len(b) == 0 {
		b = json.RawMessage("null")
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return cmp.Equal(x, y)
}

// diff compares got and want with cmpOpts plus extra options.
func diff(got, want any, extra ...cmp.Option) string {
	return cmp.Diff(want, got, append(cmp.Options{cmpOpts}, extra...)...)
}

// checkStoreTime checks a time the store clock set: non-zero, in UTC,
// truncated to microseconds and close to now.
func checkStoreTime(t testing.TB, what string, ts time.Time) {
	t.Helper()
	switch {
	case ts.IsZero():
		t.Errorf("%s is zero, want the store clock's time", what)
	case ts.Location() != time.UTC:
		t.Errorf("%s = %v is in location %v, want UTC", what, ts, ts.Location())
	case ts.Nanosecond()%1000 != 0:
		t.Errorf("%s = %v has nanoseconds, want it truncated to microseconds", what, ts)
	case time.Until(ts).Abs() > time.Hour:
		t.Errorf("%s = %v, want a time near now (%v)", what, ts, time.Now().UTC())
	}
}

// revision returns s.Revision or stops the test.
func revision(t testing.TB, s store.Store) int64 {
	t.Helper()
	r, err := s.Revision(context.Background())
	noErr(t, err, "Revision")
	return r
}

// changesSince returns every change after since, reading in pages.
func changesSince(t testing.TB, s store.Store, since int64) []domain.Change {
	t.Helper()
	var all []domain.Change
	for {
		chs, err := s.ReadChanges(context.Background(), since, 100)
		noErr(t, err, "ReadChanges")
		if len(chs) == 0 {
			return all
		}
		all = append(all, chs...)
		since = chs[len(chs)-1].Revision
	}
}

// allAudit lists every audit event, newest first, following cursors.
func allAudit(t testing.TB, r store.Reader, q store.AuditQuery) []domain.AuditEvent {
	t.Helper()
	var all []domain.AuditEvent
	for i := 0; ; i++ {
		p, err := r.ListAudit(context.Background(), q)
		noErr(t, err, "ListAudit")
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		if i > 10000 {
			t.Fatalf("ListAudit: more than 10000 pages, want the cursor to end")
		}
		q.Cursor = p.Next
	}
}

// collect follows the cursors of a list until its last page.
func collect[T any](t testing.TB, what string, list func(q store.ListQuery) (store.Page[T], error), q store.ListQuery) []T {
	t.Helper()
	var all []T
	for i := 0; ; i++ {
		p, err := list(q)
		noErr(t, err, what)
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		if len(p.Items) == 0 {
			t.Fatalf("%s: empty page with a Next cursor, want Next empty on the last page", what)
		}
		if i > 10000 {
			t.Fatalf("%s: more than 10000 pages, want the cursor to end", what)
		}
		q.Cursor = p.Next
	}
}

func ptr[T any](v T) *T { return &v }

func newUser(name string) *domain.User {
	return &domain.User{
		Username:    name,
		Email:       name + "@example.org",
		DisplayName: "User " + name,
		Status:      domain.UserActive,
		Source:      domain.SourceLocal,
	}
}

func newProject(name string) *domain.Project {
	return &domain.Project{Name: name, MembershipMode: domain.ModeMultiple}
}

func newSystemGroup(name string) *domain.Group {
	return &domain.Group{Name: name, Scope: domain.ScopeSystem}
}

func newProjectGroup(name, projectID string) *domain.Group {
	return &domain.Group{Name: name, Scope: domain.ScopeProject, ProjectID: projectID}
}

func newRole(name string, scope domain.Scope) *domain.Role {
	r := &domain.Role{Name: name, Scope: scope, Editable: true, Deletable: true}
	if scope == domain.ScopeSystem {
		r.Permissions = []string{domain.PermGroupsView, domain.PermUsersView}
	} else {
		r.Permissions = []string{domain.PermProjectRead}
	}
	return r
}

func newFolderType(name string) *domain.FolderType {
	return &domain.FolderType{Name: name, Contexts: []string{"data", domain.ContextRoot}, Properties: []string{"site", "study"}}
}

func newFolder(name, parentID, typeID string) *domain.Folder {
	return &domain.Folder{Name: name, ParentID: parentID, TypeID: typeID}
}

func newRule(name, groupID, typeID string) *domain.Rule {
	return &domain.Rule{
		Name:     name,
		GroupID:  groupID,
		Criteria: []domain.Criterion{{FolderTypeID: typeID, Property: "study", Operator: domain.OpEq, Value: "S1"}},
		Grants:   map[string][]string{domain.ContextRoot: {"read"}},
	}
}
