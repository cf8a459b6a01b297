package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gatehouse/gatehouse/internal/domain"
)

var _ Querier = (*Engine)(nil)

// Engine is the permission index. Queries read the current state through
// an atomic pointer and never wait; Apply is serialized by a mutex among
// writers only.
type Engine struct {
	cur atomic.Pointer[state]
	mu  sync.Mutex // serializes Apply
	gen uint64     // the generation of the last Apply; guarded by mu
}

// The built-in groups get fixed ints so that the implicit groups of R12
// sort first in every user's effective group list.
const (
	gEveryone int32 = 0
	gPublic   int32 = 1
	gAdmins   int32 = 2
	nBuiltin        = 3
	none      int32 = -1
)

// state is one immutable version of the index. Deleted objects leave a nil
// slot and keep their interned id, so re-creating an id reuses its int.
type state struct {
	rev int64

	userIx                                     strIndex[userHot]
	folderIx                                   strIndex[folderHot]
	groupIx, projectIx, roleIx, typeIx, ruleIx strIndex[noVal]

	users    vec[*userRec]
	groups   vec[*groupRec]
	gsys     vec[uint64] // parallel to groups: checkboxes | role, closed (R13)
	projects vec[*projectRec]
	roles    vec[*roleRec]
	types    vec[*typeRec]
	folders  vec[*folderRec]
	hot      vec[fhot] // parallel to folders
	rules    vec[*ruleRec]

	nest      vec[*nestRec] // parallel to groups: nested groups (closure.go)
	nestEdges int32         // group memberships in the index
	ancBits   groupBits     // group g has ancestors (closure.go)
	sysBits   groupBits     // group g holds system permissions: gsys[g] != 0
}

// memb is one direct membership; exp is the expiry in Unix nanoseconds,
// math.MaxInt64 for none, compared with now at query time (R6).
type memb struct {
	g   int32
	exp int64
}

// userGrant and presence stay small (12 bytes): a project check merges
// them. raw holds the keys as granted (unclosed), for explanations.
type userGrant struct {
	p    int32
	role int32
	mask uint8
	raw  uint8
}

// inlineGroups is how many group ints a user record holds inline; twice
// as many when every one of them is below 1<<16 (narrow): the large data
// set's users are in 9 groups at the median and 14 at the 90th
// percentile, 18 at most, and a user whose groups are not inline costs a
// folder check a second miss. Nine words, not eleven, so that the record
// has room for the expiring groups' mask and the instant until which all
// its groups count (inlUntil).
const (
	inlineGroups = 9
	maxInline    = 2 * inlineGroups
	narrowInline = 0x80 // ninl's flag: gids holds uint16s, two a word
	maskedInline = 16   // expMask's bits: with an expiring membership, at most this many groups are held
)

// userHot is what a check reads of a user. It is the first 80 bytes of
// the user's record, and a copy of it is the value of the user's slot in
// userIx, so that the lookup of the id reads it (index.go). With gids and
// pgBits, the groups of most users and whether to look at their project
// grants come with it instead of by another dependent cache miss (nine
// groups a user at the median on the large data set of the benchmarks,
// up to 18 held).
//
// The groups held count at two kinds of instant (R6): from inlFrom on,
// once every expiring membership has expired, those not in expMask (the
// never-expiring ones); and before inlUntil, when none has yet, all of
// them: until the second kind was held, a user with a membership still
// to expire was read through mem on every check (16 % of the large data
// set's random users). Between the first expiry and the last, and
// for a user with more groups than fit, mem points at the memberships
// themselves: one miss away, not the three of the record's vec leaf,
// record and slice, and that miss is taken while a folder check waits
// for the folder's flat list.
type userHot struct {
	live     bool // the user exists: false in the slot of a deleted one
	active   bool
	showPI   bool
	ninl     uint8 // 1 + the number of groups held, | narrowInline; 0 when they do not fit
	role     int32
	inlFrom  int64                // the groups not in expMask are the user's groups at any instant from this one on
	inlUntil uint32               // all groups held are the user's groups before this second (Unix time); 0: at no instant
	nmem     int32                // len(groups)
	pgBits   uint64               // bit p%64 set for every project p of pgrants: most checks need not read them
	mem      *memb                // the record's groups[0]; nil for none
	gids     [inlineGroups]uint32 // int32s, or when narrow uint16s: group i in word i/2, low half first
	expMask  uint16               // bit i set: group i held is an expiring membership's
}

// userRec is one user.
type userRec struct {
	userHot
	gen      uint64
	id       string
	username string
	groups   []memb      // sorted by g; never the implicit Everyone or Public; set by setGroups
	pgrants  []userGrant // individual project grants, sorted by p; set by setGrants
}

// setGroups sets u's memberships, the hot part's pointer at them (mem),
// and the inline copy of their groups (userHot): all of them when they
// fit, the expiring ones marked, which count until the first expiry;
// else, when those fit, the groups of the memberships that never expire,
// which are all that count once the last expiring one has expired (R6).
func (u *userRec) setGroups(gs []memb) {
	u.groups = gs
	u.mem, u.nmem = nil, int32(len(gs))
	if len(gs) > 0 {
		u.mem = &gs[0]
	}
	u.inlFrom, u.inlUntil = math.MinInt64, 0
	first := int64(math.MaxInt64)
	for _, m := range gs {
		if m.exp != math.MaxInt64 {
			first, u.inlFrom = min(first, m.exp), max(u.inlFrom, m.exp)
		}
	}
	switch until := untilSecond(first); {
	case u.inlFrom == math.MinInt64: // none expires
		u.hold(gs, true)
	case until != 0 && len(gs) <= maskedInline && u.hold(gs, true):
		u.inlUntil = until
	default:
		u.hold(gs, false)
	}
}

// hold copies the groups of gs into gids, every one (marking the
// expiring ones in expMask) or only those that never expire, and reports
// whether they fit; when they do not, nothing is held (ninl 0).
func (u *userRec) hold(gs []memb, withExpiring bool) bool {
	u.ninl, u.expMask, u.gids = 0, 0, [inlineGroups]uint32{}
	var held [maxInline]int32
	n, narrow := 0, true
	for _, m := range gs {
		if m.exp != math.MaxInt64 {
			if !withExpiring {
				continue
			}
			u.expMask |= 1 << n
		}
		if n == len(held) {
			u.expMask = 0
			return false
		}
		held[n] = m.g
		narrow = narrow && m.g < 1<<16
		n++
	}
	switch {
	case narrow:
		for i, g := range held[:n] {
			u.gids[i/2] |= uint32(g) << (16 * (i % 2))
		}
		u.ninl = uint8(n+1) | narrowInline
	case n <= inlineGroups:
		for i, g := range held[:n] {
			u.gids[i] = uint32(g)
		}
		u.ninl = uint8(n + 1)
	default:
		u.expMask = 0
		return false
	}
	return true
}

// untilSecond is the last whole second (Unix time) at or before the
// instant exp, in nanoseconds, as inlUntil holds it; 0, at no instant,
// for one before 1970's second second. Rounding down keeps the inline
// copy from answering for an instant at which a membership had expired.
func untilSecond(exp int64) uint32 {
	switch s := exp / 1e9; {
	case s < 1:
		return 0
	case s > math.MaxUint32:
		return math.MaxUint32
	default:
		return uint32(s)
	}
}

// setGrants sets u's individual project grants and their filter.
func (u *userRec) setGrants(gs []userGrant) {
	u.pgrants = gs
	u.pgBits = 0
	for _, g := range gs {
		u.pgBits |= projBit64(g.p)
	}
}

func projBit64(p int32) uint64 { return 1 << (uint32(p) & 63) }

// mayHoldGrantOn reports whether u's project grants may include one on p.
func (u *userHot) mayHoldGrantOn(p int32) bool { return u.pgBits&projBit64(p) != 0 }

// grantOn is u's individual grant on project p, if any.
func (u *userRec) grantOn(p int32) (userGrant, bool) {
	if !u.mayHoldGrantOn(p) {
		return userGrant{}, false
	}
	if i, found := findBy(u.pgrants, p, userGrantKey); found {
		return u.pgrants[i], true
	}
	return userGrant{}, false
}

// memberships is the record's groups, read through the copy.
func (u *userHot) memberships() []memb { return unsafe.Slice(u.mem, u.nmem) }

// inlineAlways reports whether the inline copy holds u's groups at any
// instant: they fit, and none of u's memberships expires.
func (u *userHot) inlineAlways() bool { return u.ninl != 0 && u.inlFrom == math.MinInt64 }

// inlineGIDs is u's groups at now from the inline copy, when it holds
// them, unpacked into dst: from inlFrom on those not in expMask, before
// inlUntil all.
func (u *userHot) inlineGIDs(now int64, dst *[maxInline]int32) ([]int32, bool) {
	var skip uint16
	switch {
	case u.ninl == 0:
		return nil, false
	case now >= u.inlFrom:
		skip = u.expMask
	case u.inlUntil == 0 || now >= int64(u.inlUntil)*1e9:
		return nil, false
	}
	// Every word is unpacked, without a branch a group; the masked
	// groups, when some are, are then dropped in place.
	n := int(u.ninl&^narrowInline) - 1
	if u.ninl&narrowInline == 0 {
		for i := range u.gids {
			dst[i] = int32(u.gids[i])
		}
	} else {
		for i, w := range u.gids {
			dst[2*i], dst[2*i+1] = int32(w&0xFFFF), int32(w>>16)
		}
	}
	if skip == 0 { // most users: every group held counts
		return dst[:n], true
	}
	k := 0
	for i := range n {
		if skip>>i&1 == 0 {
			dst[k] = dst[i]
			k++
		}
	}
	return dst[:k], true
}

type groupRec struct {
	gen          uint64
	id           string
	name         string
	builtin      domain.Builtin
	project      int32 // owning project of a project group, else none
	role         int32 // system role, or none
	sys          uint64
	sysKeys      []string // the checkboxes as stored, for explanations
	members      []int32  // sorted user ints
	domains      []string // sorted
	projects     []int32  // projects where the group has a grant row, sorted
	levelFolders []int32  // folders with a level entry for the group, sorted
	rules        []int32  // rules the group owns, sorted
}

// presence is a group present in a project (R14): a grant row, or a
// project group of that project (row false and no rights until it has one).
type presence struct {
	g    int32
	role int32
	mask uint8
	raw  uint8
	row  bool
}

// The fields a project check reads come first: its first 96 bytes, of
// 160.
type projectRec struct {
	exclusive bool
	groups    []presence // sorted by g; changed by putPresent and removePresent
	presBloom groupBloom // the groups in groups, so that a check searches it for few
	nestBloom groupBloom // the groups d of nested, so that most checks do not read it
	nested    []nestPres // the groups nested below those, sorted by (d, g); projnest.go
	gen       uint64
	id        string
	name      string
}

type roleRec struct {
	id    string
	name  string
	scope domain.Scope
	sys   uint64
	proj  uint8
	keys  []string
}

type typeRec struct {
	id       string
	name     string
	contexts []string
}

type lvl struct {
	g int32
	l domain.Level
}

type ruleRef struct {
	g int32
	r int32
}

type folderRec struct {
	gen      uint64
	id       string
	name     string
	parent   int32
	typ      int32
	props    folderProps
	levels   []lvl     // sorted by g
	rules    []ruleRef // rules matching this folder itself, sorted by (g, r)
	children []int32   // sorted
}

// folderProps is a folder's properties, sorted by key: what a rule's
// criteria read. A map of a few entries costs a folder ~300 bytes, this
// 32 a property (the large data set's folders: ~9 MB).
type folderProps []propKV

type propKV struct{ k, v string }

// propsOf is m as folderProps; nil for none.
func propsOf(m map[string]string) folderProps {
	if len(m) == 0 {
		return nil
	}
	p := make(folderProps, 0, len(m))
	for k, v := range m {
		p = append(p, propKV{k, v})
	}
	slices.SortFunc(p, func(a, b propKV) int { return strings.Compare(a.k, b.k) })
	return p
}

// get is property k's value, if the folder has it: most folders have a
// few, read in order; a long list is searched.
func (p folderProps) get(k string) (string, bool) {
	if len(p) > 8 {
		if i, ok := slices.BinarySearchFunc(p, k, func(kv propKV, k string) int { return strings.Compare(kv.k, k) }); ok {
			return p[i].v, true
		}
		return "", false
	}
	for _, kv := range p {
		if kv.k == k {
			return kv.v, true
		}
	}
	return "", false
}

// sameAs reports whether m holds exactly p's properties.
func (p folderProps) sameAs(m map[string]string) bool {
	if len(p) != len(m) {
		return false
	}
	for _, kv := range p {
		if v, ok := m[kv.k]; !ok || v != kv.v {
			return false
		}
	}
	return true
}

type ctxGrant struct {
	ctx  string
	mask uint16
}

type crit struct {
	typ    int32
	prop   string
	op     domain.Operator
	value  string
	values []string
}

type ruleRec struct {
	gen      uint64
	id       string
	name     string
	g        int32
	criteria []crit
	grants   []ctxGrant
	matched  []int32 // folders the rule matches itself, sorted
}

func (r *ruleRec) grantsPerm(ctx string, a domain.Action) bool {
	for _, cg := range r.grants {
		if cg.ctx == ctx {
			return cg.mask&(1<<a) != 0
		}
	}
	return false
}

var (
	minNano = time.Unix(0, math.MinInt64+1)
	maxNano = time.Unix(0, math.MaxInt64-1)
)

// nanos maps a time to Unix nanoseconds, clamped so that a never-expiring
// membership (MaxInt64) still counts at any representable now.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNano):
		return math.MinInt64 + 1
	case t.After(maxNano):
		return math.MaxInt64 - 1
	}
	return t.UnixNano()
}

func expNanos(t *time.Time) int64 {
	if t == nil {
		return math.MaxInt64
	}
	return nanos(*t)
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// New builds the index of a snapshot: a Builder fed with its objects in
// the order a snapshot streams them.
func New(snap *domain.Snapshot) (*Engine, error) {
	if snap == nil {
		return nil, domain.E("engine.New", domain.KindInvalid, errorf("nil snapshot"))
	}
	x := NewBuilder(snap.Revision)
	if err := snap.Puts(x.Put); err != nil {
		return nil, err
	}
	return x.Engine()
}

// Revision returns the revision of the current index.
func (e *Engine) Revision() int64 { return e.cur.Load().rev }

// Apply applies one committed change. Its revision must be exactly the
// current one plus one, so a reader of the change log notices a gap.
// Either the whole change is applied or, on error, nothing is.
func (e *Engine) Apply(c domain.Change) error {
	const op = "engine.Apply"
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.cur.Load()
	if c.Revision != old.rev+1 {
		return domain.E(op, domain.KindConflict, errorf("change revision %d does not follow the index revision %d", c.Revision, old.rev))
	}
	next := *old
	gen := e.gen + 1
	b := &builder{s: &next, gen: gen, op: op}
	for i := range c.Mutations {
		if err := b.apply(&c.Mutations[i]); err != nil {
			return domain.E(op, fmt.Errorf("revision %d, mutation %d (%s %s): %w", c.Revision, i, c.Mutations[i].Op, c.Mutations[i].Entity, err))
		}
	}
	b.publish()
	next.rev = c.Revision
	e.gen = gen
	e.cur.Store(&next)
	return nil
}

// snapshot returns the current state; tests hold one across an Apply.
func (e *Engine) snapshot() *state { return e.cur.Load() }
