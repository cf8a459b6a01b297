package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// hookSender stands for internal/webhook: https only; pings answer 204.
type hookSender struct{}

func (hookSender) CheckURL(raw string) error {
	if !strings.HasPrefix(raw, "https://") {
		return errors.New("must be an https URL")
	}
	return nil
}

func (hookSender) Ping(_ context.Context, w domain.Webhook) domain.WebhookDelivery {
	return domain.WebhookDelivery{WebhookID: w.ID, Ping: true, OK: true, StatusCode: 204, Attempt: 1, LatencyMS: 3}
}

// The webhook pages: create shows the secret once, the editor shows the
// delivery log, ping, redeliver and delete go through the service, and a
// refused URL comes back naming the field.
func TestWebhookPages(t *testing.T) {
	e := newEnv(t)
	e.svc.SetWebhookSender(hookSender{})
	ck := e.signIn(t)
	resp := e.do(t, http.MethodPost, "/admin/webhooks/new", url.Values{"name": {"cache"}, "url": {"https://cache.example.org/in"},
		"entity": {"membership"}, "active": {"on"}}, ck)
	body := read(t, resp)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "whsec_") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("creating a webhook: %d, want 201 showing the secret once, not cached\n%s", resp.StatusCode, body)
	}
	hooks, err := e.svc.ListWebhooks(context.Background(), e.admin)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks after create: %v %v", hooks, err)
	}
	id := hooks[0].ID
	if list := read(t, e.do(t, http.MethodGet, "/admin/webhooks", nil, ck)); !strings.Contains(list, "cache.example.org") || strings.Contains(list, "whsec_") {
		t.Errorf("the list should show the URL and never the secret:\n%s", list)
	}
	_, page := e.follow(t, "/admin/webhooks/"+id+"/ping", nil, ck)
	if !strings.Contains(page, "Test delivery acknowledged") || !strings.Contains(page, "ping") {
		t.Errorf("after a ping the editor should say so and log it:\n%s", page)
	}
	if _, page = e.follow(t, "/admin/webhooks/"+id+"/redeliver", url.Values{"from": {"1"}}, ck); !strings.Contains(page, "from revision 1 on") {
		t.Errorf("after redeliver:\n%s", page)
	}
	if _, page = e.follow(t, "/admin/webhooks/"+id, url.Values{"name": {"cache"}, "url": {"http://cache.example.org/in"}, "version": {"1"}}, ck); !strings.Contains(page, "url") || !strings.Contains(page, "https") {
		t.Errorf("an http URL should be refused naming the field:\n%s", page)
	}
	if _, page = e.follow(t, "/admin/webhooks/"+id+"/delete", nil, ck); !strings.Contains(page, "Webhook deleted") {
		t.Errorf("after delete:\n%s", page)
	}
}
