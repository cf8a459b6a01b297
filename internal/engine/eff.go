package engine

import (
	"cmp"
	"slices"
	"unsafe"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// A folder check must not read eight ancestors' records: on a large tree
// every hop is a cache miss, and so is every list it reads there. So each
// folder's hot slot says where its grants are: anc, the nearest
// ancestor-or-self that has level entries or rule matches of its own, and
// flat, the entries that count on anc (so on the folder): anc's own and
// those of every ancestor with entries, merged into one list sorted by
// group: for each group its nearest level entry (which decides, R15) and
// every rule matching anc or an ancestor (R16). A folder with entries of
// its own makes its list; the folders it is the anc of share it. A check
// reads the folder's slot and that list, two dependent reads however deep
// the folder, and merges the list with the subject's sorted groups.
//
// The price is paid by writes: a change to a folder's entries, or a move,
// computes the list again for the folders with entries below it, top
// down, each from its next (the anc of its parent) and its own entries,
// and rewrites the slots that share them; the walk stops below a folder
// whose slot came out the same. BenchmarkApplyFolderLevelAtRoot measures
// the worst case (docs/benchmarks.md).

// fent is one entry of a flat list: group g, and in v a rule's int (v ≥ 0)
// or the group's nearest level l as -1-l (v < 0), so that a group's level
// sorts before its rules.
type fent struct {
	g int32
	v int32
}

func levelEnt(g int32, l domain.Level) fent { return fent{g: g, v: -1 - int32(l)} }

func (e fent) level() (domain.Level, bool) { return domain.Level(-1 - e.v), e.v < 0 }

func fentCmp(a, b fent) int {
	if a.g != b.g {
		return cmp.Compare(a.g, b.g)
	}
	return cmp.Compare(a.v, b.v)
}

// fhot is what a check reads of a folder, kept by value in its own vec.
type fhot struct {
	flat []fent // anc's flat list (see above), shared by the folders it is the anc of
	anc  int32  // nearest ancestor-or-self with entries, or none
	next int32  // for a folder with entries: anc of its parent
	typ1 int32  // the folder's type + 1; 0 for no folder
	own  bool   // the folder has level entries or rule matches of its own
}

func (h *fhot) typ() int32 { return h.typ1 - 1 }

// folderHot is the value of a folder's slot in folderIx (index.go): what
// a check reads of it, its flat list and type, so that the lookup of its
// id reads them, and a filter of the groups the list names, so that most
// checks need not read the list at all (groupFilter). The list is kept as
// a pointer and a length so that a slot is two cache lines (128 bytes);
// the pointer keeps the list alive.
type folderHot struct {
	flat0  *fent // flat[0]; nil for an empty list
	n      int32 // len(flat)
	typ1   int32 // as fhot's
	groups groupFilter
}

func (h *fhot) val() folderHot {
	v := folderHot{n: int32(len(h.flat)), typ1: h.typ1}
	if len(h.flat) > 0 {
		v.flat0 = &h.flat[0]
	}
	v.groups = filterOf(h.flat)
	return v
}

// groupFilter is a Bloom filter of the groups a folder's flat list
// names. The list is a second dependent read from memory after the
// folder's slot, and on a large data set most subjects have none of
// their groups in it (a random folder check is denied nineteen times in
// twenty): a subject none of whose groups may be in the filter holds
// nothing on the folder, and the check answers from the slot alone. A
// group in the list is always in the filter; a group not in it is in the
// filter by chance about once in a hundred on the large data set's lists
// (~43 groups), and its check then reads the list as before
// (docs/benchmarks.md). Blocked (a group's four bits all in one word),
// because the test is then one load a group: six bits across the words
// missed a third fewer groups but cost a check 30 ns more.
type groupFilter [8]uint64

// filterBits is g's word in a groupFilter and its four bits there,
// from one Fibonacci hash (the groups' ints are dense) of g + 1, so that
// group 0 does not hash to 0: the word from the product's top 3 bits,
// each bit from 6 of the next.
func filterBits(g int32) (int, uint64) {
	h := (uint64(uint32(g)) + 1) * 0x9E3779B97F4A7C15
	return int(h >> 61), 1<<(h>>55&63) | 1<<(h>>49&63) | 1<<(h>>43&63) | 1<<(h>>37&63)
}

// filterOf is the filter of the groups flat names.
func filterOf(flat []fent) groupFilter {
	var f groupFilter
	for _, e := range flat {
		f.add(e.g)
	}
	return f
}

func (f *groupFilter) add(g int32) {
	w, m := filterBits(g)
	f[w] |= m
}

// mayHold reports whether g may be in f; false means it is not.
func (f *groupFilter) mayHold(g int32) bool {
	w, m := filterBits(g)
	return f[w&7]&m == m
}

// mayHoldAny reports whether some group of groups may be in f; false
// means none is.
func (f *groupFilter) mayHoldAny(groups []int32) bool {
	for _, g := range groups {
		if f.mayHold(g) {
			return true
		}
	}
	return false
}

func (v *folderHot) flat() []fent { return unsafe.Slice(v.flat0, v.n) }
func (v *folderHot) live() bool   { return v.typ1 != 0 }
func (v *folderHot) typ() int32   { return v.typ1 - 1 }

// setHot sets folder x's slot, and the value of its id's slot in folderIx.
func (b *builder) setHot(x int32, id string, h fhot) {
	b.s.hot.set(b.gen, x, h)
	b.s.folderIx.setVal(b.gen, id, h.val())
}

func hasOwn(f *folderRec) bool { return len(f.levels) > 0 || len(f.rules) > 0 }

// hotOf is the slot of folder x (record f) whose parent's children see
// seen as their anc: x's own entries merged over seen's flat list.
func (st *state) hotOf(f *folderRec, x, seen int32) fhot {
	var inherited []fent
	if seen != none {
		inherited = st.hot.get(seen).flat
	}
	return hotFrom(f, x, seen, inherited)
}

// hotFrom is hotOf with seen's flat list given.
func hotFrom(f *folderRec, x, seen int32, inherited []fent) fhot {
	h := fhot{anc: seen, next: none, typ1: f.typ + 1}
	if !hasOwn(f) {
		h.flat = inherited // shared, so that a check reads no other slot
		return h
	}
	h.anc, h.next, h.own = x, seen, true
	own := make([]fent, 0, len(f.levels)+len(f.rules))
	for _, l := range f.levels {
		own = append(own, levelEnt(l.g, l.l))
	}
	for _, r := range f.rules {
		own = append(own, fent{g: r.g, v: r.r})
	}
	slices.SortFunc(own, fentCmp)
	h.flat = mergeFlat(own, inherited, f.levels)
	return h
}

// mergeFlat merges a folder's own entries (sorted) with the flat list it
// inherits, leaving out an inherited level of a group the folder has a
// level entry for (levels) and a rule the folder matches itself too.
func mergeFlat(own, inherited []fent, levels []lvl) []fent {
	out := make([]fent, 0, len(own)+len(inherited))
	i := 0
	for _, e := range inherited {
		if _, isLevel := e.level(); isLevel && hasLevel(levels, e.g) {
			continue // the folder's own entry is nearer
		}
		for i < len(own) && fentCmp(own[i], e) < 0 {
			out = append(out, own[i])
			i++
		}
		if i < len(own) && own[i] == e {
			continue // appended below with own
		}
		out = append(out, e)
	}
	return append(out, own[i:]...)
}

func hasLevel(ls []lvl, g int32) bool {
	_, found := slices.BinarySearchFunc(ls, g, func(l lvl, g int32) int { return cmp.Compare(l.g, g) })
	return found
}

func (b *builder) touch(fi int32) {
	if b.bulk {
		return // New computes every folder once at the end
	}
	if b.dirty == nil {
		b.dirty = map[int32]bool{}
	}
	b.dirty[fi] = true
}

func (st *state) depth(fi int32) int {
	d := 0
	for x := st.folders.get(fi).parent; x != none; x = st.folders.get(x).parent {
		d++
	}
	return d
}

// flushEff fixes the slots of the folders a change touched, shallowest
// first, so that each fix reads an up-to-date parent.
func (b *builder) flushEff() {
	type dirty struct {
		fi    int32
		depth int
	}
	var ds []dirty
	for fi := range b.dirty {
		if b.s.folders.get(fi) != nil {
			ds = append(ds, dirty{fi, b.s.depth(fi)})
		}
	}
	slices.SortFunc(ds, func(a, b dirty) int { return a.depth - b.depth })
	fixed := map[int32]bool{}
	for _, d := range ds {
		if !fixed[d.fi] { // else a fix above rewrote it from its record
			b.fix(d.fi, false, fixed)
		}
	}
	b.dirty = nil
}

func (b *builder) recomputeAll() {
	for fi := range b.s.folders.n {
		if f := b.s.folders.get(fi); f != nil && f.parent == none {
			b.fix(fi, true, nil)
		}
	}
}

// fix rewrites x's slot from its record and its parent's slot, then the
// slots below that depend on it: the anc of descendants without entries,
// the next and flat of those with. Below a folder whose slot came out as
// it was, nothing changes and the walk stops; all (New) visits every
// descendant. fixed collects the folders rewritten from their records.
func (b *builder) fix(x int32, all bool, fixed map[int32]bool) {
	f := b.s.folders.get(x)
	pAnc := none
	if f.parent != none {
		pAnc = b.s.hot.get(f.parent).anc
	}
	h := b.s.hotOf(f, x, pAnc)
	b.setHot(x, f.id, h)
	if fixed != nil {
		fixed[x] = true
	}
	type item struct {
		x, seen int32
		changed bool // seen's flat, or seen itself, is not what it was
	}
	stack := []item{}
	for _, c := range f.children {
		stack = append(stack, item{c, h.anc, true})
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !all && !it.changed {
			// seen and its list are what they were, so this slot and
			// those below are; its own entries, if they changed, are
			// fixed on their own (flushEff).
			continue
		}
		c := b.s.folders.get(it.x)
		old := b.s.hot.get(it.x)
		h := b.s.hotOf(c, it.x, it.seen)
		b.setHot(it.x, c.id, h)
		if fixed != nil {
			fixed[it.x] = true
		}
		changed := true // a folder without entries passes its seen's new list on
		if h.own && !all {
			changed = !old.own || !slices.Equal(old.flat, h.flat)
		}
		for _, cc := range c.children {
			stack = append(stack, item{cc, h.anc, changed})
		}
	}
}
