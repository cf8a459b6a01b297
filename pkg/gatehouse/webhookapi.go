package gatehouse

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Managing webhook subscriptions (webhooks.manage; docs/integrating.md,
// "Webhooks").

// WebhookFilter selects the changes a subscription receives, as the
// change feed's filters do; empty fields keep everything.
type WebhookFilter = api.WebhookFilter

// WebhookConfig is what creating or replacing a subscription sends.
type WebhookConfig = api.WebhookRequest

// WebhookState is where a subscription's delivery stands.
type WebhookState = api.WebhookState

// Webhook is a subscription; its Secret is set only in CreateWebhook's
// answer.
type Webhook = api.WebhookBody

// WebhookAttempt is one entry of a subscription's delivery log.
type WebhookAttempt = api.WebhookAttempt

func webhookPath(id string) string { return "/webhooks/" + url.PathEscape(id) }

// ListWebhooks lists the subscriptions.
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var out api.WebhooksBody
	_, err := c.Do(ctx, http.MethodGet, "/webhooks", nil, &out)
	if err != nil || out.Items == nil {
		return nil, err
	}
	hooks := make([]Webhook, len(out.Items))
	for i, w := range out.Items {
		hooks[i] = Webhook{Webhook: w}
	}
	return hooks, nil
}

// GetWebhook returns a subscription.
func (c *Client) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	var w Webhook
	_, err := c.Do(ctx, http.MethodGet, webhookPath(id), nil, &w)
	return w, err
}

// CreateWebhook creates a subscription; the answer's Secret is the only
// time the secret is shown.
func (c *Client) CreateWebhook(ctx context.Context, cfg WebhookConfig) (Webhook, error) {
	var w Webhook
	_, err := c.Do(ctx, http.MethodPost, "/webhooks", cfg, &w)
	return w, err
}

// UpdateWebhook replaces a subscription's configuration; the caller
// becomes its owner.
func (c *Client) UpdateWebhook(ctx context.Context, id string, cfg WebhookConfig) (Webhook, error) {
	var w Webhook
	_, err := c.Do(ctx, http.MethodPut, webhookPath(id), cfg, &w)
	return w, err
}

// DeleteWebhook deletes a subscription and its delivery log.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, webhookPath(id), nil, nil)
	return err
}

// WebhookDeliveries returns a subscription's delivery log, newest first
// (limit 0: the server's most, 500).
func (c *Client) WebhookDeliveries(ctx context.Context, id string, limit int) ([]WebhookAttempt, error) {
	var out api.WebhookAttemptsBody
	p := webhookPath(id) + "/deliveries"
	if limit > 0 {
		p += "?limit=" + strconv.Itoa(limit)
	}
	_, err := c.Do(ctx, http.MethodGet, p, nil, &out)
	return out.Items, err
}

// RedeliverWebhook makes a subscription deliver again every change from
// revision from on.
func (c *Client) RedeliverWebhook(ctx context.Context, id string, from int64) (Webhook, error) {
	var w Webhook
	_, err := c.Do(ctx, http.MethodPost, webhookPath(id)+"/redeliver", api.RedeliverRequest{From: from}, &w)
	return w, err
}

// PingWebhook sends a test delivery and reports how it went.
func (c *Client) PingWebhook(ctx context.Context, id string) (WebhookAttempt, error) {
	var d WebhookAttempt
	_, err := c.Do(ctx, http.MethodPost, webhookPath(id)+"/ping", nil, &d)
	return d, err
}
