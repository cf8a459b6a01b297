package service

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// ChangeSource is what a Follower reads: the two store methods that build
// and advance the engine.
type ChangeSource interface {
	LoadSnapshot(ctx context.Context) (*domain.Snapshot, error)
	ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error)
}

// Follower holds the engine that answers checks and keeps it in step with
// the change log. Commits may return their revisions to their callers out
// of order (7 and 8 from two goroutines); CatchUp still applies changes one
// by one in revision order because it reads them from the log rather than
// taking them from the callers.
type Follower struct {
	src ChangeSource
	mu  sync.Mutex // serializes readers of the log so no change is applied twice
	eng atomic.Pointer[engine.Engine]
}

// NewFollower builds the engine from a snapshot of src.
func NewFollower(ctx context.Context, src ChangeSource) (*Follower, error) {
	f := &Follower{src: src}
	if err := f.reload(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Follower) reload(ctx context.Context) error {
	snap, err := f.src.LoadSnapshot(ctx)
	if err != nil {
		return domain.E("service.Follower", err)
	}
	e, err := engine.New(snap)
	if err != nil {
		return domain.E("service.Follower", err)
	}
	f.eng.Store(e)
	return nil
}

// Engine returns the current engine. The pointer may change when the
// follower has to rebuild from a snapshot, so callers should not keep it
// across requests.
func (f *Follower) Engine() *engine.Engine { return f.eng.Load() }

// Revision returns the revision the engine answers at.
func (f *Follower) Revision() int64 { return f.eng.Load().Revision() }

// CatchUp applies the change log until the engine is at revision rev or
// later. rev <= 0 means "whatever the log holds now". A later issue adds
// LISTEN/NOTIFY and polling, which call CatchUp with 0.
func (f *Follower) CatchUp(ctx context.Context, rev int64) error {
	if rev > 0 && f.Revision() >= rev {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for rev <= 0 || f.Revision() < rev {
		e := f.eng.Load()
		changes, err := f.src.ReadChanges(ctx, e.Revision(), 0)
		if err != nil {
			return domain.E("service.CatchUp", err)
		}
		if len(changes) == 0 {
			if rev <= 0 {
				return nil
			}
			return domain.E("service.CatchUp", domain.KindUnavailable,
				fmt.Errorf("revision %d is not in the change log (engine at %d)", rev, e.Revision()))
		}
		for _, c := range changes {
			if err := e.Apply(c); err != nil {
				// The index refused a change the database committed: it has
				// drifted (a hand edit, a bug). Rebuilding from a snapshot
				// is slow but makes it right again.
				if rerr := f.reload(ctx); rerr != nil {
					return rerr
				}
				break
			}
		}
	}
	return nil
}
