package engine

import (
	"cmp"
	"slices"
)

// A project check with nested groups (issue 20, docs/benchmarks.md
// "Nested groups"). A user reaches a group present in a project either
// directly or through groups nested below it. Merging the user's
// effective groups with the project's costs reading a closure per nested
// group and sorting the longer list; instead each project keeps, beside
// its present groups, the groups nested below them (nestPres), so that a
// project check looks the user's direct groups up in both lists (each
// behind its bloom, groupBloom) and reads no closure.
//
// The list depends on the project's present groups and on the closures
// of the groups below them. It is recomputed for the projects a change
// touched (projDirty): a change of a presence marks its project
// (projectMut), and a change of a group's closure marks the projects
// where one of its ancestors, before or after, is present (setNest),
// which are the only ones whose lists can hold that group.

// nestPres is a group d nested below a group g present in a project: a
// member of d reaches g, and has its rights there, until exp (the latest
// expiry of d's paths to g, as in nestRec.anc), if d's own membership
// still counts. role and mask are g's presence's.
type nestPres struct {
	d    int32
	g    int32
	role int32
	mask uint8
	exp  int64
}

// groupBloom has bit g mod 256 set for each group g of a set. A
// project's nested list is read only when one of the subject's direct
// groups may be in it (nestBloom), which saves most checks a cache miss
// (the list is its own allocation): with the large data set's three
// groups per list and a dozen direct groups per user, one denied check
// in eleven reads it. Its present groups are searched only for the
// subject's groups that may be among them (presBloom): a search for one
// or two groups instead of a merge of both lists, whose comparisons of
// random ids mispredict every other step.
type groupBloom [4]uint64

func (gb *groupBloom) add(g int32) { gb[g>>6&3] |= 1 << (g & 63) }

func (gb *groupBloom) has(g int32) bool { return gb[g>>6&3]>>(g&63)&1 != 0 }

// presBloomOf is the bloom of the groups present.
func presBloomOf(ps []presence) groupBloom {
	var gb groupBloom
	for _, e := range ps {
		gb.add(e.g)
	}
	return gb
}

// putPresent adds or replaces e's group's presence in p (upsertBy).
func (p *projectRec) putPresent(e presence, bulk bool) {
	p.groups = upsertBy(p.groups, e, presenceKey, bulk)
	p.presBloom.add(e.g)
}

// removePresent removes g's presence from p.
func (p *projectRec) removePresent(g int32) {
	p.groups = removeBy(p.groups, g, presenceKey)
	p.presBloom = presBloomOf(p.groups)
}

// setNested gives p its nested list and the list's bloom.
func (p *projectRec) setNested(n []nestPres) { p.nested, p.nestBloom = n, nestBloomOf(n) }

// nestBloomOf is the bloom of the groups d of a nested list.
func nestBloomOf(n []nestPres) groupBloom {
	var gb groupBloom
	for _, e := range n {
		gb.add(e.d)
	}
	return gb
}

// projGrants gathers the rights of the groups present in a project that
// a subject reaches (R14).
type projGrants struct {
	grouped, builtin uint8
	inGroup          bool // a group other than a built-in: R23's exclusivity
}

func (pg *projGrants) add(st *state, g, role int32, mask uint8) {
	m := mask | st.roleProj(role)
	if g < nBuiltin {
		pg.builtin |= m
	} else {
		pg.grouped |= m
		pg.inGroup = true
	}
}

// present is what the groups present in p among groups give, and
// whether one of groups may be in p's nested list (nestBloom).
func (st *state) present(groups []int32, p *projectRec) (pg projGrants, mayNest bool) {
	for _, g := range groups {
		mayNest = mayNest || p.nestBloom.has(g)
		if !p.presBloom.has(g) {
			continue
		}
		if e := findPresence(p.groups, g); e != nil {
			pg.add(st, g, e.role, e.mask)
		}
	}
	return pg, mayNest
}

// findPresence is g's presence in ps (sorted by g), or nil.
func findPresence(ps []presence, g int32) *presence {
	lo, hi := 0, len(ps)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ps[m].g < g {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(ps) && ps[lo].g == g {
		return &ps[lo]
	}
	return nil
}

// nestedPresent adds to pg the present groups that direct, the subject's
// sorted direct groups that count at now, reach through nesting.
func (st *state) nestedPresent(pg *projGrants, direct []int32, p *projectRec, now int64) {
	i, j := 0, 0
	for i < len(direct) && j < len(p.nested) {
		switch a, e := direct[i], &p.nested[j]; {
		case a < e.d:
			i++
		case a > e.d:
			j++
		default:
			if now < e.exp {
				pg.add(st, e.g, e.role, e.mask)
			}
			j++ // d may be below several present groups
		}
	}
}

// markProjects marks the projects where group g is present: those where
// it has a grant row, and its own project for a project group.
func (b *builder) markProjects(g int32) {
	gr := b.s.groups.get(g)
	if gr == nil {
		return
	}
	for _, pi := range gr.projects {
		b.markProject(pi, false)
	}
	if gr.project != none {
		b.markProject(gr.project, false)
	}
}

// markProject marks project pi's list to recompute: whole when its
// presences changed (full), else only the entries of the groups whose
// closures changed.
func (b *builder) markProject(pi int32, full bool) {
	if b.bulk {
		return // Engine computes every project's list once
	}
	if b.projDirty == nil {
		b.projDirty = map[int32]bool{}
	}
	b.projDirty[pi] = b.projDirty[pi] || full
}

// closureChanged records that gi's closure changes from old to next and
// marks the projects where an ancestor gained, lost or re-dated is
// present: only their entries for gi change. Below an edge those are the
// edge child's changed ancestors, the same few group records for every
// group re-closed, so the marking stays in cache.
func (b *builder) closureChanged(gi int32, old, next []memb) {
	b.reclosed = append(b.reclosed, gi)
	mergeSorted(old, next, membKey, func(g int32, x, y *memb) {
		if x == nil || y == nil || x.exp != y.exp {
			b.markProjects(g)
		}
	})
}

// flushProjNest recomputes the nested lists of the projects a change
// touched: an edge costs the entries of the groups it re-closed, a
// presence its project's whole list.
func (b *builder) flushProjNest() {
	slices.Sort(b.reclosed)
	reclosed := slices.Compact(b.reclosed)
	for pi, full := range b.projDirty {
		p := b.s.projects.get(pi)
		if p == nil {
			continue
		}
		var n []nestPres
		if full {
			n = b.s.nestedPresence(p)
		} else {
			n = b.s.renest(p, reclosed)
		}
		if !slices.Equal(n, p.nested) {
			b.projectMut(pi).setNested(n)
		}
	}
	b.projDirty, b.reclosed = nil, nil
}

// renest is p's list with the entries of the groups in reclosed (sorted)
// computed again from their closures; p's presences are unchanged.
func (st *state) renest(p *projectRec, reclosed []int32) []nestPres {
	var added []nestPres
	for _, d := range reclosed {
		for _, a := range st.nestOf(d).ancestors() {
			if i, found := findBy(p.groups, a.g, presenceKey); found {
				e := p.groups[i]
				added = append(added, nestPres{d: d, g: e.g, role: e.role, mask: e.mask, exp: a.exp})
			}
		}
	}
	out := make([]nestPres, 0, len(p.nested)+len(added))
	for _, e := range p.nested {
		for len(added) > 0 && added[0].d < e.d {
			out, added = append(out, added[0]), added[1:]
		}
		if _, found := slices.BinarySearch(reclosed, e.d); !found {
			out = append(out, e)
		}
	}
	return append(out, added...)
}

// nestAllProjects computes every project's nested list after a bulk load.
func (b *builder) nestAllProjects() {
	if b.s.nestEdges == 0 {
		return
	}
	for pi := range b.s.projects.n {
		if p := b.s.projects.get(pi); p != nil {
			p.setNested(b.s.nestedPresence(p))
		}
	}
}

// nestedPresence lists the groups nested below p's present groups, sorted
// by (d, g). It costs the size of those groups' subtrees.
func (st *state) nestedPresence(p *projectRec) []nestPres {
	var out []nestPres
	for _, e := range p.groups {
		if n := st.nestOf(e.g); n == nil || len(n.children) == 0 {
			continue
		}
		for _, d := range st.below(e.g)[1:] { // below lists e.g first
			if exp, found := st.nestOf(d).until(e.g); found {
				out = append(out, nestPres{d: d, g: e.g, role: e.role, mask: e.mask, exp: exp})
			}
		}
	}
	slices.SortFunc(out, func(x, y nestPres) int {
		if c := cmp.Compare(x.d, y.d); c != 0 {
			return c
		}
		return cmp.Compare(x.g, y.g)
	})
	return out
}
