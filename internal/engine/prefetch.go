package engine

import (
	"hash/maphash"
	"unsafe"
)

// A batch's checks are independent, and on a large data set each waits
// for its reads from memory: a folder check for two in a row (the ids'
// slots, then the folder's flat list and, for some users, their
// memberships), a fifth of a microsecond each on the machines measured
// (BenchmarkDependentLoad). A batch that asks for the reads of the
// checks a few places ahead finds them in cache when it answers those,
// so that the waits of several checks overlap (docs/benchmarks.md).

// Distances, in checks, at which a batch prefetches the ids' slots and
// what the slots point at: the slots must have arrived before the
// second stage reads them.
const (
	slotsAhead = 8
	listsAhead = 4
)

// PrefetchAhead makes the prefetches a batch makes before it answers
// check i of n: the slots of check i+slotsAhead, the lists of check
// i+listsAhead. at returns check j's subject and resource, false for one
// that cannot be asked (it will fail on its own). Nothing is decided or
// changed; the answers are the same with or without it.
func (e *Engine) PrefetchAhead(i, n int, at func(j int) (Subject, Resource, bool)) {
	st := e.cur.Load()
	if j := i + slotsAhead; j < n {
		if s, r, ok := at(j); ok {
			st.prefetchSlots(s, r)
		}
	}
	if j := i + listsAhead; j < n {
		if s, r, ok := at(j); ok {
			st.prefetchLists(s, r)
		}
	}
}

// prefetchSlots prefetches the slots of s's and r's ids.
func (st *state) prefetchSlots(s Subject, r Resource) {
	if s.UserID != "" {
		st.userIx.prefetch(s.UserID)
	}
	switch r.Kind {
	case KindFolder:
		st.folderIx.prefetch(r.ID)
	case KindProject:
		st.projectIx.prefetch(r.ID)
	}
}

// prefetchLists reads the slots of s's and r's ids, and prefetches what
// a check reads through them: a folder's flat list, and a user's
// memberships when a check may not find their groups inline (the
// instant it asks about is not known here).
func (st *state) prefetchLists(s Subject, r Resource) {
	if r.Kind == KindFolder {
		if _, fh, found := st.folderIx.lookup(r.ID); found && fh.n > 0 {
			prefetchBytes(unsafe.Pointer(fh.flat0), uintptr(fh.n)*unsafe.Sizeof(fent{}))
		}
	}
	if s.UserID == "" {
		return
	}
	if _, uh, found := st.userIx.lookup(s.UserID); found && !uh.inlineAlways() && uh.nmem > 0 {
		prefetchBytes(unsafe.Pointer(uh.mem), uintptr(uh.nmem)*unsafe.Sizeof(memb{}))
	}
}

// prefetchBytes prefetches every cache line of the n bytes at p: a line
// every 64 bytes from p, and the last byte's, which the steps miss when
// p is not at a line's start.
func prefetchBytes(p unsafe.Pointer, n uintptr) {
	for off := uintptr(0); off < n; off += 64 {
		prefetch(unsafe.Add(p, off))
	}
	if n > 0 {
		prefetch(unsafe.Add(p, n-1))
	}
}

// prefetch prefetches the slot k's lookup reads first: its home slot,
// where most keys are found (a table is at most three quarters full).
func (s *strIndex[V]) prefetch(k string) {
	if len(k) > inlineKey {
		return
	}
	h := maphash.String(hashSeed, k)
	t := s.shards[h&(nShards-1)].slots
	if len(t) == 0 {
		return
	}
	sl := &t[(h>>shardBits)&uint64(len(t)-1)]
	prefetchBytes(unsafe.Pointer(sl), unsafe.Sizeof(*sl))
}
