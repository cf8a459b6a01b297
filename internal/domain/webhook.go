package domain

import (
	"regexp"
	"strings"
	"time"
)

// Webhook is a subscription to the change feed (docs/integrating.md,
// "Webhooks"): the changes its filter keeps are POSTed to URL, signed
// with Secret. Like API tokens it is not engine data: its writes record
// no mutation, so they never reach the change log, but they are audited.
// Deliveries read the feed as the owner, limited to changes.read and
// personal_info.view, so a subscription never shows more than its owner
// may read (R18, R22). The JSON tags are the encoding of its audit
// records (before/after), never the API's (pkg/gatehouse/api.Webhook).
type Webhook struct {
	ID     string        `json:"id"`
	Name   string        `json:"name"`
	URL    string        `json:"url"`
	Filter WebhookFilter `json:"filter"`
	// Secret signs each delivery (HMAC-SHA256). It is never answered
	// after the subscription is created.
	Secret  string `json:"-"`
	Active  bool   `json:"active"`
	OwnerID string `json:"owner_id"` // who created or last changed it
	// ReadLimit is what deliveries may read of the owner's permissions:
	// changes.read and personal_info.view, less what the token that
	// created or changed the subscription was not limited to (R22).
	ReadLimit []string `json:"-"`
	// State is the delivery worker's, written outside any transaction.
	State     WebhookState `json:"state"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	Version   int64        `json:"version"`
}

// WebhookFilter selects the changes a subscription receives: the change
// feed's filters (empty fields keep everything). Its JSON tags are its
// storage encoding (the filter column and audit records).
type WebhookFilter struct {
	Entity    string `json:"entity,omitempty"`
	Action    string `json:"action,omitempty"`
	GroupID   string `json:"group_id,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
}

// WebhookState is where delivery of a subscription stands.
type WebhookState struct {
	// Cursor is the last revision delivered (or skipped by the filter):
	// delivery resumes after it.
	Cursor int64 `json:"cursor"`
	// Failing is set when a delivery ran out of retries; the worker
	// keeps trying, slowly, until one succeeds.
	Failing   bool       `json:"failing"`
	LastError string     `json:"last_error,omitempty"`
	FailedAt  *time.Time `json:"failed_at,omitempty"`
	// LeaseOwner holds the subscription's delivery until LeaseUntil: only
	// one replica delivers a subscription at a time.
	LeaseOwner string     `json:"-"`
	LeaseUntil *time.Time `json:"-"`
}

// WebhookDelivery is one attempt to deliver to a subscription. It is
// stored in columns and never encoded as JSON: the API shows it as
// pkg/gatehouse/api.WebhookAttempt.
type WebhookDelivery struct {
	ID        string
	WebhookID string
	At        time.Time
	// From and To are the revisions the body carried (0 and 0 for a
	// test ping).
	From    int64
	To      int64
	Changes int
	// Attempt is 1 for the first try of a batch, counting up through the
	// retries.
	Attempt int
	// StatusCode is the receiver's HTTP status; 0 when none came.
	StatusCode int
	LatencyMS  int64
	OK         bool
	Error      string
	Ping       bool
}

// Webhook limits.
const (
	MaxWebhooks         = 100
	MinWebhookSecretLen = 16
	MaxWebhookSecretLen = 200
	MaxWebhookURLLen    = 2000
)

var actionPattern = regexp.MustCompile(`^[a-z][a-z_]*\.[a-z][a-z_]*$`)

// Validate trims the text fields in place and checks every field but the
// URL's destination, which the outbound policy checks (internal/webhook).
func (w *Webhook) Validate() error {
	var p problems
	trim(&w.Name)
	trim(&w.URL)
	p.text("name", w.Name, 1, MaxNameLen)
	p.text("url", w.URL, 1, MaxWebhookURLLen)
	if n := len(w.Secret); n < MinWebhookSecretLen || n > MaxWebhookSecretLen || strings.TrimSpace(w.Secret) != w.Secret {
		p.add("secret", "must be %d to %d characters without leading or trailing spaces", MinWebhookSecretLen, MaxWebhookSecretLen)
	} else {
		p.text("secret", w.Secret, MinWebhookSecretLen, MaxWebhookSecretLen)
	}
	f := &w.Filter
	for _, v := range []*string{&f.Entity, &f.Action, &f.GroupID, &f.ProjectID, &f.UserID} {
		trim(v)
	}
	if f.Action != "" && (len(f.Action) > 100 || !actionPattern.MatchString(f.Action)) {
		p.add("filter.action", "must be an audit action name such as group.member_add")
	}
	p.text("filter.entity", f.Entity, 0, 100)
	p.text("filter.group_id", f.GroupID, 0, 200)
	p.text("filter.project_id", f.ProjectID, 0, 200)
	p.text("filter.user_id", f.UserID, 0, 200)
	return p.err("validate webhook")
}
