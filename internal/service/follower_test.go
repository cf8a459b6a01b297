package service_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// fakeLog is a change log in memory: revisions 1..head, minus any
// deliberately missing. Its snapshots are taken at head.
type fakeLog struct {
	mu      sync.Mutex
	head    int64
	missing map[int64]bool
	loads   int
	reads   int
	readErr error
}

func (l *fakeLog) StreamSnapshot(ctx context.Context, start func(int64, string) error, put func(*domain.Mutation) error) error {
	l.mu.Lock()
	l.loads++
	head := l.head
	l.mu.Unlock()
	return start(head, "")
}

func (l *fakeLog) ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	if l.readErr != nil {
		return nil, l.readErr
	}
	var out []domain.Change
	for r := since + 1; r <= l.head; r++ {
		if !l.missing[r] {
			out = append(out, domain.Change{Revision: r, At: time.Now()})
		}
	}
	return out, nil
}

func (l *fakeLog) Revision(ctx context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head, nil
}

// commit adds n changes and returns the new head.
func (l *fakeLog) commit(n int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.head += n
	return l.head
}

func (l *fakeLog) counts() (loads, reads int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.loads, l.reads
}

type reloadRecorder struct {
	mu      sync.Mutex
	reasons []string
	applied int
}

func (r *reloadRecorder) ChangesApplied(n int, d time.Duration) {
	r.mu.Lock()
	r.applied += n
	r.mu.Unlock()
}

func (r *reloadRecorder) SnapshotReloaded(reason string, d time.Duration) {
	r.mu.Lock()
	r.reasons = append(r.reasons, reason)
	r.mu.Unlock()
}

func (r *reloadRecorder) got() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reasons...), r.applied
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// run starts f.Run until the test ends, logging nowhere unless o.Log
// is set.
func run(t *testing.T, f *service.Follower, o service.RunOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	if o.Log == nil {
		o.Log = quiet
	}
	go func() { defer close(done); _ = f.Run(ctx, o) }()
	t.Cleanup(func() { cancel(); <-done })
}

// eventually waits, with a generous liveness bound, for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newFollower(t *testing.T, src service.ChangeSource) *service.Follower {
	t.Helper()
	f, err := service.NewFollower(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A notification brings a change at once, even when polls are rare.
func TestFollowerWokenByNotification(t *testing.T) {
	l := &fakeLog{}
	f := newFollower(t, l)
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake, PollInterval: time.Hour})
	head := l.commit(3)
	wake <- head
	eventually(t, "the follower applies the notified changes", func() bool { return f.Revision() == head })
	if loads, _ := l.counts(); loads != 1 {
		t.Errorf("%d snapshot loads, want 1 (the changes came from the log)", loads)
	}
}

// A lost notification only delays: the next poll finds the change.
func TestFollowerLostNotificationOnlyDelays(t *testing.T) {
	l := &fakeLog{}
	f := newFollower(t, l)
	wake := make(chan int64) // nobody ever sends
	run(t, f, service.RunOptions{Wake: wake, PollInterval: 5 * time.Millisecond})
	head := l.commit(2)
	eventually(t, "a poll finds the unannounced changes", func() bool { return f.Revision() == head })
	if n, d := f.Lag(); n != 0 || d != 0 {
		t.Errorf("Lag() = %d, %v after catching up, want 0, 0", n, d)
	}
}

// A gap in the log (a revision missing) makes the follower reload a
// snapshot rather than apply around it.
func TestFollowerGapReloads(t *testing.T) {
	l := &fakeLog{head: 2}
	f := newFollower(t, l)
	obs := &reloadRecorder{}
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake, PollInterval: time.Hour, Observer: obs})
	l.mu.Lock()
	l.head = 6
	l.missing = map[int64]bool{5: true}
	l.mu.Unlock()
	wake <- 6
	eventually(t, "the follower reaches 6", func() bool { return f.Revision() == 6 })
	// The observer hears of the reload just after the new engine is in place.
	eventually(t, "the reload is reported", func() bool { r, _ := obs.got(); return len(r) > 0 })
	reasons, applied := obs.got()
	if len(reasons) != 1 || reasons[0] != service.ReloadGap || applied != 2 {
		t.Errorf("reloads %v, applied %d; want [gap] after applying 3 and 4", reasons, applied)
	}
	if loads, _ := l.counts(); loads != 2 || f.Reloads() != 1 {
		t.Errorf("%d snapshot loads, Reloads() = %d; want 2 and 1", loads, f.Reloads())
	}
}

// Too far behind the head: one snapshot load instead of reading the log.
func TestFollowerTooFarBehindReloads(t *testing.T) {
	l := &fakeLog{}
	f := newFollower(t, l)
	obs := &reloadRecorder{}
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake, PollInterval: time.Hour, ReloadAfter: 5, Observer: obs})
	_, readsBefore := l.counts()
	wake <- l.commit(20)
	eventually(t, "the follower reaches 20", func() bool { return f.Revision() == 20 })
	eventually(t, "the reload is reported", func() bool { r, _ := obs.got(); return len(r) > 0 })
	reasons, applied := obs.got()
	if len(reasons) != 1 || reasons[0] != service.ReloadBehind || applied != 0 {
		t.Errorf("reloads %v, applied %d; want [behind] and nothing read from the log", reasons, applied)
	}
	// Close behind: the log, not a snapshot.
	wake <- l.commit(5)
	eventually(t, "the follower reaches 25", func() bool { return f.Revision() == 25 })
	eventually(t, "the applies are reported", func() bool { _, n := obs.got(); return n == 5 })
	if reasons, applied := obs.got(); len(reasons) != 1 || applied != 5 {
		t.Errorf("after 5 more: reloads %v, applied %d; want one reload and 5 applied", reasons, applied)
	}
	if _, reads := l.counts(); reads <= readsBefore {
		t.Errorf("the log was not read for the last 5 changes")
	}
}

// Lag counts the revisions and the time the engine has been behind the
// head it knows; it goes back to zero once level.
func TestFollowerLag(t *testing.T) {
	l := &fakeLog{}
	f, wake := followUnreadable(t, l)
	wake <- l.commit(7)
	eventually(t, "the head is known", func() bool { return f.Head() == 7 })
	time.Sleep(20 * time.Millisecond)
	n, d := f.Lag()
	if n != 7 || d < 20*time.Millisecond {
		t.Errorf("Lag() = %d, %v while the log cannot be read; want 7 and at least 20ms", n, d)
	}
	l.mu.Lock()
	l.readErr = nil
	l.mu.Unlock()
	wake <- 7
	eventually(t, "the follower catches up", func() bool { return f.Revision() == 7 })
	if n, d := f.Lag(); n != 0 || d != 0 {
		t.Errorf("Lag() = %d, %v once level, want 0, 0", n, d)
	}
}

// WaitFor answers as soon as the revision arrives, and past its bound
// says it is unavailable rather than hanging.
func TestR20FollowerWaitFor(t *testing.T) {
	l := &fakeLog{}
	f := newFollower(t, l)
	wake := make(chan int64, 1)
	run(t, f, service.RunOptions{Wake: wake, PollInterval: time.Hour})
	go func() {
		time.Sleep(20 * time.Millisecond)
		wake <- l.commit(1)
	}()
	if err := f.WaitFor(context.Background(), 1, 10*time.Second); err != nil {
		t.Fatalf("WaitFor(1) = %v", err)
	}
	if f.Revision() != 1 {
		t.Errorf("revision %d after WaitFor(1)", f.Revision())
	}
	err := f.WaitFor(context.Background(), 9, 30*time.Millisecond)
	if !domain.Is(err, domain.KindUnavailable) {
		t.Errorf("WaitFor(9) of a revision never committed = %v, want kind unavailable", err)
	}
}

// catchUpReader is a writer's transaction through which another caller
// brings the follower to rev while this one reads: its read finds nothing
// new.
type catchUpReader struct {
	f   *service.Follower
	rev int64
}

func (r catchUpReader) ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	if err := r.f.CatchUp(ctx, r.rev); err != nil {
		return nil, err
	}
	return nil, nil
}

// A writer catching up inside its transaction while another caller
// applies the same changes finds the log empty past its revision; the
// engine is at the revision all the same, so it goes on.
func TestR20CatchUpWithinWhileAnotherCallerApplies(t *testing.T) {
	l := &fakeLog{}
	f := newFollower(t, l)
	rev := l.commit(3)
	if err := f.CatchUpWithin(context.Background(), catchUpReader{f: f, rev: rev}, rev); err != nil {
		t.Fatalf("CatchUpWithin(%d) = %v after another caller reached it", rev, err)
	}
	if f.Revision() != rev {
		t.Errorf("revision %d, want %d", f.Revision(), rev)
	}
}

// lateLog is a log whose read fails, as the engine advances meanwhile
// and its waiters are not woken yet: the state in which WaitFor's bound
// may fire.
type lateLog struct {
	*fakeLog
	f *service.Follower
}

func (l *lateLog) ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	time.Sleep(2 * time.Millisecond) // past WaitFor's bound
	if err := l.f.Engine().Apply(domain.Change{Revision: since + 1, At: time.Now()}); err != nil {
		return nil, err
	}
	return nil, domain.E("lateLog", domain.KindUnavailable, errors.New("the database is restarting"))
}

// WaitFor whose bound fires as the engine reaches the revision answers
// that it is there, not that it is unavailable.
func TestR20WaitForReachedAtItsBound(t *testing.T) {
	l := &lateLog{fakeLog: &fakeLog{}}
	l.f = newFollower(t, l)
	if err := l.f.WaitFor(context.Background(), 1, time.Microsecond); err != nil {
		t.Fatalf("WaitFor(1) = %v with the engine at %d", err, l.f.Revision())
	}
}
