package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testWebhooks holds the store to "Webhooks" in the store package doc.
func testWebhooks(t *testing.T, newStore NewStore) {
	t.Run("CRUD", func(t *testing.T) { testWebhookCRUD(t, newStore(t)) })
	t.Run("NoChangeLog", func(t *testing.T) { testWebhookNoChangeLog(t, newStore(t)) })
	t.Run("Lease", func(t *testing.T) { testWebhookLease(t, newStore(t)) })
	t.Run("Advance", func(t *testing.T) { testWebhookAdvance(t, newStore(t)) })
	t.Run("DeliveryLog", func(t *testing.T) { testWebhookDeliveryLog(t, newStore(t)) })
	t.Run("ConcurrentLease", func(t *testing.T) { testWebhookConcurrentLease(t, newStore(t)) })
}

func newWebhook(name string) *domain.Webhook {
	return &domain.Webhook{Name: name, URL: "https://hooks.example.org/" + name,
		Filter: domain.WebhookFilter{Entity: "membership", Action: "group.member_add"},
		Secret: "0123456789abcdef-secret", Active: true, OwnerID: "owner-1", ReadLimit: []string{"changes.read"}, State: domain.WebhookState{Cursor: 7}}
}

// createWebhook stores a subscription in an audited transaction.
func createWebhook(t *testing.T, s store.Store, w *domain.Webhook) {
	t.Helper()
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateWebhook(ctx, w) })
}

func testWebhookCRUD(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWebhook("cache")
	createWebhook(t, s, w)
	if w.ID == "" || w.Version != 1 || w.CreatedAt.IsZero() || w.State.Cursor != 7 {
		t.Fatalf("CreateWebhook wrote back %+v, want an id, version 1, a creation time and the cursor given", w)
	}
	got, err := s.GetWebhook(ctx, w.ID)
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	if diff := cmp.Diff(*w, got, cmpOpts); diff != "" {
		t.Errorf("GetWebhook after create (-want +got):\n%s", diff)
	}
	if got.Secret != w.Secret {
		t.Errorf("the secret is stored as given (it signs deliveries): got %q", got.Secret)
	}
	_, err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateWebhook(ctx, newWebhook("CACHE")); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent("webhook.create"))
	})
	wantKind(t, err, domain.KindExists, "CreateWebhook with a name taken in another case")

	w.URL, w.Active, w.Filter = "https://other.example.org/x", false, domain.WebhookFilter{GroupID: "g1"}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateWebhook(ctx, w) })
	if w.Version != 2 {
		t.Errorf("UpdateWebhook: version %d, want 2", w.Version)
	}
	stale := *w
	stale.Version = 1
	_, err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.UpdateWebhook(ctx, &stale); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent("webhook.update"))
	})
	wantKind(t, err, domain.KindConflict, "UpdateWebhook with a stale version")
	got, _ = s.GetWebhook(ctx, w.ID)
	if got.URL != w.URL || got.Active || got.Filter.GroupID != "g1" || got.State.Cursor != 7 {
		t.Errorf("after UpdateWebhook: %+v, want the new configuration and the cursor untouched", got)
	}

	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RewindWebhook(ctx, w.ID, 3) })
	if got, _ = s.GetWebhook(ctx, w.ID); got.State.Cursor != 3 {
		t.Errorf("RewindWebhook to 3: cursor %d", got.State.Cursor)
	}
	list, err := s.ListWebhooks(ctx)
	if err != nil || len(list) != 1 || list[0].ID != w.ID {
		t.Errorf("ListWebhooks = %v, %v; want the one subscription", list, err)
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteWebhook(ctx, w.ID) })
	_, err = s.GetWebhook(ctx, w.ID)
	wantKind(t, err, domain.KindNotFound, "GetWebhook after delete")
	_, err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.DeleteWebhook(ctx, w.ID) })
	wantKind(t, err, domain.KindNotFound, "DeleteWebhook of a missing subscription")
}

// testWebhookNoChangeLog: subscription writes and delivery housekeeping
// allocate no revision and write no change-log row.
func testWebhookNoChangeLog(t *testing.T, s store.Store) {
	ctx := context.Background()
	before, _ := s.Revision(ctx)
	w := newWebhook("quiet")
	ch := mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateWebhook(ctx, w) })
	if ch.Revision != 0 {
		t.Errorf("CreateWebhook committed revision %d, want none", ch.Revision)
	}
	owner := "replica-a"
	if ok, err := s.LeaseWebhook(ctx, w.ID, owner, time.Now().Add(time.Minute)); !ok || err != nil {
		t.Fatalf("LeaseWebhook = %v, %v", ok, err)
	}
	if ok, err := s.AdvanceWebhook(ctx, w.ID, owner, 7, 9); !ok || err != nil {
		t.Fatalf("AdvanceWebhook = %v, %v", ok, err)
	}
	if err := s.RecordWebhookDelivery(ctx, &domain.WebhookDelivery{WebhookID: w.ID, From: 8, To: 9, OK: true}); err != nil {
		t.Fatalf("RecordWebhookDelivery: %v", err)
	}
	after, _ := s.Revision(ctx)
	changes, _ := s.ReadChanges(ctx, before, 0)
	if after != before || len(changes) != 0 {
		t.Errorf("webhook writes moved the revision %d -> %d and logged %d changes, want none", before, after, len(changes))
	}
}

func testWebhookLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWebhook("leased")
	createWebhook(t, s, w)
	now := time.Now()
	if ok, err := s.LeaseWebhook(ctx, w.ID, "a", now.Add(time.Hour)); !ok || err != nil {
		t.Fatalf("first lease = %v, %v; want taken", ok, err)
	}
	if ok, err := s.LeaseWebhook(ctx, w.ID, "b", now.Add(time.Hour)); ok || err != nil {
		t.Errorf("a second replica's lease while the first holds it = %v, %v; want refused", ok, err)
	}
	if ok, _ := s.LeaseWebhook(ctx, w.ID, "a", now.Add(time.Hour)); !ok {
		t.Errorf("the holder renewing its lease was refused")
	}
	if err := s.ReleaseWebhook(ctx, w.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.LeaseWebhook(ctx, w.ID, "b", now.Add(-time.Second)); !ok {
		t.Errorf("a lease after release was refused")
	}
	// b's lease already ended: a takes it over.
	if ok, _ := s.LeaseWebhook(ctx, w.ID, "a", now.Add(time.Hour)); !ok {
		t.Errorf("taking over an ended lease was refused")
	}
	_, err := s.LeaseWebhook(ctx, "no-such", "a", now.Add(time.Hour))
	wantKind(t, err, domain.KindNotFound, "LeaseWebhook of a missing subscription")
}

func testWebhookAdvance(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWebhook("advanced")
	createWebhook(t, s, w)
	if ok, _ := s.AdvanceWebhook(ctx, w.ID, "a", 7, 8); ok {
		t.Errorf("AdvanceWebhook without a lease moved the cursor")
	}
	if ok, _ := s.LeaseWebhook(ctx, w.ID, "a", time.Now().Add(time.Minute)); !ok {
		t.Fatal("lease refused")
	}
	if err := s.MarkWebhookFailing(ctx, w.ID, "a", "receiver answered 500"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetWebhook(ctx, w.ID)
	if !got.State.Failing || got.State.LastError != "receiver answered 500" || got.State.FailedAt == nil {
		t.Errorf("after MarkWebhookFailing: %+v", got.State)
	}
	if ok, _ := s.AdvanceWebhook(ctx, w.ID, "a", 6, 8); ok {
		t.Errorf("AdvanceWebhook from a revision the cursor is not at moved it")
	}
	if ok, err := s.AdvanceWebhook(ctx, w.ID, "a", 7, 12); !ok || err != nil {
		t.Fatalf("AdvanceWebhook = %v, %v", ok, err)
	}
	got, _ = s.GetWebhook(ctx, w.ID)
	if got.State.Cursor != 12 || got.State.Failing || got.State.LastError != "" {
		t.Errorf("after a delivery: %+v, want cursor 12 and the failing mark cleared", got.State)
	}
	// A lease that ended fences the cursor off.
	if ok, _ := s.LeaseWebhook(ctx, w.ID, "a", time.Now().Add(-time.Second)); !ok {
		t.Fatal("renewal refused")
	}
	if ok, _ := s.AdvanceWebhook(ctx, w.ID, "a", 12, 13); ok {
		t.Errorf("AdvanceWebhook under an ended lease moved the cursor")
	}
}

func testWebhookDeliveryLog(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWebhook("logged")
	createWebhook(t, s, w)
	base := time.Now().Add(-time.Hour)
	n := store.MaxWebhookDeliveries + 5
	for i := range n {
		d := &domain.WebhookDelivery{WebhookID: w.ID, At: base.Add(time.Duration(i) * time.Second), From: int64(i), To: int64(i),
			Changes: 1, Attempt: 1, StatusCode: 200, LatencyMS: 3, OK: true}
		if err := s.RecordWebhookDelivery(ctx, d); err != nil {
			t.Fatalf("RecordWebhookDelivery %d: %v", i, err)
		}
	}
	log, err := s.ListWebhookDeliveries(ctx, w.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != store.MaxWebhookDeliveries || log[0].From != int64(n-1) || log[len(log)-1].From != 5 {
		t.Errorf("delivery log: %d entries from %d to %d, want the newest %d, newest first", len(log), log[0].From, log[len(log)-1].From, store.MaxWebhookDeliveries)
	}
	// A limit below the maximum is kept (the console asks for the last
	// few); one above it is cut to the maximum.
	for limit, want := range map[int]int{3: 3, store.MaxWebhookDeliveries + 1: store.MaxWebhookDeliveries} {
		if log, err := s.ListWebhookDeliveries(ctx, w.ID, limit); err != nil || len(log) != want || log[0].From != int64(n-1) {
			t.Errorf("ListWebhookDeliveries(limit %d) = %d entries, %v; want the newest %d", limit, len(log), err, want)
		}
	}
	err = s.RecordWebhookDelivery(ctx, &domain.WebhookDelivery{WebhookID: "no-such"})
	if err == nil {
		t.Errorf("a delivery of a missing subscription was recorded")
	}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteWebhook(ctx, w.ID) })
	if log, _ := s.ListWebhookDeliveries(ctx, w.ID, 0); len(log) != 0 {
		t.Errorf("the delivery log outlived its subscription: %d entries", len(log))
	}
}

// testWebhookConcurrentLease: of many replicas racing for one lease,
// exactly one holds it.
func testWebhookConcurrentLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWebhook("raced")
	createWebhook(t, s, w)
	var mu sync.Mutex
	var holders []string
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("replica-%d", i)
			ok, err := s.LeaseWebhook(ctx, w.ID, owner, time.Now().Add(time.Minute))
			if err != nil {
				t.Errorf("%s: %v", owner, err)
			}
			if ok {
				mu.Lock()
				holders = append(holders, owner)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(holders) != 1 {
		t.Errorf("replicas holding the lease at once: %v, want exactly one", holders)
	}
}
