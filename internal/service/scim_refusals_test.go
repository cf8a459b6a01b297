package service_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestR29SCIMRefusalsAreAudited: a SCIM caller touching what SCIM does not
// manage (a local user, a built-in group) is answered not found, as if it
// did not exist, and the refused attempt is in the audit log; so is a
// token without scim.provision knocking on SCIM at all.
func TestR29SCIMRefusalsAreAudited(t *testing.T) {
	e := newEnv(t)
	local := e.user("local-user", "")
	name := "renamed"

	// The administrator holds scim.provision through server.manage.
	scim, err := e.svc.SCIMCaller(e.ctx, e.admin)
	e.must(err)

	// Each refused write is one more denied record of its action, on its
	// target: a change of a group's member list alone is a member_add,
	// any change of its name or external id an update.
	extID, members := "ext-1", []service.SCIMMember{{ID: local.UserID}}
	changeAdministrators := func(ch service.SCIMGroupChange) func() error {
		return func() error {
			_, _, err := e.svc.ChangeSCIMGroup(e.ctx, scim, domain.GroupAdministratorsID, ch)
			return err
		}
	}
	for _, c := range []struct {
		what, action, target string
		write                func() error
	}{
		{"update a local user", "user.update", local.UserID, func() error {
			_, _, err := e.svc.UpdateSCIMUser(e.ctx, scim, local.UserID, service.SCIMUserUpdate{DisplayName: &name})
			return err
		}},
		{"delete a local user", "user.delete", local.UserID, func() error {
			_, err := e.svc.DeleteSCIMUser(e.ctx, scim, local.UserID, 0)
			return err
		}},
		{"rename Administrators", "group.update", domain.GroupAdministratorsID, changeAdministrators(service.SCIMGroupChange{Name: &name})},
		{"set Administrators' external id", "group.update", domain.GroupAdministratorsID, changeAdministrators(service.SCIMGroupChange{ExternalID: &extID})},
		{"set Administrators' members", "group.member_add", domain.GroupAdministratorsID, changeAdministrators(service.SCIMGroupChange{Members: &members})},
		{"delete Administrators", "group.delete", domain.GroupAdministratorsID, func() error {
			_, err := e.svc.DeleteSCIMGroup(e.ctx, scim, domain.GroupAdministratorsID, 0)
			return err
		}},
	} {
		before := len(e.audits(c.action, domain.OutcomeDenied))
		wantKind(t, c.write(), domain.KindNotFound, "provisioned over SCIM")
		denied := e.audits(c.action, domain.OutcomeDenied) // newest first
		if len(denied) != before+1 || denied[0].TargetID != c.target || denied[0].ActorID != e.admin.UserID {
			t.Errorf("%s: %d → %d denied %s records, want one more by the administrator on %s", c.what, before, len(denied), c.action, c.target)
		}
	}

	// A PATCH reads its target first: RefuseSCIMChange audits the refusal
	// when the object exists outside SCIM (one more denied record naming
	// it), and passes other errors on unaudited.
	for _, c := range []struct {
		kind, id, action string
		exists           bool
	}{
		{"user", local.UserID, "user.update", true},
		{"user", "no-such-user", "user.update", false},
		{"group", domain.GroupPublicID, "group.update", true},
		{"group", "no-such-group", "group.update", false},
	} {
		before := len(e.audits(c.action, domain.OutcomeDenied))
		missing := domain.E("test", domain.KindNotFound)
		err := e.svc.RefuseSCIMChange(e.ctx, scim, c.kind, c.id, missing)
		wantKind(t, err, domain.KindNotFound)
		denied := e.audits(c.action, domain.OutcomeDenied) // newest first
		switch {
		case c.exists && (len(denied) != before+1 || denied[0].TargetID != c.id):
			t.Errorf("RefuseSCIMChange on %s %s: %d → %d denied %s records, want one more naming it",
				c.kind, c.id, before, len(denied), c.action)
		case !c.exists && (err != missing || len(denied) != before):
			t.Errorf("RefuseSCIMChange on a missing %s = %v, %d → %d denied records; want the error passed through, none",
				c.kind, err, before, len(denied))
		}
	}

	// Without scim.provision: refused and audited.
	_, err = e.svc.SCIMCaller(e.ctx, local)
	wantKind(t, err, domain.KindForbidden, domain.PermScimProvision)
	e.wantDeniedAudit(local, "scim.access")
}
