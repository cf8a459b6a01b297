package engine

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Administration asks the engine three questions besides checks (R3,
// R22, docs/model.md): what would a write grant or take away that its
// caller does not hold, does a user hold anything the caller does not,
// and does anyone hold server.manage for good. They are answered here, by
// the code that answers checks, on two versions of the index: the one a
// write builds on and the one it would produce (Stage), so that the
// service's authorization kernel re-implements no rule from store rows.

// stageGen hands out generations for staged indexes, far above any
// Apply's, so a staged index never shares a writable chunk with another.
var stageGen atomic.Uint64

func init() { stageGen.Store(1 << 62) }

// Stage returns an engine holding the index as it would be after muts,
// leaving e as it is. The result answers every query; its revision is e's
// plus one. Either every mutation applies or Stage fails.
func (e *Engine) Stage(muts []domain.Mutation) (*Engine, error) {
	const op = "engine.Stage"
	old := e.cur.Load()
	next := *old
	gen := stageGen.Add(1)
	b := &builder{s: &next, gen: gen, op: op}
	for i := range muts {
		if err := b.apply(&muts[i]); err != nil {
			return nil, domain.E(op, err)
		}
	}
	b.publish()
	next.rev = old.rev + 1
	out := &Engine{gen: gen}
	out.cur.Store(&next)
	return out, nil
}

// Holder is whose holdings bound an administrative write (R22): a user,
// and the permissions of the API token they call with when it is limited.
// A limited token holds the user's system permissions within its limit
// (closed under R8) and no project, domain or folder permission.
type Holder struct {
	UserID  string
	Limited bool
	Limit   []string
}

// holder is a Holder resolved in one state.
type holder struct {
	st      *state
	w       who
	groups  []int32
	sys     uint64
	limited bool
}

func (st *state) holderOf(op string, h Holder, now time.Time) (*holder, error) {
	if h.UserID == "" {
		return nil, domain.E(op, domain.KindUnauthenticated, errorf("an anonymous caller holds nothing"))
	}
	w, err := st.subject(op, Subject{UserID: h.UserID}, now)
	if err != nil {
		return nil, err
	}
	groups := st.groupsOf(w, nil)
	// Raw holdings: R18's preference hides personal information from its
	// holder's own answers, it does not take the permission away.
	sys := st.sysOf(w, groups)
	if h.Limited {
		// A limited token holds no folder permission (the service's
		// rule), so not files.admin's either.
		sys &= sysMask(h.Limit)
		if sys&bitServerManage == 0 {
			sys &^= bitFilesAdmin
		}
	}
	return &holder{st: st, w: w, groups: groups, sys: sys, limited: h.Limited}, nil
}

var bitServerManage = uint64(1) << fixedPerms[domain.PermServerManage].bit

// root reports server.manage: its holders may grant anything (R22's
// exemption) and act on anyone (docs/decisions.md).
func (h *holder) root() bool { return h.sys&bitServerManage != 0 }

// sharesGroup reports whether h holds whatever group gi gives, by being
// in it too: a limited token holds no folder, domain or project
// permission of its groups, only the implicit Everyone and Public's, which
// the model gives every user.
func (h *holder) sharesGroup(gi int32) bool {
	if h.limited && gi != gEveryone && gi != gPublic {
		return false
	}
	return containsSorted(h.groups, gi)
}

// filesAdmin is R17 for the caller.
func (h *holder) filesAdmin() bool { return h.sys&bitFilesAdmin != 0 }

func (h *holder) lacksProj(pi int32, m uint8) uint8 {
	p := h.st.projects.get(pi)
	if h.limited || p == nil {
		return m
	}
	return m &^ h.st.projOf(h.w, h.groups, p, pi)
}

func (h *holder) lacksDomain(name string) bool {
	return h.limited || h.w.denied() || !h.st.hasDomain(h.groups, name)
}

func (h *holder) lacksFolder(fi int32, ctx string, a domain.Action) bool {
	if h.limited || h.w.denied() {
		return true
	}
	return !h.filesAdmin() && !h.st.folderAllows(h.groups, fi, ctx, a)
}

// report collects what a caller lacks, once each, in a stable order.
type report struct {
	seen map[string]bool
	out  []string
}

func (r *report) add(what string) {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if !r.seen[what] {
		r.seen[what] = true
		r.out = append(r.out, what)
	}
}

func (r *report) sorted() []string {
	sort.Strings(r.out)
	return r.out
}

// lacking reports, against h, a set of system bits, project bits on pi,
// a domain, or a folder permission, each with why it is at stake.
func (r *report) sys(h *holder, m uint64, why string) {
	for _, k := range sysKeysOf(strongest(m&^h.sys, sysClosure)) {
		r.add(k + why)
	}
}

func (r *report) proj(h *holder, pi int32, m uint8, why string) {
	if miss := h.lacksProj(pi, m); miss != 0 {
		name := pi2name(h.st, pi)
		for _, k := range projKeysOf(uint8(strongest(uint64(miss), projClosure))) {
			r.add(k + " on project " + name + why)
		}
	}
}

// strongest keeps, of a set of permission bits, those no other bit of the
// set implies (R8): server.manage rather than everything it implies.
func strongest(m uint64, closure []uint64) uint64 {
	out := m
	for i := range closure {
		if m&(1<<i) != 0 {
			out &^= closure[i] &^ (1 << i)
		}
	}
	return out
}

// pi2name names a project by id and name: ids are what the API takes,
// names what people read.
func pi2name(st *state, pi int32) string {
	if p := st.projects.get(pi); p != nil {
		return p.id + " (" + strconv.Quote(p.name) + ")"
	}
	return "#" + strconv.Itoa(int(pi))
}

func groupName(st *state, gi int32) string {
	if g := st.groups.get(gi); g != nil {
		return strconv.Quote(g.name)
	}
	return "#" + strconv.Itoa(int(gi))
}

// Outranks lists what user target holds that h does not: system
// permissions, project permissions per project, domains and folder
// permissions, counted as if target were active (a disabled
// administrator must not be re-enabled, or given a new password, by a
// lesser one) and regardless of R18's preference. Acting on a user is
// allowed only when this is empty (R22). server.manage holders outrank
// everyone (docs/decisions.md).
func (e *Engine) Outranks(target string, h Holder, now time.Time) ([]string, error) {
	const op = "engine.Outranks"
	st := e.cur.Load()
	hd, err := st.holderOf(op, h, now)
	if err != nil {
		return nil, err
	}
	if hd.root() {
		return nil, nil
	}
	tw, err := st.subject(op, Subject{UserID: target}, now)
	if err != nil {
		return nil, err
	}
	active := *tw.u
	active.active = true
	var r report
	st.holdings(userWho(&active, tw.now), hd, &r, "")
	return r.sorted(), nil
}

// holdings reports everything w holds that h lacks. Grants combine by
// union over groups (R13–R16), and h holds whatever the groups it shares
// with w give (the implicit Everyone and Public above all, which the
// model gives every user, not an administrator), so only w's individual
// grants and w's other groups can give w more.
func (st *state) holdings(w who, h *holder, r *report, why string) {
	var own []int32
	for _, gi := range st.groupsOf(w, nil) {
		if !h.sharesGroup(gi) {
			own = append(own, gi)
		}
	}
	sys := st.sysOf(w, own)
	r.sys(h, sys, why)
	var projects []int32
	for _, g := range w.u.pgrants {
		projects = append(projects, g.p)
	}
	for _, gi := range own {
		if g := st.groups.get(gi); g != nil {
			projects = append(projects, g.projects...)
			for _, d := range g.domains {
				if h.lacksDomain(d) {
					r.add("domain.access on domain " + strconv.Quote(d) + why)
				}
			}
		}
	}
	slices.Sort(projects)
	for _, pi := range slices.Compact(projects) {
		if p := st.projects.get(pi); p != nil {
			r.proj(h, pi, st.projOf(w, own, p, pi), why)
		}
	}
	if sys&bitFilesAdmin != 0 || h.filesAdmin() {
		return // reported above as files.admin, or held by h everywhere
	}
	for _, gi := range own {
		st.groupFolders(gi, func(fi int32, ctx string, a domain.Action) {
			if h.lacksFolder(fi, ctx, a) {
				r.add(ctx + "." + a.String() + " on folder " + st.folderPath(fi) + why)
			}
		})
	}
}

// groupFolders calls fn for every folder permission group gi gives on
// its own, through levels and rules, on every folder below its entries.
func (st *state) groupFolders(gi int32, fn func(fi int32, ctx string, a domain.Action)) {
	g := st.groups.get(gi)
	if g == nil {
		return
	}
	roots := slices.Clone(g.levelFolders)
	for _, ri := range g.rules {
		if r := st.rules.get(ri); r != nil {
			roots = append(roots, r.matched...)
		}
	}
	one := []int32{gi}
	seen := map[int32]bool{}
	for _, root := range roots {
		if st.folders.get(root) == nil || seen[root] {
			continue
		}
		st.walk(root, func(fi int32, f *folderRec) {
			if seen[fi] {
				return
			}
			seen[fi] = true
			for _, ctx := range st.contextsOf(f) {
				for a := domain.Action(0); a < domain.NumActions; a++ {
					if st.folderAllows(one, fi, ctx, a) {
						fn(fi, ctx, a)
					}
				}
			}
		})
	}
}

// GrantsBeyond lists what the change from e to after grants or takes
// away that h does not hold in e at now (R22: a caller grants or takes
// away, by role, checkbox, membership, rule, level, domain or individual
// right, only what they hold). It compares the grants, not each user's
// resulting permissions: everything a grant hands out counts, even to a
// user who held it already another way, which errs on the side of
// refusing. Resources the change creates or deletes are not compared (a
// new folder inheriting levels is not an escalation by its creator; a
// deleted one grants nothing). server.manage holders are exempt.
func (e *Engine) GrantsBeyond(after *Engine, h Holder, now time.Time) ([]string, error) {
	const op = "engine.GrantsBeyond"
	b, a := e.cur.Load(), after.cur.Load()
	hd, err := b.holderOf(op, h, now)
	if err != nil {
		return nil, err
	}
	if hd.root() {
		return nil, nil
	}
	d := &delta{b: b, a: a, h: hd, now: nanos(now)}
	d.groups()
	d.users()
	d.nesting()
	d.projects()
	d.roles()
	if !hd.filesAdmin() {
		d.folders()
	}
	return d.r.sorted(), nil
}

type delta struct {
	b, a *state
	h    *holder
	now  int64
	r    report
}

func maxN(x, y int32) int32 { return max(x, y) }

// mergeSorted walks two lists sorted by key and calls fn once per key,
// with the item of each list at that key, or nil where a list has none.
func mergeSorted[T any](a, b []T, key func(T) int32, fn func(k int32, x, y *T)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || i < len(a) && key(a[i]) < key(b[j]):
			fn(key(a[i]), &a[i], nil)
			i++
		case i >= len(a) || key(b[j]) < key(a[i]):
			fn(key(b[j]), nil, &b[j])
			j++
		default:
			fn(key(a[i]), &a[i], &b[j])
			i++
			j++
		}
	}
}

// groups compares each group's system permissions (checkboxes and role)
// and accessible domains.
func (d *delta) groups() {
	for gi := range maxN(d.b.groups.n, d.a.groups.n) {
		gb, ga := d.b.groups.get(gi), d.a.groups.get(gi)
		sb, sa := d.b.gsys.get(gi), d.a.gsys.get(gi)
		if gb == ga && sb == sa {
			continue
		}
		name := groupName(d.a, gi)
		if ga == nil {
			name = groupName(d.b, gi)
		}
		why := " (group " + name + ")"
		d.r.sys(d.h, sb^sa, why)
		var db, da []string
		if gb != nil {
			db = gb.domains
		}
		if ga != nil {
			da = ga.domains
		}
		for _, dom := range symmetric(db, da) {
			if d.h.lacksDomain(dom) {
				d.r.add("domain.access on domain " + strconv.Quote(dom) + why)
			}
		}
	}
}

func symmetric(x, y []string) []string {
	var out []string
	for _, s := range x {
		if !slices.Contains(y, s) {
			out = append(out, s)
		}
	}
	for _, s := range y {
		if !slices.Contains(x, s) {
			out = append(out, s)
		}
	}
	return out
}

// users compares each user's individual role, individual project rights,
// memberships and status.
func (d *delta) users() {
	for ui := range maxN(d.b.users.n, d.a.users.n) {
		ub, ua := d.b.users.get(ui), d.a.users.get(ui)
		if ub == ua {
			continue
		}
		switch {
		case ub == nil:
			d.userGrants(d.a, ua, " (new user "+strconv.Quote(ua.username)+")")
		case ua == nil:
			d.userGrants(d.b, ub, " (deleted user "+strconv.Quote(ub.username)+")")
		case ub.active != ua.active:
			st, u := d.b, ub
			if ua.active {
				st, u = d.a, ua
			}
			d.userGrants(st, u, " (user "+strconv.Quote(u.username)+" enabled or disabled)")
		default:
			d.userChange(ub, ua)
		}
	}
}

// userGrants reports all of u's holdings in st, as if active.
func (d *delta) userGrants(st *state, u *userRec, why string) {
	active := *u
	active.active = true
	st.holdings(userWho(&active, d.now), d.h, &d.r, why)
}

func (d *delta) userChange(ub, ua *userRec) {
	why := " (user " + strconv.Quote(ua.username) + ")"
	d.r.sys(d.h, d.b.roleSys(ub.role)^d.a.roleSys(ua.role), why)
	// Individual project rights, merged by project.
	mergeSorted(ub.pgrants, ua.pgrants, userGrantKey, func(pi int32, x, y *userGrant) {
		var mb, ma uint8
		if x != nil {
			mb = x.mask | d.b.roleProj(x.role)
		}
		if y != nil {
			ma = y.mask | d.a.roleProj(y.role)
		}
		if d.b.projects.get(pi) != nil && d.a.projects.get(pi) != nil {
			d.r.proj(d.h, pi, mb^ma, why)
		}
	})
	// Memberships: one added, removed, or whose expiry moved hands out or
	// takes back everything its group gives.
	mergeSorted(ub.groups, ua.groups, membKey, func(_ int32, x, y *memb) {
		switch {
		case y == nil:
			d.membership(d.b, *x, why)
		case x == nil || x.exp != y.exp:
			d.membership(d.a, *y, why)
		}
	})
}

// membership reports what group m.g gives in st, unless the membership
// has expired by now (it gives nothing, before or after).
func (d *delta) membership(st *state, m memb, why string) {
	if m.exp <= d.now || st.groups.get(m.g) == nil {
		return
	}
	why = why[:len(why)-1] + ", membership of group " + groupName(st, m.g) + ")"
	d.r.sys(d.h, st.gsys.get(m.g), why)
	g := st.groups.get(m.g)
	for _, dom := range g.domains {
		if d.h.lacksDomain(dom) {
			d.r.add("domain.access on domain " + strconv.Quote(dom) + why)
		}
	}
	for _, pi := range g.projects {
		p := st.projects.get(pi)
		if p == nil || d.b.projects.get(pi) == nil {
			continue
		}
		if k, ok := findBy(p.groups, m.g, presenceKey); ok {
			e := p.groups[k]
			d.r.proj(d.h, pi, e.mask|st.roleProj(e.role), why)
		}
	}
	if d.h.filesAdmin() {
		return
	}
	st.groupFolders(m.g, func(fi int32, ctx string, a domain.Action) {
		if d.b.folders.get(fi) != nil && d.h.lacksFolder(fi, ctx, a) {
			d.r.add(ctx + "." + a.String() + " on folder " + st.folderPath(fi) + why)
		}
	})
}

// projects compares each project's group presences and mode.
func (d *delta) projects() {
	for pi := range maxN(d.b.projects.n, d.a.projects.n) {
		pb, pa := d.b.projects.get(pi), d.a.projects.get(pi)
		if pb == pa || pb == nil || pa == nil {
			continue // unchanged, created or deleted
		}
		if pb.exclusive != pa.exclusive {
			// Which grants count changes for every member: every right
			// given on the project is at stake.
			d.r.proj(d.h, pi, d.allRightsOn(pi), " (membership mode of project "+pi2name(d.a, pi)+")")
		}
		mergeSorted(pb.groups, pa.groups, presenceKey, func(gi int32, x, y *presence) {
			var mb, ma uint8
			if x != nil {
				mb = x.mask | d.b.roleProj(x.role)
			}
			if y != nil {
				ma = y.mask | d.a.roleProj(y.role)
			}
			d.r.proj(d.h, pi, mb^ma, " (group "+groupName(d.a, gi)+")")
		})
	}
}

// allRightsOn is the union of every grant on project pi, before and
// after: its groups' and its users' individual ones.
func (d *delta) allRightsOn(pi int32) uint8 {
	var m uint8
	for _, st := range []*state{d.b, d.a} {
		for _, e := range st.projects.get(pi).groups {
			m |= e.mask | st.roleProj(e.role)
		}
		for ui := range st.users.n {
			if u := st.users.get(ui); u != nil {
				if k, ok := findBy(u.pgrants, pi, userGrantKey); ok {
					m |= u.pgrants[k].mask | st.roleProj(u.pgrants[k].role)
				}
			}
		}
	}
	return m
}

// roles compares each role's permissions: an edit grants or takes them
// from every holder. A project role counts on every project it is used on.
func (d *delta) roles() {
	for ri := range maxN(d.b.roles.n, d.a.roles.n) {
		rb, ra := d.b.roles.get(ri), d.a.roles.get(ri)
		if rb == ra || ra == nil {
			continue // unchanged, or deleted (refused while used)
		}
		why := " (role " + strconv.Quote(ra.name) + ")"
		if rb == nil {
			// Nobody holds a new role yet, but a role is a grant waiting to
			// be given: it may hold only what its creator holds.
			d.r.sys(d.h, ra.sys, why)
			continue
		}
		d.r.sys(d.h, rb.sys^ra.sys, why)
		changed := rb.proj ^ ra.proj
		if changed == 0 {
			continue
		}
		for _, pi := range d.projectsUsing(ri) {
			d.r.proj(d.h, pi, changed, why)
		}
	}
}

func (d *delta) projectsUsing(ri int32) []int32 {
	var out []int32
	for pi := range d.b.projects.n {
		if p := d.b.projects.get(pi); p != nil && d.a.projects.get(pi) != nil {
			for _, e := range p.groups {
				if e.role == ri {
					out = append(out, pi)
					break
				}
			}
		}
	}
	for ui := range d.b.users.n {
		if u := d.b.users.get(ui); u != nil {
			for _, g := range u.pgrants {
				if g.role == ri && d.a.projects.get(g.p) != nil {
					out = append(out, g.p)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// folders compares, for every group whose folder grants a change may
// move (levels set or removed, rules changed, folders moved, retyped or
// given other properties), what the group gives on each folder below the
// change, before and after.
func (d *delta) folders() {
	type pair struct{ g, root int32 }
	var pairs []pair
	for fi := range maxN(d.b.folders.n, d.a.folders.n) {
		fb, fa := d.b.folders.get(fi), d.a.folders.get(fi)
		if fb == fa || fb == nil || fa == nil {
			continue
		}
		for _, g := range levelChanges(fb.levels, fa.levels) {
			pairs = append(pairs, pair{g, fi})
		}
		if fb.parent != fa.parent || fb.typ != fa.typ || !slices.Equal(fb.props, fa.props) {
			for _, g := range d.groupsAround(fi) {
				pairs = append(pairs, pair{g, fi})
			}
		}
	}
	for ri := range maxN(d.b.rules.n, d.a.rules.n) {
		rb, ra := d.b.rules.get(ri), d.a.rules.get(ri)
		if rb == ra {
			continue
		}
		for _, r := range []*ruleRec{rb, ra} {
			if r != nil {
				for _, fi := range r.matched {
					pairs = append(pairs, pair{r.g, fi})
				}
			}
		}
	}
	seen := map[pair]bool{}
	for _, p := range pairs {
		for _, st := range []*state{d.a, d.b} {
			if st.folders.get(p.root) == nil {
				continue
			}
			st.walk(p.root, func(fi int32, _ *folderRec) {
				if k := (pair{p.g, fi}); !seen[k] {
					seen[k] = true
					d.folderDiff(p.g, fi)
				}
			})
		}
	}
}

// levelChanges lists the groups whose level entry differs between two
// sorted entry lists.
func levelChanges(b, a []lvl) []int32 {
	var out []int32
	mergeSorted(b, a, lvlKey, func(g int32, x, y *lvl) {
		if x == nil || y == nil || x.l != y.l {
			out = append(out, g)
		}
	})
	return out
}

// groupsAround lists the groups with level entries or rules on the path
// of fi (before and after) or below it: the groups whose grants on fi's
// subtree a move or a change of type or properties can change.
func (d *delta) groupsAround(fi int32) []int32 {
	var out []int32
	for _, st := range []*state{d.b, d.a} {
		if st.folders.get(fi) == nil {
			continue
		}
		for x := st.folders.get(fi).parent; x != none; x = st.folders.get(x).parent {
			out = appendEntryGroups(out, st, st.folders.get(x))
		}
		st.walk(fi, func(_ int32, f *folderRec) { out = appendEntryGroups(out, st, f) })
	}
	// Rules match by type and properties anywhere: every rule's owner.
	for ri := range d.a.rules.n {
		if r := d.a.rules.get(ri); r != nil {
			out = append(out, r.g)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func appendEntryGroups(out []int32, st *state, f *folderRec) []int32 {
	for _, l := range f.levels {
		out = append(out, l.g)
	}
	for _, r := range f.rules {
		out = append(out, r.g)
	}
	return out
}

// folderDiff reports the folder permissions group g gives on fi before
// and not after, or after and not before, that h lacks. A folder the
// change creates or deletes is not compared.
func (d *delta) folderDiff(g, fi int32) {
	fb, fa := d.b.folders.get(fi), d.a.folders.get(fi)
	if fb == nil || fa == nil {
		return
	}
	one := []int32{g}
	name := groupName(d.a, g)
	if d.a.groups.get(g) == nil {
		name = groupName(d.b, g) // deleted: named as it was
	}
	ctxs := append(slices.Clone(d.b.contextsOf(fb)), d.a.contextsOf(fa)...)
	slices.Sort(ctxs)
	for _, ctx := range slices.Compact(ctxs) {
		inB, inA := d.b.declares(fb, ctx), d.a.declares(fa, ctx)
		for a := domain.Action(0); a < domain.NumActions; a++ {
			before := inB && d.b.folderAllows(one, fi, ctx, a)
			after := inA && d.a.folderAllows(one, fi, ctx, a)
			if before != after && d.h.lacksFolder(fi, ctx, a) {
				d.r.add(ctx + "." + a.String() + " on folder " + d.a.folderPath(fi) + " (group " + name + ")")
			}
		}
	}
}

// HeldForever reports whether an active user holds the system permission
// perm through grants that do not expire, and so at every later instant
// (R3: memberships only ever expire, nothing starts later). When none
// does, until is the last instant at which someone still holds it (the
// zero time when nobody holds it even now).
func (e *Engine) HeldForever(perm string, now time.Time) (forever bool, until time.Time, err error) {
	spec, ok := fixedPerms[perm]
	if !ok || spec.kind != KindSystem {
		return false, time.Time{}, domain.Errorf("engine.HeldForever", domain.KindInvalid, "%q is not a system permission", perm)
	}
	st := e.cur.Load()
	n := nanos(now)
	var last int64
	for ui := range st.users.n {
		u := st.users.get(ui)
		if u == nil || !u.active {
			continue
		}
		holds := func(m uint64) bool { return m&(1<<spec.bit) != 0 } // closed already
		if holds(st.roleSys(u.role)) || holds(st.gsys.get(gEveryone)) {
			return true, time.Time{}, nil
		}
		for _, m := range st.effectiveMembs(u.groups) {
			if m.exp > n && holds(st.gsys.get(m.g)) {
				if m.exp == math.MaxInt64 {
					return true, time.Time{}, nil
				}
				last = max(last, m.exp)
			}
		}
	}
	if last == 0 {
		return false, time.Time{}, nil
	}
	return false, time.Unix(0, last).UTC(), nil
}

// GroupsInProject lists, sorted, the ids of the groups other than the
// built-in ones and except that put user in project at now: their
// unexpired memberships of groups present there. In an exclusive project
// there is at most one (R14's single group, R23). A disabled user's
// memberships count: enabling them must not make a conflict appear.
func (e *Engine) GroupsInProject(userID, projectID, except string, now time.Time) ([]string, error) {
	const op = "engine.GroupsInProject"
	st := e.cur.Load()
	w, err := st.subject(op, Subject{UserID: userID}, now)
	if err != nil {
		return nil, err
	}
	_, p, err := st.projectByID(op, projectID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range st.effectiveMembs(w.u.groups) {
		if m.g < nBuiltin || m.exp <= w.now {
			continue
		}
		if _, ok := findBy(p.groups, m.g, presenceKey); !ok {
			continue
		}
		if g := st.groups.get(m.g); g != nil && g.id != except {
			out = append(out, g.id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// SharedInProject lists the users in more than one non-built-in group
// present in project at now, with those groups' ids, sorted: what R23
// forbids once the project is exclusive.
func (e *Engine) SharedInProject(projectID string, now time.Time) (map[string][]string, error) {
	const op = "engine.SharedInProject"
	st := e.cur.Load()
	_, p, err := st.projectByID(op, projectID)
	if err != nil {
		return nil, err
	}
	n := nanos(now)
	in := map[int32][]string{}
	for _, pr := range p.groups {
		g := st.groups.get(pr.g)
		if pr.g < nBuiltin || g == nil {
			continue
		}
		for _, ui := range st.effectiveCandidates(pr.g) {
			u := st.users.get(ui)
			if u == nil {
				continue
			}
			if st.memberAt(u, pr.g, n) {
				in[ui] = append(in[ui], g.id)
			}
		}
	}
	out := map[string][]string{}
	for ui, gs := range in {
		if len(gs) > 1 {
			slices.Sort(gs)
			out[st.users.get(ui).id] = gs
		}
	}
	return out, nil
}

// MemberAt reports whether user is a member of group at now, directly or
// through nested groups, by a path that counts at now (R6), the built-in
// groups' implicit members aside.
func (e *Engine) MemberAt(userID, groupID string, now time.Time) bool {
	st := e.cur.Load()
	ui, ok := st.userIx.get(userID)
	gi, gok := st.groupIx.get(groupID)
	u := st.users.get(ui)
	if !ok || !gok || u == nil {
		return false
	}
	return st.memberAt(u, gi, nanos(now))
}

func (st *state) memberAt(u *userRec, gi int32, now int64) bool {
	return containsSorted(st.appendEffective(nil, u.groups, now), gi)
}
