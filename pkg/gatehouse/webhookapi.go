package gatehouse

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Managing webhook subscriptions (webhooks.manage; docs/integrating.md,
// "Webhooks").

// WebhookFilter selects the changes a subscription receives, as the
// change feed's filters do; empty fields keep everything.
type WebhookFilter struct {
	Entity    string `json:"entity,omitempty"`
	Action    string `json:"action,omitempty"`
	GroupID   string `json:"group_id,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
}

// WebhookConfig is what creating or replacing a subscription sends.
type WebhookConfig struct {
	Name   string        `json:"name"`
	URL    string        `json:"url"`
	Filter WebhookFilter `json:"filter,omitempty"`
	// Secret signs deliveries; empty: generated on creation, kept on
	// update.
	Secret string `json:"secret,omitempty"`
	// Active pauses delivery when false (nil: true).
	Active *bool `json:"active,omitempty"`
}

// WebhookState is where a subscription's delivery stands.
type WebhookState struct {
	// Cursor is the last revision delivered.
	Cursor    int64      `json:"cursor"`
	Failing   bool       `json:"failing"`
	LastError string     `json:"last_error,omitempty"`
	FailedAt  *time.Time `json:"failed_at,omitempty"`
}

// Webhook is a subscription.
type Webhook struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	URL     string        `json:"url"`
	Filter  WebhookFilter `json:"filter"`
	Active  bool          `json:"active"`
	OwnerID string        `json:"owner_id"`
	State   WebhookState  `json:"state"`
	// Secret is set only in CreateWebhook's answer.
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// WebhookAttempt is one entry of a subscription's delivery log.
type WebhookAttempt struct {
	ID           string    `json:"id"`
	WebhookID    string    `json:"webhook_id"`
	At           time.Time `json:"at"`
	FromRevision int64     `json:"from_revision"`
	ToRevision   int64     `json:"to_revision"`
	Changes      int       `json:"changes"`
	Attempt      int       `json:"attempt"`
	StatusCode   int       `json:"status_code,omitempty"`
	LatencyMS    int64     `json:"latency_ms"`
	OK           bool      `json:"ok"`
	Error        string    `json:"error,omitempty"`
	Ping         bool      `json:"ping,omitempty"`
}

func webhookPath(id string) string { return "/webhooks/" + url.PathEscape(id) }

// ListWebhooks lists the subscriptions.
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var out struct {
		Items []Webhook `json:"items"`
	}
	_, err := c.Do(ctx, http.MethodGet, "/webhooks", nil, &out)
	return out.Items, err
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
	var out struct {
		Items []WebhookAttempt `json:"items"`
	}
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
	_, err := c.Do(ctx, http.MethodPost, webhookPath(id)+"/redeliver", map[string]int64{"from": from}, &w)
	return w, err
}

// PingWebhook sends a test delivery and reports how it went.
func (c *Client) PingWebhook(ctx context.Context, id string) (WebhookAttempt, error) {
	var d WebhookAttempt
	_, err := c.Do(ctx, http.MethodPost, webhookPath(id)+"/ping", nil, &d)
	return d, err
}
