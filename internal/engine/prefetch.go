package engine

import "unsafe"

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

// A Prefetcher reads a batch ahead of the check it answers, on the
// state it was made on. Each check is asked for once: its subject and
// resource are kept from the turn its slots are prefetched to the turn
// its lists are. One per batch, used by one goroutine.
type Prefetcher struct {
	st      *state
	pending [slotsAhead - listsAhead]target // checks j whose slots were asked for, at j % len
}

// target is a check as the prefetches read it; ok false for one that
// cannot be asked (it fails on its own when answered).
type target struct {
	s  Subject
	r  Resource
	ok bool
}

// Prefetcher returns a prefetcher for a batch on e's current state.
func (e *Engine) Prefetcher() Prefetcher { return Prefetcher{st: e.cur.Load()} }

// Before makes the prefetches a batch makes before it answers check i
// of n: the lists of check i+listsAhead, the slots of check i+slotsAhead
// (before the first check, the slots of the first slotsAhead). at
// returns check j's subject and resource, false for one that cannot be
// asked; it is called once per check. Nothing is decided or changed:
// the answers are the same with or without it.
func (p *Prefetcher) Before(i, n int, at func(j int) (Subject, Resource, bool)) {
	if i == 0 {
		for j := range min(slotsAhead, n) {
			p.ask(j, at)
		}
	}
	if j := i + listsAhead; j < n {
		if t := &p.pending[j%len(p.pending)]; t.ok {
			p.st.prefetchLists(t.s, t.r)
		}
	}
	if j := i + slotsAhead; j < n {
		p.ask(j, at) // in the place check i+listsAhead's has just left
	}
}

// ask prefetches check j's slots and keeps it for its lists' turn.
func (p *Prefetcher) ask(j int, at func(j int) (Subject, Resource, bool)) {
	s, r, ok := at(j)
	p.pending[j%len(p.pending)] = target{s, r, ok}
	if ok {
		p.st.prefetchSlots(s, r)
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

// prefetch prefetches the slots k's lookup reads first: its home slot
// and the next, which find reads together (most keys are in one of them).
func (s *strIndex[V]) prefetch(k string) {
	if len(k) <= inlineKey {
		s.prefetchHashed(hashOf(k))
	}
}

// prefetchKey is prefetch of k, for a lookup of k to follow: it returns
// k's hash (lookupHashed). An empty key (the anonymous subject) is in no
// slot: it asks for nothing, and its hash is 0.
func (s *strIndex[V]) prefetchKey(k string) uint64 {
	if k == "" {
		return 0
	}
	h := hashOf(k)
	if len(k) <= inlineKey {
		s.prefetchHashed(h)
	}
	return h
}

// prefetchHashed is prefetch of a key whose hash is h, held in a slot.
func (s *strIndex[V]) prefetchHashed(h uint64) {
	t := s.shards[h&(nShards-1)].slots
	if len(t) == 0 {
		return
	}
	p, size := home(h, len(t)), unsafe.Sizeof(t[0])
	if q := next(p, len(t)); q == p+1 {
		prefetchBytes(unsafe.Pointer(&t[p]), 2*size) // side by side: one call
	} else {
		prefetchBytes(unsafe.Pointer(&t[p]), size)
		prefetchBytes(unsafe.Pointer(&t[q]), size)
	}
}
