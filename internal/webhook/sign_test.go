package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
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

// A delivery's body is the API's WebhookPayload, its changes in the
// change feed's format (snake_case names, as GET /changes answers), and
// the SDK decodes every field of it.
func TestDeliveryBodyIsTheFeedFormat(t *testing.T) {
	var raw []byte
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		raw, _ = io.ReadAll(r.Body)
		w.WriteHeader(204)
	})
	s := NewSender(Policy{AllowHTTP: true, AllowedNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ch := service.FeedChange{Revision: 7, At: at, ActorID: "u1", Actions: []string{"group.member_add"},
		Objects: []service.FeedObject{{Entity: domain.EntityMembership, ID: "g1/u2", Op: domain.OpPut, After: json.RawMessage(`{"group_id":"g1"}`)}}}
	if d := s.Send(context.Background(), hookAt(srv.URL+"/hook"), Body{Type: api.WebhookEventChanges, WebhookID: "wh1", Changes: []service.FeedChange{ch}, Next: 7}); !d.OK {
		t.Fatalf("delivery failed: %+v", d)
	}
	want := `{"type":"changes","webhook_id":"wh1","changes":[{"revision":7,"at":"2026-01-02T03:04:05Z","actor_id":"u1",` +
		`"actions":["group.member_add"],"objects":[{"entity":"membership","id":"g1/u2","op":"put","after":{"group_id":"g1"}}]}],"next":7}`
	if string(raw) != want {
		t.Errorf("body:\n got %s\nwant %s", raw, want)
	}
	var d gatehouse.WebhookDelivery
	if err := json.Unmarshal(raw, &d); err != nil || d.Changes[0].ActorID != "u1" || d.Changes[0].Objects[0].Entity != "membership" {
		t.Errorf("the SDK decoded %+v (%v)", d, err)
	}
}
