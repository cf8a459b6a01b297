package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The group editor's "Nested groups" tab (issue 20): the groups this one
// is a member of (parents), its member groups (children) with a picker
// to add more, the trees of its ancestors and descendants, and everyone
// who is a member through them, with the path, searched, sorted and paged
// by the service (at 100,000 users the list does not fit one page).

func (c *Console) fillNesting(r *http.Request, s *session, e *editor) error {
	ctx, caller := r.Context(), s.Caller()
	parents, err := c.svc.ListGroupParents(ctx, caller, e.Group.ID)
	if err != nil {
		return err
	}
	children, err := c.svc.ListGroupMemberGroups(ctx, caller, e.Group.ID)
	if err != nil {
		return err
	}
	e.Extra["Parents"], e.Extra["Children"] = parents, children
	tree, err := c.svc.GroupNestingTree(ctx, caller, e.Group.ID)
	if err != nil {
		return err
	}
	e.Extra["Tree"] = tree
	if err := c.fillEffective(r, s, e); err != nil {
		return err
	}
	// The picker: groups found by name, except this one, its members and
	// the built-in groups with implicit members.
	search := r.URL.Query().Get("q")
	page, err := c.svc.ListGroups(ctx, caller, service.ListQuery{Search: search, Sort: "name", Limit: 50})
	if err != nil {
		return err
	}
	in := map[string]bool{e.Group.ID: true}
	for _, ch := range children {
		in[ch.Group.ID] = true
	}
	var pick []domain.Group
	for _, g := range page.Items {
		if !in[g.ID] && g.Builtin != domain.BuiltinEveryone && g.Builtin != domain.BuiltinPublic {
			pick = append(pick, g)
		}
	}
	e.Extra["Pick"], e.Extra["Search"] = pick, search
	return nil
}

// effectiveSorts are the sortable columns of the effective members.
var effectiveSorts = []struct{ k, l string }{{service.EffectiveSortUsername, "User"}, {service.EffectiveSortThrough, "Through"}}

// fillEffective draws the effective members: "find" searches them, "sort"
// and "order" (asc, desc) sort them, "cursor" pages them. A caller who may
// not list users sees the tab without them.
func (c *Console) fillEffective(r *http.Request, s *session, e *editor) error {
	q := r.URL.Query()
	find, sortBy, order := q.Get("find"), q.Get("sort"), q.Get("order")
	if sortBy == "" {
		sortBy = service.EffectiveSortUsername
	}
	if order != "desc" {
		order = "asc"
	}
	page, err := c.svc.ListEffectiveMembersPage(r.Context(), s.Caller(), e.Group.ID,
		service.ListQuery{Search: find, Sort: sortBy, Desc: order == "desc", Cursor: q.Get("cursor"), Limit: c.pageSize})
	if domain.Is(err, domain.KindForbidden) {
		e.Extra["NoEffective"] = true
		return nil
	} else if err != nil {
		return err
	}
	rows := page.Items[:0]
	for _, m := range page.Items {
		if s.ShowPI() || matchesUsername(m.User.Username, find) {
			rows = append(rows, m) // R18: a hidden name must not be found by searching it
		}
	}
	base := groupURL(e.Group.ID, "nesting")
	var cols []sortCol
	for _, col := range effectiveSorts {
		sc := sortCol{Key: col.k, Label: col.l, Aria: "none", Href: base + queryOf("find", find, "sort", col.k, "order", "asc") + "#effective-title"}
		if sortBy == col.k && order == "asc" {
			sc.Aria, sc.Href = "ascending", base+queryOf("find", find, "sort", col.k, "order", "desc")+"#effective-title"
		} else if sortBy == col.k {
			sc.Aria = "descending"
		}
		cols = append(cols, sc)
	}
	e.Extra["Effective"], e.Extra["EffCols"], e.Extra["Find"] = rows, cols, find
	e.Extra["Sort"], e.Extra["Order"] = sortBy, order
	e.Extra["Pager"] = pagerOf(base, q, []string{"find", "sort", "order"}, page.Next)
	return nil
}

// groupSaveNesting adds the picked group as a member (with an optional
// end date), or removes one member group.
func (c *Console) groupSaveNesting(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	f := r.PostForm
	back := groupURL(id, "nesting")
	if rm := f.Get("remove"); rm != "" {
		res, _, err := c.svc.RemoveGroupMembers(r.Context(), s.Caller(), id, []string{rm})
		if err != nil {
			failed(w, r, back, err)
			return
		}
		done(w, r, back, "Group removed; users who left this group with it: "+plural(len(res.Users), "user")+"."+stayIn(res.Projects))
		return
	}
	child := f.Get("group")
	if child == "" {
		failed(w, r, back, domain.E(domain.KindInvalid, domain.FieldError{Field: "Group", Message: "pick a group to add"}))
		return
	}
	exp, err := formExpiry(f)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	res, _, err := c.svc.AddGroupMembers(r.Context(), s.Caller(), id, []service.GroupMemberInput{{GroupID: child, ExpiresAt: exp}})
	if err != nil {
		failed(w, r, back, err)
		return
	}
	msg := "Group added; members through it: " + plural(len(res.Users), "user") + "."
	if len(res.Projects) > 0 {
		msg += " They are members of these projects: " + refNames(res.Projects) + "."
	}
	done(w, r, back, msg)
}

func stayIn(ps []service.ProjectRef) string {
	if len(ps) == 0 {
		return ""
	}
	return " They stay in these projects without this group's rights: " + refNames(ps) + "."
}

// formExpiry reads a form's optional "expires" date (00:00 UTC).
func formExpiry(f url.Values) (*time.Time, error) {
	d := strings.TrimSpace(f.Get("expires"))
	if d == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", d)
	if err != nil {
		return nil, domain.E(domain.KindInvalid, domain.FieldError{Field: "Expiry date", Message: "use the form YYYY-MM-DD"})
	}
	return &t, nil
}
