package engine

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// EffectiveMemberList is a group's effective members at an instant as one
// state of the engine answers them, with what a caller needs to keep the
// answer: the state's revision and the instant until which it holds.
type EffectiveMemberList struct {
	Members  []EffectiveMember // sorted by user id, as EffectiveMembers
	Revision int64
	// StableUntil is the earliest instant after the list's at which a
	// membership that makes or made a user a member of the group (a
	// user's in the group or in a group below it, or a group's in one
	// of those) expires: at the same revision the list, its paths and
	// its Until stay the same from the list's instant until then (R6).
	// Zero when none of them expires.
	StableUntil time.Time
}

// EffectiveMemberList is EffectiveMembers (paths true) or
// EffectiveMembersNoPaths with the revision and the instant it holds
// until, all read from one state: a list cached under its revision is
// then never mixed with another state's.
func (e *Engine) EffectiveMemberList(groupID string, now time.Time, paths bool) (EffectiveMemberList, error) {
	st := e.cur.Load()
	ms, err := st.effectiveMembers(groupID, now, paths)
	if err != nil {
		return EffectiveMemberList{}, err
	}
	out := EffectiveMemberList{Members: ms, Revision: st.rev}
	gi, _ := st.groupIx.get(groupID)
	if next := st.nextExpiryBelow(gi, nanos(now)); next != math.MaxInt64 {
		out.StableUntil = time.Unix(0, next).UTC()
	}
	return out, nil
}

// nextExpiryBelow is the earliest expiry after n of the memberships that
// can make a user a member of gi: the users' in gi and in the groups
// below it, and those groups' in each other. A path's choice (chainUp)
// and a member's Until depend on these alone; math.MaxInt64 when none
// expires.
func (st *state) nextExpiryBelow(gi int32, n int64) int64 {
	next := int64(math.MaxInt64)
	note := func(exp int64) {
		if exp > n {
			next = min(next, exp)
		}
	}
	for _, d := range st.descendants(gi) {
		if nr := st.nestOf(d); nr != nil {
			for _, c := range nr.children {
				note(c.exp)
			}
		}
		g := st.groups.get(d)
		if g == nil {
			continue
		}
		for _, ui := range g.members {
			u := st.users.get(ui)
			if u == nil {
				continue
			}
			if i, found := slices.BinarySearchFunc(u.groups, d, func(m memb, g int32) int { return cmp.Compare(m.g, g) }); found {
				note(u.groups[i].exp)
			}
		}
	}
	return next
}
