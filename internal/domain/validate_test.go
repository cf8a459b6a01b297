package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// wantField asserts err is an Invalid error naming field with a message
// containing msg.
func wantField(t *testing.T, what string, err error, field, msg string) {
	t.Helper()
	if !Is(err, KindInvalid) {
		t.Errorf("%s: got %v, want an invalid error on %s", what, err, field)
		return
	}
	for _, f := range FieldsOf(err) {
		if f.Field == field && strings.Contains(f.Message, msg) {
			return
		}
	}
	t.Errorf("%s: fields %v lack %s containing %q", what, FieldsOf(err), field, msg)
}

func TestUserValidate(t *testing.T) {
	u := User{Username: "  alice ", Email: " alice@example.org "}
	if err := u.Validate(); err != nil {
		t.Fatalf("valid user: %v", err)
	}
	if u.Username != "alice" || u.Email != "alice@example.org" || u.Status != UserActive || u.Source != SourceLocal {
		t.Errorf("Validate did not trim or default: %+v", u)
	}
	tests := []struct {
		name  string
		u     User
		field string
		msg   string
	}{
		{"empty username", User{Username: "   "}, "username", "is required"},
		{"long username", User{Username: strings.Repeat("a", 129)}, "username", "at most 128"},
		{"control char", User{Username: "a\nb"}, "username", "control characters"},
		{"bad utf8", User{Username: "a\xffb"}, "username", "UTF-8"},
		{"bad email", User{Username: "a", Email: "not-an-email"}, "email", "not an email address"},
		{"email with name", User{Username: "a", Email: "Al <al@example.org>"}, "email", "not an email address"},
		{"status", User{Username: "a", Status: "gone"}, "status", "active or disabled"},
		{"source", User{Username: "a", Source: "ldap"}, "source", "local, scim or oidc"},
	}
	for _, tt := range tests {
		tt.u.Validate()
		wantField(t, tt.name, tt.u.Validate(), tt.field, tt.msg)
	}
	// 128 characters of a multi-byte script are allowed: limits count characters.
	u = User{Username: strings.Repeat("é", 128)}
	if err := u.Validate(); err != nil {
		t.Errorf("128 multi-byte characters: %v", err)
	}
}

func TestR1_GroupScopeValidation(t *testing.T) {
	tests := []struct {
		name  string
		g     Group
		field string
		msg   string
	}{
		{"no scope", Group{Name: "g"}, "scope", "cannot be changed later"},
		{"bad scope", Group{Name: "g", Scope: "domain"}, "scope", "system or project"},
		{"project without id", Group{Name: "g", Scope: ScopeProject}, "project_id", "required"},
		{"system with project", Group{Name: "g", Scope: ScopeSystem, ProjectID: "p"}, "project_id", "must be empty"},
		{"project group with system perms", Group{Name: "g", Scope: ScopeProject, ProjectID: "p", SystemPermissions: []string{PermUsersView}}, "system_permissions", "project group"},
		{"builtin in project", Group{Name: "g", Scope: ScopeProject, ProjectID: "p", Builtin: BuiltinEveryone}, "builtin", "system groups"},
		{"unknown key", Group{Name: "g", Scope: ScopeSystem, SystemPermissions: []string{"x.y"}}, "system_permissions[0]", "unknown permission"},
		{"wrong scope key", Group{Name: "g", Scope: ScopeSystem, DefaultProjectPermissions: []string{PermUsersView}}, "default_project_permissions[0]", "system scope, not project"},
	}
	for _, tt := range tests {
		wantField(t, tt.name, tt.g.Validate(), tt.field, tt.msg)
	}
}

func TestR5_PublicHoldsNoSystemPermission(t *testing.T) {
	g := Group{Name: "Public", Scope: ScopeSystem, Builtin: BuiltinPublic, SystemPermissions: []string{PermUsersView}}
	wantField(t, "public with checkbox", g.Validate(), "system_permissions", "R5")
	g = Group{Name: "Public", Scope: ScopeSystem, Builtin: BuiltinPublic, SystemRoleID: RoleSystemMemberID}
	wantField(t, "public with role", g.Validate(), "system_permissions", "R5")
}

func TestR10_DescriptionNotInCriteria(t *testing.T) {
	r := Rule{Name: "r", GroupID: "g",
		Criteria: []Criterion{{FolderTypeID: "t", Property: "Description", Operator: OpEq, Value: "x"}},
		Grants:   map[string][]string{"root": {"read"}}}
	wantField(t, "description criterion", r.Validate(), "criteria[0].property", "R10")
}

func TestRuleValidate(t *testing.T) {
	good := func() Rule {
		return Rule{Name: " Cardio ", GroupID: "g",
			Criteria: []Criterion{{FolderTypeID: "t", Property: "Therapeutic area", Operator: OpEq, Value: "Cardiovascular"}},
			Grants:   map[string][]string{"document": {"read", "edit"}}}
	}
	r := good()
	if err := r.Validate(); err != nil || r.Name != "Cardio" {
		t.Fatalf("good rule: %v (name %q)", err, r.Name)
	}
	tests := []struct {
		name  string
		mod   func(*Rule)
		field string
		msg   string
	}{
		{"no criteria", func(r *Rule) { r.Criteria = nil }, "criteria", "at least one criterion"},
		{"bad operator", func(r *Rule) { r.Criteria[0].Operator = "like" }, "criteria[0].operator", "unknown operator"},
		{"missing operator", func(r *Rule) { r.Criteria[0].Operator = "" }, "criteria[0].operator", "is required"},
		{"in without values", func(r *Rule) { r.Criteria[0].Operator = OpIn; r.Criteria[0].Value = "" }, "criteria[0].values", "at least one value"},
		{"exists with value", func(r *Rule) { r.Criteria[0].Operator = OpExists }, "criteria[0].value", "takes no value"},
		{"two types", func(r *Rule) {
			r.Criteria = append(r.Criteria, Criterion{FolderTypeID: "u", Property: "p", Operator: OpExists})
		}, "criteria[1].folder_type_id", "one folder type"},
		{"level action", func(r *Rule) { r.Grants["document"] = []string{"download"} }, "grants.document[0]", "cannot grant"},
		{"unknown action", func(r *Rule) { r.Grants["document"] = []string{"fly"} }, "grants.document[0]", "cannot grant"},
		{"bad context", func(r *Rule) { r.Grants["Doc ument"] = []string{"read"} }, "grants.Doc ument", "lower-case"},
		{"nothing granted", func(r *Rule) { r.Grants = map[string][]string{"root": {}} }, "grants", "at least one action"},
		{"dup action", func(r *Rule) { r.Grants["document"] = []string{"read", "read"} }, "grants.document[1]", "twice"},
	}
	for _, tt := range tests {
		r := good()
		tt.mod(&r)
		wantField(t, tt.name, r.Validate(), tt.field, tt.msg)
	}
}

func TestFolderTypeValidate(t *testing.T) {
	ft := FolderType{Name: "GRT Study", Contexts: []string{"root", "data", "document", "analysis"}, Properties: []string{" Indication ", "Portfolio"}}
	if err := ft.Validate(); err != nil || ft.Properties[0] != "Indication" {
		t.Fatalf("good type: %v %v", err, ft.Properties)
	}
	wantField(t, "no root", (&FolderType{Name: "x", Contexts: []string{"data"}}).Validate(), "contexts", "root")
	wantField(t, "dup context", (&FolderType{Name: "x", Contexts: []string{"root", "root"}}).Validate(), "contexts[1]", "twice")
	wantField(t, "bad context", (&FolderType{Name: "x", Contexts: []string{"root", "Data"}}).Validate(), "contexts[1]", "lower-case")
	wantField(t, "dup property", (&FolderType{Name: "x", Contexts: []string{"root"}, Properties: []string{"A", "a"}}).Validate(), "properties[1]", "twice")
}

func TestFolderAndLevelValidate(t *testing.T) {
	wantField(t, "slash", (&Folder{Name: "a/b", TypeID: "t"}).Validate(), "name", "must not contain /")
	wantField(t, "no type", (&Folder{Name: "a"}).Validate(), "type_id", "required")
	wantField(t, "own parent", (&Folder{ID: "f", ParentID: "f", Name: "a", TypeID: "t"}).Validate(), "parent_id", "own parent")
	wantField(t, "bad level", (&FolderLevel{FolderID: "f", GroupID: "g", Level: 99}).Validate(), "level", "unknown level")
	if err := (&FolderLevel{FolderID: "f", GroupID: "g", Level: LevelNone}).Validate(); err != nil {
		t.Errorf("level none must be valid (it overrides an inherited level, R15): %v", err)
	}
}

func TestRoleAndProjectValidate(t *testing.T) {
	wantField(t, "role without scope", (&Role{Name: "r"}).Validate(), "scope", "required")
	wantField(t, "role R9", (&Role{Name: "r", Scope: ScopeProject, Permissions: []string{PermProjectWrite}}).Validate(), "permissions", "R9")
	wantField(t, "mode", (&Project{Name: "p", MembershipMode: "single"}).Validate(), "membership_mode", "multiple or exclusive")
	p := Project{Name: " CT study "}
	if err := p.Validate(); err != nil || p.MembershipMode != ModeMultiple || p.Name != "CT study" {
		t.Errorf("project defaults: %v %+v", err, p)
	}
	wantField(t, "grant subject", (&ProjectGrant{ProjectID: "p", SubjectID: "s", SubjectKind: "robot"}).Validate(), "subject_kind", "user or group")
}

func TestR6_MembershipActiveAt(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := Membership{GroupID: "g", UserID: "u", ExpiresAt: &at}
	if !m.ActiveAt(at.Add(-time.Nanosecond)) || m.ActiveAt(at) || m.ActiveAt(at.Add(time.Hour)) {
		t.Error("a membership must count strictly before its expiry instant and not from it on")
	}
	m.ExpiresAt = nil
	if !m.ActiveAt(at) {
		t.Error("a membership without expiry always counts")
	}
}

func TestErrorKinds(t *testing.T) {
	base := E("store.GetUser", KindNotFound, errors.New("no user u1"))
	wrapped := E("service.GetUser", base)
	if KindOf(wrapped) != KindNotFound || !Is(wrapped, KindNotFound) {
		t.Errorf("kind not inherited through wrapping: %v", KindOf(wrapped))
	}
	if got := wrapped.Error(); got != "service.GetUser: store.GetUser: no user u1" {
		t.Errorf("Error() = %q", got)
	}
	if KindOf(errors.New("plain")) != KindOther || Is(nil, KindOther) {
		t.Error("plain errors and nil")
	}
	v := E("validate", KindInvalid, []FieldError{{"name", "is required"}})
	if FieldsOf(E("outer", v))[0].Field != "name" {
		t.Error("FieldsOf does not see through wrapping")
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewID()
		if len(id) != 36 || id[14] != '7' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Fatalf("NewID() = %q is not a UUIDv7", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestParseFolderPermission(t *testing.T) {
	p, err := ParseFolderPermission("document.view_blinded")
	if err != nil || p.Context != "document" || p.Action != ActionViewBlinded || p.String() != "document.view_blinded" {
		t.Fatalf("got %+v, %v", p, err)
	}
	for _, s := range []string{"", "root", "root.", ".read", "Root.read", "root.fly", "root.read.x"} {
		if _, err := ParseFolderPermission(s); err == nil {
			t.Errorf("ParseFolderPermission(%q) accepted", s)
		}
	}
}

func TestLevelsGrantActions(t *testing.T) {
	tests := []struct {
		l    Level
		a    Action
		want bool
	}{
		{LevelView, ActionRead, true}, {LevelView, ActionDownload, false},
		{LevelDownload, ActionRead, true}, {LevelEdit, ActionDownload, true},
		{LevelUpload, ActionCreate, true}, {LevelEdit, ActionCreate, false},
		{LevelDelete, ActionDelete, true}, {LevelDeleteFolder, ActionCreateFolder, true},
		{LevelDeleteFolder, ActionLock, false}, {LevelNone, ActionRead, false},
	}
	for _, tt := range tests {
		if got := LevelGrants(tt.l, tt.a); got != tt.want {
			t.Errorf("LevelGrants(%s, %s) = %v, want %v", tt.l, tt.a, got, tt.want)
		}
	}
	var l Level
	if err := l.UnmarshalText([]byte("create_folder")); err != nil || l != LevelCreateFolder {
		t.Errorf("UnmarshalText: %v %v", l, err)
	}
	if err := l.UnmarshalText([]byte("admin")); err == nil || !strings.Contains(err.Error(), "none, view, download") {
		t.Errorf("UnmarshalText(admin) = %v, want the list of levels", err)
	}
}

func FuzzParseFolderPermission(f *testing.F) {
	for _, s := range []string{"root.read", "document.view_blinded", "", ".", "a.b.c", "\xff.read"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseFolderPermission(s)
		if err == nil && p.String() != s {
			t.Fatalf("round trip: %q -> %q", s, p.String())
		}
	})
}

// One rule for accessible domain names, wherever they are set: the names
// the demo, the docs and the tests use pass; text that is no name fails.
func TestCheckDomainName(t *testing.T) {
	for _, ok := range []string{"ct.example.org", "CT", "MRI", "xyz-hosp", "abc-univ", "hospital-a", "domain-7", "a",
		"_dmarc.example.org", strings.Repeat("a", 63) + ".org", strings.Repeat("a.", 126) + "a"} {
		if err := CheckDomainName(ok); err != nil {
			t.Errorf("CheckDomainName(%q) = %v, want accepted", ok, err)
		}
	}
	for _, bad := range []string{"", "not a domain at all!", "<b>", "a..b", ".a", "a.", "-a", "a-", "a.-b",
		"ex ample", "é.org", "a/b", "a\x00", strings.Repeat("a", 64), strings.Repeat("a.", 127) + "a"} {
		if err := CheckDomainName(bad); err == nil {
			t.Errorf("CheckDomainName(%q) accepted, want refused", bad)
		}
	}
	d := DomainGrant{GroupID: "g", Domain: " <b> "}
	wantField(t, "domain grant", d.Validate(), "domain", "is not a domain name")
}
