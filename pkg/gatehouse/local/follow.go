package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// feedLimit is how many changes one read of the feed asks for: the
// server's most, so that a replica behind catches up in few reads.
const feedLimit = 1000

// Backoff between failed reads of the feed or of a snapshot.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// reload loads a snapshot and swaps it in. While it loads after a
// failure to follow, the replica is not ready: its state is no longer
// proven current, and it does not answer from it.
func (r *Replica) reload(ctx context.Context, reason string) error {
	start := time.Now()
	if reason != ReloadStart {
		r.setReady(false)
	}
	e, mark, err := r.loadSnapshot(ctx)
	if m := r.opts.Metrics; m != nil {
		m.Reloaded(reason, time.Since(start), err)
	}
	if err != nil {
		r.noteErr(err)
		return err
	}
	r.applyMu.Lock()
	r.eng.Store(e)
	r.applyMu.Unlock()
	r.mark = mark
	if reason != ReloadStart {
		r.reloads.Add(1)
		r.log.Warn("gatehouse local replica reloaded a snapshot", "reason", reason, "revision", e.Revision(), "took", time.Since(start))
	}
	r.noteErr(nil)
	r.noteHead(e.Revision())
	r.heardAt.Store(time.Now().UnixNano())
	r.setReady(true)
	r.moved()
	return nil
}

// loadSnapshot reads and indexes a snapshot, and returns the mark of
// the change at its revision. A stream cut short or corrupt fails whole
// (domain.DecodeReplicaSnapshot), so a partial state is never loaded.
func (r *Replica) loadSnapshot(ctx context.Context) (*engine.Engine, string, error) {
	s, err := r.gh.OpenReplicaSnapshot(ctx)
	if err != nil {
		return nil, "", err
	}
	defer s.Body.Close()
	e, err := indexSnapshot(s.Body)
	if err == nil && e.Revision() != s.Revision {
		// The mark names the change at the header's revision.
		return e, "", nil
	}
	return e, s.Mark, err
}

// indexSnapshot builds the engine while it decodes the snapshot
// (engine.LoadReplicaSnapshot), which never holds the decoded snapshot
// whole beside the index. A stream that fails part way builds nothing.
func indexSnapshot(body io.Reader) (*engine.Engine, error) {
	e, err := engine.LoadReplicaSnapshot(body)
	switch {
	case errors.Is(err, domain.ErrReplicaSnapshot):
		return nil, fmt.Errorf("local: loading the replica snapshot: %w", err)
	case err != nil:
		return nil, fmt.Errorf("local: indexing the replica snapshot: %w", err)
	}
	return e, nil
}

// follow reads the feed until ctx ends, reloading a snapshot whenever it
// cannot prove the next state.
func (r *Replica) follow(ctx context.Context) {
	defer close(r.done)
	pause := minBackoff
	reason := ""
	for ctx.Err() == nil {
		var err error
		if reason != "" {
			if err = r.reload(ctx, reason); err == nil {
				reason = ""
			}
		} else {
			reason, err = r.readOnce(ctx)
		}
		if err == nil {
			pause = minBackoff
			continue
		}
		if ctx.Err() != nil {
			return
		}
		r.noteErr(err)
		if gatehouse.IsForbidden(err) || gatehouse.IsUnauthenticated(err) {
			// The server no longer lets this replica follow: what it
			// holds is no longer the application's to use.
			r.setReady(false)
		}
		r.log.Warn("gatehouse local replica: reading the feed failed", "err", err, "retry_in", pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause/2 + rand.N(pause/2+1)):
		}
		pause = min(pause*2, maxBackoff)
	}
}

// readOnce reads one page of the feed and applies it. It returns a
// reload reason when the page cannot be applied, or the read's error.
func (r *Replica) readOnce(ctx context.Context) (string, error) {
	rev := r.Revision()
	page, err := r.gh.ReadChanges(ctx, gatehouse.ChangesQuery{After: rev, AfterMark: r.mark, Limit: feedLimit, Wait: r.opts.PollWait})
	if gatehouse.IsDiverged(err) {
		r.log.Warn("gatehouse local replica: the server's history is not the replica's (its database restored to an older revision?)", "revision", rev, "err", err)
		return ReloadDiverged, nil
	}
	if gatehouse.IsGone(err) {
		return ReloadGone, nil
	}
	if err != nil {
		return "", err
	}
	r.noteErr(nil)
	r.noteHead(max(page.Revision, page.Next))
	reason := r.apply(page, rev)
	if reason == "" && len(page.Changes) < feedLimit {
		// Everything committed when the server answered has been read.
		r.heardAt.Store(time.Now().UnixNano())
		if !r.ready.Load() && r.eng.Load() != nil {
			r.setReady(true)
		} else if r.opts.MaxStale > 0 {
			r.moved() // a replica stale past MaxStale is ready again: wake WaitFor
		}
	}
	return reason, nil
}

// apply applies a page read after rev: every change must be the next
// revision, decode, and be accepted by the engine; otherwise the reason
// to reload. The changes before a failure stay applied: each was proven.
func (r *Replica) apply(page gatehouse.ChangesPage, rev int64) string {
	n := 0
	var lastAt time.Time
	defer func() {
		if n > 0 {
			if m := r.opts.Metrics; m != nil {
				m.Applied(n, time.Since(lastAt))
			}
			r.moved()
		}
	}()
	for _, fc := range page.Changes {
		if fc.Revision != rev+1 {
			r.log.Warn("gatehouse local replica: the feed skipped a revision", "want", rev+1, "got", fc.Revision)
			return ReloadGap
		}
		ch, err := decodeChange(fc)
		if err != nil {
			r.log.Warn("gatehouse local replica: a change does not decode", "revision", fc.Revision, "err", err)
			return ReloadDecode
		}
		r.applyMu.Lock()
		err = r.eng.Load().Apply(ch)
		r.applyMu.Unlock()
		if err != nil {
			r.log.Warn("gatehouse local replica: the engine refused a change", "revision", fc.Revision, "err", err)
			return ReloadRefused
		}
		rev, n, lastAt = fc.Revision, n+1, fc.At
		r.mark = fc.Mark
	}
	if page.Next > rev {
		return ReloadGap // the server read past what it sent: something is missing
	}
	return ""
}
