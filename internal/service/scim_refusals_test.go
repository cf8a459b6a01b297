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

	_, _, err = e.svc.UpdateSCIMUser(e.ctx, scim, local.UserID, service.SCIMUserUpdate{DisplayName: &name})
	wantKind(t, err, domain.KindNotFound, "provisioned over SCIM")
	e.wantDeniedAudit(e.admin, "user.update")

	_, err = e.svc.DeleteSCIMUser(e.ctx, scim, local.UserID, 0)
	wantKind(t, err, domain.KindNotFound, "provisioned over SCIM")
	e.wantDeniedAudit(e.admin, "user.delete")

	_, _, err = e.svc.ChangeSCIMGroup(e.ctx, scim, domain.GroupAdministratorsID, service.SCIMGroupChange{Name: &name})
	wantKind(t, err, domain.KindNotFound, "provisioned over SCIM")
	e.wantDeniedAudit(e.admin, "group.update")

	_, err = e.svc.DeleteSCIMGroup(e.ctx, scim, domain.GroupAdministratorsID, 0)
	wantKind(t, err, domain.KindNotFound, "provisioned over SCIM")
	e.wantDeniedAudit(e.admin, "group.delete")

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
