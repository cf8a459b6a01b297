package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/wire"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The change feed (docs/integrating.md): GET /changes answers a page of
// JSON, or, asked for text/event-stream, streams the changes as
// Server-Sent Events for as long as the client stays connected.

type changesIn struct {
	After     int64  `query:"after" minimum:"0" doc:"The revision the consumer has seen: changes after it are returned. Default 0."`
	AfterMark string `query:"after_mark" maxLength:"100" doc:"The mark of the change at after, as the consumer holds it (a change's mark, a page's next_mark, a snapshot's X-Gatehouse-Change-Mark): if the server's change at after is another one, the answer is 410 with kind diverged."`
	Limit     int    `query:"limit" minimum:"0" maximum:"1000" doc:"Changes read from the log (default 100); the filters may keep fewer."`
	WaitMS    int64  `query:"wait_ms" minimum:"0" maximum:"30000" doc:"When no change follows after yet, wait this long for one (long polling)."`
	Entity    string `query:"entity" maxLength:"100" doc:"Keep only objects of this kind: user, group, membership, project, project_grant, ..."`
	Action    string `query:"action" maxLength:"100" doc:"Keep only changes with this audit action, e.g. group.member_add."`
	GroupID   string `query:"group_id" maxLength:"200" doc:"Keep only objects about this group (the group, its members, grants, rules, levels)."`
	ProjectID string `query:"project_id" maxLength:"200" doc:"Keep only objects about this project (the project, its groups, grants and folders)."`
	UserID    string `query:"user_id" maxLength:"200" doc:"Keep only objects about this user (the user, their memberships and grants)."`
}

func (in *changesIn) query() service.FeedQuery {
	return service.FeedQuery{After: in.After, AfterMark: in.AfterMark, Limit: in.Limit, Wait: time.Duration(in.WaitMS) * time.Millisecond,
		Entity: in.Entity, Action: in.Action, GroupID: in.GroupID, ProjectID: in.ProjectID, UserID: in.UserID}
}

type changesOut struct{ Body api.ChangesBody }

// feedAt maps the service's field names to query parameters.
var feedAt = []string{"after", "query.after", "after_mark", "query.after_mark", "limit", "query.limit", "wait_ms", "query.wait_ms", "entity", "query.entity", "action", "query.action"}

func (a *API) registerChanges() {
	o := op("list-changes", http.MethodGet, "/changes",
		"The change feed: committed changes after a revision, in revision order (changes.read); Accept: text/event-stream streams them", "Changes")
	o.Errors = append(o.Errors, http.StatusGone)
	o.Description = "Long-poll with wait_ms. With Accept: text/event-stream the answer is a stream of Server-Sent Events " +
		"(event: change, id: the revision, data: one change as JSON) that resumes after Last-Event-ID " +
		"(the revision, or <revision>.<mark> to have the change at it checked as after_mark is). " +
		"A revision older than the change log retains answers 410 with oldest, the first revision still available. " +
		"A history the server does not have (after beyond the newest revision, or after_mark not the mark of the server's change at after: " +
		"the database was restored to an older revision) answers 410 with kind diverged: reload from a snapshot."
	huma.Register(a.huma, o, a.listChanges)
}

// listChanges answers a page of the feed, long-polling up to wait_ms.
func (a *API) listChanges(ctx context.Context, in *changesIn) (*changesOut, error) {
	ctx, done := a.untilStop(ctx)
	defer done()
	page, err := a.svc.Changes(ctx, caller(ctx), in.query())
	if err != nil {
		return nil, a.feedProblem(err)
	}
	return &changesOut{Body: api.ChangesBody{Changes: wire.FeedChanges(page.Changes), Next: page.Next, NextMark: page.NextMark}}, nil
}

// untilStop is ctx ended also when the server stops streaming.
func (a *API) untilStop(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(a.streams, cancel)
	return ctx, func() { stop(); cancel() }
}

// feedProblem is problemAt with 410 for a revision no longer retained,
// and for a history the server does not have (kind diverged).
func (a *API) feedProblem(err error) error {
	var gone *service.ChangesGone
	if errors.As(err, &gone) {
		p := newProblem(http.StatusGone, "gone", gone.Error())
		p.Oldest = gone.Oldest
		return p
	}
	var div *service.ChangesDiverged
	if errors.As(err, &div) {
		return newProblem(http.StatusGone, "diverged", div.Error())
	}
	return a.problemAt(err, feedAt...)
}

// wantsEventStream reports whether r asks for the change feed as
// Server-Sent Events.
func wantsEventStream(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == Prefix+"/changes" &&
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// sseWait is how long each read of the stream waits for a change; a
// comment line is sent between reads so proxies keep the stream open.
const sseWait = 15 * time.Second

// streamChanges serves the feed as Server-Sent Events until the client
// goes away. Last-Event-ID, when present, overrides ?after= (and
// ?after_mark=, unless it carries a mark itself: "<revision>.<mark>").
// Each read after the first sends the mark of the last change read, so a
// database restored while the stream runs ends it with a diverged error.
func (a *API) streamChanges(w http.ResponseWriter, r *http.Request) {
	in, bad := sseQuery(r)
	if bad != nil {
		writeProblem(w, bad)
		return
	}
	ctx, done := a.untilStop(r.Context())
	defer done()
	q := in.query()
	// The first read waits for nothing: it answers errors (403, 410, 422)
	// as problems, or starts the stream at once.
	q.Wait = 0
	page, err := a.svc.Changes(ctx, caller(ctx), q)
	q.Wait = sseWait
	if err != nil {
		var p *Problem
		if errors.As(a.feedProblem(err), &p) {
			writeProblem(w, p)
		}
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	for {
		// The server's WriteTimeout would cut a stream: each read gets
		// its own deadline.
		_ = rc.SetWriteDeadline(time.Now().Add(sseWait + 30*time.Second))
		if err := writeEvents(w, page); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		q.After, q.AfterMark = page.Next, page.NextMark
		page, err = a.svc.Changes(ctx, caller(ctx), q)
		if err != nil {
			if ctx.Err() == nil {
				writeEventError(w, a.feedProblem(err))
				_ = rc.Flush()
			}
			return
		}
	}
}

// sseQuery reads the query parameters as the JSON operation does, with
// Last-Event-ID in place of after.
func sseQuery(r *http.Request) (changesIn, *Problem) {
	v := r.URL.Query()
	in := changesIn{AfterMark: v.Get("after_mark"), Entity: v.Get("entity"), Action: v.Get("action"), GroupID: v.Get("group_id"), ProjectID: v.Get("project_id"), UserID: v.Get("user_id")}
	num := func(name, s string, dst *int64) *Problem {
		if s == "" {
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			p := newProblem(http.StatusUnprocessableEntity, "invalid", name+" must be a whole number, 0 or more")
			p.Errors = []*api.ErrorDetail{{Location: name, Message: "not a whole number, 0 or more", Value: s}}
			return p
		}
		*dst = n
		return nil
	}
	var limit int64
	for _, f := range []struct {
		name, s string
		dst     *int64
	}{{"query.after", v.Get("after"), &in.After}, {"header.Last-Event-ID", lastEventID(r, &in), &in.After}, {"query.limit", v.Get("limit"), &limit}} {
		if p := num(f.name, f.s, f.dst); p != nil {
			return in, p
		}
	}
	in.Limit = int(min(limit, service.MaxFeedLimit+1))
	return in, nil
}

// lastEventID is the revision part of Last-Event-ID; a mark after a dot
// replaces in.AfterMark, and a bare revision drops it (it named the
// change at ?after=, not at this revision).
func lastEventID(r *http.Request, in *changesIn) string {
	id := r.Header.Get("Last-Event-ID")
	if id == "" {
		return ""
	}
	rev, mark, _ := strings.Cut(id, ".")
	in.AfterMark = mark
	return rev
}

// writeEvents writes a page as one event per change, or a comment line
// when it is empty.
func writeEvents(w http.ResponseWriter, page service.FeedPage) error {
	if len(page.Changes) == 0 {
		_, err := fmt.Fprint(w, ": waiting\n\n")
		return err
	}
	for _, ch := range page.Changes {
		b, err := json.Marshal(wire.FeedChange(ch))
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", ch.Revision, b); err != nil {
			return err
		}
	}
	return nil
}

// writeEventError ends a stream whose read failed (the database down, a
// permission taken away) with an error event carrying the problem.
func writeEventError(w http.ResponseWriter, err error) {
	b, _ := json.Marshal(err)
	_, _ = fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
}
