package api

import "time"

// The bodies of the administrative writes. In an update, a nil pointer
// leaves the field as it is.

// CreateUserRequest creates a user.
type CreateUserRequest struct {
	ID           string `json:"id,omitempty" maxLength:"200" doc:"Optional: chosen by the server when absent."`
	Username     string `json:"username" maxLength:"1000"`
	Email        string `json:"email,omitempty" maxLength:"1000"`
	DisplayName  string `json:"display_name,omitempty" maxLength:"1000"`
	Source       string `json:"source,omitempty" enum:"local,scim,oidc"`
	ExternalID   string `json:"external_id,omitempty" maxLength:"1000"`
	Password     string `json:"password,omitempty" maxLength:"1024"`
	SystemRoleID string `json:"system_role_id,omitempty" maxLength:"200"`
}

// UpdateUserRequest changes a user's profile; absent fields stay.
type UpdateUserRequest struct {
	Username    *string `json:"username,omitempty" maxLength:"1000"`
	Email       *string `json:"email,omitempty" maxLength:"1000"`
	DisplayName *string `json:"display_name,omitempty" maxLength:"1000"`
}

// UserStatusRequest disables or enables a user.
type UserStatusRequest struct {
	Status string `json:"status" enum:"active,disabled" doc:"disabled users hold no permission (R11)"`
}

// PasswordRequest sets or resets a user's password.
type PasswordRequest struct {
	Password        string `json:"password" minLength:"1" maxLength:"1024" doc:"The new password: 8 to 256 characters (15 or more for administrators when the server says so), not a common password, no NUL (docs/security.md)."`
	CurrentPassword string `json:"current_password,omitempty" maxLength:"1024" doc:"Your current password: required when you change your own password, ignored when you reset someone else's."`
}

// UserRoleRequest sets a user's individual system role.
type UserRoleRequest struct {
	RoleID string `json:"role_id" maxLength:"200" doc:"A system role id, or empty for none."`
}

// PreferencesRequest sets a user's personal-information preference.
type PreferencesRequest struct {
	ShowPersonalInfo bool `json:"show_personal_info" doc:"R18: personal information is shown to you only while this is on."`
}

// RightsRequest sets rights on a project: a project role and/or permission keys.
type RightsRequest struct {
	RoleID      string   `json:"role_id,omitempty" maxLength:"200"`
	Permissions []string `json:"permissions,omitempty" maxItems:"100" doc:"Project permission keys; empty with no role keeps a member with no access."`
}

// CreateGroupRequest creates a group. The scope is fixed from now on (R1).
type CreateGroupRequest struct {
	ID                        string   `json:"id,omitempty" maxLength:"200"`
	Name                      string   `json:"name" maxLength:"1000"`
	Description               string   `json:"description,omitempty" maxLength:"10000"`
	Scope                     string   `json:"scope" enum:"system,project" doc:"Fixed at creation (R1)."`
	ProjectID                 string   `json:"project_id,omitempty" maxLength:"200" doc:"Required for a project group."`
	SystemRoleID              string   `json:"system_role_id,omitempty" maxLength:"200"`
	SystemPermissions         []string `json:"system_permissions,omitempty" maxItems:"100"`
	DefaultProjectRoleID      string   `json:"default_project_role_id,omitempty" maxLength:"200"`
	DefaultProjectPermissions []string `json:"default_project_permissions,omitempty" maxItems:"100"`
}

// UpdateGroupRequest renames or describes a group; absent fields stay.
type UpdateGroupRequest struct {
	Name        *string `json:"name,omitempty" maxLength:"1000"`
	Description *string `json:"description,omitempty" maxLength:"10000"`
}

// SystemGrantsRequest sets a system group's role and checkboxes; the
// names are the group's own fields.
type SystemGrantsRequest struct {
	SystemRoleID      string   `json:"system_role_id,omitempty" maxLength:"200"`
	SystemPermissions []string `json:"system_permissions,omitempty" maxItems:"100"`
}

// DefaultRightsRequest sets the rights a system group brings into the
// projects it is imported into; the names are the group's own fields.
type DefaultRightsRequest struct {
	DefaultProjectRoleID      string   `json:"default_project_role_id,omitempty" maxLength:"200"`
	DefaultProjectPermissions []string `json:"default_project_permissions,omitempty" maxItems:"100"`
}

// DomainsRequest replaces a group's accessible domains.
type DomainsRequest struct {
	Domains []string `json:"domains" maxItems:"1000" doc:"The group's accessible domains; replaces the list."`
}

// ImportGroupRequest imports a system group into projects.
type ImportGroupRequest struct {
	ProjectIDs []string `json:"project_ids" minItems:"1" maxItems:"1000"`
}

// RemoveGroupRequest removes a system group from projects (R27).
type RemoveGroupRequest struct {
	ProjectIDs []string `json:"project_ids" minItems:"1" maxItems:"1000"`
	Confirm    bool     `json:"confirm,omitempty" doc:"Must be true: the group's members leave these projects (R27)."`
}

// AddMembersRequest adds users to a group, or changes their expiry.
type AddMembersRequest struct {
	Members []MemberInput `json:"members" minItems:"1" maxItems:"1000"`
}

// MemberInput is one user to add, with an optional expiry (R6).
type MemberInput struct {
	UserID    string     `json:"user_id" minLength:"1" maxLength:"200"`
	ExpiresAt *time.Time `json:"expires_at,omitempty" doc:"When the membership stops counting (R6); absent for never."`
}

// RemoveMembersRequest removes users from a group.
type RemoveMembersRequest struct {
	UserIDs []string `json:"user_ids" minItems:"1" maxItems:"1000"`
}

// CreateRoleRequest creates a custom role.
type CreateRoleRequest struct {
	ID          string   `json:"id,omitempty" maxLength:"200"`
	Name        string   `json:"name" maxLength:"1000"`
	Description string   `json:"description,omitempty" maxLength:"10000"`
	Scope       string   `json:"scope" enum:"system,project"`
	Permissions []string `json:"permissions" maxItems:"100"`
}

// UpdateRoleRequest edits a role; absent fields stay.
type UpdateRoleRequest struct {
	Name        *string   `json:"name,omitempty" maxLength:"1000"`
	Description *string   `json:"description,omitempty" maxLength:"10000"`
	Permissions *[]string `json:"permissions,omitempty" maxItems:"100"`
}

// CreateProjectRequest creates a project.
type CreateProjectRequest struct {
	ID             string `json:"id,omitempty" maxLength:"200"`
	Name           string `json:"name" maxLength:"1000"`
	Description    string `json:"description,omitempty" maxLength:"10000"`
	MembershipMode string `json:"membership_mode,omitempty" enum:"multiple,exclusive" doc:"multiple (default) or exclusive (R23)."`
}

// UpdateProjectRequest edits a project; absent fields stay.
type UpdateProjectRequest struct {
	Name           *string `json:"name,omitempty" maxLength:"1000"`
	Description    *string `json:"description,omitempty" maxLength:"10000"`
	MembershipMode *string `json:"membership_mode,omitempty" enum:"multiple,exclusive" doc:"Switching to exclusive is refused while users are in several of its groups; the error lists them (R23)."`
}

// FolderTypeRequest creates or replaces a folder type.
type FolderTypeRequest struct {
	ID         string   `json:"id,omitempty" maxLength:"200"`
	Name       string   `json:"name" maxLength:"1000"`
	Contexts   []string `json:"contexts,omitempty" maxItems:"100" doc:"Security contexts; root is always added."`
	Properties []string `json:"properties,omitempty" maxItems:"100"`
}

// CreateFolderRequest registers a folder.
type CreateFolderRequest struct {
	ID         string            `json:"id,omitempty" maxLength:"200"`
	ParentID   string            `json:"parent_id,omitempty" maxLength:"200"`
	Name       string            `json:"name" maxLength:"1000"`
	TypeID     string            `json:"type_id,omitempty" maxLength:"200" doc:"Default: the built-in type folder."`
	Properties map[string]string `json:"properties,omitempty" maxProperties:"100"`
	ProjectID  string            `json:"project_id,omitempty" maxLength:"200"`
}

// UpdateFolderRequest renames, moves or re-describes a folder; absent fields stay.
type UpdateFolderRequest struct {
	Name       *string            `json:"name,omitempty" maxLength:"1000"`
	ParentID   *string            `json:"parent_id,omitempty" maxLength:"200" doc:"Move under this folder; empty string moves it to the roots. A move below itself is refused."`
	Properties *map[string]string `json:"properties,omitempty" maxProperties:"100" doc:"Replaces the properties."`
}

// LevelRequest sets a group's level on a folder (R15).
type LevelRequest struct {
	Level string `json:"level" enum:"none,view,download,edit,upload,delete,create_folder,delete_folder" doc:"none is an explicit entry that stops inheritance (R15)."`
}

// RuleRequest creates or replaces a rule (R10, R16).
type RuleRequest struct {
	ID       string              `json:"id,omitempty" maxLength:"200"`
	Name     string              `json:"name" maxLength:"1000"`
	Criteria []Criterion         `json:"criteria" maxItems:"100" doc:"Joined by AND; the description property cannot be used (R10)."`
	Grants   map[string][]string `json:"grants" maxProperties:"100" doc:"Context → actions (create, read, edit, delete, lock, view_blinded, set_blinded)."`
}

// LoginRequest signs in with a username and password.
type LoginRequest struct {
	Username string `json:"username" minLength:"1" maxLength:"1000"`
	Password string `json:"password" minLength:"1" maxLength:"1024"`
}

// TokenRequest asks for a new API token.
type TokenRequest struct {
	UserID      string     `json:"user_id,omitempty" maxLength:"200" doc:"Whose token; default yourself."`
	Name        string     `json:"name" maxLength:"1000" doc:"What the token is for."`
	Permissions []string   `json:"permissions,omitempty" maxItems:"100" doc:"Limit the token to these system permissions; empty: everything the user holds."`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}
