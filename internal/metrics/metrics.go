// Package metrics owns Gatehouse's Prometheus metrics: one registry of its
// own (never the global one, so tests and several servers in a process do
// not collide), the check counters and histograms the REST API feeds, the
// follower's revisions and lag, store errors and HTTP status counts, and
// the /metrics handler that exposes them. docs/operations.md lists every
// metric and what it means.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// Metrics holds the registry and the metrics written from hot paths,
// resolved once so that recording a check does no label lookup.
type Metrics struct {
	reg *prometheus.Registry

	checks *checkStats

	applyDur  prometheus.Histogram
	reloads   *prometheus.CounterVec
	storeErrs [3]prometheus.Counter // by storeErrorKinds
	httpReqs  *prometheus.CounterVec
	httpDur   *prometheus.HistogramVec
	hooks     webhookMetrics
}

// checkKinds are the resource kinds a check is counted under; anything
// else (it cannot happen today) counts as "other".
var checkKinds = [...]engine.ResourceKind{engine.KindSystem, engine.KindProject, engine.KindDomain, engine.KindFolder, "other"}

// storeErrorKinds are the kinds of store error counted: the database
// failing, not ordinary answers such as not found or a name taken.
var storeErrorKinds = [...]domain.Kind{domain.KindUnavailable, domain.KindConflict, domain.KindOther}

// New returns metrics registered on a new registry, with the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	m.checks = newCheckStats()
	m.applyDur = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gatehouse_change_apply_duration_seconds",
		Help:    "Time to read and apply one batch of changes from the change log to the engine.",
		Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10), // 10µs .. 2.6s
	})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_snapshot_reloads_total",
		Help: "Times the engine was rebuilt from a snapshot after start, by reason: gap, behind or refused.",
	}, []string{"reason"})
	storeErrs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_store_errors_total",
		Help: "Database failures, by kind: unavailable (unreachable, shutting down), conflict (lock or serialization), other (unexpected).",
	}, []string{"kind"})
	for i, k := range storeErrorKinds {
		m.storeErrs[i] = storeErrs.WithLabelValues(k.String())
	}
	m.httpReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_http_requests_total",
		Help: "HTTP requests answered, by status code, method and API (rest, scim, console, health, metrics).",
	}, []string{"code", "method", "api"})
	m.httpDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gatehouse_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by API.",
		Buckets: prometheus.ExponentialBuckets(1e-4, 4, 10), // 100µs .. 26s
	}, []string{"api"})
	for _, r := range []string{"gap", "behind", "refused"} {
		m.reloads.WithLabelValues(r) // present at 0 from the start
	}
	m.reg.MustRegister(m.checks, m.applyDur, m.reloads, storeErrs, m.httpReqs, m.httpDur)
	return m
}

// Registry returns the registry, to add collectors or gather in tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveCheck counts one check and its duration.
func (m *Metrics) ObserveCheck(kind engine.ResourceKind, allowed bool, d time.Duration) {
	m.checks.observe(kind, allowed, d)
}

// Follower is what the replication gauges read, at each scrape.
// *service.Follower is one.
type Follower interface {
	Revision() int64
	Head() int64
	Lag() (revisions int64, behind time.Duration)
}

// Follow registers the gauges of the engine's revision and lag, read from
// f at each scrape. Call it once.
func (m *Metrics) Follow(f Follower) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_engine_revision",
			Help: "Revision the in-memory engine answers at.",
		}, func() float64 { return float64(f.Revision()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_store_revision",
			Help: "Highest revision this replica knows the database committed (from notifications, polls and the log).",
		}, func() float64 { return float64(f.Head()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_replication_lag_revisions",
			Help: "gatehouse_store_revision minus gatehouse_engine_revision.",
		}, func() float64 { n, _ := f.Lag(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_replication_lag_seconds",
			Help: "How long the engine has been behind the head revision it knows (0 when level).",
		}, func() float64 { _, d := f.Lag(); return d.Seconds() }),
	)
}

// ChangesApplied records one batch of changes applied (service.FollowerObserver).
func (m *Metrics) ChangesApplied(n int, d time.Duration) { m.applyDur.Observe(d.Seconds()) }

// SnapshotReloaded counts a reload (service.FollowerObserver).
func (m *Metrics) SnapshotReloaded(reason string, d time.Duration) {
	m.reloads.WithLabelValues(reason).Inc()
}

// StoreError counts err when it is a failure of the database (kinds
// unavailable, conflict and other); other kinds are ordinary answers.
func (m *Metrics) StoreError(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return // the caller went away; the database did not fail
	}
	switch domain.KindOf(err) {
	case domain.KindUnavailable:
		m.storeErrs[0].Inc()
	case domain.KindConflict:
		m.storeErrs[1].Inc()
	case domain.KindOther:
		m.storeErrs[2].Inc()
	}
}

// Instrument counts and times the requests h answers under api (rest,
// scim, console, health or metrics).
func (m *Metrics) Instrument(api string, h http.Handler) http.Handler {
	return newInstrumented(m.httpReqs.MustCurryWith(prometheus.Labels{"api": api}), m.httpDur.WithLabelValues(api), h)
}
