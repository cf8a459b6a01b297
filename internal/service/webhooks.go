package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Webhook subscriptions (docs/integrating.md, "Webhooks"): the change
// feed pushed to a URL. Managing them needs webhooks.manage; each write is
// audited in its transaction, records no mutation (so no revision) and
// passes the kernel like every write. Deliveries read the feed as the
// subscription's owner, the last user to create or change it, limited to
// what that user's caller held of changes.read and personal_info.view:
// nobody can have a subscription deliver more than they may read (R18,
// R22).

// WebhookSender is the outbound side of webhooks (internal/webhook): the
// service checks URLs against its policy and sends test pings through it,
// without knowing HTTP.
type WebhookSender interface {
	// CheckURL refuses a URL the outbound policy forbids, with the reason.
	CheckURL(raw string) error
	// Ping sends a test delivery and reports how it went.
	Ping(ctx context.Context, w domain.Webhook) domain.WebhookDelivery
}

// SetWebhookSender installs the outbound side; until then webhook writes
// and pings are refused as unavailable.
func (s *Service) SetWebhookSender(ws WebhookSender) { s.sender = ws }

// WebhookInput is a subscription's configuration as a caller gives it.
type WebhookInput struct {
	Name   string
	URL    string
	Filter domain.WebhookFilter
	// Secret signs deliveries; empty when creating generates one, when
	// updating keeps the current one.
	Secret string
	Active bool
	// Version, when updating, must be the stored version (0: don't care).
	Version int64
}

// deliveryLimit is what a delivery may read of its owner's permissions.
var deliveryLimit = []string{domain.PermChangesRead, domain.PermPersonalInfoView}

// readLimit is deliveryLimit narrowed to the caller's token limit.
func readLimit(c Caller) []string {
	if !c.Limited() {
		return slices.Clone(deliveryLimit)
	}
	allowed := domain.Close(c.Limit)
	var out []string
	for _, k := range deliveryLimit {
		if slices.Contains(allowed, k) {
			out = append(out, k)
		}
	}
	return out
}

// webhookManager is the permission check every webhook use case starts
// with: webhooks.manage, and changes.read for what deliveries read.
func (s *Service) webhookManager(op string, c Caller) error {
	p, err := s.perms(op, c)
	if err != nil {
		return err
	}
	for _, k := range []string{domain.PermWebhooksManage, domain.PermChangesRead} {
		if !p.has(k) {
			return deny("webhook", "", "missing permission %s", k)
		}
	}
	return nil
}

// NewWebhookSecret returns a random signing secret.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// configure validates in and applies it to w, as the caller's.
func (s *Service) configure(op string, c Caller, w *domain.Webhook, in WebhookInput) error {
	if s.sender == nil {
		return domain.Errorf(op, domain.KindUnavailable, "webhooks are not enabled on this server")
	}
	w.Name, w.URL, w.Filter, w.Active = in.Name, in.URL, in.Filter, in.Active
	if in.Secret != "" {
		w.Secret = in.Secret
	}
	w.OwnerID, w.ReadLimit = c.UserID, readLimit(c)
	if err := w.Validate(); err != nil {
		return domain.E(op, err)
	}
	if w.Filter.Entity != "" && !knownEntity(domain.Entity(w.Filter.Entity)) {
		return invalid(op, "filter.entity", "unknown entity kind %q", w.Filter.Entity)
	}
	if err := s.sender.CheckURL(w.URL); err != nil {
		return invalid(op, "url", "%v", err)
	}
	return nil
}

// CreateWebhook creates a subscription delivering the changes committed
// from now on (webhooks.manage). It returns the subscription and its
// secret, which is never shown again.
func (s *Service) CreateWebhook(ctx context.Context, c Caller, in WebhookInput) (domain.Webhook, string, int64, error) {
	const op, action = "service.CreateWebhook", "webhook.create"
	var w domain.Webhook
	if in.Secret == "" {
		in.Secret = NewWebhookSecret()
	}
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		if err := s.webhookManager(op, c); err != nil {
			return err
		}
		if err := s.configure(op, c, &w, in); err != nil {
			return err
		}
		all, err := tx.ListWebhooks(ctx)
		if err != nil {
			return err
		}
		if len(all) >= domain.MaxWebhooks {
			return invalid(op, "name", "a server holds at most %d webhook subscriptions", domain.MaxWebhooks)
		}
		if w.State.Cursor, err = tx.Revision(ctx); err != nil {
			return err
		}
		if err := tx.CreateWebhook(ctx, &w); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "webhook", w.ID, nil, w, "")
	})
	if err != nil {
		return domain.Webhook{}, "", rev, err
	}
	return w, w.Secret, rev, nil
}

// UpdateWebhook replaces a subscription's configuration (webhooks.manage);
// the caller becomes its owner. Delivery goes on from where it stands.
func (s *Service) UpdateWebhook(ctx context.Context, c Caller, id string, in WebhookInput) (domain.Webhook, int64, error) {
	const op, action = "service.UpdateWebhook", "webhook.update"
	var w domain.Webhook
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		if err := s.webhookManager(op, c); err != nil {
			return err
		}
		var err error
		if w, err = tx.GetWebhook(ctx, id); err != nil {
			return err
		}
		if in.Version != 0 && in.Version != w.Version {
			return conflict(op, "webhook %s changed meanwhile (version %d, not %d)", id, w.Version, in.Version)
		}
		before := w
		if err := s.configure(op, c, &w, in); err != nil {
			return err
		}
		if err := tx.UpdateWebhook(ctx, &w); err != nil {
			return err
		}
		detail := ""
		if in.Secret != "" {
			detail = "secret replaced"
		}
		return audit(ctx, tx, c, action, "webhook", id, before, w, detail)
	})
	return w, rev, err
}

// DeleteWebhook deletes a subscription and its delivery log
// (webhooks.manage).
func (s *Service) DeleteWebhook(ctx context.Context, c Caller, id string) (int64, error) {
	const op, action = "service.DeleteWebhook", "webhook.delete"
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		if err := s.webhookManager(op, c); err != nil {
			return err
		}
		w, err := tx.GetWebhook(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "webhook", id, w, nil, "")
	})
}

// RedeliverWebhook makes a subscription deliver again every change from
// revision from on (webhooks.manage), and clears its failing mark. A
// revision the change log no longer retains makes the next delivery fail
// as gone.
func (s *Service) RedeliverWebhook(ctx context.Context, c Caller, id string, from int64) (domain.Webhook, int64, error) {
	const op, action = "service.RedeliverWebhook", "webhook.redeliver"
	var w domain.Webhook
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		if err := s.webhookManager(op, c); err != nil {
			return err
		}
		rev, err := tx.Revision(ctx)
		if err != nil {
			return err
		}
		if from < 1 || from > rev+1 {
			return invalid(op, "from", "must be a revision between 1 and %d", rev+1)
		}
		if w, err = tx.GetWebhook(ctx, id); err != nil {
			return err
		}
		before := w.State.Cursor
		if err := tx.RewindWebhook(ctx, id, from-1); err != nil {
			return err
		}
		w.State = domain.WebhookState{Cursor: from - 1}
		return audit(ctx, tx, c, action, "webhook", id, map[string]int64{"cursor": before}, map[string]int64{"cursor": from - 1}, "")
	})
	return w, rev, err
}

// PingWebhook sends a test delivery (webhooks.manage), audited, and logs
// it in the subscription's delivery log.
func (s *Service) PingWebhook(ctx context.Context, c Caller, id string) (domain.WebhookDelivery, int64, error) {
	const op, action = "service.PingWebhook", "webhook.ping"
	var w domain.Webhook
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		if err := s.webhookManager(op, c); err != nil {
			return err
		}
		if s.sender == nil {
			return domain.Errorf(op, domain.KindUnavailable, "webhooks are not enabled on this server")
		}
		var err error
		if w, err = tx.GetWebhook(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "webhook", id, nil, nil, "")
	})
	if err != nil {
		return domain.WebhookDelivery{}, rev, err
	}
	d := s.sender.Ping(ctx, w)
	if err := s.st.RecordWebhookDelivery(ctx, &d); err != nil {
		return d, rev, domain.E(op, err)
	}
	return d, rev, nil
}

// ListWebhooks lists the subscriptions (webhooks.manage).
func (s *Service) ListWebhooks(ctx context.Context, c Caller) ([]domain.Webhook, error) {
	const op = "service.ListWebhooks"
	if err := s.webhookReader(op, c); err != nil {
		return nil, err
	}
	ws, err := s.st.ListWebhooks(ctx)
	if err != nil {
		return nil, domain.E(op, err)
	}
	return ws, nil
}

// GetWebhook returns a subscription and where its delivery stands
// (webhooks.manage).
func (s *Service) GetWebhook(ctx context.Context, c Caller, id string) (domain.Webhook, error) {
	const op = "service.GetWebhook"
	if err := s.webhookReader(op, c); err != nil {
		return domain.Webhook{}, err
	}
	w, err := s.st.GetWebhook(ctx, id)
	if err != nil {
		return w, domain.E(op, err)
	}
	return w, nil
}

// WebhookDeliveries returns a subscription's delivery log, newest first
// (webhooks.manage).
func (s *Service) WebhookDeliveries(ctx context.Context, c Caller, id string, limit int) ([]domain.WebhookDelivery, error) {
	const op = "service.WebhookDeliveries"
	if err := s.webhookReader(op, c); err != nil {
		return nil, err
	}
	if limit < 0 || limit > store.MaxWebhookDeliveries {
		return nil, invalid(op, "limit", "must be between 1 and %d", store.MaxWebhookDeliveries)
	}
	if _, err := s.st.GetWebhook(ctx, id); err != nil {
		return nil, domain.E(op, err)
	}
	log, err := s.st.ListWebhookDeliveries(ctx, id, limit)
	if err != nil {
		return nil, domain.E(op, err)
	}
	return log, nil
}

// webhookReader is webhookManager for reads: a refusal is returned, not
// audited.
func (s *Service) webhookReader(op string, c Caller) error {
	if _, err := s.reader(op, c); err != nil {
		return err
	}
	err := s.webhookManager(op, c)
	var d *denial
	if errors.As(err, &d) {
		return forbidden(op, "%s", d.missing)
	}
	return err
}

// WebhookBatch is what the delivery worker sends next to a subscription:
// the changes after its cursor its filter keeps, read as its owner
// limited to its read limit (a refusal when the owner lost changes.read
// or no longer exists; ChangesGone past retention), waiting up to
// q.Wait for one.
func (s *Service) WebhookBatch(ctx context.Context, w domain.Webhook, q FeedQuery) (FeedPage, error) {
	owner := Caller{UserID: w.OwnerID, Username: "webhook " + w.Name, Limit: w.ReadLimit}
	if len(w.ReadLimit) == 0 {
		// An empty limit would mean everything the owner holds.
		return FeedPage{}, forbidden("service.WebhookBatch", "the subscription may read nothing: the token that set it up held neither changes.read nor personal_info.view")
	}
	q.After = w.State.Cursor
	q.Entity, q.Action = w.Filter.Entity, w.Filter.Action
	q.GroupID, q.ProjectID, q.UserID = w.Filter.GroupID, w.Filter.ProjectID, w.Filter.UserID
	return s.Changes(ctx, owner, q)
}
