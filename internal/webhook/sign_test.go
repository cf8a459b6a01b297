package webhook

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// What the server signs, the SDK's verifier accepts; one byte changed,
// it refuses.
func TestSignVerifiesWithTheSDK(t *testing.T) {
	body := []byte(`{"type":"changes","webhook_id":"w","changes":[],"next":3}`)
	h := Sign("0123456789abcdef", time.Now(), body)
	if err := gatehouse.VerifyWebhook("0123456789abcdef", h, body); err != nil {
		t.Fatalf("the SDK refused the server's signature: %v", err)
	}
	body[len(body)-2] = '4'
	if err := gatehouse.VerifyWebhook("0123456789abcdef", h, body); err == nil {
		t.Fatal("the SDK accepted an altered body")
	}
}
