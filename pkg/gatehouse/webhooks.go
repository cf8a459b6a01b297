package gatehouse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Webhook deliveries (docs/integrating.md, "Webhooks"): Gatehouse POSTs
// the changes a subscription keeps to its URL, signed with the
// subscription's secret. A receiver verifies each request with
// VerifyWebhook (or a WebhookVerifier) before it trusts the body.

// The headers of a delivery.
const (
	// SignatureHeader carries t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>"> (several v1 values while a secret is rotated).
	SignatureHeader = "Gatehouse-Signature"
	// IdempotencyHeader is <subscription id>:<first revision>-<last
	// revision>: a repeated delivery carries the same key.
	IdempotencyHeader = "Idempotency-Key"
	// EventHeader is "changes" or "ping".
	EventHeader = "Gatehouse-Event"
)

// DefaultWebhookTolerance is how old a signature may be.
const DefaultWebhookTolerance = 5 * time.Minute

// WebhookDelivery is the body of a delivery: its Type is "changes" or
// "ping" (a test with no changes), its Changes in revision order in the
// change feed's format.
type WebhookDelivery = api.WebhookPayload

// Errors VerifyWebhook returns (wrapped), for a receiver that logs why.
var (
	ErrNoSignature      = errors.New("gatehouse: no valid Gatehouse-Signature header")
	ErrSignatureExpired = errors.New("gatehouse: the signature's timestamp is outside the tolerance (a replay or a wrong clock)")
	ErrBadSignature     = errors.New("gatehouse: the signature does not match the body")
)

// WebhookVerifier checks deliveries signed with one of its secrets
// (several while one is rotated).
type WebhookVerifier struct {
	Secrets []string
	// Tolerance is how far the signature's timestamp may be from now
	// (DefaultWebhookTolerance when 0).
	Tolerance time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// VerifyWebhook checks a signature header against a body with one
// secret: see WebhookVerifier.Verify.
func VerifyWebhook(secret, header string, body []byte) error {
	return WebhookVerifier{Secrets: []string{secret}}.Verify(header, body)
}

// Verify checks that header signs body with one of the secrets, in
// constant time, and that its timestamp is within the tolerance, so a
// captured delivery cannot be replayed later and an altered body is
// refused. A receiver should also drop changes whose revision it has
// already processed: deliveries are at least once.
func (v WebhookVerifier) Verify(header string, body []byte) error {
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultWebhookTolerance
	}
	if d := now().Sub(time.Unix(ts, 0)); d > tol || d < -tol {
		return fmt.Errorf("%w: signed %s ago", ErrSignatureExpired, d.Round(time.Second))
	}
	for _, secret := range v.Secrets {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
		mac.Write(body)
		want := mac.Sum(nil)
		for _, s := range sigs {
			if hmac.Equal(want, s) {
				return nil
			}
		}
	}
	return ErrBadSignature
}

// parseSignature reads t=...,v1=...[,v1=...].
func parseSignature(header string) (int64, [][]byte, error) {
	var ts int64 = -1
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return 0, nil, ErrNoSignature
			}
			ts = n
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if ts < 0 || len(sigs) == 0 {
		return 0, nil, ErrNoSignature
	}
	return ts, sigs, nil
}

// MaxWebhookBody bounds what ReadWebhook reads of a request.
const MaxWebhookBody = 32 << 20

// ReadWebhook reads a delivery from an HTTP request, verifies its
// signature and decodes it. Answer 2xx only once the changes are
// processed (stored, or the cache invalidated): anything else is retried.
func (v WebhookVerifier) ReadWebhook(r *http.Request) (WebhookDelivery, error) {
	var d WebhookDelivery
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
	if err != nil {
		return d, err
	}
	if len(body) > MaxWebhookBody {
		return d, errors.New("gatehouse: the delivery is larger than MaxWebhookBody")
	}
	if err := v.Verify(r.Header.Get(SignatureHeader), body); err != nil {
		return d, err
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return d, fmt.Errorf("gatehouse: decoding the delivery: %w", err)
	}
	return d, nil
}
