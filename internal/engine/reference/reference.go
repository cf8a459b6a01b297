// Package reference is a slow evaluator written straight from docs/model.md,
// used only by tests.
//
// It answers the questions of engine.Querier by looping over the slices of
// a domain.Snapshot on every call, with no index and no cache, so that each
// function reads like the rule it implements (R6, R8, R11–R20, and the
// choices of docs/decisions.md). It shares no code with the fast engine but
// the domain types and the engine's API types; the engine's tests compare
// the two on hand-written matrices and on random data.
package reference

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// Evaluator answers engine.Querier from a snapshot. It reads the snapshot
// on every call: do not change the snapshot while the evaluator is in use
// (Apply it, then ask again).
type Evaluator struct {
	snap *domain.Snapshot
}

var _ engine.Querier = (*Evaluator)(nil)

// New returns an evaluator over snap.
func New(snap *domain.Snapshot) *Evaluator { return &Evaluator{snap: snap} }

// Revision returns the revision of the snapshot (R20).
func (e *Evaluator) Revision() int64 { return e.snap.Revision }

const op = "reference"

// ---------------------------------------------------------------------------
// Lookups: plain loops over the snapshot.

func (e *Evaluator) user(id string) *domain.User {
	for i := range e.snap.Users {
		if e.snap.Users[i].ID == id {
			return &e.snap.Users[i]
		}
	}
	return nil
}

func (e *Evaluator) group(id string) *domain.Group {
	for i := range e.snap.Groups {
		if e.snap.Groups[i].ID == id {
			return &e.snap.Groups[i]
		}
	}
	return nil
}

func (e *Evaluator) role(id string) *domain.Role {
	if id == "" {
		return nil
	}
	for i := range e.snap.Roles {
		if e.snap.Roles[i].ID == id {
			return &e.snap.Roles[i]
		}
	}
	return nil
}

func (e *Evaluator) project(id string) *domain.Project {
	for i := range e.snap.Projects {
		if e.snap.Projects[i].ID == id {
			return &e.snap.Projects[i]
		}
	}
	return nil
}

func (e *Evaluator) folder(id string) *domain.Folder {
	for i := range e.snap.Folders {
		if e.snap.Folders[i].ID == id {
			return &e.snap.Folders[i]
		}
	}
	return nil
}

func (e *Evaluator) folderType(id string) *domain.FolderType {
	for i := range e.snap.FolderTypes {
		if e.snap.FolderTypes[i].ID == id {
			return &e.snap.FolderTypes[i]
		}
	}
	return nil
}

func (e *Evaluator) groupName(id string) string {
	if g := e.group(id); g != nil {
		return g.Name
	}
	return id
}

func (e *Evaluator) folderName(id string) string {
	if f := e.folder(id); f != nil {
		return f.Name
	}
	return id
}

// ancestry returns the folder and its ancestors, nearest first.
func (e *Evaluator) ancestry(f *domain.Folder) []*domain.Folder {
	var out []*domain.Folder
	for f != nil && len(out) <= len(e.snap.Folders) { // the bound guards against a cycle in bad data
		out = append(out, f)
		if f.ParentID == "" {
			break
		}
		f = e.folder(f.ParentID)
	}
	return out
}

// isUnder reports whether folder f is top or one of its descendants.
func (e *Evaluator) isUnder(f *domain.Folder, top string) bool {
	for _, a := range e.ancestry(f) {
		if a.ID == top {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Principals (R11, R12, R6).

// principal is the subject resolved against the snapshot.
type principal struct {
	user   *domain.User // nil for anonymous
	groups []string     // R12: direct unexpired memberships + Everyone + Public
}

// disabled reports R11: a disabled user has no permission at all.
func (p principal) disabled() bool { return p.user != nil && !p.user.Active() }

func (p principal) inGroup(id string) bool { return slices.Contains(p.groups, id) }

func (p principal) describe() string {
	if p.user == nil {
		return "anonymous"
	}
	return "user " + p.user.Username
}

// resolve finds the subject's user and groups at now. An unknown user is
// KindNotFound (decisions: principals).
func (e *Evaluator) resolve(s engine.Subject, now time.Time) (principal, error) {
	if s.UserID == "" {
		// R12: anonymous has Public only.
		p := principal{}
		if e.group(domain.GroupPublicID) != nil {
			p.groups = []string{domain.GroupPublicID}
		}
		return p, nil
	}
	u := e.user(s.UserID)
	if u == nil {
		return principal{}, domain.Errorf(op, domain.KindNotFound, "user %q not found", s.UserID)
	}
	p := principal{user: u}
	if !u.Active() {
		// R11: a disabled user holds nothing; decisions: not even Everyone.
		return p, nil
	}
	for _, m := range e.snap.Memberships {
		// R6: a membership counts while now < expires_at.
		if m.UserID == u.ID && (m.ExpiresAt == nil || now.Before(*m.ExpiresAt)) {
			if e.group(m.GroupID) != nil && !slices.Contains(p.groups, m.GroupID) {
				p.groups = append(p.groups, m.GroupID)
			}
		}
	}
	p.groups = e.reachable(p.groups, now)
	for _, b := range []string{domain.GroupEveryoneID, domain.GroupPublicID} {
		if e.group(b) != nil && !slices.Contains(p.groups, b) {
			p.groups = append(p.groups, b)
		}
	}
	sort.Strings(p.groups)
	return p, nil
}

// reachable adds to groups every group reachable from them upwards
// through group memberships that count at now (nested groups,
// docs/model.md §3), naively: sweep every membership until nothing is
// added. Everyone and Public take no part in nesting.
func (e *Evaluator) reachable(groups []string, now time.Time) []string {
	implicit := func(id string) bool { return id == domain.GroupEveryoneID || id == domain.GroupPublicID }
	for grew := true; grew; {
		grew = false
		for _, m := range e.snap.GroupMemberships {
			if implicit(m.GroupID) || implicit(m.MemberGroupID) || e.group(m.GroupID) == nil {
				continue
			}
			if m.ExpiresAt != nil && !now.Before(*m.ExpiresAt) {
				continue // R6 along the path
			}
			if slices.Contains(groups, m.MemberGroupID) && !slices.Contains(groups, m.GroupID) {
				groups = append(groups, m.GroupID)
				grew = true
			}
		}
	}
	return groups
}

// ---------------------------------------------------------------------------
// Requests: what permission on what resource, and whether it makes sense.

// request is a validated check.
type request struct {
	perm     string
	res      engine.Resource
	scope    domain.Scope
	folder   *domain.Folder
	ftype    *domain.FolderType
	fperm    domain.FolderPermission
	project  *domain.Project
	personal bool // R18 applies
}

// validate checks that permission fits the resource and that the resource
// exists: KindInvalid for a permission that is unknown or of another
// scope, or a folder context the type does not declare (R16); KindNotFound
// for an unknown project or folder.
func (e *Evaluator) validate(permission string, r engine.Resource) (request, error) {
	q := request{perm: permission, res: r}
	switch r.Kind {
	case engine.KindSystem, engine.KindProject, engine.KindDomain:
		want := map[engine.ResourceKind]domain.Scope{
			engine.KindSystem: domain.ScopeSystem, engine.KindProject: domain.ScopeProject, engine.KindDomain: domain.ScopeDomain,
		}[r.Kind]
		p, ok := domain.LookupPermission(permission)
		if !ok {
			return q, domain.Errorf(op, domain.KindInvalid, "unknown permission %q", permission)
		}
		if p.Scope != want {
			return q, domain.Errorf(op, domain.KindInvalid, "permission %q applies to the %s scope, not to %s", permission, p.Scope, r)
		}
		q.scope = want
		q.personal = permission == domain.PermPersonalInfoView || permission == domain.PermProjectViewPI
		if r.Kind == engine.KindProject {
			q.project = e.project(r.ID)
			if q.project == nil {
				return q, domain.Errorf(op, domain.KindNotFound, "project %q not found", r.ID)
			}
		}
		if r.Kind == engine.KindDomain && r.ID == "" {
			return q, domain.Errorf(op, domain.KindInvalid, "a domain needs a name")
		}
		return q, nil
	case engine.KindFolder:
		fp, err := domain.ParseFolderPermission(permission)
		if err != nil {
			return q, domain.E(op, domain.KindInvalid, err)
		}
		q.scope, q.fperm = domain.ScopeFolder, fp
		q.folder = e.folder(r.ID)
		if q.folder == nil {
			return q, domain.Errorf(op, domain.KindNotFound, "folder %q not found", r.ID)
		}
		q.ftype = e.folderType(q.folder.TypeID)
		if q.ftype == nil {
			return q, domain.Errorf(op, domain.KindNotFound, "folder type %q of folder %q not found", q.folder.TypeID, r.ID)
		}
		if !q.ftype.HasContext(fp.Context) {
			// R16: an undeclared context is an invalid request naming the type's contexts.
			return q, domain.Errorf(op, domain.KindInvalid, "folder type %q has no context %q; its contexts are: %s",
				q.ftype.Name, fp.Context, strings.Join(q.ftype.Contexts, ", "))
		}
		return q, nil
	}
	return q, domain.Errorf(op, domain.KindInvalid, "unknown resource kind %q", r.Kind)
}

// ---------------------------------------------------------------------------
// Grant paths. paths returns every way the principal's grants allow the
// request, before R11 and R18 are applied.

// systemPaths is R13: one path for each source of perm among the user's
// own system role and, for each of their groups, its role and checkboxes,
// each closed under R8.
func (e *Evaluator) systemPaths(p principal, perm string) []engine.Path {
	var out []engine.Path
	implies := func(held string) bool { return implies(held, perm) }
	fromRole := func(groupID, roleID string) {
		r := e.role(roleID)
		if r == nil {
			return
		}
		for _, k := range r.Permissions {
			if implies(k) {
				out = append(out, engine.Path{GroupID: groupID, GroupName: e.nameOrEmpty(groupID), Via: "role", RoleID: r.ID, RoleName: r.Name, Permission: k})
				return
			}
		}
	}
	if p.user != nil {
		fromRole("", p.user.SystemRoleID) // R13: the individual role
	}
	for _, gid := range p.groups {
		g := e.group(gid)
		if g.Builtin == domain.BuiltinPublic {
			continue // R5: Public can hold no system permission; whatever data says, it grants none
		}
		fromRole(gid, g.SystemRoleID) // R13: each group's role …
		for _, k := range g.SystemPermissions {
			if implies(k) { // … and its checkboxes
				out = append(out, engine.Path{GroupID: gid, GroupName: g.Name, Via: "checkbox", Permission: k})
				break
			}
		}
	}
	return out
}

// closures caches domain.Close of each catalog key: what holding the key
// implies (R8). The catalog is fixed, so the cache is computed once.
var closures = sync.OnceValue(func() map[string][]string {
	m := map[string][]string{}
	for _, p := range domain.Catalog() {
		m[p.Key] = domain.Close([]string{p.Key})
	}
	return m
})

// implies reports whether holding held grants perm (R8).
func implies(held, perm string) bool {
	if c, ok := closures()[held]; ok {
		return slices.Contains(c, perm)
	}
	return held == perm
}

func (e *Evaluator) nameOrEmpty(groupID string) string {
	if groupID == "" {
		return ""
	}
	return e.groupName(groupID)
}

// projectGrants returns the grant rows on project P that count for the
// principal (R14 and decisions: projects), each with the group it comes
// through ("" for the user's own).
func (e *Evaluator) projectGrants(p principal, proj *domain.Project) []domain.ProjectGrant {
	var individual, builtin, single []domain.ProjectGrant
	inSingle := false // the user is in a non-built-in group present in P
	// A project group of P is present in P even without a grant row.
	for _, gid := range p.groups {
		g := e.group(gid)
		if g.Builtin == domain.BuiltinNone && g.Scope == domain.ScopeProject && g.ProjectID == proj.ID {
			inSingle = true
		}
	}
	for _, pg := range e.snap.ProjectGrants {
		if pg.ProjectID != proj.ID {
			continue
		}
		switch pg.SubjectKind {
		case domain.SubjectUser:
			if p.user != nil && pg.SubjectID == p.user.ID {
				individual = append(individual, pg)
			}
		case domain.SubjectGroup:
			g := e.group(pg.SubjectID)
			if g == nil || !p.inGroup(g.ID) {
				continue
			}
			if g.Scope == domain.ScopeProject && g.ProjectID != proj.ID {
				continue // a project group has no rights on any other project
			}
			// The group is present in P: a project group of P, or a system
			// group with a row on P.
			if g.Builtin != domain.BuiltinNone {
				builtin = append(builtin, pg) // built-in grants add in both modes
			} else {
				single = append(single, pg)
				inSingle = true
			}
		}
	}
	out := slices.Clone(builtin)
	mode := proj.MembershipMode
	if mode == domain.ModeExclusive && inSingle {
		// The single group's grant (the union if data holds several)
		// replaces the individual grant.
		return append(out, single...)
	}
	out = append(out, single...)
	return append(out, individual...)
}

func (e *Evaluator) projectPaths(p principal, proj *domain.Project, perm string) []engine.Path {
	var out []engine.Path
	for _, pg := range e.projectGrants(p, proj) {
		gid := ""
		if pg.SubjectKind == domain.SubjectGroup {
			gid = pg.SubjectID
		}
		path := engine.Path{GroupID: gid, GroupName: e.nameOrEmpty(gid), Via: "project_grant"}
		found := false
		if r := e.role(pg.RoleID); r != nil {
			for _, k := range r.Permissions {
				if implies(k, perm) {
					path.RoleID, path.RoleName, path.Permission, found = r.ID, r.Name, k, true
					break
				}
			}
		}
		if !found {
			for _, k := range pg.Permissions {
				if implies(k, perm) {
					path.Permission, found = k, true
					break
				}
			}
		}
		if found {
			out = append(out, path)
		}
	}
	return out
}

func (e *Evaluator) domainPaths(p principal, name string) []engine.Path {
	var out []engine.Path
	for _, gid := range p.groups {
		for _, dg := range e.snap.DomainGrants {
			if dg.GroupID == gid && dg.Domain == name { // exact, case-sensitive
				out = append(out, engine.Path{GroupID: gid, GroupName: e.groupName(gid), Via: "domain_grant", Permission: domain.PermDomainAccess})
				break
			}
		}
	}
	return out
}

// groupLevel is R15 for one group: the level of the nearest
// ancestor-or-self folder with an entry for the group, and that folder;
// LevelNone and "" when no folder on the path has an entry.
func (e *Evaluator) groupLevel(f *domain.Folder, groupID string) (domain.Level, string) {
	for _, a := range e.ancestry(f) {
		for _, fl := range e.snap.FolderLevels {
			if fl.FolderID == a.ID && fl.GroupID == groupID {
				return fl.Level, a.ID
			}
		}
	}
	return domain.LevelNone, ""
}

// criterionMatches implements the operators of decisions: rules.
func criterionMatches(c domain.Criterion, f *domain.Folder) bool {
	if f.TypeID != c.FolderTypeID {
		return false
	}
	v, present := f.Properties[c.Property]
	switch c.Operator {
	case domain.OpEq:
		return present && v == c.Value
	case domain.OpNe:
		return !present || v != c.Value
	case domain.OpIn:
		return present && slices.Contains(c.Values, v)
	case domain.OpContains:
		return present && strings.Contains(v, c.Value)
	case domain.OpStartsWith:
		return present && strings.HasPrefix(v, c.Value)
	case domain.OpExists:
		return present
	}
	return false
}

// ruleMatches reports whether every criterion of the rule matches folder f
// (AND). A rule without criteria matches nothing.
func ruleMatches(r *domain.Rule, f *domain.Folder) bool {
	if len(r.Criteria) == 0 {
		return false
	}
	for _, c := range r.Criteria {
		if !criterionMatches(c, f) {
			return false
		}
	}
	return true
}

// ruleGrants reports whether the rule's matrix grants the permission. A
// matrix grants only the rule actions of docs/model.md §5 (create, read, edit,
// delete, lock, view_blinded, set_blinded); any other action stored in it
// grants nothing.
func ruleGrants(r *domain.Rule, fp domain.FolderPermission) bool {
	return domain.IsRuleAction(fp.Action) && slices.Contains(r.Grants[fp.Context], fp.Action.String())
}

func (e *Evaluator) folderPaths(p principal, q request) []engine.Path {
	var out []engine.Path
	// R17: files.admin (or server.manage, which implies it).
	for _, sp := range e.systemPaths(p, domain.PermFilesAdmin) {
		sp.Via = "files_admin"
		out = append(out, sp)
	}
	for _, gid := range p.groups {
		// R15: the group's level on the folder.
		if lvl, from := e.groupLevel(q.folder, gid); domain.LevelGrants(lvl, q.fperm.Action) {
			out = append(out, engine.Path{GroupID: gid, GroupName: e.groupName(gid), Via: "folder_level", FolderID: from, Level: lvl})
		}
		// R16: the group's rules matching the folder or an ancestor.
		for i := range e.snap.Rules {
			r := &e.snap.Rules[i]
			if r.GroupID != gid || !ruleGrants(r, q.fperm) {
				continue
			}
			for _, a := range e.ancestry(q.folder) {
				if ruleMatches(r, a) {
					out = append(out, engine.Path{GroupID: gid, GroupName: e.groupName(gid), Via: "rule", RuleID: r.ID, RuleName: r.Name, MatchedID: a.ID})
					break
				}
			}
		}
	}
	return out
}

func (e *Evaluator) paths(p principal, q request) []engine.Path {
	switch q.res.Kind {
	case engine.KindSystem:
		return e.systemPaths(p, q.perm)
	case engine.KindProject:
		return e.projectPaths(p, q.project, q.perm)
	case engine.KindDomain:
		return e.domainPaths(p, q.res.ID)
	case engine.KindFolder:
		return e.folderPaths(p, q)
	}
	return nil
}

// decide applies R11 and R18 to the grant paths.
func (e *Evaluator) decide(p principal, q request) (allowed bool, paths []engine.Path) {
	if p.disabled() {
		return false, nil // R11
	}
	paths = e.paths(p, q)
	if len(paths) == 0 {
		return false, nil
	}
	if q.personal && (p.user == nil || !p.user.ShowPersonalInfo) {
		return false, paths // R18: the preference is off, or there is none (anonymous)
	}
	return true, paths
}

// reason sums up a decision in one sentence.
func (e *Evaluator) reason(p principal, q request, allowed bool, paths []engine.Path) string {
	switch {
	case p.disabled():
		return fmt.Sprintf("%s is disabled and has no permission at all (R11)", p.describe())
	case allowed:
		return fmt.Sprintf("%s may %s on %s", p.describe(), q.perm, q.res)
	case len(paths) == 0:
		return fmt.Sprintf("no grant of %s allows %s on %s", p.describe(), q.perm, q.res)
	case p.user == nil:
		return "anonymous requests have no show_personal_info preference, so personal information stays hidden (R18)"
	default:
		return fmt.Sprintf("%s holds %s but has turned show_personal_info off: that preference is the only reason for the deny (R18)", p.describe(), q.perm)
	}
}

// ---------------------------------------------------------------------------
// The Querier methods.

// Check answers R11–R18 and carries the revision (R20).
func (e *Evaluator) Check(s engine.Subject, permission string, r engine.Resource, now time.Time) (engine.Decision, error) {
	q, err := e.validate(permission, r)
	if err != nil {
		return engine.Decision{}, err
	}
	p, err := e.resolve(s, now)
	if err != nil {
		return engine.Decision{}, err
	}
	ok, _ := e.decide(p, q)
	return engine.Decision{Allowed: ok, Revision: e.snap.Revision}, nil
}

// Explain answers like Check and says why (R19).
func (e *Evaluator) Explain(s engine.Subject, permission string, r engine.Resource, now time.Time) (engine.Explanation, error) {
	q, err := e.validate(permission, r)
	if err != nil {
		return engine.Explanation{}, err
	}
	p, err := e.resolve(s, now)
	if err != nil {
		return engine.Explanation{}, err
	}
	ok, paths := e.decide(p, q)
	x := engine.Explanation{Allowed: ok, Revision: e.snap.Revision, Subject: s, Permission: permission, Resource: r,
		Reason: e.reason(p, q, ok, paths)}
	if ok {
		x.Paths = paths
		return x, nil
	}
	x.Considered, x.Suggestions = e.whyNot(p, q)
	return x, nil
}

// whyNot lists what was checked for a deny and what would allow it.
func (e *Evaluator) whyNot(p principal, q request) (considered, suggestions []string) {
	who := p.describe()
	if p.disabled() {
		return []string{who + " is disabled (R11)"}, []string{"enable " + who}
	}
	if q.personal && len(e.paths(p, q)) > 0 {
		if p.user == nil {
			return []string{"anonymous has no personal-information preference (R18)"}, []string{"sign in as a user who holds " + q.perm}
		}
		return []string{who + " has show_personal_info turned off (R18)"}, []string{"turn show_personal_info on for " + who}
	}
	var names []string
	for _, gid := range p.groups {
		names = append(names, e.groupName(gid))
	}
	considered = append(considered, fmt.Sprintf("%s is in groups: %s", who, strings.Join(names, ", ")))
	target := "one of the groups of " + who
	if p.user != nil {
		target = who + " or one of their groups"
	}
	switch q.res.Kind {
	case engine.KindSystem:
		considered = append(considered, "no individual role, group role or checkbox holds "+q.perm+" or a permission implying it")
		suggestions = append(suggestions, fmt.Sprintf("give %s a system role or checkbox with %s", target, q.perm))
	case engine.KindProject:
		considered = append(considered, fmt.Sprintf("no grant on project %s (mode %s) that counts holds %s", q.project.Name, q.project.MembershipMode, q.perm))
		suggestions = append(suggestions, fmt.Sprintf("grant %s on project %s to %s", q.perm, q.project.Name, target))
	case engine.KindDomain:
		considered = append(considered, "no group of "+who+" has domain "+q.res.ID+" among its accessible domains")
		suggestions = append(suggestions, fmt.Sprintf("add domain %s to the accessible domains of %s", q.res.ID, "one of the groups of "+who))
	case engine.KindFolder:
		for _, gid := range p.groups {
			lvl, from := e.groupLevel(q.folder, gid)
			if from == "" {
				considered = append(considered, fmt.Sprintf("group %s: no level on folder %s or above", e.groupName(gid), q.folder.Name))
			} else {
				considered = append(considered, fmt.Sprintf("group %s: level %s from folder %s", e.groupName(gid), lvl, e.folderName(from)))
			}
			for i := range e.snap.Rules {
				r := &e.snap.Rules[i]
				if r.GroupID != gid || !ruleGrants(r, q.fperm) {
					continue
				}
				considered = append(considered, fmt.Sprintf("rule %s of group %s grants %s but matches neither folder %s nor its ancestors", r.Name, e.groupName(gid), q.perm, q.folder.Name))
				for _, c := range r.Criteria {
					if !criterionMatches(c, q.folder) {
						suggestions = append(suggestions, fmt.Sprintf("set property %q of folder %s to satisfy %s %v of rule %s (now %q)",
							c.Property, q.folder.Name, c.Operator, criterionValue(c), r.Name, q.folder.Properties[c.Property]))
					}
				}
			}
		}
		if min, ok := domain.LevelFor(q.fperm.Action); ok {
			suggestions = append(suggestions, fmt.Sprintf("set the level of one of the groups of %s on folder %s to %s or higher", who, q.folder.Name, min))
		} else {
			suggestions = append(suggestions, fmt.Sprintf("add a rule granting %s.%s to one of the groups of %s", q.fperm.Context, q.fperm.Action, who))
		}
		suggestions = append(suggestions, "give "+target+" files.admin (R17)")
	}
	return considered, suggestions
}

func criterionValue(c domain.Criterion) any {
	if c.Operator == domain.OpIn {
		return c.Values
	}
	return c.Value
}

// ListResources lists every resource of kind the subject may act on with
// permission, sorted. Folders whose type lacks the permission's context
// are left out (they are not an error here).
func (e *Evaluator) ListResources(s engine.Subject, permission string, kind engine.ResourceKind, under string, now time.Time) ([]string, error) {
	var candidates []string
	switch kind {
	case engine.KindProject:
		if err := checkScope(permission, domain.ScopeProject); err != nil {
			return nil, err
		}
		for _, pr := range e.snap.Projects {
			candidates = append(candidates, pr.ID)
		}
	case engine.KindDomain:
		if err := checkScope(permission, domain.ScopeDomain); err != nil {
			return nil, err
		}
		for _, dg := range e.snap.DomainGrants {
			if !slices.Contains(candidates, dg.Domain) {
				candidates = append(candidates, dg.Domain)
			}
		}
	case engine.KindFolder:
		fp, err := domain.ParseFolderPermission(permission)
		if err != nil {
			return nil, domain.E(op, domain.KindInvalid, err)
		}
		if under != "" && e.folder(under) == nil {
			return nil, domain.Errorf(op, domain.KindNotFound, "folder %q not found", under)
		}
		for i := range e.snap.Folders {
			f := &e.snap.Folders[i]
			if under != "" && !e.isUnder(f, under) {
				continue
			}
			if t := e.folderType(f.TypeID); t == nil || !t.HasContext(fp.Context) {
				continue
			}
			candidates = append(candidates, f.ID)
		}
	default:
		return nil, domain.Errorf(op, domain.KindInvalid, "cannot list resources of kind %q", kind)
	}
	p, err := e.resolve(s, now)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range candidates {
		q, err := e.validate(permission, engine.Resource{Kind: kind, ID: id})
		if err != nil {
			return nil, err
		}
		if ok, _ := e.decide(p, q); ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

func checkScope(permission string, want domain.Scope) error {
	p, ok := domain.LookupPermission(permission)
	if !ok {
		return domain.Errorf(op, domain.KindInvalid, "unknown permission %q", permission)
	}
	if p.Scope != want {
		return domain.Errorf(op, domain.KindInvalid, "permission %q applies to the %s scope, not %s", permission, p.Scope, want)
	}
	return nil
}

// ListSubjects lists every active user allowed permission on r, sorted by
// id, each with the sorted ids of the groups through which they are
// allowed ("" for their own grant), and whether anonymous is allowed.
func (e *Evaluator) ListSubjects(permission string, r engine.Resource, now time.Time) ([]engine.SubjectGrant, bool, error) {
	q, err := e.validate(permission, r)
	if err != nil {
		return nil, false, err
	}
	var out []engine.SubjectGrant
	for i := range e.snap.Users {
		u := &e.snap.Users[i]
		if !u.Active() {
			continue
		}
		p, err := e.resolve(engine.Subject{UserID: u.ID}, now)
		if err != nil {
			return nil, false, err
		}
		ok, paths := e.decide(p, q)
		if !ok {
			continue
		}
		var groups []string
		for _, pa := range paths {
			if !slices.Contains(groups, pa.GroupID) {
				groups = append(groups, pa.GroupID)
			}
		}
		sort.Strings(groups)
		out = append(out, engine.SubjectGrant{UserID: u.ID, Username: u.Username, Groups: groups})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	anon, _ := e.resolve(engine.Anonymous, now)
	ok, _ := e.decide(anon, q)
	return out, ok, nil
}

// EffectivePermissions lists, sorted, every permission Check allows the
// subject on r.
func (e *Evaluator) EffectivePermissions(s engine.Subject, r engine.Resource, now time.Time) ([]string, error) {
	var keys []string
	switch r.Kind {
	case engine.KindSystem:
		keys = domain.PermissionsOfScope(domain.ScopeSystem)
	case engine.KindProject:
		keys = domain.PermissionsOfScope(domain.ScopeProject)
		if e.project(r.ID) == nil {
			return nil, domain.Errorf(op, domain.KindNotFound, "project %q not found", r.ID)
		}
	case engine.KindDomain:
		keys = []string{domain.PermDomainAccess}
		if r.ID == "" {
			return nil, domain.Errorf(op, domain.KindInvalid, "a domain needs a name")
		}
	case engine.KindFolder:
		f := e.folder(r.ID)
		if f == nil {
			return nil, domain.Errorf(op, domain.KindNotFound, "folder %q not found", r.ID)
		}
		t := e.folderType(f.TypeID)
		if t == nil {
			return nil, domain.Errorf(op, domain.KindNotFound, "folder type %q not found", f.TypeID)
		}
		for _, c := range t.Contexts {
			for _, a := range domain.Actions() {
				keys = append(keys, c+"."+a)
			}
		}
	default:
		return nil, domain.Errorf(op, domain.KindInvalid, "unknown resource kind %q", r.Kind)
	}
	p, err := e.resolve(s, now)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range keys {
		q, err := e.validate(k, r)
		if err != nil {
			return nil, err
		}
		if ok, _ := e.decide(p, q); ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}
