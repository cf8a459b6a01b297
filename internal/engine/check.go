package engine

import (
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// maxGroupsOnStack bounds the effective group list kept on the stack; a
// user in more groups costs one allocation per check.
const maxGroupsOnStack = 64

// who is a resolved subject: nil h for anonymous. A check resolves a
// user by the value of their id's slot (h, a copy of the record's hot
// part) and reads the record itself (u, or users[ui] through record) only
// for what the copy does not hold: grants.
type who struct {
	h   *userHot
	u   *userRec // nil until read; subject reads it, checks may not
	ui  int32
	now int64
}

// userWho is the subject of a user record.
func userWho(u *userRec, now int64) who {
	return who{h: &u.userHot, u: u, now: now}
}

// record is w's user record (w is not anonymous).
func (st *state) record(w who) *userRec {
	if w.u != nil {
		return w.u
	}
	return st.users.get(w.ui)
}

// denied reports R11: a disabled user holds nothing.
func (w who) denied() bool { return w.h != nil && !w.h.active }

// subject resolves s with its record; an unknown user is an error
// (decisions.md).
func (st *state) subject(op string, s Subject, now time.Time) (who, error) {
	w, err := st.subjectHot(op, s, now)
	if err == nil && w.h != nil {
		w.u = st.users.get(w.ui)
	}
	return w, err
}

// subjectHot resolves s by its slot alone: the check path.
func (st *state) subjectHot(op string, s Subject, now time.Time) (who, error) {
	return st.subjectHashed(op, s, hashOf(s.UserID), now)
}

// subjectHashed is subjectHot of a subject whose id hashes to uhash.
func (st *state) subjectHashed(op string, s Subject, uhash uint64, now time.Time) (who, error) {
	i, h, ok := st.userIx.lookupHashed(s.UserID, uhash)
	return hotWho(op, s, now, i, h, ok)
}

// hotWho is the subject s, whose id's slot lookup found (ok) int i and
// value h; an unknown or deleted user is an error (decisions.md).
func hotWho(op string, s Subject, now time.Time, i int32, h *userHot, ok bool) (who, error) {
	w := who{now: nanos(now)}
	if s.UserID == "" {
		return w, nil
	}
	if !ok || !h.live {
		return w, userNotFound(op, s.UserID)
	}
	w.h, w.ui = h, i
	return w, nil
}

// userNotFound is the error of a check about an unknown user.
func userNotFound(op, id string) error {
	return domain.E(op, domain.KindNotFound, errorf("user %q not found", id))
}

// groupsOf appends to buf the subject's groups at w.now (R12), sorted:
// Everyone for an active user, Public, then the groups their unexpired
// memberships reach, nested groups included (closure.go).
func (st *state) groupsOf(w who, buf []int32) []int32 {
	buf, member := implicitGroups(w, buf)
	if !member {
		return buf
	}
	var inl [maxInline]int32
	if gids, ok := w.h.inlineGIDs(w.now, &inl); ok {
		return st.appendEffectiveIDs(buf, gids, w.now)
	}
	return st.appendEffective(buf, w.h.memberships(), w.now)
}

// directGroupsOf is groupsOf without nesting: the groups the subject's
// unexpired memberships name, sorted. The inline copy is unpacked
// straight into buf when it has room.
func (st *state) directGroupsOf(w who, buf []int32) []int32 {
	buf, member := implicitGroups(w, buf)
	if !member {
		return buf
	}
	if n := len(buf); cap(buf)-n >= maxInline {
		if gids, ok := w.h.inlineGIDs(w.now, (*[maxInline]int32)(buf[n:n+maxInline])); ok {
			return buf[:n+len(gids)]
		}
	}
	for _, m := range w.h.memberships() {
		if w.now < m.exp {
			buf = append(buf, m.g)
		}
	}
	return buf
}

// implicitGroups appends the built-in groups w is in (R12) and reports
// whether w's memberships count too: not for anonymous or disabled.
func implicitGroups(w who, buf []int32) ([]int32, bool) {
	if w.h == nil {
		return append(buf, gPublic), false
	}
	if !w.h.active {
		return buf, false
	}
	return append(buf, gEveryone, gPublic), true
}

func (st *state) roleSys(r int32) uint64 {
	if r == none {
		return 0
	}
	if rr := st.roles.get(r); rr != nil {
		return rr.sys
	}
	return 0
}

func (st *state) roleProj(r int32) uint8 {
	if r == none {
		return 0
	}
	if rr := st.roles.get(r); rr != nil {
		return rr.proj
	}
	return 0
}

// sysOf is the closed set of system permissions (R13); Public holds none
// (R5) even if data said otherwise.
func (st *state) sysOf(w who, groups []int32) uint64 {
	if w.h == nil || !w.h.active {
		return 0
	}
	m := st.roleSys(w.h.role)
	for _, gi := range groups {
		if st.sysBits.has(gi) { // clear where gsys is 0: Public, deleted groups
			m |= st.gsys.get(gi)
		}
	}
	return m
}

func (st *state) hasSys(w who, groups []int32, bit uint8) bool {
	if st.sysOf(w, groups)&(1<<bit) == 0 {
		return false
	}
	// R18: personal information needs the user's preference too.
	return uint64(1)<<bit != bitPersonalInfo || w.h.showPI
}

// projOf is the closed set of project permissions on p (R14) for the
// subject's effective groups.
func (st *state) projOf(w who, groups []int32, p *projectRec, pi int32) uint8 {
	if w.denied() {
		return 0
	}
	pg, _ := st.present(groups, p)
	return st.projRights(w, p, pi, pg)
}

// projOfDirect is projOf from the subject's direct groups: the groups
// nested below p's present groups come from p's own list (projnest.go),
// so no closure is read.
func (st *state) projOfDirect(w who, p *projectRec, pi int32) uint8 {
	if w.denied() {
		return 0
	}
	var buf [maxGroupsOnStack]int32
	direct := st.directGroupsOf(w, buf[:0])
	pg, mayNest := st.present(direct, p)
	if mayNest {
		st.nestedPresent(&pg, direct, p, w.now)
	}
	return st.projRights(w, p, pi, pg)
}

// projRights adds the subject's individual rights on p to the rights of
// the groups they reach there, which an exclusive project drops (R23).
func (st *state) projRights(w who, p *projectRec, pi int32, pg projGrants) uint8 {
	var individual uint8
	if w.h != nil && w.h.mayHoldGrantOn(pi) {
		if g, found := st.record(w).grantOn(pi); found {
			individual = g.mask | st.roleProj(g.role)
		}
	}
	if p.exclusive && pg.inGroup {
		return pg.grouped | pg.builtin
	}
	return individual | pg.grouped | pg.builtin
}

func (st *state) hasProj(w who, groups []int32, p *projectRec, pi int32, bit uint8) bool {
	return projBit(w, st.projOf(w, groups, p, pi), bit)
}

// hasProjDirect is hasProj from the subject's direct groups and p's
// nested list: the check path.
func (st *state) hasProjDirect(w who, p *projectRec, pi int32, bit uint8) bool {
	return projBit(w, st.projOfDirect(w, p, pi), bit)
}

// projBit reports whether rights hold bit; personal information needs
// the user's preference too (R18).
func projBit(w who, rights, bit uint8) bool {
	if rights&(1<<bit) == 0 {
		return false
	}
	return uint8(1)<<bit != bitProjPersonalPI || (w.h != nil && w.h.showPI)
}

func (st *state) hasDomain(groups []int32, name string) bool {
	for _, gi := range groups {
		if g := st.groups.get(gi); g != nil {
			if _, found := slices.BinarySearch(g.domains, name); found {
				return true
			}
		}
	}
	return false
}

func (st *state) folderByID(op, id string) (int32, *folderRec, error) {
	if i, ok := st.folderIx.get(id); ok {
		if f := st.folders.get(i); f != nil {
			return i, f, nil
		}
	}
	return none, nil, domain.E(op, domain.KindNotFound, errorf("folder %q not found", id))
}

func (st *state) contextsOf(f *folderRec) []string {
	if t := st.types.get(f.typ); t != nil {
		return t.contexts
	}
	return []string{domain.ContextRoot}
}

func (st *state) typeName(f *folderRec) string {
	if t := st.types.get(f.typ); t != nil {
		return t.name
	}
	return "(unknown type)"
}

func (st *state) typeDeclares(typ int32, ctx string) bool {
	if t := st.types.get(typ); t != nil {
		for _, c := range t.contexts {
			if c == ctx {
				return true
			}
		}
		return false
	}
	return ctx == domain.ContextRoot
}

// checkContext answers R16's invalid request: a context the folder's type
// does not declare.
func (st *state) checkContext(op string, f *folderRec, ctx string) error {
	ctxs := st.contextsOf(f)
	for _, c := range ctxs {
		if c == ctx {
			return nil
		}
	}
	return domain.E(op, domain.KindInvalid, errorf("folder %q of type %q has no context %q; its contexts are: %s",
		f.id, st.typeName(f), ctx, strings.Join(ctxs, ", ")))
}

// folderAllows merges the subject's sorted groups with the flat list of
// the folder's nearest ancestor-or-self with entries (see eff.go). For
// each of the subject's groups the nearest level entry is its level (R15,
// even none); any level reaching the action's minimum allows, as does any
// rule matched on the folder or above that grants the permission (R16).
func (st *state) folderAllows(groups []int32, fi int32, ctx string, a domain.Action) bool {
	return st.flatAllows(groups, st.hot.get(fi).flat, ctx, a)
}

// flatAllows is folderAllows on the folder's flat list.
func (st *state) flatAllows(groups []int32, flat []fent, ctx string, a domain.Action) bool {
	need, byLevel := domain.LevelFor(a)
	i, j := 0, 0
	for i < len(groups) && j < len(flat) {
		switch g, e := groups[i], flat[j]; {
		case g < e.g:
			i++
		case g > e.g:
			j++
		default:
			if l, isLevel := e.level(); isLevel {
				if byLevel && l >= need {
					return true
				}
			} else if st.rules.get(e.v).grantsPerm(ctx, a) {
				return true
			}
			j++ // a group may have a level and several rules
		}
	}
	return false
}

// checkFolder answers a folder check (check). The folder's reads and the
// subject's do not depend on each other, and on a large data set each is
// a cache miss: so both ids' slots are read together (they hold what the
// check reads of the folder and of the user, index.go), and the folder's
// flat list is asked for at once, without waiting for it. Most checks
// then end with the folder slot's filter of the list's groups
// (groupFilter): the list is read only when one of the subject's groups
// may be in it.
//
// The user's slots, whose id hashes to uhash, were prefetched before the
// folder's lookup (check): that lookup branches on what its slot holds,
// and when the CPU guesses the branch wrong it would ask for the user's
// slot only once the folder's had come (in one process, three runs:
// random checks 5–9 % faster at the median, random allowed ones ~20 %,
// typical ones 3–10 %).
func (st *state) checkFolder(op string, s Subject, uhash uint64, p permSpec, id string, now time.Time) (bool, error) {
	_, fh, found := st.folderIx.lookup(id)
	if found {
		// The filter is the slot's second line; which word of it the
		// check reads depends on the subject's groups, so without this
		// its miss would only begin once the user's slot had come.
		prefetch(unsafe.Pointer(&fh.groups))
	}
	ui, uh, known := st.userIx.lookupHashed(s.UserID, uhash)
	if !found || !fh.live() {
		_, _, err := st.folderByID(op, id)
		return false, err
	}
	if fh.n > 0 {
		prefetch(unsafe.Pointer(fh.flat0))
	}
	if !st.typeDeclares(fh.typ(), p.ctx) {
		_, f, _ := st.folderByID(op, id)
		return false, st.checkContext(op, f, p.ctx)
	}
	w, err := hotWho(op, s, now, ui, uh, known)
	if err != nil {
		return false, err
	}
	if w.denied() {
		return false, nil
	}
	var buf [maxGroupsOnStack]int32
	groups := st.groupsOf(w, buf[:0])
	if st.sysOf(w, groups)&bitFilesAdmin != 0 { // R17
		return true, nil
	}
	if !fh.groups.mayHoldAny(groups) {
		return false, nil // no group of the subject's is in the list
	}
	flat := fh.flat()
	for len(groups) > 0 && groups[0] < flat[0].g { // they match nothing
		groups = groups[1:]
	}
	return st.flatAllows(groups, flat, p.ctx, p.action), nil
}

// folderAllowsWalk is the same answer by walking every ancestor's record;
// tests hold the folders' flat lists to it.
func (st *state) folderAllowsWalk(groups []int32, fi int32, ctx string, a domain.Action) bool {
	need, byLevel := domain.LevelFor(a)
	seen := map[int32]bool{}
	for x := fi; x != none; {
		f := st.folders.get(x)
		for _, e := range f.levels {
			if !seen[e.g] {
				seen[e.g] = true
				if byLevel && e.l >= need && containsSorted(groups, e.g) {
					return true
				}
			}
		}
		for _, ref := range f.rules {
			if containsSorted(groups, ref.g) && st.rules.get(ref.r).grantsPerm(ctx, a) {
				return true
			}
		}
		x = f.parent
	}
	return false
}

// Check answers whether s may do permission on r at now (docs/model.md §7).
func (e *Engine) Check(s Subject, permission string, r Resource, now time.Time) (Decision, error) {
	st := e.cur.Load()
	ok, err := st.check("engine.Check", s, permission, r, now)
	return Decision{Allowed: ok, Revision: st.rev}, err
}

// check answers Check on st. Every kind of check needs the user's slot,
// and on a large data set the slot is a miss from memory: it is asked
// for first of all, so that its wait overlaps the rest of what a check
// does before it reads the user (the permission's parsing, the
// resource's lookup).
func (st *state) check(op string, s Subject, permission string, r Resource, now time.Time) (bool, error) {
	uhash := st.userIx.prefetchKey(s.UserID)
	p, err := parsePerm(op, permission)
	if err != nil {
		return false, err
	}
	if p.kind != r.Kind {
		return false, mismatch(op, permission, p, r)
	}
	var buf [maxGroupsOnStack]int32
	switch r.Kind {
	case KindSystem:
		w, err := st.subjectHashed(op, s, uhash, now)
		if err != nil {
			return false, err
		}
		return st.hasSys(w, st.groupsOf(w, buf[:0]), p.bit), nil
	case KindProject:
		return st.checkProject(op, s, uhash, p, r.ID, now)
	case KindDomain:
		if r.ID == "" {
			return false, noDomain(op)
		}
		w, err := st.subjectHashed(op, s, uhash, now)
		if err != nil {
			return false, err
		}
		if w.denied() {
			return false, nil
		}
		return st.hasDomain(st.groupsOf(w, buf[:0]), r.ID), nil
	case KindFolder:
		return st.checkFolder(op, s, uhash, p, r.ID, now)
	}
	return false, domain.E(op, domain.KindInvalid, errorf("unknown resource kind %q", r.Kind))
}

// checkProject is check of a project permission, the user's slot asked
// for (check). The project's list of present groups is fetched while
// the user is looked up, as checkFolder does: the misses overlap instead
// of following one another.
func (st *state) checkProject(op string, s Subject, uhash uint64, p permSpec, id string, now time.Time) (bool, error) {
	pi, pr, err := st.projectByID(op, id)
	if err != nil {
		return false, err
	}
	if len(pr.groups) > 0 {
		prefetch(unsafe.Pointer(&pr.groups[0]))
	}
	w, err := st.subjectHashed(op, s, uhash, now)
	if err != nil {
		return false, err
	}
	return st.hasProjDirect(w, pr, pi, p.bit), nil
}

func (st *state) projectByID(op, id string) (int32, *projectRec, error) {
	if i, ok := st.projectIx.get(id); ok {
		if p := st.projects.get(i); p != nil {
			return i, p, nil
		}
	}
	return none, nil, domain.E(op, domain.KindNotFound, errorf("project %q not found", id))
}

// noDomain refuses a domain without a name, as ParseResource does.
func noDomain(op string) error {
	return domain.E(op, domain.KindInvalid, errorf("a domain resource needs a name: domain:<name>"))
}

func mismatch(op, permission string, p permSpec, r Resource) error {
	if r.Kind != KindSystem && r.Kind != KindProject && r.Kind != KindDomain && r.Kind != KindFolder {
		return domain.E(op, domain.KindInvalid, errorf("unknown resource kind %q", r.Kind))
	}
	return domain.E(op, domain.KindInvalid, errorf("permission %q applies to %s resources, not to %s", permission, p.kind, r))
}
