package declarative

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// fresh is what Load reads from a server just bootstrapped: the built-in
// roles, groups and folder type, and the administrator.
func fresh() *Config {
	c := &Config{Version: FormatVersion, Users: []User{{Username: "admin", Email: "admin@example.org"}}}
	for _, r := range domain.BuiltinRoles() {
		c.Roles = append(c.Roles, Role{Name: r.Name, Scope: string(r.Scope), Description: r.Description, Permissions: r.Permissions, builtin: true})
	}
	for _, g := range domain.BuiltinGroups() {
		cg := Group{Name: g.Name, Builtin: string(g.Builtin), Description: g.Description, SystemPermissions: g.SystemPermissions}
		if g.Builtin == domain.BuiltinAdministrators {
			cg.Members = []Member{{User: "admin"}}
		}
		c.Groups = append(c.Groups, cg)
	}
	t := domain.BuiltinFolderType()
	c.FolderTypes = []FolderType{{Name: t.Name, Contexts: t.Contexts, builtin: true}}
	Normalize(c)
	return c
}

func example(t *testing.T) *Config {
	t.Helper()
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, string(data))
}

func names(ops []Op, action Action) []string {
	var out []string
	for _, o := range ops {
		if o.Action == action {
			out = append(out, o.Kind+" "+o.Name)
		}
	}
	return out
}

func index(t *testing.T, ops []Op, kindName string) int {
	t.Helper()
	for i, o := range ops {
		if o.Kind+" "+o.Name == kindName {
			return i
		}
	}
	t.Fatalf("no operation %q in the plan:\n%s", kindName, planText(ops))
	return -1
}

func planText(ops []Op) string {
	var b strings.Builder
	(&Plan{Ops: ops}).Write(&b)
	return b.String()
}

func TestDiffFreshServerCreatesInDependencyOrder(t *testing.T) {
	p := Diff(fresh(), example(t), Options{Self: "admin"})
	if len(p.Conflicts) > 0 {
		t.Fatalf("conflicts: %v", p.Conflicts)
	}
	cr, up, del, keep := p.Counts()
	if up != 0 || del != 0 || keep != 0 {
		t.Errorf("counts: %d update, %d delete, %d keep; want only creations\n%s", up, del, keep, planText(p.Ops))
	}
	if cr == 0 {
		t.Fatal("nothing to create")
	}
	before := [][2]string{
		{"folder type GRT Study", "folder Trials/ABC-001"},
		{"role project role Reader", "imported group Clinical Trial ← Radiologists"},
		{"user alice", "member Radiologists ∋ alice"},
		{"project Clinical Trial", "project group Clinical Trial/Investigators"},
		{"group Radiologists", "member Radiologists ∋ bob"},
		{"project group Clinical Trial/Investigators", "folder level Trials/ABC-001: Clinical Trial/Investigators"},
		{"folder Trials", "folder Trials/ABC-001"},
		{"folder type GRT Study", "rule Radiologists: Phase 2 data"},
	}
	for _, b := range before {
		if index(t, p.Ops, b[0]) >= index(t, p.Ops, b[1]) {
			t.Errorf("%q should come before %q:\n%s", b[0], b[1], planText(p.Ops))
		}
	}
	// The administrator and the Administrators group exist already.
	for _, n := range names(p.Ops, Create) {
		if n == "user admin" || strings.HasPrefix(n, "group Administrators") || strings.Contains(n, "Administrators ∋ admin") {
			t.Errorf("plan creates %q, which a fresh server has", n)
		}
	}
}

func TestDiffSameConfigIsEmpty(t *testing.T) {
	p := Diff(example(t), example(t), Options{Prune: true, Self: "admin"})
	if !p.Empty() {
		t.Errorf("plan of a configuration against itself is not empty:\n%s", planText(p.Ops))
	}
	if got := p.Summary(); !strings.HasPrefix(got, "No changes") {
		t.Errorf("summary: got %q", got)
	}
}

func TestDiffUpdatesNameChangedFields(t *testing.T) {
	cur, want := example(t), example(t)
	want.Users[1].Email = "alice@new.example.org"
	want.Groups[1].Members[1].Expires = nil
	want.Folders[1].Levels[0].Level = "delete"
	want.Projects[0].MembershipMode = "multiple"
	p := Diff(cur, want, Options{Self: "admin"})
	got := names(p.Ops, Update)
	wantOps := []string{"user alice", "project Clinical Trial", "member Radiologists ∋ bob", "folder level Trials/ABC-001: Clinical Trial/Investigators"}
	if !slices.Equal(got, wantOps) {
		t.Errorf("updates: got %q, want %q", got, wantOps)
	}
	u := p.Ops[index(t, p.Ops, "user alice")]
	if len(u.Changes) != 1 || u.Changes[0] != `email: "alice@example.org" → "alice@new.example.org"` || !u.Has("email") {
		t.Errorf("user update: got changes %q fields %q", u.Changes, u.Fields)
	}
}

func TestDiffExclusiveSwitchComesAfterMemberships(t *testing.T) {
	cur, want := example(t), example(t)
	cur.Projects[0].MembershipMode = "multiple"
	want.Groups[1].Members = append(want.Groups[1].Members, Member{User: "carol"})
	p := Diff(cur, want, Options{})
	if index(t, p.Ops, "member Radiologists ∋ carol") > index(t, p.Ops, "membership mode Clinical Trial") {
		t.Errorf("the switch to exclusive should come after membership changes:\n%s", planText(p.Ops))
	}
}

func TestDiffPruneOnlyWithTheFlag(t *testing.T) {
	cur, want := example(t), example(t)
	cur.Users = append(cur.Users, User{Username: "erin"}, User{Username: "zed"})
	cur.Groups[1].Members = append(cur.Groups[1].Members, Member{User: "erin"})
	cur.Folders = append(cur.Folders, Folder{Path: "Old", Type: "folder"}, Folder{Path: "Old/Sub", Type: "folder"})
	cur.Groups = append(cur.Groups, Group{Name: "Ghosts", Members: []Member{{User: "alice"}}})
	Normalize(cur)

	kept := Diff(cur, want, Options{Self: "zed"})
	if _, _, del, keep := kept.Counts(); del != 0 || keep != 4 {
		t.Errorf("without --prune: %d deletions, %d kept; want 0 and 4 (erin, erin's membership, Ghosts, Old)\n%s", del, keep, planText(kept.Ops))
	}
	var out bytes.Buffer
	kept.Write(&out)
	for _, w := range []string{"= keep   erin (absent from the file; would delete with --prune)", "= keep   Old (absent", "kept (--prune deletes them)"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("plan text lacks %q:\n%s", w, out.String())
		}
	}
	if len(kept.Changes()) != 0 {
		t.Errorf("without --prune the plan changes %v", names(kept.Changes(), Delete))
	}

	pruned := Diff(cur, want, Options{Prune: true, Self: "zed"})
	got := names(pruned.Ops, Delete)
	// Reverse dependency order; Old/Sub goes with Old, erin's membership
	// with erin, zed (the caller) is never deleted.
	wantDel := []string{"folder Old", "group Ghosts", "user erin"}
	if !slices.Equal(got, wantDel) {
		t.Errorf("deletions: got %q, want %q", got, wantDel)
	}
}

func TestDiffConflicts(t *testing.T) {
	cur, want := example(t), example(t)
	cur.Folders[1].Type = "folder"
	cur.FolderTypes[0].Contexts = append(cur.FolderTypes[0].Contexts, "extra")
	p := Diff(cur, want, Options{})
	if len(p.Conflicts) != 2 {
		t.Fatalf("conflicts: got %q, want a type change and a removed context", p.Conflicts)
	}
	if err := Execute(t.Context(), nil, p, nil); !domain.Is(err, domain.KindConflict) {
		t.Errorf("Execute with conflicts: got %v, want a conflict error and nothing applied", err)
	}
}

type recorder struct{ ops []string }

func (r *recorder) Apply(_ context.Context, op Op) error {
	r.ops = append(r.ops, op.Action.String()+" "+op.Kind+" "+op.Name)
	return nil
}

func TestExecuteRunsChangesInOrder(t *testing.T) {
	cur, want := example(t), example(t)
	cur.Users = append(cur.Users, User{Username: "erin"})
	want.Users[1].DisplayName = "Alice M."
	p := Diff(cur, want, Options{Prune: true})
	var rec recorder
	var steps []int
	if err := Execute(t.Context(), &rec, p, func(done, total int, _ Op) { steps = append(steps, done*10+total) }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"update user alice", "delete user erin"}; !slices.Equal(rec.ops, want) {
		t.Errorf("applied %q, want %q", rec.ops, want)
	}
	if !slices.Equal(steps, []int{12, 22}) {
		t.Errorf("progress: got %v, want 1/2 then 2/2", steps)
	}
}

func TestDiffRenamedBuiltinGroupMatchesItsDefaultName(t *testing.T) {
	cur := fresh()
	for i := range cur.Groups {
		if cur.Groups[i].Builtin == "everyone" {
			cur.Groups[i].Name = "Normal Users"
		}
	}
	cur.Folders = []Folder{{Path: "Images", Type: "folder", Levels: []Level{{Group: "Normal Users", Level: "view"}}}}
	cur.Projects = []Project{{Name: "P", MembershipMode: "multiple", ImportedGroups: []Import{{Group: "Normal Users", Role: "Viewer"}}}}
	Normalize(cur)
	want := mustParse(t, "version: 1\nusers: [{username: admin, email: admin@example.org}]\ngroups:\n  - name: Administrators\n    description: Full system access. Only a holder of server.manage can change its members.\n    system_permissions: [server.manage]\n    members: [admin]\n"+
		"projects:\n  - name: P\n    imported_groups: [{group: Everyone, role: Viewer}]\nfolders:\n  - path: Images\n    type: folder\n    levels: [{group: Everyone, level: view}]\n")
	if p := Diff(cur, want, Options{Prune: true, Self: "admin"}); !p.Empty() {
		t.Errorf("a level and an import of Everyone, renamed Normal Users on the server, should match:\n%s", planText(p.Ops))
	}
}
