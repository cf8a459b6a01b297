package api

import (
	"encoding/json"
	"time"
)

// The objects the API reads and writes. Each carries Version, its ETag:
// send it back as If-Match to make a write conditional (412 when the
// object changed since).

// User is a user account.
type User struct {
	ID               string    `json:"id"`
	Username         string    `json:"username"`
	Email            string    `json:"email,omitempty"`
	DisplayName      string    `json:"display_name,omitempty"`
	Status           string    `json:"status"` // active or disabled (R11)
	Source           string    `json:"source"` // local, scim or oidc
	ExternalID       string    `json:"external_id,omitempty"`
	SystemRoleID     string    `json:"system_role_id,omitempty"`
	ShowPersonalInfo bool      `json:"show_personal_info"` // R18
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	Version          int64     `json:"version"`
}

// User statuses and sources.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
	SourceLocal  = "local"
	SourceSCIM   = "scim"
	SourceOIDC   = "oidc"
)

// Scopes of groups and roles, and project membership modes.
const (
	ScopeSystem   = "system"
	ScopeProject  = "project"
	ModeMultiple  = "multiple"
	ModeExclusive = "exclusive"
)

// Project is a project; MembershipMode is multiple or exclusive (R23).
type Project struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Description    string    `json:"description,omitempty"`
	MembershipMode string    `json:"membership_mode"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Version        int64     `json:"version"`
}

// Group is a system or project group (Scope, fixed at creation: R1).
type Group struct {
	ID                        string    `json:"id"`
	Name                      string    `json:"name"`
	Description               string    `json:"description,omitempty"`
	Scope                     string    `json:"scope"`
	ProjectID                 string    `json:"project_id,omitempty"`
	Builtin                   string    `json:"builtin,omitempty"` // administrators, everyone or public
	ExternalID                string    `json:"external_id,omitempty"`
	SystemRoleID              string    `json:"system_role_id,omitempty"`
	SystemPermissions         []string  `json:"system_permissions,omitempty"`
	DefaultProjectRoleID      string    `json:"default_project_role_id,omitempty"`
	DefaultProjectPermissions []string  `json:"default_project_permissions,omitempty"`
	CreatedAt                 time.Time `json:"created_at"`
	UpdatedAt                 time.Time `json:"updated_at"`
	Version                   int64     `json:"version"`
}

// Role is a named set of permissions of one scope (system or project).
type Role struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Scope       string    `json:"scope"`
	Permissions []string  `json:"permissions"`
	Builtin     bool      `json:"builtin"`
	Editable    bool      `json:"editable"`
	Deletable   bool      `json:"deletable"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int64     `json:"version"`
}

// ProjectGrant is the rights of a user or group (SubjectKind) in a project.
type ProjectGrant struct {
	ProjectID   string    `json:"project_id"`
	SubjectKind string    `json:"subject_kind"` // user or group
	SubjectID   string    `json:"subject_id"`
	RoleID      string    `json:"role_id,omitempty"`
	Permissions []string  `json:"permissions,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// FolderType declares the security contexts and properties of folders.
type FolderType struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Contexts   []string  `json:"contexts"`
	Properties []string  `json:"properties,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Version    int64     `json:"version"`
}

// Folder is a registered folder; ParentID is empty for a root.
type Folder struct {
	ID         string            `json:"id"`
	ParentID   string            `json:"parent_id,omitempty"`
	Name       string            `json:"name"`
	TypeID     string            `json:"type_id"`
	Properties map[string]string `json:"properties,omitempty"`
	ProjectID  string            `json:"project_id,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	Version    int64             `json:"version"`
}

// FolderLevel is a group's level on a folder (R15): none, view, download,
// edit, upload, delete, create_folder or delete_folder.
type FolderLevel struct {
	FolderID string `json:"folder_id"`
	GroupID  string `json:"group_id"`
	Level    string `json:"level"`
}

// Criterion is one condition of a rule on a folder property (R10, R16).
type Criterion struct {
	FolderTypeID string   `json:"folder_type_id"`
	Property     string   `json:"property"`
	Operator     string   `json:"operator"` // eq, ne, in, contains, starts_with or exists
	Value        string   `json:"value,omitempty"`
	Values       []string `json:"values,omitempty"` // for in
}

// Rule grants a group actions per context on the folders its criteria match.
type Rule struct {
	ID        string              `json:"id"`
	GroupID   string              `json:"group_id"`
	Name      string              `json:"name"`
	Criteria  []Criterion         `json:"criteria"`
	Grants    map[string][]string `json:"grants"`
	CreatedAt time.Time           `json:"created_at"`
	UpdatedAt time.Time           `json:"updated_at"`
	Version   int64               `json:"version"`
}

// AuditEvent is one record of the audit log.
type AuditEvent struct {
	ID         string          `json:"id"`
	Revision   int64           `json:"revision"`
	At         time.Time       `json:"at"`
	ActorID    string          `json:"actor_id,omitempty"`
	ActorName  string          `json:"actor_name"`
	Action     string          `json:"action"`
	TargetKind string          `json:"target_kind,omitempty"`
	TargetID   string          `json:"target_id,omitempty"`
	Outcome    string          `json:"outcome"` // success or denied
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	Detail     string          `json:"detail,omitempty"`
	RemoteAddr string          `json:"remote_addr,omitempty"`
}

// APIToken describes an API token; its secret is never shown again.
type APIToken struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// Page is one page of a list; pass NextCursor as cursor for the next.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty" doc:"Pass as cursor to get the next page; absent on the last page."`
}
