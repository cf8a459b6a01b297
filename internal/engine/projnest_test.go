package engine

import (
	"math"
	"slices"
	"testing"
)

// findPresence is a binary search the check path reaches only for the
// groups the project's bloom lets through, so a group past the list's
// end (a bloom's false positive) must be answered too.
func TestR14_FindPresenceFindsEveryGroupAndNoOther(t *testing.T) {
	for n := range 6 {
		var ps []presence
		for i := range n {
			ps = append(ps, presence{g: int32(10 * (i + 1)), role: int32(i)})
		}
		for g := int32(0); g <= int32(10*n+10); g++ {
			e := findPresence(ps, g)
			want := g%10 == 0 && g >= 10 && g <= int32(10*n)
			if (e != nil) != want || (e != nil && e.g != g) {
				t.Errorf("%d presences, group %d: found %v; want found %v", n, g, e, want)
			}
		}
	}
}

// present answers from the bloom and the search what a merge of both
// sorted lists gives, and reports a possible nested entry for every
// group of the nested list's bloom.
func TestR14_PresentIsTheMergeOfBothLists(t *testing.T) {
	st := &state{}
	p := &projectRec{}
	for _, g := range []int32{gPublic, 7, 263, 300, 519} { // 263 and 519 share 7's bit
		p.putPresent(presence{g: g, role: none, mask: uint8(1 << (g % 7))}, false)
	}
	p.setNested([]nestPres{{d: 44, g: 7, role: none}})
	for _, c := range []struct {
		groups  []int32
		want    projGrants
		mayNest bool
	}{
		{nil, projGrants{}, false},
		{[]int32{gEveryone}, projGrants{}, false},
		{[]int32{gEveryone, gPublic}, projGrants{builtin: 1 << (gPublic % 7)}, false},
		{[]int32{8, 264, 520, 1000}, projGrants{}, false},
		{[]int32{7}, projGrants{grouped: 1, inGroup: true}, false},
		{[]int32{263, 519}, projGrants{grouped: 1<<(263%7) | 1<<(519%7), inGroup: true}, false},
		{[]int32{44, 300}, projGrants{grouped: 1 << (300 % 7), inGroup: true}, true},
		{[]int32{300 + 256}, projGrants{}, true}, // 556 shares 44's bit and 300's
	} {
		got, mayNest := st.present(c.groups, p)
		if got != c.want || mayNest != c.mayNest {
			t.Errorf("present(%v) = %+v, %v; want %+v, %v", c.groups, got, mayNest, c.want, c.mayNest)
		}
	}
	p.removePresent(7)
	if got, _ := st.present([]int32{7, 263}, p); got != (projGrants{grouped: 1 << (263 % 7), inGroup: true}) {
		t.Errorf("after 7's removal: %+v; want 263's alone", got)
	}
	if p.presBloom != presBloomOf(p.groups) {
		t.Errorf("after a removal: bloom %x; the list gives %x", p.presBloom, presBloomOf(p.groups))
	}
}

// directGroupsOf unpacks the inline groups into the caller's buffer when
// it has room for all that may be held, and reads the memberships when
// it has not: every capacity gives the same groups.
func TestR6_DirectGroupsOfAnyBuffer(t *testing.T) {
	var u userRec
	u.active, u.live = true, true
	var ms []memb
	for g := int32(3); len(ms) < maxInline; g += 5 {
		ms = append(ms, memb{g: g, exp: math.MaxInt64})
	}
	u.setGroups(ms)
	st := &state{}
	w := userWho(&u, 0)
	want := st.directGroupsOf(w, make([]int32, 0, maxGroupsOnStack))
	if len(want) != 2+maxInline {
		t.Fatalf("directGroupsOf = %v; want Everyone, Public and %d groups", want, maxInline)
	}
	for c := range 2 + maxInline + 2 {
		if got := st.directGroupsOf(w, make([]int32, 0, c)); !slices.Equal(got, want) {
			t.Errorf("buffer of %d: %v; want %v", c, got, want)
		}
	}
}
