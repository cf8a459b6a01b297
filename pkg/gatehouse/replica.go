package gatehouse

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// ReplicaSnapshotPath is where the replica snapshot is served, under
// /api/v1.
const ReplicaSnapshotPath = "/replica/snapshot"

// ReplicaSnapshot opens the replica snapshot (GET /replica/snapshot; the
// token's user needs replica.read): the permission state at one
// revision, in the replica encoding, for a local replica
// (pkg/gatehouse/local) to load. It returns the body as it streams, to
// be closed by the caller, and the snapshot's revision. Only ctx bounds
// the call (a large snapshot takes longer than WithTimeout allows a
// check); it is not retried. OpenReplicaSnapshot also gives the mark to
// follow the feed with.
func (c *Client) ReplicaSnapshot(ctx context.Context) (io.ReadCloser, int64, error) {
	s, err := c.OpenReplicaSnapshot(ctx)
	return s.Body, s.Revision, err
}

// ReplicaStream is an open replica snapshot.
type ReplicaStream struct {
	// Body streams the snapshot; the caller closes it.
	Body io.ReadCloser
	// Revision is the snapshot's revision; Mark the mark of the change
	// at it ("" when the server's change log no longer holds it), to
	// follow the feed with: ChangesQuery{After: Revision, AfterMark: Mark}.
	Revision int64
	Mark     string
}

// OpenReplicaSnapshot is ReplicaSnapshot, with the snapshot's mark.
func (c *Client) OpenReplicaSnapshot(ctx context.Context) (ReplicaStream, error) {
	cl := call{method: http.MethodGet, path: ReplicaSnapshotPath, readOnly: true}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.base+cl.path, nil)
	if err != nil {
		return ReplicaStream{}, &Error{Kind: "other", Method: cl.method, Path: cl.path, Err: err}
	}
	req.Header.Set("Accept", "application/vnd.gatehouse.replica, application/problem+json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if tok := c.Token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return ReplicaStream{}, &Error{Kind: "unavailable", Method: cl.method, Path: cl.path, Err: err}
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		return ReplicaStream{}, decodeError(cl, res, raw)
	}
	rev, _ := strconv.ParseInt(res.Header.Get(RevisionHeader), 10, 64)
	return ReplicaStream{Body: res.Body, Revision: rev, Mark: res.Header.Get(api.ChangeMarkHeader)}, nil
}

// ChangesPage is one read of the change feed.
type ChangesPage struct {
	// Changes are in revision order; without filters, consecutive.
	Changes []Change
	// Next is the revision to read after next time: the last one read,
	// kept by the filters or not; NextMark is the mark of the change at
	// Next, to send as ChangesQuery.AfterMark with it.
	Next     int64
	NextMark string
	// Revision is the revision the answering server had applied when it
	// answered (its X-Gatehouse-Revision).
	Revision int64
}

// ReadChanges reads one page of the change feed (GET /changes): the
// changes after q.After, waiting up to q.Wait for the first one when none
// has committed yet (no wait when Wait is 0). Changes, its iterator,
// suits most consumers; a consumer that must know where each read ended,
// such as a replica proving it has seen every revision, reads pages. A
// revision no longer retained is a 410 (IsGone, with Error.Oldest); a
// history the server does not have (q.After beyond its newest revision,
// or q.AfterMark not its change's) a 410 for which IsDiverged is true.
func (c *Client) ReadChanges(ctx context.Context, q ChangesQuery) (ChangesPage, error) {
	var p api.ChangesBody
	rev, err := c.do(ctx, call{method: http.MethodGet, path: "/changes?" + q.values(q.After, q.AfterMark).Encode(), readOnly: true, wait: q.Wait}, &p)
	if err != nil {
		return ChangesPage{}, err
	}
	return ChangesPage{Changes: p.Changes, Next: p.Next, NextMark: p.NextMark, Revision: rev}, nil
}

// Checker answers checks: a *Client, or a local replica
// (pkg/gatehouse/local), which answers in process.
type Checker interface {
	Check(ctx context.Context, r CheckRequest) (Decision, error)
}

// WithChecker makes Middleware ask ch instead of its client, for example
// a local replica (pkg/gatehouse/local).
func WithChecker(ch Checker) MiddlewareOption {
	return func(m *middleware) {
		if ch != nil {
			m.c = ch
		}
	}
}
