package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// signed is a delivery as Gatehouse signs it.
func signed(t *testing.T, secret, body string) *http.Request {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + body))
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set(gatehouse.SignatureHeader, "t="+ts+",v1="+hex.EncodeToString(mac.Sum(nil)))
	return r
}

// A signed membership change drops that user's decisions, a repeat is
// ignored, and an unsigned body changes nothing.
func TestReceiverInvalidates(t *testing.T) {
	c := NewCache(nil)
	c.byUser["u1"] = map[gatehouse.CheckRequest]bool{{Permission: "p"}: true}
	c.byUser["u2"] = map[gatehouse.CheckRequest]bool{{Permission: "p"}: false}
	h := c.Receiver(gatehouse.WebhookVerifier{Secrets: []string{"s3cret-0123456789"}})
	body := `{"type":"changes","changes":[{"revision":5,"objects":[{"entity":"membership","op":"put","after":{"user_id":"u1"}}]}],"next":5}`

	forged := httptest.NewRecorder()
	h.ServeHTTP(forged, signed(t, "wrong-secret-0123", body))
	if forged.Code != http.StatusUnauthorized || c.Cached() != 2 {
		t.Fatalf("a forged delivery: %d, %d users cached", forged.Code, c.Cached())
	}
	ok := httptest.NewRecorder()
	h.ServeHTTP(ok, signed(t, "s3cret-0123456789", body))
	if ok.Code != http.StatusNoContent || c.Cached() != 1 || c.byUser["u2"] == nil {
		t.Fatalf("a signed delivery: %d, cache %v; want u1 dropped", ok.Code, c.byUser)
	}
	c.byUser["u1"] = map[gatehouse.CheckRequest]bool{{Permission: "p"}: true}
	h.ServeHTTP(httptest.NewRecorder(), signed(t, "s3cret-0123456789", body))
	if c.Cached() != 2 {
		t.Errorf("a repeated delivery of revision 5 dropped decisions again")
	}
}
