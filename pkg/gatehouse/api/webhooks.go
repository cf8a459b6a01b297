package api

import "time"

// Webhook subscriptions (docs/integrating.md, "Webhooks"): the change feed
// pushed to a URL, managed by holders of webhooks.manage.

// WebhookFilter selects the changes a subscription receives, as the
// change feed's filters do; empty fields keep everything.
type WebhookFilter struct {
	Entity    string `json:"entity,omitempty" doc:"keep only objects of this kind: user, group, membership, ..."`
	Action    string `json:"action,omitempty" doc:"keep only changes with this audit action, e.g. group.member_add"`
	GroupID   string `json:"group_id,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
}

// WebhookRequest creates a subscription or replaces its configuration.
type WebhookRequest struct {
	Name   string        `json:"name" maxLength:"1000"`
	URL    string        `json:"url" maxLength:"4000" doc:"Where deliveries are POSTed: https (http only when the server allows it), no credentials, not an internal address unless the server allows its range."`
	Filter WebhookFilter `json:"filter,omitempty" doc:"The change feed's filters; empty keeps every change."`
	// Secret signs deliveries; empty: generated on creation, kept on
	// update.
	Secret string `json:"secret,omitempty" maxLength:"1000" doc:"Signs deliveries (16 to 200 characters). When creating, leave it out to have one generated; when updating, leave it out to keep the current one."`
	// Active pauses delivery when false (nil: true).
	Active *bool `json:"active,omitempty" doc:"Deliver (default true) or pause."`
}

// WebhookState is where a subscription's delivery stands.
type WebhookState struct {
	// Cursor is the last revision delivered (or skipped by the filter).
	Cursor    int64      `json:"cursor"`
	Failing   bool       `json:"failing"`
	LastError string     `json:"last_error,omitempty"`
	FailedAt  *time.Time `json:"failed_at,omitempty"`
}

// Webhook is a subscription; its secret is never shown after creation.
type Webhook struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	URL     string        `json:"url"`
	Filter  WebhookFilter `json:"filter"`
	Active  bool          `json:"active"`
	OwnerID string        `json:"owner_id" doc:"the user whose read permissions deliveries use: whoever created or last changed the subscription"`
	State   WebhookState  `json:"state"`
	// CreatedAt, UpdatedAt and Version (the ETag) as for every object.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// WebhookBody is a subscription as the answer to a single-subscription
// operation shows it: with its secret in the answer to a creation only.
type WebhookBody struct {
	Webhook
	Secret string `json:"secret,omitempty" doc:"Only in the answer to a creation: the signing secret, never shown again."`
}

// WebhooksBody lists the subscriptions.
type WebhooksBody struct {
	Items []Webhook `json:"items"`
}

// WebhookAttempt is one entry of a subscription's delivery log: one try
// to deliver a batch of changes, or a test ping.
type WebhookAttempt struct {
	ID        string    `json:"id"`
	WebhookID string    `json:"webhook_id"`
	At        time.Time `json:"at"`
	// FromRevision and ToRevision are the revisions the delivery
	// carried (0 and 0 for a ping).
	FromRevision int64  `json:"from_revision"`
	ToRevision   int64  `json:"to_revision"`
	Changes      int    `json:"changes"`
	Attempt      int    `json:"attempt" doc:"1 for the first try of this batch, counting up through the retries"`
	StatusCode   int    `json:"status_code,omitempty" doc:"the receiver's HTTP status; 0 when none came"`
	LatencyMS    int64  `json:"latency_ms"`
	OK           bool   `json:"ok"`
	Error        string `json:"error,omitempty"`
	Ping         bool   `json:"ping,omitempty"`
}

// WebhookAttemptsBody is a subscription's delivery log, newest first.
type WebhookAttemptsBody struct {
	Items []WebhookAttempt `json:"items"`
}

// RedeliverRequest rewinds a subscription.
type RedeliverRequest struct {
	From int64 `json:"from" minimum:"1" doc:"Deliver again every change from this revision on."`
}

// The values of WebhookPayload.Type (and of the Gatehouse-Event header).
const (
	WebhookEventChanges = "changes"
	WebhookEventPing    = "ping"
)

// WebhookPayload is the body Gatehouse POSTs to a subscription's URL (not
// a REST body: the receiver's side of the API).
type WebhookPayload struct {
	// Type is "changes" or "ping" (a test with no changes).
	Type      string `json:"type"`
	WebhookID string `json:"webhook_id"`
	// Changes are in revision order, in the change feed's format.
	Changes []FeedChange `json:"changes"`
	// Next is the revision delivery continues after once this body is
	// acknowledged.
	Next int64 `json:"next"`
}
