package gatehouse_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// sign is the server's scheme written out independently of it.
func sign(secret string, t time.Time, body string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + body))
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// The verifier accepts a fresh, intact delivery and refuses a replayed
// one (old timestamp), an altered body, a wrong secret and a malformed
// header.
func TestWebhookVerifierRefusesReplayedOrAlteredBodies(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := `{"type":"changes","changes":[{"revision":7}],"next":7}`
	secret := "whsec_0123456789abcdef"
	v := gatehouse.WebhookVerifier{Secrets: []string{"old-secret-0123456789", secret}, Now: func() time.Time { return now }}
	if err := v.Verify(sign(secret, now.Add(-time.Minute), body), []byte(body)); err != nil {
		t.Fatalf("a fresh delivery: %v", err)
	}
	cases := []struct {
		name, header, body string
		want               error
	}{
		{"replayed an hour later", sign(secret, now.Add(-time.Hour), body), body, gatehouse.ErrSignatureExpired},
		{"from the future", sign(secret, now.Add(time.Hour), body), body, gatehouse.ErrSignatureExpired},
		{"altered body", sign(secret, now, body), `{"type":"changes","changes":[{"revision":8}],"next":8}`, gatehouse.ErrBadSignature},
		{"timestamp changed", "t=" + strconv.FormatInt(now.Unix()+1, 10) + sign(secret, now, body)[len("t=")+10:], body, gatehouse.ErrBadSignature},
		{"wrong secret", sign("another-secret-0123", now, body), body, gatehouse.ErrBadSignature},
		{"no header", "", body, gatehouse.ErrNoSignature},
		{"no v1", "t=" + strconv.FormatInt(now.Unix(), 10), body, gatehouse.ErrNoSignature},
		{"short v1", "t=" + strconv.FormatInt(now.Unix(), 10) + ",v1=abcd", body, gatehouse.ErrNoSignature},
		{"bad t", "t=yesterday,v1=" + sign(secret, now, body)[len("t=1800000000,v1="):], body, gatehouse.ErrNoSignature},
	}
	for _, c := range cases {
		if err := v.Verify(c.header, []byte(c.body)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := gatehouse.VerifyWebhook(secret, sign(secret, time.Now(), body), []byte(body)); err != nil {
		t.Errorf("VerifyWebhook with the real clock: %v", err)
	}
}
