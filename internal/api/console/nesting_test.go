package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The Nested groups tab: the picker finds groups, adding one shows it
// among the member groups, on the child's page as a parent, and its
// members among everyone who is a member, with the path.
func TestNestedGroupsTab(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	rad, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "Radiologists", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	xyz, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "XYZ radiologists", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	alice, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: "alice", Email: "alice@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AddMembers(ctx, e.admin, xyz.ID, []service.MemberInput{{UserID: alice.ID}}); err != nil {
		t.Fatal(err)
	}
	page := read(t, e.do(t, http.MethodGet, "/admin/groups/"+rad.ID+"/nesting?q=XYZ", nil, ck))
	if !strings.Contains(page, `<option value="`+xyz.ID+`">XYZ radiologists</option>`) {
		t.Fatalf("the picker does not offer XYZ radiologists:\n%s", page)
	}
	resp := e.do(t, http.MethodPost, "/admin/groups/"+rad.ID+"/nesting", url.Values{"group": {xyz.ID}}, ck)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a group: status %d", resp.StatusCode)
	}
	page = read(t, e.do(t, http.MethodGet, "/admin/groups/"+rad.ID+"/nesting", nil, ck))
	for _, want := range []string{`Remove group XYZ radiologists`, `XYZ radiologists → Radiologists`, `>alice</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("Radiologists' tab lacks %q", want)
		}
	}
	child := read(t, e.do(t, http.MethodGet, "/admin/groups/"+xyz.ID+"/nesting", nil, ck))
	if !strings.Contains(child, `<a href="/admin/groups/`+rad.ID+`/nesting">Radiologists</a>`) {
		t.Errorf("XYZ's tab does not show Radiologists as a parent")
	}
	// A cycle is refused with the cycle named in the flash message.
	resp = e.do(t, http.MethodPost, "/admin/groups/"+xyz.ID+"/nesting", url.Values{"group": {rad.ID}}, ck)
	var flash string
	for _, c := range resp.Cookies() {
		if c.Name == flashCookie {
			flash, _ = url.QueryUnescape(c.Value)
		}
	}
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(flash, "error:") || !strings.Contains(flash, "Radiologists → XYZ radiologists → Radiologists") {
		t.Errorf("a cycle: status %d, flash %q; want an error naming the cycle", resp.StatusCode, flash)
	}
	resp = e.do(t, http.MethodPost, "/admin/groups/"+rad.ID+"/nesting", url.Values{"remove": {xyz.ID}}, ck)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("removing a group: status %d", resp.StatusCode)
	}
	if page := read(t, e.do(t, http.MethodGet, "/admin/groups/"+rad.ID+"/nesting", nil, ck)); strings.Contains(page, "Remove group XYZ") {
		t.Error("XYZ radiologists is still a member group after Remove")
	}
}

// nestedFixture makes Top ← Mid ← Low (Mid in Top until 2099), with zed a
// direct member of Top, bob of Mid, alice and carol (display name "Carol
// Findable") of Low.
func nestedFixture(t *testing.T, e *env) (top, mid, low domain.Group) {
	t.Helper()
	ctx := context.Background()
	groups := map[string]*domain.Group{"Top": &top, "Mid": &mid, "Low": &low}
	for _, name := range []string{"Top", "Mid", "Low"} {
		g, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: name, Scope: domain.ScopeSystem})
		if err != nil {
			t.Fatal(err)
		}
		*groups[name] = g
	}
	until := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, edge := range []struct {
		parent, child string
		until         *time.Time
	}{{top.ID, mid.ID, &until}, {mid.ID, low.ID, nil}} {
		if _, _, err := e.svc.AddGroupMembers(ctx, e.admin, edge.parent, []service.GroupMemberInput{{GroupID: edge.child, ExpiresAt: edge.until}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct{ name, display, group string }{
		{"zed", "", top.ID}, {"bob", "", mid.ID}, {"alice", "", low.ID}, {"carol", "Carol Findable", low.ID},
	} {
		u, _, err := e.svc.CreateUser(ctx, e.admin, service.NewUser{Username: m.name, DisplayName: m.display, Email: m.name + "@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.AddMembers(ctx, e.admin, m.group, []service.MemberInput{{UserID: u.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	return top, mid, low
}

var effectiveUser = regexp.MustCompile(`<td class="username"><a href="/admin/users/[^"]+">([^<]+)</a>`)

// effectiveNames lists the usernames of the effective members table, in
// the order shown.
func effectiveNames(t *testing.T, page string) []string {
	t.Helper()
	i := strings.Index(page, `id="effective"`)
	if i < 0 {
		t.Fatalf("no effective members table:\n%s", page)
	}
	table := page[i : i+strings.Index(page[i:], "</table>")]
	var out []string
	for _, m := range effectiveUser.FindAllStringSubmatch(table, -1) {
		out = append(out, m[1])
	}
	return out
}

// The effective members are searched (by username and by display name),
// sorted by username or by path length either way, and paged.
func TestNestedGroupsTabEffectiveSearchSortPage(t *testing.T) {
	e := newEnv(t)
	e.h.(*Console).pageSize = 2
	ck := e.signIn(t)
	top, _, _ := nestedFixture(t, e)
	base := "/admin/groups/" + top.ID + "/nesting"
	get := func(path string) string { return read(t, e.do(t, http.MethodGet, path, nil, ck)) }
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"alice", "bob"}},
		{"?sort=username&order=desc", []string{"zed", "carol"}},
		{"?sort=through&order=asc", []string{"zed", "bob"}},
		{"?sort=through&order=desc", []string{"carol", "alice"}},
		{"?find=BO", []string{"bob"}},
		{"?find=findable", []string{"carol"}},
		{"?find=nobody", nil},
	} {
		if got := effectiveNames(t, get(base+c.query)); !slices.Equal(got, c.want) {
			t.Errorf("%s: effective members %v, want %v", c.query, got, c.want)
		}
	}
	// The second page follows the first in the same order, sort kept.
	first := get(base + "?sort=through&order=asc")
	next := link(nextLink, first)
	if next == "" {
		t.Fatalf("page 1 of 4 members by 2 has no Next link:\n%s", first)
	}
	second := get(next)
	if got := effectiveNames(t, second); !slices.Equal(got, []string{"alice", "carol"}) {
		t.Errorf("page 2 by path length: %v, want [alice carol]", got)
	}
	if !strings.Contains(second, "Page 2") || link(nextLink, second) != "" {
		t.Error("page 2 is not labelled Page 2, or offers a page 3 of nothing")
	}
	if !strings.Contains(second, "Low → Mid → Top") {
		t.Error("page 2 does not show alice's path Low → Mid → Top")
	}
	// A hand-made URL with an unknown sort or a forged cursor is told so.
	for q, want := range map[string]string{"?sort=bogus": "must be username or through", "?cursor=forged": "is not a cursor of this list"} {
		if page := get(base + q); !strings.Contains(page, want) {
			t.Errorf("%s: the page does not say %q", q, want)
		}
	}
}

// The tree lists a 3-level chain both ways: Low's ancestors Mid then Top
// (with the edge's end date), Top's descendants Mid then Low, each a link.
func TestNestedGroupsTabTree(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	top, mid, low := nestedFixture(t, e)
	link := func(g domain.Group) string { return `<a href="/admin/groups/` + g.ID + `/nesting">` + g.Name + `</a>` }
	const until = ` <span class="hint">until 2099-01-01 00:00 UTC</span>`
	for _, c := range []struct {
		group domain.Group
		tree  string
		want  string
	}{
		{top, `id="tree-down"`, link(mid) + until + `<ul><li>` + link(low) + `</li>`},
		{low, `id="tree-up"`, link(mid) + `<ul><li>` + link(top) + until + `</li>`},
		{mid, `id="tree-up"`, link(top) + until + `</li>`},
		{mid, `id="tree-down"`, link(low) + `</li>`},
	} {
		page := read(t, e.do(t, http.MethodGet, "/admin/groups/"+c.group.ID+"/nesting", nil, ck))
		i := strings.Index(page, c.tree)
		if i < 0 {
			t.Fatalf("%s's tab has no %s", c.group.Name, c.tree)
		}
		section := page[i : i+strings.Index(page[i:], "</section>")]
		if !strings.Contains(section, c.want) {
			t.Errorf("%s's %s lacks %s:\n%s", c.group.Name, c.tree, c.want, section)
		}
	}
	page := read(t, e.do(t, http.MethodGet, "/admin/groups/"+top.ID+"/nesting", nil, ck))
	if !strings.Contains(page, "None: Top is a top-level group.") {
		t.Error("Top's tab does not say it is a top-level group")
	}
}

// A tree larger than the service draws says how many groups it leaves
// out: 101 member groups, 100 drawn, "1 more".
func TestNestedGroupsTabTreeSaysHowManyMore(t *testing.T) {
	e := newEnv(t)
	ck := e.signIn(t)
	ctx := context.Background()
	top, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: "Top", Scope: domain.ScopeSystem})
	if err != nil {
		t.Fatal(err)
	}
	var in []service.GroupMemberInput
	for i := range service.NestingTreeSize + 1 {
		g, _, err := e.svc.CreateGroup(ctx, e.admin, domain.Group{Name: fmt.Sprintf("Team %03d", i), Scope: domain.ScopeSystem})
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, service.GroupMemberInput{GroupID: g.ID})
	}
	if _, _, err := e.svc.AddGroupMembers(ctx, e.admin, top.ID, in); err != nil {
		t.Fatal(err)
	}
	page := read(t, e.do(t, http.MethodGet, "/admin/groups/"+top.ID+"/nesting", nil, ck))
	i := strings.Index(page, `id="tree-down"`)
	if i < 0 {
		t.Fatal("no tree below Top")
	}
	tree := page[i : i+strings.Index(page[i:], "</section>")]
	if n := strings.Count(tree, "<li><a href="); n != service.NestingTreeSize || !strings.Contains(tree, "1 more (not shown)") {
		t.Errorf("the tree below Top draws %d groups and says %q; want %d and 1 more", n, "1 more (not shown)", service.NestingTreeSize)
	}
}
