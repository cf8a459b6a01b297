package engine

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// A user record holds the groups of its never-expiring memberships
// inline, as many as fit, and says from which instant they are all that
// count: after the last expiring membership has expired (R6); and, when
// at most 16 fit, all its groups until the first expiry.
func TestR6_UserRecordHoldsNeverExpiringGroupsInline(t *testing.T) {
	never := func(gs ...int32) []memb {
		var ms []memb
		for _, g := range gs {
			ms = append(ms, memb{g: g, exp: math.MaxInt64})
		}
		return ms
	}
	held := func(u *userRec, now int64) ([]int32, bool) {
		var inl [maxInline]int32
		return u.inlineGIDs(now, &inl)
	}
	var u userRec

	u.setGroups(nil)
	if gids, ok := held(&u, 0); !ok || len(gids) != 0 {
		t.Errorf("no memberships: inline %v, %v; want [], true", gids, ok)
	}
	u.setGroups(never(3, 5, 9))
	if gids, ok := held(&u, 0); !ok || !slices.Equal(gids, []int32{3, 5, 9}) {
		t.Errorf("three memberships: inline %v, %v; want [3 5 9], true", gids, ok)
	}
	// Up to 18 groups below 1<<16 fit, two to a word; up to 9 when one
	// of them is not.
	for _, c := range []struct {
		name string
		n    int
		last int32 // the last group's int
		fit  bool
	}{
		{"18 small", maxInline, 1<<16 - 1, true},
		{"19 small", maxInline + 1, 1<<16 - 1, false},
		{"9 with a large one", inlineGroups, 1 << 16, true},
		{"10 with a large one", inlineGroups + 1, 1 << 16, false},
		{"9 with the largest", inlineGroups, math.MaxInt32, true},
		{"10 small", inlineGroups + 1, 40000, true},
	} {
		many := make([]int32, c.n)
		for i := range many {
			many[i] = int32(10 + 3000*i)
		}
		many[c.n-1] = c.last
		u.setGroups(never(many...))
		gids, ok := held(&u, 0)
		if c.fit && (!ok || !slices.Equal(gids, many)) {
			t.Errorf("%s: inline %v, %v; want all of %v", c.name, gids, ok, many)
		}
		if !c.fit && ok {
			t.Errorf("%s: inline %v; want none (they do not fit)", c.name, gids)
		}
	}

	// Two expiring memberships among never-expiring ones: the inline
	// groups count from the later expiry on, without the expiring ones.
	ms := never(4, 8)
	ms = slices.Insert(ms, 1, memb{g: 6, exp: 100})
	ms = append(ms, memb{g: 12, exp: 50})
	u.setGroups(ms)
	if gids, ok := held(&u, 99); ok {
		t.Errorf("before the last expiry: inline %v; want none (group 6 still counts)", gids)
	}
	if gids, ok := held(&u, 100); !ok || !slices.Equal(gids, []int32{4, 8}) {
		t.Errorf("at the last expiry: inline %v, %v; want [4 8], true", gids, ok)
	}
	if gids, ok := held(&u, 49); ok {
		t.Errorf("before the first expiry, 50 ns after 1970: inline %v; want none (no whole second before it)", gids)
	}

	// Before the first expiry all groups count, the expiring ones too:
	// held until the last whole second before it. Between the first
	// expiry and the last the memberships are read; from the last on, the
	// never-expiring groups count.
	const sec = int64(1e9)
	ms = never(4, 8)
	ms = slices.Insert(ms, 1, memb{g: 6, exp: 5*sec + sec/2})
	ms = append(ms, memb{g: 12, exp: 9 * sec})
	u.setGroups(ms)
	for _, c := range []struct {
		name string
		now  int64
		want []int32 // nil: not answered inline
	}{
		{"before 1970", -1, []int32{4, 6, 8, 12}},
		{"before the first expiry", 4 * sec, []int32{4, 6, 8, 12}},
		{"the last nanosecond of the second before it", 5*sec - 1, []int32{4, 6, 8, 12}},
		{"in the second of the first expiry, before it", 5 * sec, nil},
		{"after the first expiry", 6 * sec, nil},
		{"at the last expiry", 9 * sec, []int32{4, 8}},
	} {
		gids, ok := held(&u, c.now)
		if ok != (c.want != nil) || !slices.Equal(gids, c.want) {
			t.Errorf("%s: inline %v, %v; want %v", c.name, gids, ok, c.want)
		}
	}
	// An expiry in 1970's second second: held until its first.
	u.setGroups([]memb{{g: 3, exp: sec + sec/2}})
	if gids, ok := held(&u, sec/2); !ok || !slices.Equal(gids, []int32{3}) {
		t.Errorf("an expiry 1.5 s after 1970, at 0.5 s: inline %v, %v; want [3], true", gids, ok)
	}
	if gids, ok := held(&u, sec); ok {
		t.Errorf("an expiry 1.5 s after 1970, at 1 s: inline %v; want none (rounded down to the second)", gids)
	}
	// An expiry past 2106 is held as the last second a record can name.
	u.setGroups([]memb{{g: 3, exp: math.MaxInt64 - 1}})
	if gids, ok := held(&u, 4*sec); !ok || !slices.Equal(gids, []int32{3}) {
		t.Errorf("an expiry in 292 years: inline %v, %v; want [3], true", gids, ok)
	}
	// With an expiring membership all groups are held when there are at
	// most 16 (the mask's bits) and they fit; else the never-expiring
	// ones, as before.
	for _, c := range []struct {
		name        string
		n           int
		large       bool
		beforeFirst bool // answered inline before the first expiry
		afterLast   bool // answered inline from the last expiry on
	}{
		{"16 small", maskedInline, false, true, true},
		{"17 small", maskedInline + 1, false, false, true},
		{"9 with a large one", inlineGroups, true, true, true},
		{"10 with a large one", inlineGroups + 1, true, false, true},
	} {
		ms := make([]memb, c.n)
		for i := range ms {
			ms[i] = memb{g: int32(10 + 100*i), exp: math.MaxInt64}
		}
		ms[0].exp = 7 * sec
		if c.large {
			ms[c.n-1].g = 1 << 16
		}
		u.setGroups(ms)
		gids, ok := held(&u, sec)
		if ok != c.beforeFirst || ok && len(gids) != c.n {
			t.Errorf("%s, before the expiry: inline %d groups, %v; want all %d: %v", c.name, len(gids), ok, c.n, c.beforeFirst)
		}
		gids, ok = held(&u, 7*sec)
		if ok != c.afterLast || ok && !slices.Equal(gids, groupsOfMembs(ms[1:])) {
			t.Errorf("%s, after the expiry: inline %v, %v; want the %d never expiring: %v", c.name, gids, ok, c.n-1, c.afterLast)
		}
	}

	// A record's copy shares nothing with it.
	u.setGroups(never(1, 2))
	c := u
	c.setGroups(never(7))
	if gids, _ := held(&u, 0); !slices.Equal(gids, []int32{1, 2}) {
		t.Errorf("after its copy changed: inline %v; want [1 2]", gids)
	}
}

// A folder's flat list holds its own level of a group instead of an
// inherited one (R15, a nearer none included), every rule matching it or
// an ancestor once (R16), and the inherited entries of other groups.
func TestR15_R16_FlatListMergesOwnOverInherited(t *testing.T) {
	inherited := []fent{
		levelEnt(1, domain.LevelEdit), levelEnt(2, domain.LevelView), {g: 2, v: 5}, {g: 2, v: 7},
		levelEnt(3, domain.LevelDownload), {g: 4, v: 9},
	}
	f := &folderRec{
		levels: []lvl{{g: 1, l: domain.LevelView}, {g: 3, l: domain.LevelNone}},
		rules:  []ruleRef{{g: 2, r: 5}, {g: 0, r: 3}},
	}
	h := hotFrom(f, 10, 4, inherited)
	want := []fent{
		{g: 0, v: 3},
		levelEnt(1, domain.LevelView),
		levelEnt(2, domain.LevelView), {g: 2, v: 5}, {g: 2, v: 7},
		levelEnt(3, domain.LevelNone),
		{g: 4, v: 9},
	}
	if !slices.Equal(h.flat, want) {
		t.Errorf("flat = %v; want %v", h.flat, want)
	}
	if h.anc != 10 || h.next != 4 || !h.own || h.typ() != 0 {
		t.Errorf("slot anc %d next %d own %v type %d; want 10, 4, true, 0", h.anc, h.next, h.own, h.typ())
	}
	// A folder without entries shares the list of the folder it sees.
	bare := hotFrom(&folderRec{typ: 2}, 11, 4, inherited)
	if bare.anc != 4 || bare.next != none || bare.own || &bare.flat[0] != &inherited[0] || bare.typ() != 2 {
		t.Errorf("bare slot anc %d next %d own %v shares %v type %d; want 4, none, false, true, 2",
			bare.anc, bare.next, bare.own, &bare.flat[0] == &inherited[0], bare.typ())
	}
}

// A user record's filter of its individual project grants lets a check
// skip the grant list for projects it has none on (R14), and never hides
// one it has, whatever the projects share a bit.
func TestR14_UserRecordFiltersItsProjectGrants(t *testing.T) {
	var u userRec
	u.setGrants([]userGrant{{p: 3, mask: 1}, {p: 5, mask: 2}, {p: 67, mask: 4}}) // 67 shares 3's bit
	for _, tc := range []struct {
		p    int32
		mask uint8
		ok   bool
	}{{3, 1, true}, {5, 2, true}, {67, 4, true}, {131, 0, false}, {4, 0, false}} {
		g, ok := u.grantOn(tc.p)
		if ok != tc.ok || g.mask != tc.mask {
			t.Errorf("grantOn(%d) = mask %d, %v; want %d, %v", tc.p, g.mask, ok, tc.mask, tc.ok)
		}
	}
	if u.pgBits != 1<<3|1<<5 {
		t.Errorf("filter %b; want bits 3 and 5", u.pgBits)
	}
	u.setGrants(nil)
	if _, ok := u.grantOn(3); ok || u.pgBits != 0 {
		t.Errorf("after setGrants(nil): grant on 3 found %v, filter %b", ok, u.pgBits)
	}
}

// A check reads a user and a folder from their ids' slots (index.go),
// which copy the records: for short ids held in the slot and for long
// ones kept beside the table, the copy follows every change, and a
// deleted object's slot answers not found. R11: a user disabled by a
// change holds nothing at once; R15: a level entry put by a change
// counts at once.
func TestR11_R15_IDSlotsFollowTheirRecords(t *testing.T) {
	for _, n := range []int{8, inlineKey, inlineKey + 1, 80} {
		uid, fid := "u"+strings.Repeat("x", n-1), "f"+strings.Repeat("y", n-1)
		s := &domain.Snapshot{Revision: 1, Roles: domain.BuiltinRoles(), Groups: append(domain.BuiltinGroups(),
			domain.Group{ID: "g", Name: "G", Scope: domain.ScopeSystem})}
		s.FolderTypes = []domain.FolderType{domain.BuiltinFolderType()}
		u := domain.User{ID: uid, Username: "u", Status: domain.UserActive}
		f := domain.Folder{ID: fid, Name: "f", TypeID: domain.FolderTypeFolderID}
		s.Users, s.Folders = []domain.User{u}, []domain.Folder{f}
		s.Memberships = []domain.Membership{{GroupID: "g", UserID: uid}}
		e, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		step := func(what string, want, notFound bool) {
			t.Helper()
			ok, err := e.snapshot().check("test", user(uid), "root.read", folder(fid), t0)
			if ok != want || notFound != domain.Is(err, domain.KindNotFound) || (!notFound && err != nil) {
				t.Errorf("ids of %d bytes, %s: check = %v, %v; want %v, not found %v", n, what, ok, err, want, notFound)
			}
			if d := LayoutDiff(e); d != "" {
				t.Errorf("ids of %d bytes, %s:\n%s", n, what, d)
			}
		}
		step("no level", false, false)
		apply(t, e, put(domain.Mutation{Entity: domain.EntityFolderLevel, FolderLevel: &domain.FolderLevel{FolderID: fid, GroupID: "g", Level: domain.LevelView}}))
		step("a level put", true, false)
		u.Status = domain.UserDisabled
		apply(t, e, put(domain.Mutation{Entity: domain.EntityUser, User: &u}))
		step("the user disabled", false, false)
		apply(t, e, del(domain.Mutation{Entity: domain.EntityUser, User: &u}))
		step("the user deleted", false, true)
		u.Status = domain.UserActive
		apply(t, e, put(domain.Mutation{Entity: domain.EntityUser, User: &u}), put(domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "g", UserID: uid}}))
		step("the user put again", true, false)
		apply(t, e, del(domain.Mutation{Entity: domain.EntityFolder, Folder: &f}))
		step("the folder deleted", false, true)
	}
}

// A folder's slot holds a filter of the groups its flat list names: a
// check reads the list only for a subject with a group the filter may
// hold, so every group of the list must be in it (R15, R16: else a
// level or rule would go unseen), and most other groups must not be
// (else it saves nothing).
func TestR15_R16_FolderFilterHoldsEveryGroupOfItsList(t *testing.T) {
	var empty groupFilter
	if empty.mayHoldAny([]int32{gEveryone, gPublic, 7}) {
		t.Error("the empty list's filter may hold a group; want none")
	}
	r := rand.New(rand.NewPCG(3, 5))
	falsePos, asked := 0, 0
	implicitPos := 0 // Everyone's and Public's: every subject asks them
	const lists = 2000
	for range lists {
		var flat []fent
		in := map[int32]bool{}
		for range 43 {
			g := r.Int32N(10_000)
			if r.IntN(20) == 0 {
				g = r.Int32() // any int a group may have
			}
			flat = append(flat, fent{g: g, v: r.Int32N(5) - 3})
			in[g] = true
		}
		f := filterOf(flat)
		for g := range in {
			if !f.mayHold(g) || !f.mayHoldAny([]int32{gEveryone, g}) {
				t.Fatalf("filter of %v does not hold its group %d", flat, g)
			}
		}
		for _, g := range []int32{gEveryone, gPublic} {
			if !in[g] && f.mayHold(g) {
				implicitPos++
			}
		}
		for range 13 {
			if g := r.Int32N(10_000); !in[g] {
				asked++
				if f.mayHold(g) {
					falsePos++
				}
			}
		}
	}
	if rate := float64(falsePos) / float64(asked); rate > 0.02 {
		t.Errorf("filters of 43 groups hold %.2f%% of the groups not in them; want at most 2%%", 100*rate)
	}
	if rate := float64(implicitPos) / (2 * lists); rate > 0.02 {
		t.Errorf("filters of 43 groups hold Everyone or Public, not in them, %.2f%% of the time; want at most 2%%", 100*rate)
	}
}

// A subject whose groups the folder's filter holds by chance, none of
// them in the folder's list, is denied by the list (R15): the filter
// only ever spares a read, it never answers yes. Here every group of
// the subject's ints is below the list's first: the check steps past
// them all.
func TestR15_FilterFalsePositiveReadsTheListAndDenies(t *testing.T) {
	s := fixture()
	for i := range 200 {
		id := fmt.Sprintf("g-fp-%03d", i)
		s.Groups = append(s.Groups, domain.Group{ID: id, Name: id, Scope: domain.ScopeSystem})
		if i >= 100 {
			s.FolderLevels = append(s.FolderLevels, domain.FolderLevel{FolderID: "fp-root", GroupID: id, Level: domain.LevelEdit})
		}
	}
	s.Folders = append(s.Folders, domain.Folder{ID: "fp-root", Name: "fp-root", TypeID: domain.FolderTypeFolderID})
	e, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	st := e.cur.Load()
	_, fh, _ := st.folderIx.lookup("fp-root")
	first := fh.flat()[0].g
	chance := ""
	for i := range 100 {
		id := fmt.Sprintf("g-fp-%03d", i)
		if g, _ := st.groupIx.get(id); g < first && fh.groups.mayHold(g) {
			chance = id
			break
		}
	}
	if chance == "" {
		t.Fatal("no group below the list's first is in its filter by chance; the test needs one")
	}
	s.Users = append(s.Users,
		domain.User{ID: "fp-user", Username: "fp-user", Status: domain.UserActive},
		domain.User{ID: "fp-editor", Username: "fp-editor", Status: domain.UserActive})
	s.Memberships = append(s.Memberships,
		domain.Membership{GroupID: chance, UserID: "fp-user"},
		domain.Membership{GroupID: "g-fp-150", UserID: "fp-editor"})
	if e, err = New(s); err != nil {
		t.Fatal(err)
	}
	st = e.cur.Load()
	_, fh, _ = st.folderIx.lookup("fp-root")
	if g, _ := st.groupIx.get(chance); !fh.groups.mayHold(g) {
		t.Fatalf("the rebuilt filter does not hold %s", chance)
	}
	runCases(t, e, t0, []checkCase{
		{user("fp-user"), "root.read", folder("fp-root"), false},
		{user("fp-editor"), "root.edit", folder("fp-root"), true},
	})
}

// A folder keeps its properties as a sorted list, not the map it was
// given (R16: rules' criteria read them): each answers as the map would,
// and two are the same exactly when their maps are.
func TestR16_FolderPropsAnswerAsTheirMap(t *testing.T) {
	if propsOf(nil) != nil || propsOf(map[string]string{}) != nil {
		t.Error("no properties: want a nil list")
	}
	r := rand.New(rand.NewPCG(9, 9))
	randMap := func() map[string]string {
		m := map[string]string{}
		for range r.IntN(16) { // past 8 a list is searched
			m[fmt.Sprint("k", r.IntN(20))] = fmt.Sprint("v", r.IntN(3))
		}
		return m
	}
	for range 2000 {
		a, b := randMap(), randMap()
		p := propsOf(a)
		if !slices.IsSortedFunc(p, func(x, y propKV) int { return strings.Compare(x.k, y.k) }) {
			t.Fatalf("propsOf(%v) = %v: not sorted by key", a, p)
		}
		for i := range 21 {
			k := fmt.Sprint("k", i)
			gv, gok := p.get(k)
			wv, wok := a[k]
			if gv != wv || gok != wok {
				t.Fatalf("propsOf(%v).get(%q) = %q, %v; want %q, %v", a, k, gv, gok, wv, wok)
			}
		}
		if got, want := p.sameAs(b), maps.Equal(a, b); got != want {
			t.Fatalf("propsOf(%v).sameAs(%v) = %v; want %v", a, b, got, want)
		}
		if got, want := slices.Equal(p, propsOf(b)), maps.Equal(a, b); got != want {
			t.Fatalf("lists of %v and %v equal = %v; want %v", a, b, got, want)
		}
	}
}

// groupsOfMembs is the groups of ms, in order.
func groupsOfMembs(ms []memb) []int32 {
	gs := make([]int32, len(ms))
	for i, m := range ms {
		gs[i] = m.g
	}
	return gs
}

// A user's and a folder's id slots are two cache lines each, as the
// records' layout and the prefetches assume (index.go, userHot).
func TestIDSlotsAreTwoCacheLines(t *testing.T) {
	if n := unsafe.Sizeof(userHot{}); n != 80 {
		t.Errorf("userHot is %d bytes; want 80", n)
	}
	if n := unsafe.Sizeof(islot[userHot]{}); n != 128 {
		t.Errorf("a user's slot is %d bytes; want 128", n)
	}
	if n := unsafe.Sizeof(islot[folderHot]{}); n != 128 {
		t.Errorf("a folder's slot is %d bytes; want 128", n)
	}
}

// prefetchBytes is assembly: it must return for every span, empty or
// not, at a line's start or not, and must not write.
func TestPrefetchBytesNeverFaults(t *testing.T) {
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i)
	}
	base := unsafe.Pointer(&buf[0])
	for _, span := range [][2]uintptr{{0, 0}, {0, 1}, {1, 63}, {60, 128}, {63, 2}, {0, 4096}, {4095, 1}} {
		prefetchBytes(unsafe.Add(base, span[0]), span[1])
	}
	prefetchBytes(nil, 0)
	for i := range buf {
		if buf[i] != byte(i) {
			t.Fatalf("byte %d changed to %d", i, buf[i])
		}
	}
}
