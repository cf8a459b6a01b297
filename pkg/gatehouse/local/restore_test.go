package local

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// reloads records the reasons of the snapshot loads a replica reports.
type reloads struct {
	mu      sync.Mutex
	reasons []string
}

func (m *reloads) Checked(bool, bool)         {}
func (m *reloads) Applied(int, time.Duration) {}
func (m *reloads) Reloaded(reason string, _ time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		reason += " (failed)"
	}
	m.reasons = append(m.reasons, reason)
}

func (m *reloads) saw(reason string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Contains(m.reasons, reason)
}

func (m *reloads) count(reason string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.reasons {
		if r == reason {
			n++
		}
	}
	return n
}

// TestReplicaReloadsWhenTheServerIsRestored: the server's database is
// restored to an older revision. Rewound only, the replica is beyond the
// server's newest revision; rewound and then written to, the revision
// numbers climb past the replica's again with a different history. Either
// way the feed answers 410 diverged, the replica counts a "diverged"
// reload, answers nothing while it cannot load the snapshot (never from
// the state the server no longer has), and then answers as the server.
func TestReplicaReloadsWhenTheServerIsRestored(t *testing.T) {
	for _, overtaken := range []bool{false, true} {
		name := map[bool]string{false: "rewound", true: "rewound and overtaken"}[overtaken]
		t.Run(name, func(t *testing.T) {
			f := newFakeServer(t)
			m := &reloads{}
			r := newReplica(t, f, Options{Metrics: m})
			ctx := context.Background()
			f.member(true)          // 2: alice joins Staff
			lost := f.member(false) // 3: alice leaves; lost in the restore
			if err := r.WaitFor(ctx, lost); err != nil {
				t.Fatal(err)
			}
			if d, err := r.Check(ctx, auditView); err != nil || d.Allowed {
				t.Fatalf("before the restore: %+v %v; want denied", d, err)
			}
			f.snapDown.Store(true)
			want := int64(2)
			if overtaken {
				// 3 is another change, and 4, about another user, would
				// leave alice out of Staff if applied to the lost 3.
				bob := gatehouse.ChangedObject{Entity: "user", ID: "bob", Op: "put", After: json.RawMessage(`{"id":"bob","status":"active"}`)}
				f.restore(2, aliceInStaff(true), bob)
				want = 4
			} else {
				f.restore(2) // alice is in Staff again
			}
			waitFor(t, "a failed diverged reload", func() bool { return m.saw(ReloadDiverged + " (failed)") })
			if d, err := r.Check(ctx, auditView); !gatehouse.IsUnavailable(err) {
				t.Fatalf("diverged, the snapshot unavailable: %+v %v; want 503, not the old state", d, err)
			}
			f.snapDown.Store(false)
			waitFor(t, "ready again", r.Ready)
			d, err := r.Check(ctx, auditView)
			if err != nil || !d.Allowed || d.Revision != want {
				t.Fatalf("after the reload: %+v %v; want allowed at %d, as the server", d, err, want)
			}
			if !m.saw(ReloadDiverged) {
				t.Errorf("reloads %v; want a diverged one", m.reasons)
			}
			if by := f.byMark.Load(); overtaken != (by > 0) {
				t.Errorf("%d diverged answers for a mark; want some only when overtaken (else the revision is beyond the head)", by)
			}
			next := f.member(false)
			if err := r.WaitFor(ctx, next); err != nil {
				t.Fatal(err)
			}
			if d, err := r.Check(ctx, auditView); err != nil || d.Allowed || d.Revision != next {
				t.Fatalf("following again: %+v %v; want denied at %d", d, err, next)
			}
			// The snapshot's mark is the one the replica follows with: no
			// second diverged reload.
			if n := m.count(ReloadDiverged); n != 1 {
				t.Errorf("reloads %v; want one diverged reload that succeeded", m.reasons)
			}
		})
	}
}
