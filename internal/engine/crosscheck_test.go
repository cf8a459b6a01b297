package engine_test

// The cross-check: on many small random datasets, the engine must answer
// every question exactly like the reference evaluator (R6, R8, R11–R20).
//
//	go test ./internal/engine -run 'TestCrossCheck|TestIncremental'           # default: 1,000 datasets
//	go test ./internal/engine -run TestCrossCheck -long                       # 10× more
//	go test ./internal/engine -run TestCrossCheck -seed 4242 -v               # replay one dataset
//	go test ./internal/engine -run TestCrossCheck -seedbase 1000000           # other datasets
//
// The generator is this file's own (not the engine's benchmark generator):
// it makes random folder trees, folder types with several contexts and
// properties, memberships expiring before, at and after now, levels with
// none overrides, rules with AND criteria over every operator, custom and
// built-in roles, individual system roles, project grants in both modes
// (users in several groups present in an exclusive project included, which
// docs/decisions.md resolves by union), grants of project groups on other
// projects, built-in groups' grants, disabled users and anonymous.

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

var (
	flagLong     = flag.Bool("long", false, "run 10× more random datasets and change sequences")
	flagSeed     = flag.Uint64("seed", 0, "replay only the random dataset or change sequence with this seed")
	flagSeedBase = flag.Uint64("seedbase", 0, "first seed is seedbase+1 (CI may pass its run number to vary the data)")
)

// seeds returns the seeds to run: the one of -seed, or n of them (10n with -long).
func seeds(n int) []uint64 {
	if *flagSeed != 0 {
		return []uint64{*flagSeed}
	}
	if *flagLong {
		n *= 10
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = *flagSeedBase + uint64(i) + 1
	}
	return out
}

var baseNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ---------------------------------------------------------------------------
// The generator.

type gen struct {
	r    *rand.Rand
	now  time.Time
	next int
}

func newGen(seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: baseNow}
}

func (g *gen) id(prefix string) string {
	g.next++
	return fmt.Sprintf("%s%d", prefix, g.next)
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, s []T) T { return s[g.r.IntN(len(s))] }

// subset returns each element of s with probability p, in order.
func subset[T any](g *gen, s []T, p float64) []T {
	var out []T
	for _, x := range s {
		if g.chance(p) {
			out = append(out, x)
		}
	}
	return out
}

var (
	contextPool  = []string{"data", "document", "analysis", "images"}
	propertyPool = []string{"Indication", "Portfolio", "Area"}
	valuePool    = []string{"GRT", "GR", "RT", "", "grt", "ABC", "Cardiovascular"}
	domainPool   = []string{"ct", "CT", "mri", "pub"}
)

func shuffle[T any](g *gen, s []T) {
	g.r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

// expiry returns nil, or an instant before, at or after now.
func (g *gen) expiry() *time.Time {
	var t time.Time
	switch x := g.r.IntN(10); {
	case x < 5:
		return nil
	case x < 7:
		t = g.now.Add(-time.Duration(1+g.r.IntN(100)) * time.Minute)
	case x < 8:
		t = g.now // expires exactly now: no longer counts (R6)
	default:
		t = g.now.Add(time.Duration(1+g.r.IntN(100)) * time.Minute)
	}
	if g.chance(0.2) {
		t = t.In(time.FixedZone("UTC+9", 9*3600)) // the same instant in another zone
	}
	return &t
}

func (g *gen) level() domain.Level { return domain.Level(g.r.IntN(int(domain.LevelDeleteFolder) + 1)) }

func (g *gen) systemPerms(p float64) []string {
	return subset(g, domain.PermissionsOfScope(domain.ScopeSystem), p)
}

func (g *gen) projectPerms() []string {
	return subset(g, domain.PermissionsOfScope(domain.ScopeProject), 0.3)
}

func roleIDs(snap *domain.Snapshot, scope domain.Scope) []string {
	var out []string
	for _, r := range snap.Roles {
		if r.Scope == scope {
			out = append(out, r.ID)
		}
	}
	return out
}

func (g *gen) user(snap *domain.Snapshot, id string) domain.User {
	u := domain.User{ID: id, Username: "user-" + id, Status: domain.UserActive, Source: domain.SourceLocal, ShowPersonalInfo: g.chance(0.7)}
	if g.chance(0.2) {
		u.Status = domain.UserDisabled
	}
	if g.chance(0.3) {
		u.SystemRoleID = pick(g, roleIDs(snap, domain.ScopeSystem))
	}
	return u
}

func (g *gen) role(scope domain.Scope) domain.Role {
	r := domain.Role{ID: g.id("role"), Scope: scope, Editable: true, Deletable: true}
	r.Name = "Role " + r.ID
	if scope == domain.ScopeSystem {
		r.Permissions = g.systemPerms(0.15)
	} else {
		r.Permissions = g.projectPerms()
	}
	return r
}

func (g *gen) group(snap *domain.Snapshot) domain.Group {
	gr := domain.Group{ID: g.id("g"), Scope: domain.ScopeSystem}
	gr.Name = "Group " + gr.ID
	if len(snap.Projects) > 0 && g.chance(0.4) {
		gr.Scope, gr.ProjectID = domain.ScopeProject, pick(g, snap.Projects).ID
		return gr
	}
	if g.chance(0.3) {
		gr.SystemRoleID = pick(g, roleIDs(snap, domain.ScopeSystem))
	}
	if g.chance(0.4) {
		gr.SystemPermissions = g.systemPerms(0.1)
	}
	if g.chance(0.2) {
		// Default project rights only matter when the group is imported
		// into a project (a grant row is written then); they grant nothing.
		gr.DefaultProjectPermissions = g.projectPerms()
		gr.DefaultProjectRoleID = pick(g, roleIDs(snap, domain.ScopeProject))
	}
	return gr
}

func (g *gen) project() domain.Project {
	p := domain.Project{ID: g.id("p"), MembershipMode: domain.ModeMultiple}
	p.Name = "Project " + p.ID
	if g.chance(0.5) {
		p.MembershipMode = domain.ModeExclusive
	}
	return p
}

func (g *gen) folderType() domain.FolderType {
	t := domain.FolderType{ID: g.id("t"), Contexts: []string{domain.ContextRoot}}
	t.Name = "Type " + t.ID
	t.Contexts = append(t.Contexts, subset(g, contextPool, 0.5)...)
	t.Properties = subset(g, propertyPool, 0.6)
	return t
}

func (g *gen) folder(snap *domain.Snapshot, parent string) domain.Folder {
	t := pick(g, snap.FolderTypes)
	f := domain.Folder{ID: g.id("f"), ParentID: parent, TypeID: t.ID}
	f.Name = "Folder " + f.ID
	props := t.Properties
	if g.chance(0.1) {
		props = append(slices.Clone(props), pick(g, propertyPool)) // a property the type does not declare
	}
	for _, p := range props {
		if g.chance(0.7) {
			if f.Properties == nil {
				f.Properties = map[string]string{}
			}
			f.Properties[p] = pick(g, valuePool)
		}
	}
	if len(snap.Projects) > 0 && g.chance(0.3) {
		f.ProjectID = pick(g, snap.Projects).ID
	}
	return f
}

func (g *gen) criterion(t domain.FolderType) domain.Criterion {
	props := append(slices.Clone(t.Properties), pick(g, propertyPool))
	c := domain.Criterion{FolderTypeID: t.ID, Property: pick(g, props), Operator: pick(g, domain.Operators())}
	switch c.Operator {
	case domain.OpIn:
		c.Values = subset(g, valuePool, 0.3)
		if len(c.Values) == 0 {
			c.Values = []string{pick(g, valuePool)}
		}
	case domain.OpExists:
	default:
		c.Value = pick(g, valuePool)
	}
	return c
}

func (g *gen) rule(snap *domain.Snapshot, groupID string) domain.Rule {
	t := pick(g, snap.FolderTypes)
	r := domain.Rule{ID: g.id("r"), GroupID: groupID, Grants: map[string][]string{}}
	r.Name = "Rule " + r.ID
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		r.Criteria = append(r.Criteria, g.criterion(t))
	}
	switch x := g.r.IntN(100); {
	case x < 2:
		r.Criteria = nil // refused by validation; matches nothing
	case x < 4:
		// criteria on two types (refused by validation): no folder has both
		r.Criteria = append(r.Criteria, g.criterion(pick(g, snap.FolderTypes)))
	}
	if g.chance(0.2) {
		// "Check all": one action on every context of the type.
		a := pick(g, domain.RuleActions())
		for _, c := range t.Contexts {
			r.Grants[c] = []string{a}
		}
	}
	for _, c := range t.Contexts {
		if acts := subset(g, domain.RuleActions(), 0.25); len(acts) > 0 {
			r.Grants[c] = acts
		}
	}
	if g.chance(0.05) {
		// A level action in a matrix (the service refuses it) grants nothing.
		c := pick(g, t.Contexts)
		r.Grants[c] = append(r.Grants[c], pick(g, []string{"download", "create_folder", "delete_folder"}))
	}
	return r
}

func (g *gen) projectGrant(snap *domain.Snapshot, projectID string, kind domain.SubjectKind, subject string) domain.ProjectGrant {
	pg := domain.ProjectGrant{ProjectID: projectID, SubjectKind: kind, SubjectID: subject}
	if g.chance(0.5) {
		pg.RoleID = pick(g, roleIDs(snap, domain.ScopeProject))
	}
	if pg.RoleID == "" || g.chance(0.3) {
		pg.Permissions = g.projectPerms()
	}
	return pg
}

func allGroupIDs(snap *domain.Snapshot) []string {
	var out []string
	for _, gr := range snap.Groups {
		out = append(out, gr.ID)
	}
	return out
}

// snapshot generates one small random dataset.
func (g *gen) snapshot() *domain.Snapshot {
	snap := &domain.Snapshot{Revision: int64(1 + g.r.IntN(1000))}
	snap.Groups = domain.BuiltinGroups()
	if g.chance(0.2) {
		snap.Groups[1].SystemPermissions = g.systemPerms(0.1) // Everyone may hold checkboxes
	}
	if g.chance(0.05) {
		// Public holding system permissions breaks R5; they grant nothing.
		snap.Groups[2].SystemPermissions = g.systemPerms(0.2)
	}
	snap.Roles = domain.BuiltinRoles()
	for n := g.r.IntN(3); n > 0; n-- {
		snap.Roles = append(snap.Roles, g.role(domain.ScopeSystem))
	}
	for n := g.r.IntN(3); n > 0; n-- {
		snap.Roles = append(snap.Roles, g.role(domain.ScopeProject))
	}
	snap.FolderTypes = []domain.FolderType{domain.BuiltinFolderType()}
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		snap.FolderTypes = append(snap.FolderTypes, g.folderType())
	}
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		snap.Projects = append(snap.Projects, g.project())
	}
	for n := 3 + g.r.IntN(4); n > 0; n-- {
		snap.Users = append(snap.Users, g.user(snap, g.id("u")))
	}
	for n := 2 + g.r.IntN(4); n > 0; n-- {
		snap.Groups = append(snap.Groups, g.group(snap))
	}
	for _, u := range snap.Users {
		for _, gr := range snap.Groups {
			switch {
			case gr.Builtin == domain.BuiltinAdministrators && g.chance(0.15),
				gr.Builtin == domain.BuiltinNone && g.chance(0.35):
				snap.Memberships = append(snap.Memberships, domain.Membership{GroupID: gr.ID, UserID: u.ID, ExpiresAt: g.expiry()})
			}
		}
	}
	if g.chance(0.6) { // a nested world (issue 20)
		for n := 1 + g.r.IntN(2*len(snap.Groups)); n > 0; n-- {
			if m, ok := g.nesting(snap); ok {
				snap.GroupMemberships = append(snap.GroupMemberships, m)
			}
		}
	}
	for _, p := range snap.Projects {
		for _, u := range snap.Users {
			if g.chance(0.3) {
				snap.ProjectGrants = append(snap.ProjectGrants, g.projectGrant(snap, p.ID, domain.SubjectUser, u.ID))
			}
		}
		for _, gr := range snap.Groups {
			prob := 0.4 // system groups: present when they have a row
			switch {
			case gr.Builtin != domain.BuiltinNone:
				prob = 0.2
			case gr.Scope == domain.ScopeProject && gr.ProjectID == p.ID:
				prob = 0.7
			case gr.Scope == domain.ScopeProject:
				prob = 0.1 // a project group's row on another project counts for nothing
			}
			if g.chance(prob) {
				snap.ProjectGrants = append(snap.ProjectGrants, g.projectGrant(snap, p.ID, domain.SubjectGroup, gr.ID))
			}
		}
	}
	for _, gr := range snap.Groups {
		for _, d := range subset(g, domainPool, 0.15) {
			snap.DomainGrants = append(snap.DomainGrants, domain.DomainGrant{GroupID: gr.ID, Domain: d})
		}
	}
	nFolders := 3 + g.r.IntN(6)
	if g.chance(0.03) {
		nFolders = 12 + g.r.IntN(8) // now and then a bigger tree
	}
	for n := nFolders; n > 0; n-- {
		parent := ""
		switch {
		case len(snap.Folders) > 0 && g.chance(0.3):
			parent = snap.Folders[len(snap.Folders)-1].ID // deep chains
		case len(snap.Folders) > 0 && g.chance(0.65):
			parent = pick(g, snap.Folders).ID
		}
		snap.Folders = append(snap.Folders, g.folder(snap, parent))
	}
	for _, f := range snap.Folders {
		for _, gr := range snap.Groups {
			if g.chance(0.12) {
				snap.FolderLevels = append(snap.FolderLevels, domain.FolderLevel{FolderID: f.ID, GroupID: gr.ID, Level: g.level()})
			}
		}
	}
	for n := g.r.IntN(5); n > 0; n-- {
		snap.Rules = append(snap.Rules, g.rule(snap, pick(g, allGroupIDs(snap))))
	}
	// A store lists objects in its own order (a moved folder may come
	// before its new parent): shuffle every list.
	shuffle(g, snap.Users)
	shuffle(g, snap.Projects)
	shuffle(g, snap.Groups)
	shuffle(g, snap.Memberships)
	shuffle(g, snap.GroupMemberships)
	shuffle(g, snap.Roles)
	shuffle(g, snap.ProjectGrants)
	shuffle(g, snap.DomainGrants)
	shuffle(g, snap.FolderTypes)
	shuffle(g, snap.Folders)
	shuffle(g, snap.FolderLevels)
	shuffle(g, snap.Rules)
	return snap
}

// nesting returns a new group membership that makes no cycle, with an
// expiry before, at or after now, or false when none was found. Groups of
// any scope are nested (the service's scope rules are not the engine's),
// and now and then Everyone or Public, which take no part in nesting.
func (g *gen) nesting(snap *domain.Snapshot) (domain.GroupMembership, bool) {
	for try := 0; try < 8; try++ {
		parent, child := pick(g, snap.Groups), pick(g, snap.Groups)
		implicit := func(gr domain.Group) bool {
			return gr.Builtin == domain.BuiltinEveryone || gr.Builtin == domain.BuiltinPublic
		}
		if (implicit(parent) || implicit(child)) && !g.chance(0.1) {
			continue
		}
		if parent.ID == child.ID || reaches(snap, parent.ID, child.ID) {
			continue
		}
		exists := slices.ContainsFunc(snap.GroupMemberships, func(m domain.GroupMembership) bool {
			return m.GroupID == parent.ID && m.MemberGroupID == child.ID
		})
		if !exists {
			return domain.GroupMembership{GroupID: parent.ID, MemberGroupID: child.ID, ExpiresAt: g.expiry()}, true
		}
	}
	return domain.GroupMembership{}, false
}

// reaches reports whether group from is a member, directly or through
// others, of group to, whatever the expiries.
func reaches(snap *domain.Snapshot, from, to string) bool {
	seen := map[string]bool{from: true}
	for grew := true; grew; {
		grew = false
		for _, m := range snap.GroupMemberships {
			if seen[m.MemberGroupID] && !seen[m.GroupID] {
				seen[m.GroupID], grew = true, true
			}
		}
	}
	return seen[to]
}

// ---------------------------------------------------------------------------
// Queries and their answers, as comparable strings.

type queryKind int

const (
	qCheck queryKind = iota
	qList
	qSubjects
	qEffective
	qExplain
)

type query struct {
	kind    queryKind
	subject engine.Subject
	perm    string
	res     engine.Resource
	list    engine.ResourceKind
	under   string
	now     time.Time
}

func (q query) String() string {
	who := "anonymous"
	if q.subject.UserID != "" {
		who = q.subject.UserID
	}
	at := q.now.Format(time.RFC3339)
	switch q.kind {
	case qCheck:
		return fmt.Sprintf("Check(%s, %s, %s, %s)", who, q.perm, q.res, at)
	case qList:
		return fmt.Sprintf("ListResources(%s, %s, %s, under=%q, %s)", who, q.perm, q.list, q.under, at)
	case qSubjects:
		return fmt.Sprintf("ListSubjects(%s, %s, %s)", q.perm, q.res, at)
	case qExplain:
		return fmt.Sprintf("Explain(%s, %s, %s, %s)", who, q.perm, q.res, at)
	default:
		return fmt.Sprintf("EffectivePermissions(%s, %s, %s)", who, q.res, at)
	}
}

func errAnswer(err error) string { return "error " + errKind(err) }

// answer runs q and renders the answer so that equal answers render
// equally: errors by kind only, lists sorted, nil and empty alike.
func answer(im engine.Querier, q query) (out string) {
	defer func() {
		if p := recover(); p != nil {
			out = fmt.Sprintf("panic: %v", p)
		}
	}()
	switch q.kind {
	case qCheck:
		d, err := im.Check(q.subject, q.perm, q.res, q.now)
		if err != nil {
			return errAnswer(err)
		}
		return "allowed=" + strconv.FormatBool(d.Allowed) + " revision=" + strconv.FormatInt(d.Revision, 10)
	case qExplain:
		// Explain agrees with Check and gives a path for every allow (R19).
		x, err := im.Explain(q.subject, q.perm, q.res, q.now)
		if err != nil {
			return errAnswer(err)
		}
		return "allowed=" + strconv.FormatBool(x.Allowed) + " revision=" + strconv.FormatInt(x.Revision, 10) +
			" allow-without-path=" + strconv.FormatBool(x.Allowed && len(x.Paths) == 0)
	case qList:
		ids, err := im.ListResources(q.subject, q.perm, q.list, q.under, q.now)
		if err != nil {
			return errAnswer(err)
		}
		if !sort.StringsAreSorted(ids) {
			return fmt.Sprintf("unsorted %q", ids)
		}
		return strings.Join(ids, ",")
	case qSubjects:
		users, anon, err := im.ListSubjects(q.perm, q.res, q.now)
		if err != nil {
			return errAnswer(err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "anonymous=%v", anon)
		for i, u := range users {
			if i > 0 && users[i-1].UserID >= u.UserID {
				b.WriteString(" (NOT SORTED BY ID)")
			}
			gs := slices.Clone(u.Groups)
			sort.Strings(gs)
			fmt.Fprintf(&b, " %s(%s)%q", u.UserID, u.Username, gs)
		}
		return b.String()
	default:
		perms, err := im.EffectivePermissions(q.subject, q.res, q.now)
		if err != nil {
			return errAnswer(err)
		}
		if !sort.StringsAreSorted(perms) {
			return fmt.Sprintf("unsorted %q", perms)
		}
		return strings.Join(perms, ",")
	}
}

// queries returns the questions asked of one dataset at instant now: every
// check of every subject on every resource for a good set of permissions
// (invalid ones included), every listing and every EffectivePermissions.
// sample < 1 keeps that fraction of the system and folder checks and of
// the folder listings (EffectivePermissions covers every permission of
// every resource anyway). With full false only EffectivePermissions and
// ListSubjects are asked.
func queries(g *gen, snap *domain.Snapshot, now time.Time, sample float64, full bool) []query {
	subjects := []engine.Subject{engine.Anonymous}
	for _, u := range snap.Users {
		subjects = append(subjects, engine.Subject{UserID: u.ID})
	}
	var contexts []string // every context of every type, and one nobody declares
	for _, t := range snap.FolderTypes {
		for _, c := range t.Contexts {
			if !slices.Contains(contexts, c) {
				contexts = append(contexts, c)
			}
		}
	}
	contexts = append(contexts, "bogus")
	sys := domain.PermissionsOfScope(domain.ScopeSystem)
	proj := domain.PermissionsOfScope(domain.ScopeProject)
	var qs []query
	add := func(q query) {
		q.now = now
		qs = append(qs, q)
		if q.kind == qCheck && g.chance(0.1) {
			q.kind = qExplain
			qs = append(qs, q)
		}
	}

	resources := []engine.Resource{{Kind: engine.KindSystem}}
	for _, p := range snap.Projects {
		resources = append(resources, engine.Resource{Kind: engine.KindProject, ID: p.ID})
	}
	for _, d := range append(slices.Clone(domainPool), "nowhere") {
		resources = append(resources, engine.Resource{Kind: engine.KindDomain, ID: d})
	}
	for _, f := range snap.Folders {
		resources = append(resources, engine.Resource{Kind: engine.KindFolder, ID: f.ID})
	}

	for _, s := range subjects {
		for _, r := range resources {
			if !full && r.Kind == engine.KindDomain {
				continue // kept short: domains are asked at the first instant
			}
			add(query{kind: qEffective, subject: s, res: r})
			if !full {
				continue
			}
			switch r.Kind {
			case engine.KindSystem:
				for _, p := range sys {
					if g.chance(sample) || p == domain.PermPersonalInfoView {
						add(query{kind: qCheck, subject: s, perm: p, res: r})
					}
				}
				add(query{kind: qCheck, subject: s, perm: domain.PermProjectRead, res: r}) // invalid
			case engine.KindProject:
				for _, p := range proj {
					add(query{kind: qCheck, subject: s, perm: p, res: r})
				}
				add(query{kind: qCheck, subject: s, perm: domain.PermUsersView, res: r}) // invalid
			case engine.KindDomain:
				add(query{kind: qCheck, subject: s, perm: domain.PermDomainAccess, res: r})
			case engine.KindFolder:
				for _, c := range contexts {
					for _, a := range domain.Actions() {
						if g.chance(sample) {
							add(query{kind: qCheck, subject: s, perm: c + "." + a, res: r})
						}
					}
				}
				add(query{kind: qCheck, subject: s, perm: "root.fly", res: r}) // invalid action
			}
		}
		if !full {
			continue
		}
		// Listings.
		for _, p := range proj {
			add(query{kind: qList, subject: s, perm: p, list: engine.KindProject})
		}
		add(query{kind: qList, subject: s, perm: domain.PermDomainAccess, list: engine.KindDomain})
		unders := []string{""}
		for _, f := range snap.Folders {
			if g.chance(0.3) {
				unders = append(unders, f.ID)
			}
		}
		for _, c := range contexts {
			for _, a := range domain.Actions() {
				if g.chance(sample / 2) {
					add(query{kind: qList, subject: s, perm: c + "." + a, list: engine.KindFolder, under: pick(g, unders)})
				}
			}
		}
	}
	if !full {
		return qs
	}
	// Errors: unknown subject, project and folder.
	ghost := engine.Subject{UserID: "ghost"}
	add(query{kind: qCheck, subject: ghost, perm: domain.PermUsersView, res: engine.Resource{Kind: engine.KindSystem}})
	add(query{kind: qEffective, subject: ghost, res: engine.Resource{Kind: engine.KindSystem}})
	add(query{kind: qCheck, subject: engine.Anonymous, perm: domain.PermProjectRead, res: engine.Resource{Kind: engine.KindProject, ID: "nope"}})
	add(query{kind: qCheck, subject: engine.Anonymous, perm: "root.read", res: engine.Resource{Kind: engine.KindFolder, ID: "nope"}})
	add(query{kind: qEffective, subject: engine.Anonymous, res: engine.Resource{Kind: engine.KindFolder, ID: "nope"}})
	add(query{kind: qList, subject: engine.Anonymous, perm: "root.read", list: engine.KindFolder, under: "nope"})
	add(query{kind: qList, subject: engine.Anonymous, perm: domain.PermUsersView, list: engine.KindProject})
	add(query{kind: qSubjects, perm: domain.PermProjectRead, res: engine.Resource{Kind: engine.KindProject, ID: "nope"}})
	add(query{kind: qSubjects, perm: "root.read", res: engine.Resource{Kind: engine.KindFolder, ID: "nope"}})
	if len(snap.Folders) > 0 {
		add(query{kind: qSubjects, perm: "bogus.read", res: engine.Resource{Kind: engine.KindFolder, ID: snap.Folders[0].ID}})
	}
	// Who may: every resource, a sample of permissions.
	for _, r := range resources {
		var perms []string
		switch r.Kind {
		case engine.KindSystem:
			perms = subset(g, sys, 0.3)
			perms = append(perms, domain.PermPersonalInfoView)
		case engine.KindProject:
			perms = proj
		case engine.KindDomain:
			perms = []string{domain.PermDomainAccess}
		case engine.KindFolder:
			for _, c := range contexts {
				for _, a := range domain.Actions() {
					if g.chance(sample / 3) {
						perms = append(perms, c+"."+a)
					}
				}
			}
		}
		for _, p := range perms {
			add(query{kind: qSubjects, perm: p, res: r})
		}
	}
	return qs
}

// ---------------------------------------------------------------------------
// Comparing and reporting.

// disagreement is one query two implementations answer differently.
type disagreement struct {
	q         query
	want, got string // reference's answer, the other's
	other     string // the other's name
}

// compare asks every query of both and returns the first disagreements
// (at most max).
func compare(ref, other engine.Querier, otherName string, qs []query, max int) []disagreement {
	var out []disagreement
	for _, q := range qs {
		want, got := answer(ref, q), answer(other, q)
		if want != got {
			out = append(out, disagreement{q: q, want: want, got: got, other: otherName})
			if len(out) >= max {
				break
			}
		}
	}
	return out
}

// shrink removes, one at a time, the objects that are not needed for the
// disagreement on q to persist, and returns the smallest snapshot found.
func shrink(snap *domain.Snapshot, q query, build func(*domain.Snapshot) (engine.Querier, error)) *domain.Snapshot {
	return shrinkWhile(snap, q, func(s *domain.Snapshot) (still bool) {
		// A build that panics on a smaller world is not the disagreement
		// being reduced: keep the object whose removal caused it.
		defer func() {
			if recover() != nil {
				still = false
			}
		}()
		e, err := build(reference.Clone(s))
		if err != nil {
			return false
		}
		return answer(reference.New(s), q) != answer(e, q)
	})
}

// shrinkWhile removes from snap every object whose removal keeps still
// true, and returns what is left. The subject and resources of q stay.
func shrinkWhile(snap *domain.Snapshot, q query, still func(*domain.Snapshot) bool) *domain.Snapshot {
	cur := reference.Clone(snap)
	// Each step tries deleting one element of one slice; entities others
	// refer to (projects, folders, types, roles, groups) are removed with a
	// reference.Apply delete so that their cascades keep the data whole.
	for progress := true; progress; {
		progress = false
		try := func(s *domain.Snapshot) bool {
			if still(s) {
				cur, progress = s, true
				return true
			}
			return false
		}
		for i := len(cur.Memberships) - 1; i >= 0; i-- {
			s := reference.Clone(cur)
			s.Memberships = slices.Delete(s.Memberships, i, i+1)
			try(s)
		}
		for i := len(cur.GroupMemberships) - 1; i >= 0; i-- {
			s := reference.Clone(cur)
			s.GroupMemberships = slices.Delete(s.GroupMemberships, i, i+1)
			try(s)
		}
		for i := len(cur.ProjectGrants) - 1; i >= 0; i-- {
			s := reference.Clone(cur)
			s.ProjectGrants = slices.Delete(s.ProjectGrants, i, i+1)
			try(s)
		}
		for i := len(cur.DomainGrants) - 1; i >= 0; i-- {
			s := reference.Clone(cur)
			s.DomainGrants = slices.Delete(s.DomainGrants, i, i+1)
			try(s)
		}
		for i := len(cur.FolderLevels) - 1; i >= 0; i-- {
			s := reference.Clone(cur)
			s.FolderLevels = slices.Delete(s.FolderLevels, i, i+1)
			try(s)
		}
		for i := len(cur.Rules) - 1; i >= 0; i-- {
			s := reference.Clone(cur)
			s.Rules = slices.Delete(s.Rules, i, i+1)
			try(s)
		}
		del := func(m domain.Mutation) {
			s := reference.Clone(cur)
			m.Op = domain.OpDelete
			if reference.Apply(s, domain.Change{Revision: s.Revision, Mutations: []domain.Mutation{m}}) == nil {
				try(s)
			}
		}
		// Deleting one of these may delete others with it (a folder's
		// subtree, a project's groups), so they are walked by key, never
		// by an index into a list that the last deletion may have shortened.
		eachStill(func() []domain.User { return cur.Users }, func(u domain.User) string { return u.ID }, func(u domain.User) {
			if u.ID != q.subject.UserID {
				del(domain.Mutation{Entity: domain.EntityUser, User: &u})
			}
		})
		eachStill(func() []domain.Group { return cur.Groups }, func(gr domain.Group) string { return gr.ID }, func(gr domain.Group) {
			if gr.Builtin == domain.BuiltinNone {
				del(domain.Mutation{Entity: domain.EntityGroup, Group: &gr})
			}
		})
		eachStill(func() []domain.Folder { return cur.Folders }, func(f domain.Folder) string { return f.ID }, func(f domain.Folder) {
			if f.ID != q.res.ID && f.ID != q.under {
				del(domain.Mutation{Entity: domain.EntityFolder, Folder: &f})
			}
		})
		eachStill(func() []domain.Project { return cur.Projects }, func(p domain.Project) string { return p.ID }, func(p domain.Project) {
			if p.ID != q.res.ID {
				del(domain.Mutation{Entity: domain.EntityProject, Project: &p})
			}
		})
	}
	return cur
}

// eachStill calls fn, last to first, on every element that list() held
// when eachStill was called and still holds at its turn (found again by
// key, since fn may shorten the list by more than one element).
func eachStill[T any](list func() []T, key func(T) string, fn func(T)) {
	keys := make([]string, 0, len(list()))
	for _, x := range list() {
		keys = append(keys, key(x))
	}
	for i := len(keys) - 1; i >= 0; i-- {
		now := list()
		if j := slices.IndexFunc(now, func(x T) bool { return key(x) == keys[i] }); j >= 0 {
			fn(now[j])
		}
	}
}

// dump renders a snapshot one object per line, built-in roles and folder
// type left out unless changed.
func dump(snap *domain.Snapshot) string {
	var b strings.Builder
	builtinRoles := map[string]string{}
	for _, r := range domain.BuiltinRoles() {
		builtinRoles[r.ID] = fmt.Sprint(r.Permissions)
	}
	name := func(id string) string {
		for _, gr := range snap.Groups {
			if gr.ID == id && gr.Builtin != domain.BuiltinNone {
				return string(gr.Builtin)
			}
		}
		for _, r := range snap.Roles {
			if r.ID == id && r.Builtin {
				return strings.ReplaceAll(r.Name, " ", "")
			}
		}
		if id == domain.FolderTypeFolderID {
			return "folder"
		}
		return id
	}
	fmt.Fprintf(&b, "revision %d\n", snap.Revision)
	for _, r := range snap.Roles {
		if p, ok := builtinRoles[r.ID]; ok && p == fmt.Sprint(r.Permissions) {
			continue
		}
		fmt.Fprintf(&b, "role %s scope=%s perms=%v\n", name(r.ID), r.Scope, r.Permissions)
	}
	for _, u := range snap.Users {
		fmt.Fprintf(&b, "user %s status=%s role=%s show_personal_info=%v\n", u.ID, u.Status, name(u.SystemRoleID), u.ShowPersonalInfo)
	}
	for _, p := range snap.Projects {
		fmt.Fprintf(&b, "project %s mode=%s\n", p.ID, p.MembershipMode)
	}
	for _, gr := range snap.Groups {
		fmt.Fprintf(&b, "group %s scope=%s%s role=%s checkboxes=%v\n", name(gr.ID), gr.Scope, map[bool]string{true: ":" + gr.ProjectID}[gr.ProjectID != ""], name(gr.SystemRoleID), gr.SystemPermissions)
	}
	for _, m := range snap.Memberships {
		exp := "never"
		if m.ExpiresAt != nil {
			exp = m.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "membership %s in %s expires=%s\n", m.UserID, name(m.GroupID), exp)
	}
	for _, m := range snap.GroupMemberships {
		exp := "never"
		if m.ExpiresAt != nil {
			exp = m.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "group_membership %s in %s expires=%s\n", name(m.MemberGroupID), name(m.GroupID), exp)
	}
	for _, pg := range snap.ProjectGrants {
		fmt.Fprintf(&b, "project_grant %s %s:%s role=%s perms=%v\n", pg.ProjectID, pg.SubjectKind, name(pg.SubjectID), name(pg.RoleID), pg.Permissions)
	}
	for _, d := range snap.DomainGrants {
		fmt.Fprintf(&b, "domain_grant %s %q\n", name(d.GroupID), d.Domain)
	}
	for _, t := range snap.FolderTypes {
		if t.ID != domain.FolderTypeFolderID || len(t.Contexts) != 1 {
			fmt.Fprintf(&b, "folder_type %s contexts=%v properties=%v\n", name(t.ID), t.Contexts, t.Properties)
		}
	}
	for _, f := range snap.Folders {
		fmt.Fprintf(&b, "folder %s parent=%q type=%s props=%v project=%q\n", f.ID, f.ParentID, name(f.TypeID), f.Properties, f.ProjectID)
	}
	for _, l := range snap.FolderLevels {
		fmt.Fprintf(&b, "level %s on %s = %s\n", name(l.GroupID), l.FolderID, l.Level)
	}
	for _, r := range snap.Rules {
		fmt.Fprintf(&b, "rule %s of %s criteria=", r.ID, name(r.GroupID))
		for i, c := range r.Criteria {
			if i > 0 {
				b.WriteString(" AND ")
			}
			fmt.Fprintf(&b, "(%s.%q %s %q%q)", name(c.FolderTypeID), c.Property, c.Operator, c.Value, c.Values)
		}
		ctxs := make([]string, 0, len(r.Grants))
		for c := range r.Grants {
			ctxs = append(ctxs, c)
		}
		sort.Strings(ctxs)
		b.WriteString(" grants=")
		for _, c := range ctxs {
			fmt.Fprintf(&b, "%s:%v ", c, r.Grants[c])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// report fails t with a disagreement: see failureReport.
func report(t *testing.T, seed uint64, snap *domain.Snapshot, d disagreement, build func(*domain.Snapshot) (engine.Querier, error)) {
	t.Helper()
	t.Error(failureReport(seed, snap, d, build))
}

// failureReport describes a disagreement with its seed and the command
// that replays it, the reduced data and both answers on it, and the
// reference's explanation when the query is a check.
func failureReport(seed uint64, snap *domain.Snapshot, d disagreement, build func(*domain.Snapshot) (engine.Querier, error)) string {
	min := shrink(snap, d.q, build)
	why := ""
	if d.q.kind == qCheck {
		if x, err := reference.New(min).Explain(d.q.subject, d.q.perm, d.q.res, d.q.now); err == nil {
			why = "\nreference explanation: " + describeExplanation(x)
		}
	}
	minGot := "?"
	if e, err := build(reference.Clone(min)); err == nil {
		minGot = answer(e, d.q)
	}
	return fmt.Sprintf("seed %d: %s\n  reference: %s\n  %s: %s\n  replay: go test ./internal/engine -run TestCrossCheckEngine -seed %d -v\n"+
		"minimal data (reference %s, %s %s):\n%s%s",
		seed, d.q, d.want, d.other, d.got, seed,
		answer(reference.New(min), d.q), d.other, minGot, dump(min), why)
}

func buildEngineQuerier(s *domain.Snapshot) (engine.Querier, error) {
	e, err := newEngine(s)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// TestCrossCheckEngineAgreesWithReference_R6_R8_R11_R20 builds the engine
// and the reference from each random dataset and asks both every query.
func TestCrossCheckEngineAgreesWithReference_R6_R8_R11_R20(t *testing.T) {
	start := time.Now()
	total, datasets := 0, 0
	for _, seed := range seeds(1000) {
		g := newGen(seed)
		// Each dataset has its own instant; expiries fall before, at and
		// after it (R6).
		g.now = baseNow.Add(-time.Duration(g.r.IntN(120)) * time.Minute)
		snap := g.snapshot()
		e, err := newEngine(snap)
		if err != nil {
			t.Fatalf("seed %d: engine.New: %v\n%s", seed, err, dump(snap))
		}
		ref := reference.New(reference.Clone(snap))
		sample := 0.12
		if n := len(snap.Folders); n > 8 {
			sample = sample * 8 / float64(n) // keep big trees affordable
		}
		qs := queries(g, snap, g.now, sample, true)
		total += len(qs)
		failed := false
		for _, d := range compare(ref, e, "engine", qs, 3) {
			report(t, seed, snap, d, buildEngineQuerier)
			failed = true
		}
		datasets++
		if failed && *flagSeed == 0 && t.Failed() && countFailures(t) {
			break
		}
	}
	t.Logf("%d datasets, %d queries in %v", datasets, total, time.Since(start).Round(time.Millisecond))
}

// countFailures stops a run after several failing datasets, so a broken
// engine does not print thousands of reports.
var failingDatasets int

func countFailures(t *testing.T) bool {
	failingDatasets++
	return failingDatasets >= 5
}
