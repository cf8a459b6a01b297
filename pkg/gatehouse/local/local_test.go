package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// fakeServer serves a snapshot and a change feed from memory, and
// answers /check with revision 999, to tell a fallback from a local
// answer.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	cond     *sync.Cond
	snap     *domain.Snapshot // at base; the feed holds what follows
	changes  []gatehouse.Change
	snapDown atomic.Bool
	checks   atomic.Int64
	marks    int          // changes ever made: each gets a mark of its own
	byMark   atomic.Int64 // diverged answers for a mark, not for a revision beyond the head
}

const (
	alice  = "00000000-0000-7000-8000-0000000000a1"
	staff  = "00000000-0000-7000-8000-0000000000b1"
	fakeAt = 999
)

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{snap: &domain.Snapshot{Revision: 1,
		Roles:  domain.BuiltinRoles(),
		Groups: append(domain.BuiltinGroups(), domain.Group{ID: staff, Name: "Staff", Scope: domain.ScopeSystem, SystemPermissions: []string{domain.PermAuditView}}),
		Users:  []domain.User{{ID: alice, Username: "alice", Status: domain.UserActive}},
	}}
	f.cond = sync.NewCond(&f.mu)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/replica/snapshot", f.snapshot)
	mux.HandleFunc("GET /api/v1/changes", f.feed)
	mux.HandleFunc("POST /api/v1/check", func(w http.ResponseWriter, _ *http.Request) {
		f.checks.Add(1)
		_, _ = fmt.Fprintf(w, `{"allowed": false, "revision": %d}`, fakeAt)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
		f.Close()
	})
	return f
}

func (f *fakeServer) snapshot(w http.ResponseWriter, _ *http.Request) {
	if f.snapDown.Load() {
		http.Error(w, `{"status":503,"kind":"unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	f.mu.Lock()
	var buf bytes.Buffer
	err := domain.EncodeReplicaSnapshot(&buf, f.current())
	w.Header().Set(gatehouse.RevisionHeader, strconv.FormatInt(f.head(), 10))
	if n := len(f.changes); n > 0 {
		w.Header().Set(api.ChangeMarkHeader, f.changes[n-1].Mark)
	}
	f.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// current is the snapshot with every change applied: the changes of
// alice's membership in Staff and of group memberships the tests make,
// replayed; objects of other entities change nothing.
func (f *fakeServer) current() *domain.Snapshot {
	s := *f.snap
	s.Memberships = slices.Clone(s.Memberships)
	s.GroupMemberships = slices.Clone(s.GroupMemberships)
	for _, ch := range f.changes {
		s.Revision = ch.Revision
		for _, o := range ch.Objects {
			replay(&s, o)
		}
	}
	return &s
}

// replay applies one changed object of the fake feed to s.
func replay(s *domain.Snapshot, o gatehouse.ChangedObject) {
	switch o.Entity {
	case string(domain.EntityMembership):
		s.Memberships = slices.DeleteFunc(s.Memberships, func(m domain.Membership) bool { return m.GroupID == staff && m.UserID == alice })
		if o.Op == "put" {
			s.Memberships = append(s.Memberships, domain.Membership{GroupID: staff, UserID: alice})
		}
	case string(domain.EntityGroupMembership):
		var gm domain.GroupMembership
		_ = json.Unmarshal(append(o.After, o.Before...), &gm) // one of them is set
		s.GroupMemberships = slices.DeleteFunc(s.GroupMemberships, func(m domain.GroupMembership) bool {
			return m.GroupID == gm.GroupID && m.MemberGroupID == gm.MemberGroupID
		})
		if o.Op == "put" {
			s.GroupMemberships = append(s.GroupMemberships, gm)
		}
	}
}

func (f *fakeServer) feed(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	wait, _ := strconv.Atoi(r.URL.Query().Get("wait_ms"))
	deadline := time.Now().Add(time.Duration(wait) * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.head() <= after && time.Now().Before(deadline) && r.Context().Err() == nil {
		go func() { time.Sleep(20 * time.Millisecond); f.mu.Lock(); f.cond.Broadcast(); f.mu.Unlock() }()
		f.cond.Wait()
	}
	if f.diverged(after, r.URL.Query().Get("after_mark")) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusGone)
		_, _ = fmt.Fprint(w, `{"status":410,"kind":"diverged","detail":"history diverged"}`)
		return
	}
	page := api.ChangesBody{Changes: []gatehouse.Change{}, Next: after}
	for _, ch := range f.changes {
		if ch.Revision > after {
			page.Changes = append(page.Changes, ch)
			page.Next, page.NextMark = ch.Revision, ch.Mark
		}
	}
	w.Header().Set(gatehouse.RevisionHeader, strconv.FormatInt(max(f.head(), after), 10))
	_ = json.NewEncoder(w).Encode(page)
}

// diverged reports what the server answers 410 (diverged) for: after is
// beyond the head, or the change at after has another mark.
func (f *fakeServer) diverged(after int64, mark string) bool {
	if after > f.head() {
		return true
	}
	for _, ch := range f.changes {
		if ch.Revision == after && mark != "" && ch.Mark != mark {
			f.byMark.Add(1)
			return true
		}
	}
	return false
}

// restore rewinds the server to rev, as a database restored from a backup
// taken then: the changes after it are lost. Then, in the same instant,
// it writes each object as a change of its own, reusing the lost
// revisions.
func (f *fakeServer) restore(rev int64, writes ...gatehouse.ChangedObject) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = slices.DeleteFunc(f.changes, func(ch gatehouse.Change) bool { return ch.Revision > rev })
	for _, o := range writes {
		f.add(f.head()+1, o)
	}
	f.cond.Broadcast()
}

// add appends a change at rev, with a mark no other change has.
func (f *fakeServer) add(rev int64, objects ...gatehouse.ChangedObject) {
	f.marks++
	f.changes = append(f.changes, gatehouse.Change{Revision: rev, Mark: "mark-" + strconv.Itoa(f.marks), At: time.Now(), Objects: objects})
	f.cond.Broadcast()
}

func (f *fakeServer) head() int64 {
	if n := len(f.changes); n > 0 {
		return f.changes[n-1].Revision
	}
	return f.snap.Revision
}

// member adds (put) or removes (delete) alice to Staff at the next
// revision, or at rev when given (a gap or a repeat).
func (f *fakeServer) member(put bool, rev ...int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.head() + 1
	if len(rev) > 0 {
		next = rev[0]
	}
	f.add(next, aliceInStaff(put))
	return next
}

// aliceInStaff is the change of alice's membership in Staff: added (put)
// or removed.
func aliceInStaff(put bool) gatehouse.ChangedObject {
	m, _ := json.Marshal(domain.Membership{GroupID: staff, UserID: alice})
	if put {
		return gatehouse.ChangedObject{Entity: "membership", ID: staff + "/" + alice, Op: "put", After: m}
	}
	return gatehouse.ChangedObject{Entity: "membership", ID: staff + "/" + alice, Op: "delete", Before: m}
}

// push appends a change of the given objects at the next revision.
func (f *fakeServer) push(objects ...gatehouse.ChangedObject) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.head() + 1
	f.add(next, objects...)
	return next
}

var auditView = gatehouse.CheckRequest{Subject: gatehouse.User(alice), Permission: "audit.view", Resource: gatehouse.System}

func newReplica(t *testing.T, f *fakeServer, opts Options) *Replica {
	t.Helper()
	gh, err := gatehouse.New(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts.PollWait = 200 * time.Millisecond
	r, err := New(context.Background(), gh, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestReplicaFollowsAndWaitsForAtLeast: the replica applies the feed in
// order; a check with AtLeast waits for that revision, and past the wait
// fails closed or asks the server, as configured.
func TestReplicaFollowsAndWaitsForAtLeast(t *testing.T) {
	f := newFakeServer(t)
	r := newReplica(t, f, Options{})
	ctx := context.Background()
	if d, err := r.Check(ctx, auditView); err != nil || d.Allowed || d.Revision != 1 {
		t.Fatalf("before: %+v %v; want denied at 1", d, err)
	}
	rev := f.member(true)
	d, err := r.Check(ctx, gatehouse.CheckRequest{Subject: auditView.Subject, Permission: auditView.Permission, Resource: auditView.Resource,
		Consistency: gatehouse.AtLeast(rev)})
	if err != nil || !d.Allowed || d.Revision != rev {
		t.Fatalf("AtLeast(%d): %+v %v; want allowed at %d", rev, d, err, rev)
	}
	far := auditView
	far.Consistency = gatehouse.Consistency{AtLeast: 50, Wait: 100 * time.Millisecond}
	if _, err := r.Check(ctx, far); !gatehouse.IsUnavailable(err) {
		t.Fatalf("a revision that does not come, failing closed: %v; want 503", err)
	}
	asks := newReplica(t, f, Options{Behind: AskServer})
	if d, err := asks.Check(ctx, far); err != nil || d.Revision != fakeAt {
		t.Fatalf("a revision that does not come, asking the server: %+v %v; want the server's answer", d, err)
	}
	if fr := r.Freshness(); !fr.Ready || fr.Revision != rev || fr.Behind != 0 || fr.Err != nil {
		t.Errorf("freshness: %+v", fr)
	}
}

// TestReplicaNotReadyWhileReloading: a change out of order makes the
// replica reload; while the snapshot cannot be had it is not ready and
// fails closed, or asks the server; once it loads, it answers again at the
// new revision.
func TestReplicaNotReadyWhileReloading(t *testing.T) {
	f := newFakeServer(t)
	closed := newReplica(t, f, Options{})
	asks := newReplica(t, f, Options{NotReady: AskServer})
	ctx := context.Background()
	f.snapDown.Store(true)
	f.member(true, 3) // revision 2 is missing
	waitFor(t, "not ready", func() bool { return !closed.Ready() && !asks.Ready() })
	if _, err := closed.Check(ctx, auditView); !gatehouse.IsUnavailable(err) {
		t.Fatalf("not ready, failing closed: %v; want 503", err)
	}
	if d, err := asks.Check(ctx, auditView); err != nil || d.Revision != fakeAt {
		t.Fatalf("not ready, asking the server: %+v %v", d, err)
	}
	f.snapDown.Store(false)
	if err := closed.WaitFor(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if d, err := closed.Check(ctx, auditView); err != nil || !d.Allowed || d.Revision != 3 {
		t.Fatalf("after the reload: %+v %v; want allowed at 3", d, err)
	}
	if fr := closed.Freshness(); fr.Reloads == 0 {
		t.Errorf("freshness: %+v; want a reload counted", fr)
	}
}

// TestReplicaChecksWhileApplying: checks, batches and lists from many
// goroutines while changes are applied (run with -race): every answer
// is one of the two states, at a revision that states it.
func TestReplicaChecksWhileApplying(t *testing.T) {
	f := newFakeServer(t)
	r := newReplica(t, f, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				d, err := r.Check(ctx, auditView)
				// Odd revisions follow a put (alice in Staff), even a delete.
				if err != nil || d.Allowed != (d.Revision%2 == 0 && d.Revision > 1) {
					bad.Add(1)
				}
				b, err := r.BatchCheck(ctx, gatehouse.BatchCheckRequest{Checks: []gatehouse.CheckRequest{auditView, auditView}})
				if err != nil || b.Results[0].Allowed != b.Results[1].Allowed {
					bad.Add(1)
				}
			}
		}()
	}
	var last int64
	for i := range 100 {
		last = f.member(i%2 == 0)
	}
	if err := r.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	cancel()
	wg.Wait()
	if bad.Load() > 0 {
		t.Errorf("%d answers inconsistent with their revision", bad.Load())
	}
}

// TestSubjectsAndErrors: the questions only the server can answer go to
// it; malformed ones are refused as the server refuses them.
func TestSubjectsAndErrors(t *testing.T) {
	f := newFakeServer(t)
	r := newReplica(t, f, Options{})
	ctx := context.Background()
	if d, err := r.Check(ctx, gatehouse.CheckRequest{Permission: "audit.view", Resource: gatehouse.System}); err != nil || d.Revision != fakeAt {
		t.Errorf("the token's own user: %+v %v; want the server's answer", d, err)
	}
	for _, q := range []gatehouse.CheckRequest{
		{Subject: "alice", Permission: "audit.view", Resource: gatehouse.System},
		{Subject: auditView.Subject, Permission: "audit.view", Resource: "galaxy"},
		{Subject: auditView.Subject, Permission: "fly.away", Resource: gatehouse.System},
	} {
		if _, err := r.Check(ctx, q); !gatehouse.IsInvalid(err) {
			t.Errorf("%+v: %v; want 422", q, err)
		}
	}
	if _, err := r.Check(ctx, gatehouse.CheckRequest{Subject: gatehouse.User("nobody"), Permission: "audit.view", Resource: gatehouse.System}); !gatehouse.IsNotFound(err) {
		t.Errorf("an unknown user: %v; want 404", err)
	}
	x, err := r.Explain(ctx, auditView)
	if err != nil || x.Allowed || x.Subject != auditView.Subject || x.Revision != 1 {
		t.Errorf("explain: %+v %v", x, err)
	}
	l, err := r.ListResources(ctx, gatehouse.ResourcesQuery{Subject: auditView.Subject, Permission: "project.read", Kind: "project"})
	if err != nil || len(l.IDs) != 0 || l.Revision != 1 {
		t.Errorf("resources: %+v %v", l, err)
	}
	if _, err := r.ListResources(ctx, gatehouse.ResourcesQuery{Subject: auditView.Subject, Permission: "project.read", Kind: "galaxy"}); !gatehouse.IsInvalid(err) {
		t.Errorf("an unknown kind: %v; want 422", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
	}
}
