package service

import (
	"context"
	"slices"
	"sync"
	"time"
	"weak"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// The sorted effective-member lists of the groups shown last (issue 20):
// the Nested groups tab and REST's ?effective=true page through a list of
// up to 100,000 members that the engine takes hundreds of milliseconds to
// make and sort. A list is kept under the engine and the revision that
// made it, so a write (a new revision) is a new key and nothing needs
// invalidating; and only until its StableUntil, the earliest expiry among
// the memberships that make its users members, so a list never shows a
// membership that has expired since (R6). The lists hold engine answers
// only (ids, usernames, paths): what a caller may see of the users is
// read and masked per page.

// effCacheLists and effCacheRows bound the lists kept and their rows in
// all (about 100 bytes a row, more with paths).
const (
	effCacheLists = 8
	effCacheRows  = 1_000_000
)

type effCache struct {
	mu    sync.Mutex
	lists []*effList // least recently used first
}

// effList is one group's effective members at one revision, sorted
// ascending in one order; shared by the requests that find it, so never
// changed.
type effList struct {
	// eng is weak: a kept list must not keep an engine the follower has
	// replaced alive.
	eng    weak.Pointer[engine.Engine]
	rev    int64
	group  string
	byPath bool // with paths, sorted by their length
	// The list holds for instants in [from, until); until zero: for ever.
	from, until time.Time
	ms          []engine.EffectiveMember
}

func (l *effList) holds(eng weak.Pointer[engine.Engine], rev int64, group string, byPath bool, now time.Time) bool {
	return l.eng == eng && l.rev == rev && l.group == group && l.byPath == byPath &&
		!now.Before(l.from) && (l.until.IsZero() || now.Before(l.until))
}

// get returns the kept list that holds, and marks it used.
func (c *effCache) get(eng weak.Pointer[engine.Engine], rev int64, group string, byPath bool, now time.Time) []engine.EffectiveMember {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, l := range c.lists {
		if l.holds(eng, rev, group, byPath, now) {
			c.lists = append(slices.Delete(c.lists, i, i+1), l)
			return l.ms
		}
	}
	return nil
}

// put keeps l, replacing the group's older lists of the same kind and
// the lists of other engines (the follower's engine before a reload),
// and dropping the least recently used beyond the bounds.
func (c *effCache) put(l *effList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lists = slices.DeleteFunc(c.lists, func(o *effList) bool {
		return o.eng != l.eng || (o.group == l.group && o.byPath == l.byPath && o.rev <= l.rev)
	})
	c.lists = append(c.lists, l)
	rows := 0
	for _, o := range c.lists {
		rows += len(o.ms)
	}
	for len(c.lists) > 1 && (len(c.lists) > effCacheLists || rows > effCacheRows) {
		rows -= len(c.lists[0].ms)
		c.lists = slices.Delete(c.lists, 0, 1)
	}
}

// sortedEffective authorizes a list of a group's effective members (what
// ListMembers needs) and returns them sorted ascending by order, with
// their paths when byPath, from the cache when a list there holds at the
// engine's revision and the caller's instant. The slice is shared: the
// caller copies what it changes.
func (s *Service) sortedEffective(ctx context.Context, c Caller, op, groupID string, byPath bool, order func(a, b effKey) int) (*perms, []engine.EffectiveMember, error) {
	p, err := s.mayListEffective(ctx, c, op, groupID)
	if err != nil {
		return nil, nil, err
	}
	eng := weak.Make(p.eng)
	if ms := s.eff.get(eng, p.eng.Revision(), groupID, byPath, p.now); ms != nil {
		return p, ms, nil
	}
	l, err := p.eng.EffectiveMemberList(groupID, p.now, byPath)
	if err != nil {
		return nil, nil, domain.E(op, err)
	}
	slices.SortFunc(l.Members, func(a, b engine.EffectiveMember) int { return order(keyOf(&a), keyOf(&b)) })
	s.eff.put(&effList{eng: eng, rev: l.Revision, group: groupID, byPath: byPath, from: p.now, until: l.StableUntil, ms: l.Members})
	return p, l.Members, nil
}
