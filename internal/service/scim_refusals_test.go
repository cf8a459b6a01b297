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
	// when the object exists outside SCIM, and passes other errors on.
	_, getErr := e.svc.GetSCIMGroup(e.ctx, scim, domain.GroupPublicID)
	err = e.svc.RefuseSCIMChange(e.ctx, scim, "group", domain.GroupPublicID, getErr)
	wantKind(t, err, domain.KindNotFound)
	before := len(e.audits("group.update", domain.OutcomeDenied))
	missing := domain.E("test", domain.KindNotFound)
	if got := e.svc.RefuseSCIMChange(e.ctx, scim, "group", "no-such-group", missing); got != missing {
		t.Errorf("RefuseSCIMChange on a missing group = %v, want the error passed through", got)
	}
	if after := len(e.audits("group.update", domain.OutcomeDenied)); after != before {
		t.Errorf("a missing group was audited as a refused change (%d → %d records)", before, after)
	}

	// Without scim.provision: refused and audited.
	_, err = e.svc.SCIMCaller(e.ctx, local)
	wantKind(t, err, domain.KindForbidden, domain.PermScimProvision)
	e.wantDeniedAudit(local, "scim.access")
}
