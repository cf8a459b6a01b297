package rest_test

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// userReads counts the store's user reads: an effective member page must
// read its own users only (issue 20).
type userReads struct {
	store.Store
	mu     sync.Mutex
	gets   int
	search int
}

func (s *userReads) GetUser(ctx context.Context, id string) (domain.User, error) {
	s.mu.Lock()
	s.gets++
	s.mu.Unlock()
	return s.Store.GetUser(ctx, id)
}

func (s *userReads) ListUsers(ctx context.Context, q store.ListQuery) (store.Page[domain.User], error) {
	s.mu.Lock()
	s.search++
	s.mu.Unlock()
	return s.Store.ListUsers(ctx, q)
}

func (s *userReads) reset() (gets, search int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gets, search, s.gets, s.search = s.gets, s.search, 0, 0
	return gets, search
}

// effWorld is Radiologists with two direct members, XYZ radiologists in
// it until an hour from the clock's start, with four members, and Night
// shift in XYZ with one: seven effective members, five through XYZ
// (eff-a to eff-g; eff-a and eff-d direct).
type effWorld struct {
	e     *env
	reads *userReads
	clock *time.Time
	rad   string
	night string
	names map[string]string // user id → username
}

func newEffWorld(t *testing.T) *effWorld {
	start := time.Now().UTC().Truncate(time.Second)
	w := &effWorld{clock: &start, names: map[string]string{}}
	w.e = newEnvWith(t, func() time.Time { return *w.clock }, func(st store.Store) store.Store {
		w.reads = &userReads{Store: st}
		return w.reads
	})
	e := w.e
	w.rad = e.sysGroup("Radiologists")
	xyz, night := e.sysGroup("XYZ radiologists"), e.sysGroup("Night shift")
	w.night = night
	for i, g := range []string{w.rad, xyz, xyz, w.rad, xyz, xyz, night} {
		u := e.user("eff-"+string(rune('a'+i)), "")
		w.names[u.UserID] = u.Username
		e.add(g, u)
	}
	until := start.Add(time.Hour)
	e.do(&e.admin, "POST", "/api/v1/groups/"+w.rad+"/group-members", map[string]any{"groups": []map[string]any{{"group_id": xyz, "expires_at": until}}}).want(t, 200)
	e.nest(xyz, night).want(t, 200)
	return w
}

// all follows next_cursor from query, limit rows a page, and returns the
// rows' usernames and paths; each page must read at most its own users.
func (w *effWorld) all(t *testing.T, query string, limit int) (names []string, through [][]any) {
	t.Helper()
	path := "/api/v1/groups/" + w.rad + "/members?effective=true&limit=" + strconv.Itoa(limit) + query
	for next := ""; ; {
		w.reads.reset()
		r := w.e.do(&w.e.admin, "GET", path+next, nil).want(t, 200)
		items, _ := r.Body["items"].([]any)
		if gets, _ := w.reads.reset(); gets > len(items)+1 {
			t.Errorf("a page of %d rows read %d users from the store", len(items), gets)
		}
		for _, it := range items {
			row := it.(map[string]any)
			u := row["user"].(map[string]any)
			names = append(names, u["username"].(string))
			th, _ := row["through"].([]any)
			through = append(through, th)
		}
		if len(items) > limit {
			t.Fatalf("page of %d rows, limit %d", len(items), limit)
		}
		c := r.str("next_cursor")
		if c == "" {
			return names, through
		}
		next = "&cursor=" + url.QueryEscape(c)
	}
}

// REST's effective members are paged like the direct ones: every member
// once, in the order asked, with its path, each page reading its own
// users only; a path that expires takes its members out at once (R6),
// whatever pages were drawn before.
func TestEffectiveMembersArePaged_R6(t *testing.T) {
	w := newEffWorld(t)
	want := []string{"eff-a", "eff-b", "eff-c", "eff-d", "eff-e", "eff-f", "eff-g"}
	names, through := w.all(t, "", 2)
	if !slices.Equal(names, want) {
		t.Errorf("by username: %v, want %v", names, want)
	}
	if len(through) == 7 && (len(through[0]) != 0 || len(through[1]) != 1 || len(through[6]) != 2) {
		t.Errorf("paths %v: want eff-a direct, eff-b through XYZ, eff-g through Night shift and XYZ", through)
	}
	names, _ = w.all(t, "&order=desc", 3)
	desc := slices.Clone(want)
	slices.Reverse(desc)
	if !slices.Equal(names, desc) {
		t.Errorf("by username, descending: %v", names)
	}
	names, through = w.all(t, "&sort=through&order=desc", 3)
	if len(names) != 7 || names[0] != "eff-g" || len(through[6]) != 0 {
		t.Errorf("by path, descending: %v %v: want eff-g first, a direct member last", names, through)
	}
	// A write is a new revision: the list kept before it is not shown.
	w.e.add(w.night, w.e.user("eff-h", ""))
	if names, _ = w.all(t, "", 100); !slices.Equal(names, append(want, "eff-h")) {
		t.Errorf("after eff-h joined Night shift: %v", names)
	}
	// An hour later XYZ's membership has ended: its members are no longer
	// members, on the first page and through a cursor taken before.
	r := w.e.do(&w.e.admin, "GET", "/api/v1/groups/"+w.rad+"/members?effective=true&limit=1", nil).want(t, 200)
	*w.clock = w.clock.Add(time.Hour)
	names, _ = w.all(t, "", 2)
	if !slices.Equal(names, []string{"eff-a", "eff-d"}) {
		t.Errorf("after XYZ's membership ended: %v, want eff-a and eff-d (R6)", names)
	}
	r = w.e.do(&w.e.admin, "GET", "/api/v1/groups/"+w.rad+"/members?effective=true&limit=1&cursor="+url.QueryEscape(r.str("next_cursor")), nil).want(t, 200)
	if items, _ := r.Body["items"].([]any); len(items) != 1 || !strings.Contains(string(r.Raw), `"eff-d"`) {
		t.Errorf("the second page, with a cursor from before the end: %s, want eff-d", r.Raw)
	}
}

// R18: a caller who may list users but not see personal information gets
// the effective members without their emails and cannot find them by
// email; the administrator can.
func TestEffectiveMembersMaskPersonalInfo_R18(t *testing.T) {
	w := newEffWorld(t)
	e := w.e
	viewer := e.user("viewer", "")
	e.add(e.sysGroup("Viewers", "users.view", "groups.view"), viewer)
	path := "/api/v1/groups/" + w.rad + "/members?effective=true"
	if r := e.do(&viewer, "GET", path, nil).want(t, 200); strings.Contains(string(r.Raw), "@example.org") || !strings.Contains(string(r.Raw), `"eff-g"`) {
		t.Errorf("viewer's effective members: %s, want eff-g without any email", r.Raw)
	}
	if r := e.do(&viewer, "GET", path+"&search=example.org", nil).want(t, 200); strings.Contains(string(r.Raw), "eff-") {
		t.Errorf("viewer found members by email: %s", r.Raw)
	}
	if r := e.do(&e.admin, "GET", path+"&search=eff-g%40example.org", nil).want(t, 200); !strings.Contains(string(r.Raw), `"email":"eff-g@example.org"`) || strings.Contains(string(r.Raw), `"eff-a"`) {
		t.Errorf("admin's search by email: %s, want eff-g alone, with the email", r.Raw)
	}
}

// The effective list's parameters: a cursor belongs to its group and its
// sort, the sorts are username and through, the orders asc and desc.
func TestEffectiveMembersRefuseWhatDoesNotOrderThem(t *testing.T) {
	w := newEffWorld(t)
	e := w.e
	path := "/api/v1/groups/" + w.rad + "/members?effective=true&limit=1"
	c := url.QueryEscape(e.do(&e.admin, "GET", path, nil).want(t, 200).str("next_cursor"))
	e.do(&e.admin, "GET", path+"&sort=through&cursor="+c, nil).problem(t, 422, "query.cursor")
	other := e.sysGroup("Other")
	e.do(&e.admin, "GET", "/api/v1/groups/"+other+"/members?effective=true&limit=1&cursor="+c, nil).problem(t, 422, "query.cursor")
	e.do(&e.admin, "GET", path+"&sort=email", nil).problem(t, 422, "query.sort")
	e.do(&e.admin, "GET", path+"&order=none", nil).problem(t, 422, "query.order")
	e.do(&e.admin, "GET", "/api/v1/groups/"+w.rad+"/members?sort=through", nil).problem(t, 422, "query.sort")
	e.do(&e.admin, "GET", path+"&all_users=true", nil).problem(t, 422, "query.all_users")
}
