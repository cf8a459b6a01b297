package rest

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Webhook subscriptions (docs/integrating.md, "Webhooks"): the change
// feed pushed to a URL, managed by holders of webhooks.manage.

func (a *API) webhookRoutes() []route {
	const tag = "Webhooks"
	unavailable := http.StatusServiceUnavailable
	return []route{
		handle(op("list-webhooks", http.MethodGet, "/webhooks", "List webhook subscriptions (webhooks.manage)", tag), a.listWebhooks),
		handle(withErrors(created(op("create-webhook", http.MethodPost, "/webhooks",
			"Create a webhook subscription; the answer carries its secret, once (webhooks.manage)", tag)), unavailable), a.createWebhook),
		handle(op("get-webhook", http.MethodGet, "/webhooks/{id}", "A webhook subscription and where its delivery stands (webhooks.manage)", tag), a.getWebhook),
		handle(withErrors(op("update-webhook", http.MethodPut, "/webhooks/{id}",
			"Replace a webhook subscription's configuration; you become its owner (webhooks.manage)", tag),
			http.StatusConflict, http.StatusPreconditionFailed, unavailable), a.updateWebhook),
		handle(noContent(op("delete-webhook", http.MethodDelete, "/webhooks/{id}", "Delete a webhook subscription and its delivery log (webhooks.manage)", tag)), a.deleteWebhook),
		handle(op("list-webhook-deliveries", http.MethodGet, "/webhooks/{id}/deliveries", "A webhook subscription's delivery log, newest first (webhooks.manage)", tag), a.listWebhookDeliveries),
		handle(op("redeliver-webhook", http.MethodPost, "/webhooks/{id}/redeliver", "Deliver again every change from a revision on, and clear the failing mark (webhooks.manage)", tag), a.redeliverWebhook),
		handle(withErrors(op("ping-webhook", http.MethodPost, "/webhooks/{id}/ping", "Send a test delivery (no changes) and answer how it went (webhooks.manage)", tag), unavailable), a.pingWebhook),
	}
}

// webhookInput is a request's configuration for the service; version is
// the If-Match of an update (0: none).
func webhookInput(r api.WebhookRequest, version int64) service.WebhookInput {
	active := r.Active == nil || *r.Active
	return service.WebhookInput{Name: r.Name, URL: r.URL, Filter: domainWebhookFilter(r.Filter), Secret: r.Secret, Active: active, Version: version}
}

// webhookOut is a subscription with its ETag. Webhook answers carry no
// revision: subscriptions are not engine data and record no mutation.
type webhookOut struct {
	ETag string `header:"ETag"`
	Body api.WebhookBody
}

// webhookAnswer is w's answer; secret only in the answer to a creation.
func webhookAnswer(w domain.Webhook, secret string) *webhookOut {
	return &webhookOut{ETag: etag(w.Version), Body: api.WebhookBody{Webhook: apiWebhook(w), Secret: secret}}
}

type deliveriesIn struct {
	IDPath
	Limit int `query:"limit" minimum:"0" maximum:"500" doc:"Entries, newest first (default and most: 500)."`
}

func (a *API) listWebhooks(ctx context.Context, _ *struct{}) (*itemsOut[api.WebhooksBody], error) {
	ws, err := a.svc.ListWebhooks(ctx, caller(ctx))
	if err != nil {
		return nil, a.problem(err)
	}
	return &itemsOut[api.WebhooksBody]{api.WebhooksBody{Items: apiList(ws, apiWebhook)}}, nil
}

func (a *API) createWebhook(ctx context.Context, in *bodyIn[api.WebhookRequest]) (*webhookOut, error) {
	w, secret, _, err := a.svc.CreateWebhook(ctx, caller(ctx), webhookInput(in.Body, 0))
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

func (a *API) webhookVersion(ctx context.Context, id string) versionOf {
	return func() (int64, error) {
		w, err := a.svc.GetWebhook(ctx, caller(ctx), id)
		return w.Version, err
	}
}

func (a *API) updateWebhook(ctx context.Context, in *versionedIn[api.WebhookRequest]) (*webhookOut, error) {
	want, err := ifMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	current := a.webhookVersion(ctx, in.ID)
	if err := a.checkIfMatch(in.IfMatch, current); err != nil {
		return nil, err
	}
	w, _, err := a.svc.UpdateWebhook(ctx, caller(ctx), in.ID, webhookInput(in.Body, want))
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

func (a *API) listWebhookDeliveries(ctx context.Context, in *deliveriesIn) (*itemsOut[api.WebhookAttemptsBody], error) {
	log, err := a.svc.WebhookDeliveries(ctx, caller(ctx), in.ID, in.Limit)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id", "limit", "query.limit")
	}
	return &itemsOut[api.WebhookAttemptsBody]{api.WebhookAttemptsBody{Items: apiList(log, apiWebhookAttempt)}}, nil
}

func (a *API) redeliverWebhook(ctx context.Context, in *idBodyIn[api.RedeliverRequest]) (*webhookOut, error) {
	w, _, err := a.svc.RedeliverWebhook(ctx, caller(ctx), in.ID, in.Body.From)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return webhookAnswer(w, ""), nil
}

func (a *API) pingWebhook(ctx context.Context, in *IDPath) (*itemsOut[api.WebhookAttempt], error) {
	d, _, err := a.svc.PingWebhook(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return &itemsOut[api.WebhookAttempt]{apiWebhookAttempt(d)}, nil
}
