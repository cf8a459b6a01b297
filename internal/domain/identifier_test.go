package domain

import (
	"strings"
	"testing"
)

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
		u := User{Username: in}
		if err := u.Validate(); err != nil || u.Username != want {
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
		wantField(t, "username "+in, (&User{Username: in}).Validate(), "username", msg)
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
		r := Role{Name: in, Scope: ScopeSystem}
		if err := r.Validate(); err != nil || r.Name != want {
			t.Errorf("role name %q: got %q, %v; want %q", in, r.Name, err, want)
		}
		pr := Project{Name: in}
		if err := pr.Validate(); err != nil || pr.Name != want {
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
		wantField(t, "group name "+in, (&Group{Name: in, Scope: ScopeSystem}).Validate(), "name", msg)
		wantField(t, "project name "+in, (&Project{Name: in}).Validate(), "name", msg)
		wantField(t, "role name "+in, (&Role{Name: in, Scope: ScopeProject}).Validate(), "name", msg)
	}
}

func TestNameSkeleton(t *testing.T) {
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
		if NameSkeleton(p[0]) != NameSkeleton(p[1]) {
			t.Errorf("%q and %q look alike, but their skeletons %q and %q differ", p[0], p[1], NameSkeleton(p[0]), NameSkeleton(p[1]))
		}
	}
	for _, p := range [][2]string{{"admin", "bob"}, {"Normal Users", "Normal User"}, {"Viewer", "Editor"}} {
		if NameSkeleton(p[0]) == NameSkeleton(p[1]) {
			t.Errorf("%q and %q have the same skeleton %q", p[0], p[1], NameSkeleton(p[0]))
		}
	}
}

// The built-in names pass their profile unchanged and do not look alike
// within their scope, or bootstrap would refuse them.
func TestBuiltinNamesAreCleanAndDistinct(t *testing.T) {
	seen := map[string]string{}
	check := func(scope Scope, name string) {
		if got, err := CleanName(name); err != nil || got != name {
			t.Errorf("built-in %q: CleanName = %q, %v", name, got, err)
		}
		k := string(scope) + "/" + NameSkeleton(name)
		if other, ok := seen[k]; ok {
			t.Errorf("built-in %q looks like %q", name, other)
		}
		seen[k] = name
	}
	for _, g := range BuiltinGroups() {
		check("group", g.Name)
		if err := g.Validate(); err != nil {
			t.Errorf("built-in group %s: %v", g.Name, err)
		}
	}
	for _, r := range BuiltinRoles() {
		check(r.Scope, r.Name)
	}
}

func TestR2_RenamedBuiltinGroupsKeepTheirNamesReserved(t *testing.T) {
	everyone := BuiltinGroups()[1]
	everyone.Name = "Administrators"
	wantField(t, "Everyone renamed to Administrators", everyone.Validate(), "name", "built-in Administrators group")
	wantField(t, "a system group named like Public", (&Group{Name: "PubIic", Scope: ScopeSystem}).Validate(), "name", "built-in Public group")
	admins := BuiltinGroups()[0]
	admins.Name = "ADMINISTRATORS"
	if err := admins.Validate(); err != nil {
		t.Errorf("Administrators may keep its own name in other case: %v", err)
	}
	if err := (&Group{Name: "Administrators", Scope: ScopeProject, ProjectID: "p"}).Validate(); err != nil {
		t.Errorf("a project group may be called Administrators: %v", err)
	}
}

// An edit that keeps a name stored before the profiles existed is
// accepted; changing the name checks the new one.
func TestValidateChangeKeepsLegacyNames(t *testing.T) {
	before := User{Username: "John Smith"}
	u := before
	u.Status = UserDisabled
	if err := u.ValidateChange(&before); err != nil {
		t.Errorf("disabling a legacy user: %v", err)
	}
	u.Username = "Jane Smith"
	wantField(t, "renaming to another bad username", u.ValidateChange(&before), "username", "spaces")
	g := Group{Name: "Staff\u200b", Scope: ScopeSystem}
	edit := g
	edit.Description = "edited"
	if err := edit.ValidateChange(&g); err != nil {
		t.Errorf("editing a legacy group: %v", err)
	}
}

func TestNameLengthCountsCharacters(t *testing.T) {
	if err := (&Group{Name: strings.Repeat("ö", MaxNameLen), Scope: ScopeSystem}).Validate(); err != nil {
		t.Errorf("%d characters: %v", MaxNameLen, err)
	}
	wantField(t, "too long", (&Group{Name: strings.Repeat("ö", MaxNameLen+1), Scope: ScopeSystem}).Validate(), "name", "at most")
}
