package domain

import (
	"slices"
	"strings"
	"testing"
)

func TestCatalogKeysAreUniqueAndScoped(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Catalog() {
		if seen[p.Key] {
			t.Errorf("key %q declared twice", p.Key)
		}
		seen[p.Key] = true
		switch p.Scope {
		case ScopeSystem, ScopeProject, ScopeDomain:
		default:
			t.Errorf("%s: unexpected scope %q", p.Key, p.Scope)
		}
		for _, k := range append(slices.Clone(p.Implies), p.Requires...) {
			q, ok := LookupPermission(k)
			if !ok {
				t.Errorf("%s refers to unknown key %q", p.Key, k)
			} else if q.Scope != p.Scope {
				t.Errorf("%s (%s) refers to %s of scope %s", p.Key, p.Scope, k, q.Scope)
			}
		}
	}
}

func TestR8_ServerManageImpliesEverySystemPermission(t *testing.T) {
	got := Close([]string{PermServerManage})
	for _, k := range PermissionsOfScope(ScopeSystem) {
		if _, ok := slices.BinarySearch(got, k); !ok {
			t.Errorf("Close(server.manage) lacks %s", k)
		}
	}
	for _, k := range got {
		if p, _ := LookupPermission(k); p.Scope != ScopeSystem {
			t.Errorf("Close(server.manage) leaks %s of scope %s", k, p.Scope)
		}
	}
}

func TestR8_Implications(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{PermUsersEdit}, []string{PermUsersEdit, PermUsersView}},
		{[]string{PermUsersDelete}, []string{PermUsersDelete, PermUsersView}},
		{[]string{PermGroupsMembers}, []string{PermGroupsMembers, PermGroupsView}},
		{[]string{PermGroupsEdit, PermGroupsDelete}, []string{PermGroupsDelete, PermGroupsEdit, PermGroupsView}},
		{[]string{PermRolesEdit}, []string{PermRolesEdit, PermRolesView}},
		{[]string{PermStorageDelete}, []string{PermStorageDelete, PermStorageView}},
		{[]string{PermProjectModerate}, []string{PermProjectAddSeries, PermProjectModerate, PermProjectRead, PermProjectViewPI, PermProjectWrite}},
		{[]string{PermProjectWrite}, []string{PermProjectWrite}},
		{[]string{"unknown.key"}, []string{"unknown.key"}},
		{nil, []string{}},
	}
	for _, tt := range tests {
		got := Close(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Close(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestR8_ImpliesAgreesWithClose holds Implies to Close: for every key
// alone, every pair of keys, and none, each catalog key (and an unknown
// one) is implied exactly when the closure holds it, without allocating.
func TestR8_ImpliesAgreesWithClose(t *testing.T) {
	keys := []string{"unknown.key"}
	for _, p := range Catalog() {
		keys = append(keys, p.Key)
	}
	sets := [][]string{nil}
	for i, a := range keys {
		sets = append(sets, []string{a})
		for _, b := range keys[i+1:] {
			sets = append(sets, []string{a, b})
		}
	}
	for _, set := range sets {
		closed := Close(set)
		for _, k := range keys {
			if got, want := Implies(set, k), slices.Contains(closed, k); got != want {
				t.Errorf("Implies(%v, %s) = %v; Close(%v) = %v", set, k, got, set, closed)
			}
		}
	}
	limit := []string{PermGroupsEdit, PermServerManage}
	if n := testing.AllocsPerRun(100, func() { Implies(limit, PermUsersView) }); n != 0 {
		t.Errorf("Implies allocates %v times; want 0", n)
	}
}

func TestR9_Requirements(t *testing.T) {
	tests := []struct {
		in   []string
		want []Requirement
	}{
		{[]string{PermGroupsMembers}, []Requirement{{PermGroupsMembers, PermUsersView}}},
		{[]string{PermGroupsMembers, PermUsersView}, nil},
		{[]string{PermGroupsEdit}, []Requirement{{PermGroupsEdit, PermRolesView}}},
		{[]string{PermGroupsEdit, PermRolesEdit}, nil}, // roles.edit implies roles.view
		{[]string{PermProjectWrite}, []Requirement{{PermProjectWrite, PermProjectRead}}},
		{[]string{PermProjectAddSeries, PermProjectViewPI}, []Requirement{{PermProjectAddSeries, PermProjectRead}, {PermProjectViewPI, PermProjectRead}}},
		{[]string{PermProjectModerate}, nil}, // moderate implies read
		{[]string{PermServerManage}, nil},
	}
	for _, tt := range tests {
		got := Unmet(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Unmet(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestR9_ValidatePermissionsMessages(t *testing.T) {
	tests := []struct {
		scope Scope
		keys  []string
		want  string // a substring of the message, "" for no error
	}{
		{ScopeSystem, []string{PermUsersView}, ""},
		{ScopeSystem, []string{"users.fly"}, `permissions[0]: unknown permission "users.fly"`},
		{ScopeSystem, []string{PermProjectRead}, `applies to the project scope, not system`},
		{ScopeProject, []string{PermProjectRead, PermProjectRead}, `listed twice`},
		{ScopeSystem, []string{PermGroupsMembers}, `groups.members requires users.view (R9)`},
		{ScopeProject, []string{PermProjectWrite}, `project.write requires project.read (R9)`},
	}
	for _, tt := range tests {
		err := ValidatePermissions("permissions", tt.scope, tt.keys)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ValidatePermissions(%v) = %v, want nil", tt.keys, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !Is(err, KindInvalid) {
			t.Errorf("ValidatePermissions(%v) = %v, want invalid error containing %q", tt.keys, err, tt.want)
		}
	}
}

func TestBuiltinRoles(t *testing.T) {
	byID := map[string]Role{}
	for _, r := range BuiltinRoles() {
		r := r
		if err := r.Validate(); err != nil {
			t.Errorf("built-in role %s does not validate: %v", r.Name, err)
		}
		byID[r.ID] = r
	}
	it := Close(byID[RoleITAdministratorID].Permissions)
	if !slices.Contains(it, PermStorageEdit) || !slices.Contains(it, PermServerManage) {
		t.Errorf("IT Administrator lacks storage.edit or server.manage: %v", it)
	}
	sa := byID[RoleSystemAdministratorID]
	closed := Close(sa.Permissions)
	for _, k := range []string{PermStorageEdit, PermStorageDelete, PermServerManage} {
		if slices.Contains(closed, k) {
			t.Errorf("System Administrator holds %s", k)
		}
	}
	if !slices.Contains(closed, PermRolesAssignAdmin) || !slices.Contains(closed, PermStorageView) {
		t.Errorf("System Administrator lacks roles.assign_admin or storage.view")
	}
	if sa.Editable || sa.Deletable || byID[RoleITAdministratorID].Deletable {
		t.Error("System Administrator must be neither editable nor deletable, IT Administrator not deletable")
	}
	sm := Close(byID[RoleSystemManagerID].Permissions)
	for _, k := range []string{PermRolesEdit, PermStorageEdit, PermServerManage} {
		if slices.Contains(sm, k) {
			t.Errorf("System Manager holds %s", k)
		}
	}
	for _, k := range Close(byID[RoleSystemMemberID].Permissions) {
		if !strings.HasSuffix(k, ".view") {
			t.Errorf("System Member holds non-view permission %s", k)
		}
	}
	if !IsAdminRole(RoleSystemAdministratorID) || !IsAdminRole(RoleITAdministratorID) || IsAdminRole(RoleSystemManagerID) {
		t.Error("IsAdminRole wrong")
	}
}

func TestBuiltinGroupsValidate(t *testing.T) {
	for _, g := range BuiltinGroups() {
		g := g
		if err := g.Validate(); err != nil {
			t.Errorf("built-in group %s: %v", g.Name, err)
		}
	}
	ft := BuiltinFolderType()
	if err := ft.Validate(); err != nil {
		t.Errorf("built-in folder type: %v", err)
	}
}
