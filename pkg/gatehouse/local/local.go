package local

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// Fallback is what the replica does with a question it cannot answer
// from a state it can prove: while it is not ready, or when an AtLeast
// revision has not arrived within the wait.
type Fallback int

const (
	// FailClosed answers with an *gatehouse.Error for which
	// gatehouse.IsUnavailable is true (503): the caller refuses.
	FailClosed Fallback = iota
	// AskServer sends the question to the server through the client,
	// with its Consistency, and returns the server's answer.
	AskServer
)

// Options configure a replica. The zero value fails closed.
type Options struct {
	// NotReady is what a question gets while the replica holds no state
	// it can prove (reloading a snapshot, or stale past MaxStale).
	NotReady Fallback
	// Behind is what a question with AtLeast gets when the replica has
	// not reached that revision within the wait.
	Behind Fallback
	// AtLeastWait bounds how long a question with AtLeast waits for the
	// replica when its Consistency gives no Wait (default 2 s, as the
	// server's; a negative Consistency.Wait does not wait).
	AtLeastWait time.Duration
	// MaxStale, when positive, makes the replica not ready once it has
	// not heard from the feed for that long (the server unreachable):
	// its answers would still be right for their revision, but older
	// than the application accepts. 0 accepts any age.
	MaxStale time.Duration
	// PollWait is how long one read of the change feed waits for a
	// change (default 25 s, at most 30 s).
	PollWait time.Duration
	// Metrics, if set, is told what the replica does.
	Metrics Metrics
	// Log defaults to slog.Default().
	Log *slog.Logger
	// Now is the clock expiries are evaluated at (R6); default time.Now.
	Now func() time.Time
}

// Reasons a replica reloads a snapshot, as given to Metrics.Reloaded.
const (
	ReloadStart = "start" // the first load
	ReloadGap   = "gap"   // a revision is missing from the feed, or out of order
	ReloadGone  = "gone"  // the feed no longer retains the replica's revision (410)
	// ReloadDiverged: the server's history is not the replica's (410,
	// kind diverged): its database was restored to an older revision.
	ReloadDiverged = "diverged"
	ReloadDecode   = "decode"  // a change could not be decoded
	ReloadRefused  = "refused" // the engine refused a change
)

// Metrics is told what the replica does, for an application to export
// (to Prometheus, say). Its methods are called on the replica's own
// goroutine or, for Checked, on the caller's, and must not block.
type Metrics interface {
	// Checked reports one check answered: locally or by the server
	// (a fallback), allowed or not.
	Checked(local, allowed bool)
	// Applied reports changes applied from the feed; lag is how long
	// after its commit the last of them was applied (on the server's
	// clock: skew between the machines adds to it).
	Applied(n int, lag time.Duration)
	// Reloaded reports a snapshot load, with its reason, how long it
	// took and its error (nil when it succeeded).
	Reloaded(reason string, took time.Duration, err error)
}

// Freshness says how current the replica is.
type Freshness struct {
	// Ready reports whether the replica answers questions itself.
	Ready bool
	// Revision is the revision the replica answers at.
	Revision int64
	// Head is the highest revision the replica knows the server has
	// committed; Behind is Head - Revision.
	Head, Behind int64
	// Age is how long ago the replica last knew it had every committed
	// change (a read of the feed that came back with nothing newer).
	Age time.Duration
	// Reloads counts snapshot loads after the first.
	Reloads int64
	// Err is the last failure to read the feed or a snapshot; nil once
	// a read succeeds again.
	Err error
}

// Replica is a local replica of the engine. It is safe for concurrent
// use; Close stops it.
type Replica struct {
	gh   *gatehouse.Client
	opts Options
	log  *slog.Logger

	eng atomic.Pointer[engine.Engine] // nil until the first load
	// mark is the mark of the change at the engine's revision, sent with
	// each read of the feed so that the server refuses a replica whose
	// history it no longer has; "" when unknown. Only New's first load
	// and the follow goroutine touch it.
	mark  string
	ready atomic.Bool
	// applyMu is held to apply a change or swap the engine; a batch
	// holds it shared so that all its checks see one revision.
	applyMu sync.RWMutex

	head      atomic.Int64
	heardAt   atomic.Int64 // unix nanoseconds of the last read that left nothing unread
	reloads   atomic.Int64
	lastErr   atomic.Pointer[error]
	advanceMu sync.Mutex
	advance   chan struct{} // closed when the revision moves or readiness changes

	stop context.CancelFunc
	done chan struct{}
}

// Defaults of Options.
const (
	DefaultAtLeastWait = 2 * time.Second
	DefaultPollWait    = 25 * time.Second
)

// New loads the snapshot through gh (whose token's user needs
// replica.read), then follows the change feed in the background until
// Close. (Issue 22 called it gatehouse.NewLocal: it lives in its own
// package so that pkg/gatehouse stays free of the engine.) It fails when the first snapshot cannot be loaded within ctx
// (the server unreachable, 403 without replica.read).
func New(ctx context.Context, gh *gatehouse.Client, opts Options) (*Replica, error) {
	if gh == nil {
		return nil, errors.New("local: a gatehouse.Client is required")
	}
	if opts.AtLeastWait <= 0 {
		opts.AtLeastWait = DefaultAtLeastWait
	}
	if opts.PollWait <= 0 {
		opts.PollWait = DefaultPollWait
	}
	opts.PollWait = min(opts.PollWait, gatehouse.MaxWait)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Replica{gh: gh, opts: opts, log: opts.Log, advance: make(chan struct{}), done: make(chan struct{})}
	if r.log == nil {
		r.log = slog.Default()
	}
	if err := r.reload(ctx, ReloadStart); err != nil {
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	r.stop = stop
	go r.follow(bg)
	return r, nil
}

// Close stops following the feed; the replica then answers as not ready.
func (r *Replica) Close() {
	r.stop()
	<-r.done
	r.setReady(false)
}

// Revision is the revision the replica answers at.
func (r *Replica) Revision() int64 {
	if e := r.eng.Load(); e != nil {
		return e.Revision()
	}
	return 0
}

// Ready reports whether the replica answers questions itself: it holds a
// state it can prove, heard from the feed within MaxStale, and is open.
func (r *Replica) Ready() bool {
	if !r.ready.Load() {
		return false
	}
	if r.opts.MaxStale > 0 && time.Since(time.Unix(0, r.heardAt.Load())) > r.opts.MaxStale {
		return false
	}
	return true
}

// Freshness reports how current the replica is.
func (r *Replica) Freshness() Freshness {
	rev := r.Revision()
	f := Freshness{Ready: r.Ready(), Revision: rev, Head: max(r.head.Load(), rev), Reloads: r.reloads.Load()}
	f.Behind = f.Head - rev
	f.Age = time.Since(time.Unix(0, r.heardAt.Load()))
	if p := r.lastErr.Load(); p != nil {
		f.Err = *p
	}
	return f
}

// WaitFor waits until the replica is ready at revision rev or later, or
// ctx ends (its error then).
func (r *Replica) WaitFor(ctx context.Context, rev int64) error {
	for {
		ch := r.advanced()
		if r.Ready() && r.Revision() >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// advanced returns a channel closed at the next advance.
func (r *Replica) advanced() <-chan struct{} {
	r.advanceMu.Lock()
	defer r.advanceMu.Unlock()
	return r.advance
}

// moved wakes the waiters of WaitFor.
func (r *Replica) moved() {
	r.advanceMu.Lock()
	close(r.advance)
	r.advance = make(chan struct{})
	r.advanceMu.Unlock()
}

func (r *Replica) setReady(ok bool) {
	if r.ready.Swap(ok) != ok {
		r.moved()
	}
}

func (r *Replica) noteHead(rev int64) {
	for {
		old := r.head.Load()
		if rev <= old || r.head.CompareAndSwap(old, rev) {
			return
		}
	}
}

func (r *Replica) noteErr(err error) {
	if err == nil {
		r.lastErr.Store(nil)
		return
	}
	r.lastErr.Store(&err)
}
