// Command cacheinvalidation keeps a cache of Gatehouse decisions right by
// listening to changes, either by following the change feed or by
// receiving webhooks (docs/integrating.md, "The change feed" and
// "Webhooks"):
//
//	cacheinvalidation -server URL -mode feed                 (GATEHOUSE_TOKEN limited to changes.read)
//	cacheinvalidation -server URL -mode webhook -listen :9000 (GATEHOUSE_WEBHOOK_SECRET: the subscription's secret)
//
// The cache answers repeated checks without a round trip; a change to a
// user's memberships or grants drops that user's decisions, and any other
// change (a group's rights, a role) drops them all.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

func main() {
	server := flag.String("server", "http://127.0.0.1:8080", "the Gatehouse server")
	mode := flag.String("mode", "feed", "feed (follow GET /changes) or webhook (receive deliveries)")
	listen := flag.String("listen", "127.0.0.1:9000", "with -mode webhook: where deliveries are received")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	gh, err := gatehouse.New(*server, gatehouse.WithToken(os.Getenv("GATEHOUSE_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	cache := NewCache(gh)
	switch *mode {
	case "feed":
		err = cache.Follow(ctx, 0)
	case "webhook":
		v := gatehouse.WebhookVerifier{Secrets: []string{os.Getenv("GATEHOUSE_WEBHOOK_SECRET")}}
		srv := &http.Server{Addr: *listen, Handler: cache.Receiver(v)}
		go func() { <-ctx.Done(); _ = srv.Close() }()
		err = srv.ListenAndServe()
	default:
		log.Fatalf("-mode %q: want feed or webhook", *mode)
	}
	if err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

// Cache holds decisions by user, dropped when a change may affect them.
type Cache struct {
	gh     *gatehouse.Client
	mu     sync.Mutex
	byUser map[string]map[gatehouse.CheckRequest]bool
	last   int64 // the last revision applied
}

// NewCache returns an empty cache over gh.
func NewCache(gh *gatehouse.Client) *Cache {
	return &Cache{gh: gh, byUser: map[string]map[gatehouse.CheckRequest]bool{}}
}

// Check answers from the cache, or asks Gatehouse and keeps the answer.
func (c *Cache) Check(ctx context.Context, userID, perm, resource string) (bool, error) {
	req := gatehouse.CheckRequest{Subject: gatehouse.User(userID), Permission: perm, Resource: resource}
	c.mu.Lock()
	allowed, ok := c.byUser[userID][req]
	c.mu.Unlock()
	if ok {
		return allowed, nil
	}
	d, err := c.gh.Check(ctx, req)
	if err != nil {
		return false, err // fail closed: the caller refuses
	}
	c.mu.Lock()
	if c.byUser[userID] == nil {
		c.byUser[userID] = map[gatehouse.CheckRequest]bool{}
	}
	c.byUser[userID][req] = d.Allowed
	c.mu.Unlock()
	return d.Allowed, nil
}

// Cached is how many users have decisions in the cache.
func (c *Cache) Cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byUser)
}

// Apply drops what a change may have made wrong. A revision already
// applied (a webhook delivered again) is skipped.
func (c *Cache) Apply(ch gatehouse.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch.Revision <= c.last {
		return
	}
	c.last = ch.Revision
	for _, o := range ch.Objects {
		obj := o.After
		if o.Op == "delete" {
			obj = o.Before
		}
		var about struct {
			UserID    string `json:"user_id"`    // a membership
			SubjectID string `json:"subject_id"` // a project grant
		}
		_ = json.Unmarshal(obj, &about)
		switch o.Entity {
		case "membership", "project_grant":
			delete(c.byUser, about.UserID)
			delete(c.byUser, about.SubjectID)
		default:
			clear(c.byUser) // may affect many users
		}
	}
}

// Follow applies the change feed from revision after on until ctx ends;
// past retention (410) it drops everything and follows from the oldest.
func (c *Cache) Follow(ctx context.Context, after int64) error {
	for ch, err := range c.gh.Changes(ctx, gatehouse.ChangesQuery{After: after}) {
		if gatehouse.IsGone(err) {
			c.mu.Lock()
			clear(c.byUser)
			c.mu.Unlock()
			return c.Follow(ctx, 0)
		}
		if err != nil {
			continue // unavailable: the iterator retries
		}
		c.Apply(ch)
	}
	return ctx.Err()
}

// Receiver is the webhook endpoint: it verifies each delivery, applies its
// changes, then acknowledges (anything but 2xx is delivered again).
func (c *Cache) Receiver(v gatehouse.WebhookVerifier) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := v.ReadWebhook(r)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		for _, ch := range d.Changes {
			c.Apply(ch)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
