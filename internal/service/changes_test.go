package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// R18 in the change feed: a user's before and after are masked for a
// reader of changes.read without personal_info.view, shown to one with
// it; a caller without changes.read is refused.
func TestR18ChangeFeedMasksPersonalFields(t *testing.T) {
	e := newEnv(t)
	from := e.rev()
	ann, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "ann", Email: "ann@hospital.example", DisplayName: "Ann Secret"})
	e.must(err)
	mail := "ann@clinic.example"
	_, _, err = e.svc.UpdateUser(e.ctx, e.admin, ann.ID, service.UserUpdate{Email: &mail})
	e.must(err)

	reader := e.user("reader", "")
	e.add(e.sysGroup("Feed readers", domain.PermChangesRead).ID, reader)
	// A refused attempt right after commits only an audit record, at the
	// revision of the last change: it is not one of that change's actions.
	lastRev := e.rev()
	if _, _, err := e.svc.UpdateUser(e.ctx, reader, ann.ID, service.UserUpdate{Email: &mail}); err == nil {
		t.Fatal("the reader's update went through")
	}
	e.wantDeniedAudit(reader, "user.update")
	if e.rev() != lastRev {
		t.Fatal("a refused write moved the revision")
	}
	page, err := e.svc.Changes(e.ctx, reader, service.FeedQuery{After: from, Entity: "user", UserID: ann.ID})
	e.must(err)
	if len(page.Changes) != 2 || len(page.Changes[1].Actions) != 1 || page.Changes[1].Actions[0] != "user.update" {
		t.Fatalf("want ann's creation and update, got %s", mustJSON(t, page))
	}
	upd := page.Changes[1].Objects[0]
	if len(upd.Before) == 0 || !strings.Contains(string(upd.After), `"username":"ann"`) {
		t.Fatalf("the update should carry before and after: %s", mustJSON(t, upd))
	}
	if got := string(mustJSON(t, page)); strings.Contains(got, "hospital") || strings.Contains(got, "clinic") || strings.Contains(got, "Ann Secret") {
		t.Errorf("personal fields shown to a reader without personal_info.view: %s", got)
	}
	full, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: from, Entity: "user", UserID: ann.ID})
	e.must(err)
	before, after := string(full.Changes[1].Objects[0].Before), string(full.Changes[1].Objects[0].After)
	if !strings.Contains(before, "ann@hospital.example") || !strings.Contains(after, "ann@clinic.example") {
		t.Errorf("the administrator should see the email change: before %s, after %s", before, after)
	}
	if strings.Contains(before+after, "password") {
		t.Errorf("a password hash in the feed: %s %s", before, after)
	}
	_, err = e.svc.Changes(e.ctx, e.user("nobody", ""), service.FeedQuery{})
	if !domain.Is(err, domain.KindForbidden) || !strings.Contains(err.Error(), domain.PermChangesRead) {
		t.Errorf("a caller without changes.read: %v, want forbidden naming it", err)
	}
}

// The feed's page: next moves past changes the filters drop, a wait
// answers as soon as the next change commits, and a pruned revision is
// ChangesGone naming the oldest retained.
func TestChangeFeedPagingWaitingAndRetention(t *testing.T) {
	e := newEnv(t)
	from := e.rev()
	g := e.sysGroup("Watched", domain.PermGroupsView)
	e.sysGroup("Other", domain.PermGroupsView)
	page, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: from, GroupID: g.ID})
	e.must(err)
	if len(page.Changes) != 1 || page.Next != e.rev() {
		t.Fatalf("group filter: %s, want one change and next %d", mustJSON(t, page), e.rev())
	}

	head := e.rev()
	got := make(chan service.FeedPage, 1)
	go func() {
		p, err := e.svc.Changes(context.Background(), e.admin, service.FeedQuery{After: head, Wait: 10 * time.Second})
		if err != nil {
			t.Error(err)
		}
		got <- p
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	e.sysGroup("Awaited", domain.PermGroupsView)
	p := <-got
	if len(p.Changes) != 1 || p.Changes[0].Revision != head+1 || time.Since(start) > 5*time.Second {
		t.Fatalf("a waiting read should answer with the next change at once: %s after %v", mustJSON(t, p), time.Since(start))
	}
	empty, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: head + 1, Wait: 20 * time.Millisecond})
	if err != nil || len(empty.Changes) != 0 || empty.Next != head+1 {
		t.Fatalf("a wait with no change: %s, %v", mustJSON(t, empty), err)
	}

	n, err := e.st.PruneChanges(e.ctx, time.Now().Add(time.Hour))
	e.must(err)
	if n == 0 {
		t.Fatal("nothing pruned")
	}
	_, err = e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: from})
	var gone *service.ChangesGone
	if !errors.As(err, &gone) || gone.Oldest != e.rev() {
		t.Fatalf("after pruning: %v, want ChangesGone with oldest %d (the newest row is kept)", err, e.rev())
	}
	// The engine still follows: a write after the pruning is checked and
	// applied.
	e.sysGroup("After pruning", domain.PermGroupsView)
	if _, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: gone.Oldest - 1}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []service.FeedQuery{{After: -1}, {Limit: 1001}, {Wait: time.Hour}, {Entity: "spaceship"}} {
		_, err := e.svc.Changes(e.ctx, e.admin, bad)
		if !domain.Is(err, domain.KindInvalid) {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
}

// TestChangeFeedShowsGroupMemberships: a group nested in another, and
// taken out, are feed objects with their id and state (after a put,
// before a delete), found by either group's filter, so that a follower
// (the local replica) can apply them.
func TestChangeFeedShowsGroupMemberships(t *testing.T) {
	e := newEnv(t)
	outer, inner := e.sysGroup("Outer"), e.sysGroup("Inner")
	from := e.rev()
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	_, _, err := e.svc.AddGroupMembers(e.ctx, e.admin, outer.ID, []service.GroupMemberInput{{GroupID: inner.ID, ExpiresAt: &exp}})
	e.must(err)
	_, _, err = e.svc.RemoveGroupMembers(e.ctx, e.admin, outer.ID, []string{inner.ID})
	e.must(err)
	page, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: from, Entity: string(domain.EntityGroupMembership), GroupID: inner.ID})
	e.must(err)
	if len(page.Changes) != 2 || len(page.Changes[0].Objects) != 1 || len(page.Changes[1].Objects) != 1 {
		t.Fatalf("want the nesting and its removal, got %s", mustJSON(t, page))
	}
	put, del := page.Changes[0].Objects[0], page.Changes[1].Objects[0]
	id := outer.ID + "/" + inner.ID
	var after, before domain.GroupMembership
	if put.ID != id || put.Op != domain.OpPut || json.Unmarshal(put.After, &after) != nil ||
		after.GroupID != outer.ID || after.MemberGroupID != inner.ID || after.ExpiresAt == nil || !after.ExpiresAt.Equal(exp) {
		t.Errorf("the nesting as a feed object: %s", mustJSON(t, put))
	}
	if del.ID != id || del.Op != domain.OpDelete || json.Unmarshal(del.Before, &before) != nil || before.MemberGroupID != inner.ID {
		t.Errorf("the removal as a feed object: %s", mustJSON(t, del))
	}
}

// TestChangeFeedRefusesADivergedHistory: a consumer beyond the newest
// revision, or holding another change at its revision than the server's
// (a database restored to an older revision), is refused with
// ChangesDiverged; the marks the feed hands out prove the history it
// serves.
func TestChangeFeedRefusesADivergedHistory(t *testing.T) {
	e := newEnv(t)
	from := e.rev()
	e.sysGroup("One", domain.PermGroupsView)
	e.sysGroup("Two", domain.PermGroupsView)
	page, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: from})
	e.must(err)
	if len(page.Changes) != 2 || page.NextMark == "" || page.NextMark != page.Changes[1].Mark || page.Changes[0].Mark == page.Changes[1].Mark {
		t.Fatalf("marks: %s; want one per change, next's the last's", mustJSON(t, page))
	}
	first := page.Changes[0]
	ok, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: first.Revision, AfterMark: first.Mark})
	if err != nil || len(ok.Changes) != 1 || ok.Changes[0].Revision != first.Revision+1 {
		t.Fatalf("after the first change, with its mark: %s, %v; want the second", mustJSON(t, ok), err)
	}
	at, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: page.Next, AfterMark: page.NextMark})
	if err != nil || len(at.Changes) != 0 || at.Next != page.Next || at.NextMark != page.NextMark {
		t.Fatalf("at the head, with its mark: %s, %v; want nothing, next and its mark unchanged", mustJSON(t, at), err)
	}
	var div *service.ChangesDiverged
	_, err = e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: first.Revision, AfterMark: page.NextMark})
	if !errors.As(err, &div) || div.Beyond || div.After != first.Revision || !strings.Contains(err.Error(), "history diverged") {
		t.Fatalf("another change's mark: %v; want ChangesDiverged at %d", err, first.Revision)
	}
	for _, q := range []service.FeedQuery{{After: page.Next + 1}, {After: page.Next + 5, AfterMark: page.NextMark, Wait: time.Second}} {
		_, err = e.svc.Changes(e.ctx, e.admin, q)
		if !errors.As(err, &div) || !div.Beyond || div.Head != page.Next {
			t.Fatalf("%+v, beyond the head: %v; want ChangesDiverged naming head %d", q, err, page.Next)
		}
	}
	for _, bad := range []service.FeedQuery{{AfterMark: page.NextMark}, {After: 1, AfterMark: strings.Repeat("m", 101)}} {
		if _, err := e.svc.Changes(e.ctx, e.admin, bad); !domain.Is(err, domain.KindInvalid) || !strings.Contains(err.Error(), "after_mark") {
			t.Errorf("%+v: %v, want invalid after_mark", bad, err)
		}
	}
	// A mark for a revision no longer retained cannot be checked.
	_, err = e.st.PruneChanges(e.ctx, time.Now().Add(time.Hour))
	e.must(err)
	var gone *service.ChangesGone
	if _, err := e.svc.Changes(e.ctx, e.admin, service.FeedQuery{After: first.Revision, AfterMark: first.Mark}); !errors.As(err, &gone) || gone.Oldest != page.Next {
		t.Errorf("a pruned revision's mark: %v; want ChangesGone with oldest %d", err, page.Next)
	}
}
