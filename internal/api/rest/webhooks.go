package rest

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Webhook subscriptions (docs/integrating.md, "Webhooks"): the change
// feed pushed to a URL, managed by holders of webhooks.manage.

// WebhookRequest configures a subscription.
type WebhookRequest struct {
	Name   string               `json:"name" maxLength:"1000"`
	URL    string               `json:"url" maxLength:"4000" doc:"Where deliveries are POSTed: https (http only when the server allows it), no credentials, not an internal address unless the server allows its range."`
	Filter domain.WebhookFilter `json:"filter,omitempty" doc:"The change feed's filters; empty keeps every change."`
	Secret string               `json:"secret,omitempty" maxLength:"1000" doc:"Signs deliveries (16 to 200 characters). When creating, leave it out to have one generated; when updating, leave it out to keep the current one."`
	Active *bool                `json:"active,omitempty" doc:"Deliver (default true) or pause."`
}

func (r WebhookRequest) input(version int64) service.WebhookInput {
	active := r.Active == nil || *r.Active
	return service.WebhookInput{Name: r.Name, URL: r.URL, Filter: r.Filter, Secret: r.Secret, Active: active, Version: version}
}

// WebhookBody is a subscription as the API shows it.
type WebhookBody struct {
	domain.Webhook
	Secret string `json:"secret,omitempty" doc:"Only in the answer to a creation: the signing secret, never shown again."`
}

type webhookOut struct {
	ETag string `header:"ETag"`
	Body WebhookBody
}

func webhookAnswer(w domain.Webhook, secret string) *webhookOut {
	return &webhookOut{ETag: etag(w.Version), Body: WebhookBody{Webhook: w, Secret: secret}}
}

type webhookListOut struct {
	Body struct {
		Items []domain.Webhook `json:"items"`
	}
}

type createWebhookIn struct{ Body WebhookRequest }

type updateWebhookIn struct {
	IDPath
	IfMatchHeader
	Body WebhookRequest
}

type deliveriesIn struct {
	IDPath
	Limit int `query:"limit" minimum:"0" maximum:"500" doc:"Entries, newest first (default and most: 500)."`
}

type deliveriesOut struct {
	Body struct {
		Items []domain.WebhookDelivery `json:"items"`
	}
}

type redeliverIn struct {
	IDPath
	Body struct {
		From int64 `json:"from" minimum:"1" doc:"Deliver again every change from this revision on."`
	}
}

type pingOut struct{ Body domain.WebhookDelivery }

func (a *API) registerWebhooks() {
	api := a.huma
	huma.Register(api, op("list-webhooks", http.MethodGet, "/webhooks", "List webhook subscriptions (webhooks.manage)", "Webhooks"), a.listWebhooks)
	o := op("create-webhook", http.MethodPost, "/webhooks", "Create a webhook subscription; the answer carries its secret, once (webhooks.manage)", "Webhooks")
	o.DefaultStatus = http.StatusCreated
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusServiceUnavailable)
	huma.Register(api, o, a.createWebhook)
	huma.Register(api, op("get-webhook", http.MethodGet, "/webhooks/{id}", "A webhook subscription and where its delivery stands (webhooks.manage)", "Webhooks"), a.getWebhook)
	o = op("update-webhook", http.MethodPut, "/webhooks/{id}", "Replace a webhook subscription's configuration; you become its owner (webhooks.manage)", "Webhooks")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed, http.StatusServiceUnavailable)
	huma.Register(api, o, a.updateWebhook)
	o = op("delete-webhook", http.MethodDelete, "/webhooks/{id}", "Delete a webhook subscription and its delivery log (webhooks.manage)", "Webhooks")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, a.deleteWebhook)
	huma.Register(api, op("list-webhook-deliveries", http.MethodGet, "/webhooks/{id}/deliveries", "A webhook subscription's delivery log, newest first (webhooks.manage)", "Webhooks"), a.listWebhookDeliveries)
	huma.Register(api, op("redeliver-webhook", http.MethodPost, "/webhooks/{id}/redeliver", "Deliver again every change from a revision on, and clear the failing mark (webhooks.manage)", "Webhooks"), a.redeliverWebhook)
	o = op("ping-webhook", http.MethodPost, "/webhooks/{id}/ping", "Send a test delivery (no changes) and answer how it went (webhooks.manage)", "Webhooks")
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(api, o, a.pingWebhook)
}

func (a *API) listWebhooks(ctx context.Context, _ *struct{}) (*webhookListOut, error) {
	ws, err := a.svc.ListWebhooks(ctx, caller(ctx))
	if err != nil {
		return nil, a.problem(err)
	}
	out := &webhookListOut{}
	out.Body.Items = ws
	return out, nil
}

func (a *API) createWebhook(ctx context.Context, in *createWebhookIn) (*webhookOut, error) {
	w, secret, _, err := a.svc.CreateWebhook(ctx, caller(ctx), in.Body.input(0))
	if err != nil {
		return nil, a.problem(err)
	}
	return webhookAnswer(w, secret), nil
}

func (a *API) getWebhook(ctx context.Context, in *IDPath) (*webhookOut, error) {
	w, err := a.svc.GetWebhook(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return webhookAnswer(w, ""), nil
}

func (a *API) webhookVersion(ctx context.Context, id string) (int64, error) {
	w, err := a.svc.GetWebhook(ctx, caller(ctx), id)
	return w.Version, err
}

func (a *API) updateWebhook(ctx context.Context, in *updateWebhookIn) (*webhookOut, error) {
	want, err := ifMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	current := func() (int64, error) { return a.webhookVersion(ctx, in.ID) }
	if err := a.checkIfMatch(in.IfMatch, current); err != nil {
		return nil, err
	}
	w, _, err := a.svc.UpdateWebhook(ctx, caller(ctx), in.ID, in.Body.input(want))
	if err != nil {
		return nil, a.staleOr(err, want, current)
	}
	return webhookAnswer(w, ""), nil
}

func (a *API) deleteWebhook(ctx context.Context, in *IDPath) (*struct{}, error) {
	_, err := a.svc.DeleteWebhook(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return nil, nil
}

func (a *API) listWebhookDeliveries(ctx context.Context, in *deliveriesIn) (*deliveriesOut, error) {
	log, err := a.svc.WebhookDeliveries(ctx, caller(ctx), in.ID, in.Limit)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id", "limit", "query.limit")
	}
	out := &deliveriesOut{}
	out.Body.Items = log
	return out, nil
}

func (a *API) redeliverWebhook(ctx context.Context, in *redeliverIn) (*webhookOut, error) {
	w, _, err := a.svc.RedeliverWebhook(ctx, caller(ctx), in.ID, in.Body.From)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return webhookAnswer(w, ""), nil
}

func (a *API) pingWebhook(ctx context.Context, in *IDPath) (*pingOut, error) {
	d, _, err := a.svc.PingWebhook(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return &pingOut{Body: d}, nil
}
