package domain

import "slices"

// Well-known ids of the objects bootstrap creates. Fixed ids keep bootstrap
// idempotent and let every replica and every test name them.
const (
	GroupAdministratorsID = "00000000-0000-7000-8000-000000000001"
	GroupEveryoneID       = "00000000-0000-7000-8000-000000000002"
	GroupPublicID         = "00000000-0000-7000-8000-000000000003"

	RoleITAdministratorID     = "00000000-0000-7000-8000-000000000101"
	RoleSystemAdministratorID = "00000000-0000-7000-8000-000000000102"
	RoleSystemManagerID       = "00000000-0000-7000-8000-000000000103"
	RoleSystemMemberID        = "00000000-0000-7000-8000-000000000104"
	RoleViewerID              = "00000000-0000-7000-8000-000000000111"
	RoleEditorID              = "00000000-0000-7000-8000-000000000112"
	RoleContributorID         = "00000000-0000-7000-8000-000000000113"
	RoleModeratorID           = "00000000-0000-7000-8000-000000000114"

	FolderTypeFolderID = "00000000-0000-7000-8000-000000000201"
)

// IsAdminRole reports whether assigning role id needs roles.assign_admin (R22).
func IsAdminRole(id string) bool {
	return id == RoleITAdministratorID || id == RoleSystemAdministratorID
}

// BuiltinGroups returns the three built-in groups (R2–R5) as bootstrap
// creates them. Administrators holds server.manage.
func BuiltinGroups() []Group {
	return []Group{
		{ID: GroupAdministratorsID, Name: "Administrators", Scope: ScopeSystem, Builtin: BuiltinAdministrators,
			Description:       "Full system access. Only a holder of server.manage can change its members.",
			SystemPermissions: []string{PermServerManage}},
		{ID: GroupEveryoneID, Name: "Everyone", Scope: ScopeSystem, Builtin: BuiltinEveryone,
			Description: "Every active signed-in user is a member; the member list cannot be edited."},
		{ID: GroupPublicID, Name: "Public", Scope: ScopeSystem, Builtin: BuiltinPublic,
			Description: "Everyone, including anonymous requests. Carries folder levels and project read rights only."},
	}
}

// BuiltinRoles returns the built-in system and project roles of docs/model.md §4.
func BuiltinRoles() []Role {
	all := PermissionsOfScope(ScopeSystem)
	sysAdmin := slices.DeleteFunc(slices.Clone(all), func(k string) bool {
		// server.manage implies storage.edit and storage.delete, so the
		// System Administrator holds every other key explicitly instead.
		return k == PermStorageEdit || k == PermStorageDelete || k == PermServerManage
	})
	return []Role{
		{ID: RoleITAdministratorID, Name: "IT Administrator", Scope: ScopeSystem, Builtin: true, Editable: true, Deletable: false,
			Description: "Full permissions to manage all aspects of the system, storage included.", Permissions: all},
		{ID: RoleSystemAdministratorID, Name: "System Administrator", Scope: ScopeSystem, Builtin: true, Editable: false, Deletable: false,
			Description: "Full permissions except adding, editing and deleting storage.", Permissions: sysAdmin},
		{ID: RoleSystemManagerID, Name: "System Manager", Scope: ScopeSystem, Builtin: true, Editable: true, Deletable: false,
			Description: "The default role: administers users, groups and projects, but not roles, storage or server settings.",
			Permissions: []string{PermUsersView, PermUsersEdit, PermUsersDelete, PermGroupsView, PermGroupsEdit, PermGroupsDelete, PermGroupsMembers,
				PermRolesView, PermProjectCreate, PermProjectDelete, PermStorageView, PermReportsView}},
		{ID: RoleSystemMemberID, Name: "System Member", Scope: ScopeSystem, Builtin: true, Editable: true, Deletable: false,
			Description: "Mainly viewing system-level information.",
			Permissions: []string{PermUsersView, PermGroupsView, PermRolesView, PermStorageView, PermReportsView}},
		{ID: RoleViewerID, Name: "Viewer", Scope: ScopeProject, Builtin: true, Editable: true, Deletable: false,
			Permissions: []string{PermProjectRead}},
		{ID: RoleEditorID, Name: "Editor", Scope: ScopeProject, Builtin: true, Editable: true, Deletable: false,
			Permissions: []string{PermProjectRead, PermProjectWrite}},
		{ID: RoleContributorID, Name: "Contributor", Scope: ScopeProject, Builtin: true, Editable: true, Deletable: false,
			Permissions: []string{PermProjectRead, PermProjectWrite, PermProjectAddSeries}},
		{ID: RoleModeratorID, Name: "Moderator", Scope: ScopeProject, Builtin: true, Editable: true, Deletable: false,
			Permissions: []string{PermProjectModerate}},
	}
}

// BuiltinFolderType returns the folder type every installation starts with.
func BuiltinFolderType() FolderType {
	return FolderType{ID: FolderTypeFolderID, Name: "folder", Contexts: []string{ContextRoot}}
}
