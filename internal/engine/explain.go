package engine

import (
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Explain answers like Check and says why (R19). It is the slow path: it
// allocates freely and walks every source instead of stopping at the first.
func (e *Engine) Explain(s Subject, permission string, r Resource, now time.Time) (Explanation, error) {
	return e.explainOn(e.cur.Load(), s, permission, r, now)
}

func (e *Engine) explainOn(st *state, s Subject, permission string, r Resource, now time.Time) (Explanation, error) {
	const op = "engine.Explain"
	x := Explanation{Revision: st.rev, Subject: s, Permission: permission, Resource: r}
	allowed, err := st.check(op, s, permission, r, now)
	if err != nil {
		return x, err
	}
	x.Allowed = allowed
	p, _ := parsePerm(op, permission)
	w, _ := st.subject(op, s, now)
	groups := st.groupsOf(w, nil)
	ex := explainer{st: st, w: w, groups: groups, p: p, permission: permission, x: &x}
	if w.denied() {
		x.Considered = append(x.Considered, "user "+w.u.username+" is disabled (R11)")
		x.Suggestions = append(x.Suggestions, "enable user "+w.u.username)
		x.Reason = "denied: disabled users hold no permission (R11)"
		return x, nil
	}
	switch r.Kind {
	case KindSystem:
		ex.system()
	case KindProject:
		pi, pr, _ := st.projectByID(op, r.ID)
		ex.project(pi, pr)
	case KindDomain:
		ex.domain(r.ID)
	case KindFolder:
		fi, _, _ := st.folderByID(op, r.ID)
		ex.folder(fi)
	}
	canonicalPaths(x.Paths)
	if x.Reason == "" {
		if x.Allowed {
			x.Reason = "allowed by " + plural(len(x.Paths), "grant path")
		} else {
			x.Reason = "denied: no grant of " + permission + " on " + r.String() + " reaches " + ex.who()
		}
	}
	return x, nil
}

func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return itoa(n) + " " + s + "s"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

type explainer struct {
	st         *state
	w          who
	groups     []int32
	p          permSpec
	permission string
	x          *Explanation
}

func (ex *explainer) who() string {
	if ex.w.u == nil {
		return "anonymous"
	}
	return ex.w.u.username
}

func (ex *explainer) groupName(gi int32) string {
	if g := ex.st.groups.get(gi); g != nil {
		return g.name
	}
	return "?"
}

func (ex *explainer) path(gi int32, via string) Path {
	p := Path{Via: via}
	if gi != none {
		if g := ex.st.groups.get(gi); g != nil {
			p.GroupID, p.GroupName = g.id, g.name
			if gi >= nBuiltin {
				p.Through = ex.st.throughNames(ex.w.u, gi, ex.w.now)
			}
		}
	}
	return p
}

func (ex *explainer) role(ri int32) *roleRec {
	if ri == none {
		return nil
	}
	return ex.st.roles.get(ri)
}

// implyingSys returns the held key that implies bit (R8), the key itself first.
func implyingSys(keys []string, bit uint8) (string, bool) {
	best := ""
	for _, k := range keys {
		if sp, ok := fixedPerms[k]; ok && sp.kind == KindSystem && sysClosure[sp.bit]&(1<<bit) != 0 {
			if sp.bit == bit {
				return k, true
			}
			if best == "" || k < best {
				best = k
			}
		}
	}
	return best, best != ""
}

func implyingProj(keys []string, bit uint8) (string, bool) {
	best := ""
	for _, k := range keys {
		if sp, ok := fixedPerms[k]; ok && sp.kind == KindProject && projClosure[sp.bit]&(1<<bit) != 0 {
			if sp.bit == bit {
				return k, true
			}
			if best == "" || k < best {
				best = k
			}
		}
	}
	return best, best != ""
}

// sysPaths lists each source of system permission bit: the user's role,
// each group's role and checkboxes.
func (ex *explainer) sysPaths(bit uint8, via string) []Path {
	var out []Path
	if ex.w.u == nil || !ex.w.u.active {
		return nil
	}
	if r := ex.role(ex.w.u.role); r != nil {
		if k, ok := implyingSys(r.keys, bit); ok {
			p := ex.path(none, "role")
			if via != "" {
				p.Via = via
			}
			p.RoleID, p.RoleName, p.Permission = r.id, r.name, k
			out = append(out, p)
		}
	}
	for _, gi := range ex.groups {
		g := ex.st.groups.get(gi)
		if g == nil || gi == gPublic {
			continue
		}
		if r := ex.role(g.role); r != nil {
			if k, ok := implyingSys(r.keys, bit); ok {
				p := ex.path(gi, "role")
				if via != "" {
					p.Via = via
				}
				p.RoleID, p.RoleName, p.Permission = r.id, r.name, k
				out = append(out, p)
			}
		}
		if k, ok := implyingSys(g.sysKeys, bit); ok {
			p := ex.path(gi, "checkbox")
			if via != "" {
				p.Via = via
			}
			p.Permission = k
			out = append(out, p)
		}
	}
	return out
}

func (ex *explainer) system() {
	x, st, bit := ex.x, ex.st, ex.p.bit
	held := st.sysOf(ex.w, ex.groups)&(1<<bit) != 0
	if x.Allowed {
		x.Paths = ex.sysPaths(bit, "")
		return
	}
	if ex.w.u == nil {
		x.Considered = append(x.Considered, "anonymous requests belong to Public only, which holds no system permission (R5, R12)")
		x.Suggestions = append(x.Suggestions, "sign in as a user who holds "+ex.permission)
		return
	}
	if held {
		x.Paths = ex.sysPaths(bit, "")
		x.Considered = append(x.Considered, ex.who()+" holds "+ex.permission+" but has show_personal_info turned off (R18)")
		x.Suggestions = append(x.Suggestions, "turn on show_personal_info for "+ex.who())
		x.Reason = "denied only because " + ex.who() + " has show_personal_info turned off (R18)"
		x.Paths = nil
		return
	}
	if r := ex.role(ex.w.u.role); r != nil {
		x.Considered = append(x.Considered, "individual role "+r.name+": no "+ex.permission)
	} else {
		x.Considered = append(x.Considered, "no individual system role")
	}
	for _, gi := range ex.groups {
		if gi == gPublic {
			continue
		}
		x.Considered = append(x.Considered, "group "+ex.groupName(gi)+": no "+ex.permission+" by role or checkbox")
	}
	ex.suggestGroups(func(gi int32, g *groupRec) bool {
		return gi != gPublic && (g.sys|st.roleSys(g.role))&(1<<bit) != 0
	})
	if len(x.Suggestions) == 0 {
		x.Suggestions = append(x.Suggestions, "give "+ex.who()+" a system role that includes "+ex.permission)
	}
	ex.pi18(func() bool { return uint64(1)<<bit == bitPersonalInfo })
}

// pi18 notes R18 in a deny that another grant would not lift alone.
func (ex *explainer) pi18(isPI func() bool) {
	if isPI() && ex.w.u != nil && !ex.w.u.showPI {
		ex.x.Considered = append(ex.x.Considered, ex.who()+" has show_personal_info turned off (R18)")
		ex.x.Suggestions = append(ex.x.Suggestions, "turn on show_personal_info for "+ex.who())
	}
}

// maxSuggestions bounds the groups a deny proposes to join.
const maxSuggestions = 5

// suggestGroups proposes adding the user to up to five groups that would
// allow. Only users can be added to groups; Everyone and Public have no
// member list.
func (ex *explainer) suggestGroups(grants func(gi int32, g *groupRec) bool) {
	if ex.w.u == nil {
		return
	}
	n := 0
	for gi := range ex.st.groups.n {
		if n == maxSuggestions {
			break
		}
		g := ex.st.groups.get(gi)
		if g == nil || gi == gEveryone || gi == gPublic || containsSorted(ex.groups, gi) || !grants(gi, g) {
			continue
		}
		ex.x.Suggestions = append(ex.x.Suggestions, "add "+ex.who()+" to group "+g.name)
		n++
	}
}

func (ex *explainer) project(pi int32, pr *projectRec) {
	x, st, bit := ex.x, ex.st, ex.p.bit
	var inGroup bool
	type src struct {
		p    Path
		mask uint8
	}
	var groupSrc, builtinSrc []src
	for _, e := range pr.groups {
		if !containsSorted(ex.groups, e.g) {
			continue
		}
		m := e.mask | st.roleProj(e.role)
		p := ex.path(e.g, "project_grant")
		if k, ok := implyingProj(projKeysOf(e.raw), bit); ok {
			p.Permission = k
		}
		if r := ex.role(e.role); r != nil {
			p.RoleID, p.RoleName = r.id, r.name
			if p.Permission == "" {
				p.Permission, _ = implyingProj(r.keys, bit)
			}
		}
		if e.g < nBuiltin {
			builtinSrc = append(builtinSrc, src{p, m})
		} else {
			groupSrc = append(groupSrc, src{p, m})
			inGroup = true
		}
		if m&(1<<bit) == 0 {
			x.Considered = append(x.Considered, "group "+ex.groupName(e.g)+" is present in project "+pr.name+" without "+ex.permission)
		}
	}
	var individual []src
	if ex.w.u != nil {
		if i, found := findBy(ex.w.u.pgrants, pi, userGrantKey); found {
			g := ex.w.u.pgrants[i]
			p := ex.path(none, "project_grant")
			p.Permission, _ = implyingProj(projKeysOf(g.raw), bit)
			if r := ex.role(g.role); r != nil {
				p.RoleID, p.RoleName = r.id, r.name
				if p.Permission == "" {
					p.Permission, _ = implyingProj(r.keys, bit)
				}
			}
			m := g.mask | st.roleProj(g.role)
			if pr.exclusive && inGroup {
				x.Considered = append(x.Considered, "the individual grant of "+ex.who()+" is replaced by their group's in exclusive project "+pr.name+" (R14)")
			} else {
				individual = append(individual, src{p, m})
				if m&(1<<bit) == 0 {
					x.Considered = append(x.Considered, "individual grant on project "+pr.name+" without "+ex.permission)
				}
			}
		} else {
			x.Considered = append(x.Considered, "no individual grant on project "+pr.name)
		}
	}
	all := append(append(individual, groupSrc...), builtinSrc...)
	holds := false
	for _, s := range all {
		if s.mask&(1<<bit) != 0 {
			holds = true
			if x.Allowed {
				x.Paths = append(x.Paths, s.p)
			}
		}
	}
	if x.Allowed {
		return
	}
	if holds { // R18 is the only reason
		x.Considered = append(x.Considered, ex.who()+" holds "+ex.permission+" on project "+pr.name+" but has show_personal_info turned off (R18)")
		x.Suggestions = append(x.Suggestions, "turn on show_personal_info for "+ex.who())
		x.Reason = "denied only because " + ex.who() + " has show_personal_info turned off (R18)"
		if ex.w.u == nil {
			x.Reason = "denied: anonymous requests have no show_personal_info preference (R18)"
			x.Suggestions = nil
		}
		return
	}
	if !(pr.exclusive && inGroup) {
		ex.suggestGroups(func(gi int32, g *groupRec) bool {
			if i, found := findBy(pr.groups, gi, presenceKey); found {
				e := pr.groups[i]
				return (e.mask|st.roleProj(e.role))&(1<<bit) != 0
			}
			return false
		})
		if ex.w.u != nil {
			x.Suggestions = append(x.Suggestions, "grant "+ex.permission+" on project "+pr.name+" to "+ex.who())
		}
	} else {
		for _, s := range groupSrc {
			x.Suggestions = append(x.Suggestions, "grant "+ex.permission+" on project "+pr.name+" to group "+s.p.GroupName)
		}
	}
	if ex.w.u == nil {
		x.Suggestions = append(x.Suggestions, "grant "+ex.permission+" on project "+pr.name+" to group Public")
	}
	ex.pi18(func() bool { return uint8(1)<<bit == bitProjPersonalPI })
}

func (ex *explainer) domain(name string) {
	x := ex.x
	for _, gi := range ex.groups {
		g := ex.st.groups.get(gi)
		if g == nil {
			continue
		}
		if _, found := slices.BinarySearch(g.domains, name); found {
			p := ex.path(gi, "domain_grant")
			p.Permission = domain.PermDomainAccess
			x.Paths = append(x.Paths, p)
		} else {
			x.Considered = append(x.Considered, "group "+g.name+": no access to domain "+name)
		}
	}
	if x.Allowed {
		return
	}
	ex.suggestGroups(func(_ int32, g *groupRec) bool {
		_, found := slices.BinarySearch(g.domains, name)
		return found
	})
	if len(x.Suggestions) == 0 {
		target := "Public"
		if ex.w.u != nil {
			target = "Everyone"
			for _, gi := range ex.groups {
				if gi >= nBuiltin {
					target = ex.groupName(gi)
					break
				}
			}
		}
		x.Suggestions = append(x.Suggestions, "give group "+target+" access to domain "+name)
	}
}

func (st *state) folderPath(fi int32) string {
	var names []string
	for x := fi; x != none; {
		f := st.folders.get(x)
		names = append(names, f.name)
		x = f.parent
	}
	slices.Reverse(names)
	return "/" + strings.Join(names, "/")
}

// nearest is a group's resolved entry on a folder: the level and where it
// is set, or at none when the group has no entry on the path (R15).
type nearest struct {
	l  domain.Level
	at int32
}

// resolveLevels returns, for every group with an entry on the path of fi,
// its nearest entry.
func (st *state) resolveLevels(fi int32) map[int32]nearest {
	out := map[int32]nearest{}
	for x := fi; x != none; {
		f := st.folders.get(x)
		for _, e := range f.levels {
			if _, seen := out[e.g]; !seen {
				out[e.g] = nearest{l: e.l, at: x}
			}
		}
		x = f.parent
	}
	return out
}

func (ex *explainer) folder(fi int32) {
	x, st, p := ex.x, ex.st, ex.p
	// R17: files.admin or server.manage.
	x.Paths = append(x.Paths, ex.sysPaths(fixedPerms[domain.PermFilesAdmin].bit, "files_admin")...)
	need, byLevel := domain.LevelFor(p.action)
	levels := st.resolveLevels(fi)
	for _, gi := range ex.groups {
		n, ok := levels[gi]
		switch {
		case !byLevel:
		case ok && n.l >= need:
			pa := ex.path(gi, "folder_level")
			pa.FolderID, pa.Level = st.folders.get(n.at).id, n.l
			x.Paths = append(x.Paths, pa)
		case ok:
			x.Considered = append(x.Considered, "group "+ex.groupName(gi)+": level "+n.l.String()+" set on folder "+st.folderPath(n.at)+" (needs "+need.String()+")")
		default:
			x.Considered = append(x.Considered, "group "+ex.groupName(gi)+": no level on folder "+st.folderPath(fi)+" or above")
		}
	}
	if !byLevel {
		x.Considered = append(x.Considered, "no folder level grants "+p.action.String()+"; only rules and files.admin do")
	}
	for y := fi; y != none; {
		f := st.folders.get(y)
		for _, ref := range f.rules {
			r := st.rules.get(ref.r)
			if !containsSorted(ex.groups, ref.g) {
				continue
			}
			if r.grantsPerm(p.ctx, p.action) {
				pa := ex.path(ref.g, "rule")
				pa.RuleID, pa.RuleName, pa.MatchedID = r.id, r.name, f.id
				x.Paths = append(x.Paths, pa)
			} else {
				x.Considered = append(x.Considered, "rule "+r.name+" of group "+ex.groupName(ref.g)+" matches folder "+st.folderPath(y)+" but does not grant "+ex.permission)
			}
		}
		y = f.parent
	}
	if x.Allowed {
		return
	}
	x.Paths = nil
	if byLevel {
		for _, gi := range ex.groups {
			if n, ok := levels[gi]; ok && n.l < need {
				x.Suggestions = append(x.Suggestions, "raise the level of group "+ex.groupName(gi)+" on folder "+st.folderPath(n.at)+" to "+need.String())
			}
		}
	}
	ex.suggestGroups(func(gi int32, g *groupRec) bool {
		if n, ok := levels[gi]; byLevel && ok && n.l >= need {
			return true
		}
		for y := fi; y != none; {
			f := st.folders.get(y)
			for _, ref := range f.rules {
				if ref.g == gi && st.rules.get(ref.r).grantsPerm(p.ctx, p.action) {
					return true
				}
			}
			y = f.parent
		}
		return false
	})
	if len(x.Suggestions) == 0 {
		target := "Public"
		if ex.w.u != nil {
			target = "Everyone"
			for _, gi := range ex.groups {
				if gi >= nBuiltin {
					target = ex.groupName(gi)
					break
				}
			}
		}
		if byLevel {
			x.Suggestions = append(x.Suggestions, "set the level of group "+target+" on folder "+st.folderPath(fi)+" to "+need.String())
		} else {
			x.Suggestions = append(x.Suggestions, "add a rule to group "+target+" that matches folder "+st.folderPath(fi)+" or an ancestor and grants "+ex.permission)
		}
	}
}

// canonicalPaths orders paths by group id (the user's own grants, with no
// group, first), keeping the order of one group's paths. The explainer
// walks groups by index, and an index depends on the order the engine
// learned of the group (a snapshot's order, then Apply), so two engines
// holding the same state, such as the server's and a local replica's,
// would otherwise give the same paths in different orders.
func canonicalPaths(paths []Path) {
	slices.SortStableFunc(paths, func(a, b Path) int { return strings.Compare(a.GroupID, b.GroupID) })
}
