package service

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// These tests put the follower in the states that otherwise last only an
// instant between two goroutines (an engine advanced but its waiters not
// woken yet, a head noted but its lag clock not started yet) and check
// what it answers there. They set the follower's fields directly: no
// public call can stop it in those instants.

// emptyLog is a change source whose database is at revision 5 and has
// pruned its log.
type emptyLog struct{}

func (emptyLog) StreamSnapshot(_ context.Context, start func(int64, string) error, _ func(*domain.Mutation) error) error {
	return start(5, "")
}

func (emptyLog) ReadChanges(context.Context, int64, int) ([]domain.Change, error) {
	return nil, nil
}

func (emptyLog) Revision(context.Context) (int64, error) { return 5, nil }

func newEmptyFollower(t *testing.T) *Follower {
	t.Helper()
	f, err := NewFollower(context.Background(), emptyLog{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Level with its head, the follower reports no lag, even while the lag
// clock started when it was behind has not been stopped yet.
func TestLagLevelWithAClockStillRunning(t *testing.T) {
	f := newEmptyFollower(t)
	f.head.Store(f.Revision())
	f.behindSince.Store(time.Now().Add(-time.Minute).UnixNano())
	if n, d := f.Lag(); n != 0 || d != 0 {
		t.Errorf("Lag() = %d, %v level with the head, want 0, 0", n, d)
	}
}

// Behind a head noted an instant ago, before the lag clock starts, the
// follower counts the revisions and no time yet.
func TestLagBehindBeforeTheClockStarts(t *testing.T) {
	f := newEmptyFollower(t)
	f.head.Store(f.Revision() + 3)
	if n, d := f.Lag(); n != 3 || d != 0 {
		t.Errorf("Lag() = %d, %v three behind with no clock, want 3, 0", n, d)
	}
	f.updateBehind()
	time.Sleep(time.Millisecond)
	if n, d := f.Lag(); n != 3 || d <= 0 || d > time.Minute {
		t.Errorf("Lag() = %d, %v three behind with the clock started a moment ago, want 3 and a moment", n, d)
	}
}

// Everyone waiting for the engine to move shares one channel, closed at
// the next advance; waiting again after it takes a new one.
func TestAdvanceWakesEveryWaiter(t *testing.T) {
	f := newEmptyFollower(t)
	a, b := f.advance(), f.advance()
	if a == nil || a != b {
		t.Fatalf("two waiters got %v and %v, want one channel", a, b)
	}
	select {
	case <-a:
		t.Fatal("the channel is closed before the engine advanced")
	default:
	}
	f.advanced()
	select {
	case <-a:
	default:
		t.Fatal("the channel is still open after the engine advanced")
	}
	if c := f.advance(); c == nil || c == a {
		t.Errorf("after an advance a waiter got %v, want a new channel", c)
	}
}

// The change log is pruned every quarter of its retention, at most once
// a second and at least once an hour.
func TestPruneInterval(t *testing.T) {
	for _, c := range []struct{ retention, want time.Duration }{
		{0, time.Second},
		{2 * time.Second, time.Second},
		{8 * time.Second, 2 * time.Second},
		{10 * time.Minute, 150 * time.Second},
		{4 * time.Hour, time.Hour},
		{720 * time.Hour, time.Hour},
	} {
		if got := pruneInterval(c.retention); got != c.want {
			t.Errorf("pruneInterval(%v) = %v, want %v", c.retention, got, c.want)
		}
	}
}
