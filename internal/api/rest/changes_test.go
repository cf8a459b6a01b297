package rest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/api/rest"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/sqlite"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/local"
)

// restored is a second server over a database restored from a dump of
// e's, taken now: it shares e's history up to now, and none after.
func (e *env) restored() func() *env {
	e.t.Helper()
	var dump bytes.Buffer
	if _, err := e.st.Dump(e.ctx, &dump); err != nil {
		e.t.Fatal(err)
	}
	return func() *env {
		e.t.Helper()
		st, err := sqlite.Open(e.ctx, filepath.Join(e.t.TempDir(), "restored.db"))
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { st.Close() })
		if _, err := st.Restore(e.ctx, &dump); err != nil {
			e.t.Fatal(err)
		}
		svc, err := service.New(e.ctx, st, service.Options{PasswordParams: &cheap})
		if err != nil {
			e.t.Fatal(err)
		}
		a := rest.New(svc, testAuth, rest.Options{Log: quiet()})
		return &env{t: e.t, ctx: e.ctx, st: st, svc: svc, api: a, h: a, admin: e.admin}
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// changes reads a page of the feed as admin.
func (e *env) changes(query string) resp {
	e.t.Helper()
	return e.do(&e.admin, "GET", "/api/v1/changes?"+query, nil)
}

// TestChangeFeedDivergedAfterRestore: the database is restored from a
// backup to an older revision. A consumer beyond its newest revision, or
// holding another change at its revision (the restored database took new
// writes under the lost revision numbers), is answered 410 with kind
// diverged; a consumer whose change the restored database still has
// follows on. The snapshot names the mark of the change at its revision.
func TestChangeFeedDivergedAfterRestore(t *testing.T) {
	a := newEnv(t)
	a.sysGroup("Before the backup")
	restore := a.restored()
	backup := a.changes("after=0").want(t, 200)
	kept, keptMark := backup.num("next"), backup.str("next_mark")
	a.sysGroup("Lost 1")
	a.sysGroup("Lost 2")
	lost := a.changes("after="+strconv.FormatInt(kept, 10)).want(t, 200)
	head, headMark := lost.num("next"), lost.str("next_mark")
	if head != kept+2 || headMark == "" || headMark == keptMark {
		t.Fatalf("the lost changes: %s; want two, with a mark of their own", lost.Raw)
	}

	b := restore()
	at := func(rev int64, mark string) string {
		return "after=" + strconv.FormatInt(rev, 10) + "&after_mark=" + mark
	}
	b.changes(at(head, headMark)).problem(t, 410, "", "diverged", "beyond the newest revision")
	b.changes(at(kept, keptMark)).want(t, 200) // the restored history holds this change
	b.sysGroup("New 1")
	b.sysGroup("New 2")
	p := b.changes(at(head, headMark)).problem(t, 410, "", "history diverged", "is not the one you hold", "reload from a snapshot")
	if p.str("kind") != "diverged" {
		t.Errorf("kind %q; want diverged", p.str("kind"))
	}
	b.changes(at(head, "not-a-mark")).problem(t, 410, "", "diverged")
	page := b.changes(at(kept, keptMark)).want(t, 200)
	if page.num("next") != head || page.str("next_mark") == headMark {
		t.Errorf("the restored history after %d: %s; want its own changes up to %d", kept, page.Raw, head)
	}
	b.changes(at(page.num("next"), page.str("next_mark"))+"&wait_ms=10").want(t, 200)
	b.changes("after_mark=x").problem(t, 422, "query.after_mark")

	snap := b.do(&b.admin, "GET", "/api/v1/replica/snapshot", nil).want(t, 200)
	if got := snap.Header.Get(api.ChangeMarkHeader); got != page.str("next_mark") || snap.Header.Get(rest.RevisionHeader) != strconv.FormatInt(head, 10) {
		t.Errorf("snapshot at %s with mark %q; want %d and %q", snap.Header.Get(rest.RevisionHeader), got, head, page.str("next_mark"))
	}
}

// TestChangeFeedDivergedStream: a stream resumed with Last-Event-ID
// "<revision>.<mark>" is checked as after and after_mark are; a bare
// revision beyond the newest is refused too.
func TestChangeFeedDivergedStream(t *testing.T) {
	a := newEnv(t)
	restore := a.restored()
	a.sysGroup("Lost")
	lost := a.changes("after=0").want(t, 200)
	head, mark := lost.num("next"), lost.str("next_mark")
	b := restore()
	b.sysGroup("New")
	sse := func(id string) resp {
		return b.do(&b.admin, "GET", "/api/v1/changes", nil, "Accept", "text/event-stream", "Last-Event-ID", id)
	}
	sse(strconv.FormatInt(head, 10)+"."+mark).problem(t, 410, "", "diverged", "is not the one you hold")
	sse(strconv.FormatInt(head+1, 10)).problem(t, 410, "", "diverged", "beyond the newest revision")
}

// TestLocalReplicaReloadsAfterRestore: a local replica following a
// server whose database is then restored to an older revision, which
// takes other writes, learns it from the feed, reloads a snapshot
// ("diverged") and answers as the restored server does.
func TestLocalReplicaReloadsAfterRestore(t *testing.T) {
	a := newEnv(t)
	ann := a.user("ann", "")
	viewers := a.sysGroup("Viewers", domain.PermAuditView)
	restore := a.restored()
	var current atomic.Pointer[env]
	current.Store(a)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	gh, err := gatehouse.New(srv.URL, gatehouse.WithToken("test:"+a.admin.UserID))
	if err != nil {
		t.Fatal(err)
	}
	m := &reasons{}
	r, err := local.New(context.Background(), gh, local.Options{PollWait: 100 * time.Millisecond, Metrics: m, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	q := gatehouse.CheckRequest{Subject: gatehouse.User(ann.UserID), Permission: domain.PermAuditView, Resource: gatehouse.System}
	a.add(viewers, ann) // lost in the restore
	lostHead := a.changes("after=0").want(t, 200).num("next")
	if err := r.WaitFor(a.ctx, lostHead); err != nil {
		t.Fatal(err)
	}
	if d, err := r.Check(a.ctx, q); err != nil || !d.Allowed {
		t.Fatalf("before the restore: %+v %v; want allowed", d, err)
	}

	b := restore()
	b.sysGroup("New") // the lost revision again, another change
	current.Store(b)
	for deadline := time.Now().Add(10 * time.Second); !m.diverged.Load(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no diverged reload within 10s")
		}
	}
	if err := r.WaitFor(a.ctx, lostHead); err != nil {
		t.Fatal(err)
	}
	if d, err := r.Check(a.ctx, q); err != nil || d.Allowed || d.Revision != lostHead {
		t.Fatalf("after the restore: %+v %v; want denied at %d, as the restored server", d, err, lostHead)
	}
}

// reasons notes whether a replica reloaded for a diverged history.
type reasons struct{ diverged atomic.Bool }

func (m *reasons) Checked(bool, bool)         {}
func (m *reasons) Applied(int, time.Duration) {}
func (m *reasons) Reloaded(reason string, _ time.Duration, err error) {
	if reason == local.ReloadDiverged && err == nil {
		m.diverged.Store(true)
	}
}
