package service_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Tests for what mutation testing (docs/testing.md) found unpinned in
// users.go.

// TestR3R29UserStatusChangesAreRefusedForYourselfAuditedAndSignOut:
// nobody disables themselves, even with another administrator left (so
// R3 alone would allow it), and nothing is written; enabling is not
// refused; each change is audited under its own action; disabling signs
// the user out, and a disable (or a new password) whose sessions cannot
// be revoked is refused whole: the user stays active and signed in.
func TestR3R29UserStatusChangesAreRefusedForYourselfAuditedAndSignOut(t *testing.T) {
	e := newEnv(t)
	e.add(domain.GroupAdministratorsID, e.user("second-admin", ""))
	before := e.rev()
	wantKind(t, errOf3(e.svc.SetUserStatus(e.ctx, e.admin, e.admin.UserID, domain.UserDisabled)), domain.KindInvalid, "disable yourself")
	if e.rev() != before {
		t.Errorf("a refused disable moved the revision from %d to %d", before, e.rev())
	}
	e.must(errOf3(e.svc.SetUserStatus(e.ctx, e.admin, e.admin.UserID, domain.UserActive)))

	u := e.user("u", "")
	s := e.session(u.UserID)
	e.must(errOf3(e.svc.SetUserStatus(e.ctx, e.admin, u.UserID, domain.UserDisabled)))
	if !e.revoked(s) {
		t.Errorf("the disabled user's session is still valid")
	}
	e.must(errOf3(e.svc.SetUserStatus(e.ctx, e.admin, u.UserID, domain.UserActive)))
	for action, targets := range map[string][]string{"user.disable": {u.UserID}, "user.enable": {e.admin.UserID, u.UserID}} {
		var got []string
		for _, a := range e.audits(action, domain.OutcomeSuccess) {
			got = append(got, a.TargetID)
		}
		if len(got) != len(targets) || !sameSet(got, targets) {
			t.Errorf("%s records target %v, want %v", action, got, targets)
		}
	}

	v := e.user("v", "")
	sv := e.session(v.UserID)
	raw := e.st.(interface {
		ExecRaw(ctx context.Context, q string, args ...any) error
	})
	e.must(raw.ExecRaw(e.ctx, `CREATE TRIGGER frozen_sessions BEFORE UPDATE ON sessions BEGIN SELECT RAISE(ABORT, 'sessions frozen'); END`))
	if err := errOf3(e.svc.SetUserStatus(e.ctx, e.admin, v.UserID, domain.UserDisabled)); err == nil {
		t.Errorf("disabling a user whose sessions could not be revoked succeeded")
	}
	if got, err := e.st.GetUser(e.ctx, v.UserID); err != nil || got.Status != domain.UserActive || e.revoked(sv) {
		t.Errorf("after the refused disable: status %q, %v, session revoked %t; want active and signed in", got.Status, err, e.revoked(sv))
	}
	// A new password signs the user out everywhere, or is not set.
	before = e.rev()
	if err := errOf(e.svc.SetPassword(e.ctx, e.admin, v.UserID, "a-new-password-2026")); err == nil || e.rev() != before {
		t.Errorf("setting a password whose user's sessions could not be revoked: %v, revision %d -> %d; want refused, nothing written", err, before, e.rev())
	}
}

// TestCreateUserKeepsTheIDTheCallerChose: SCIM and imports name their
// users' ids; a user created without one gets a fresh id.
func TestCreateUserKeepsTheIDTheCallerChose(t *testing.T) {
	e := newEnv(t)
	id := domain.NewID()
	u, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{ID: id, Username: "chosen"})
	e.must(err)
	if _, err := e.st.GetUser(e.ctx, id); err != nil || u.ID != id {
		t.Errorf("CreateUser with id %s: got %s, stored: %v", id, u.ID, err)
	}
	other, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "fresh"})
	e.must(err)
	if other.ID == "" || other.ID == id {
		t.Errorf("a user created without an id got %q", other.ID)
	}
}

func sameSet(a, b []string) bool {
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// errOf3 is errOf for the writes that also return the object written.
func errOf3[T any](_ T, _ int64, err error) error { return err }

// TestR18AnEditsAnswerIsMasked: the user a write returns is masked like
// any other answer for a caller without personal_info.view, who may edit
// users without reading their personal fields.
func TestR18AnEditsAnswerIsMasked(t *testing.T) {
	e := newEnv(t)
	ann, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "ann", Email: "ann@hospital.example", DisplayName: "Ann Secret"})
	e.must(err)
	editor := e.user("editor", "")
	e.add(e.sysGroup("Editors", domain.PermUsersView, domain.PermUsersEdit).ID, editor)
	name := "ann2"
	u, _, err := e.svc.UpdateUser(e.ctx, editor, ann.ID, service.UserUpdate{Username: &name})
	e.must(err)
	if u.Username != name || u.Email != "" || u.DisplayName != "" {
		t.Errorf("UpdateUser answered %q, %q, %q; want ann2 with the email and display name masked", u.Username, u.Email, u.DisplayName)
	}
}

// TestR23IndividualRightsInAnExclusiveProjectAndRemovingThem: in an
// exclusive project a member of one of its groups holds that group's
// rights, so individual checkboxes without a role are refused like a
// role; an empty individual row (a member with no access) is not.
// Removing the row deletes it, audited.
func TestR23IndividualRightsInAnExclusiveProjectAndRemovingThem(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeExclusive)
	h, _, err := e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Site A", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	u := e.user("u", "")
	e.add(h.ID, u)
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, u.UserID, p.ID, "", []string{domain.PermProjectRead})
	wantKind(t, err, domain.KindConflict, "R23")
	_, _, err = e.svc.SetUserProjectRights(e.ctx, e.admin, u.UserID, p.ID, "", nil)
	e.must(err)
	if _, ok := e.individualRow(u.UserID, p.ID); !ok {
		t.Fatalf("the empty individual row was not written")
	}
	e.must(errOf(e.svc.RemoveUserFromProject(e.ctx, e.admin, u.UserID, p.ID)))
	if _, ok := e.individualRow(u.UserID, p.ID); ok {
		t.Errorf("RemoveUserFromProject left the individual row")
	}
	if recs := e.audits("user.remove_from_project", domain.OutcomeSuccess); len(recs) != 1 || recs[0].TargetID != u.UserID {
		t.Errorf("user.remove_from_project records = %+v, want one on u", recs)
	}
}
