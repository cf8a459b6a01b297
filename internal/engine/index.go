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
// The index is sharded so that a new id copies one small table, not all
// of them; a published state's shards are never written again.
type strIndex struct {
	shards []*shard
	gen    uint64
}

const (
	shardBits = 10
	nShards   = 1 << shardBits
	inlineKey = 42 // bytes of key a slot holds: the slot is 48 bytes
	minSlots  = 8
)

var hashSeed = maphash.MakeSeed()

// islot is one slot of a shard's table.
type islot struct {
	id1  int32 // the int + 1; 0 marks an empty slot
	klen uint8
	tag  uint8 // 8 more bits of the key's hash, so most mismatches read no key
	key  [inlineKey]byte
}

type shard struct {
	gen   uint64
	slots []islot // a power of two long, at most three quarters full; or nil
	n     int
	long  map[string]int32 // keys longer than inlineKey
}

func newStrIndex(gen uint64) strIndex {
	s := strIndex{shards: make([]*shard, nShards), gen: gen}
	for i := range s.shards {
		s.shards[i] = &shard{gen: gen}
	}
	return s
}

func (s *strIndex) get(k string) (int32, bool) {
	h := maphash.String(hashSeed, k)
	sh := s.shards[h&(nShards-1)]
	if len(k) > inlineKey {
		i, ok := sh.long[k]
		return i, ok
	}
	if sh.slots == nil {
		return 0, false
	}
	mask := uint64(len(sh.slots) - 1)
	tag := uint8(h >> 56)
	for p := (h >> shardBits) & mask; ; p = (p + 1) & mask {
		sl := &sh.slots[p]
		if sl.id1 == 0 {
			return 0, false
		}
		if sl.tag == tag && int(sl.klen) == len(k) && string(sl.key[:len(k)]) == k {
			return sl.id1 - 1, true
		}
	}
}

// mut returns k's shard owned by generation gen, copying it (and the
// shard directory) the first time gen writes them.
func (s *strIndex) mut(gen uint64, h uint64) *shard {
	if s.gen != gen {
		s.shards = slices.Clone(s.shards)
		s.gen = gen
	}
	si := h & (nShards - 1)
	sh := s.shards[si]
	if sh.gen != gen {
		sh = &shard{gen: gen, slots: slices.Clone(sh.slots), n: sh.n, long: maps.Clone(sh.long)}
		s.shards[si] = sh
	}
	return sh
}

func (s *strIndex) put(gen uint64, k string, i int32) {
	h := maphash.String(hashSeed, k)
	sh := s.mut(gen, h)
	if len(k) > inlineKey {
		if sh.long == nil {
			sh.long = map[string]int32{}
		}
		sh.long[k] = i
		return
	}
	if 4*(sh.n+1) > 3*len(sh.slots) {
		sh.grow()
	}
	sh.insert(h, k, i)
}

// insert puts k at its slot, or gives k's slot the int i.
func (sh *shard) insert(h uint64, k string, i int32) {
	mask := uint64(len(sh.slots) - 1)
	tag := uint8(h >> 56)
	for p := (h >> shardBits) & mask; ; p = (p + 1) & mask {
		sl := &sh.slots[p]
		if sl.id1 == 0 {
			*sl = islot{id1: i + 1, klen: uint8(len(k)), tag: tag}
			copy(sl.key[:], k)
			sh.n++
			return
		}
		if sl.tag == tag && int(sl.klen) == len(k) && string(sl.key[:len(k)]) == k {
			sl.id1 = i + 1
			return
		}
	}
}

// grow doubles the table (a shard owned by the writing generation).
func (sh *shard) grow() {
	old := sh.slots
	sh.slots = make([]islot, max(minSlots, 2*len(old)))
	sh.n = 0
	mask := uint64(len(sh.slots) - 1)
	for _, sl := range old {
		if sl.id1 == 0 {
			continue
		}
		p := (maphash.Bytes(hashSeed, sl.key[:sl.klen]) >> shardBits) & mask // as String hashes the same bytes
		for sh.slots[p].id1 != 0 {
			p = (p + 1) & mask
		}
		sh.slots[p] = sl
		sh.n++
	}
}
