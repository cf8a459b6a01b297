// Package enginegen generates synthetic, deterministic permission data
// sets for benchmarks of the engine and of the layers above it. The same
// seed and sizes always give the same snapshot.
package enginegen

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Sizes are the counts of a generated data set.
type Sizes struct {
	Users        int
	Groups       int
	Memberships  int // approximate: duplicates are dropped
	Folders      int
	Depth        int // folder tree depth (levels), at least 3
	FolderLevels int
	Rules        int
	Projects     int
}

// Large is the size the engine's targets are stated for.
func Large() Sizes {
	return Sizes{Users: 100_000, Groups: 10_000, Memberships: 1_000_000, Folders: 100_000, Depth: 8,
		FolderLevels: 30_000, Rules: 1_000, Projects: 1_000}
}

// Small is a size for tests: every feature present, built in milliseconds.
func Small() Sizes {
	return Sizes{Users: 200, Groups: 40, Memberships: 1_000, Folders: 600, Depth: 6,
		FolderLevels: 300, Rules: 20, Projects: 10}
}

// Now is the instant the data set is meant to be queried at: some
// memberships expired before it, some expire after it.
var Now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Data is a generated snapshot plus handles benchmarks need.
type Data struct {
	Snapshot *domain.Snapshot
	// FoldersByDepth lists folder ids per depth, roots first.
	FoldersByDepth [][]string
	// Typical users: ordinary members of several groups, no admin rights.
	TypicalUsers []string
	// Admin is a member of Administrators.
	Admin string
	// ContextTypes maps a folder type id to its contexts.
	ContextTypes map[string][]string
}

// Folder type ids.
const (
	TypeProject = "00000000-0000-7000-8000-00000000a001"
	TypeStudy   = "00000000-0000-7000-8000-00000000a002"
	TypeSite    = "00000000-0000-7000-8000-00000000a003"
	TypeSubject = "00000000-0000-7000-8000-00000000a004"
)

var (
	indications = []string{"GRT", "CARD", "ONC", "NEU", "DERM", "HEM", "RESP", "GI"}
	portfolios  = []string{"ABC", "DEF", "GHI", "JKL"}
	countries   = []string{"FR", "DE", "JP", "US", "BR", "IN"}
)

type gen struct {
	r *rand.Rand
}

// id returns a UUID-shaped deterministic id, so that hashing and
// comparisons cost what they cost on real ids.
func (g *gen) id() string {
	const hex = "0123456789abcdef"
	var b [36]byte
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
		default:
			b[i] = hex[g.r.IntN(16)]
		}
	}
	b[14] = '7'
	return string(b[:])
}

// Generate builds a data set of the given sizes from seed.
func Generate(seed uint64, sz Sizes) *Data {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	r := g.r
	s := &domain.Snapshot{Revision: 1}
	d := &Data{Snapshot: s, ContextTypes: map[string][]string{}}
	t0 := Now.Add(-365 * 24 * time.Hour)

	s.Roles = domain.BuiltinRoles()
	s.Groups = domain.BuiltinGroups()
	s.FolderTypes = []domain.FolderType{
		domain.BuiltinFolderType(),
		{ID: TypeProject, Name: "Project", Contexts: []string{"root"}, Properties: []string{"indication"}},
		{ID: TypeStudy, Name: "GRT Study", Contexts: []string{"root", "data", "document", "analysis"}, Properties: []string{"indication", "portfolio", "phase"}},
		{ID: TypeSite, Name: "Site", Contexts: []string{"root", "data"}, Properties: []string{"country"}},
		{ID: TypeSubject, Name: "Subject", Contexts: []string{"root", "data", "document"}, Properties: []string{"arm"}},
	}
	for _, t := range s.FolderTypes {
		d.ContextTypes[t.ID] = t.Contexts
	}

	for i := 0; i < sz.Projects; i++ {
		mode := domain.ModeMultiple
		if i%10 == 0 {
			mode = domain.ModeExclusive
		}
		s.Projects = append(s.Projects, domain.Project{ID: g.id(), Name: "project-" + strconv.Itoa(i), MembershipMode: mode, CreatedAt: t0})
	}

	// Groups: a fifth are project groups. A few carry system rights.
	for i := 0; i < sz.Groups; i++ {
		gr := domain.Group{ID: g.id(), Name: "group-" + strconv.Itoa(i), Scope: domain.ScopeSystem, CreatedAt: t0}
		switch {
		case i%5 == 0 && sz.Projects > 0:
			gr.Scope, gr.ProjectID = domain.ScopeProject, s.Projects[r.IntN(sz.Projects)].ID
		case i%50 == 1:
			gr.SystemRoleID = domain.RoleSystemMemberID
		case i%50 == 2:
			gr.SystemPermissions = []string{domain.PermUsersView, domain.PermReportsView}
		case i%997 == 3:
			gr.SystemPermissions = []string{domain.PermFilesAdmin}
		}
		s.Groups = append(s.Groups, gr)
	}
	groups := s.Groups[3:]

	for i := 0; i < sz.Users; i++ {
		u := domain.User{ID: g.id(), Username: "user" + strconv.Itoa(i), Email: "user" + strconv.Itoa(i) + "@example.org",
			Status: domain.UserActive, Source: domain.SourceLocal, ShowPersonalInfo: i%7 != 0, CreatedAt: t0}
		if i%40 == 39 {
			u.Status = domain.UserDisabled
		}
		if i%100 == 1 {
			u.SystemRoleID = domain.RoleSystemManagerID
		}
		s.Users = append(s.Users, u)
	}
	if sz.Users > 0 {
		d.Admin = s.Users[0].ID
		s.Memberships = append(s.Memberships, domain.Membership{GroupID: domain.GroupAdministratorsID, UserID: d.Admin, CreatedAt: t0})
	}

	// Memberships: group popularity is skewed (a few big groups, many
	// small), as in real directories. 5% expire, half of them before Now.
	if len(groups) > 0 && sz.Users > 0 {
		seen := make(map[[2]int32]bool, sz.Memberships)
		for n := 0; n < sz.Memberships; n++ {
			u := r.IntN(sz.Users)
			f := r.Float64()
			gi := int(f * f * float64(len(groups)))
			key := [2]int32{int32(u), int32(gi)}
			if seen[key] {
				continue
			}
			seen[key] = true
			m := domain.Membership{GroupID: groups[gi].ID, UserID: s.Users[u].ID, CreatedAt: t0}
			if n%20 == 0 {
				exp := Now.Add(time.Duration(r.IntN(60)-30) * 24 * time.Hour)
				m.ExpiresAt = &exp
			}
			s.Memberships = append(s.Memberships, m)
		}
	}

	// Project grants: system groups present in a couple of projects,
	// project groups with a row on their project, some individual rows.
	projRoles := []string{domain.RoleViewerID, domain.RoleEditorID, domain.RoleContributorID, domain.RoleModeratorID}
	if sz.Projects > 0 {
		for _, gr := range groups {
			if gr.Scope == domain.ScopeProject {
				s.ProjectGrants = append(s.ProjectGrants, domain.ProjectGrant{ProjectID: gr.ProjectID, SubjectKind: domain.SubjectGroup,
					SubjectID: gr.ID, RoleID: projRoles[r.IntN(len(projRoles))]})
				continue
			}
			for k := r.IntN(3); k > 0; k-- {
				s.ProjectGrants = append(s.ProjectGrants, domain.ProjectGrant{ProjectID: s.Projects[r.IntN(sz.Projects)].ID,
					SubjectKind: domain.SubjectGroup, SubjectID: gr.ID, RoleID: projRoles[r.IntN(2)]})
			}
		}
		seen := map[[2]int]bool{}
		for n := 0; n < sz.Users/2; n++ {
			u, p := r.IntN(sz.Users), r.IntN(sz.Projects)
			if seen[[2]int{u, p}] {
				continue
			}
			seen[[2]int{u, p}] = true
			pg := domain.ProjectGrant{ProjectID: s.Projects[p].ID, SubjectKind: domain.SubjectUser, SubjectID: s.Users[u].ID,
				Permissions: []string{domain.PermProjectRead}}
			if n%3 == 0 {
				pg.Permissions = append(pg.Permissions, domain.PermProjectViewPI)
			}
			s.ProjectGrants = append(s.ProjectGrants, pg)
		}
		s.ProjectGrants = append(s.ProjectGrants, domain.ProjectGrant{ProjectID: s.Projects[0].ID, SubjectKind: domain.SubjectGroup,
			SubjectID: domain.GroupPublicID, Permissions: []string{domain.PermProjectRead}})
	}
	for i, gr := range groups {
		if i%10 == 0 {
			s.DomainGrants = append(s.DomainGrants, domain.DomainGrant{GroupID: gr.ID, Domain: "domain-" + strconv.Itoa(r.IntN(20))})
		}
	}

	genFolders(g, s, d, sz, t0)
	genLevels(g, s, d, sz, groups)
	genRules(g, s, sz, groups, t0)

	// Typical users: active, not admins, with at least five memberships.
	count := map[string]int{}
	for _, m := range s.Memberships {
		count[m.UserID]++
	}
	for i, u := range s.Users {
		if len(d.TypicalUsers) == 16 {
			break
		}
		if i > 0 && u.Active() && u.SystemRoleID == "" && count[u.ID] >= 5 {
			d.TypicalUsers = append(d.TypicalUsers, u.ID)
		}
	}
	return d
}

// genFolders grows the tree level by level with branching four: a
// Project root, GRT Study, Site, then plain folders and Subjects.
func genFolders(g *gen, s *domain.Snapshot, d *Data, sz Sizes, t0 time.Time) {
	r := g.r
	depth := max(sz.Depth, 3)
	// roots so that a full tree of the given depth holds about Folders.
	full := 0
	for i, w := 0, 1; i < depth; i, w = i+1, w*4 {
		full += w
	}
	roots := max(1, sz.Folders/full)
	made := 0
	var prev []int
	d.FoldersByDepth = make([][]string, depth)
	for lv := 0; lv < depth && made < sz.Folders; lv++ {
		var cur []int
		n := roots
		if lv > 0 {
			n = len(prev) * 4
		}
		if lv == depth-1 || made+n > sz.Folders {
			n = sz.Folders - made
		}
		for k := 0; k < n; k++ {
			f := domain.Folder{ID: g.id(), Name: "f" + strconv.Itoa(made), CreatedAt: t0}
			if lv > 0 {
				f.ParentID = s.Folders[prev[k%len(prev)]].ID
			}
			switch lv {
			case 0:
				f.TypeID = TypeProject
				f.Properties = map[string]string{"indication": indications[r.IntN(len(indications))]}
				if len(s.Projects) > 0 {
					f.ProjectID = s.Projects[r.IntN(len(s.Projects))].ID
				}
			case 1:
				f.TypeID = TypeStudy
				f.Properties = map[string]string{"indication": indications[r.IntN(len(indications))],
					"portfolio": portfolios[r.IntN(len(portfolios))], "phase": strconv.Itoa(1 + r.IntN(3))}
			case 2:
				f.TypeID = TypeSite
				f.Properties = map[string]string{"country": countries[r.IntN(len(countries))]}
			default:
				if r.IntN(3) == 0 {
					f.TypeID = TypeSubject
					f.Properties = map[string]string{"arm": "arm-" + strconv.Itoa(r.IntN(4))}
				} else {
					f.TypeID = domain.FolderTypeFolderID
				}
			}
			cur = append(cur, len(s.Folders))
			d.FoldersByDepth[lv] = append(d.FoldersByDepth[lv], f.ID)
			s.Folders = append(s.Folders, f)
			made++
		}
		prev = cur
	}
}

// genLevels sets folder levels mostly deep in the tree, so that a typical
// user sees on the order of a thousand folders; Everyone and Public get a
// few entries of their own.
func genLevels(g *gen, s *domain.Snapshot, d *Data, sz Sizes, groups []domain.Group) {
	r := g.r
	depth := len(d.FoldersByDepth)
	if depth == 0 || len(groups) == 0 {
		return
	}
	weights := []int{0, 0, 0, 5, 20, 35, 25, 15}
	pick := func() string {
		for {
			w := r.IntN(100)
			lv := depth - 1
			acc := 0
			for i, x := range weights {
				acc += x
				if w < acc {
					lv = min(i, depth-1)
					break
				}
			}
			if fs := d.FoldersByDepth[lv]; len(fs) > 0 {
				return fs[r.IntN(len(fs))]
			}
		}
	}
	seen := map[[2]string]bool{}
	add := func(f, gid string, l domain.Level) {
		if seen[[2]string{f, gid}] {
			return
		}
		seen[[2]string{f, gid}] = true
		s.FolderLevels = append(s.FolderLevels, domain.FolderLevel{FolderID: f, GroupID: gid, Level: l})
	}
	deep := func(lv int) []string { return d.FoldersByDepth[min(lv, depth-1)] }
	for i := 0; i < 5; i++ {
		fs := deep(5)
		add(fs[r.IntN(len(fs))], domain.GroupEveryoneID, domain.LevelView)
	}
	for i := 0; i < 3; i++ {
		fs := deep(6)
		add(fs[r.IntN(len(fs))], domain.GroupPublicID, domain.LevelView)
	}
	for n := len(s.FolderLevels); n < sz.FolderLevels; n++ {
		l := domain.Level(1 + r.IntN(int(domain.LevelDeleteFolder)))
		if r.IntN(10) == 0 {
			l = domain.LevelNone
		}
		add(pick(), groups[r.IntN(len(groups))].ID, l)
	}
}

// genRules makes rules on GRT Study folders, granting on the data,
// document and analysis contexts.
func genRules(g *gen, s *domain.Snapshot, sz Sizes, groups []domain.Group, t0 time.Time) {
	r := g.r
	if len(groups) == 0 {
		return
	}
	for i := 0; i < sz.Rules; i++ {
		crit := []domain.Criterion{
			{FolderTypeID: TypeStudy, Property: "indication", Operator: domain.OpEq, Value: indications[r.IntN(len(indications))]},
			{FolderTypeID: TypeStudy, Property: "portfolio", Operator: domain.OpEq, Value: portfolios[r.IntN(len(portfolios))]},
		}
		switch i % 4 {
		case 1:
			crit = append(crit, domain.Criterion{FolderTypeID: TypeStudy, Property: "phase", Operator: domain.OpIn, Values: []string{"1", "2"}})
		case 2:
			crit[1] = domain.Criterion{FolderTypeID: TypeStudy, Property: "portfolio", Operator: domain.OpStartsWith, Value: portfolios[r.IntN(len(portfolios))][:1]}
		}
		grants := map[string][]string{"data": {"read", "edit"}}
		if i%3 == 0 {
			grants["document"] = []string{"read", "lock", "view_blinded"}
		}
		if i%5 == 0 {
			grants["analysis"] = []string{"create", "read", "set_blinded"}
		}
		s.Rules = append(s.Rules, domain.Rule{ID: g.id(), GroupID: groups[r.IntN(len(groups))].ID, Name: "rule-" + strconv.Itoa(i),
			Criteria: crit, Grants: grants, CreatedAt: t0})
	}
}

// AllFolders lists every folder id, roots first.
func (d *Data) AllFolders() []string {
	var all []string
	for _, fs := range d.FoldersByDepth {
		all = append(all, fs...)
	}
	return all
}

// UniformUsers draws n user ids uniformly, with replacement, over every
// user of the data set (disabled ones included, as a server meets them).
// Benchmarks use it beside TypicalUsers: a few users stay in the CPU's
// caches, a hundred thousand do not, and only the latter is the figure.
func (d *Data) UniformUsers(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	users := d.Snapshot.Users
	out := make([]string, n)
	for i := range out {
		out[i] = users[r.IntN(len(users))].ID
	}
	return out
}
