package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// ChangeSource is what a Follower reads: the store methods that build and
// advance the engine, and the head revision, to know how far behind it is.
type ChangeSource interface {
	// StreamSnapshot is store.Store's: the follower indexes the objects
	// as they are read (engine.Load) and never holds the snapshot whole.
	StreamSnapshot(ctx context.Context, start func(revision int64, mark string) error, put func(*domain.Mutation) error) error
	ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error)
	Revision(ctx context.Context) (int64, error)
}

// FollowerObserver is told what the follower does, for metrics. Its
// methods are called from the follower's goroutines and must not block.
type FollowerObserver interface {
	// ChangesApplied reports n changes applied from the log in d.
	ChangesApplied(n int, d time.Duration)
	// SnapshotReloaded reports a rebuild of the engine from a snapshot.
	SnapshotReloaded(reason string, d time.Duration)
}

// Reasons a follower reloads a snapshot, as given to SnapshotReloaded and
// logged.
const (
	ReloadGap     = "gap"     // the log's next change is not engine+1
	ReloadBehind  = "behind"  // more than ReloadAfter revisions behind
	ReloadRefused = "refused" // the engine refused a committed change
)

// RunOptions configure Follower.Run.
type RunOptions struct {
	// Wake delivers committed revisions announced by the database (for
	// PostgreSQL, LISTEN on postgres.NotifyChannel); 0 means "something
	// committed". Nil means no notifications: polling alone.
	Wake <-chan int64
	// PollInterval is how often the head revision is read even without a
	// notification, so a lost notification only delays a change. Default
	// 500ms.
	PollInterval time.Duration
	// ReloadAfter: when the engine is more than this many revisions
	// behind the head, a snapshot is loaded instead of reading the log.
	// Default 10000; negative disables.
	ReloadAfter int64
	// Observer, if set, is told about applies and reloads.
	Observer FollowerObserver
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// DefaultReloadAfter is RunOptions.ReloadAfter's default.
const DefaultReloadAfter = 10000

// Follower holds the engine that answers checks and keeps it in step with
// the change log. Commits may return their revisions to their callers out
// of order (7 and 8 from two goroutines); CatchUp still applies changes one
// by one in revision order because it reads them from the log rather than
// taking them from the callers.
//
// It also tracks the head: the highest revision it knows the database
// committed (from notifications, polls and the log itself), so it can say
// how far behind it is, in revisions and in time.
type Follower struct {
	src ChangeSource
	mu  sync.Mutex // serializes applying changes and swapping engines; never held during I/O
	eng atomic.Pointer[engine.Engine]

	head        atomic.Int64
	behindSince atomic.Int64 // unix nanoseconds the engine was first seen behind head; 0 when level
	running     atomic.Bool
	poll        atomic.Int64 // RunOptions.PollInterval while Run runs, in nanoseconds
	reloadAfter atomic.Int64
	obs         atomic.Pointer[FollowerObserver]
	log         atomic.Pointer[slog.Logger]
	reloads     atomic.Int64

	advMu sync.Mutex
	adv   chan struct{} // closed when the engine advances; nil until someone waits
}

// NewFollower builds the engine from a snapshot of src.
func NewFollower(ctx context.Context, src ChangeSource) (*Follower, error) {
	f := &Follower{src: src}
	f.reloadAfter.Store(DefaultReloadAfter)
	f.log.Store(slog.Default())
	e, err := loadEngine(ctx, src)
	if err != nil {
		return nil, err
	}
	f.eng.Store(e)
	f.noteHead(e.Revision())
	return f, nil
}

// loadEngine builds an engine from a snapshot of src, read and indexed at
// once.
func loadEngine(ctx context.Context, src ChangeSource) (*engine.Engine, error) {
	e, err := engine.Load(func(start func(int64) error, put func(*domain.Mutation) error) error {
		return src.StreamSnapshot(ctx, func(revision int64, _ string) error { return start(revision) }, put)
	})
	if err != nil {
		return nil, domain.E("service.Follower", err)
	}
	return e, nil
}

// reload rebuilds the engine from a snapshot. The snapshot is read and
// indexed without f.mu (checks, and writers applying the log, go on
// meanwhile), then swapped in unless the engine has meanwhile moved past
// it; after a refused change the snapshot replaces the engine whatever its
// revision, because that engine has drifted, and the log brings it
// forward again.
func (f *Follower) reload(ctx context.Context, reason string) error {
	start := time.Now()
	from := f.Revision()
	e, err := loadEngine(ctx, f.src)
	if err != nil {
		return err
	}
	f.mu.Lock()
	if cur := f.Revision(); e.Revision() < cur && reason != ReloadRefused {
		f.mu.Unlock()
		return nil
	}
	f.eng.Store(e)
	f.mu.Unlock()
	f.reloads.Add(1)
	d := time.Since(start)
	f.logger().Warn("engine reloaded from a snapshot", "reason", reason, "from", from, "to", e.Revision(), "took", d)
	if o := f.obs.Load(); o != nil {
		(*o).SnapshotReloaded(reason, d)
	}
	f.noteHead(e.Revision())
	f.advanced()
	return nil
}

func (f *Follower) logger() *slog.Logger { return f.log.Load() }

// Engine returns the current engine. The pointer may change when the
// follower has to rebuild from a snapshot, so callers should not keep it
// across requests.
func (f *Follower) Engine() *engine.Engine { return f.eng.Load() }

// Revision returns the revision the engine answers at.
func (f *Follower) Revision() int64 { return f.eng.Load().Revision() }

// Head returns the highest revision the follower knows the database has
// committed. It is at least Revision.
func (f *Follower) Head() int64 { return max(f.head.Load(), f.Revision()) }

// Reloads returns how many times the engine was rebuilt from a snapshot
// after the first load.
func (f *Follower) Reloads() int64 { return f.reloads.Load() }

// Lag returns how far the engine is behind the head it knows: in
// revisions, and how long it has been behind (0 when it is level).
func (f *Follower) Lag() (revisions int64, behind time.Duration) {
	rev, head := f.Revision(), f.head.Load()
	if head <= rev {
		return 0, 0
	}
	since := f.behindSince.Load()
	if since == 0 {
		return head - rev, 0
	}
	return head - rev, max(time.Duration(time.Now().UnixNano()-since), 0)
}

// noteHead records that the database has committed revision rev.
func (f *Follower) noteHead(rev int64) {
	for {
		old := f.head.Load()
		if rev <= old || f.head.CompareAndSwap(old, rev) {
			break
		}
	}
	f.updateBehind()
}

// updateBehind starts or stops the lag clock after the head or the engine
// moved.
func (f *Follower) updateBehind() {
	if f.head.Load() > f.Revision() {
		f.behindSince.CompareAndSwap(0, time.Now().UnixNano())
	} else {
		f.behindSince.Store(0)
	}
}

// advanced wakes everyone waiting for the engine to move (WaitFor).
func (f *Follower) advanced() {
	f.updateBehind()
	f.advMu.Lock()
	if f.adv != nil {
		close(f.adv)
		f.adv = nil
	}
	f.advMu.Unlock()
}

// advance returns a channel closed the next time the engine advances.
func (f *Follower) advance() <-chan struct{} {
	f.advMu.Lock()
	defer f.advMu.Unlock()
	if f.adv == nil {
		f.adv = make(chan struct{})
	}
	return f.adv
}

// ChangeReader is where CatchUpWithin reads the log: a write transaction.
type ChangeReader interface {
	ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error)
}

// CatchUp applies the change log until the engine is at revision rev or
// later. rev <= 0 means "whatever the log holds now". A revision the log
// does not hold yet is KindUnavailable. The engine is rebuilt from a
// snapshot instead when the log shows a gap, when it is more than
// ReloadAfter revisions behind the head, or when it refuses a change.
func (f *Follower) CatchUp(ctx context.Context, rev int64) error {
	return f.catchUp(ctx, f.src, rev, false)
}

// CatchUpWithin is CatchUp for a writer inside its transaction: it reads
// the log through tx (the writer holds the write lock and its own
// connection; asking the pool for another could wait forever behind the
// writers queued on that lock), and it never reloads a snapshot there: a
// gap or a refused change is answered KindUnavailable and the reload is
// left to the next CatchUp outside the transaction.
func (f *Follower) CatchUpWithin(ctx context.Context, tx ChangeReader, rev int64) error {
	err := f.catchUp(ctx, tx, rev, true)
	if errors.Is(err, errNeedsReload) {
		// Reload outside the writer's transaction, from the pool, so the
		// writer's retry finds the engine rebuilt.
		go func() { _ = f.CatchUp(context.WithoutCancel(ctx), rev) }()
		return domain.E("service.CatchUp", domain.KindUnavailable,
			errors.New("the permission engine is being rebuilt from a snapshot; retry shortly"))
	}
	return err
}

var errNeedsReload = errors.New("the engine needs a snapshot reload")

// catchUp reads the log and applies it. I/O (reading the log, loading a
// snapshot) happens without f.mu; f.mu is held only while changes are
// applied in memory, so no reader of the log waits on another's I/O.
// Changes another caller applied meanwhile are skipped: the log has no
// gaps, so what remains after the engine's revision follows it directly.
func (f *Follower) catchUp(ctx context.Context, r ChangeReader, rev int64, inTx bool) error {
	if rev > 0 && f.Revision() >= rev {
		return nil
	}
	reloadedBehind := false
	for rev <= 0 || f.Revision() < rev {
		from := f.Revision()
		if ra := f.reloadAfter.Load(); !inTx && ra >= 0 && !reloadedBehind && f.head.Load()-from > ra {
			// Once per call: a snapshot is as new as it gets, and a head
			// announced ahead of it must not make the follower reload forever.
			reloadedBehind = true
			if err := f.reload(ctx, ReloadBehind); err != nil {
				return err
			}
			continue
		}
		start := time.Now()
		changes, err := r.ReadChanges(ctx, from, 0)
		if err != nil {
			return domain.E("service.CatchUp", err)
		}
		if len(changes) == 0 {
			if rev <= 0 || f.Revision() >= rev {
				return nil
			}
			return domain.E("service.CatchUp", domain.KindUnavailable,
				fmt.Errorf("revision %d is not in the change log (engine at %d)", rev, f.Revision()))
		}
		f.noteHead(changes[len(changes)-1].Revision)
		applied, reason := 0, ""
		f.mu.Lock()
		e := f.eng.Load()
		for _, c := range changes {
			if c.Revision <= e.Revision() {
				continue // applied by another caller while this one read
			}
			if c.Revision != e.Revision()+1 {
				// Revisions have no gaps (store contract): a missing one
				// means the log was pruned or edited under us.
				reason = ReloadGap
				break
			}
			if err := e.Apply(c); err != nil {
				// The index refused a change the database committed: it has
				// drifted (a hand edit, a bug). Rebuilding from a snapshot
				// is slow but makes it right again.
				reason = ReloadRefused
				break
			}
			applied++
		}
		f.mu.Unlock()
		if applied > 0 {
			if o := f.obs.Load(); o != nil {
				(*o).ChangesApplied(applied, time.Since(start))
			}
			f.advanced()
		}
		if reason != "" {
			if inTx {
				return errNeedsReload
			}
			if err := f.reload(ctx, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// WaitFor waits, at most wait, until the engine is at revision rev or
// later. It reads the log at once; while the revision is not there yet it
// waits for the engine to advance (Run's notifications and polls), and
// reads the log again itself now and then in case nothing runs Run. Past
// the bound it answers KindUnavailable.
func (f *Follower) WaitFor(ctx context.Context, rev int64, wait time.Duration) error {
	if f.Revision() >= rev {
		return nil
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	backstop := 5 * time.Millisecond
	for {
		adv := f.advance()
		err := f.CatchUp(ctx, rev)
		if err == nil || !domain.Is(err, domain.KindUnavailable) {
			return err
		}
		// With Run following the log, advancing is its job: poll only as
		// often as it does. Without, back off to 100ms.
		most := 100 * time.Millisecond
		if f.running.Load() {
			most = max(time.Duration(f.poll.Load()), most)
		}
		t := time.NewTimer(backstop)
		select {
		case <-adv:
		case <-t.C:
			backstop = min(backstop*2, most)
		case <-deadline.C:
			t.Stop()
			if f.Revision() >= rev {
				return nil
			}
			return domain.E("service.WaitFor", domain.KindUnavailable,
				fmt.Errorf("revision %d is not available yet (engine at %d after waiting %v)", rev, f.Revision(), wait))
		case <-ctx.Done():
			t.Stop()
			return domain.E("service.WaitFor", domain.KindUnavailable, ctx.Err())
		}
		t.Stop()
		if f.Revision() >= rev {
			return nil
		}
	}
}

// Run follows the change log until ctx ends: it catches up whenever the
// database announces a commit on o.Wake, and every o.PollInterval reads
// the head revision and catches up if it moved, so a lost notification
// only delays a change. Errors (the database down) are logged and
// retried at the next poll; Run returns nil when ctx ends.
func (f *Follower) Run(ctx context.Context, o RunOptions) error {
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	if o.ReloadAfter == 0 {
		o.ReloadAfter = DefaultReloadAfter
	}
	if o.Log != nil {
		f.log.Store(o.Log)
	}
	if o.Observer != nil {
		f.obs.Store(&o.Observer)
	}
	f.reloadAfter.Store(o.ReloadAfter)
	f.poll.Store(int64(o.PollInterval))
	f.running.Store(true)
	defer f.running.Store(false)

	tick := time.NewTicker(o.PollInterval)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case rev, ok := <-o.Wake:
			if !ok {
				o.Wake = nil // notifications ended; polling goes on
				continue
			}
			f.noteHead(rev)
			// A burst of commits announces itself many times: one read
			// of the log takes them all.
		drain:
			for {
				select {
				case rev, ok := <-o.Wake:
					if !ok {
						o.Wake = nil
						break drain
					}
					f.noteHead(rev)
				default:
					break drain
				}
			}
		case <-tick.C:
			head, err := f.src.Revision(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				failing = f.logFailure(failing, err)
				continue
			}
			f.noteHead(head)
			if head <= f.Revision() {
				failing = f.logRecovery(failing)
				continue
			}
		}
		if err := f.CatchUp(ctx, 0); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failing = f.logFailure(failing, err)
			continue
		}
		failing = f.logRecovery(failing)
	}
}

// logFailure logs the first of a run of failures only, so a database
// outage does not flood the log at every poll.
func (f *Follower) logFailure(failing bool, err error) bool {
	if !failing {
		f.logger().Warn("following the change log failed; retrying", "err", err, "engine_revision", f.Revision())
	}
	return true
}

func (f *Follower) logRecovery(failing bool) bool {
	if failing {
		f.logger().Info("following the change log again", "engine_revision", f.Revision())
	}
	return false
}
