package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Webhook subscriptions (docs/console.md, "Webhooks"): the list, the
// editor with the delivery log, redeliver from a revision and a test ping.
// Everything goes through the service's webhook use cases
// (webhooks.manage).

func (c *Console) webhookRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /admin/webhooks", c.signedIn(c.webhookList))
	m.HandleFunc("GET /admin/webhooks/{id}", c.signedIn(c.webhookEditor))
	m.HandleFunc("POST /admin/webhooks/{id}", c.signedIn(c.webhookSave))
	m.HandleFunc("POST /admin/webhooks/{id}/delete", c.signedIn(c.webhookDelete))
	m.HandleFunc("POST /admin/webhooks/{id}/redeliver", c.signedIn(c.webhookRedeliver))
	m.HandleFunc("POST /admin/webhooks/{id}/ping", c.signedIn(c.webhookPing))
}

func (c *Console) webhookList(w http.ResponseWriter, r *http.Request, s *session) {
	hooks, err := c.svc.ListWebhooks(r.Context(), s.Caller())
	if err != nil {
		c.render(w, r, s, http.StatusForbidden, "denied", "Webhooks", "webhooks", message(err))
		return
	}
	c.render(w, r, s, http.StatusOK, "webhooks", "Webhooks", "webhooks", map[string]any{"Webhooks": hooks})
}

// webhookPage is the editor's data: the subscription, its delivery log,
// and its secret right after creation (shown once).
type webhookPage struct {
	Hook       domain.Webhook
	New        bool
	Deliveries []domain.WebhookDelivery
	Secret     string
	Entities   []string
}

var feedEntities = []string{"user", "project", "group", "membership", "role", "project_grant", "domain_grant",
	"folder_type", "folder", "folder_level", "rule", "setting"}

func (c *Console) webhookEditor(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	p := webhookPage{Hook: domain.Webhook{ID: "new", Active: true}, New: id == "new", Entities: feedEntities}
	if !p.New {
		var err error
		if p.Hook, err = c.svc.GetWebhook(r.Context(), s.Caller(), id); err != nil {
			c.render(w, r, s, http.StatusNotFound, "denied", "Webhook", "webhooks", message(err))
			return
		}
		if p.Deliveries, err = c.svc.WebhookDeliveries(r.Context(), s.Caller(), id, 50); err != nil {
			s.Error = message(err)
		}
	} else if _, err := c.svc.ListWebhooks(r.Context(), s.Caller()); err != nil {
		c.render(w, r, s, http.StatusForbidden, "denied", "Webhook", "webhooks", message(err))
		return
	}
	c.render(w, r, s, http.StatusOK, "webhook", "Webhook", "webhooks", p)
}

// webhookForm reads the editor's form.
func webhookForm(f url.Values) service.WebhookInput {
	v := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	version, _ := strconv.ParseInt(v("version"), 10, 64)
	return service.WebhookInput{Name: v("name"), URL: v("url"), Secret: f.Get("secret"), Active: f.Get("active") == "on", Version: version,
		Filter: domain.WebhookFilter{Entity: v("entity"), Action: v("action"), GroupID: v("group_id"), ProjectID: v("project_id"), UserID: v("user_id")}}
}

func (c *Console) webhookSave(w http.ResponseWriter, r *http.Request, s *session) {
	id, in := r.PathValue("id"), webhookForm(r.PostForm)
	if id != "new" {
		h, _, err := c.svc.UpdateWebhook(r.Context(), s.Caller(), id, in)
		if err != nil {
			failed(w, r, "/admin/webhooks/"+url.PathEscape(id), err)
			return
		}
		done(w, r, "/admin/webhooks/"+url.PathEscape(h.ID), "Webhook “"+h.Name+"” saved.")
		return
	}
	h, secret, _, err := c.svc.CreateWebhook(r.Context(), s.Caller(), in)
	if err != nil {
		failed(w, r, "/admin/webhooks/new", err)
		return
	}
	// The secret is shown on this answer only: no redirect, no cookie.
	w.Header().Set("Cache-Control", "no-store")
	s.Flash = "Webhook “" + h.Name + "” created."
	c.render(w, r, s, http.StatusCreated, "webhook", "Webhook", "webhooks", webhookPage{Hook: h, Secret: secret, Entities: feedEntities})
}

func (c *Console) webhookDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.svc.DeleteWebhook(r.Context(), s.Caller(), r.PathValue("id")); err != nil {
		failed(w, r, "/admin/webhooks", err)
		return
	}
	done(w, r, "/admin/webhooks", "Webhook deleted.")
}

func (c *Console) webhookRedeliver(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := "/admin/webhooks/" + url.PathEscape(id)
	from, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("from")), 10, 64)
	if err != nil {
		failed(w, r, back, domain.E("console", domain.KindInvalid, domain.FieldError{Field: "from", Message: "must be a revision number"}))
		return
	}
	if _, _, err := c.svc.RedeliverWebhook(r.Context(), s.Caller(), id, from); err != nil {
		failed(w, r, back, err)
		return
	}
	done(w, r, back, "Every change from revision "+strconv.FormatInt(from, 10)+" on will be delivered again.")
}

func (c *Console) webhookPing(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := "/admin/webhooks/" + url.PathEscape(id)
	d, _, err := c.svc.PingWebhook(r.Context(), s.Caller(), id)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	if !d.OK {
		setFlash(w, "error", "The test delivery failed after "+strconv.FormatInt(d.LatencyMS, 10)+" ms: "+d.Error)
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	done(w, r, back, "Test delivery acknowledged: the receiver answered "+strconv.Itoa(d.StatusCode)+" in "+strconv.FormatInt(d.LatencyMS, 10)+" ms.")
}
