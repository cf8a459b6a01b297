package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testAudit(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	t.Run("Stamps", func(t *testing.T) {
		s := newStore(t)
		explicitAt := utc(time.Now().Add(-time.Hour))
		var defaulted, explicit *domain.AuditEvent
		ch, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateUser(ctx, newUser("u")); err != nil {
				return err
			}
			defaulted = auditEvent("stamps.defaulted")
			if err := tx.Audit(ctx, defaulted); err != nil {
				return err
			}
			if defaulted.ID == "" {
				t.Errorf("Audit with an empty ID: ID still empty, want the store to set it")
			}
			explicit = auditEvent("stamps.explicit")
			explicit.ID, explicit.At = domain.NewID(), explicitAt
			return tx.Audit(ctx, explicit)
		})
		noErr(t, err, "InTx")
		evs := allAudit(t, s, store.AuditQuery{Action: "stamps.defaulted"})
		if len(evs) != 1 {
			t.Fatalf("ListAudit(stamps.defaulted) = %d events, want 1", len(evs))
		}
		if evs[0].ID != defaulted.ID || evs[0].Revision != ch.Revision {
			t.Errorf("stored audit record: ID %q revision %d, want ID %q (set by Audit) and revision %d (the transaction's)", evs[0].ID, evs[0].Revision, defaulted.ID, ch.Revision)
		}
		checkStoreTime(t, "audit record's defaulted At", evs[0].At)
		evs = allAudit(t, s, store.AuditQuery{Action: "stamps.explicit"})
		if len(evs) != 1 {
			t.Fatalf("ListAudit(stamps.explicit) = %d events, want 1", len(evs))
		}
		if evs[0].ID != explicit.ID || !evs[0].At.Equal(explicitAt) || evs[0].Revision != ch.Revision {
			t.Errorf("stored audit record: ID %q At %v revision %d, want the caller's ID %q and At %v, revision %d", evs[0].ID, evs[0].At, evs[0].Revision, explicit.ID, explicitAt, ch.Revision)
		}
	})

	t.Run("ListFilters", func(t *testing.T) {
		s := newStore(t)
		base := utc(time.Now().Add(-24 * time.Hour)).Truncate(time.Second)
		at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
		a, b := domain.NewID(), domain.NewID()
		u1, u2, g1 := domain.NewID(), domain.NewID(), domain.NewID()
		ev := func(i int, actor, action, kind, target string) domain.AuditEvent {
			return domain.AuditEvent{ID: domain.NewID(), At: at(i), ActorID: actor, ActorName: "name-" + actor, Action: action,
				TargetKind: kind, TargetID: target, Outcome: domain.OutcomeSuccess}
		}
		events := []domain.AuditEvent{
			ev(0, a, "user.create", "user", u1),
			ev(1, b, "group.create", "group", g1),
			ev(2, a, "user.update", "user", u1),
			ev(3, a, "group.update", "group", g1),
			ev(4, b, "user.create", "user", u2),
			ev(5, "", "settings.put", "setting", "everyone_name"),
			ev(6, a, "user.delete", "user", u2),
			ev(7, b, "group.members", "group", g1),
		}
		events[0].Before = json.RawMessage(`{"username": "old", "n": 1}`)
		events[0].After = json.RawMessage(`{"username":"new","n":[1,2]}`)
		events[0].Detail, events[0].RemoteAddr = "with every field", "192.0.2.1"
		events[2].Outcome = domain.OutcomeDenied
		// Audit-only transactions; events 5 and 6 share one.
		for _, batch := range [][]int{{0}, {1}, {2}, {3}, {4}, {5, 6}, {7}} {
			_, err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for _, i := range batch {
					e := events[i]
					if err := tx.Audit(ctx, &e); err != nil {
						return err
					}
				}
				return nil
			})
			noErr(t, err, "InTx audit")
		}
		pick := func(idx ...int) []domain.AuditEvent {
			var out []domain.AuditEvent
			for _, i := range idx {
				out = append(out, events[i])
			}
			return out
		}
		cases := []struct {
			name string
			q    store.AuditQuery
			want []domain.AuditEvent
		}{
			{"everything, newest first", store.AuditQuery{}, pick(7, 6, 5, 4, 3, 2, 1, 0)},
			{"by actor", store.AuditQuery{ActorID: a}, pick(6, 3, 2, 0)},
			{"by target kind", store.AuditQuery{TargetKind: "user"}, pick(6, 4, 2, 0)},
			{"by target", store.AuditQuery{TargetKind: "user", TargetID: u1}, pick(2, 0)},
			{"by target id", store.AuditQuery{TargetID: g1}, pick(7, 3, 1)},
			{"by action", store.AuditQuery{Action: "group.create"}, pick(1)},
			{"since, inclusive", store.AuditQuery{Since: at(2)}, pick(7, 6, 5, 4, 3, 2)},
			{"until, exclusive", store.AuditQuery{Until: at(2)}, pick(1, 0)},
			{"since, until and actor", store.AuditQuery{Since: at(2), Until: at(6), ActorID: a}, pick(3, 2)},
			{"unknown actor", store.AuditQuery{ActorID: domain.NewID()}, nil},
		}
		for _, c := range cases {
			got := allAudit(t, s, c.q)
			if d := diff(got, c.want); d != "" {
				t.Errorf("ListAudit %s (-want +got):\n%s", c.name, d)
			}
		}
		// Pagination: pages of 3, newest first, no repeats.
		var got []domain.AuditEvent
		q := store.AuditQuery{Limit: 3}
		for pages := 0; ; pages++ {
			p, err := s.ListAudit(ctx, q)
			noErr(t, err, "ListAudit")
			if len(p.Items) > 3 {
				t.Errorf("ListAudit with Limit 3 returned %d events", len(p.Items))
			}
			got = append(got, p.Items...)
			if p.Next == "" || pages > 10 {
				break
			}
			q.Cursor = p.Next
		}
		if d := diff(got, pick(7, 6, 5, 4, 3, 2, 1, 0)); d != "" {
			t.Errorf("ListAudit paged by 3 (-want +got):\n%s", d)
		}
		q = store.AuditQuery{Limit: 2, ActorID: a}
		p1, err := s.ListAudit(ctx, q)
		noErr(t, err, "ListAudit")
		q.Cursor = p1.Next
		p2, err := s.ListAudit(ctx, q)
		noErr(t, err, "ListAudit")
		if d := diff(append(p1.Items, p2.Items...), pick(6, 3, 2, 0)); d != "" || p2.Next != "" {
			t.Errorf("ListAudit(actor, Limit 2) over two pages, last Next %q (-want +got):\n%s", p2.Next, d)
		}
	})
}
