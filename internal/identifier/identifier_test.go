package identifier

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// wantField asserts err is an Invalid error naming field with a message
// containing msg.
func wantField(t *testing.T, what string, err error, field, msg string) {
	t.Helper()
	if !domain.Is(err, domain.KindInvalid) {
		t.Errorf("%s: got %v, want an invalid error on %s", what, err, field)
		return
	}
	for _, f := range domain.FieldsOf(err) {
		if f.Field == field && strings.Contains(f.Message, msg) {
			return
		}
	}
	t.Errorf("%s: fields %v lack %s containing %q", what, domain.FieldsOf(err), field, msg)
}

func TestUsernameProfile(t *testing.T) {
	for in, want := range map[string]string{
		"alice":             "alice",
		"Alice":             "Alice", // case is kept; uniqueness ignores it
		"alice@example.com": "alice@example.com",
		"o'brien+test_1.x":  "o'brien+test_1.x",
		"Ölaf":              "Ölaf",
		"日本":                "日本",
		"ａｄｍｉｎ":             "admin", // fullwidth letters become the ordinary ones
		"e\u0301":           "é",     // NFC
	} {
		u := domain.User{Username: in}
		if err := User(&u, nil); err != nil || u.Username != want {
			t.Errorf("username %q: got %q, %v; want %q", in, u.Username, err, want)
		}
	}
	for in, msg := range map[string]string{
		"John Smith":      "spaces",
		"ad\u200bmin":     "U+200B",
		"ad\u200dmin":     "U+200D",
		"\u202eadmin":     "U+202E",
		"admin\u2066":     "U+2066",
		"admin\ufe0f":     "U+FE0F",
		"\ufeffadmin":     "U+FEFF",
		"smile😀":          "U+1F600",
		"abc\u05d0\u05d1": "right-to-left",
	} {
		wantField(t, "username "+in, User(&domain.User{Username: in}, nil), "username", msg)
	}
}

func TestNameProfile(t *testing.T) {
	for in, want := range map[string]string{
		"Normal Users":                "Normal Users",
		"IT  Administrator":           "IT Administrator", // runs of spaces become one
		"Breast MG":                   "Breast MG",
		"CT study (phase 2) – 2026 ✓": "CT study (phase 2) – 2026 ✓",
		"Ａｄｍｉｎｉｓｔｒａｔｏｒｓ ＩＴ": "Administrators IT", // NFKC
		"a\u00a0b":                       "a b",
		"Radiologists of XYZ hospital 🩻": "Radiologists of XYZ hospital 🩻",
	} {
		r := domain.Role{Name: in, Scope: domain.ScopeSystem}
		if err := Role(&r, nil); err != nil || r.Name != want {
			t.Errorf("role name %q: got %q, %v; want %q", in, r.Name, err, want)
		}
		pr := domain.Project{Name: in}
		if err := Project(&pr, nil); err != nil || pr.Name != want {
			t.Errorf("project name %q: got %q, %v; want %q", in, pr.Name, err, want)
		}
	}
	for in, msg := range map[string]string{
		"Staff\u200b":     "U+200B",
		"\u202eStaff":     "U+202E",
		"Sta\u200dff":     "U+200D",
		"Staff\u2028more": "U+2028",
		"Staff\u00ad":     "U+00AD",
	} {
		wantField(t, "group name "+in, Group(&domain.Group{Name: in, Scope: domain.ScopeSystem}, nil), "name", msg)
		wantField(t, "project name "+in, Project(&domain.Project{Name: in}, nil), "name", msg)
		wantField(t, "role name "+in, Role(&domain.Role{Name: in, Scope: domain.ScopeProject}, nil), "name", msg)
	}
	// NFKC may lengthen a name past the limit Validate checked.
	wantField(t, "lengthened", Project(&domain.Project{Name: strings.Repeat("\ufdfa", 10)}, nil), "name", "once normalised")
}

func TestSkeleton(t *testing.T) {
	same := [][2]string{
		{"admin", "\u0430dmin"}, // Cyrillic а
		{"Alice", "AIice"},      // capital I for l
		{"admin", "ａｄｍｉｎ"},      // fullwidth
		{"paypal", "p\u0430yp\u0430l"},
		{"Staff", "\u0405taff"}, // Cyrillic Ѕ
		{"Admin", "admin"},      // case (also NameKey)
		{"ONCO", "\u039fNCO"},   // Greek Ο
		{"Team 1", "Team l"},
	}
	for _, p := range same {
		if Skeleton(p[0]) != Skeleton(p[1]) {
			t.Errorf("%q and %q look alike, but their skeletons %q and %q differ", p[0], p[1], Skeleton(p[0]), Skeleton(p[1]))
		}
	}
	for _, p := range [][2]string{{"admin", "bob"}, {"Normal Users", "Normal User"}, {"Viewer", "Editor"}} {
		if Skeleton(p[0]) == Skeleton(p[1]) {
			t.Errorf("%q and %q have the same skeleton %q", p[0], p[1], Skeleton(p[0]))
		}
	}
}

// The built-in names pass their profile unchanged and do not look alike
// within their scope, or bootstrap would refuse them.
func TestBuiltinNamesAreCleanAndDistinct(t *testing.T) {
	seen := map[string]string{}
	check := func(scope domain.Scope, name string) {
		if got, err := CleanName(name); err != nil || got != name {
			t.Errorf("built-in %q: CleanName = %q, %v", name, got, err)
		}
		k := string(scope) + "/" + Skeleton(name)
		if other, ok := seen[k]; ok {
			t.Errorf("built-in %q looks like %q", name, other)
		}
		seen[k] = name
	}
	for _, g := range domain.BuiltinGroups() {
		check("group", g.Name)
		if err := Group(&g, nil); err != nil {
			t.Errorf("built-in group %s: %v", g.Name, err)
		}
	}
	for _, r := range domain.BuiltinRoles() {
		check(r.Scope, r.Name)
	}
}

func TestR2_RenamedBuiltinGroupsKeepTheirNamesReserved(t *testing.T) {
	everyone := domain.BuiltinGroups()[1]
	before := everyone
	everyone.Name = "Administrators"
	wantField(t, "Everyone renamed to Administrators", Group(&everyone, &before), "name", "built-in Administrators group")
	wantField(t, "a system group named like Public", Group(&domain.Group{Name: "PubIic", Scope: domain.ScopeSystem}, nil), "name", "built-in Public group")
	admins := domain.BuiltinGroups()[0]
	admins.Name = "ADMINISTRATORS"
	if err := Group(&admins, nil); err != nil {
		t.Errorf("Administrators may keep its own name in other case: %v", err)
	}
	if err := Group(&domain.Group{Name: "Administrators", Scope: domain.ScopeProject, ProjectID: "p"}, nil); err != nil {
		t.Errorf("a project group may be called Administrators: %v", err)
	}
}

// An edit that keeps a name stored before the profiles existed is
// accepted; changing the name checks the new one.
func TestEditsKeepLegacyNames(t *testing.T) {
	before := domain.User{Username: "John Smith"}
	u := before
	u.Status = domain.UserDisabled
	if err := User(&u, &before); err != nil {
		t.Errorf("disabling a legacy user: %v", err)
	}
	u.Username = "Jane Smith"
	wantField(t, "renaming to another bad username", User(&u, &before), "username", "spaces")
	g := domain.Group{Name: "Staff\u200b", Scope: domain.ScopeSystem}
	edit := g
	edit.Description = "edited"
	if err := Group(&edit, &g); err != nil {
		t.Errorf("editing a legacy group: %v", err)
	}
}
