package service_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// oidcBot makes the user an OpenID Connect provider acts as: a member of
// a group holding keys.
func (e *env) oidcBot(name string, keys ...string) service.Caller {
	e.t.Helper()
	bot := e.user(name, "")
	e.add(e.sysGroup(name+" rights", keys...).ID, bot)
	return bot
}

func signIn(subject, username string, groups ...string) service.OIDCSignIn {
	return service.OIDCSignIn{Provider: "idp", Issuer: "https://idp.example", Subject: subject, Username: username,
		JIT: true, ProvisionAs: "idp-bot", MapGroups: true, Groups: groups, RemoteAddr: "192.0.2.7"}
}

// The provider acts as provision_as through the kernel: it cannot put
// anyone into a group granting what provision_as does not hold (R22),
// and the refusal is reported and audited while the sign-in goes on.
func TestSignInOIDCMappingIsBoundedByProvisionAsR22(t *testing.T) {
	e := newEnv(t)
	e.oidcBot("idp-bot", domain.PermUsersView, domain.PermUsersEdit, domain.PermGroupsView, domain.PermGroupsMembers, domain.PermRolesView)
	e.sysGroup("Readers")
	e.sysGroup("Auditors", domain.PermAuditView)
	res, err := e.svc.SignInOIDC(e.ctx, signIn("s1", "ivy", "Readers", "Auditors"))
	e.must(err)
	if !res.Created || !slices.Equal(res.Added, []string{"Readers"}) || len(res.Refused) != 1 || !strings.Contains(res.Refused[0], domain.PermAuditView) {
		t.Fatalf("result = %+v, want ivy created, Readers added and Auditors refused for audit.view", res)
	}
	if got := e.audits("group.member_add", domain.OutcomeDenied); len(got) == 0 || !strings.Contains(got[0].Detail, domain.PermAuditView) {
		t.Errorf("denied member_add records = %+v, want the R22 refusal", got)
	}
}

// Without users.edit, provision_as cannot create users: JIT is refused
// (R21), and nothing is written but the refusal's record.
func TestSignInOIDCJITNeedsUsersEditR21(t *testing.T) {
	e := newEnv(t)
	bot := e.oidcBot("idp-bot", domain.PermUsersView, domain.PermGroupsView)
	before := e.rev()
	_, err := e.svc.SignInOIDC(e.ctx, signIn("s2", "jo"))
	wantKind(t, err, domain.KindForbidden, domain.PermUsersEdit)
	if e.rev() != before {
		t.Errorf("revision moved from %d to %d: a refused creation wrote something", before, e.rev())
	}
	e.wantDeniedAudit(bot, "user.create")
}

// The mapping never removes an administrator's membership, and a second
// group of an exclusive project is reported, not forced (R23).
func TestSignInOIDCMappingKeepsAdministratorsMembershipsAndReportsR23(t *testing.T) {
	e := newEnv(t)
	e.oidcBot("idp-bot", domain.PermUsersView, domain.PermUsersEdit, domain.PermGroupsView, domain.PermGroupsMembers, domain.PermRolesView)
	a, b, kept := e.sysGroup("A"), e.sysGroup("B"), e.sysGroup("Kept")
	p := e.project("Trial", domain.ModeExclusive)
	for _, g := range []domain.Group{a, b} {
		_, _, err := e.svc.ImportGroup(e.ctx, e.admin, g.ID, []string{p.ID})
		e.must(err)
	}
	res, err := e.svc.SignInOIDC(e.ctx, signIn("s3", "kim", "A", "B"))
	e.must(err)
	if len(res.Added) != 1 || len(res.Refused) != 1 || !strings.Contains(res.Refused[0], "exclusive") {
		t.Fatalf("result = %+v, want one of A and B added and the other refused as exclusive", res)
	}
	e.add(kept.ID, service.Caller{UserID: res.User.ID})
	res, err = e.svc.SignInOIDC(e.ctx, signIn("s3", "kim"))
	e.must(err)
	if len(res.Removed) != 1 || slices.Contains(res.Removed, "Kept") {
		t.Errorf("result = %+v, want the mapped group removed and Kept (an administrator's) left alone", res)
	}
	if _, err := e.st.GetMembership(e.ctx, kept.ID, res.User.ID); err != nil {
		t.Errorf("the administrator's membership is gone: %v", err)
	}
}

// The mapping never fills a group whose members are implicit (Everyone,
// R4; Public, R5), names no group it cannot find, and puts someone into
// Administrators only when the provider allows it (R3), and then only
// as a holder of server.manage may; names match case-insensitively.
// These are switch cases, which gremlins 0.6.0 never mutates
// (docs/testing.md), so they were applied by hand.
func TestSignInOIDCMappingR3R4R5ImplicitGroupsAndAdministrators(t *testing.T) {
	e := newEnv(t)
	e.oidcBot("idp-bot", domain.PermServerManage)
	e.sysGroup("Readers")
	res, err := e.svc.SignInOIDC(e.ctx, signIn("s4", "lee", "everyone", "PUBLIC", "Administrators", "No Such", "readers"))
	e.must(err)
	want := []string{
		`group "everyone": its members are implicit (R4, R5)`,
		`group "PUBLIC": its members are implicit (R4, R5)`,
		`group "Administrators": the provider's group_mapping does not set allow_administrators, so the mapping never puts anyone into Administrators (R3)`,
		`group "No Such": there is no such system group`,
	}
	if !slices.Equal(res.Added, []string{"Readers"}) || !slices.Equal(res.Refused, want) {
		t.Fatalf("result = %+v,\nwant Readers added and refused %q", res, want)
	}
	if got := e.audits("group.member_add", domain.OutcomeDenied); len(got) != len(want) {
		t.Errorf("%d denied member_add records, want one per refusal (%d): %+v", len(got), len(want), got)
	}
	allowed := signIn("s4", "lee", "administrators", "Readers")
	allowed.AllowAdministrators = true
	res, err = e.svc.SignInOIDC(e.ctx, allowed)
	e.must(err)
	if !slices.Equal(res.Added, []string{"Administrators"}) || len(res.Refused) != 0 {
		t.Errorf("result = %+v, want Administrators added when allowed", res)
	}
	if !e.can(service.Caller{UserID: res.User.ID}, domain.PermServerManage, system) {
		t.Error("lee is in Administrators but does not hold server.manage")
	}

	e.oidcBot("weak-bot", domain.PermUsersView, domain.PermUsersEdit, domain.PermGroupsView, domain.PermGroupsMembers, domain.PermRolesView)
	allowed = signIn("s5", "max", "Administrators")
	allowed.AllowAdministrators, allowed.ProvisionAs = true, "weak-bot"
	res, err = e.svc.SignInOIDC(e.ctx, allowed)
	e.must(err)
	if len(res.Added) != 0 || len(res.Refused) != 1 || !strings.Contains(res.Refused[0], "R3") {
		t.Errorf("result = %+v, want Administrators refused (R3) to a provider acting without server.manage", res)
	}
}

// Every group the mapping put someone into and no longer maps is left at
// the next sign-in, not only the first, each with its own audit record
// (R29).
func TestSignInOIDCMappingLeavesEveryUnmappedGroupR29(t *testing.T) {
	e := newEnv(t)
	e.oidcBot("idp-bot", domain.PermUsersView, domain.PermUsersEdit, domain.PermGroupsView, domain.PermGroupsMembers, domain.PermRolesView)
	for _, n := range []string{"A", "B", "C"} {
		e.sysGroup(n)
	}
	res, err := e.svc.SignInOIDC(e.ctx, signIn("s6", "noa", "A", "B", "C"))
	e.must(err)
	if len(res.Added) != 3 {
		t.Fatalf("result = %+v, want A, B and C added", res)
	}
	res, err = e.svc.SignInOIDC(e.ctx, signIn("s6", "noa", "B"))
	e.must(err)
	got := slices.Clone(res.Removed)
	slices.Sort(got)
	if !slices.Equal(got, []string{"A", "C"}) || len(res.Added) != 0 || len(res.Refused) != 0 {
		t.Errorf("result = %+v, want A and C removed and nothing else", res)
	}
	if n := len(e.audits("group.member_remove", domain.OutcomeSuccess)); n != 2 {
		t.Errorf("%d audit records of removals, want 2", n)
	}
}
