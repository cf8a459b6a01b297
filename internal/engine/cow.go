package engine

import (
	"encoding/binary"
	"hash/maphash"
	"maps"
	"math/bits"
	"slices"
)

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

func (v *vec[T]) set(gen uint64, i int32, x T) {
	if v.gen != gen {
		v.mids = slices.Clone(v.mids)
		v.gen = gen
	}
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
		if v.gen != gen {
			v.mids = slices.Clone(v.mids)
			v.gen = gen
		}
		v.mids = append(v.mids, &mid[T]{gen: gen})
	}
	m := v.mids[i/midSpan]
	if li := (i >> leafBits) & midMask; m.leaves[li] == nil {
		if m.gen != gen {
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

const (
	shardBits = 10
	nShards   = 1 << shardBits
)

var hashSeed = maphash.MakeSeed()

// shard is one 1,024th of a strIndex. Ids that are canonical UUIDs (what
// Gatehouse generates: 36 characters, lowercase hex) live in an
// open-addressing table keyed by their 16 bytes, each slot holding the
// key and the int inline: a lookup parses the id, hashes 16 bytes once
// (the same hash picks the shard and the slot) and reads usually one
// cache line, where a Go map keyed by the string hashed 36 bytes twice
// and followed a pointer to the key's bytes to compare them. Other ids
// (names, test ids, uppercase UUIDs: the index is exact, so they stay
// distinct from their lowercase form) go to an ordinary map.
type shard struct {
	gen   uint64
	slots []uslot // a power of two long, at most 3/4 full; nil when empty
	n     int
	other map[string]int32
}

type uslot struct {
	k [16]byte
	v int32 // the int + 1; 0 marks an empty slot
}

// strIndex interns external string ids to dense int32s. It is sharded so
// that adding an id copies one small table, not all of them. Ids are never
// removed: a deleted id re-created later gets its old int back.
type strIndex struct {
	shards []*shard
	gen    uint64
}

func newStrIndex(gen uint64) strIndex {
	s := strIndex{shards: make([]*shard, nShards), gen: gen}
	for i := range s.shards {
		s.shards[i] = &shard{gen: gen}
	}
	return s
}

// unhex maps a lowercase hex digit to its value and every other byte to
// 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// uuidPairs are the offsets of the 16 hex pairs of a UUID's text.
var uuidPairs = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// parseUUID parses the canonical lowercase text of a UUID; any other
// string is not one (ok false).
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	var bad byte
	for i, o := range uuidPairs {
		hi, lo := unhex[s[o]], unhex[s[o+1]]
		bad |= hi | lo
		u[i] = hi<<4 | lo
	}
	return u, bad&0xf0 == 0
}

var uuidSeed0, uuidSeed1 = uint64(maphash.Comparable(hashSeed, 0)), uint64(maphash.Comparable(hashSeed, 1))

// hashUUID mixes a UUID's two halves with this process's seeds (a
// 64×64→128-bit multiply, as wyhash does). The top bits pick the shard,
// the low bits the slot.
func hashUUID(u *[16]byte) uint64 {
	hi, lo := bits.Mul64(binary.LittleEndian.Uint64(u[:8])^uuidSeed0, binary.LittleEndian.Uint64(u[8:])^uuidSeed1)
	return hi ^ lo
}

func shardOf(k string) int { return int(maphash.String(hashSeed, k) & (nShards - 1)) }

func (s *strIndex) get(k string) (int32, bool) {
	u, ok := parseUUID(k)
	if !ok {
		i, ok := s.shards[shardOf(k)].other[k]
		return i, ok
	}
	h := hashUUID(&u)
	return s.shards[h>>(64-shardBits)].find(&u, h)
}

// find looks u up by linear probing; a table at most 3/4 full always has
// an empty slot to stop at.
func (sh *shard) find(u *[16]byte, h uint64) (int32, bool) {
	if sh.slots == nil {
		return 0, false
	}
	mask := uint64(len(sh.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &sh.slots[i]
		if sl.v == 0 {
			return 0, false
		}
		if sl.k == *u {
			return sl.v - 1, true
		}
	}
}

// insert sets u to i in a shard this generation owns, growing the table
// to keep it at most 3/4 full.
func (sh *shard) insert(u *[16]byte, h uint64, i int32) {
	if (sh.n+1)*4 > len(sh.slots)*3 {
		old := sh.slots
		sh.slots = make([]uslot, max(8, 2*len(old)))
		sh.n = 0
		for _, sl := range old {
			if sl.v != 0 {
				sh.insert(&sl.k, hashUUID(&sl.k), sl.v-1)
			}
		}
	}
	mask := uint64(len(sh.slots) - 1)
	for j := h & mask; ; j = (j + 1) & mask {
		sl := &sh.slots[j]
		if sl.v == 0 {
			sh.n++
		} else if sl.k != *u {
			continue
		}
		sl.k, sl.v = *u, i+1
		return
	}
}

// mut returns shard si, copied first if this generation does not own it.
func (s *strIndex) mut(gen uint64, si int) *shard {
	if s.gen != gen {
		s.shards = slices.Clone(s.shards)
		s.gen = gen
	}
	sh := s.shards[si]
	if sh.gen != gen {
		sh = &shard{gen: gen, slots: slices.Clone(sh.slots), n: sh.n, other: maps.Clone(sh.other)}
		s.shards[si] = sh
	}
	return sh
}

func (s *strIndex) put(gen uint64, k string, i int32) {
	u, ok := parseUUID(k)
	if !ok {
		sh := s.mut(gen, shardOf(k))
		if sh.other == nil {
			sh.other = map[string]int32{}
		}
		sh.other[k] = i
		return
	}
	h := hashUUID(&u)
	s.mut(gen, int(h>>(64-shardBits))).insert(&u, h, i)
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
