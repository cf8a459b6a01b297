package engine

import (
	"cmp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// builder mutates a private copy of a state. In bulk mode (New) adjacency
// lists are appended to and sorted once at the end; otherwise they are kept
// sorted on every insert.
type builder struct {
	s    *state
	gen  uint64
	bulk bool
	op   string
	// dirty holds the folders whose effective grants must be recomputed
	// with their subtree before the state is published.
	dirty map[int32]bool
	// ancOwned, sysOwned: this builder has copied the state's ancBits
	// (closure.go), sysBits (setGsys).
	ancOwned, sysOwned bool
	// projDirty holds the projects whose nested lists must be recomputed
	// before the state is published, true for the whole list; reclosed
	// the groups whose closures changed (projnest.go).
	projDirty map[int32]bool
	reclosed  []int32
	// usersChanged holds the users whose records this builder wrote, for
	// syncUsers.
	usersChanged []userRef
}

// userRef is a user's int and id.
type userRef struct {
	i  int32
	id string
}

func (b *builder) notFound(what, id string) error {
	return domain.E(b.op, domain.KindNotFound, errorf("%s %q not found", what, id))
}

func (b *builder) invalid(format string, args ...any) error {
	return domain.E(b.op, domain.KindInvalid, errorf(format, args...))
}

// Copy-on-write accessors: the first write to a record in a generation
// copies it with its slices, later writes in the same generation mutate
// that private copy.

func (b *builder) userMut(i int32) *userRec {
	u := b.s.users.get(i)
	if u.gen == b.gen {
		return u
	}
	c := *u
	c.gen = b.gen
	c.setGroups(slices.Clone(u.groups))
	c.setGrants(slices.Clone(u.pgrants))
	b.s.users.set(b.gen, i, &c)
	b.usersChanged = append(b.usersChanged, userRef{i, c.id})
	return &c
}

// syncUsers copies the hot part of every user record this builder
// changed into the value of the user's slot in userIx (index.go), where
// a check reads it; a deleted user's slot gets the zero value, which is
// not live.
func (b *builder) syncUsers() {
	for _, r := range b.usersChanged {
		var h userHot
		if u := b.s.users.get(r.i); u != nil {
			h = u.userHot
		}
		b.s.userIx.setVal(b.gen, r.id, h)
	}
	b.usersChanged = nil
}

// publish completes the derived parts of the state before it is
// published: the folders' flat lists, the projects' nested lists and
// the users' slots.
func (b *builder) publish() {
	b.flushEff()
	b.flushProjNest()
	b.syncUsers()
}

func (b *builder) groupMut(i int32) *groupRec {
	g := b.s.groups.get(i)
	if g.gen == b.gen {
		return g
	}
	c := *g
	c.gen = b.gen
	c.members = slices.Clone(g.members)
	c.domains = slices.Clone(g.domains)
	c.projects = slices.Clone(g.projects)
	c.levelFolders = slices.Clone(g.levelFolders)
	c.rules = slices.Clone(g.rules)
	b.s.groups.set(b.gen, i, &c)
	return &c
}

func (b *builder) projectMut(i int32) *projectRec {
	b.markProject(i, true)
	p := b.s.projects.get(i)
	if p.gen == b.gen {
		return p
	}
	c := *p
	c.gen = b.gen
	c.groups = slices.Clone(p.groups)
	b.s.projects.set(b.gen, i, &c)
	return &c
}

func (b *builder) folderMut(i int32) *folderRec {
	f := b.s.folders.get(i)
	if f.gen == b.gen {
		return f
	}
	c := *f
	c.gen = b.gen
	c.levels = slices.Clone(f.levels)
	c.rules = slices.Clone(f.rules)
	c.children = slices.Clone(f.children)
	b.s.folders.set(b.gen, i, &c)
	return &c
}

func (b *builder) ruleMut(i int32) *ruleRec {
	r := b.s.rules.get(i)
	if r.gen == b.gen {
		return r
	}
	c := *r
	c.gen = b.gen
	c.matched = slices.Clone(r.matched)
	b.s.rules.set(b.gen, i, &c)
	return &c
}

// Keyed sorted-slice helpers.

func upsertBy[T any](s []T, x T, key func(T) int32, bulk bool) []T {
	if bulk {
		return append(s, x)
	}
	k := key(x)
	i, found := slices.BinarySearchFunc(s, k, func(e T, k int32) int { return cmp.Compare(key(e), k) })
	if found {
		s[i] = x
		return s
	}
	return slices.Insert(s, i, x)
}

func removeBy[T any](s []T, k int32, key func(T) int32) []T {
	i, found := slices.BinarySearchFunc(s, k, func(e T, k int32) int { return cmp.Compare(key(e), k) })
	if !found {
		return s
	}
	return slices.Delete(s, i, i+1)
}

func findBy[T any](s []T, k int32, key func(T) int32) (int, bool) {
	return slices.BinarySearchFunc(s, k, func(e T, k int32) int { return cmp.Compare(key(e), k) })
}

// normBy sorts s by key and keeps the last of equal keys, which in bulk
// mode is the last put.
func normBy[T any](s []T, key func(T) int32) []T {
	slices.SortStableFunc(s, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	out := s[:0]
	for i := range s {
		if i+1 < len(s) && key(s[i+1]) == key(s[i]) {
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func (b *builder) addInt(s []int32, x int32) []int32 {
	if b.bulk {
		return append(s, x)
	}
	return insertSorted(s, x)
}

func membKey(m memb) int32           { return m.g }
func userGrantKey(g userGrant) int32 { return g.p }
func presenceKey(p presence) int32   { return p.g }
func lvlKey(l lvl) int32             { return l.g }
func ruleRefKey(r ruleRef) int32     { return r.r }
func idKey(x int32) int32            { return x }

// normalize sorts every adjacency list after a bulk load.
func (b *builder) normalize() {
	s := b.s
	for i := range s.users.n {
		if u := s.users.get(i); u != nil {
			u.setGroups(normBy(u.groups, membKey))
			u.setGrants(normBy(u.pgrants, userGrantKey))
		}
	}
	for i := range s.groups.n {
		if g := s.groups.get(i); g != nil {
			g.members = normBy(g.members, idKey)
			g.projects = normBy(g.projects, idKey)
			g.levelFolders = normBy(g.levelFolders, idKey)
			g.rules = normBy(g.rules, idKey)
			slices.Sort(g.domains)
			g.domains = slices.Compact(g.domains)
		}
	}
	for i := range s.projects.n {
		if p := s.projects.get(i); p != nil {
			p.groups = normBy(p.groups, presenceKey)
		}
	}
	for i := range s.folders.n {
		if f := s.folders.get(i); f != nil {
			f.levels = normBy(f.levels, lvlKey)
			f.rules = normBy(f.rules, ruleRefKey)
			f.children = normBy(f.children, idKey)
		}
	}
	for i := range s.rules.n {
		if r := s.rules.get(i); r != nil {
			r.matched = normBy(r.matched, idKey)
		}
	}
}

// intern returns the int of id in ix, adding a nil slot to v when new, so
// that references may precede the referenced object (a role named before
// it is loaded) and a deleted id re-created later gets its old int back.
func intern[T, V any](b *builder, ix *strIndex[V], v *vec[*T], id string) int32 {
	if i, ok := ix.get(id); ok {
		return i
	}
	i := v.push(b.gen, nil)
	ix.put(b.gen, id, i)
	return i
}

// internGroup interns a group id, keeping gsys as long as groups.
func (b *builder) internGroup(id string) int32 {
	i := intern(b, &b.s.groupIx, &b.s.groups, id)
	for b.s.gsys.n < b.s.groups.n {
		b.s.gsys.push(b.gen, 0)
	}
	return i
}

// refreshGsys recomputes a group's system permissions after its
// checkboxes or its role changed.
func (b *builder) refreshGsys(gi int32) {
	var m uint64
	if g := b.s.groups.get(gi); g != nil && gi != gPublic { // Public holds none (R5)
		m = g.sys
		if g.role != none {
			if r := b.s.roles.get(g.role); r != nil {
				m |= r.sys
			}
		}
	}
	b.setGsys(gi, m)
}

// setGsys sets group gi's closed system permissions and its sysBits bit.
func (b *builder) setGsys(gi int32, m uint64) {
	b.s.gsys.set(b.gen, gi, m)
	b.s.sysBits.set(gi, m != 0, &b.sysOwned)
}

// internFolder interns a folder id, keeping hot as long as folders.
func (b *builder) internFolder(id string) int32 {
	i := intern(b, &b.s.folderIx, &b.s.folders, id)
	for b.s.hot.n < b.s.folders.n {
		b.s.hot.push(b.gen, fhot{})
	}
	return i
}

func (b *builder) reserveBuiltins() {
	for _, id := range []string{domain.GroupEveryoneID, domain.GroupPublicID, domain.GroupAdministratorsID} {
		b.internGroup(id)
	}
}

func (b *builder) roleRef(id string) int32 {
	if id == "" {
		return none
	}
	return intern(b, &b.s.roleIx, &b.s.roles, id)
}

func (b *builder) apply(m *domain.Mutation) error {
	del := m.Op == domain.OpDelete
	if m.Op != domain.OpPut && !del {
		return b.invalid("unknown op %q", m.Op)
	}
	missing := func() error { return b.invalid("%s mutation without its %s", m.Entity, m.Entity) }
	switch m.Entity {
	case domain.EntityUser:
		if m.User == nil {
			return missing()
		}
		if del {
			b.deleteUser(m.User.ID)
			return nil
		}
		b.putUser(m.User)
	case domain.EntityProject:
		if m.Project == nil {
			return missing()
		}
		if del {
			b.deleteProject(m.Project.ID)
			return nil
		}
		b.putProject(m.Project)
	case domain.EntityGroup:
		if m.Group == nil {
			return missing()
		}
		if del {
			if i, ok := b.s.groupIx.get(m.Group.ID); ok {
				b.deleteGroup(i)
			}
			return nil
		}
		_, err := b.putGroup(m.Group)
		return err
	case domain.EntityMembership:
		if m.Membership == nil {
			return missing()
		}
		if del {
			b.deleteMembership(m.Membership)
			return nil
		}
		return b.putMembership(m.Membership)
	case domain.EntityGroupMembership:
		if m.GroupMembership == nil {
			return missing()
		}
		if del {
			b.deleteGroupMembership(m.GroupMembership)
			return nil
		}
		return b.putGroupMembership(m.GroupMembership)
	case domain.EntityRole:
		if m.Role == nil {
			return missing()
		}
		if del {
			if i, ok := b.s.roleIx.get(m.Role.ID); ok {
				b.s.roles.set(b.gen, i, nil)
				b.refreshRoleHolders(i)
			}
			return nil
		}
		b.refreshRoleHolders(b.putRole(m.Role))
	case domain.EntityProjectGrant:
		if m.ProjectGrant == nil {
			return missing()
		}
		if del {
			b.deleteProjectGrant(m.ProjectGrant)
			return nil
		}
		return b.putProjectGrant(m.ProjectGrant)
	case domain.EntityDomainGrant:
		if m.DomainGrant == nil {
			return missing()
		}
		if del {
			if gi, ok := b.liveGroup(m.DomainGrant.GroupID); ok {
				g := b.groupMut(gi)
				if i, found := slices.BinarySearch(g.domains, m.DomainGrant.Domain); found {
					g.domains = slices.Delete(g.domains, i, i+1)
				}
			}
			return nil
		}
		return b.putDomainGrant(m.DomainGrant)
	case domain.EntityFolderType:
		if m.FolderType == nil {
			return missing()
		}
		if del {
			if i, ok := b.s.typeIx.get(m.FolderType.ID); ok {
				b.s.types.set(b.gen, i, nil)
			}
			return nil
		}
		b.putType(m.FolderType)
	case domain.EntityFolder:
		if m.Folder == nil {
			return missing()
		}
		if del {
			if i, ok := b.liveFolder(m.Folder.ID); ok {
				b.deleteFolder(i)
			}
			return nil
		}
		return b.putFolder(m.Folder)
	case domain.EntityFolderLevel:
		if m.FolderLevel == nil {
			return missing()
		}
		if del {
			b.deleteFolderLevel(m.FolderLevel)
			return nil
		}
		return b.putFolderLevel(m.FolderLevel)
	case domain.EntityRule:
		if m.Rule == nil {
			return missing()
		}
		if del {
			if i, ok := b.s.ruleIx.get(m.Rule.ID); ok && b.s.rules.get(i) != nil {
				b.deleteRule(i)
			}
			return nil
		}
		return b.putRule(m.Rule)
	case domain.EntitySetting:
		// No setting changes an answer of the engine.
	default:
		return b.invalid("unknown entity %q", m.Entity)
	}
	return nil
}

func (b *builder) liveUser(id string) (int32, bool) {
	i, ok := b.s.userIx.get(id)
	return i, ok && b.s.users.get(i) != nil
}

func (b *builder) liveGroup(id string) (int32, bool) {
	i, ok := b.s.groupIx.get(id)
	return i, ok && b.s.groups.get(i) != nil
}

func (b *builder) liveProject(id string) (int32, bool) {
	i, ok := b.s.projectIx.get(id)
	return i, ok && b.s.projects.get(i) != nil
}

func (b *builder) liveFolder(id string) (int32, bool) {
	i, ok := b.s.folderIx.get(id)
	return i, ok && b.s.folders.get(i) != nil
}

// Roles and folder types are small and replaced whole.

func (b *builder) putRole(r *domain.Role) int32 {
	i := intern(b, &b.s.roleIx, &b.s.roles, r.ID)
	b.s.roles.set(b.gen, i, &roleRec{id: r.ID, name: r.Name, scope: r.Scope, sys: sysMask(r.Permissions), proj: projMask(r.Permissions), keys: r.Permissions})
	return i
}

// refreshRoleHolders recomputes the system permissions of the groups
// holding role ri. Role changes are rare: a scan of the groups.
func (b *builder) refreshRoleHolders(ri int32) {
	for gi := range b.s.groups.n {
		if g := b.s.groups.get(gi); g != nil && g.role == ri {
			b.refreshGsys(gi)
		}
	}
}

func (b *builder) putType(t *domain.FolderType) {
	i := intern(b, &b.s.typeIx, &b.s.types, t.ID)
	ctxs := slices.Clone(t.Contexts)
	if !slices.Contains(ctxs, domain.ContextRoot) {
		ctxs = append(ctxs, domain.ContextRoot) // every type has root (docs/model.md §6)
	}
	b.s.types.set(b.gen, i, &typeRec{id: t.ID, name: t.Name, contexts: ctxs})
}

// Users.

func (b *builder) putUser(u *domain.User) int32 {
	i := intern(b, &b.s.userIx, &b.s.users, u.ID)
	var rec *userRec
	if b.s.users.get(i) == nil {
		rec = &userRec{gen: b.gen}
		rec.live = true
		rec.setGroups(nil)
		b.s.users.set(b.gen, i, rec)
		b.usersChanged = append(b.usersChanged, userRef{i, u.ID})
	} else {
		rec = b.userMut(i)
	}
	rec.id, rec.username = u.ID, u.Username
	rec.active, rec.showPI = u.Active(), u.ShowPersonalInfo
	rec.role = b.roleRef(u.SystemRoleID)
	return i
}

func (b *builder) deleteUser(id string) {
	ui, ok := b.liveUser(id)
	if !ok {
		return
	}
	for _, m := range b.s.users.get(ui).groups {
		if b.s.groups.get(m.g) != nil {
			g := b.groupMut(m.g)
			g.members = removeSorted(g.members, ui)
		}
	}
	b.s.users.set(b.gen, ui, nil)
	b.usersChanged = append(b.usersChanged, userRef{ui, id})
}

// Projects.

func (b *builder) putProject(p *domain.Project) {
	i := intern(b, &b.s.projectIx, &b.s.projects, p.ID)
	var rec *projectRec
	if b.s.projects.get(i) == nil {
		rec = &projectRec{gen: b.gen}
		b.s.projects.set(b.gen, i, rec)
	} else {
		rec = b.projectMut(i)
	}
	rec.id, rec.name = p.ID, p.Name
	rec.exclusive = p.MembershipMode == domain.ModeExclusive
}

// deleteProject cascades to the project's groups and every grant on it;
// folders do not refer to projects in the index, so they need nothing.
func (b *builder) deleteProject(id string) {
	pi, ok := b.liveProject(id)
	if !ok {
		return
	}
	// Clone what is ranged over: the cascade edits this very record when
	// this change already owns it.
	for _, pr := range slices.Clone(b.s.projects.get(pi).groups) {
		g := b.s.groups.get(pr.g)
		if g == nil {
			continue
		}
		if g.project == pi {
			b.deleteGroup(pr.g)
		} else {
			gm := b.groupMut(pr.g)
			gm.projects = removeSorted(gm.projects, pi)
		}
	}
	// Individual grants are indexed on users only: a scan, as deleting a
	// project is rare.
	for ui := range b.s.users.n {
		if u := b.s.users.get(ui); u != nil {
			if _, found := findBy(u.pgrants, pi, userGrantKey); found {
				um := b.userMut(ui)
				um.setGrants(removeBy(um.pgrants, pi, userGrantKey))
			}
		}
	}
	b.s.projects.set(b.gen, pi, nil)
}

// Groups.

func (b *builder) putGroup(g *domain.Group) (int32, error) {
	gi := b.internGroup(g.ID)
	proj := none
	if g.Scope == domain.ScopeProject {
		pi, ok := b.liveProject(g.ProjectID)
		if !ok {
			return gi, b.notFound("project", g.ProjectID)
		}
		proj = pi
	}
	var rec *groupRec
	if b.s.groups.get(gi) == nil {
		rec = &groupRec{gen: b.gen, project: none}
		b.s.groups.set(b.gen, gi, rec)
	} else {
		rec = b.groupMut(gi)
	}
	if rec.project != proj && rec.project != none && b.s.projects.get(rec.project) != nil {
		// Scope is fixed (R1); should a put move it anyway, leave the old project.
		b.projectMut(rec.project).removePresent(gi)
	}
	rec.id, rec.name, rec.builtin = g.ID, g.Name, g.Builtin
	rec.project = proj
	rec.role = b.roleRef(g.SystemRoleID)
	rec.sys = sysMask(g.SystemPermissions)
	rec.sysKeys = g.SystemPermissions
	b.refreshGsys(gi)
	if proj != none {
		p := b.projectMut(proj)
		if _, found := findBy(p.groups, gi, presenceKey); !found || b.bulk {
			// A project group is always present in its project (decisions.md).
			p.putPresent(presence{g: gi, role: none}, b.bulk)
		}
	}
	return gi, nil
}

// deleteGroup cascades to memberships, project grants, domain grants,
// folder levels and rules (domain.Mutation).
func (b *builder) deleteGroup(gi int32) {
	g := b.s.groups.get(gi)
	if g == nil {
		return
	}
	for _, ui := range g.members {
		if b.s.users.get(ui) != nil {
			u := b.userMut(ui)
			u.setGroups(removeBy(u.groups, gi, membKey))
		}
	}
	projs := g.projects
	if g.project != none {
		projs = insertSorted(slices.Clone(projs), g.project)
	}
	for _, pi := range projs {
		if b.s.projects.get(pi) != nil {
			b.projectMut(pi).removePresent(gi)
		}
	}
	for _, fi := range g.levelFolders {
		if b.s.folders.get(fi) != nil {
			f := b.folderMut(fi)
			f.levels = removeBy(f.levels, gi, lvlKey)
			b.touch(fi)
		}
	}
	for _, ri := range slices.Clone(g.rules) { // deleteRule edits g.rules
		if b.s.rules.get(ri) != nil {
			b.deleteRule(ri)
		}
	}
	b.unnestGroup(gi)
	b.s.groups.set(b.gen, gi, nil)
	b.setGsys(gi, 0)
}

func (b *builder) putMembership(m *domain.Membership) error {
	gi, ok := b.liveGroup(m.GroupID)
	if !ok {
		return b.notFound("group", m.GroupID)
	}
	ui, ok := b.liveUser(m.UserID)
	if !ok {
		return b.notFound("user", m.UserID)
	}
	if gi == gEveryone || gi == gPublic {
		return nil // implicit members only (R4, R5)
	}
	u := b.userMut(ui)
	u.setGroups(upsertBy(u.groups, memb{g: gi, exp: expNanos(m.ExpiresAt)}, membKey, b.bulk))
	g := b.groupMut(gi)
	g.members = b.addInt(g.members, ui)
	return nil
}

func (b *builder) deleteMembership(m *domain.Membership) {
	gi, gok := b.liveGroup(m.GroupID)
	ui, uok := b.liveUser(m.UserID)
	if !gok || !uok {
		return
	}
	u := b.userMut(ui)
	u.setGroups(removeBy(u.groups, gi, membKey))
	g := b.groupMut(gi)
	g.members = removeSorted(g.members, ui)
}

func (b *builder) putProjectGrant(pg *domain.ProjectGrant) error {
	pi, ok := b.liveProject(pg.ProjectID)
	if !ok {
		return b.notFound("project", pg.ProjectID)
	}
	role, mask := b.roleRef(pg.RoleID), projMask(pg.Permissions)
	switch pg.SubjectKind {
	case domain.SubjectUser:
		ui, ok := b.liveUser(pg.SubjectID)
		if !ok {
			return b.notFound("user", pg.SubjectID)
		}
		u := b.userMut(ui)
		u.setGrants(upsertBy(u.pgrants, userGrant{p: pi, role: role, mask: mask, raw: projRaw(pg.Permissions)}, userGrantKey, b.bulk))
	case domain.SubjectGroup:
		gi, ok := b.liveGroup(pg.SubjectID)
		if !ok {
			return b.notFound("group", pg.SubjectID)
		}
		if gp := b.s.groups.get(gi).project; gp != none && gp != pi {
			return nil // a project group has no rights on another project (decisions.md)
		}
		b.projectMut(pi).putPresent(presence{g: gi, role: role, mask: mask, raw: projRaw(pg.Permissions), row: true}, b.bulk)
		g := b.groupMut(gi)
		g.projects = b.addInt(g.projects, pi)
	default:
		return b.invalid("project grant subject kind %q", pg.SubjectKind)
	}
	return nil
}

func (b *builder) deleteProjectGrant(pg *domain.ProjectGrant) {
	pi, ok := b.liveProject(pg.ProjectID)
	if !ok {
		return
	}
	switch pg.SubjectKind {
	case domain.SubjectUser:
		if ui, ok := b.liveUser(pg.SubjectID); ok {
			u := b.userMut(ui)
			u.setGrants(removeBy(u.pgrants, pi, userGrantKey))
		}
	case domain.SubjectGroup:
		gi, ok := b.liveGroup(pg.SubjectID)
		if !ok {
			return
		}
		p := b.projectMut(pi)
		if b.s.groups.get(gi).project == pi {
			if i, found := findBy(p.groups, gi, presenceKey); found {
				p.groups[i] = presence{g: gi, role: none}
			}
		} else {
			p.removePresent(gi)
		}
		g := b.groupMut(gi)
		g.projects = removeSorted(g.projects, pi)
	}
}

func (b *builder) putDomainGrant(d *domain.DomainGrant) error {
	gi, ok := b.liveGroup(d.GroupID)
	if !ok {
		return b.notFound("group", d.GroupID)
	}
	g := b.groupMut(gi)
	if b.bulk {
		g.domains = append(g.domains, d.Domain)
		return nil
	}
	if i, found := slices.BinarySearch(g.domains, d.Domain); !found {
		g.domains = slices.Insert(g.domains, i, d.Domain)
	}
	return nil
}

// Folders.

func (b *builder) newFolderRec(f *domain.Folder) *folderRec {
	return &folderRec{gen: b.gen, id: f.ID, name: f.Name, parent: none,
		typ: intern(b, &b.s.typeIx, &b.s.types, f.TypeID), props: propsOf(f.Properties)}
}

func (b *builder) putFolder(f *domain.Folder) error {
	fi := b.internFolder(f.ID)
	parent := none
	if f.ParentID != "" {
		pi, ok := b.liveFolder(f.ParentID)
		if !ok {
			return b.notFound("parent folder", f.ParentID)
		}
		for x := pi; x != none; x = b.s.folders.get(x).parent {
			if x == fi {
				return b.invalid("folder %q cannot move under its own descendant %q", f.ID, f.ParentID)
			}
		}
		parent = pi
	}
	old := b.s.folders.get(fi)
	var rec *folderRec
	rematch := true
	if old == nil {
		rec = b.newFolderRec(f)
		b.s.folders.set(b.gen, fi, rec)
	} else {
		rec = b.folderMut(fi)
		typ := intern(b, &b.s.typeIx, &b.s.types, f.TypeID)
		rematch = typ != old.typ || !old.props.sameAs(f.Properties)
		rec.name, rec.typ, rec.props = f.Name, typ, propsOf(f.Properties)
		if old.parent != parent && old.parent != none {
			p := b.folderMut(old.parent)
			p.children = removeSorted(p.children, fi)
		}
	}
	if parent != none && (old == nil || old.parent != parent) {
		p := b.folderMut(parent)
		p.children = insertSorted(p.children, fi)
	}
	rec.parent = parent
	if rematch {
		b.rematchFolder(fi)
	}
	b.touch(fi)
	return nil
}

// rematchFolder recomputes which rules match folder fi itself after its
// type or properties changed. Descendants inherit through the ancestor
// walk, so they need nothing.
func (b *builder) rematchFolder(fi int32) {
	f := b.folderMut(fi)
	var now []ruleRef
	for ri := range b.s.rules.n {
		if r := b.s.rules.get(ri); r != nil && ruleMatches(r, f) {
			now = append(now, ruleRef{g: r.g, r: ri})
		}
	}
	for _, ref := range f.rules {
		if _, found := findBy(now, ref.r, ruleRefKey); !found {
			r := b.ruleMut(ref.r)
			r.matched = removeSorted(r.matched, fi)
		}
	}
	for _, ref := range now {
		if _, found := findBy(f.rules, ref.r, ruleRefKey); !found {
			r := b.ruleMut(ref.r)
			r.matched = insertSorted(r.matched, fi)
		}
	}
	f.rules = now
}

// deleteFolder removes the whole subtree with its folder levels and rule
// matches (domain.Mutation).
func (b *builder) deleteFolder(fi int32) {
	root := b.s.folders.get(fi)
	if root.parent != none {
		p := b.folderMut(root.parent)
		p.children = removeSorted(p.children, fi)
	}
	stack := []int32{fi}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f := b.s.folders.get(x)
		if f == nil {
			continue
		}
		stack = append(stack, f.children...)
		for _, l := range f.levels {
			if b.s.groups.get(l.g) != nil {
				g := b.groupMut(l.g)
				g.levelFolders = removeSorted(g.levelFolders, x)
			}
		}
		for _, ref := range f.rules {
			if b.s.rules.get(ref.r) != nil {
				r := b.ruleMut(ref.r)
				r.matched = removeSorted(r.matched, x)
			}
		}
		b.s.folders.set(b.gen, x, nil)
		b.setHot(x, f.id, fhot{})
	}
}

func (b *builder) putFolderLevel(l *domain.FolderLevel) error {
	fi, ok := b.liveFolder(l.FolderID)
	if !ok {
		return b.notFound("folder", l.FolderID)
	}
	gi, ok := b.liveGroup(l.GroupID)
	if !ok {
		return b.notFound("group", l.GroupID)
	}
	if l.Level > domain.LevelDeleteFolder {
		return b.invalid("folder level %d", l.Level)
	}
	f := b.folderMut(fi)
	f.levels = upsertBy(f.levels, lvl{g: gi, l: l.Level}, lvlKey, b.bulk)
	b.touch(fi)
	g := b.groupMut(gi)
	g.levelFolders = b.addInt(g.levelFolders, fi)
	return nil
}

func (b *builder) deleteFolderLevel(l *domain.FolderLevel) {
	fi, fok := b.liveFolder(l.FolderID)
	gi, gok := b.liveGroup(l.GroupID)
	if !fok || !gok {
		return
	}
	f := b.folderMut(fi)
	f.levels = removeBy(f.levels, gi, lvlKey)
	b.touch(fi)
	g := b.groupMut(gi)
	g.levelFolders = removeSorted(g.levelFolders, fi)
}

// Rules.

func (b *builder) newRuleRec(r *domain.Rule, gi int32) *ruleRec {
	rec := &ruleRec{gen: b.gen, id: r.ID, name: r.Name, g: gi}
	for _, c := range r.Criteria {
		rec.criteria = append(rec.criteria, crit{typ: intern(b, &b.s.typeIx, &b.s.types, c.FolderTypeID),
			prop: c.Property, op: c.Operator, value: c.Value, values: c.Values})
	}
	ctxs := make([]string, 0, len(r.Grants))
	for ctx := range r.Grants {
		ctxs = append(ctxs, ctx)
	}
	slices.Sort(ctxs)
	for _, ctx := range ctxs {
		var mask uint16
		for _, a := range r.Grants[ctx] {
			if act, ok := actionOf(a); ok && domain.IsRuleAction(act) {
				mask |= 1 << act
			}
		}
		rec.grants = append(rec.grants, ctxGrant{ctx: ctx, mask: mask})
	}
	return rec
}

// ruleMatches reports whether every criterion holds on f (AND); a rule
// without criteria matches nothing, as validation refuses it.
func ruleMatches(r *ruleRec, f *folderRec) bool {
	if len(r.criteria) == 0 {
		return false
	}
	for i := range r.criteria {
		c := &r.criteria[i]
		if c.typ != f.typ {
			return false
		}
		v, ok := f.props.get(c.prop)
		switch c.op {
		case domain.OpEq:
			ok = ok && v == c.value
		case domain.OpNe:
			ok = !ok || v != c.value
		case domain.OpIn:
			ok = ok && slices.Contains(c.values, v)
		case domain.OpContains:
			ok = ok && strings.Contains(v, c.value)
		case domain.OpStartsWith:
			ok = ok && strings.HasPrefix(v, c.value)
		case domain.OpExists:
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	return true
}

func (b *builder) putRule(r *domain.Rule) error {
	gi, ok := b.liveGroup(r.GroupID)
	if !ok {
		return b.notFound("group", r.GroupID)
	}
	ri := intern(b, &b.s.ruleIx, &b.s.rules, r.ID)
	if b.s.rules.get(ri) != nil {
		b.deleteRule(ri)
	}
	rec := b.newRuleRec(r, gi)
	b.s.rules.set(b.gen, ri, rec)
	g := b.groupMut(gi)
	g.rules = insertSorted(g.rules, ri)
	// A rule change is rare: scan the folders (an int compare rejects the
	// other types) rather than keep a per-type folder index current.
	for fi := range b.s.folders.n {
		if f := b.s.folders.get(fi); f != nil && ruleMatches(rec, f) {
			rec.matched = append(rec.matched, fi)
			fm := b.folderMut(fi)
			fm.rules = upsertBy(fm.rules, ruleRef{g: gi, r: ri}, ruleRefKey, false)
			b.touch(fi)
		}
	}
	return nil
}

func (b *builder) deleteRule(ri int32) {
	r := b.s.rules.get(ri)
	for _, fi := range r.matched {
		if b.s.folders.get(fi) != nil {
			f := b.folderMut(fi)
			f.rules = removeBy(f.rules, ri, ruleRefKey)
			b.touch(fi)
		}
	}
	if b.s.groups.get(r.g) != nil {
		g := b.groupMut(r.g)
		g.rules = removeSorted(g.rules, ri)
	}
	b.s.rules.set(b.gen, ri, nil)
}
