package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// fakeSender is the outbound side with a policy of https only.
type fakeSender struct{ pings []string }

func (f *fakeSender) CheckURL(raw string) error {
	if !strings.HasPrefix(raw, "https://") {
		return errors.New("must be an https URL")
	}
	return nil
}

func (f *fakeSender) Ping(_ context.Context, w domain.Webhook) domain.WebhookDelivery {
	f.pings = append(f.pings, w.ID)
	return domain.WebhookDelivery{WebhookID: w.ID, Ping: true, OK: true, StatusCode: 204, Attempt: 1}
}

func webhookEnv(t *testing.T) (*env, *fakeSender) {
	e := newEnv(t)
	f := &fakeSender{}
	e.svc.SetWebhookSender(f)
	return e, f
}

func hookInput(name string) service.WebhookInput {
	return service.WebhookInput{Name: name, URL: "https://hooks.example.org/" + name, Active: true,
		Filter: domain.WebhookFilter{Entity: "membership"}}
}

// Webhook subscriptions are audited writes that allocate no revision; the
// secret is generated when none is given and the cursor starts at the
// current revision (R29).
func TestR29WebhookWritesAreAuditedWithoutRevision(t *testing.T) {
	e, f := webhookEnv(t)
	rev := e.rev()
	w, secret, _, err := e.svc.CreateWebhook(e.ctx, e.admin, hookInput("cache"))
	e.must(err)
	if !strings.HasPrefix(secret, "whsec_") || w.State.Cursor != rev || w.OwnerID != e.admin.UserID {
		t.Errorf("created %+v with secret %q; want a generated secret, the cursor at %d and the admin as owner", w, secret, rev)
	}
	up := hookInput("cache")
	up.URL, up.Version = "https://other.example.org/x", w.Version
	w, _, err = e.svc.UpdateWebhook(e.ctx, e.admin, w.ID, up)
	e.must(err)
	got, err := e.svc.GetWebhook(e.ctx, e.admin, w.ID)
	e.must(err)
	if got.URL != up.URL || got.Secret != secret {
		t.Errorf("after update: url %q, secret kept %v", got.URL, got.Secret == secret)
	}
	_, _, err = e.svc.RedeliverWebhook(e.ctx, e.admin, w.ID, 1)
	e.must(err)
	if got, _ = e.svc.GetWebhook(e.ctx, e.admin, w.ID); got.State.Cursor != 0 {
		t.Errorf("redeliver from 1: cursor %d, want 0", got.State.Cursor)
	}
	d, _, err := e.svc.PingWebhook(e.ctx, e.admin, w.ID)
	e.must(err)
	if !d.Ping || len(f.pings) != 1 {
		t.Errorf("ping: %+v, %d pings sent", d, len(f.pings))
	}
	log, err := e.svc.WebhookDeliveries(e.ctx, e.admin, w.ID, 0)
	e.must(err)
	if len(log) != 1 || !log[0].Ping {
		t.Errorf("delivery log after a ping: %+v", log)
	}
	e.must(errOf(e.svc.DeleteWebhook(e.ctx, e.admin, w.ID)))
	if e.rev() != rev {
		t.Errorf("webhook writes moved the revision from %d to %d", rev, e.rev())
	}
	for _, a := range []string{"webhook.create", "webhook.update", "webhook.redeliver", "webhook.ping", "webhook.delete"} {
		if len(e.audits(a, domain.OutcomeSuccess)) != 1 {
			t.Errorf("want one audit record of %s", a)
		}
	}
	for _, a := range e.audits("webhook.create", domain.OutcomeSuccess) {
		if strings.Contains(string(a.After), secret) {
			t.Errorf("the secret is in the audit log: %s", a.After)
		}
	}
}

// R21: managing webhooks needs webhooks.manage (and changes.read, what
// deliveries read); a refusal is audited and writes nothing.
func TestR21WebhooksNeedWebhooksManage(t *testing.T) {
	e, _ := webhookEnv(t)
	w, _, _, err := e.svc.CreateWebhook(e.ctx, e.admin, hookInput("cache"))
	e.must(err)
	bob := e.user("bob", "")
	_, _, _, err = e.svc.CreateWebhook(e.ctx, bob, hookInput("bobs"))
	wantKind(t, err, domain.KindForbidden, domain.PermWebhooksManage)
	e.wantDeniedAudit(bob, "webhook.create")
	wantKind(t, errOf(e.svc.DeleteWebhook(e.ctx, bob, w.ID)), domain.KindForbidden, domain.PermWebhooksManage)
	_, err = e.svc.ListWebhooks(e.ctx, bob)
	wantKind(t, err, domain.KindForbidden)
	_, _, err = e.svc.RedeliverWebhook(e.ctx, bob, w.ID, 1)
	wantKind(t, err, domain.KindForbidden)

	carol := e.user("carol", "")
	e.add(e.sysGroup("Hook keepers", domain.PermWebhooksManage, domain.PermChangesRead).ID, carol)
	all, err := e.svc.ListWebhooks(e.ctx, carol)
	e.must(err)
	if len(all) != 1 {
		t.Fatalf("carol sees %d subscriptions, want 1", len(all))
	}
	_, _, err = e.svc.UpdateWebhook(e.ctx, carol, w.ID, hookInput("cache"))
	e.must(err)
	if got, _ := e.svc.GetWebhook(e.ctx, carol, w.ID); got.OwnerID != carol.UserID {
		t.Errorf("the subscription's owner after carol's change: %s, want carol (deliveries read as her)", got.OwnerID)
	}
}

// R22: deliveries read the feed as the owner, limited to what the
// owner's caller held of changes.read and personal_info.view: a token
// limited to webhooks.manage and changes.read sets up a subscription
// that sees no personal field, and an owner who loses changes.read
// stops its deliveries.
func TestR22WebhookDeliveriesReadAsTheirOwner(t *testing.T) {
	e, _ := webhookEnv(t)
	dave := e.user("dave", "")
	g := e.sysGroup("Hook keepers", domain.PermWebhooksManage, domain.PermChangesRead, domain.PermPersonalInfoView)
	e.add(g.ID, dave)
	limited := dave
	limited.Limit = []string{domain.PermWebhooksManage, domain.PermChangesRead}
	in := hookInput("users")
	in.Filter = domain.WebhookFilter{Entity: "user"}
	w, _, _, err := e.svc.CreateWebhook(e.ctx, limited, in)
	e.must(err)
	_, _, err = e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "erin", Email: "erin@hospital.example"})
	e.must(err)
	page, err := e.svc.WebhookBatch(e.ctx, w, service.FeedQuery{})
	e.must(err)
	if len(page.Changes) != 1 || strings.Contains(string(mustJSON(t, page)), "hospital") {
		t.Errorf("a subscription set up by a token without personal_info.view: %s, want erin's creation, masked", mustJSON(t, page))
	}
	full, _, _, err := e.svc.CreateWebhook(e.ctx, dave, hookInput("full"))
	e.must(err)
	full.Filter = domain.WebhookFilter{Entity: "user"}
	full.State.Cursor = w.State.Cursor
	page, err = e.svc.WebhookBatch(e.ctx, full, service.FeedQuery{})
	e.must(err)
	if !strings.Contains(string(mustJSON(t, page)), "erin@hospital.example") {
		t.Errorf("dave's own subscription should show what dave may read: %s", mustJSON(t, page))
	}
	_, _, err = e.svc.RemoveMembers(e.ctx, e.admin, g.ID, []string{dave.UserID})
	e.must(err)
	_, err = e.svc.WebhookBatch(e.ctx, full, service.FeedQuery{})
	wantKind(t, err, domain.KindForbidden, domain.PermChangesRead)
}

// Bad configuration is refused with the field at fault.
func TestWebhookValidationNamesTheField(t *testing.T) {
	e, _ := webhookEnv(t)
	cases := []struct {
		field string
		edit  func(*service.WebhookInput)
	}{
		{"url", func(in *service.WebhookInput) { in.URL = "http://hooks.example.org/" }},
		{"name", func(in *service.WebhookInput) { in.Name = " " }},
		{"secret", func(in *service.WebhookInput) { in.Secret = "short" }},
		{"filter.entity", func(in *service.WebhookInput) { in.Filter.Entity = "planet" }},
		{"filter.action", func(in *service.WebhookInput) { in.Filter.Action = "DROP TABLE" }},
	}
	for _, c := range cases {
		in := hookInput("x")
		c.edit(&in)
		_, _, _, err := e.svc.CreateWebhook(e.ctx, e.admin, in)
		wantKind(t, err, domain.KindInvalid)
		if f := domain.FieldsOf(err); len(f) == 0 || f[0].Field != c.field {
			t.Errorf("%s: fields %v, want %s", c.field, f, c.field)
		}
	}
	all, err := e.svc.ListWebhooks(e.ctx, e.admin)
	e.must(err)
	if len(all) != 0 {
		t.Errorf("refused subscriptions were stored: %d", len(all))
	}
	_, _, _, err = e.svc.CreateWebhook(e.ctx, e.admin, hookInput("dup"))
	e.must(err)
	_, _, _, err = e.svc.CreateWebhook(e.ctx, e.admin, hookInput("DUP"))
	wantKind(t, err, domain.KindExists)
	_, _, err = e.svc.RedeliverWebhook(e.ctx, e.admin, all0(e).ID, 0)
	wantKind(t, err, domain.KindInvalid, "from")
}

func all0(e *env) domain.Webhook {
	all, err := e.svc.ListWebhooks(e.ctx, e.admin)
	e.must(err)
	return all[0]
}
