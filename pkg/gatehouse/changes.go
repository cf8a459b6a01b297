package gatehouse

import (
	"context"
	"iter"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Change is one committed write from the change feed (GET /changes; see
// docs/integrating.md, "The change feed").
type Change = api.FeedChange

// ChangedObject is one object a change wrote.
type ChangedObject = api.FeedObject

// ChangesQuery says where to start following the feed and what to keep.
type ChangesQuery struct {
	// After is the last revision the consumer has processed; 0 for all
	// that the server retains.
	After int64
	// AfterMark is the mark of the change at After as the consumer holds
	// it (Change.Mark, ChangesPage.NextMark, a snapshot's mark); when set,
	// the server refuses with a 410 for which IsDiverged is true if its
	// change at After is another one (a database restored to an older
	// revision). A consumer beyond the server's newest revision gets that
	// answer with or without it.
	AfterMark string
	// Entity, GroupID, ProjectID and UserID keep only the objects of that
	// kind or about that group, project or user.
	Entity, GroupID, ProjectID, UserID string
	// Limit is how many changes one request reads (server default 100).
	Limit int
	// Wait is how long one request waits for a change (default 25s, at
	// most 30s).
	Wait time.Duration
}

// DefaultChangesWait is ChangesQuery.Wait's default.
const DefaultChangesWait = 25 * time.Second

func (q ChangesQuery) values(after int64, mark string) url.Values {
	v := url.Values{"after": {strconv.FormatInt(after, 10)}, "wait_ms": {strconv.FormatInt(q.Wait.Milliseconds(), 10)}}
	for k, s := range map[string]string{"after_mark": mark, "entity": q.Entity, "group_id": q.GroupID, "project_id": q.ProjectID, "user_id": q.UserID} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// Changes follows the change feed from q.After for as long as the loop
// over it runs, long-polling: it yields every change once, in revision
// order, and each request resumes after the last revision read. When the
// server is unavailable it yields the error and, if the loop goes on,
// tries again with backoff; any other error (403 without changes.read,
// 410 for a revision no longer retained, with Error.Oldest, or for a
// history the server no longer has, IsDiverged) is yielded last. Each
// request after the first sends the mark of the last change read, so a
// database restored to an older revision while the loop runs ends it
// with the diverged error. It ends when ctx does.
func (c *Client) Changes(ctx context.Context, q ChangesQuery) iter.Seq2[Change, error] {
	if q.Wait <= 0 {
		q.Wait = DefaultChangesWait
	}
	return func(yield func(Change, error) bool) {
		after, mark, pause := q.After, q.AfterMark, max(c.backoff, 100*time.Millisecond)
		for ctx.Err() == nil {
			var p api.ChangesBody
			_, err := c.do(ctx, call{method: http.MethodGet, path: "/changes?" + q.values(after, mark).Encode(), readOnly: true, wait: q.Wait}, &p)
			if err != nil {
				if ctx.Err() != nil || !yield(Change{}, err) || !retryable(err) {
					return
				}
				if !sleep(ctx, pause/2+rand.N(pause/2+1)) {
					return
				}
				pause = min(pause*2, c.maxBackoff)
				continue
			}
			pause = max(c.backoff, 100*time.Millisecond)
			for _, ch := range p.Changes {
				if !yield(ch, nil) {
					return
				}
			}
			after, mark = p.Next, p.NextMark
		}
	}
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
