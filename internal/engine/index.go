package engine

import (
	"hash/maphash"
	"maps"
	"slices"
)

// strIndex interns external string ids to dense int32s. A check looks up
// two of them, a user's and a resource's, drawn from the whole data set,
// so the lookup is built to touch one place in memory: the key is kept
// in the slot beside its int (a Go map keeps a pointer to the key's
// bytes, a second cache miss), found by one hash and linear probing.
// Keys longer than a slot holds (ids are UUIDs, 36 bytes) go to a map.
//
// A slot also holds a value of type V beside its int: for users and
// folders, what a check reads of them (userHot, folderHot), so that the
// slot the lookup finds is the record, and a check reads a subject and a
// resource with one dependent miss each instead of three (the slot, the
// vec's leaf, the record). The builder writes the value whenever what it
// copies changes (syncUsers, setHot). Other kinds hold no value.
//
// The index is sharded so that a new id, or a new value, copies one
// small table, not all of them; a published state's shards are never
// written again. The shards' headers are held in the directory itself,
// not behind a pointer each: a lookup reads the directory's entry, then
// the slot. In a server, whose caches the network stack churns between
// two checks, the header behind a pointer was a miss of its own: the
// prefetch of the user's slots, which only computes their address, cost
// as much as the folder's whole lookup (perf under httpbench -floor;
// docs/benchmarks.md, twelfth session). A generation that writes copies
// the directory, 48 KB, once. The price of the values is paid by
// writes: a change copies the shard of every user and folder whose value
// it changes, and a level at a root changes the flat list of a seventh
// of the folders, so it copies most folder shards (docs/benchmarks.md).
type strIndex[V any] struct {
	shards []shard[V]
	gen    uint64
}

// noVal is the value of an index whose slots hold none.
type noVal struct{}

const (
	shardBits = 10
	nShards   = 1 << shardBits
	inlineKey = 42 // bytes of key a slot holds: 48 bytes before its value
	minSlots  = 8
)

var hashSeed = maphash.MakeSeed()

// islot is one slot of a shard's table.
type islot[V any] struct {
	id1  int32 // the int + 1; 0 marks an empty slot
	klen uint8
	tag  uint8 // 8 more bits of the key's hash, so most mismatches read no key
	key  [inlineKey]byte
	val  V
}

// longEnt is a long key's int and value. A shard copied by a new
// generation shares its predecessor's entries: setVal replaces one, never
// writes it.
type longEnt[V any] struct {
	i   int32
	val V
}

type shard[V any] struct {
	gen   uint64
	slots []islot[V] // at most three quarters full; or nil
	n     int
	long  map[string]*longEnt[V] // keys longer than inlineKey
}

func newStrIndex[V any](gen uint64) strIndex[V] {
	s := strIndex[V]{shards: make([]shard[V], nShards), gen: gen}
	for i := range s.shards {
		s.shards[i].gen = gen
	}
	return s
}

func (s *strIndex[V]) get(k string) (int32, bool) {
	i, _, ok := s.lookup(k)
	return i, ok
}

// lookup is k's int and value. The value is the published state's: it
// is never written again, so the pointer may be kept as long as the state.
func (s *strIndex[V]) lookup(k string) (int32, *V, bool) {
	return s.lookupHashed(k, hashOf(k))
}

// hashOf is k's hash in every index.
func hashOf(k string) uint64 { return maphash.String(hashSeed, k) }

// lookupHashed is lookup of k, whose hash h (hashOf) the caller made.
func (s *strIndex[V]) lookupHashed(k string, h uint64) (int32, *V, bool) {
	sh := &s.shards[h&(nShards-1)]
	if len(k) > inlineKey {
		if e := sh.long[k]; e != nil {
			return e.i, &e.val, true
		}
		return 0, nil, false
	}
	t := sh.slots
	if p := find(t, h, k); p >= 0 {
		sl := &t[p]
		return sl.id1 - 1, &sl.val, true
	}
	return 0, nil, false
}

// mut returns k's shard owned by generation gen, copying it (and the
// shard directory) the first time gen writes them. The shard is gen's
// entry of gen's own directory: it stays valid until gen is published.
func (s *strIndex[V]) mut(gen uint64, h uint64) *shard[V] {
	if s.gen != gen {
		s.shards = slices.Clone(s.shards)
		s.gen = gen
	}
	sh := &s.shards[h&(nShards-1)]
	if sh.gen != gen {
		*sh = shard[V]{gen: gen, slots: slices.Clone(sh.slots), n: sh.n, long: maps.Clone(sh.long)}
	}
	return sh
}

// put gives k the int i, keeping its value if k had one.
func (s *strIndex[V]) put(gen uint64, k string, i int32) {
	h := hashOf(k)
	sh := s.mut(gen, h)
	if len(k) > inlineKey {
		e := &longEnt[V]{i: i}
		if old := sh.long[k]; old != nil {
			e.val = old.val
		}
		if sh.long == nil {
			sh.long = map[string]*longEnt[V]{}
		}
		sh.long[k] = e
		return
	}
	if p := find(sh.slots, h, k); p >= 0 {
		sh.slots[p].id1 = i + 1
		return
	}
	if 4*(sh.n+1) > 3*len(sh.slots) {
		sh.grow()
	}
	sh.insert(h, k, i)
}

// setVal gives k, which must have been put, the value v.
func (s *strIndex[V]) setVal(gen uint64, k string, v V) {
	h := hashOf(k)
	sh := s.mut(gen, h)
	if len(k) > inlineKey {
		sh.long[k] = &longEnt[V]{i: sh.long[k].i, val: v}
		return
	}
	sh.slots[find(sh.slots, h, k)].val = v
}

// find is the slot of k, whose hash is h, in its shard's table t, or -1.
// A table is up to three quarters full, so a key is often one slot past
// its home: the tags of both are read before either is compared, so that
// the CPU asks memory for the two slots at once rather than for the
// second only once it has seen the first's (a branch on the first's tag
// cannot be predicted).
func find[V any](t []islot[V], h uint64, k string) int {
	if t == nil {
		return -1
	}
	tag := uint8(h >> 56)
	p := home(h, len(t))
	q := next(p, len(t))
	a, b := &t[p], &t[q]
	ta, tb := a.tag, b.tag
	if ta == tag && a.id1 != 0 && slotHolds(a, k) {
		return p
	}
	if a.id1 == 0 {
		return -1
	}
	if tb == tag && b.id1 != 0 && slotHolds(b, k) {
		return q
	}
	if b.id1 == 0 {
		return -1
	}
	for p = next(q, len(t)); ; p = next(p, len(t)) {
		sl := &t[p]
		if sl.id1 == 0 {
			return -1
		}
		if sl.tag == tag && slotHolds(sl, k) {
			return p
		}
	}
}

// slotHolds reports whether sl's key is k.
func slotHolds[V any](sl *islot[V], k string) bool {
	return int(sl.klen) == len(k) && string(sl.key[:len(k)]) == k
}

// home is the slot at which the key of hash h is looked for first in a
// table of n slots: 32 bits of the hash above the shard's, scaled to n
// (Lemire's multiply-shift), so that a table need not be a power of two
// long and can grow by half instead of doubling (grow). The tag is the
// hash's top 8 bits, which this does not use.
func home(h uint64, n int) int {
	return int((h >> shardBits & 0xFFFFFFFF) * uint64(n) >> 32)
}

// next is the slot after p in a table of n slots.
func next(p, n int) int {
	if p++; p == n {
		return 0
	}
	return p
}

// insert puts the new key k, with int i, at its empty slot.
func (sh *shard[V]) insert(h uint64, k string, i int32) {
	p := home(h, len(sh.slots))
	for sh.slots[p].id1 != 0 {
		p = next(p, len(sh.slots))
	}
	sl := &sh.slots[p]
	*sl = islot[V]{id1: i + 1, klen: uint8(len(k)), tag: uint8(h >> 56)}
	copy(sl.key[:], k)
	sh.n++
}

// grow makes the table half as long again (a shard owned by the writing
// generation). By half, not double: user and folder slots are 128 bytes,
// and tables that double at three quarters full are between three eighths
// and three quarters full (the large data set's ~98 keys a shard left
// most of them 38 % full, 256 slots). Fuller tables put more keys one
// slot or more past their home: measured in one process against
// doubling, whole checks took the same time, random ids' lookups alone
// 20–60 ns more at the median; the large data set's user and folder
// indexes take 25 MB less, which the replica's memory goal needs
// (docs/benchmarks.md).
func (sh *shard[V]) grow() {
	old := sh.slots
	sh.slots = make([]islot[V], max(minSlots, len(old)+len(old)/2))
	sh.n = 0
	for _, sl := range old {
		if sl.id1 == 0 {
			continue
		}
		p := home(maphash.Bytes(hashSeed, sl.key[:sl.klen]), len(sh.slots)) // as String hashes the same bytes
		for sh.slots[p].id1 != 0 {
			p = next(p, len(sh.slots))
		}
		sh.slots[p] = sl
		sh.n++
	}
}
