package declarative

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(src), testNow)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestParseExampleRoundTrips(t *testing.T) {
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, string(data))
	if got, want := len(c.Users), 5; got != want {
		t.Fatalf("users: got %d, want %d", got, want)
	}
	if got := c.Groups[1].Members[1]; got.User != "bob" || got.Expires == nil || got.Expires.Year() != 2030 {
		t.Errorf("member with expiry: got %+v", got)
	}
	if got, want := c.FolderTypes[0].Contexts, []string{"root", "analysis", "data", "document"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("contexts: got %v, want %v (root first)", got, want)
	}
	// Encoding the parsed file and parsing it again gives the same text:
	// the canonical form is a fixed point.
	b1, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	c2 := mustParse(t, string(b1))
	b2, err := Encode(c2)
	if err != nil {
		t.Fatal(err)
	}
	if string(b1) != string(b2) {
		t.Errorf("encode(parse(encode(x))) differs:\n%s\n---\n%s", b1, b2)
	}
	if !strings.Contains(string(b1), "      - alice\n") || !strings.Contains(string(b1), "      - user: bob\n        expires: 2030-01-01T00:00:00Z\n") {
		t.Errorf("members are not written as usernames, with a mapping only for an expiry:\n%s", b1)
	}
}

func TestParseErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string // fragments of the error text
	}{
		{"unknown top-level key", "version: 1\nuserz: []\n", []string{"test.yaml:2:", `unknown key "userz"`, "known keys:"}},
		{"unknown nested key", "version: 1\nusers:\n  - username: a\n    emial: x\n", []string{"test.yaml:4:", `unknown key "emial" in a user`}},
		{"duplicate key", "version: 1\nusers:\n  - username: a\n    username: b\n", []string{"test.yaml:4:", `"username" appears twice`}},
		{"syntax", "version: 1\nusers: [\n", []string{"test.yaml:"}},
		{"wrong type", "version: 1\nusers:\n  - username: a\n    show_personal_info: maybe\n", []string{"test.yaml:4:", "maybe"}},
		{"missing version", "users: []\n", []string{"test.yaml: version: is required"}},
		{"unknown user in members", "version: 1\ngroups:\n  - name: G\n    members:\n      - nobody\n",
			[]string{"test.yaml:5: groups[0].members[0].user:", `unknown user "nobody"`}},
		{"unknown role", "version: 1\nusers:\n  - username: a\n    system_role: Boss\n", []string{"test.yaml:3: users[0].system_role:", `unknown system role "Boss"`}},
		{"unknown permission", "version: 1\ngroups:\n  - name: G\n    system_permissions: [fly]\n", []string{"test.yaml:3: groups[0].system_permissions[0]:", `unknown permission "fly"`}},
		{"expired membership", "version: 1\nusers: [{username: a}]\ngroups:\n  - name: G\n    members:\n      - user: a\n        expires: 2020-01-01T00:00:00Z\n",
			[]string{"test.yaml:6: groups[0].members[0].expires:", "in the past"}},
		{"missing parent folder", "version: 1\nfolders:\n  - path: A/B\n    type: folder\n", []string{"test.yaml:3: folders[0].path:", `parent folder "A" is not listed`}},
		{"unknown folder type", "version: 1\nfolders:\n  - path: A\n    type: Nope\n", []string{"test.yaml:3: folders[0].type:", `unknown folder type "Nope"`}},
		{"unknown level group", "version: 1\nfolders:\n  - path: A\n    type: folder\n    levels:\n      - group: Ghosts\n        level: view\n",
			[]string{"test.yaml:6: folders[0].levels[0].group:", `unknown system group "Ghosts"`}},
		{"bad level", "version: 1\nfolders:\n  - path: A\n    type: folder\n    levels:\n      - group: Public\n        level: admin\n",
			[]string{"test.yaml:6: folders[0].levels[0].level:", `unknown folder level "admin"`}},
		{"rule context not in type", "version: 1\ngroups:\n  - name: G\n    rules:\n      - name: R\n        criteria:\n          - {folder_type: folder, property: x, operator: exists}\n        grants:\n          data: [read]\n",
			[]string{"groups[0].rules[0].grants.data:", `has no context "data"`}},
		{"R10 description in criteria", "version: 1\ngroups:\n  - name: G\n    rules:\n      - name: R\n        criteria:\n          - {folder_type: folder, property: description, operator: exists}\n        grants:\n          root: [read]\n",
			[]string{"groups[0].rules[0].criteria[0].property:", "R10"}},
		{"members of Everyone", "version: 1\nusers: [{username: a}]\ngroups:\n  - name: Everyone\n    members: [a]\n", []string{"groups[0].members:", "implicit"}},
		{"exclusive overlap", "version: 1\nusers: [{username: a}]\nprojects:\n  - name: P\n    membership_mode: exclusive\n    groups:\n      - {name: G1, members: [a]}\n      - {name: G2, members: [a]}\n",
			[]string{"projects[0].groups[1]:", "exclusive (R23)"}},
		{"R23 individual rights in exclusive project", "version: 1\nusers: [{username: a}]\nprojects:\n  - name: P\n    membership_mode: exclusive\n    groups:\n      - {name: G, members: [a]}\n    user_rights:\n      - {user: a, permissions: [project.read]}\n",
			[]string{"test.yaml:9: projects[0].user_rights[0]:", "replace the user's own (R23)"}},
		{"R5 Public holds no system permission", "version: 1\ngroups:\n  - name: Public\n    system_permissions: [audit.view]\n", []string{"groups[0].system_permissions:", "R5"}},
		{"project group with system rights", "version: 1\nprojects:\n  - name: P\n    groups:\n      - {name: G, system_permissions: [audit.view]}\n", []string{"test.yaml:5: projects[0].groups[0].system_permissions:"}},
		{"system group with rights", "version: 1\ngroups:\n  - name: G\n    rights: {role: Viewer}\n", []string{"test.yaml:4: groups[0].rights:", "imported_groups"}},
		{"unknown project role", "version: 1\nprojects:\n  - name: P\n    groups:\n      - name: G\n        rights: {role: Boss}\n", []string{"test.yaml:6: projects[0].groups[0].rights.role:", `unknown project role "Boss"`}},
		{"wrong scope permission", "version: 1\nroles:\n  - {name: R, scope: system, permissions: [project.read]}\n", []string{"test.yaml:3: roles[0].permissions"}},
		{"two documents", "version: 1\n---\nversion: 1\n", []string{"test.yaml:", "more than one YAML document"}},
		{"empty", "", []string{"the file is empty"}},
		{"duplicate user", "version: 1\nusers:\n  - username: Al\n  - username: al\n", []string{"test.yaml:4: users[1].username:", "listed twice"}},
		{"not a domain name", "version: 1\ngroups:\n  - name: G\n    domains: [ct.example.org, \"not a domain at all!\"]\n", []string{"test.yaml:3: groups[0].domains[1]:", "is not a domain name"}},
		{"markup as a domain", "version: 1\ngroups:\n  - name: G\n    domains: [\"<b>\"]\n", []string{"groups[0].domains[0]:", "is not a domain name"}},
		{"too many domains", "version: 1\ngroups:\n  - name: G\n    domains: [" + manyDomains(domain.MaxDomains+1) + "]\n", []string{"groups[0].domains:", "at most 1000 domains"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.src), testNow)
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tc.src)
			}
			if !domain.Is(err, domain.KindInvalid) {
				t.Errorf("kind: got %v, want invalid", domain.KindOf(err))
			}
			if len(ProblemsOf(err)) == 0 {
				t.Errorf("no Problems in %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseBuiltinGroupByDefaultName(t *testing.T) {
	c := mustParse(t, "version: 1\nusers: [{username: a}]\ngroups:\n  - name: Administrators\n    members: [a]\n")
	if got := c.Groups[0].Builtin; got != "administrators" {
		t.Errorf("Administrators listed without builtin: got builtin %q, want administrators", got)
	}
}

// manyDomains is a YAML flow list of n distinct valid domain names.
func manyDomains(n int) string {
	ds := make([]string, n)
	for i := range ds {
		ds[i] = fmt.Sprintf("d%d.example.org", i)
	}
	return strings.Join(ds, ", ")
}
