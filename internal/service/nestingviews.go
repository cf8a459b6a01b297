package service

import (
	"cmp"
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The console's Nested groups tab at 100,000 users (issue 20): a group's
// effective members searched, sorted and paged, and its ancestors and
// descendants as trees. The engine answers who is a member and which
// groups are linked; this file orders, pages and masks, and reads from
// the store only the users of the page shown.

// The sorts of ListEffectiveMembersPage.
const (
	EffectiveSortUsername = "username"
	// EffectiveSortThrough orders by the number of groups between the
	// user and the group (direct members first), then by username.
	EffectiveSortThrough = "through"
)

// effKey is where an effective member sorts, and what a cursor holds: the
// last row of the page before.
type effKey struct {
	through  int
	username string
	id       string
}

func keyOf(m *engine.EffectiveMember) effKey {
	return effKey{through: len(m.Through), username: m.Username, id: m.UserID}
}

// ListEffectiveMembersPage is ListEffectiveMembers a page at a time.
// q.Search keeps the users whose username, display name or email contain
// it, as the store's user search finds them (the username alone for a
// caller who may not see personal information, R18); q.Sort is
// "username" (the default) or "through", q.Desc reverses it; q.Cursor is
// the Next of the page before and q.Limit the page size (<= 0: 100, at
// most 1000). The cursor is the last row's place in the order, so a page
// neither repeats nor skips a user when members come or go meanwhile.
// The sorted list is kept per engine revision (effCache): a page after
// the first costs its own rows, not the group's size.
func (s *Service) ListEffectiveMembersPage(ctx context.Context, c Caller, groupID string, q ListQuery) (Page[EffectiveMemberRow], error) {
	const op = "service.ListEffectiveMembersPage"
	var out Page[EffectiveMemberRow]
	order, err := effectiveOrder(op, q.Sort)
	if err != nil {
		return out, err
	}
	var after *effKey
	if q.Cursor != "" {
		k, ok := decodeEffCursor(q.Cursor)
		if !ok {
			return out, invalid(op, "cursor", "is not a cursor of this list; start again from the first page")
		}
		after = &k
	}
	// Sorted by username, the paths are named for the page's users only.
	byPath := q.Sort == EffectiveSortThrough
	p, ms, err := s.sortedEffective(ctx, c, op, groupID, byPath, order)
	if err != nil {
		return out, err
	}
	if ms, err = s.searchEffective(ctx, p, op, ms, q.Search); err != nil {
		return out, err
	}
	page, next := effectiveWindow(ms, order, after, q.Desc, q.Limit)
	if next != nil {
		out.Next = encodeEffCursor(*next)
	}
	if !byPath {
		for i := range page {
			if path := p.eng.MembershipPath(page[i].UserID, groupID, p.now); len(path) > 1 {
				page[i].Through = path[:len(path)-1]
			}
		}
	}
	if out.Items, err = s.effectiveRows(ctx, p, op, page); err != nil {
		return out, err
	}
	return out, s.hideThrough(ctx, p, op, groupID, out.Items)
}

// HiddenGroup stands in a path for a group the caller may not see (R21).
const HiddenGroup = "(a group you may not see)"

// hideThrough puts HiddenGroup in the rows' paths in place of the groups
// the caller may not see (R21). Only a caller without groups.view can
// meet one: a project's moderator, whose project groups may contain
// system groups.
func (s *Service) hideThrough(ctx context.Context, p *perms, op, groupID string, rows []EffectiveMemberRow) error {
	if p.has(domain.PermGroupsView) {
		return nil
	}
	seen := map[string]*domain.Group{}
	for i := range rows {
		if len(rows[i].Through) == 0 {
			continue
		}
		ids := p.eng.MembershipPathIDs(rows[i].User.ID, groupID, p.now)
		through := make([]string, 0, len(ids))
		for _, id := range ids[:max(len(ids)-1, 0)] {
			g, ok := seen[id]
			if !ok {
				sg, err := s.st.GetGroup(ctx, id)
				if err != nil {
					return domain.E(op, err)
				}
				g, seen[id] = &sg, &sg
			}
			name := g.Name
			if !p.mayViewGroup(g) {
				name = HiddenGroup
			}
			through = append(through, name)
		}
		rows[i].Through = through
	}
	return nil
}

// effectiveWindow is the page of ms (sorted ascending by order) after the
// cursor's row, read backwards when desc, as a copy its caller may
// change; next is the key of its last row when rows follow it.
func effectiveWindow(ms []engine.EffectiveMember, order func(a, b effKey) int, after *effKey, desc bool, limit int) ([]engine.EffectiveMember, *effKey) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	// at is the number of rows before the cursor's key (desc) or up to it
	// (asc): where the page starts, or ends when read backwards.
	at := 0
	if desc {
		at = len(ms)
	}
	if after != nil {
		at, _ = slices.BinarySearchFunc(ms, *after, func(m engine.EffectiveMember, k effKey) int {
			if c := order(keyOf(&m), k); c < 0 || (c == 0 && !desc) {
				return -1
			}
			return 1
		})
	}
	var page []engine.EffectiveMember
	var more bool
	if desc {
		from := max(at-limit, 0)
		page, more = slices.Clone(ms[from:at]), from > 0
		slices.Reverse(page)
	} else {
		to := min(at+limit, len(ms))
		page, more = slices.Clone(ms[at:to]), to < len(ms)
	}
	if !more || len(page) == 0 {
		return page, nil
	}
	k := keyOf(&page[len(page)-1])
	return page, &k
}

// effectiveOrder is the ascending comparison of a sort; the user id
// breaks ties.
func effectiveOrder(op, sortBy string) (func(a, b effKey) int, error) {
	switch sortBy {
	case "", EffectiveSortUsername:
		return func(a, b effKey) int {
			return cmp.Or(strings.Compare(a.username, b.username), strings.Compare(a.id, b.id))
		}, nil
	case EffectiveSortThrough:
		return func(a, b effKey) int {
			return cmp.Or(cmp.Compare(a.through, b.through), strings.Compare(a.username, b.username), strings.Compare(a.id, b.id))
		}, nil
	}
	return nil, invalid(op, "sort", "must be %s or %s, not %q", EffectiveSortUsername, EffectiveSortThrough, sortBy)
}

// searchEffective returns the members the store's user search finds, in
// a new slice (ms is shared by the cache). An empty search keeps all.
func (s *Service) searchEffective(ctx context.Context, p *perms, op string, ms []engine.EffectiveMember, search string) ([]engine.EffectiveMember, error) {
	if search == "" {
		return ms, nil
	}
	lq := p.personalQuery(store.ListQuery{Search: search, Limit: 1000})
	found, err := collect(ctx, func(cur string) (store.Page[domain.User], error) {
		lq.Cursor = cur
		return s.st.ListUsers(ctx, lq)
	})
	if err != nil {
		return nil, domain.E(op, err)
	}
	ids := make(map[string]bool, len(found))
	for _, u := range found {
		ids[u.ID] = true
	}
	var out []engine.EffectiveMember
	for _, m := range ms {
		if ids[m.UserID] {
			out = append(out, m)
		}
	}
	return out, nil
}

func encodeEffCursor(k effKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(k.through) + "\x00" + k.username + "\x00" + k.id))
}

func decodeEffCursor(c string) (effKey, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return effKey{}, false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 {
		return effKey{}, false
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n < 0 {
		return effKey{}, false
	}
	return effKey{through: n, username: parts[1], id: parts[2]}, true
}

// NestingNode is one group of a nesting tree (GroupNestingTree).
type NestingNode struct {
	ID   string
	Name string
	// Hidden is a group the caller may not see: shown without its name.
	Hidden bool
	// Until is when the membership linking the group to the node above
	// it ends; nil when it does not (and for the root).
	Until *time.Time
	// Links are the groups one step further from the root, by name.
	Links []*NestingNode
	// More counts the links not listed: the tree stops at the nesting
	// depth limit and at NestingTreeSize groups.
	More int
}

// NestingTree is a group's place among nested groups: Up has the groups
// it is a member of, directly or not, up to the roots; Down its member
// groups, nested. Both are rooted at the group.
type NestingTree struct {
	Up, Down *NestingNode
}

// NestingTreeSize bounds the groups of each direction of a NestingTree.
const NestingTreeSize = 100

// GroupNestingTree returns a group's ancestors and descendants through
// the memberships that count now, as the engine holds them, to the
// nesting depth limit (groups.view, as for the group itself).
func (s *Service) GroupNestingTree(ctx context.Context, c Caller, groupID string) (NestingTree, error) {
	const op = "service.GroupNestingTree"
	var out NestingTree
	p, err := s.reader(op, c)
	if err != nil {
		return out, err
	}
	if _, err := loadGroup(ctx, s.st, p, op, groupID); err != nil {
		return out, domain.E(op, err)
	}
	depth := s.nesting.MaxDepth
	if depth <= 0 {
		depth = DefaultNestingDepth
	}
	for _, up := range []bool{true, false} {
		root := p.eng.NestingTree(groupID, up, p.now, depth, NestingTreeSize)
		if root == nil {
			return out, notFound(op, "group", groupID)
		}
		n, err := s.nestingNode(ctx, p, op, root)
		if err != nil {
			return out, err
		}
		if up {
			out.Up = n
		} else {
			out.Down = n
		}
	}
	return out, nil
}

// nestingNode converts an engine node, hiding the groups the caller may
// not see.
func (s *Service) nestingNode(ctx context.Context, p *perms, op string, en *engine.NestNode) (*NestingNode, error) {
	g, err := s.st.GetGroup(ctx, en.GroupID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	n := &NestingNode{ID: g.ID, Name: g.Name, More: en.More}
	if !p.mayViewGroup(&g) {
		n.ID, n.Name, n.Hidden = "", "", true
	}
	if !en.Until.IsZero() {
		until := en.Until
		n.Until = &until
	}
	for _, l := range en.Links {
		ln, err := s.nestingNode(ctx, p, op, l)
		if err != nil {
			return nil, err
		}
		n.Links = append(n.Links, ln)
	}
	slices.SortStableFunc(n.Links, func(a, b *NestingNode) int {
		return cmp.Or(cmp.Compare(btoi(a.Hidden), btoi(b.Hidden)), strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)))
	})
	return n, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
