package engine

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Nested groups (issue 20, docs/model.md §3, docs/decisions.md "Nested
// groups"). A group may be a member of other groups; a user's effective
// groups are those reachable upwards from their direct memberships, a
// path counting until the earliest expiry along it (R6).
//
// Each group in the nesting graph has a nestRec, in its own vec parallel
// to groups: its direct parents and children with the memberships'
// expiries, and anc, the closure of its ancestors. For each ancestor, anc
// keeps the latest instant until which some path to it counts: the
// maximum over paths of the earliest expiry along the path. "Some path
// counts at now" is then now < that instant, so expiry needs no rebuild.
//
// The closure is kept incrementally: a change of the edge child → parent
// changes the ancestors of child and of the groups below it only, so
// reclose recomputes exactly those, parents before children, each from
// its direct parents' closures.
//
// The seam the check path reads is appendEffective: a user's direct
// memberships in, their effective groups at now out, sorted. When no
// group has a group member (nestEdges == 0) it is the old filter. Project
// checks read no closure: each project keeps the groups nested below its
// present groups (projnest.go), which setNest keeps up to date.

// nestRec is one group's place in the nesting graph; records are
// immutable once published and replaced whole.
type nestRec struct {
	parents  []memb // the groups this group is a direct member of, sorted by g
	children []memb // the direct group members, sorted by g
	anc      []memb // every ancestor, sorted by g; exp as above
	height   int32  // the longest chain of memberships upwards
}

func (st *state) nestOf(gi int32) *nestRec { return st.nest.get(gi) }

// ancestors is n's closure; none for a group outside the nesting graph.
func (n *nestRec) ancestors() []memb {
	if n == nil {
		return nil
	}
	return n.anc
}

// until is the latest instant until which some path from n's group to
// ancestor g counts; false when g is not one of its ancestors.
func (n *nestRec) until(g int32) (int64, bool) {
	i, found := slices.BinarySearchFunc(n.ancestors(), g, func(a memb, g int32) int { return cmp.Compare(a.g, g) })
	if !found {
		return 0, false
	}
	return n.anc[i].exp, true
}

// hasAnc reports whether group gi has ancestors: one bit per group, a
// few kilobytes that stay in cache, so that a check reads no nestRec for
// the groups that are in no other group.
func (st *state) hasAnc(gi int32) bool { return st.ancBits.has(gi) }

// setNest stores gi's record, nil when it has no edge left, and keeps
// its ancBits bit.
func (b *builder) setNest(gi int32, n *nestRec) {
	for b.s.nest.n <= gi {
		b.s.nest.push(b.gen, nil)
	}
	if n != nil && len(n.parents) == 0 && len(n.children) == 0 {
		n = nil
	}
	if old := b.s.nestOf(gi).ancestors(); !b.bulk && !slices.Equal(old, n.ancestors()) {
		b.closureChanged(gi, old, n.ancestors()) // projnest.go
	}
	b.s.nest.set(b.gen, gi, n)
	b.s.ancBits.set(gi, n != nil && len(n.anc) > 0, &b.ancOwned)
}

// nestCopy returns a private copy of gi's record to edit.
func (b *builder) nestCopy(gi int32) *nestRec {
	c := &nestRec{}
	if n := b.s.nestOf(gi); n != nil {
		*c = *n
		c.parents, c.children = slices.Clone(n.parents), slices.Clone(n.children)
	}
	return c
}

// appendEffective appends to buf the groups the direct memberships ms
// reach at now, each once, sorted when ms is sorted by group (R12 with
// nested groups).
func (st *state) appendEffective(buf []int32, ms []memb, now int64) []int32 {
	start := len(buf)
	nested := false
	for _, m := range ms {
		if now < m.exp {
			buf = st.appendGroup(buf, m.g, now, &nested)
		}
	}
	return sortNested(buf, start, nested)
}

// appendEffectiveIDs is appendEffective of memberships that do not
// expire, by their groups (userRec.gids).
func (st *state) appendEffectiveIDs(buf []int32, gids []int32, now int64) []int32 {
	start := len(buf)
	nested := false
	for _, g := range gids {
		buf = st.appendGroup(buf, g, now, &nested)
	}
	return sortNested(buf, start, nested)
}

// appendGroup appends g and the groups it is nested in at now, and sets
// *nested when there are any.
func (st *state) appendGroup(buf []int32, g int32, now int64, nested *bool) []int32 {
	buf = append(buf, g)
	if !st.hasAnc(g) {
		return buf
	}
	if n := st.nestOf(g); n != nil {
		for _, a := range n.anc {
			if now < a.exp { // the membership counts at now, so the path counts while a does
				buf = append(buf, a.g)
				*nested = true
			}
		}
	}
	return buf
}

// sortNested sorts and dedups buf[start:] when nesting added to it.
func sortNested(buf []int32, start int, nested bool) []int32 {
	if nested {
		tail := buf[start:]
		slices.Sort(tail)
		buf = buf[:start+len(slices.Compact(tail))]
	}
	return buf
}

// effectiveMembs lists the groups ms reach with, for each, the latest
// instant until which a path to it counts (never-expiring: MaxInt64),
// sorted by group, expired ones included: R3 asks until when.
func (st *state) effectiveMembs(ms []memb) []memb {
	out := slices.Clone(ms)
	for _, m := range ms {
		if n := st.nestOf(m.g); n != nil {
			for _, a := range n.anc {
				out = append(out, memb{g: a.g, exp: min(a.exp, m.exp)})
			}
		}
	}
	return latestPerGroup(out)
}

// latestPerGroup sorts ms by group and keeps, per group, the latest expiry.
func latestPerGroup(ms []memb) []memb {
	slices.SortFunc(ms, func(x, y memb) int {
		if c := cmp.Compare(x.g, y.g); c != 0 {
			return c
		}
		return cmp.Compare(y.exp, x.exp)
	})
	return slices.CompactFunc(ms, func(x, y memb) bool { return x.g == y.g })
}

// putGroupMembership adds child as a member of parent (or changes the
// membership's expiry). A cycle is refused, naming it; Everyone and Public
// take no part in nesting (R4, R5), as for users.
func (b *builder) putGroupMembership(m *domain.GroupMembership) error {
	pi, ok := b.liveGroup(m.GroupID)
	if !ok {
		return b.notFound("group", m.GroupID)
	}
	ci, ok := b.liveGroup(m.MemberGroupID)
	if !ok {
		return b.notFound("group", m.MemberGroupID)
	}
	if pi == gEveryone || pi == gPublic || ci == gEveryone || ci == gPublic {
		return nil
	}
	if !b.bulk {
		if cycle := b.s.cycleThrough(pi, ci); cycle != "" {
			return b.invalid("group %s cannot be a member of group %s: that would make the cycle %s", groupName(b.s, ci), groupName(b.s, pi), cycle)
		}
	}
	exp := expNanos(m.ExpiresAt)
	c := b.nestCopy(ci)
	_, had := findBy(c.parents, pi, membKey)
	c.parents = upsertBy(c.parents, memb{g: pi, exp: exp}, membKey, false)
	b.setNest(ci, c)
	p := b.nestCopy(pi)
	p.children = upsertBy(p.children, memb{g: ci, exp: exp}, membKey, false)
	b.setNest(pi, p)
	if !had {
		b.s.nestEdges++
	}
	if !b.bulk {
		b.reclose(ci)
	}
	return nil
}

func (b *builder) deleteGroupMembership(m *domain.GroupMembership) {
	pi, pok := b.liveGroup(m.GroupID)
	ci, cok := b.liveGroup(m.MemberGroupID)
	if !pok || !cok {
		return
	}
	b.unlink(pi, ci)
	b.reclose(ci)
}

// unlink removes the edge ci → pi, if any.
func (b *builder) unlink(pi, ci int32) {
	cn := b.s.nestOf(ci)
	if cn == nil {
		return
	}
	if _, found := findBy(cn.parents, pi, membKey); !found {
		return
	}
	c := b.nestCopy(ci)
	c.parents = removeBy(c.parents, pi, membKey)
	b.setNest(ci, c)
	p := b.nestCopy(pi)
	p.children = removeBy(p.children, ci, membKey)
	b.setNest(pi, p)
	b.s.nestEdges--
}

// unnestGroup is deleteGroup's cascade: gi's memberships in other groups
// and its group members go, and the groups below it lose its ancestors.
func (b *builder) unnestGroup(gi int32) {
	n := b.s.nestOf(gi)
	if n == nil {
		return
	}
	for _, p := range n.parents {
		b.unlink(p.g, gi)
	}
	children := n.children
	for _, c := range children {
		b.unlink(gi, c.g)
	}
	b.setNest(gi, nil)
	for _, c := range children {
		b.reclose(c.g)
	}
}

// below returns ci and every group below it, parents before children
// (reverse post-order of a depth-first walk down the children).
func (st *state) below(ci int32) []int32 {
	var post []int32
	seen := map[int32]bool{ci: true}
	type frame struct {
		g    int32
		next int
	}
	stack := []frame{{g: ci}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		n := st.nestOf(top.g)
		if n != nil && top.next < len(n.children) {
			c := n.children[top.next].g
			top.next++
			if !seen[c] {
				seen[c] = true
				stack = append(stack, frame{g: c})
			}
			continue
		}
		post = append(post, top.g)
		stack = stack[:len(stack)-1]
	}
	slices.Reverse(post)
	return post
}

// reclose recomputes the closure of ci and of every group below it.
func (b *builder) reclose(ci int32) {
	for _, d := range b.s.below(ci) {
		n := b.s.nestOf(d)
		if n == nil {
			continue
		}
		anc, height := b.s.closeOver(n.parents)
		if slices.Equal(anc, n.anc) && height == n.height {
			continue
		}
		c := *n
		c.anc, c.height = anc, height
		b.setNest(d, &c)
	}
}

// closeOver is the closure of a group from its direct parents' closures.
func (st *state) closeOver(parents []memb) ([]memb, int32) {
	if len(parents) == 0 {
		return nil, 0
	}
	out := slices.Clone(parents)
	var height int32
	for _, p := range parents {
		pn := st.nestOf(p.g)
		if pn == nil {
			height = max(height, 1)
			continue
		}
		height = max(height, pn.height+1)
		for _, a := range pn.anc {
			out = append(out, memb{g: a.g, exp: min(a.exp, p.exp)})
		}
	}
	return latestPerGroup(out), height
}

// closeAll computes every closure after a bulk load, parents before
// children, and refuses a cycle, which a snapshot can hold only by a hand
// edit of the database.
func (b *builder) closeAll() error {
	pending := map[int32]int{} // group → parents not yet closed
	var ready []int32
	for gi := range b.s.nest.n {
		n := b.s.nestOf(gi)
		if n == nil {
			continue
		}
		pending[gi] = len(n.parents)
		if len(n.parents) == 0 {
			ready = append(ready, gi)
		}
	}
	for len(ready) > 0 {
		gi := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		delete(pending, gi)
		n := b.s.nestOf(gi)
		n.anc, n.height = b.s.closeOver(n.parents)
		b.setNest(gi, n)
		for _, c := range n.children {
			if pending[c.g]--; pending[c.g] == 0 {
				ready = append(ready, c.g)
			}
		}
	}
	for gi := range pending {
		for _, p := range b.s.nestOf(gi).parents {
			if cycle := b.s.cycleThrough(p.g, gi); cycle != "" {
				return b.invalid("the group memberships make the cycle %s", cycle)
			}
		}
	}
	return nil
}

// cycleThrough returns, when child → parent would close a cycle, the
// cycle's group names from child round to child ("A → B → A"), else "":
// it would when parent is child or lies below it.
func (st *state) cycleThrough(parent, child int32) string {
	name := func(g int32) string { return st.groups.get(g).name }
	if parent == child {
		return name(child) + " → " + name(child)
	}
	// Walk up from parent to find child, remembering how.
	from := map[int32]int32{parent: none}
	queue := []int32{parent}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		n := st.nestOf(x)
		if n == nil {
			continue
		}
		for _, p := range n.parents {
			if _, seen := from[p.g]; seen {
				continue
			}
			from[p.g] = x
			if p.g == child {
				var up []string // child, …, parent
				for y := child; y != none; y = from[y] {
					up = append(up, name(y))
				}
				slices.Reverse(up) // parent … child
				return strings.Join(append([]string{name(child)}, up...), " → ")
			}
			queue = append(queue, p.g)
		}
	}
	return ""
}

// chainUp returns the groups from one of the user's direct groups up to
// target through memberships that count at now, the direct group first and
// target last; nil when target is not reached. Breadth first over groups
// in id order, so the shortest chain, the same one every time.
func (st *state) chainUp(u *userRec, target int32, now int64) []int32 {
	if u == nil {
		return nil
	}
	from := map[int32]int32{}
	var queue []int32
	for _, m := range u.groups {
		if now < m.exp {
			from[m.g] = none
			queue = append(queue, m.g)
		}
	}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if x == target {
			var out []int32
			for y := x; y != none; y = from[y] {
				out = append(out, y)
			}
			slices.Reverse(out)
			return out
		}
		if n := st.nestOf(x); n != nil {
			for _, p := range n.parents {
				if _, seen := from[p.g]; !seen && now < p.exp {
					from[p.g] = x
					queue = append(queue, p.g)
				}
			}
		}
	}
	return nil
}

// throughNames names the groups between a user and target: the chain
// without target, empty when the user is a direct member.
func (st *state) throughNames(u *userRec, target int32, now int64) []string {
	chain := st.chainUp(u, target, now)
	if len(chain) < 2 {
		return nil
	}
	out := make([]string, 0, len(chain)-1)
	for _, g := range chain[:len(chain)-1] {
		out = append(out, st.groups.get(g).name)
	}
	return out
}

// descendants returns gi and every group below it, whatever the expiries.
func (st *state) descendants(gi int32) []int32 {
	if st.nestOf(gi) == nil {
		return []int32{gi}
	}
	return st.below(gi)
}

// effectiveCandidates returns the users who are or were members of gi
// directly or through groups below it, sorted: a superset of its
// effective members at any instant, which callers test at theirs.
func (st *state) effectiveCandidates(gi int32) []int32 {
	var out []int32
	for _, d := range st.descendants(gi) {
		if g := st.groups.get(d); g != nil {
			out = append(out, g.members...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// heightBelow is the longest chain of memberships from a group below gi
// up to gi, lowest group first; memo keeps a DAG's shared groups to one
// visit each.
func (st *state) heightBelow(gi int32, memo map[int32][]int32) []int32 {
	if chain, ok := memo[gi]; ok {
		return chain
	}
	best := []int32{gi}
	if n := st.nestOf(gi); n != nil {
		for _, c := range n.children {
			if chain := st.heightBelow(c.g, memo); len(chain)+1 > len(best) {
				best = append(slices.Clone(chain), gi)
			}
		}
	}
	memo[gi] = best
	return best
}

// longestUp is the longest chain of memberships from gi up.
func (st *state) longestUp(gi int32) []int32 {
	chain := []int32{gi}
	for {
		n := st.nestOf(chain[len(chain)-1])
		if n == nil || len(n.parents) == 0 {
			return chain
		}
		next := n.parents[0].g
		for _, p := range n.parents {
			if pn := st.nestOf(p.g); pn != nil && pn.height > st.heightOf(next) {
				next = p.g
			}
		}
		chain = append(chain, next)
	}
}

func (st *state) heightOf(gi int32) int32 {
	if n := st.nestOf(gi); n != nil {
		return n.height
	}
	return 0
}

// NestingChain returns the longest chain of group memberships through the
// membership of memberGroupID in groupID, as group names from the lowest
// group up: its length minus one is the depth the service bounds
// (docs/decisions.md). Unknown groups give nil.
func (e *Engine) NestingChain(groupID, memberGroupID string) []string {
	st := e.cur.Load()
	pi, ok := st.groupIx.get(groupID)
	ci, cok := st.groupIx.get(memberGroupID)
	if !ok || !cok || st.groups.get(pi) == nil || st.groups.get(ci) == nil {
		return nil
	}
	down := slices.Clone(st.heightBelow(ci, map[int32][]int32{}))
	chain := append(down, st.longestUp(pi)...)
	names := make([]string, len(chain))
	for i, g := range chain {
		names[i] = st.groups.get(g).name
	}
	return names
}

// EffectiveMember is one user who is a member of a group at an instant,
// with the groups that make them one (Through: from the user's direct
// group up, the group itself excluded; empty for a direct member).
type EffectiveMember struct {
	UserID string
	// Username is the user's, so that lists sort without reading users.
	Username string
	Through  []string
	// Until is when the last path expires; zero when one never does.
	Until time.Time
}

// EffectiveMembers lists the users who are members of groupID at now,
// directly or through nested groups (R6, R12), sorted by user id; the
// built-in groups' implicit members are not listed.
func (e *Engine) EffectiveMembers(groupID string, now time.Time) ([]EffectiveMember, error) {
	return e.effectiveMembers(groupID, now, true)
}

// EffectiveMembersNoPaths is EffectiveMembers without Through: naming a
// user's path is a walk of the graph per user, which a caller showing a
// page of a long list spends on that page only (MembershipPath).
func (e *Engine) EffectiveMembersNoPaths(groupID string, now time.Time) ([]EffectiveMember, error) {
	return e.effectiveMembers(groupID, now, false)
}

func (e *Engine) effectiveMembers(groupID string, now time.Time, paths bool) ([]EffectiveMember, error) {
	return e.cur.Load().effectiveMembers(groupID, now, paths)
}

func (st *state) effectiveMembers(groupID string, now time.Time, paths bool) ([]EffectiveMember, error) {
	const op = "engine.EffectiveMembers"
	gi, ok := st.groupIx.get(groupID)
	if !ok || st.groups.get(gi) == nil {
		return nil, domain.E(op, domain.KindNotFound, errorf("group %q not found", groupID))
	}
	n := nanos(now)
	candidates := st.effectiveCandidates(gi)
	out := make([]EffectiveMember, 0, len(candidates))
	for _, ui := range candidates {
		u := st.users.get(ui)
		if u == nil {
			continue
		}
		until := st.memberUntil(u.groups, gi)
		if n >= until {
			continue
		}
		em := EffectiveMember{UserID: u.id, Username: u.username}
		if paths {
			em.Through = st.throughNames(u, gi, n)
		}
		if until != math.MaxInt64 {
			em.Until = time.Unix(0, until).UTC()
		}
		out = append(out, em)
	}
	slices.SortFunc(out, func(a, b EffectiveMember) int { return strings.Compare(a.UserID, b.UserID) })
	return out, nil
}

// memberUntil is the latest instant until which some path from the
// direct memberships ms to gi counts (effectiveMembs' entry for gi,
// without building the others); math.MinInt64 when there is no path.
func (st *state) memberUntil(ms []memb, gi int32) int64 {
	best := int64(math.MinInt64)
	for _, m := range ms {
		if m.g == gi {
			best = max(best, m.exp)
			continue
		}
		if exp, found := st.nestOf(m.g).until(gi); found {
			best = max(best, min(exp, m.exp))
		}
	}
	return best
}

// MembershipPath names the groups from one of user's direct groups up to
// group at now, the group itself last; nil when the user is not a member.
func (e *Engine) MembershipPath(userID, groupID string, now time.Time) []string {
	return e.membershipPath(userID, groupID, now, func(g *groupRec) string { return g.name })
}

// MembershipPathIDs is MembershipPath with the groups' ids, for a caller
// that must show only the groups it may see (R21).
func (e *Engine) MembershipPathIDs(userID, groupID string, now time.Time) []string {
	return e.membershipPath(userID, groupID, now, func(g *groupRec) string { return g.id })
}

func (e *Engine) membershipPath(userID, groupID string, now time.Time, field func(*groupRec) string) []string {
	st := e.cur.Load()
	ui, ok := st.userIx.get(userID)
	gi, gok := st.groupIx.get(groupID)
	if !ok || !gok || st.groups.get(gi) == nil {
		return nil
	}
	chain := st.chainUp(st.users.get(ui), gi, nanos(now))
	if len(chain) == 0 {
		return nil
	}
	out := make([]string, len(chain))
	for i, g := range chain {
		out[i] = field(st.groups.get(g))
	}
	return out
}

// GroupAncestors lists the ids of the groups groupID is a member of at
// now, directly or through others, sorted.
func (e *Engine) GroupAncestors(groupID string, now time.Time) []string {
	st := e.cur.Load()
	gi, ok := st.groupIx.get(groupID)
	n := st.nestOf(gi)
	if !ok || n == nil {
		return nil
	}
	var out []string
	for _, a := range n.anc {
		if nanos(now) < a.exp && st.groups.get(a.g) != nil {
			out = append(out, st.groups.get(a.g).id)
		}
	}
	slices.Sort(out)
	return out
}

// nestedPaths names, for each of groups (ids) that w reaches through
// nested groups, the chain from w's direct group up to it.
func (st *state) nestedPaths(w who, groups []string) []string {
	if st.nestEdges == 0 {
		return nil
	}
	var out []string
	for _, id := range groups {
		gi, ok := st.groupIx.get(id)
		if !ok || gi < nBuiltin {
			continue
		}
		if chain := st.chainUp(w.u, gi, w.now); len(chain) > 1 {
			names := make([]string, len(chain))
			for i, g := range chain {
				names[i] = st.groups.get(g).name
			}
			out = append(out, strings.Join(names, " → "))
		}
	}
	return out
}

// nesting is R22 for nested groups: a change that gives a group new
// ancestors (or other expiries on them) hands every effective member of
// it everything those ancestors give, and one that takes ancestors away
// takes it back, so the caller must hold all of it. It compares closures,
// not users, like the rest of GrantsBeyond: what a grant hands out counts
// even when the group is empty for now.
func (d *delta) nesting() {
	if d.b.nestEdges == 0 && d.a.nestEdges == 0 {
		return
	}
	const why = " (nested groups)"
	for gi := range maxN(d.b.nest.n, d.a.nest.n) {
		nb, na := d.b.nestOf(gi), d.a.nestOf(gi)
		if nb == na {
			continue
		}
		var ab, aa []memb
		if nb != nil {
			ab = nb.anc
		}
		if na != nil {
			aa = na.anc
		}
		mergeSorted(ab, aa, membKey, func(_ int32, x, y *memb) {
			switch {
			case y == nil:
				d.membership(d.b, *x, why)
			case x == nil || x.exp != y.exp:
				d.membership(d.a, *y, why)
			}
		})
	}
}

// NestingCycle names the cycle that making memberGroupID a member of
// groupID would close ("A → B → A"), or returns "" when it closes none,
// whatever the expiries (docs/model.md §3).
func (e *Engine) NestingCycle(groupID, memberGroupID string) string {
	st := e.cur.Load()
	pi, ok := st.groupIx.get(groupID)
	ci, cok := st.groupIx.get(memberGroupID)
	if !ok || !cok || st.groups.get(pi) == nil || st.groups.get(ci) == nil {
		return ""
	}
	return st.cycleThrough(pi, ci)
}
