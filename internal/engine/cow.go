package engine

import "slices"

// The index is a set of persistent structures. A published state is never
// written again; Apply works on a shallow copy and copies a chunk, a shard
// or a record only the first time it touches it in that Apply. The "gen"
// tags say which Apply owns (and may therefore mutate in place) a piece.

const (
	leafBits = 6
	leafSize = 1 << leafBits
	leafMask = leafSize - 1
	midBits  = 6
	midSize  = 1 << midBits
	midMask  = midSize - 1
	midSpan  = leafSize * midSize // ids under one mid node
)

type leaf[T any] struct {
	gen   uint64
	items [leafSize]T
}

type mid[T any] struct {
	gen    uint64
	leaves [midSize]*leaf[T]
}

// vec is a persistent dense array indexed by interned int32 ids: a
// two-level radix tree of 64-way nodes under a directory of one pointer
// per 4,096 ids. Reading costs three indexings; the first write in a new
// generation copies the directory, one mid node (64 pointers) and one
// leaf (64 items). Small nodes matter: writes of one change land on ids
// scattered over the whole range (a moved subtree, a group's members).
type vec[T any] struct {
	mids []*mid[T]
	n    int32
	gen  uint64
}

func (v *vec[T]) get(i int32) T {
	if i < 0 || i >= v.n {
		var zero T
		return zero
	}
	return v.mids[i>>(leafBits+midBits)].leaves[(i>>leafBits)&midMask].items[i&leafMask]
}

// ownDir copies the directory the first time generation gen writes it:
// until then it is shared with the published state, whose readers read it.
func (v *vec[T]) ownDir(gen uint64) {
	if v.gen != gen {
		v.mids = slices.Clone(v.mids)
		v.gen = gen
	}
}

func (v *vec[T]) set(gen uint64, i int32, x T) {
	v.ownDir(gen)
	mi := i >> (leafBits + midBits)
	m := v.mids[mi]
	if m.gen != gen {
		nm := new(mid[T])
		*nm = *m
		nm.gen = gen
		v.mids[mi] = nm
		m = nm
	}
	li := (i >> leafBits) & midMask
	l := m.leaves[li]
	if l.gen != gen {
		nl := new(leaf[T])
		*nl = *l
		nl.gen = gen
		m.leaves[li] = nl
		l = nl
	}
	l.items[i&leafMask] = x
}

func (v *vec[T]) push(gen uint64, x T) int32 {
	i := v.n
	if int(i/midSpan) == len(v.mids) {
		v.ownDir(gen)
		v.mids = append(v.mids, &mid[T]{gen: gen})
	}
	m := v.mids[i/midSpan]
	if li := (i >> leafBits) & midMask; m.leaves[li] == nil {
		if m.gen != gen {
			v.ownDir(gen) // the copied mid replaces the shared one in the directory
			nm := new(mid[T])
			*nm = *m
			nm.gen = gen
			v.mids[i/midSpan] = nm
			m = nm
		}
		m.leaves[li] = &leaf[T]{gen: gen}
	}
	v.n++
	v.set(gen, i, x)
	return i
}

// Sorted int32 set helpers: small sorted slices are the per-record
// adjacency lists (a user's groups, a group's members, ...).

func insertSorted(s []int32, x int32) []int32 {
	i, found := slices.BinarySearch(s, x)
	if found {
		return s
	}
	return slices.Insert(s, i, x)
}

func removeSorted(s []int32, x int32) []int32 {
	i, found := slices.BinarySearch(s, x)
	if !found {
		return s
	}
	return slices.Delete(s, i, i+1)
}

func containsSorted(s []int32, x int32) bool {
	_, found := slices.BinarySearch(s, x)
	return found
}

// groupBits is a set of group ints as bits: a few kilobytes that stay in
// cache, read by checks for every group of the subject instead of a
// record. A published state's bitset is never written: a builder copies
// it the first time it flips a bit.
type groupBits []uint64

func (g groupBits) has(gi int32) bool {
	w := int(gi >> 6)
	return w < len(g) && g[w]&(1<<(gi&63)) != 0
}

// set gives gi's bit the value on, copying the bitset first unless
// *owned says this builder already has.
func (g *groupBits) set(gi int32, on bool, owned *bool) {
	if on == g.has(gi) {
		return
	}
	if !*owned {
		*g = slices.Clone(*g)
		*owned = true
	}
	for int(gi>>6) >= len(*g) {
		*g = append(*g, 0)
	}
	(*g)[gi>>6] ^= 1 << (gi & 63)
}
