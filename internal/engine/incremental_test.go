package engine_test

// Incremental updates: random change sequences applied with engine.Apply
// to an engine built from the initial snapshot, and with reference.Apply
// to a copy of the snapshot. After every few changes the incrementally
// updated engine must answer exactly like an engine rebuilt from the
// updated snapshot and like the reference (R6, R20 and every rule the
// queries touch). Flags: -seed, -seedbase and -long of crosscheck_test.go.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

// cloneChange deep-copies a change, so that the engine and the reference
// never share an object.
func cloneChange(c domain.Change) domain.Change {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	var out domain.Change
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// referenced reports whether a role is still in use (deleting it is refused).
func roleInUse(s *domain.Snapshot, id string) bool {
	for _, u := range s.Users {
		if u.SystemRoleID == id {
			return true
		}
	}
	for _, g := range s.Groups {
		if g.SystemRoleID == id || g.DefaultProjectRoleID == id {
			return true
		}
	}
	for _, pg := range s.ProjectGrants {
		if pg.RoleID == id {
			return true
		}
	}
	return false
}

// typeInUse reports whether a folder type is still in use by a folder or
// a rule criterion.
func typeInUse(s *domain.Snapshot, id string) bool {
	for _, f := range s.Folders {
		if f.TypeID == id {
			return true
		}
	}
	for _, r := range s.Rules {
		for _, c := range r.Criteria {
			if c.FolderTypeID == id {
				return true
			}
		}
	}
	return false
}

// inSubtree reports whether folder id is top or below it.
func inSubtree(s *domain.Snapshot, id, top string) bool {
	for steps := 0; id != "" && steps <= len(s.Folders); steps++ {
		if id == top {
			return true
		}
		parent := ""
		for _, f := range s.Folders {
			if f.ID == id {
				parent = f.ParentID
			}
		}
		id = parent
	}
	return false
}

func mutPut(m domain.Mutation) domain.Mutation { m.Op = domain.OpPut; return m }
func mutDel(m domain.Mutation) domain.Mutation { m.Op = domain.OpDelete; return m }

// mutation returns one random change to s that the store could commit
// (references exist, no folder cycle, roles and folder types deleted only
// when unused), or false when the kind drawn is impossible in s.
func (g *gen) mutation(s *domain.Snapshot) (domain.Mutation, bool) {
	nonBuiltin := func() []domain.Group {
		var out []domain.Group
		for _, gr := range s.Groups {
			if gr.Builtin == domain.BuiltinNone {
				out = append(out, gr)
			}
		}
		return out
	}
	switch g.r.IntN(34) {
	case 0: // new user
		u := g.user(s, g.id("u"))
		return mutPut(domain.Mutation{Entity: domain.EntityUser, User: &u}), true
	case 1: // disable or enable a user, change their role or preference
		if len(s.Users) == 0 {
			return domain.Mutation{}, false
		}
		u := pick(g, s.Users)
		switch g.r.IntN(3) {
		case 0:
			if u.Status == domain.UserActive {
				u.Status = domain.UserDisabled
			} else {
				u.Status = domain.UserActive
			}
		case 1:
			u.SystemRoleID = ""
			if g.chance(0.7) {
				u.SystemRoleID = pick(g, roleIDs(s, domain.ScopeSystem))
			}
		case 2:
			u.ShowPersonalInfo = !u.ShowPersonalInfo
		}
		u.Version++
		return mutPut(domain.Mutation{Entity: domain.EntityUser, User: &u}), true
	case 2:
		if len(s.Users) == 0 {
			return domain.Mutation{}, false
		}
		u := pick(g, s.Users)
		return mutDel(domain.Mutation{Entity: domain.EntityUser, User: &u}), true
	case 3:
		p := g.project()
		return mutPut(domain.Mutation{Entity: domain.EntityProject, Project: &p}), true
	case 4: // switch membership mode
		if len(s.Projects) == 0 {
			return domain.Mutation{}, false
		}
		p := pick(g, s.Projects)
		if p.MembershipMode == domain.ModeExclusive {
			p.MembershipMode = domain.ModeMultiple
		} else {
			p.MembershipMode = domain.ModeExclusive
		}
		return mutPut(domain.Mutation{Entity: domain.EntityProject, Project: &p}), true
	case 5:
		if len(s.Projects) == 0 || g.chance(0.5) {
			return domain.Mutation{}, false
		}
		p := pick(g, s.Projects)
		return mutDel(domain.Mutation{Entity: domain.EntityProject, Project: &p}), true
	case 6:
		gr := g.group(s)
		return mutPut(domain.Mutation{Entity: domain.EntityGroup, Group: &gr}), true
	case 7: // edit a group's system grants (built-in ones too, Public excepted) or rename it
		gr := pick(g, s.Groups)
		if gr.Builtin == domain.BuiltinPublic || gr.Scope == domain.ScopeProject {
			gr.Name += "x"
		} else {
			gr.SystemRoleID = ""
			if g.chance(0.5) {
				gr.SystemRoleID = pick(g, roleIDs(s, domain.ScopeSystem))
			}
			gr.SystemPermissions = g.systemPerms(0.1)
		}
		return mutPut(domain.Mutation{Entity: domain.EntityGroup, Group: &gr}), true
	case 8:
		gs := nonBuiltin()
		if len(gs) == 0 {
			return domain.Mutation{}, false
		}
		gr := pick(g, gs)
		return mutDel(domain.Mutation{Entity: domain.EntityGroup, Group: &gr}), true
	case 9, 10: // add a membership or change its expiry
		if len(s.Users) == 0 {
			return domain.Mutation{}, false
		}
		var gs []domain.Group
		for _, gr := range s.Groups {
			if gr.Builtin == domain.BuiltinNone || gr.Builtin == domain.BuiltinAdministrators {
				gs = append(gs, gr)
			}
		}
		m := domain.Membership{GroupID: pick(g, gs).ID, UserID: pick(g, s.Users).ID, ExpiresAt: g.expiry()}
		if len(s.Memberships) > 0 && g.chance(0.5) {
			m = pick(g, s.Memberships)
			m.ExpiresAt = g.expiry()
		}
		return mutPut(domain.Mutation{Entity: domain.EntityMembership, Membership: &m}), true
	case 11:
		if len(s.Memberships) == 0 {
			return domain.Mutation{}, false
		}
		m := pick(g, s.Memberships)
		return mutDel(domain.Mutation{Entity: domain.EntityMembership, Membership: &m}), true
	case 12:
		scope := domain.ScopeSystem
		if g.chance(0.5) {
			scope = domain.ScopeProject
		}
		r := g.role(scope)
		return mutPut(domain.Mutation{Entity: domain.EntityRole, Role: &r}), true
	case 13: // edit an editable role's permissions
		var rs []domain.Role
		for _, r := range s.Roles {
			if r.Editable {
				rs = append(rs, r)
			}
		}
		r := pick(g, rs)
		if r.Scope == domain.ScopeSystem {
			r.Permissions = g.systemPerms(0.15)
		} else {
			r.Permissions = g.projectPerms()
		}
		return mutPut(domain.Mutation{Entity: domain.EntityRole, Role: &r}), true
	case 14:
		for _, r := range s.Roles {
			if r.Deletable && !roleInUse(s, r.ID) {
				return mutDel(domain.Mutation{Entity: domain.EntityRole, Role: &r}), true
			}
		}
		return domain.Mutation{}, false
	case 15, 16: // add or change a project grant
		if len(s.Projects) == 0 {
			return domain.Mutation{}, false
		}
		p := pick(g, s.Projects)
		var pg domain.ProjectGrant
		if len(s.Users) > 0 && g.chance(0.4) {
			pg = g.projectGrant(s, p.ID, domain.SubjectUser, pick(g, s.Users).ID)
		} else {
			pg = g.projectGrant(s, p.ID, domain.SubjectGroup, pick(g, s.Groups).ID)
		}
		return mutPut(domain.Mutation{Entity: domain.EntityProjectGrant, ProjectGrant: &pg}), true
	case 17:
		if len(s.ProjectGrants) == 0 {
			return domain.Mutation{}, false
		}
		pg := pick(g, s.ProjectGrants)
		return mutDel(domain.Mutation{Entity: domain.EntityProjectGrant, ProjectGrant: &pg}), true
	case 18:
		d := domain.DomainGrant{GroupID: pick(g, s.Groups).ID, Domain: pick(g, domainPool)}
		return mutPut(domain.Mutation{Entity: domain.EntityDomainGrant, DomainGrant: &d}), true
	case 19:
		if len(s.DomainGrants) == 0 {
			return domain.Mutation{}, false
		}
		d := pick(g, s.DomainGrants)
		return mutDel(domain.Mutation{Entity: domain.EntityDomainGrant, DomainGrant: &d}), true
	case 20:
		t := g.folderType()
		return mutPut(domain.Mutation{Entity: domain.EntityFolderType, FolderType: &t}), true
	case 21: // change a type's contexts and properties
		t := pick(g, s.FolderTypes)
		if t.ID == domain.FolderTypeFolderID {
			return domain.Mutation{}, false
		}
		t.Contexts = append([]string{domain.ContextRoot}, subset(g, contextPool, 0.5)...)
		t.Properties = subset(g, propertyPool, 0.6)
		return mutPut(domain.Mutation{Entity: domain.EntityFolderType, FolderType: &t}), true
	case 22:
		for _, t := range s.FolderTypes {
			if t.ID != domain.FolderTypeFolderID && !typeInUse(s, t.ID) {
				return mutDel(domain.Mutation{Entity: domain.EntityFolderType, FolderType: &t}), true
			}
		}
		return domain.Mutation{}, false
	case 23: // new folder
		parent := ""
		if len(s.Folders) > 0 && g.chance(0.8) {
			parent = pick(g, s.Folders).ID
		}
		f := g.folder(s, parent)
		return mutPut(domain.Mutation{Entity: domain.EntityFolder, Folder: &f}), true
	case 24: // move a folder (never under itself)
		if len(s.Folders) == 0 {
			return domain.Mutation{}, false
		}
		f := pick(g, s.Folders)
		var parents []string
		for _, p := range s.Folders {
			if !inSubtree(s, p.ID, f.ID) {
				parents = append(parents, p.ID)
			}
		}
		f.ParentID = ""
		if len(parents) > 0 && g.chance(0.8) {
			f.ParentID = pick(g, parents)
		}
		return mutPut(domain.Mutation{Entity: domain.EntityFolder, Folder: &f}), true
	case 25: // change a folder's properties, type or project
		if len(s.Folders) == 0 {
			return domain.Mutation{}, false
		}
		f := pick(g, s.Folders)
		n := g.folder(s, f.ParentID)
		switch g.r.IntN(3) {
		case 0:
			f.Properties = n.Properties
		case 1:
			f.TypeID, f.Properties = n.TypeID, n.Properties
		case 2:
			f.ProjectID = n.ProjectID
		}
		return mutPut(domain.Mutation{Entity: domain.EntityFolder, Folder: &f}), true
	case 26:
		if len(s.Folders) == 0 || g.chance(0.5) {
			return domain.Mutation{}, false
		}
		f := pick(g, s.Folders)
		return mutDel(domain.Mutation{Entity: domain.EntityFolder, Folder: &f}), true
	case 27: // set or change a level, none included
		if len(s.Folders) == 0 {
			return domain.Mutation{}, false
		}
		l := domain.FolderLevel{FolderID: pick(g, s.Folders).ID, GroupID: pick(g, s.Groups).ID, Level: g.level()}
		if len(s.FolderLevels) > 0 && g.chance(0.4) {
			l = pick(g, s.FolderLevels)
			l.Level = g.level()
		}
		return mutPut(domain.Mutation{Entity: domain.EntityFolderLevel, FolderLevel: &l}), true
	case 28:
		if len(s.FolderLevels) == 0 {
			return domain.Mutation{}, false
		}
		l := pick(g, s.FolderLevels)
		return mutDel(domain.Mutation{Entity: domain.EntityFolderLevel, FolderLevel: &l}), true
	case 31, 32: // nest a group in another, or change the expiry of one nesting (issue 20)
		if len(s.GroupMemberships) > 0 && g.chance(0.4) {
			m := pick(g, s.GroupMemberships)
			m.ExpiresAt = g.expiry()
			return mutPut(domain.Mutation{Entity: domain.EntityGroupMembership, GroupMembership: &m}), true
		}
		m, ok := g.nesting(s)
		if !ok {
			return domain.Mutation{}, false
		}
		return mutPut(domain.Mutation{Entity: domain.EntityGroupMembership, GroupMembership: &m}), true
	case 33:
		if len(s.GroupMemberships) == 0 {
			return domain.Mutation{}, false
		}
		m := pick(g, s.GroupMemberships)
		return mutDel(domain.Mutation{Entity: domain.EntityGroupMembership, GroupMembership: &m}), true
	case 29: // new rule, or edit one's criteria or grants
		r := g.rule(s, pick(g, s.Groups).ID)
		if len(s.Rules) > 0 && g.chance(0.5) {
			old := pick(g, s.Rules)
			r.ID, r.Name, r.GroupID = old.ID, old.Name, old.GroupID
			if g.chance(0.5) {
				r.Criteria = old.Criteria // grants only
			}
		}
		return mutPut(domain.Mutation{Entity: domain.EntityRule, Rule: &r}), true
	default:
		if len(s.Settings) > 0 && g.chance(0.3) {
			st := pick(g, s.Settings)
			return mutDel(domain.Mutation{Entity: domain.EntitySetting, Setting: &st}), true
		}
		if len(s.Rules) == 0 {
			st := domain.Setting{Key: "everyone_display_name", Value: pick(g, []string{"Everyone", "Normal Users"})}
			return mutPut(domain.Mutation{Entity: domain.EntitySetting, Setting: &st}), true
		}
		r := pick(g, s.Rules)
		return mutDel(domain.Mutation{Entity: domain.EntityRule, Rule: &r}), true
	}
}

// change returns a change of one to three mutations following s, at the
// next revision.
func (g *gen) change(s *domain.Snapshot) domain.Change {
	work := reference.Clone(s)
	c := domain.Change{Revision: s.Revision + 1, At: g.now}
	for n := 1 + g.r.IntN(3); n > 0 || len(c.Mutations) == 0; n-- {
		m, ok := g.mutation(work)
		if !ok {
			continue
		}
		if err := reference.Apply(work, domain.Change{Revision: work.Revision, Mutations: []domain.Mutation{m}}); err != nil {
			panic(err)
		}
		c.Mutations = append(c.Mutations, m)
	}
	if g.chance(0.3) {
		// Delete, in the same change, an object an earlier mutation wrote
		// about: copy-on-write indexes must not cascade from a stale copy.
		if m, ok := g.deleteTouched(work, c.Mutations[len(c.Mutations)-1]); ok {
			if err := reference.Apply(work, domain.Change{Revision: work.Revision, Mutations: []domain.Mutation{m}}); err != nil {
				panic(err)
			}
			c.Mutations = append(c.Mutations, m)
		}
	}
	return c
}

// deleteTouched returns the delete of a user, group, project or folder
// that mutation m wrote or referred to, if it still exists in s.
func (g *gen) deleteTouched(s *domain.Snapshot, m domain.Mutation) (domain.Mutation, bool) {
	var users, groups, projects, folders []string
	switch {
	case m.User != nil:
		users = append(users, m.User.ID)
	case m.Membership != nil:
		users, groups = append(users, m.Membership.UserID), append(groups, m.Membership.GroupID)
	case m.GroupMembership != nil:
		groups = append(groups, m.GroupMembership.GroupID, m.GroupMembership.MemberGroupID)
	case m.ProjectGrant != nil:
		projects = append(projects, m.ProjectGrant.ProjectID)
		if m.ProjectGrant.SubjectKind == domain.SubjectUser {
			users = append(users, m.ProjectGrant.SubjectID)
		} else {
			groups = append(groups, m.ProjectGrant.SubjectID)
		}
	case m.Group != nil:
		groups = append(groups, m.Group.ID)
		if m.Group.ProjectID != "" {
			projects = append(projects, m.Group.ProjectID)
		}
	case m.Project != nil:
		projects = append(projects, m.Project.ID)
	case m.DomainGrant != nil:
		groups = append(groups, m.DomainGrant.GroupID)
	case m.Folder != nil:
		folders = append(folders, m.Folder.ID, m.Folder.ParentID)
		projects = append(projects, m.Folder.ProjectID)
	case m.FolderLevel != nil:
		folders, groups = append(folders, m.FolderLevel.FolderID), append(groups, m.FolderLevel.GroupID)
	case m.Rule != nil:
		groups = append(groups, m.Rule.GroupID)
	}
	var out []domain.Mutation
	for _, u := range s.Users {
		if slices.Contains(users, u.ID) {
			out = append(out, mutDel(domain.Mutation{Entity: domain.EntityUser, User: &u}))
		}
	}
	for _, gr := range s.Groups {
		if slices.Contains(groups, gr.ID) && gr.Builtin == domain.BuiltinNone {
			out = append(out, mutDel(domain.Mutation{Entity: domain.EntityGroup, Group: &gr}))
		}
	}
	for _, p := range s.Projects {
		if slices.Contains(projects, p.ID) {
			out = append(out, mutDel(domain.Mutation{Entity: domain.EntityProject, Project: &p}))
		}
	}
	for _, f := range s.Folders {
		if slices.Contains(folders, f.ID) {
			out = append(out, mutDel(domain.Mutation{Entity: domain.EntityFolder, Folder: &f}))
		}
	}
	if len(out) == 0 {
		return domain.Mutation{}, false
	}
	return pick(g, out), true
}

func describeChange(c domain.Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "revision %d:", c.Revision)
	for _, m := range c.Mutations {
		obj, _ := json.Marshal(m)
		fmt.Fprintf(&b, "\n    %s", obj)
	}
	return b.String()
}

// describeChanges describes a history of changes, one per line.
func describeChanges(cs []domain.Change) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(describeChange(c) + "\n")
	}
	return b.String()
}

// TestIncrementalApplyMatchesRebuild_R6_R20 applies random change
// sequences incrementally and compares with a rebuild and the reference.
func TestIncrementalApplyMatchesRebuild_R6_R20(t *testing.T) {
	const steps, every = 24, 4
	start := time.Now()
	total, sequences, applied := 0, 0, 0
	for _, seed := range seeds(60) {
		g := newGen(seed + 1<<40) // not the cross-check's datasets
		initial := g.snapshot()
		inc, err := newEngine(initial)
		if err != nil {
			t.Fatalf("seed %d: engine.New: %v", seed, err)
		}
		cur := reference.Clone(initial)
		var history []domain.Change
		failed := false
		for step := 1; step <= steps && !failed; step++ {
			c := g.change(cur)
			history = append(history, c)
			if err := inc.Apply(cloneChange(c)); err != nil {
				t.Errorf("seed %d step %d: engine.Apply refused a change the reference applies: %v\n%s", seed, step, err, describeChange(c))
				failed = true
				break
			}
			applied++
			if err := reference.Apply(cur, cloneChange(c)); err != nil {
				t.Fatalf("seed %d step %d: reference.Apply: %v", seed, step, err)
			}
			if inc.Revision() != c.Revision {
				t.Errorf("seed %d step %d: engine revision %d after applying revision %d (R20)", seed, step, inc.Revision(), c.Revision)
			}
			if step%every != 0 && step != steps {
				continue
			}
			// Time passes too: memberships expire without any change (R6).
			g.now = baseNow.Add(time.Duration(step) * 5 * time.Minute)
			rebuilt, err := newEngine(cur)
			if err != nil {
				t.Fatalf("seed %d step %d: engine.New of the rebuilt snapshot: %v\n%s", seed, step, err, dump(cur))
			}
			if d := projectNestingDiff(inc, rebuilt, g.now); d != "" {
				t.Errorf("seed %d step %d: the projects' nested lists (projnest.go):\n%s\nchanges:\n%s\ndata now:\n%s", seed, step, d, describeChanges(history), dump(cur))
				failed = true
			}
			ref := reference.New(reference.Clone(cur))
			qs := queries(g, cur, g.now, 0.1, step == steps)
			total += len(qs)
			ds := compare(rebuilt, inc, "incremental engine", qs, 2)
			for _, d := range compare(ref, inc, "incremental engine", qs, 2) {
				if !slices.ContainsFunc(ds, func(x disagreement) bool { return x.q == d.q }) {
					d.want = "(reference) " + d.want
					ds = append(ds, d)
				}
			}
			for _, d := range ds {
				minInitial, minHistory := shrinkSequence(initial, history, d.q)
				t.Errorf("seed %d step %d: minimal reproduction of %s: engine.New(initial), Apply each change, then compare with engine.New(reference.Apply(initial, changes)):\ninitial data:\n%s\nchanges:\n%s",
					seed, step, d.q, dump(minInitial), describeChanges(minHistory))
				t.Errorf("seed %d step %d: %s\n  rebuilt engine: %s\n  reference: %s\n  incremental engine: %s\n%s\ninitial data:\n%s\nchanges:\n%s\ndata now:\n%s",
					seed, step, d.q, answer(rebuilt, d.q), answer(ref, d.q), d.got, explainDiff(inc, ref, d.q), dump(initial), describeChanges(history), dump(cur))
				failed = true
			}
		}
		sequences++
		if failed && *flagSeed == 0 && countFailures(t) {
			break
		}
	}
	if applied == 0 {
		t.Fatal("no change applied")
	}
	t.Logf("%d sequences, %d changes applied, %d queries compared three ways in %v", sequences, applied, total, time.Since(start).Round(time.Millisecond))
}

// explainDiff explains, on both sides, the checks behind a disagreement:
// the check itself, or each permission one EffectivePermissions answer
// has and the other lacks.
func explainDiff(inc, ref engine.Querier, q query) string {
	var perms []string
	switch q.kind {
	case qCheck, qExplain:
		perms = []string{q.perm}
	case qEffective:
		a, _ := inc.EffectivePermissions(q.subject, q.res, q.now)
		b, _ := ref.EffectivePermissions(q.subject, q.res, q.now)
		for _, p := range a {
			if !slices.Contains(b, p) {
				perms = append(perms, p)
			}
		}
		for _, p := range b {
			if !slices.Contains(a, p) {
				perms = append(perms, p)
			}
		}
	}
	var out strings.Builder
	for _, p := range perms {
		for _, side := range []struct {
			name string
			q    engine.Querier
		}{{"incremental engine", inc}, {"reference", ref}} {
			x, err := side.q.Explain(q.subject, p, q.res, q.now)
			if err != nil {
				fmt.Fprintf(&out, "  %s explains %s: error %v\n", side.name, p, err)
				continue
			}
			fmt.Fprintf(&out, "  %s explains %s: %s\n", side.name, p, describeExplanation(x))
		}
	}
	return out.String()
}

// replay applies changes to an engine built from initial and to a copy of
// initial, renumbering their revisions, and reports whether the
// incrementally updated engine answers q unlike a rebuilt one.
func replay(initial *domain.Snapshot, changes []domain.Change, q query) bool {
	inc, err := newEngine(initial)
	if err != nil {
		return false
	}
	cur := reference.Clone(initial)
	for i, c := range changes {
		c = cloneChange(c)
		c.Revision = initial.Revision + int64(i) + 1
		if inc.Apply(cloneChange(c)) != nil || reference.Apply(cur, c) != nil {
			return false
		}
	}
	rebuilt, err := newEngine(cur)
	if err != nil {
		return false
	}
	return answer(rebuilt, q) != answer(inc, q)
}

// shrinkSequence removes changes, mutations and initial objects as long as
// the incremental engine still disagrees with a rebuilt one on q.
func shrinkSequence(initial *domain.Snapshot, changes []domain.Change, q query) (*domain.Snapshot, []domain.Change) {
	changes = slices.Clone(changes)
	for progress := true; progress; {
		progress = false
		for i := len(changes) - 1; i >= 0; i-- {
			try := slices.Delete(slices.Clone(changes), i, i+1)
			if replay(initial, try, q) {
				changes, progress = try, true
			}
		}
		for i := len(changes) - 1; i >= 0; i-- {
			for j := len(changes[i].Mutations) - 1; j >= 0 && len(changes[i].Mutations) > 1; j-- {
				try := slices.Clone(changes)
				c := cloneChange(changes[i])
				c.Mutations = slices.Delete(c.Mutations, j, j+1)
				try[i] = c
				if replay(initial, try, q) {
					changes, progress = try, true
				}
			}
		}
		smaller := shrinkWhile(initial, q, func(s *domain.Snapshot) bool { return replay(s, changes, q) })
		if len(dump(smaller)) < len(dump(initial)) {
			initial, progress = smaller, true
		}
	}
	out := make([]domain.Change, len(changes))
	for i, c := range changes {
		c = cloneChange(c)
		c.Revision = initial.Revision + int64(i) + 1
		out[i] = c
	}
	return initial, out
}

// TestIncrementalRegressionD1ProjectDeleteCascade_R16 pins D1 of
// DISAGREEMENTS.md (seeds 380 and 100155 of -long, shrunk): deleting a
// project removes its project groups with their memberships and rules,
// also when the same change first wrote something about the project.
func TestIncrementalRegressionD1ProjectDeleteCascade_R16(t *testing.T) {
	rule := domain.Rule{ID: "r28", GroupID: "g12", Name: "Rule r28",
		Criteria: []domain.Criterion{{FolderTypeID: "t2", Property: "Portfolio", Operator: domain.OpIn, Values: []string{"GR", ""}}},
		Grants:   map[string][]string{"images": {"download"}, "root": {"edit"}}}
	deleteP4 := domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityProject, Project: &domain.Project{ID: "p4", Name: "p4", MembershipMode: domain.ModeMultiple}}
	for _, tc := range []struct {
		name        string
		ruleInitial bool
		changes     [][]domain.Mutation
	}{
		{"seed 380: rule added, then a group put and the project deleted in one change", false, [][]domain.Mutation{
			{{Op: domain.OpPut, Entity: domain.EntityRule, Rule: &rule}},
			{{Op: domain.OpPut, Entity: domain.EntityGroup, Group: &domain.Group{ID: "g29", Name: "Group g29", Scope: domain.ScopeProject, ProjectID: "p4"}}, deleteP4},
		}},
		{"seed 100155: a grant on the project put and the project deleted in one change", true, [][]domain.Mutation{
			{{Op: domain.OpPut, Entity: domain.EntityProjectGrant, ProjectGrant: &domain.ProjectGrant{ProjectID: "p4", SubjectKind: domain.SubjectGroup, SubjectID: domain.GroupEveryoneID, RoleID: domain.RoleModeratorID}}, deleteP4},
		}},
		{"seed 9: the project put and deleted in one change", true, [][]domain.Mutation{
			{{Op: domain.OpPut, Entity: domain.EntityProject, Project: &domain.Project{ID: "p4", Name: "p4", MembershipMode: domain.ModeExclusive}}, deleteP4},
		}},
		{"the project deleted alone", true, [][]domain.Mutation{{deleteP4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := yModel{
				Users:       []yUser{{ID: "u5"}},
				Projects:    []yProject{{ID: "p4"}},
				Groups:      []yGroup{{ID: "g11", Project: "p4"}, {ID: "g12", Project: "p4"}},
				Memberships: []yMembership{{Group: "g12", User: "u5"}},
				FolderTypes: []yFolderType{{ID: "t2", Contexts: []string{"root", "images"}, Properties: []string{"Portfolio"}}},
				Folders:     []yFolder{{ID: "f15", Type: "t2", Properties: map[string]string{"Portfolio": ""}}},
			}
			snap := buildSnapshot(t, m)
			if tc.ruleInitial {
				snap.Rules = append(snap.Rules, rule)
			}
			inc, err := newEngine(snap)
			if err != nil {
				t.Fatal(err)
			}
			cur := reference.Clone(snap)
			for i, muts := range tc.changes {
				c := domain.Change{Revision: snap.Revision + int64(i) + 1, Mutations: muts}
				if err := inc.Apply(cloneChange(c)); err != nil {
					t.Fatalf("engine.Apply: %v", err)
				}
				if err := reference.Apply(cur, cloneChange(c)); err != nil {
					t.Fatalf("reference.Apply: %v", err)
				}
			}
			rebuilt, err := newEngine(cur)
			if err != nil {
				t.Fatal(err)
			}
			now := parseTime(t, "")
			u5, f15 := engine.Subject{UserID: "u5"}, engine.Resource{Kind: engine.KindFolder, ID: "f15"}
			for _, im := range []impl{{"reference", reference.New(cur)}, {"rebuilt engine", rebuilt}, {"incremental engine", inc}} {
				d, err := im.q.Check(u5, "root.edit", f15, now)
				if err != nil || d.Allowed {
					x, _ := im.q.Explain(u5, "root.edit", f15, now)
					t.Errorf("%s: Check(u5, root.edit, folder:f15) after deleting project p4 = %v, %v; want deny (group g12 and rule r28 are gone)\n  %s",
						im.name, d.Allowed, err, describeExplanation(x))
				}
			}
		})
	}
}

// TestIncrementalTouchThenDeleteInOneChange_R12_R15_R16 applies, each in
// one change, a write about an object followed by the delete of that
// object (the shape of D1), for groups with several members, levels,
// rules and domains, users and folder subtrees, and asks every query of
// the incrementally updated engine, a rebuilt one and the reference.
func TestIncrementalTouchThenDeleteInOneChange_R12_R15_R16(t *testing.T) {
	m := yModel{
		Users:         []yUser{{ID: "u1"}, {ID: "u2"}, {ID: "u3"}},
		Projects:      []yProject{{ID: "p"}},
		Groups:        []yGroup{{ID: "g"}, {ID: "h"}, {ID: "pg1", Project: "p"}, {ID: "pg2", Project: "p"}, {ID: "pg3", Project: "p"}},
		Memberships:   []yMembership{{Group: "g", User: "u1"}, {Group: "g", User: "u2"}, {Group: "g", User: "u3"}, {Group: "h", User: "u2"}, {Group: "pg2", User: "u1"}, {Group: "pg3", User: "u3"}},
		ProjectGrants: []yGrant{{Project: "p", Group: "g", Role: "Viewer"}, {Project: "p", User: "u1", Role: "Editor"}, {Project: "p", Group: "pg3", Role: "Moderator"}},
		DomainGrants:  []yDomainGrant{{Group: "g", Domain: "a"}, {Group: "g", Domain: "b"}, {Group: "pg2", Domain: "c"}},
		FolderTypes:   []yFolderType{{ID: "t", Contexts: []string{"root", "data"}, Properties: []string{"P"}}},
		Folders:       []yFolder{{ID: "f1", Type: "t"}, {ID: "f2", Parent: "f1"}, {ID: "f3", Parent: "f2"}, {ID: "f4", Parent: "f1"}, {ID: "f5", Parent: "f4"}},
		Levels: []yLevel{{Folder: "f1", Group: "g", Level: "view"}, {Folder: "f2", Group: "g", Level: "edit"}, {Folder: "f3", Group: "g", Level: "delete"},
			{Folder: "f4", Group: "g", Level: "upload"}, {Folder: "f5", Group: "h", Level: "view"}, {Folder: "f2", Group: "pg2", Level: "delete_folder"}},
		Rules: []yRule{
			{ID: "r1", Group: "g", Criteria: []yCriterion{{Type: "t", Property: "P", Op: "ne", Value: "x"}}, Grants: map[string][]string{"root": {"lock"}}},
			{ID: "r2", Group: "g", Criteria: []yCriterion{{Type: "t", Property: "P", Op: "ne", Value: "y"}}, Grants: map[string][]string{"data": {"lock"}}},
			{ID: "r3", Group: "g", Criteria: []yCriterion{{Type: "t", Property: "P", Op: "ne", Value: "z"}}, Grants: map[string][]string{"root": {"set_blinded"}}},
			{ID: "r4", Group: "pg1", Criteria: []yCriterion{{Type: "t", Property: "P", Op: "ne", Value: "z"}}, Grants: map[string][]string{"root": {"view_blinded"}}},
		},
	}
	put := func(x domain.Mutation) domain.Mutation { x.Op = domain.OpPut; return x }
	del := func(x domain.Mutation) domain.Mutation { x.Op = domain.OpDelete; return x }
	group := domain.Mutation{Entity: domain.EntityGroup, Group: &domain.Group{ID: "g", Name: "g renamed", Scope: domain.ScopeSystem}}
	level := domain.Mutation{Entity: domain.EntityFolderLevel, FolderLevel: &domain.FolderLevel{FolderID: "f3", GroupID: "g", Level: domain.LevelView}}
	rule := domain.Mutation{Entity: domain.EntityRule, Rule: &domain.Rule{ID: "r1", GroupID: "g", Name: "r1",
		Criteria: []domain.Criterion{{FolderTypeID: "t", Property: "P", Operator: domain.OpExists}}, Grants: map[string][]string{"root": {"view_blinded"}}}}
	member := domain.Mutation{Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: "g", UserID: "u2"}}
	dgrant := domain.Mutation{Entity: domain.EntityDomainGrant, DomainGrant: &domain.DomainGrant{GroupID: "g", Domain: "d"}}
	user1 := domain.Mutation{Entity: domain.EntityUser, User: &domain.User{ID: "u1", Username: "u1", Status: domain.UserDisabled}}
	user2 := domain.Mutation{Entity: domain.EntityUser, User: &domain.User{ID: "u2", Username: "u2", Status: domain.UserActive}}
	project := domain.Mutation{Entity: domain.EntityProject, Project: &domain.Project{ID: "p", Name: "p", MembershipMode: domain.ModeExclusive}}
	folder1 := domain.Mutation{Entity: domain.EntityFolder, Folder: &domain.Folder{ID: "f1", Name: "f1", TypeID: "t", Properties: map[string]string{"P": "q"}}}
	move2 := domain.Mutation{Entity: domain.EntityFolder, Folder: &domain.Folder{ID: "f2", Name: "f2", ParentID: "f4", TypeID: domain.FolderTypeFolderID}}
	pgrant := domain.Mutation{Entity: domain.EntityProjectGrant, ProjectGrant: &domain.ProjectGrant{ProjectID: "p", SubjectKind: domain.SubjectGroup, SubjectID: "pg1", RoleID: domain.RoleEditorID}}
	for _, tc := range []struct {
		name string
		muts []domain.Mutation
	}{
		{"rename group, delete it", []domain.Mutation{put(group), del(group)}},
		{"set level, delete group", []domain.Mutation{put(level), del(group)}},
		{"edit rule, delete group", []domain.Mutation{put(rule), del(group)}},
		{"put membership, delete group", []domain.Mutation{put(member), del(group)}},
		{"add domain, delete group", []domain.Mutation{put(dgrant), del(group)}},
		{"put membership, delete user", []domain.Mutation{put(member), del(user2)}},
		{"disable user, delete user", []domain.Mutation{put(user1), del(user1)}},
		{"switch project mode, delete user", []domain.Mutation{put(project), del(user1)}},
		{"grant project group, delete project", []domain.Mutation{put(pgrant), del(project)}},
		{"switch project mode, delete project", []domain.Mutation{put(project), del(project)}},
		{"edit folder, delete it", []domain.Mutation{put(folder1), del(folder1)}},
		{"move folder, delete the old root", []domain.Mutation{put(move2), del(folder1)}},
		{"set level, delete folder", []domain.Mutation{put(level), del(folder1)}},
		{"delete group, then folder", []domain.Mutation{del(group), del(folder1)}},
		{"delete folder, then group", []domain.Mutation{del(folder1), del(group)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := buildSnapshot(t, m)
			c := domain.Change{Revision: snap.Revision + 1, Mutations: tc.muts}
			inc, err := newEngine(snap)
			if err != nil {
				t.Fatal(err)
			}
			if err := inc.Apply(cloneChange(c)); err != nil {
				t.Fatalf("engine.Apply: %v", err)
			}
			cur := reference.Clone(snap)
			if err := reference.Apply(cur, cloneChange(c)); err != nil {
				t.Fatalf("reference.Apply: %v", err)
			}
			rebuilt, err := newEngine(cur)
			if err != nil {
				t.Fatal(err)
			}
			qs := queries(newGen(1), cur, baseNow, 1, true)
			for _, d := range compare(rebuilt, inc, "incremental engine", qs, 3) {
				t.Errorf("%s\n  rebuilt engine: %s\n  incremental engine: %s", d.q, d.want, d.got)
			}
			for _, d := range compare(reference.New(cur), inc, "incremental engine", qs, 3) {
				t.Errorf("%s\n  reference: %s\n  incremental engine: %s", d.q, d.want, d.got)
			}
		})
	}
}
