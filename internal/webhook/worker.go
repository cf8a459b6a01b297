package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Store is the delivery state the worker keeps: the store's webhook
// housekeeping (store.Store has it).
type Store interface {
	ListWebhooks(ctx context.Context) ([]domain.Webhook, error)
	GetWebhook(ctx context.Context, id string) (domain.Webhook, error)
	LeaseWebhook(ctx context.Context, id, owner string, until time.Time) (bool, error)
	ReleaseWebhook(ctx context.Context, id, owner string) error
	AdvanceWebhook(ctx context.Context, id, owner string, from, to int64) (bool, error)
	MarkWebhookFailing(ctx context.Context, id, owner, lastError string) error
	RecordWebhookDelivery(ctx context.Context, d *domain.WebhookDelivery) error
}

// Feed reads what to deliver next (service.Service has it).
type Feed interface {
	WebhookBatch(ctx context.Context, w domain.Webhook, q service.FeedQuery) (service.FeedPage, error)
}

// Observer hears of deliveries (internal/metrics has it).
type Observer interface {
	WebhookDelivered(ok bool, d time.Duration)
	WebhookSubscriptions(active, failing int)
}

// Options tune the worker; zero values take the defaults in brackets.
type Options struct {
	// Replica names this process in leases (host name and a random part).
	Replica string
	// Lease is how long a replica holds a subscription between renewals
	// (30s); another replica takes over a lease that ran out.
	Lease time.Duration
	// Scan is how often the list of subscriptions is read again (2s).
	Scan time.Duration
	// Batch is the most changes one delivery carries (100).
	Batch int
	// Wait is how long one read of the feed waits for a change (5s).
	Wait time.Duration
	// MaxAttempts is how many failed tries of one batch mark the
	// subscription failing (8); delivery then goes on every MaxBackoff.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait between tries (1s, 5m);
	// it doubles from one to the next, with jitter.
	MinBackoff, MaxBackoff time.Duration
	Log                    *slog.Logger
	Observer               Observer
}

func (o *Options) defaults() {
	if o.Replica == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.Replica = host + "-" + hex.EncodeToString(b)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Lease, 30*time.Second)
	def(&o.Scan, 2*time.Second)
	def(&o.Wait, 5*time.Second)
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, 5*time.Minute)
	if o.Batch <= 0 || o.Batch > service.MaxFeedLimit {
		o.Batch = 100
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Worker delivers every active subscription, each in its own goroutine
// holding the subscription's lease.
type Worker struct {
	st   Store
	feed Feed
	send *Sender
	o    Options
}

// NewWorker returns a worker; Run starts it.
func NewWorker(st Store, feed Feed, send *Sender, o Options) *Worker {
	o.defaults()
	return &Worker{st: st, feed: feed, send: send, o: o}
}

// Run delivers until ctx ends, then gives up its leases.
func (w *Worker) Run(ctx context.Context) {
	var mu sync.Mutex
	running := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(w.o.Scan)
	defer t.Stop()
	for {
		subs, err := w.st.ListWebhooks(ctx)
		if err != nil && ctx.Err() == nil {
			w.o.Log.Warn("webhooks: listing subscriptions failed", "err", err)
		}
		active, failing := 0, 0
		for _, s := range subs {
			if !s.Active {
				continue
			}
			active++
			if s.State.Failing {
				failing++
			}
			mu.Lock()
			if !running[s.ID] {
				running[s.ID] = true
				wg.Add(1)
				go func(id string) {
					defer wg.Done()
					w.deliver(ctx, id)
					mu.Lock()
					delete(running, id)
					mu.Unlock()
				}(s.ID)
			}
			mu.Unlock()
		}
		if w.o.Observer != nil && err == nil {
			w.o.Observer.WebhookSubscriptions(active, failing)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sub is one subscription's delivery, run by one goroutine.
type sub struct {
	*Worker
	id       string
	attempts int  // failed tries of the batch at the cursor
	held     bool // whether this replica held the lease at the last step
}

// deliver delivers one subscription until it is deleted or deactivated,
// or ctx ends.
func (w *Worker) deliver(ctx context.Context, id string) {
	s := &sub{Worker: w, id: id}
	defer func() {
		// A fresh context: ctx has ended, and the lease should not be
		// left to time out.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = w.st.ReleaseWebhook(rctx, id, w.o.Replica)
	}()
	for ctx.Err() == nil {
		pause, done := s.step(ctx)
		if done {
			return
		}
		if pause > 0 && !sleep(ctx, pause) {
			return
		}
	}
}

// step takes the lease, reads the next batch and delivers it once. It
// returns how long to pause before the next step, and whether the
// subscription is gone or inactive.
func (s *sub) step(ctx context.Context) (time.Duration, bool) {
	leasedAt := time.Now()
	held, err := s.st.LeaseWebhook(ctx, s.id, s.o.Replica, leasedAt.Add(s.o.Lease))
	switch {
	case domain.Is(err, domain.KindNotFound):
		return 0, true
	case err != nil:
		return s.o.Scan, false
	case !held:
		s.attempts, s.held = 0, false // another replica delivers; its tries are its own
		return jitter(s.o.Lease / 3), false
	}
	if !s.held {
		s.held = true
		s.o.Log.Info("webhooks: this replica delivers the subscription", "webhook", s.id, "replica", s.o.Replica)
	}
	hook, err := s.st.GetWebhook(ctx, s.id)
	if domain.Is(err, domain.KindNotFound) || (err == nil && !hook.Active) {
		return 0, true
	}
	if err != nil {
		return s.o.Scan, false
	}
	page, err := s.feed.WebhookBatch(ctx, hook, service.FeedQuery{Limit: s.o.Batch, Wait: s.o.Wait})
	if err != nil {
		return s.unreadable(ctx, hook, err), false
	}
	if len(page.Changes) == 0 {
		if page.Next > hook.State.Cursor {
			// Changes the filter left out: skip past them.
			_, _ = s.st.AdvanceWebhook(ctx, s.id, s.o.Replica, hook.State.Cursor, page.Next)
		}
		return 0, false
	}
	// The lease must outlast the request: renew it first unless twice the
	// request's timeout is still left of it (the feed read may have
	// waited).
	if time.Since(leasedAt) > s.o.Lease-2*s.send.policy.timeout() {
		if held, err := s.st.LeaseWebhook(ctx, s.id, s.o.Replica, time.Now().Add(s.o.Lease)); err != nil || !held {
			return s.o.Scan, false
		}
	}
	return s.send1(ctx, hook, page), false
}

// send1 delivers one batch, logs the attempt and moves the cursor past
// it when the receiver acknowledged it. A crash between the two sends the
// batch again: never a loss, sometimes a repeat.
func (s *sub) send1(ctx context.Context, hook domain.Webhook, page service.FeedPage) time.Duration {
	d := s.send.Send(ctx, hook, Body{Type: api.WebhookEventChanges, WebhookID: hook.ID, Changes: page.Changes, Next: page.Next})
	d.Attempt = s.attempts + 1
	if ctx.Err() != nil && !d.OK {
		return 0 // shutting down: not the receiver's failure
	}
	if err := s.st.RecordWebhookDelivery(ctx, &d); err != nil {
		s.o.Log.Warn("webhooks: logging a delivery failed", "webhook", hook.ID, "err", err)
	}
	if s.o.Observer != nil {
		s.o.Observer.WebhookDelivered(d.OK, time.Duration(d.LatencyMS)*time.Millisecond)
	}
	if d.OK {
		s.attempts = 0
		if _, err := s.st.AdvanceWebhook(ctx, s.id, s.o.Replica, hook.State.Cursor, page.Next); err != nil {
			s.o.Log.Warn("webhooks: recording a delivery failed; it will be sent again", "webhook", hook.ID, "err", err)
		}
		return 0
	}
	s.attempts++
	if s.attempts >= s.o.MaxAttempts {
		s.fail(ctx, hook, fmt.Sprintf("%d tries failed; the last: %s", s.attempts, d.Error))
	}
	return s.backoff()
}

// unreadable handles a batch that cannot be read: a change no longer
// retained, or an owner who may no longer read the feed, marks the
// subscription failing until an administrator acts; an outage is retried.
func (s *sub) unreadable(ctx context.Context, hook domain.Webhook, err error) time.Duration {
	if ctx.Err() != nil {
		return 0
	}
	var gone *service.ChangesGone
	switch {
	case errors.As(err, &gone):
		s.fail(ctx, hook, fmt.Sprintf("the changes after revision %d are no longer retained (the oldest is %d): redeliver from a retained revision after resyncing the receiver", hook.State.Cursor, gone.Oldest))
	case domain.Is(err, domain.KindForbidden) || domain.Is(err, domain.KindUnauthenticated) || domain.Is(err, domain.KindInvalid):
		s.fail(ctx, hook, "the subscription's owner may not read the feed: "+err.Error()+"; change the subscription as a holder of changes.read")
	default:
		s.o.Log.Warn("webhooks: reading the feed failed", "webhook", hook.ID, "err", err)
		return s.o.Scan
	}
	return s.o.MaxBackoff
}

func (s *sub) fail(ctx context.Context, hook domain.Webhook, msg string) {
	if !hook.State.Failing {
		s.o.Log.Warn("webhooks: subscription failing", "webhook", hook.ID, "name", hook.Name, "reason", msg)
	}
	if err := s.st.MarkWebhookFailing(ctx, s.id, s.o.Replica, msg); err != nil {
		s.o.Log.Warn("webhooks: marking a subscription failing failed", "webhook", hook.ID, "err", err)
	}
}

// backoff is the pause after the attempts-th failure: MinBackoff doubled
// each time up to MaxBackoff, between half and all of it at random.
func (s *sub) backoff() time.Duration {
	d := s.o.MinBackoff
	for i := 1; i < s.attempts && d < s.o.MaxBackoff; i++ {
		d *= 2
	}
	return jitter(min(d, s.o.MaxBackoff))
}

// jitter returns a random duration between d/2 and d, so that replicas
// and subscriptions do not retry in step.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
