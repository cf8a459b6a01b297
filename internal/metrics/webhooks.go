package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// webhookMetrics are the delivery worker's (internal/webhook), registered
// on first use so a server without webhooks exposes none.
type webhookMetrics struct {
	once       sync.Once
	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
	active     prometheus.Gauge
	failing    prometheus.Gauge
}

func (m *Metrics) webhooks() *webhookMetrics {
	w := &m.hooks
	w.once.Do(func() {
		w.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_webhook_deliveries_total",
			Help: "Webhook delivery attempts by this replica, by outcome (ok or failed).",
		}, []string{"outcome"})
		w.deliveries.WithLabelValues("ok")
		w.deliveries.WithLabelValues("failed")
		w.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gatehouse_webhook_delivery_duration_seconds",
			Help:    "Time from sending a webhook delivery to the receiver's answer (or failure).",
			Buckets: prometheus.ExponentialBuckets(1e-3, 4, 8), // 1ms .. 16s
		})
		w.active = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gatehouse_webhooks_active",
			Help: "Active webhook subscriptions, as this replica last read them.",
		})
		w.failing = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gatehouse_webhooks_failing",
			Help: "Active webhook subscriptions marked failing (retries exhausted, changes no longer retained or an owner without changes.read): alert when above 0.",
		})
		m.reg.MustRegister(w.deliveries, w.latency, w.active, w.failing)
	})
	return w
}

// WebhookDelivered counts one delivery attempt (webhook.Observer).
func (m *Metrics) WebhookDelivered(ok bool, d time.Duration) {
	w := m.webhooks()
	outcome := "failed"
	if ok {
		outcome = "ok"
	}
	w.deliveries.WithLabelValues(outcome).Inc()
	w.latency.Observe(d.Seconds())
}

// WebhookSubscriptions sets the subscription gauges (webhook.Observer).
func (m *Metrics) WebhookSubscriptions(active, failing int) {
	w := m.webhooks()
	w.active.Set(float64(active))
	w.failing.Set(float64(failing))
}
