package service_test

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

func usernames(rows []service.EffectiveMemberRow) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.User.Username)
	}
	return out
}

// A page's cursor is the last row's place in the order: a user who joins
// before it meanwhile neither repeats a row nor pushes one off the next
// page.
func TestEffectiveMembersPageCursorKeepsItsPlace(t *testing.T) {
	e := newEnv(t)
	top, low := e.sysGroup("Top"), e.sysGroup("Low")
	_, err := e.nest(top.ID, low.ID)
	e.must(err)
	e.add(low.ID, e.user("bea", ""), e.user("cal", ""))
	e.add(top.ID, e.user("dan", ""))
	q := service.ListQuery{Sort: service.EffectiveSortUsername, Limit: 2}
	first, err := e.svc.ListEffectiveMembersPage(e.ctx, e.admin, top.ID, q)
	e.must(err)
	if got := usernames(first.Items); !slices.Equal(got, []string{"bea", "cal"}) || first.Next == "" {
		t.Fatalf("page 1 = %v (next %q), want [bea cal] and a next page", got, first.Next)
	}
	e.add(low.ID, e.user("abe", ""))
	q.Cursor = first.Next
	second, err := e.svc.ListEffectiveMembersPage(e.ctx, e.admin, top.ID, q)
	e.must(err)
	if got := usernames(second.Items); !slices.Equal(got, []string{"dan"}) || second.Next != "" {
		t.Errorf("page 2 = %v (next %q), want [dan] and no more", got, second.Next)
	}
	for _, bad := range []service.ListQuery{{Sort: "email"}, {Cursor: "%%%"}} {
		if _, err := e.svc.ListEffectiveMembersPage(e.ctx, e.admin, top.ID, bad); domain.KindOf(err) != domain.KindInvalid {
			t.Errorf("%+v: err = %v, want KindInvalid", bad, err)
		}
	}
}

// R18: a caller who may list users but not see personal information finds
// effective members by username only, never by a hidden display name.
func TestR18_EffectiveMembersSearchFindsNoHiddenName(t *testing.T) {
	e := newEnv(t)
	top, low := e.sysGroup("Top"), e.sysGroup("Low")
	_, err := e.nest(top.ID, low.ID)
	e.must(err)
	u, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "carol", DisplayName: "Secret Name", Email: "carol@example.org"})
	e.must(err)
	e.add(low.ID, service.Caller{UserID: u.ID, Username: u.Username})
	seer := e.user("seer", "")
	e.add(e.sysGroup("Seers", domain.PermUsersView, domain.PermGroupsView).ID, seer)
	for _, c := range []struct {
		who    service.Caller
		search string
		want   []string
	}{
		{e.admin, "secret", []string{"carol"}},
		{seer, "secret", []string{}},
		{seer, "CAR", []string{"carol"}},
	} {
		page, err := e.svc.ListEffectiveMembersPage(e.ctx, c.who, top.ID, service.ListQuery{Search: c.search})
		e.must(err)
		if got := usernames(page.Items); !slices.Equal(got, c.want) {
			t.Errorf("%s searching %q: %v, want %v", c.who.Username, c.search, got, c.want)
		}
		for _, r := range page.Items {
			if c.who.UserID == seer.UserID && r.User.DisplayName != "" {
				t.Errorf("the seer sees the display name %q", r.User.DisplayName)
			}
		}
	}
}

// The nesting tree stops at the depth limit and says how many groups it
// leaves out there, and shows the groups in name order with their links.
func TestNestingTreeSaysHowManyMoreBeyondTheDepth(t *testing.T) {
	e := newEnv(t)
	// C2 is made before C1, so that name order is not creation order.
	a, b, c1, c2 := e.sysGroup("A"), e.sysGroup("B"), e.sysGroup("C2"), e.sysGroup("C1")
	for _, edge := range [][2]string{{a.ID, b.ID}, {b.ID, c1.ID}, {b.ID, c2.ID}} {
		_, err := e.nest(edge[0], edge[1])
		e.must(err)
	}
	full, err := e.svc.GroupNestingTree(e.ctx, e.admin, a.ID)
	e.must(err)
	if len(full.Up.Links) != 0 || len(full.Down.Links) != 1 || full.Down.Links[0].Name != "B" {
		t.Fatalf("A's tree = up %+v, down %+v; want nothing up and B down", full.Up, full.Down)
	}
	if below := full.Down.Links[0].Links; len(below) != 2 || below[0].Name != "C1" || below[1].Name != "C2" {
		t.Errorf("below B: %+v, want C1 and C2 in name order", below)
	}
	shallow, err := e.withNesting(service.NestingOptions{MaxDepth: 1}).GroupNestingTree(e.ctx, e.admin, a.ID)
	e.must(err)
	if b := shallow.Down.Links[0]; len(b.Links) != 0 || b.More != 2 {
		t.Errorf("at depth 1, B = %+v; want no links and 2 more", b)
	}
	up, err := e.svc.GroupNestingTree(e.ctx, e.admin, c1.ID)
	e.must(err)
	if len(up.Up.Links) != 1 || up.Up.Links[0].Name != "B" || len(up.Up.Links[0].Links) != 1 || up.Up.Links[0].Links[0].ID != a.ID {
		t.Errorf("C1's ancestors = %+v, want B then A", up.Up)
	}
}

// R21: a project's moderator sees the tree of the project's group, but a
// system group in it, which they may not view, only as a hidden node: no
// id, no name.
func TestR21_NestingTreeHidesGroupsTheCallerMayNotSee(t *testing.T) {
	e, mod, own, sys := moderatedNesting(t)
	tree, err := e.svc.GroupNestingTree(e.ctx, mod, own.ID)
	e.must(err)
	if len(tree.Down.Links) != 1 || !tree.Down.Links[0].Hidden || tree.Down.Links[0].ID != "" || tree.Down.Links[0].Name != "" {
		t.Errorf("the moderator's tree below Investigators = %+v, want one hidden group", tree.Down.Links)
	}
	admin, err := e.svc.GroupNestingTree(e.ctx, e.admin, own.ID)
	e.must(err)
	if len(admin.Down.Links) != 1 || admin.Down.Links[0].Hidden || admin.Down.Links[0].Name != sys.Name {
		t.Errorf("the administrator's tree below Investigators = %+v, want %s", admin.Down.Links, sys.Name)
	}
	if _, err := e.svc.GroupNestingTree(e.ctx, mod, sys.ID); domain.KindOf(err) != domain.KindNotFound {
		t.Errorf("the moderator asking the system group's tree: %v, want KindNotFound", err)
	}
}

// moderatedNesting makes a project whose moderator (mod, without
// groups.view) administers its group Investigators (own), which contains
// a system group (sys) the moderator may not see.
func moderatedNesting(t *testing.T) (e *env, mod service.Caller, own, sys domain.Group) {
	t.Helper()
	e = newEnv(t)
	p := e.project("Trial", domain.ModeMultiple)
	mod = e.user("mod", "")
	_, _, err := e.svc.SetUserProjectRights(e.ctx, e.admin, mod.UserID, p.ID, "", []string{domain.PermProjectModerate})
	e.must(err)
	own, _, err = e.svc.CreateGroup(e.ctx, e.admin, domain.Group{Name: "Investigators", Scope: domain.ScopeProject, ProjectID: p.ID})
	e.must(err)
	sys = e.sysGroup("Secret system group")
	_, err = e.nest(own.ID, sys.ID)
	e.must(err)
	return e, mod, own, sys
}

// R21: a path through a group the caller may not see names it no more
// than the tree does: a project's moderator listing the effective members
// of a project group that contains a system group sees a stand-in; a
// holder of groups.view sees the name.
func TestR21_EffectiveMemberPathsHideGroupsTheCallerMayNotSee(t *testing.T) {
	e, mod, own, sys := moderatedNesting(t)
	e.add(sys.ID, e.user("bea", ""))
	for _, sort := range []string{service.EffectiveSortUsername, service.EffectiveSortThrough} {
		for _, c := range []struct {
			who  service.Caller
			want string
		}{{mod, service.HiddenGroup}, {e.admin, sys.Name}} {
			page, err := e.svc.ListEffectiveMembersPage(e.ctx, c.who, own.ID, service.ListQuery{Sort: sort})
			e.must(err)
			if len(page.Items) != 1 || !slices.Equal(page.Items[0].Through, []string{c.want}) {
				t.Errorf("sorted by %s, %s sees %+v, want bea through [%s]", sort, c.who.UserID, page.Items, c.want)
			}
		}
	}
}
