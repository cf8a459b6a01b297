package engine

import (
	"math"
	"time"
)

// The nesting tree of a group for the console's Nested groups tab (issue
// 20): its ancestors or its descendants as the closure's direct edges
// hold them, read here so that no caller computes reachability itself.

// NestNode is one group in a nesting tree. Links are the groups linked to
// it one step further from the tree's root: going up, the groups it is a
// member of; going down, its member groups.
type NestNode struct {
	GroupID string
	Name    string
	// Until is when the membership linking this group to the node above
	// it in the tree ends; zero when it does not end (and for the root).
	Until time.Time
	Links []*NestNode
	// More counts the links of this group not listed in Links: the tree
	// stops at its depth or at its number of groups.
	More int
}

// NestingTree returns groupID's ancestors (up) or descendants (down) as a
// tree rooted at groupID, through the memberships that count at now.
// It is filled breadth first, depth levels below the root and at most
// budget groups in all; what does not fit is counted in More. A group
// reached by two paths appears under each. Unknown groups give nil.
func (e *Engine) NestingTree(groupID string, up bool, now time.Time, depth, budget int) *NestNode {
	st := e.cur.Load()
	gi, ok := st.groupIx.get(groupID)
	if !ok || st.groups.get(gi) == nil {
		return nil
	}
	root := &NestNode{GroupID: groupID, Name: st.groups.get(gi).name}
	type item struct {
		n     *NestNode
		g     int32
		level int
	}
	n := nanos(now)
	queue := []item{{root, gi, 0}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		for _, m := range st.nestLinks(it.g, up) {
			g := st.groups.get(m.g)
			if n >= m.exp || g == nil {
				continue
			}
			if it.level >= depth || budget <= 0 {
				it.n.More++
				continue
			}
			budget--
			child := &NestNode{GroupID: g.id, Name: g.name}
			if m.exp != math.MaxInt64 {
				child.Until = time.Unix(0, m.exp).UTC()
			}
			it.n.Links = append(it.n.Links, child)
			queue = append(queue, item{child, m.g, it.level + 1})
		}
	}
	return root
}

// nestLinks returns gi's direct parents (up) or children, sorted by group.
func (st *state) nestLinks(gi int32, up bool) []memb {
	nr := st.nestOf(gi)
	switch {
	case nr == nil:
		return nil
	case up:
		return nr.parents
	default:
		return nr.children
	}
}
