package domain

import (
	"slices"
	"sort"
	"strconv"
)

// Scope says where a permission applies.
type Scope string

// The permission scopes of docs/model.md section 4.
const (
	ScopeSystem  Scope = "system"
	ScopeProject Scope = "project"
	ScopeDomain  Scope = "domain"
	ScopeFolder  Scope = "folder"
)

// Permission is one entry of the catalog: a key, where it applies, what it
// implies (R8) and what it requires (R9).
type Permission struct {
	Key         string
	Scope       Scope
	Area        string // groups checkboxes in the console, e.g. "Users"
	Label       string // human name, from the reference documents
	Description string
	Implies     []string // direct implications; Close follows them transitively
	Requires    []string // must also be held (in the same grant) when this is granted
}

// The system permission keys.
const (
	PermServerManage     = "server.manage"
	PermProjectCreate    = "project.create"
	PermProjectDelete    = "project.delete"
	PermPersonalInfoView = "personal_info.view"
	PermVolumeDownload   = "volume.download"
	PermFilesAdmin       = "files.admin"
	PermUsersView        = "users.view"
	PermUsersEdit        = "users.edit"
	PermUsersDelete      = "users.delete"
	PermGroupsView       = "groups.view"
	PermGroupsEdit       = "groups.edit"
	PermGroupsDelete     = "groups.delete"
	PermGroupsMembers    = "groups.members"
	PermRolesView        = "roles.view"
	PermRolesEdit        = "roles.edit"
	PermRolesDelete      = "roles.delete"
	PermRolesAssignAdmin = "roles.assign_admin"
	PermStorageView      = "storage.view"
	PermStorageEdit      = "storage.edit"
	PermStorageDelete    = "storage.delete"
	PermAuditView        = "audit.view"
	PermChangesRead      = "changes.read"
	PermWebhooksManage   = "webhooks.manage"
	PermReplicaRead      = "replica.read"
	PermReportsView      = "reports.view"
	PermPortfoliosUse    = "portfolios.use"
	PermPortfoliosAdmin  = "portfolios.admin"
	PermScimProvision    = "scim.provision"
	PermProjectRead      = "project.read"
	PermProjectWrite     = "project.write"
	PermProjectAddSeries = "project.add_series"
	PermProjectViewPI    = "project.view_personal_info"
	PermProjectModerate  = "project.moderate"
	PermDomainAccess     = "domain.access"
)

// catalog is the one declaration of every fixed permission. Folder
// permissions are not listed: they are <context>.<action> pairs whose
// contexts come from folder types (see ParseFolderPermission).
var catalog = []Permission{
	{Key: PermServerManage, Scope: ScopeSystem, Area: "Server", Label: "Manage server", Description: "Administer everything; implies every system permission."},
	{Key: PermProjectCreate, Scope: ScopeSystem, Area: "Projects", Label: "Create project"},
	{Key: PermProjectDelete, Scope: ScopeSystem, Area: "Projects", Label: "Delete project"},
	{Key: PermPersonalInfoView, Scope: ScopeSystem, Area: "Data", Label: "View personal info", Description: "See patient identifiers; masked otherwise, and while the user hides personal information (R18)."},
	{Key: PermVolumeDownload, Scope: ScopeSystem, Area: "Data", Label: "Download volume as raw file"},
	{Key: PermFilesAdmin, Scope: ScopeSystem, Area: "Files", Label: "Files and folders administration", Description: "Full access to every folder; overrides folder levels (R17)."},
	{Key: PermUsersView, Scope: ScopeSystem, Area: "Users", Label: "View users"},
	{Key: PermUsersEdit, Scope: ScopeSystem, Area: "Users", Label: "Add/edit users", Implies: []string{PermUsersView}},
	{Key: PermUsersDelete, Scope: ScopeSystem, Area: "Users", Label: "Delete users", Implies: []string{PermUsersView}},
	{Key: PermGroupsView, Scope: ScopeSystem, Area: "Groups", Label: "View groups"},
	{Key: PermGroupsEdit, Scope: ScopeSystem, Area: "Groups", Label: "Add/edit groups", Implies: []string{PermGroupsView}, Requires: []string{PermRolesView}},
	{Key: PermGroupsDelete, Scope: ScopeSystem, Area: "Groups", Label: "Delete groups", Implies: []string{PermGroupsView}},
	{Key: PermGroupsMembers, Scope: ScopeSystem, Area: "Groups", Label: "Add/remove members", Implies: []string{PermGroupsView}, Requires: []string{PermUsersView}},
	{Key: PermRolesView, Scope: ScopeSystem, Area: "Roles", Label: "View role permissions"},
	{Key: PermRolesEdit, Scope: ScopeSystem, Area: "Roles", Label: "Add/edit roles", Implies: []string{PermRolesView}},
	{Key: PermRolesDelete, Scope: ScopeSystem, Area: "Roles", Label: "Delete roles", Implies: []string{PermRolesView}},
	{Key: PermRolesAssignAdmin, Scope: ScopeSystem, Area: "Roles", Label: "Assign administrator roles", Description: "Needed to assign System Administrator or IT Administrator (R22)."},
	{Key: PermStorageView, Scope: ScopeSystem, Area: "Storage", Label: "View storage"},
	{Key: PermStorageEdit, Scope: ScopeSystem, Area: "Storage", Label: "Add/edit storage", Implies: []string{PermStorageView}},
	{Key: PermStorageDelete, Scope: ScopeSystem, Area: "Storage", Label: "Delete storage", Implies: []string{PermStorageView}},
	{Key: PermAuditView, Scope: ScopeSystem, Area: "Server", Label: "View audit log"},
	{Key: PermChangesRead, Scope: ScopeSystem, Area: "Server", Label: "Read the change feed", Description: "Follow every committed change (GET /api/v1/changes), personal fields masked as for any read (R18)."},
	{Key: PermWebhooksManage, Scope: ScopeSystem, Area: "Server", Label: "Manage webhooks", Description: "Create, change, delete and redeliver webhook subscriptions; deliveries read the feed as the subscription's owner (changes.read, R18).", Requires: []string{PermChangesRead}},
	{Key: PermReplicaRead, Scope: ScopeSystem, Area: "Server", Label: "Run a local replica", Description: "Download the permission state (GET /api/v1/replica/snapshot, no personal fields) and follow the change feed, to answer checks inside an application (pkg/gatehouse/local).", Implies: []string{PermChangesRead}},
	{Key: PermReportsView, Scope: ScopeSystem, Area: "Server", Label: "View reports"},
	{Key: PermPortfoliosUse, Scope: ScopeSystem, Area: "Portfolios", Label: "Use portfolios"},
	{Key: PermPortfoliosAdmin, Scope: ScopeSystem, Area: "Portfolios", Label: "Administer portfolios", Implies: []string{PermPortfoliosUse}},
	{Key: PermScimProvision, Scope: ScopeSystem, Area: "Server", Label: "Provision over SCIM", Description: "Lets an API token create and change users and system groups through /scim/v2."},

	{Key: PermProjectRead, Scope: ScopeProject, Area: "Project", Label: "Read"},
	{Key: PermProjectWrite, Scope: ScopeProject, Area: "Project", Label: "Write", Requires: []string{PermProjectRead}},
	{Key: PermProjectAddSeries, Scope: ScopeProject, Area: "Project", Label: "Add series", Requires: []string{PermProjectRead}},
	{Key: PermProjectViewPI, Scope: ScopeProject, Area: "Project", Label: "View personal info", Requires: []string{PermProjectRead}},
	{Key: PermProjectModerate, Scope: ScopeProject, Area: "Project", Label: "Moderate", Description: "All access to the project; takes precedence over the other rights.",
		Implies: []string{PermProjectRead, PermProjectWrite, PermProjectAddSeries, PermProjectViewPI}},

	{Key: PermDomainAccess, Scope: ScopeDomain, Area: "Domains", Label: "Access domain"},
}

var catalogIndex = func() map[string]*Permission {
	m := make(map[string]*Permission, len(catalog))
	for i := range catalog {
		m[catalog[i].Key] = &catalog[i]
	}
	// server.manage implies every other system permission (R8).
	sm := m[PermServerManage]
	for _, p := range catalog {
		if p.Scope == ScopeSystem && p.Key != PermServerManage {
			sm.Implies = append(sm.Implies, p.Key)
		}
	}
	return m
}()

// Catalog returns every fixed permission, in declaration order. The returned
// slice must not be modified.
func Catalog() []Permission { return catalog }

// LookupPermission returns the catalog entry for key.
func LookupPermission(key string) (Permission, bool) {
	p, ok := catalogIndex[key]
	if !ok {
		return Permission{}, false
	}
	return *p, true
}

// PermissionsOfScope returns the keys of the given scope in declaration order.
func PermissionsOfScope(s Scope) []string {
	var keys []string
	for _, p := range catalog {
		if p.Scope == s {
			keys = append(keys, p.Key)
		}
	}
	return keys
}

// Implies reports whether key is in Close(keys) without building the
// closure (no allocation): a token's limit is checked against one
// permission on every request. The depth bound would end the walk even if
// the catalog's implications had a cycle.
func Implies(keys []string, key string) bool {
	for _, k := range keys {
		if implies(k, key, len(catalog)) {
			return true
		}
	}
	return false
}

func implies(k, key string, depth int) bool {
	if k == key {
		return true
	}
	p, ok := catalogIndex[k]
	if !ok || depth == 0 {
		return false
	}
	for _, i := range p.Implies {
		if implies(i, key, depth-1) {
			return true
		}
	}
	return false
}

// Close returns keys closed transitively under implication (R8), sorted and
// without duplicates. Unknown keys are kept as they are.
func Close(keys []string) []string {
	seen := make(map[string]bool, len(keys)*2)
	var visit func(string)
	visit = func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		if p, ok := catalogIndex[k]; ok {
			for _, i := range p.Implies {
				visit(i)
			}
		}
	}
	for _, k := range keys {
		visit(k)
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Unmet lists, for a set of keys granted together, each requirement (R9)
// that the set, closed under implication, does not satisfy. The result is
// empty when every requirement is met.
func Unmet(keys []string) []Requirement {
	closed := Close(keys)
	var out []Requirement
	for _, k := range closed {
		p, ok := catalogIndex[k]
		if !ok {
			continue
		}
		for _, r := range p.Requires {
			if _, found := slices.BinarySearch(closed, r); !found {
				out = append(out, Requirement{Permission: k, Requires: r})
			}
		}
	}
	return out
}

// Requirement is one unmet requirement: Permission needs Requires.
type Requirement struct {
	Permission string `json:"permission"`
	Requires   string `json:"requires"`
}

func (r Requirement) String() string {
	return r.Permission + " requires " + r.Requires
}

// ValidatePermissions checks that every key exists in the catalog, has the
// given scope, and that the set meets its own requirements (R9). field names
// the input field in error messages.
func ValidatePermissions(field string, scope Scope, keys []string) error {
	var p problems
	if p.permissionKeys(field, scope, keys) {
		p.requirements(field, keys)
	}
	return p.err("validate permissions")
}

func indexField(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}
