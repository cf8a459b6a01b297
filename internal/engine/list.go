package engine

import (
	"slices"
	"sort"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// ListResources lists the resources of kind on which s holds permission.
// Folders are not checked one by one: the walk starts only at the folders
// where one of the subject's groups has a level entry or a granting rule
// match, and carries the inherited state down each such subtree once.
func (e *Engine) ListResources(s Subject, permission string, kind ResourceKind, under string, now time.Time) ([]string, error) {
	const op = "engine.ListResources"
	st := e.cur.Load()
	p, err := parsePerm(op, permission)
	if err != nil {
		return nil, err
	}
	if kind != KindProject && kind != KindDomain && kind != KindFolder {
		return nil, domain.E(op, domain.KindInvalid, errorf("resources of kind %q cannot be listed; list project, domain or folder", kind))
	}
	if p.kind != kind {
		return nil, domain.E(op, domain.KindInvalid, errorf("permission %q applies to %s resources, not to %s", permission, p.kind, kind))
	}
	underI := none
	if kind == KindFolder && under != "" {
		fi, _, err := st.folderByID(op, under)
		if err != nil {
			return nil, err
		}
		underI = fi
	}
	w, err := st.subject(op, s, now)
	if err != nil {
		return nil, err
	}
	out := []string{}
	if w.denied() {
		return out, nil
	}
	var buf [maxGroupsOnStack]int32
	groups := st.groupsOf(w, buf[:0])
	switch kind {
	case KindProject:
		for pi := range st.projects.n {
			if pr := st.projects.get(pi); pr != nil && st.hasProj(w, groups, pr, pi, p.bit) {
				out = append(out, pr.id)
			}
		}
	case KindDomain:
		for _, gi := range groups {
			if g := st.groups.get(gi); g != nil {
				out = append(out, g.domains...)
			}
		}
		slices.Sort(out)
		out = slices.Compact(out)
		return out, nil
	case KindFolder:
		out = st.listFolders(w, groups, p, underI)
	}
	sort.Strings(out)
	return out, nil
}

func (st *state) declares(f *folderRec, ctx string) bool {
	return slices.Contains(st.contextsOf(f), ctx)
}

func (st *state) under(fi, root int32) bool {
	for x := fi; x != none; x = st.folders.get(x).parent {
		if x == root {
			return true
		}
	}
	return false
}

func (st *state) listFolders(w who, groups []int32, p permSpec, underI int32) []string {
	out := []string{}
	if st.sysOf(w, groups)&bitFilesAdmin != 0 { // R17: every folder
		if underI != none {
			st.walk(underI, func(fi int32, f *folderRec) {
				if st.declares(f, p.ctx) {
					out = append(out, f.id)
				}
			})
			return out
		}
		for fi := range st.folders.n {
			if f := st.folders.get(fi); f != nil && st.declares(f, p.ctx) {
				out = append(out, f.id)
			}
		}
		return out
	}
	need, byLevel := domain.LevelFor(p.action)
	seeds := map[int32]bool{}
	for _, gi := range groups {
		g := st.groups.get(gi)
		if g == nil {
			continue
		}
		if byLevel {
			for _, fi := range g.levelFolders {
				seeds[fi] = true
			}
		}
		for _, ri := range g.rules {
			if r := st.rules.get(ri); r != nil && r.grantsPerm(p.ctx, p.action) {
				for _, fi := range r.matched {
					seeds[fi] = true
				}
			}
		}
	}
	// A seed with a seed above it is reached from that one.
	var tops []int32
	for fi := range seeds {
		top := true
		for x := st.folders.get(fi).parent; x != none; x = st.folders.get(x).parent {
			if seeds[x] {
				top = false
				break
			}
		}
		if top {
			tops = append(tops, fi)
		}
	}
	l := lister{st: st, groups: groups, ctx: p.ctx, action: p.action, need: need, byLevel: byLevel, out: out}
	levels := make([]domain.Level, len(groups))
	for _, fi := range tops {
		l.visit(fi, levels, false)
	}
	out = l.out
	if underI != none {
		out = out[:0]
		for _, id := range l.out {
			fi, _ := st.folderIx.get(id)
			if st.under(fi, underI) {
				out = append(out, id)
			}
		}
	}
	return out
}

// walk calls fn on fi and every descendant.
func (st *state) walk(fi int32, fn func(int32, *folderRec)) {
	stack := []int32{fi}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f := st.folders.get(x)
		fn(x, f)
		stack = append(stack, f.children...)
	}
}

type lister struct {
	st      *state
	groups  []int32
	ctx     string
	action  domain.Action
	need    domain.Level
	byLevel bool
	out     []string
}

// visit carries down the subtree each group's inherited level (levels is
// indexed like groups; nearer entries replace it, R15) and whether a rule
// matched above grants the permission (R16).
func (l *lister) visit(fi int32, levels []domain.Level, ruled bool) {
	f := l.st.folders.get(fi)
	if l.byLevel && len(f.levels) > 0 {
		copied := false
		i, j := 0, 0
		for i < len(l.groups) && j < len(f.levels) {
			switch g, e := l.groups[i], f.levels[j]; {
			case g < e.g:
				i++
			case g > e.g:
				j++
			default:
				if !copied {
					levels = slices.Clone(levels)
					copied = true
				}
				levels[i] = e.l
				i++
				j++
			}
		}
	}
	if !ruled {
		for _, ref := range f.rules {
			if containsSorted(l.groups, ref.g) && l.st.rules.get(ref.r).grantsPerm(l.ctx, l.action) {
				ruled = true
				break
			}
		}
	}
	allowed := ruled
	if !allowed && l.byLevel {
		for _, lv := range levels {
			if lv >= l.need {
				allowed = true
				break
			}
		}
	}
	if allowed && l.st.declares(f, l.ctx) {
		l.out = append(l.out, f.id)
	}
	for _, c := range f.children {
		l.visit(c, levels, ruled)
	}
}

// ListSubjects lists the active users allowed permission on r. Candidates
// come from the groups and roles that could grant it; each candidate is
// then checked in full, so exclusive projects, expiry and R18 apply.
func (e *Engine) ListSubjects(permission string, r Resource, now time.Time) ([]SubjectGrant, bool, error) {
	const op = "engine.ListSubjects"
	st := e.cur.Load()
	anon, err := st.check(op, Anonymous, permission, r, now)
	if err != nil {
		return nil, false, err
	}
	p, _ := parsePerm(op, permission)
	// grants reports whether a group on its own could contribute.
	var grants func(gi int32, g *groupRec) bool
	roleGrants := func(ri int32) bool { return false }
	switch r.Kind {
	case KindSystem:
		grants = func(gi int32, g *groupRec) bool { return (g.sys|st.roleSys(g.role))&(1<<p.bit) != 0 }
		roleGrants = func(ri int32) bool { return st.roleSys(ri)&(1<<p.bit) != 0 }
	case KindProject:
		_, pr, _ := st.projectByID(op, r.ID)
		grants = func(gi int32, g *groupRec) bool { _, found := findBy(pr.groups, gi, presenceKey); return found }
	case KindDomain:
		grants = func(gi int32, g *groupRec) bool { _, found := slices.BinarySearch(g.domains, r.ID); return found }
	case KindFolder:
		fi, _, _ := st.folderByID(op, r.ID)
		levels := st.resolveLevels(fi)
		need, byLevel := domain.LevelFor(p.action)
		ruled := map[int32]bool{}
		for x := fi; x != none; x = st.folders.get(x).parent {
			for _, ref := range st.folders.get(x).rules {
				if st.rules.get(ref.r).grantsPerm(p.ctx, p.action) {
					ruled[ref.g] = true
				}
			}
		}
		grants = func(gi int32, g *groupRec) bool {
			n, ok := levels[gi]
			return byLevel && ok && n.l >= need || ruled[gi] || (g.sys|st.roleSys(g.role))&bitFilesAdmin != 0
		}
		roleGrants = func(ri int32) bool { return st.roleSys(ri)&bitFilesAdmin != 0 }
	}
	cand := map[int32]bool{}
	all := false
	for gi := range st.groups.n {
		g := st.groups.get(gi)
		if g == nil || !grants(gi, g) {
			continue
		}
		if gi == gEveryone || gi == gPublic {
			all = true
			break
		}
		for _, ui := range st.effectiveCandidates(gi) {
			cand[ui] = true
		}
	}
	var users []SubjectGrant
	consider := func(ui int32, u *userRec) error {
		if !u.active {
			return nil
		}
		s := Subject{UserID: u.id}
		ok, err := st.check(op, s, permission, r, now)
		if err != nil || !ok {
			return err
		}
		w := userWho(u, nanos(now))
		gs := st.sources(w, p, r)
		slices.Sort(gs)
		gs = slices.Compact(gs)
		users = append(users, SubjectGrant{UserID: u.id, Username: u.username, Groups: gs, Paths: st.nestedPaths(w, gs)})
		return nil
	}
	pi := none
	if r.Kind == KindProject {
		pi, _, _ = st.projectByID(op, r.ID)
	}
	for ui := range st.users.n {
		u := st.users.get(ui)
		if u == nil {
			continue
		}
		individual := roleGrants(u.role)
		if pi != none {
			_, individual = findBy(u.pgrants, pi, userGrantKey)
		}
		if all || cand[ui] || individual {
			if err := consider(ui, u); err != nil {
				return nil, false, err
			}
		}
	}
	sort.Slice(users, func(i, j int) bool { return users[i].UserID < users[j].UserID })
	return users, anon, nil
}

// EffectivePermissions lists, sorted, every permission s holds on r.
func (e *Engine) EffectivePermissions(s Subject, r Resource, now time.Time) ([]string, error) {
	const op = "engine.EffectivePermissions"
	st := e.cur.Load()
	w, err := st.subject(op, s, now)
	var buf [maxGroupsOnStack]int32
	out := []string{}
	switch r.Kind {
	case KindSystem:
		if err != nil {
			return nil, err
		}
		groups := st.groupsOf(w, buf[:0])
		m := st.sysOf(w, groups)
		if w.u != nil && !w.u.showPI {
			m &^= bitPersonalInfo
		}
		out = append(out, sysKeysOf(m)...)
	case KindProject:
		pi, pr, perr := st.projectByID(op, r.ID)
		if perr != nil {
			return nil, perr
		}
		if err != nil {
			return nil, err
		}
		m := st.projOf(w, st.groupsOf(w, buf[:0]), pr, pi)
		if w.u == nil || !w.u.showPI {
			m &^= bitProjPersonalPI
		}
		out = append(out, projKeysOf(m)...)
	case KindDomain:
		if r.ID == "" {
			return nil, noDomain(op)
		}
		if err != nil {
			return nil, err
		}
		if !w.denied() && st.hasDomain(st.groupsOf(w, buf[:0]), r.ID) {
			out = append(out, domain.PermDomainAccess)
		}
	case KindFolder:
		fi, f, ferr := st.folderByID(op, r.ID)
		if ferr != nil {
			return nil, ferr
		}
		if err != nil {
			return nil, err
		}
		if w.denied() {
			return out, nil
		}
		groups := st.groupsOf(w, buf[:0])
		admin := st.sysOf(w, groups)&bitFilesAdmin != 0
		for _, ctx := range st.contextsOf(f) {
			for a := domain.Action(0); a < domain.NumActions; a++ {
				if admin || st.folderAllows(groups, fi, ctx, a) {
					out = append(out, ctx+"."+a.String())
				}
			}
		}
	default:
		return nil, domain.E(op, domain.KindInvalid, errorf("unknown resource kind %q", r.Kind))
	}
	sort.Strings(out)
	return out, nil
}

// sources lists the group ids through which an allowed user holds p on r,
// "" for the user's own grant: the GroupIDs of Explain's paths, computed
// without building them.
func (st *state) sources(w who, p permSpec, r Resource) []string {
	groups := st.groupsOf(w, nil)
	var out []string
	add := func(gi int32) {
		if g := st.groups.get(gi); g != nil {
			out = append(out, g.id)
		}
	}
	sysFrom := func(bit uint64) {
		if st.roleSys(w.u.role)&bit != 0 {
			out = append(out, "")
		}
		for _, gi := range groups {
			if st.gsys.get(gi)&bit != 0 {
				add(gi)
			}
		}
	}
	switch r.Kind {
	case KindSystem:
		sysFrom(1 << p.bit)
	case KindProject:
		pi, pr, _ := st.projectByID("", r.ID)
		inGroup := false
		for _, e := range pr.groups {
			if !containsSorted(groups, e.g) {
				continue
			}
			if e.g >= nBuiltin {
				inGroup = true
			}
			if (e.mask|st.roleProj(e.role))&(1<<p.bit) != 0 {
				add(e.g)
			}
		}
		if i, found := findBy(w.u.pgrants, pi, userGrantKey); found && !(pr.exclusive && inGroup) {
			if g := w.u.pgrants[i]; (g.mask|st.roleProj(g.role))&(1<<p.bit) != 0 {
				out = append(out, "")
			}
		}
	case KindDomain:
		for _, gi := range groups {
			if g := st.groups.get(gi); g != nil {
				if _, found := slices.BinarySearch(g.domains, r.ID); found {
					add(gi)
				}
			}
		}
	case KindFolder:
		sysFrom(bitFilesAdmin)
		fi, _ := st.folderIx.get(r.ID)
		if need, ok := domain.LevelFor(p.action); ok {
			for g, n := range st.resolveLevels(fi) {
				if n.l >= need && containsSorted(groups, g) {
					add(g)
				}
			}
		}
		for x := fi; x != none; x = st.folders.get(x).parent {
			for _, ref := range st.folders.get(x).rules {
				if containsSorted(groups, ref.g) && st.rules.get(ref.r).grantsPerm(p.ctx, p.action) {
					add(ref.g)
				}
			}
		}
	}
	return out
}
