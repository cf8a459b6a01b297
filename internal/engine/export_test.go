package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Frozen returns an engine that answers from e's current state forever,
// like a reader that loaded the state before an Apply: copy-on-write
// promises that no later Apply changes what it sees.
func Frozen(e *Engine) *Engine {
	f := &Engine{gen: e.gen}
	f.cur.Store(e.snapshot())
	return f
}

// ProjectNestingDiff describes where a's and b's per-project lists of
// nested groups (projnest.go) differ, by ids; "" when they agree. An
// engine kept incrementally must hold the lists a rebuild computes.
func ProjectNestingDiff(a, b *Engine) string {
	sa, sb := a.snapshot(), b.snapshot()
	lists := func(st *state) map[string][]string {
		out := map[string][]string{}
		for pi := int32(0); pi < st.projects.n; pi++ {
			p := st.projects.get(pi)
			if p == nil {
				continue
			}
			for _, e := range p.nested {
				role := "none"
				if r := st.roles.get(e.role); r != nil {
					role = r.id
				}
				out[p.id] = append(out[p.id], fmt.Sprintf("%s below %s (role %s, mask %b) until %d",
					st.groups.get(e.d).id, st.groups.get(e.g).id, role, e.mask, e.exp))
			}
		}
		return out
	}
	la, lb := lists(sa), lists(sb)
	for id := range la {
		slices.Sort(la[id]) // group and role ints depend on the order of arrival
		slices.Sort(lb[id])
	}
	var diffs []string
	for id, l := range la {
		if !slices.Equal(l, lb[id]) {
			diffs = append(diffs, fmt.Sprintf("project %s: %q, other %q", id, l, lb[id]))
		}
	}
	for id, l := range lb {
		if _, ok := la[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("project %s: none, other %q", id, l))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "\n")
}

// ProjectPathsDiff describes the users and projects where the check's
// project path (direct groups and the project's nested list) answers
// otherwise than the effective groups do at now; "" when they agree.
func ProjectPathsDiff(e *Engine, now time.Time) string {
	st := e.snapshot()
	var diffs []string
	for ui := int32(0); ui < st.users.n; ui++ {
		u := st.users.get(ui)
		if u == nil {
			continue
		}
		w := userWho(u, nanos(now))
		groups := st.groupsOf(w, nil)
		for pi := int32(0); pi < st.projects.n; pi++ {
			p := st.projects.get(pi)
			if p == nil {
				continue
			}
			if x, y := st.projOf(w, groups, p, pi), st.projOfDirect(w, p, pi); x != y {
				diffs = append(diffs, fmt.Sprintf("user %s on project %s: effective groups %b, direct and nested %b", u.id, p.id, x, y))
			}
		}
	}
	return strings.Join(diffs, "\n")
}

// LayoutDiff describes where e's read-side copies disagree with what they
// copy; "" when they agree. Each user's inline groups (userRec.gids) must
// be what its memberships give (setGroups), its project grant filter
// what its grants give (setGrants); each
// folder's hot slot (eff.go) must be what a computation from the roots
// down gives: anc, next, and the flat list merged from the records.
// Every user's and folder's id slot must hold a copy of what its record
// and hot slot hold, and a deleted one's nothing. The groups' bitsets
// must say what gsys and the nesting records say.
func LayoutDiff(e *Engine) string {
	st := e.snapshot()
	out := slotDiffs(st)
	for ui := range st.users.n {
		u := st.users.get(ui)
		if u == nil {
			continue
		}
		var want userRec
		want.setGroups(u.groups)
		want.setGrants(u.pgrants)
		if u.pgBits != want.pgBits {
			out = append(out, fmt.Sprintf("user %s: project grant filter %b; its grants give %b", u.id, u.pgBits, want.pgBits))
		}
		held := func(u *userRec) []int32 {
			var inl [maxInline]int32
			gids, _ := u.inlineGIDs(u.inlFrom, &inl)
			return gids
		}
		if u.ninl != want.ninl || u.inlFrom != want.inlFrom || u.inlUntil != want.inlUntil || u.expMask != want.expMask || u.gids != want.gids {
			out = append(out, fmt.Sprintf("user %s: inline groups %v (%d, mask %b) from %d, all until %d s; memberships give %v (%d, mask %b) from %d, all until %d s",
				u.id, held(u), u.ninl, u.expMask, u.inlFrom, u.inlUntil, held(&want), want.ninl, want.expMask, want.inlFrom, want.inlUntil))
		}
	}
	out = append(out, groupBitsDiffs(st)...)
	out = append(out, projectBloomDiffs(st)...)
	type item struct{ x, seen int32 }
	var stack []item
	for fi := range st.folders.n {
		if f := st.folders.get(fi); f != nil && f.parent == none {
			stack = append(stack, item{fi, none})
		}
	}
	want := map[int32]fhot{}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f := st.folders.get(it.x)
		var inherited []fent
		if it.seen != none {
			inherited = want[it.seen].flat
		}
		h := hotFrom(f, it.x, it.seen, inherited)
		want[it.x] = h
		got := st.hot.get(it.x)
		if got.anc != h.anc || got.next != h.next || got.own != h.own || got.typ1 != h.typ1 || !slices.Equal(got.flat, h.flat) {
			out = append(out, fmt.Sprintf("folder %s: hot slot anc %d next %d own %v flat %v; from the records anc %d next %d own %v flat %v",
				f.id, got.anc, got.next, got.own, got.flat, h.anc, h.next, h.own, h.flat))
		}
		for _, c := range f.children {
			stack = append(stack, item{c, h.anc})
		}
	}
	return strings.Join(out, "\n")
}

// groupBitsDiffs compares the groups' bitsets with what they summarize:
// ancBits with the nested groups' records, sysBits with gsys.
func groupBitsDiffs(st *state) []string {
	var out []string
	for gi := range max(st.groups.n, int32(64*len(st.ancBits)), int32(64*len(st.sysBits))) {
		if want := len(st.nestOf(gi).ancestors()) > 0; st.hasAnc(gi) != want {
			out = append(out, fmt.Sprintf("group %d: ancBits says %v; its nesting record %v", gi, st.hasAnc(gi), want))
		}
		if want := st.gsys.get(gi) != 0; st.sysBits.has(gi) != want {
			out = append(out, fmt.Sprintf("group %d: sysBits says %v; gsys %b", gi, st.sysBits.has(gi), st.gsys.get(gi)))
		}
	}
	return out
}

// projectBloomDiffs compares each project's blooms with the lists they
// summarize: a group missing from one would be missed by checks.
func projectBloomDiffs(st *state) []string {
	var out []string
	for pi := range st.projects.n {
		p := st.projects.get(pi)
		if p == nil {
			continue
		}
		if pres, nest := presBloomOf(p.groups), nestBloomOf(p.nested); p.presBloom != pres || p.nestBloom != nest {
			out = append(out, fmt.Sprintf("project %s: blooms %x, %x; its lists give %x, %x", p.id, p.presBloom, p.nestBloom, pres, nest))
		}
	}
	return out
}

// slotDiffs compares the values of the user and folder id slots with
// the records and hot slots they copy.
func slotDiffs(st *state) []string {
	var out []string
	eachSlot(&st.userIx, func(id string, i int32, v *userHot) {
		var want userHot
		if u := st.users.get(i); u != nil {
			want = u.userHot
		}
		if *v != want {
			out = append(out, fmt.Sprintf("user %s: id slot holds %+v; the record %+v", id, *v, want))
		}
	})
	eachSlot(&st.folderIx, func(id string, i int32, v *folderHot) {
		h := st.hot.get(i)
		if v.typ1 != h.typ1 || !slices.Equal(v.flat(), h.flat) || (v.n == 0) != (v.flat0 == nil) || v.groups != filterOf(h.flat) {
			out = append(out, fmt.Sprintf("folder %s: id slot holds type+1 %d flat %v (%d) filter %x; the hot slot %d %v", id, v.typ1, v.flat(), v.n, v.groups, h.typ1, h.flat))
		}
	})
	return out
}

// eachSlot calls f with every id of ix, its int and its slot's value.
func eachSlot[V any](ix *strIndex[V], f func(id string, i int32, v *V)) {
	for _, sh := range ix.shards {
		for p := range sh.slots {
			if sl := &sh.slots[p]; sl.id1 != 0 {
				f(string(sl.key[:sl.klen]), sl.id1-1, &sl.val)
			}
		}
		for k, e := range sh.long {
			f(k, e.i, &e.val)
		}
	}
}

// asMap is p as the map a domain.Folder holds.
func (p folderProps) asMap() map[string]string {
	if p == nil {
		return nil
	}
	m := make(map[string]string, len(p))
	for _, kv := range p {
		m[kv.k] = kv.v
	}
	return m
}
