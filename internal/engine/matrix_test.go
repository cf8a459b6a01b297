package engine_test

// The YAML matrices under testdata/*.yaml. Each file holds a list of cases;
// each case is a model, an instant and the checks expected at that instant:
//
//	cases:
//	  - name: R15 a nearer none overrides an inherited level
//	    now: 2026-01-01T00:00:00Z          # optional; default 2026-01-01T00:00:00Z
//	    model:
//	      users:        [{id: alice, status: disabled, system_role: System Member, show_personal_info: false}]
//	      projects:     [{id: p1, mode: exclusive}]
//	      roles:        [{id: reader, scope: project, permissions: [project.read]}]
//	      groups:       [{id: rad, name: Radiologists, project: p1, system_role: ..., system_permissions: [...], }]
//	      memberships:  [{group: rad, user: alice, expires: 2026-01-01T00:00:00Z}]
//	      project_grants: [{project: p1, group: rad, role: Viewer, permissions: [project.write]}, {project: p1, user: alice, ...}]
//	      domain_grants:  [{group: rad, domain: ct}]
//	      folder_types: [{id: study, contexts: [root, data], properties: [Indication]}]
//	      folders:      [{id: top, type: study, parent: "", project: p1, properties: {Indication: GRT}}]
//	      levels:       [{folder: top, group: rad, level: view}]
//	      rules:        [{id: r1, group: rad, criteria: [{type: study, property: Indication, op: eq, value: GRT}], grants: {data: [read]}}]
//	    checks:
//	      - {subject: alice, permission: data.read, resource: "folder:top", allowed: true}
//	      - {subject: alice, permission: data.read, resource: "folder:top", allowed: false, now: 2027-01-01T00:00:00Z}
//	      - {subject: anonymous, permission: nope.read, resource: "folder:top", error: invalid}
//	    lists:                             # optional: expected ListResources answers
//	      - {subject: alice, permission: root.read, kind: folder, under: top, want: [top]}
//
// Every check is asked of the reference and of the engine, with Check and
// Explain: the answer, the revision (R20) and, for an allow, at least one
// path (R19) must match. A check's own now overrides the case's (R6).
// The built-in groups (Administrators, Everyone, Public), roles (IT
// Administrator … Moderator) and folder type "folder" always exist. A
// reference to a group, role or folder type is its id in the file, or the
// name of a built-in one. Users' usernames default to their ids, their
// status to active and show_personal_info to true; a group without project
// is a system group. Subject "anonymous" (or "") is the anonymous subject.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

type matrixFile struct {
	Cases []matrixCase `yaml:"cases"`
}

type matrixCase struct {
	Name   string     `yaml:"name"`
	Now    string     `yaml:"now"`
	Model  yModel     `yaml:"model"`
	Checks []yCheck   `yaml:"checks"`
	Lists  []yListing `yaml:"lists"`
}

type yModel struct {
	Users         []yUser        `yaml:"users"`
	Projects      []yProject     `yaml:"projects"`
	Roles         []yRole        `yaml:"roles"`
	Groups        []yGroup       `yaml:"groups"`
	Memberships   []yMembership  `yaml:"memberships"`
	ProjectGrants []yGrant       `yaml:"project_grants"`
	DomainGrants  []yDomainGrant `yaml:"domain_grants"`
	FolderTypes   []yFolderType  `yaml:"folder_types"`
	Folders       []yFolder      `yaml:"folders"`
	Levels        []yLevel       `yaml:"levels"`
	Rules         []yRule        `yaml:"rules"`
}

type yUser struct {
	ID               string `yaml:"id"`
	Username         string `yaml:"username"`
	Status           string `yaml:"status"`
	SystemRole       string `yaml:"system_role"`
	ShowPersonalInfo *bool  `yaml:"show_personal_info"`
}

type yProject struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	Mode string `yaml:"mode"`
}

type yRole struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Scope       string   `yaml:"scope"`
	Permissions []string `yaml:"permissions"`
}

type yGroup struct {
	ID                string   `yaml:"id"`
	Name              string   `yaml:"name"`
	Project           string   `yaml:"project"`
	SystemRole        string   `yaml:"system_role"`
	SystemPermissions []string `yaml:"system_permissions"`
}

type yMembership struct {
	Group   string `yaml:"group"`
	User    string `yaml:"user"`
	Expires string `yaml:"expires"`
}

type yGrant struct {
	Project     string   `yaml:"project"`
	Group       string   `yaml:"group"`
	User        string   `yaml:"user"`
	Role        string   `yaml:"role"`
	Permissions []string `yaml:"permissions"`
}

type yDomainGrant struct {
	Group  string `yaml:"group"`
	Domain string `yaml:"domain"`
}

type yFolderType struct {
	ID         string   `yaml:"id"`
	Name       string   `yaml:"name"`
	Contexts   []string `yaml:"contexts"`
	Properties []string `yaml:"properties"`
}

type yFolder struct {
	ID         string            `yaml:"id"`
	Name       string            `yaml:"name"`
	Parent     string            `yaml:"parent"`
	Type       string            `yaml:"type"`
	Project    string            `yaml:"project"`
	Properties map[string]string `yaml:"properties"`
}

type yLevel struct {
	Folder string `yaml:"folder"`
	Group  string `yaml:"group"`
	Level  string `yaml:"level"`
}

type yRule struct {
	ID       string              `yaml:"id"`
	Name     string              `yaml:"name"`
	Group    string              `yaml:"group"`
	Criteria []yCriterion        `yaml:"criteria"`
	Grants   map[string][]string `yaml:"grants"`
}

type yCriterion struct {
	Type     string   `yaml:"type"`
	Property string   `yaml:"property"`
	Op       string   `yaml:"op"`
	Value    string   `yaml:"value"`
	Values   []string `yaml:"values"`
}

// yCheck is one expected answer: allowed, or an error kind
// (invalid, not_found).
type yCheck struct {
	Subject    string `yaml:"subject"`
	Permission string `yaml:"permission"`
	Resource   string `yaml:"resource"`
	Allowed    *bool  `yaml:"allowed"`
	Error      string `yaml:"error"`
	// Now overrides the case's instant for this check (R6).
	Now string `yaml:"now"`
}

// yListing is an expected ListResources answer.
type yListing struct {
	Subject    string   `yaml:"subject"`
	Permission string   `yaml:"permission"`
	Kind       string   `yaml:"kind"`
	Under      string   `yaml:"under"`
	Want       []string `yaml:"want"`
}

const defaultNow = "2026-01-01T00:00:00Z"

func parseTime(t testing.TB, s string) time.Time {
	t.Helper()
	if s == "" {
		s = defaultNow
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

// buildSnapshot turns a YAML model into a snapshot at revision 1, with the
// built-in groups, roles and folder type.
func buildSnapshot(t testing.TB, m yModel) *domain.Snapshot {
	t.Helper()
	snap := &domain.Snapshot{Revision: 1}
	snap.Groups = domain.BuiltinGroups()
	snap.Roles = domain.BuiltinRoles()
	snap.FolderTypes = []domain.FolderType{domain.BuiltinFolderType()}

	roleRef := func(s string) string {
		if s == "" {
			return ""
		}
		for _, r := range snap.Roles {
			if r.ID == s {
				return s
			}
		}
		for _, r := range snap.Roles {
			if domain.NameKey(r.Name) == domain.NameKey(s) {
				return r.ID
			}
		}
		t.Fatalf("unknown role %q", s)
		return ""
	}
	for _, r := range m.Roles {
		scope := domain.Scope(r.Scope)
		if scope == "" {
			scope = domain.ScopeProject
		}
		name := r.Name
		if name == "" {
			name = r.ID
		}
		snap.Roles = append(snap.Roles, domain.Role{ID: r.ID, Name: name, Scope: scope, Permissions: r.Permissions, Editable: true, Deletable: true})
	}
	for _, u := range m.Users {
		du := domain.User{ID: u.ID, Username: u.Username, Status: domain.UserActive, Source: domain.SourceLocal, ShowPersonalInfo: true}
		if du.Username == "" {
			du.Username = u.ID
		}
		if u.Status != "" {
			du.Status = domain.UserStatus(u.Status)
		}
		if u.ShowPersonalInfo != nil {
			du.ShowPersonalInfo = *u.ShowPersonalInfo
		}
		du.SystemRoleID = roleRef(u.SystemRole)
		snap.Users = append(snap.Users, du)
	}
	for _, p := range m.Projects {
		mode := domain.MembershipMode(p.Mode)
		if mode == "" {
			mode = domain.ModeMultiple
		}
		name := p.Name
		if name == "" {
			name = p.ID
		}
		snap.Projects = append(snap.Projects, domain.Project{ID: p.ID, Name: name, MembershipMode: mode})
	}
	for _, g := range m.Groups {
		name := g.Name
		if name == "" {
			name = g.ID
		}
		dg := domain.Group{ID: g.ID, Name: name, Scope: domain.ScopeSystem, SystemRoleID: roleRef(g.SystemRole), SystemPermissions: g.SystemPermissions}
		if g.Project != "" {
			dg.Scope, dg.ProjectID = domain.ScopeProject, g.Project
		}
		snap.Groups = append(snap.Groups, dg)
	}
	groupRef := func(s string) string {
		if domain.NameKey(s) == "normal users" { // Everyone's display name in [Q]
			return domain.GroupEveryoneID
		}
		for _, g := range snap.Groups {
			if g.ID == s {
				return s
			}
		}
		for _, g := range snap.Groups {
			if domain.NameKey(g.Name) == domain.NameKey(s) || string(g.Builtin) == domain.NameKey(s) {
				return g.ID
			}
		}
		t.Fatalf("unknown group %q", s)
		return ""
	}
	for _, ms := range m.Memberships {
		dm := domain.Membership{GroupID: groupRef(ms.Group), UserID: ms.User}
		if ms.Expires != "" {
			x := parseTime(t, ms.Expires)
			dm.ExpiresAt = &x
		}
		snap.Memberships = append(snap.Memberships, dm)
	}
	for _, pg := range m.ProjectGrants {
		g := domain.ProjectGrant{ProjectID: pg.Project, RoleID: roleRef(pg.Role), Permissions: pg.Permissions}
		if pg.User != "" {
			g.SubjectKind, g.SubjectID = domain.SubjectUser, pg.User
		} else {
			g.SubjectKind, g.SubjectID = domain.SubjectGroup, groupRef(pg.Group)
		}
		snap.ProjectGrants = append(snap.ProjectGrants, g)
	}
	for _, d := range m.DomainGrants {
		snap.DomainGrants = append(snap.DomainGrants, domain.DomainGrant{GroupID: groupRef(d.Group), Domain: d.Domain})
	}
	for _, ft := range m.FolderTypes {
		name := ft.Name
		if name == "" {
			name = ft.ID
		}
		ctx := ft.Contexts
		if !slices.Contains(ctx, domain.ContextRoot) {
			ctx = append([]string{domain.ContextRoot}, ctx...)
		}
		snap.FolderTypes = append(snap.FolderTypes, domain.FolderType{ID: ft.ID, Name: name, Contexts: ctx, Properties: ft.Properties})
	}
	typeRef := func(s string) string {
		if s == "" {
			return domain.FolderTypeFolderID
		}
		for _, ft := range snap.FolderTypes {
			if ft.ID == s {
				return s
			}
		}
		for _, ft := range snap.FolderTypes {
			if domain.NameKey(ft.Name) == domain.NameKey(s) {
				return ft.ID
			}
		}
		t.Fatalf("unknown folder type %q", s)
		return ""
	}
	for _, f := range m.Folders {
		name := f.Name
		if name == "" {
			name = f.ID
		}
		snap.Folders = append(snap.Folders, domain.Folder{ID: f.ID, Name: name, ParentID: f.Parent, TypeID: typeRef(f.Type), ProjectID: f.Project, Properties: f.Properties})
	}
	for _, l := range m.Levels {
		lvl, err := domain.ParseLevel(l.Level)
		if err != nil {
			t.Fatal(err)
		}
		snap.FolderLevels = append(snap.FolderLevels, domain.FolderLevel{FolderID: l.Folder, GroupID: groupRef(l.Group), Level: lvl})
	}
	for _, r := range m.Rules {
		dr := domain.Rule{ID: r.ID, Name: r.Name, GroupID: groupRef(r.Group), Grants: r.Grants}
		if dr.Name == "" {
			dr.Name = r.ID
		}
		for _, c := range r.Criteria {
			dr.Criteria = append(dr.Criteria, domain.Criterion{FolderTypeID: typeRef(c.Type), Property: c.Property, Operator: domain.Operator(c.Op), Value: c.Value, Values: c.Values})
		}
		snap.Rules = append(snap.Rules, dr)
	}
	return snap
}

func subjectOf(s string) engine.Subject {
	if s == "" || s == "anonymous" {
		return engine.Anonymous
	}
	return engine.Subject{UserID: s}
}

// ---------------------------------------------------------------------------
// The implementations under test.

// underTest is what the fast engine offers beyond Querier.
type underTest interface {
	engine.Querier
	Apply(domain.Change) error
}

// newEngine builds the fast engine from its own deep copy of snap.
var newEngine = func(snap *domain.Snapshot) (underTest, error) {
	return engine.New(reference.Clone(snap))
}

type impl struct {
	name string
	q    engine.Querier
}

// implementations returns the reference and the engine, each built from
// its own copy of snap.
func implementations(t testing.TB, snap *domain.Snapshot) []impl {
	t.Helper()
	e, err := newEngine(snap)
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	return []impl{{"reference", reference.New(reference.Clone(snap))}, {"engine", e}}
}

// errKind names an error's kind as the YAML spells it ("" for nil).
func errKind(err error) string {
	if err == nil {
		return ""
	}
	return domain.KindOf(err).String()
}

// runCheck asserts one expected answer on one implementation.
func runCheck(t *testing.T, im impl, c yCheck, now time.Time, rev int64) {
	t.Helper()
	res, err := engine.ParseResource(c.Resource)
	if err != nil {
		if c.Error != "" && errKind(err) == c.Error {
			return
		}
		t.Fatalf("bad resource %q: %v", c.Resource, err)
	}
	at := now
	if c.Now != "" {
		at = parseTime(t, c.Now)
	}
	d, err := im.q.Check(subjectOf(c.Subject), c.Permission, res, at)
	what := fmt.Sprintf("%s: Check(%q, %s, %s)", im.name, c.Subject, c.Permission, c.Resource)
	if c.Error != "" {
		if errKind(err) != c.Error {
			t.Errorf("%s = %+v, %v; want error of kind %s", what, d, err, c.Error)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: unexpected error %v", what, err)
		return
	}
	if c.Allowed == nil {
		t.Fatalf("check %+v says neither allowed nor error", c)
	}
	if d.Allowed != *c.Allowed {
		x, _ := im.q.Explain(subjectOf(c.Subject), c.Permission, res, at)
		t.Errorf("%s allowed = %v, want %v\n  explanation: %s", what, d.Allowed, *c.Allowed, describeExplanation(x))
	}
	if d.Revision != rev {
		t.Errorf("%s revision = %d, want %d (R20)", what, d.Revision, rev)
	}
	// Explain agrees with Check, and an allow names at least one path (R19).
	x, err := im.q.Explain(subjectOf(c.Subject), c.Permission, res, at)
	if err != nil {
		t.Errorf("%s: Explain error %v", what, err)
		return
	}
	if x.Allowed != d.Allowed || x.Revision != rev {
		t.Errorf("%s: Explain says allowed=%v revision=%d, Check says %v %d", what, x.Allowed, x.Revision, d.Allowed, rev)
	}
	if x.Allowed && len(x.Paths) == 0 {
		t.Errorf("%s: Explain of an allow gives no path (R19)", what)
	}
}

func describeExplanation(x engine.Explanation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "allowed=%v rev=%d reason=%q", x.Allowed, x.Revision, x.Reason)
	for _, p := range x.Paths {
		fmt.Fprintf(&b, "\n    path %+v", p)
	}
	for _, c := range x.Considered {
		fmt.Fprintf(&b, "\n    considered: %s", c)
	}
	for _, s := range x.Suggestions {
		fmt.Fprintf(&b, "\n    suggestion: %s", s)
	}
	return b.String()
}

func runListing(t *testing.T, im impl, l yListing, now time.Time) {
	t.Helper()
	got, err := im.q.ListResources(subjectOf(l.Subject), l.Permission, engine.ResourceKind(l.Kind), l.Under, now)
	if err != nil {
		t.Errorf("%s: ListResources(%q, %s, %s, %q): %v", im.name, l.Subject, l.Permission, l.Kind, l.Under, err)
		return
	}
	want := slices.Clone(l.Want)
	sort.Strings(want)
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%s: ListResources(%q, %s, %s, %q) = %v, want %v", im.name, l.Subject, l.Permission, l.Kind, l.Under, got, want)
	}
}

// runCase builds the case's model and runs its checks on every
// implementation.
func runCase(t *testing.T, c matrixCase) {
	t.Helper()
	if len(c.Checks) == 0 {
		t.Fatalf("case %q has no checks", c.Name)
	}
	snap := buildSnapshot(t, c.Model)
	now := parseTime(t, c.Now)
	for _, im := range implementations(t, snap) {
		for _, ch := range c.Checks {
			runCheck(t, im, ch, now, snap.Revision)
		}
		for _, l := range c.Lists {
			runListing(t, im, l, now)
		}
	}
}

func loadMatrices(t *testing.T) map[string][]matrixCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.yaml")
	}
	out := map[string][]matrixCase{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var mf matrixFile
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&mf); err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = mf.Cases
	}
	return out
}

// TestMatrix runs every case of testdata/*.yaml on the reference and the
// engine. Subtest names carry the rule numbers of the case names.
func TestMatrix(t *testing.T) {
	covered := map[string]bool{}
	for file, cases := range loadMatrices(t) {
		for _, c := range cases {
			for _, w := range strings.Fields(c.Name) {
				if w = strings.Trim(w, ",:;()"); strings.HasPrefix(w, "R") {
					covered[w] = true
				}
			}
			t.Run(filepath.Base(file)+"/"+c.Name, func(t *testing.T) { runCase(t, c) })
		}
	}
	// Every rule of docs/model.md §7 and R6, R8 has a case whose name carries it.
	for _, r := range []string{"R6", "R8", "R11", "R12", "R13", "R14", "R15", "R16", "R17", "R18", "R19", "R20"} {
		if !covered[r] {
			t.Errorf("no matrix case names %s", r)
		}
	}
}
