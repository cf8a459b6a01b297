package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// login opens a session for a user directly in the store, as authn would.
func (e *env) session(userID string) domain.Session {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	s := domain.Session{ID: domain.NewID(), TokenHash: authn.HashSecret(domain.NewID()), UserID: userID,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeenAt: now}
	_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, &s) })
	e.must(err)
	return s
}

func (e *env) revoked(s domain.Session) bool {
	e.t.Helper()
	got, err := e.st.GetSessionByHash(e.ctx, s.TokenHash)
	e.must(err)
	return got.RevokedAt != nil
}

func TestPasswordResetSignsTheUserOutEverywhere(t *testing.T) {
	e := newEnv(t)
	bob := e.user("bob", "")
	s1, s2 := e.session(bob.UserID), e.session(bob.UserID)
	other := e.session(e.admin.UserID)
	e.must(errOf(e.svc.SetPassword(e.ctx, e.admin, bob.UserID, "a-new-password-1")))
	if !e.revoked(s1) || !e.revoked(s2) {
		t.Error("bob's sessions survive a password reset")
	}
	if e.revoked(other) {
		t.Error("a password reset of bob signed the admin out")
	}
	if a := e.audits(authn.ActionRevokeSessions, domain.OutcomeSuccess); len(a) != 1 || a[0].TargetID != bob.UserID ||
		!strings.Contains(a[0].Detail, "signed out of 2 session(s): password reset") {
		t.Errorf("audit of the revocation = %+v, want one record saying bob's 2 sessions were revoked", a)
	}
}

func TestR11_DisablingAUserRevokesTheirSessions(t *testing.T) {
	e := newEnv(t)
	bob := e.user("bob", "")
	s := e.session(bob.UserID)
	_, _, err := e.svc.SetUserStatus(e.ctx, e.admin, bob.UserID, domain.UserDisabled)
	e.must(err)
	if !e.revoked(s) {
		t.Error("a disabled user's session is still valid")
	}
}

// An API token limited to scim.provision acts with that permission only,
// even for an administrator.
func TestLimitedTokenHoldsOnlyItsLimit(t *testing.T) {
	e := newEnv(t)
	limited := e.admin
	limited.Limit = []string{domain.PermScimProvision}
	_, _, err := e.svc.CreateGroup(e.ctx, limited, domain.Group{Name: "Radiologists", Scope: domain.ScopeSystem})
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsEdit)
	// The same administrator without the limit may.
	if _, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Radiologists", Scope: domain.ScopeSystem}); err != nil {
		t.Fatalf("unlimited admin: %v", err)
	}
	p := e.project("CT", domain.ModeMultiple)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, limited, e.admin.UserID, p.ID, "", []string{domain.PermProjectRead})
	wantKind(t, err, domain.KindForbidden)
}

// Who may ask (docs/api.md): about yourself and anonymous always, about
// another user, or about everyone (ListSubjects), with users.view, within
// a limited token's limit too; anonymous callers about no one else.
func TestQueriesAuthorizeTheQuestion(t *testing.T) {
	e := newEnv(t)
	bob := e.user("bob", "")
	viewer := e.user("viewer", domain.RoleSystemMemberID) // holds users.view
	about := func(c service.Caller, subject string) error {
		_, err := e.svc.Check(e.ctx, c, service.CheckQuery{Subject: subject, Permission: domain.PermUsersView, Resource: "system"})
		return err
	}
	if err := about(bob, "user:"+bob.UserID); err != nil {
		t.Errorf("asking about yourself: %v", err)
	}
	if err := about(bob, "anonymous"); err != nil {
		t.Errorf("asking about anonymous: %v", err)
	}
	wantKind(t, about(bob, "user:"+viewer.UserID), domain.KindForbidden, domain.PermUsersView)
	_, err := e.svc.ListSubjects(e.ctx, bob, service.SubjectsQuery{Permission: domain.PermUsersView, Resource: "system"})
	wantKind(t, err, domain.KindForbidden, domain.PermUsersView)
	if err := about(viewer, "user:"+bob.UserID); err != nil {
		t.Errorf("users.view holder asking about bob: %v", err)
	}
	wantKind(t, about(service.Caller{}, "user:"+bob.UserID), domain.KindUnauthenticated)
	limited := viewer
	limited.Limit = []string{domain.PermScimProvision}
	wantKind(t, about(limited, "user:"+bob.UserID), domain.KindForbidden)
	_, err = e.svc.EffectivePermissions(e.ctx, bob, service.EffectiveQuery{Subject: "user:" + viewer.UserID, Resource: "system"})
	wantKind(t, err, domain.KindForbidden, domain.PermUsersView)
	_, err = e.svc.Explain(e.ctx, bob, service.CheckQuery{Subject: "username:viewer", Permission: domain.PermUsersView, Resource: "system"})
	wantKind(t, err, domain.KindForbidden, domain.PermUsersView)
}

// R20: a write returns, as a value, the revision its own transaction
// committed (not whatever the engine reached meanwhile), and a read with
// at_least of that revision sees the write.
func TestR20_WritesReturnTheRevisionTheyCommitted(t *testing.T) {
	e := newEnv(t)
	g, rev, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Radiologists", Scope: domain.ScopeSystem})
	e.must(err)
	changes, err := e.st.ReadChanges(e.ctx, 0, 0)
	e.must(err)
	last := changes[len(changes)-1]
	if rev != last.Revision || last.Mutations[0].Group == nil || last.Mutations[0].Group.ID != g.ID {
		t.Errorf("CreateGroup returned revision %d, want %d, the change that created the group", rev, last.Revision)
	}
	// Later writes return their own, later revisions.
	viewers := e.sysGroup("Viewers", domain.PermUsersView)
	bob := e.user("bob", "")
	_, added, err := e.svc.AddMembers(e.ctx, e.admin, viewers.ID, []service.MemberInput{{UserID: bob.UserID}})
	e.must(err)
	changes, err = e.st.ReadChanges(e.ctx, 0, 0)
	e.must(err)
	if head := changes[len(changes)-1].Revision; added != head || added <= rev {
		t.Errorf("AddMembers returned revision %d, want %d, its own change (after %d)", added, head, rev)
	}
	// A check at least at the returned revision sees the write.
	d, err := e.svc.Check(e.ctx, bob, service.CheckQuery{Permission: domain.PermUsersView, Resource: "system",
		Consistency: service.Consistency{AtLeast: added}})
	e.must(err)
	if !d.Allowed || d.Revision < added {
		t.Errorf("check at_least %d: allowed %v at revision %d, want allowed at %d or later", added, d.Allowed, d.Revision, added)
	}
	// A refused write commits nothing and returns no revision.
	_, refused, err := e.svc.CreateGroup(e.ctx, bob, domain.Group{Name: "Nope", Scope: domain.ScopeSystem})
	wantKind(t, err, domain.KindForbidden)
	if refused != 0 {
		t.Errorf("a refused write returned revision %d", refused)
	}
}

// A name clash names the field and says why, without the driver's text.
func TestDuplicateNamesAreExplained(t *testing.T) {
	e := newEnv(t)
	e.project("CT study", domain.ModeMultiple)
	_, _, err := e.svc.CreateProject(e.ctx, e.admin, domain.Project{Name: "ct STUDY"})
	wantKind(t, err, domain.KindExists)
	wantField(t, err, "name")
	if strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "constraint") {
		t.Errorf("the error leaks the driver's text: %v", err)
	}
	e.user("alice", "")
	_, _, err = e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "ALICE"})
	wantField(t, err, "username")
}

// A permission another replica took away (a commit this process's engine
// has not applied yet) no longer authorizes a write (R21, R22).
func TestWriteSeesAnotherReplicasCommitBeforeAuthorizing(t *testing.T) {
	e := newEnv(t)
	editors := e.sysGroup("Editors", domain.PermGroupsEdit, domain.PermRolesView)
	bob := e.user("bob", "")
	e.add(editors.ID, bob)
	if _, _, err := e.svc.CreateGroup(e.ctx, bob, domain.Group{Name: "First", Scope: domain.ScopeSystem}); err != nil {
		t.Fatalf("bob may create groups while in Editors: %v", err)
	}
	// Another replica removes bob from Editors, straight in the database.
	_, err := e.st.InTx(e.ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeleteMembership(ctx, editors.ID, bob.UserID); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorName: "replica-2", Action: "group.member_remove", Outcome: domain.OutcomeSuccess})
	})
	e.must(err)
	_, _, err = e.svc.CreateGroup(e.ctx, bob, domain.Group{Name: "Second", Scope: domain.ScopeSystem})
	wantKind(t, err, domain.KindForbidden, domain.PermGroupsEdit)
}

// R27: the answer lists every member who left a project, whether or not
// they had an (empty) row of their own there; one kept by another group
// present in the project is not listed.
func TestR27_RemovalListsEveryMemberWhoLeft(t *testing.T) {
	e := newEnv(t)
	a, b := e.project("A", domain.ModeMultiple), e.project("B", domain.ModeMultiple)
	readers := e.sysGroup("Readers")
	other := e.sysGroup("Other")
	_, _, err := e.svc.ImportGroup(e.ctx, e.admin, readers.ID, []string{a.ID, b.ID})
	e.must(err)
	_, _, err = e.svc.ImportGroup(e.ctx, e.admin, other.ID, []string{b.ID})
	e.must(err)
	ann, ben := e.user("ann", ""), e.user("ben", "")
	e.add(readers.ID, ann, ben)
	e.add(other.ID, ben) // ben stays in B through Other
	res, _, err := e.svc.RemoveGroupFromProjects(e.ctx, e.admin, readers.ID, []string{a.ID, b.ID}, true)
	e.must(err)
	got := map[string]bool{}
	for _, u := range res.Users {
		got[u] = true
	}
	if !got[ann.UserID] || !got[ben.UserID] || len(res.Users) != 2 {
		t.Errorf("Users = %v, want ann (left A and B) and ben (left A)", res.Users)
	}
	if e.can(ann, domain.PermProjectRead, proj(a.ID)) {
		t.Error("ann still reads A")
	}
}

// A taken key is reported on the field that holds it, as the store names
// it: an id taken is "id", a name taken is "name" (the service used to
// guess "name" for both).
func TestTakenKeyNamesItsField(t *testing.T) {
	e := newEnv(t)
	p := e.project("CT", domain.ModeMultiple)
	_, _, err := e.svc.CreateProject(e.ctx, e.admin, domain.Project{ID: p.ID, Name: "MR", MembershipMode: domain.ModeMultiple})
	wantKind(t, err, domain.KindExists, "already has this id")
	wantField(t, err, "id")
	_, _, err = e.svc.CreateProject(e.ctx, e.admin, domain.Project{Name: "ct", MembershipMode: domain.ModeMultiple})
	wantKind(t, err, domain.KindExists)
	wantField(t, err, "name")
	_, _, err = e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "ADMIN", Email: "a2@example.org", Password: "a-long-password-1"})
	wantKind(t, err, domain.KindExists)
	wantField(t, err, "username")
}
