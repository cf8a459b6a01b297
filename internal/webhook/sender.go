package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/wire"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The headers of a delivery (docs/integrating.md, "Webhooks").
const (
	HeaderSignature   = "Gatehouse-Signature"
	HeaderEvent       = "Gatehouse-Event"
	HeaderWebhookID   = "Gatehouse-Webhook-Id"
	HeaderIdempotency = "Idempotency-Key"
	userAgent         = "Gatehouse-Webhooks/1"
)

// Body is what a delivery POSTs: one or more changes in revision order.
// It is sent as the API's api.WebhookPayload, the changes in the change
// feed's format (payload).
type Body struct {
	Type      string // api.WebhookEventChanges or api.WebhookEventPing
	WebhookID string
	Changes   []service.FeedChange
	// Next is the revision delivery continues after once this body is
	// acknowledged.
	Next int64
}

// payload is b as the receiver reads it.
func (b Body) payload() api.WebhookPayload {
	changes := wire.FeedChanges(b.Changes)
	if changes == nil {
		changes = []api.FeedChange{}
	}
	return api.WebhookPayload{Type: b.Type, WebhookID: b.WebhookID, Changes: changes, Next: b.Next}
}

// Sign returns the signature header's value for a body sent at t:
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with secret>.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Sender sends signed deliveries under a Policy.
type Sender struct {
	policy Policy
	client *http.Client
	now    func() time.Time
}

// NewSender returns a sender whose connections the policy controls: no
// proxy (one would connect on its behalf, unchecked), every dialed
// address checked after resolution, no redirect followed, and a timeout
// on each request.
func NewSender(p Policy) *Sender {
	d := &net.Dialer{Timeout: p.timeout(), Control: p.control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   p.timeout(),
		ResponseHeaderTimeout: p.timeout(),
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	c := &http.Client{Transport: tr, Timeout: p.timeout(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Sender{policy: p, client: c, now: time.Now}
}

// CheckURL is the policy's check of a subscription's URL
// (service.WebhookSender).
func (s *Sender) CheckURL(raw string) error { return s.policy.CheckURL(raw) }

// Ping sends a test delivery: a body of no changes, signed like any.
func (s *Sender) Ping(ctx context.Context, w domain.Webhook) domain.WebhookDelivery {
	d := s.Send(ctx, w, Body{Type: api.WebhookEventPing, WebhookID: w.ID, Changes: []service.FeedChange{}, Next: w.State.Cursor})
	d.Ping, d.Attempt = true, 1
	return d
}

// Send POSTs one body to the subscription's URL and reports the attempt:
// OK for a 2xx answer; anything else (another status, a redirect, a
// refused address, a timeout) is a failure with its reason.
func (s *Sender) Send(ctx context.Context, w domain.Webhook, b Body) domain.WebhookDelivery {
	d := domain.WebhookDelivery{WebhookID: w.ID, At: s.now(), Changes: len(b.Changes), To: b.Next}
	if len(b.Changes) > 0 {
		d.From = b.Changes[0].Revision
		d.To = b.Changes[len(b.Changes)-1].Revision
	}
	start := time.Now()
	d.StatusCode, d.Error = s.post(ctx, w, b, d)
	d.LatencyMS = time.Since(start).Milliseconds()
	d.OK = d.Error == ""
	return d
}

func (s *Sender) post(ctx context.Context, w domain.Webhook, b Body, d domain.WebhookDelivery) (int, string) {
	if err := s.policy.CheckURL(w.URL); err != nil {
		return 0, "url " + err.Error()
	}
	body, err := json.Marshal(b.payload())
	if err != nil {
		return 0, "encoding the body: " + err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "building the request: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderEvent, b.Type)
	req.Header.Set(HeaderWebhookID, w.ID)
	req.Header.Set(HeaderIdempotency, fmt.Sprintf("%s:%d-%d", w.ID, d.From, d.To))
	req.Header.Set(HeaderSignature, Sign(w.Secret, s.now(), body))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, describe(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, s.policy.maxResponse()))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, ""
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, fmt.Sprintf("the receiver answered %d, a redirect, which deliveries do not follow", resp.StatusCode)
	}
	return resp.StatusCode, fmt.Sprintf("the receiver answered %d", resp.StatusCode)
}

// describe words a transport error for the delivery log.
func describe(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrRefusedAddress):
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			return oe.Err.Error()
		}
		return err.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out: " + err.Error()
	}
	return err.Error()
}
