package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/webhook"
)

// webhookConfig is serve's webhook settings (docs/configuration.md,
// "Webhooks").
type webhookConfig struct {
	enabled     bool
	allowHTTP   bool
	allowNets   []string
	timeout     time.Duration
	maxAttempts int64
	minBackoff  time.Duration
	maxBackoff  time.Duration
	lease       time.Duration
}

func (c *serveConfig) webhookFlags(f *pflag.FlagSet, getenv func(string) string) {
	w := &c.webhooks
	f.BoolVar(&w.enabled, "webhooks", c.envBool(getenv, "GATEHOUSE_WEBHOOKS", true),
		"deliver webhook subscriptions from this server (env GATEHOUSE_WEBHOOKS)")
	f.BoolVar(&w.allowHTTP, "webhook-allow-http", c.envBool(getenv, "GATEHOUSE_WEBHOOK_ALLOW_HTTP", false),
		"allow http:// webhook URLs; https only otherwise (env GATEHOUSE_WEBHOOK_ALLOW_HTTP)")
	var nets []string
	if v := getenv("GATEHOUSE_WEBHOOK_ALLOW_NETS"); v != "" {
		nets = strings.Split(v, ",")
	}
	f.StringSliceVar(&w.allowNets, "webhook-allow-net", nets,
		"a CIDR range of internal addresses (loopback, private, link-local) webhooks may reach; repeat or comma-separate (env GATEHOUSE_WEBHOOK_ALLOW_NETS)")
	f.DurationVar(&w.timeout, "webhook-timeout", c.envDuration(getenv, "GATEHOUSE_WEBHOOK_TIMEOUT", 10*time.Second),
		"how long one webhook delivery may take, connection to answer (env GATEHOUSE_WEBHOOK_TIMEOUT)")
	f.Int64Var(&w.maxAttempts, "webhook-max-attempts", c.envInt(getenv, "GATEHOUSE_WEBHOOK_MAX_ATTEMPTS", 8),
		"failed tries of one delivery after which its subscription is marked failing (retries go on every --webhook-max-backoff) (env GATEHOUSE_WEBHOOK_MAX_ATTEMPTS)")
	f.DurationVar(&w.minBackoff, "webhook-min-backoff", c.envDuration(getenv, "GATEHOUSE_WEBHOOK_MIN_BACKOFF", time.Second),
		"the wait after a failed delivery, doubled at each further failure, with jitter (env GATEHOUSE_WEBHOOK_MIN_BACKOFF)")
	f.DurationVar(&w.maxBackoff, "webhook-max-backoff", c.envDuration(getenv, "GATEHOUSE_WEBHOOK_MAX_BACKOFF", 5*time.Minute),
		"the longest wait between delivery tries (env GATEHOUSE_WEBHOOK_MAX_BACKOFF)")
	f.DurationVar(&w.lease, "webhook-lease", c.envDuration(getenv, "GATEHOUSE_WEBHOOK_LEASE", 30*time.Second),
		"how long a replica holds a subscription's delivery between renewals; another takes over when a holder dies (env GATEHOUSE_WEBHOOK_LEASE)")
}

// policy checks the webhook flags and returns the outbound policy.
func (w webhookConfig) policy() (webhook.Policy, []error) {
	var errs []error
	p := webhook.Policy{AllowHTTP: w.allowHTTP, Timeout: w.timeout}
	for _, s := range w.allowNets {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		n, err := netip.ParsePrefix(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--webhook-allow-net %q: want a CIDR range such as 10.1.0.0/16 or ::1/128", s))
			continue
		}
		p.AllowedNets = append(p.AllowedNets, n.Masked())
	}
	if w.timeout <= 0 || w.timeout > 5*time.Minute {
		errs = append(errs, fmt.Errorf("--webhook-timeout %v: want a positive duration up to 5m", w.timeout))
	}
	if w.maxAttempts < 1 || w.maxAttempts > 1000 {
		errs = append(errs, fmt.Errorf("--webhook-max-attempts %d: want 1 to 1000", w.maxAttempts))
	}
	if w.minBackoff <= 0 || w.maxBackoff < w.minBackoff {
		errs = append(errs, fmt.Errorf("--webhook-min-backoff %v, --webhook-max-backoff %v: want positive durations, the maximum at least the minimum", w.minBackoff, w.maxBackoff))
	}
	// The lease must outlast a feed read and a request (renewed before
	// each), or two replicas could deliver at once.
	if w.lease < 3*time.Second || w.lease < 2*w.timeout {
		errs = append(errs, fmt.Errorf("--webhook-lease %v: want at least 3s and twice --webhook-timeout (%v)", w.lease, 2*w.timeout))
	}
	return p, errs
}

// startWebhooks runs the delivery worker until ctx ends; the returned
// channel closes when it has stopped. Without --webhooks this replica
// delivers nothing (another may).
func startWebhooks(ctx context.Context, cfg serveConfig, st store.Store, svc *service.Service, send *webhook.Sender, m *metrics.Metrics, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if !cfg.webhooks.enabled {
		close(done)
		return done
	}
	o := webhook.Options{MaxAttempts: int(cfg.webhooks.maxAttempts), MinBackoff: cfg.webhooks.minBackoff,
		MaxBackoff: cfg.webhooks.maxBackoff, Lease: cfg.webhooks.lease, Wait: min(5*time.Second, cfg.webhooks.lease/4), Log: log}
	if m != nil {
		o.Observer = m
	}
	w := webhook.NewWorker(st, svc, send, o)
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	return done
}
