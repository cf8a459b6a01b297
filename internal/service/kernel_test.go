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

// The reproductions of the kernel's issue, each refused with a message
// naming what is missing, the revision unmoved.

func (e *env) refused(err error, kind domain.Kind, mention string) {
	e.t.Helper()
	if !domain.Is(err, kind) {
		e.t.Fatalf("err = %v, want %s", err, kind)
	}
	if !strings.Contains(err.Error(), mention) {
		e.t.Fatalf("err = %q, want it to mention %q", err, mention)
	}
}

func TestR3ExpiringTheLastAdministratorIsRefused(t *testing.T) {
	e := newEnv(t)
	at := time.Now().Add(3 * time.Second)
	rev := e.rev()
	_, _, err := e.svc.AddMembers(e.ctx, e.admin, domain.GroupAdministratorsID, []service.MemberInput{{UserID: e.admin.UserID, ExpiresAt: &at}})
	e.refused(err, domain.KindConflict, "no active user holding server.manage from ")
	if e.rev() != rev {
		t.Fatal("the refused write moved the revision")
	}
	// Another permanent administrator first: then it is allowed.
	bob := e.user("bob", "")
	e.add(domain.GroupAdministratorsID, bob)
	_, _, err = e.svc.AddMembers(e.ctx, e.admin, domain.GroupAdministratorsID, []service.MemberInput{{UserID: e.admin.UserID, ExpiresAt: &at}})
	e.must(err)
}

func TestR3EditingTheRoleAdministratorsDependOnIsRefused(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.svc.SetGroupSystemGrants(e.ctx, e.admin, domain.GroupAdministratorsID, domain.RoleITAdministratorID, nil)
	e.must(err)
	role, err := e.svc.GetRole(e.ctx, e.admin, domain.RoleITAdministratorID)
	e.must(err)
	keys := []string{domain.PermUsersView}
	_, _, err = e.svc.UpdateRole(e.ctx, e.admin, role.ID, service.RoleUpdate{Permissions: &keys})
	e.refused(err, domain.KindConflict, "no active user holding server.manage at once")
}

func TestR3DisablingOrDeletingTheLastHolderIsRefused(t *testing.T) {
	e := newEnv(t)
	// bob holds server.manage for good (an individual role); the admin's
	// own membership is made to expire: bob is then the last permanent
	// holder, whom the admin may neither disable nor delete.
	bob := e.user("bob", domain.RoleITAdministratorID)
	at := time.Now().Add(time.Hour)
	_, _, err := e.svc.AddMembers(e.ctx, e.admin, domain.GroupAdministratorsID, []service.MemberInput{{UserID: e.admin.UserID, ExpiresAt: &at}})
	e.must(err)
	_, _, err = e.svc.SetUserStatus(e.ctx, e.admin, bob.UserID, domain.UserDisabled)
	e.refused(err, domain.KindConflict, "R3")
	_, err = e.svc.DeleteUser(e.ctx, e.admin, bob.UserID)
	e.refused(err, domain.KindConflict, "R3")
	_, _, err = e.svc.SetUserSystemRole(e.ctx, e.admin, bob.UserID, "")
	e.refused(err, domain.KindConflict, "R3")
}

func TestR22RemovingIndividualRightsIsBoundedLikeGivingThem(t *testing.T) {
	e := newEnv(t)
	p := e.project("P", domain.ModeMultiple)
	mod := e.user("mod", "")
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, mod.UserID, p.ID, domain.RoleModeratorID, nil)
	e.must(err)
	editor := e.user("editor", "")
	g := e.sysGroup("Editors", domain.PermUsersView, domain.PermUsersEdit)
	e.add(g.ID, editor)
	_, err = e.svc.RemoveUserFromProject(e.ctx, editor, mod.UserID, p.ID)
	e.refused(err, domain.KindForbidden, "project.moderate on project "+p.ID)
	e.wantDeniedAudit(editor, "user.remove_from_project")
}

// A delegated administrator may not hand themselves, by joining a group,
// what the group gives on folders and domains (Keycloak's CVE class).
func TestR22MembershipGrantsFoldersRulesAndDomainsOnlyWithinTheCaller(t *testing.T) {
	e := newEnv(t)
	mgr := e.user("mgr", domain.RoleSystemManagerID)
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "images", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	withLevel := e.sysGroup("Editors of images")
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, f.ID, withLevel.ID, domain.LevelEdit)
	e.must(err)
	withDomain := e.sysGroup("XYZ")
	_, _, err = e.svc.SetGroupDomains(e.ctx, e.admin, withDomain.ID, []string{"xyz.example"})
	e.must(err)
	ft, _, err := e.svc.CreateFolderType(e.ctx, e.admin, domain.FolderType{Name: "Study", Contexts: []string{domain.ContextRoot, "data"}, Properties: []string{"site"}})
	e.must(err)
	_, _, err = e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "s1", TypeID: ft.ID, Properties: map[string]string{"site": "a"}})
	e.must(err)
	withRule := e.sysGroup("Site A")
	_, _, err = e.svc.CreateRule(e.ctx, e.admin, domain.Rule{GroupID: withRule.ID, Name: "site a",
		Criteria: []domain.Criterion{{FolderTypeID: ft.ID, Property: "site", Operator: domain.OpEq, Value: "a"}},
		Grants:   map[string][]string{"data": {"read", "edit"}}})
	e.must(err)
	for _, c := range []struct {
		group   domain.Group
		mention string
	}{{withLevel, "root.edit on folder /images"}, {withDomain, `domain.access on domain "xyz.example"`}, {withRule, "data.edit on folder /s1"}} {
		rev := e.rev()
		_, _, err := e.svc.AddMembers(e.ctx, mgr, c.group.ID, []service.MemberInput{{UserID: mgr.UserID}})
		e.refused(err, domain.KindForbidden, c.mention)
		if e.rev() != rev {
			t.Fatalf("%s: refused write moved the revision", c.group.Name)
		}
	}
}

func TestR22ActingOnAUserWithFolderPowerNeedsIt(t *testing.T) {
	e := newEnv(t)
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "vault", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	deleters := e.sysGroup("Deleters")
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, f.ID, deleters.ID, domain.LevelDelete)
	e.must(err)
	target := e.user("target", "")
	e.add(deleters.ID, target)
	helpdesk := e.user("helpdesk", "")
	e.add(e.sysGroup("Helpdesk", domain.PermUsersView, domain.PermUsersEdit).ID, helpdesk)
	_, err = e.svc.SetPassword(e.ctx, helpdesk, target.UserID, "another-pass-phrase")
	e.refused(err, domain.KindForbidden, "root.delete on folder /vault")
	err = e.svc.MayManageTokens(e.ctx, identity(helpdesk), target.UserID)
	e.refused(err, domain.KindForbidden, "root.delete on folder /vault")
	// A user who holds no more is fine.
	plain := e.user("plain", "")
	e.must(errOf(e.svc.SetPassword(e.ctx, helpdesk, plain.UserID, "another-pass-phrase")))
	e.must(e.svc.MayManageTokens(e.ctx, identity(helpdesk), plain.UserID))
}

func TestR22TokensForAMorePowerfulUserAreRefused(t *testing.T) {
	e := newEnv(t)
	helpdesk := e.user("helpdesk", "")
	e.add(e.sysGroup("Helpdesk", domain.PermUsersView, domain.PermUsersEdit).ID, helpdesk)
	err := e.svc.MayManageTokens(e.ctx, identity(helpdesk), e.admin.UserID)
	e.refused(err, domain.KindForbidden, "server.manage")
}

// failingRoles is a store whose transactions fail to read roles: an error
// while authorizing must refuse, never read as "no permissions".
type failingRoles struct{ store.Store }
type failingRolesTx struct{ store.Tx }

func (f failingRoles) InTx(ctx context.Context, fn func(context.Context, store.Tx) error) (domain.Change, error) {
	return f.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return fn(ctx, failingRolesTx{tx}) })
}

func (failingRolesTx) GetRole(context.Context, string) (domain.Role, error) {
	return domain.Role{}, domain.Errorf("test", domain.KindUnavailable, "the database hiccupped")
}

func TestR22AnErrorWhileAuthorizingRefuses(t *testing.T) {
	e := newEnv(t)
	g := e.sysGroup("Managers")
	_, _, err := e.svc.SetGroupSystemGrants(e.ctx, e.admin, g.ID, domain.RoleSystemManagerID, nil)
	e.must(err)
	svc, err := service.New(e.ctx, failingRoles{e.st}, service.Options{PasswordParams: &cheap})
	e.must(err)
	rev := e.rev()
	_, _, err = svc.SetGroupSystemGrants(e.ctx, e.admin, g.ID, domain.RoleITAdministratorID, nil)
	if err == nil || e.rev() != rev {
		t.Fatalf("a write whose role could not be read committed (err %v, revision %d -> %d)", err, rev, e.rev())
	}
	if !domain.Is(err, domain.KindUnavailable) {
		t.Fatalf("err = %v, want the store's unavailability, not a verdict", err)
	}
}

func identity(c service.Caller) authn.Identity { return authn.Identity{Principal: c} }

// SCIM answers "not found" for a user it does not manage, before anything
// about the user's power is looked at (a 403 listing the administrator's
// permissions told a provisioning client what it may not know).
func TestR22SCIMUpdateOfALocalUserIsNotFoundNotForbidden(t *testing.T) {
	e := newEnv(t)
	idp := e.user("idp", "")
	e.add(e.sysGroup("Provisioners", domain.PermUsersView, domain.PermUsersEdit).ID, idp)
	name := "taken-over"
	_, _, err := e.svc.UpdateSCIMUser(e.ctx, idp, e.admin.UserID, service.SCIMUserUpdate{Username: &name})
	if !domain.Is(err, domain.KindNotFound) || strings.Contains(err.Error(), "server.manage") {
		t.Fatalf("err = %v, want not found, naming nothing the admin holds", err)
	}
}

// R18 at the service: every answer about users masks the personal fields
// for a caller without personal_info.view, and searches do not match them.
func TestR18PersonalFieldsAreMaskedInEveryAnswer(t *testing.T) {
	e := newEnv(t)
	ann, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "ann", Email: "ann@hospital.example", DisplayName: "Ann Secret"})
	e.must(err)
	viewer := e.user("viewer", "")
	g := e.sysGroup("Viewers", domain.PermUsersView, domain.PermGroupsView)
	e.add(g.ID, viewer)
	annC := service.Caller{UserID: ann.ID}
	e.add(g.ID, annC)

	u, err := e.svc.GetUser(e.ctx, viewer, ann.ID)
	e.must(err)
	if u.Email != "" || u.DisplayName != "" {
		t.Errorf("GetUser showed %q / %q to a caller without personal_info.view", u.Email, u.DisplayName)
	}
	page, err := e.svc.ListUsers(e.ctx, viewer, service.ListQuery{Search: "hospital"})
	e.must(err)
	if len(page.Items) != 0 {
		t.Errorf("a search matched a hidden email: %+v", page.Items)
	}
	page, err = e.svc.ListUsers(e.ctx, viewer, service.ListQuery{Search: "ann"})
	e.must(err)
	if len(page.Items) != 1 || page.Items[0].Email != "" {
		t.Errorf("ListUsers by username: %+v, want ann masked", page.Items)
	}
	members, err := e.svc.ListMembers(e.ctx, viewer, g.ID, service.MemberQuery{})
	e.must(err)
	for _, m := range members.Items {
		if m.User.ID == ann.ID && (m.Email != "" || m.User.Email != "" || m.User.DisplayName != "") {
			t.Errorf("ListMembers showed ann's personal fields: %+v", m)
		}
	}
	// Her own record, and an administrator, see them.
	if u, _ := e.svc.GetUser(e.ctx, annC, ann.ID); u.Email == "" {
		t.Error("a user does not see their own email")
	}
	if u, _ := e.svc.GetUser(e.ctx, e.admin, ann.ID); u.Email == "" {
		t.Error("an administrator does not see the email")
	}
	// With the preference off, the administrator does not either.
	_, _, err = e.svc.SetShowPersonalInfo(e.ctx, e.admin, e.admin.UserID, false)
	e.must(err)
	if u, _ := e.svc.GetUser(e.ctx, e.admin, ann.ID); u.Email != "" {
		t.Error("the preference off still shows the email (R18)")
	}
}

// The bulk-membership preview tries each addition with every check and
// writes nothing: who would be refused, and why (R22, R23).
func TestR22R23PreviewMembersSaysWhoWouldBeRefused(t *testing.T) {
	e := newEnv(t)
	p := e.project("Trial", domain.ModeExclusive)
	a := e.sysGroup("Site A")
	b := e.sysGroup("Site B")
	for _, g := range []domain.Group{a, b} {
		_, _, err := e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p.ID})
		e.must(err)
	}
	ann, bob := e.user("ann", ""), e.user("bob", "")
	e.add(b.ID, bob) // bob is in Site B: Site A would be his second group in Trial
	rev := e.rev()
	got, err := e.svc.PreviewMembers(e.ctx, e.admin, a.ID, []service.MemberInput{{UserID: ann.UserID}, {UserID: bob.UserID}})
	e.must(err)
	if got[0].Refusal != nil || !domain.Is(got[1].Refusal, domain.KindConflict) || !strings.Contains(got[1].Refusal.Error(), "Site B") {
		t.Fatalf("preview = %+v, want ann added and bob refused naming Site B (R23)", got)
	}
	if e.rev() != rev {
		t.Fatal("a preview wrote something")
	}
	// A caller who may manage members but not hand out what the group
	// gives: everyone is refused, with the reason.
	f, _, err := e.svc.CreateFolder(e.ctx, e.admin, domain.Folder{Name: "scans", TypeID: domain.FolderTypeFolderID})
	e.must(err)
	_, _, err = e.svc.SetFolderLevel(e.ctx, e.admin, f.ID, a.ID, domain.LevelEdit)
	e.must(err)
	mgr := e.user("mgr", domain.RoleSystemManagerID)
	rev = e.rev()
	got, err = e.svc.PreviewMembers(e.ctx, mgr, a.ID, []service.MemberInput{{UserID: ann.UserID}})
	e.must(err)
	if !domain.Is(got[0].Refusal, domain.KindForbidden) || !strings.Contains(got[0].Refusal.Error(), "root.edit on folder /scans") {
		t.Fatalf("preview by a System Manager = %+v, want refused naming root.edit on /scans (R22)", got)
	}
	if e.rev() != rev {
		t.Fatal("a preview wrote something")
	}
	if n := len(e.audits("group.member_add", domain.OutcomeDenied)); n != 0 {
		t.Fatalf("a preview audited %d refusals; it is a read", n)
	}
}
