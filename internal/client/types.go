package client

import (
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// The objects the server answers with are internal/domain's types (User,
// Group, Role, Project, Folder, FolderType, ProjectGrant, FolderLevel,
// Rule, AuditEvent, APIToken): their JSON is the API's. The types below
// are the requests and the answers that exist only on the wire.

// Page is one page of a list; pass NextCursor as Cursor for the next.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListOptions page, search and sort a list.
type ListOptions struct {
	Search string // rows whose name fields contain this, case-insensitively
	Sort   string // a column: name, created_at; users: username, display_name, email
	Desc   bool
	Cursor string // NextCursor of the previous page
	Limit  int    // page size; 0: the server's default (100)
}

func (o ListOptions) values() url.Values {
	v := url.Values{}
	set(v, "search", o.Search)
	set(v, "sort", o.Sort)
	if o.Desc {
		v.Set("order", "desc")
	}
	set(v, "cursor", o.Cursor)
	if o.Limit > 0 {
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	return v
}

func set(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

// ---- authentication ----

// Session is a successful Login: who signed in and the session's absolute end.
type Session struct {
	UserID    string    `json:"user_id"`
	Username  string    `json:"username"`
	SessionID string    `json:"session_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TokenRequest asks for an API token.
type TokenRequest struct {
	UserID      string     `json:"user_id,omitempty"` // default: yourself
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions,omitempty"` // system permission keys; empty: all the user's
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`  // nil: until revoked
}

// NewToken is a created token: Secret is shown this once.
type NewToken struct {
	Secret string          `json:"secret"`
	Token  domain.APIToken `json:"token"`
}

// ---- users ----

// NewUser creates a user.
type NewUser struct {
	ID           string            `json:"id,omitempty"`
	Username     string            `json:"username"`
	Email        string            `json:"email,omitempty"`
	DisplayName  string            `json:"display_name,omitempty"`
	Source       domain.UserSource `json:"source,omitempty"`
	ExternalID   string            `json:"external_id,omitempty"`
	Password     string            `json:"password,omitempty"`
	SystemRoleID string            `json:"system_role_id,omitempty"`
}

// UserUpdate edits a user's profile; nil fields stay. Version, when not
// 0, makes the write conditional (412 when the user changed since).
type UserUpdate struct {
	Username    *string `json:"username,omitempty"`
	Email       *string `json:"email,omitempty"`
	DisplayName *string `json:"display_name,omitempty"`
	Version     int64   `json:"-"`
}

// Rights are rights on a project: a project role and/or permission keys.
type Rights struct {
	RoleID      string   `json:"role_id,omitempty"`
	Permissions []string `json:"permissions,omitempty"`
}

// ---- groups and members ----

// NewGroup creates a group; Scope is fixed from then on (R1).
type NewGroup struct {
	ID                        string       `json:"id,omitempty"`
	Name                      string       `json:"name"`
	Description               string       `json:"description,omitempty"`
	Scope                     domain.Scope `json:"scope"`
	ProjectID                 string       `json:"project_id,omitempty"`
	SystemRoleID              string       `json:"system_role_id,omitempty"`
	SystemPermissions         []string     `json:"system_permissions,omitempty"`
	DefaultProjectRoleID      string       `json:"default_project_role_id,omitempty"`
	DefaultProjectPermissions []string     `json:"default_project_permissions,omitempty"`
}

// GroupUpdate renames or describes a group; nil fields stay.
type GroupUpdate struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	Version     int64   `json:"-"`
}

// GroupQuery filters ListGroups.
type GroupQuery struct {
	ListOptions
	Scope     domain.Scope // system or project; empty: both
	ProjectID string
}

// DeleteGroupOptions are R26's and R27's choices.
type DeleteGroupOptions struct {
	Members string // project groups: keep_users (default) or remove_users
	Confirm bool   // system groups: required
	Version int64
}

// ProjectRef names a project.
type ProjectRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DeleteGroupResult says what deleting a group did.
type DeleteGroupResult struct {
	Projects []ProjectRef `json:"projects"`
	Users    []string     `json:"users"`
	Revision int64        `json:"revision"`
}

// RemoveGroupResult says what removing a system group from projects did.
type RemoveGroupResult struct {
	Projects []ProjectRef `json:"projects"`
	Users    []string     `json:"users"`
	Revision int64        `json:"revision"`
}

// MemberInput is a user to add, with an optional expiry (R6).
type MemberInput struct {
	UserID    string     `json:"user_id"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// UserProject is a user in a project.
type UserProject struct {
	UserID    string `json:"user_id"`
	ProjectID string `json:"project_id"`
}

// MembersResult is the answer to a membership change: the projects
// concerned (R24, R25) and, on adds, individual rights dropped in
// exclusive projects (R23).
type MembersResult struct {
	Users         []string      `json:"users"`
	Projects      []ProjectRef  `json:"projects"`
	RightsDropped []UserProject `json:"rights_dropped,omitempty"`
	Revision      int64         `json:"revision"`
}

// MemberQuery pages, searches and sorts a group's members (R28).
type MemberQuery struct {
	Search   string
	Sort     string // username (default), display_name, email, created_at, role
	Order    string // asc (default), desc, or none
	Cursor   string
	Limit    int
	AllUsers bool // every user, with a Member flag
	// Effective lists every member now, through nested groups too.
	Effective bool
}

// MemberRow is one row of a member list.
type MemberRow struct {
	User          domain.User    `json:"user"`
	Member        bool           `json:"member"`
	ExpiresAt     *time.Time     `json:"expires_at,omitempty"`
	RoleID        string         `json:"role_id,omitempty"`
	RoleName      string         `json:"role_name,omitempty"`
	Email         string         `json:"email,omitempty"`
	CurrentGroups []CurrentGroup `json:"current_groups,omitempty"`
	Through       []string       `json:"through,omitempty"` // effective lists: the groups between
}

// CurrentGroup is a user's single group in an exclusive project.
type CurrentGroup struct {
	ProjectID string `json:"project_id"`
	GroupID   string `json:"group_id"`
	GroupName string `json:"group_name"`
}

// ---- roles, projects, folders ----

// NewRole creates a custom role.
type NewRole struct {
	ID          string       `json:"id,omitempty"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Scope       domain.Scope `json:"scope"`
	Permissions []string     `json:"permissions"`
}

// RoleUpdate edits a role; nil fields stay.
type RoleUpdate struct {
	Name        *string   `json:"name,omitempty"`
	Description *string   `json:"description,omitempty"`
	Permissions *[]string `json:"permissions,omitempty"`
	Version     int64     `json:"-"`
}

// NewProject creates a project.
type NewProject struct {
	ID             string                `json:"id,omitempty"`
	Name           string                `json:"name"`
	Description    string                `json:"description,omitempty"`
	MembershipMode domain.MembershipMode `json:"membership_mode,omitempty"` // multiple (default) or exclusive
}

// ProjectUpdate edits a project; nil fields stay.
type ProjectUpdate struct {
	Name           *string                `json:"name,omitempty"`
	Description    *string                `json:"description,omitempty"`
	MembershipMode *domain.MembershipMode `json:"membership_mode,omitempty"`
	Version        int64                  `json:"-"`
}

// NewFolder registers a folder.
type NewFolder struct {
	ID         string            `json:"id,omitempty"`
	ParentID   string            `json:"parent_id,omitempty"`
	Name       string            `json:"name"`
	TypeID     string            `json:"type_id,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
	ProjectID  string            `json:"project_id,omitempty"`
}

// FolderUpdate renames, moves or re-describes a folder; nil fields stay.
type FolderUpdate struct {
	Name       *string            `json:"name,omitempty"`
	ParentID   *string            `json:"parent_id,omitempty"` // "" moves it to the roots
	Properties *map[string]string `json:"properties,omitempty"`
	Version    int64              `json:"-"`
}

// FolderTypeRequest creates or replaces a folder type.
type FolderTypeRequest struct {
	ID         string   `json:"id,omitempty"`
	Name       string   `json:"name"`
	Contexts   []string `json:"contexts,omitempty"`
	Properties []string `json:"properties,omitempty"`
}

// RuleRequest creates or replaces a rule (R10, R16).
type RuleRequest struct {
	ID       string              `json:"id,omitempty"`
	Name     string              `json:"name"`
	Criteria []domain.Criterion  `json:"criteria"`
	Grants   map[string][]string `json:"grants"`
}

// ---- checks ----

// Consistency is R20's demand: answer on a revision at least AtLeast
// (for example Client.Revision() after a write), waiting up to WaitMS
// milliseconds (server default 2000, at most 30000) before a 503.
type Consistency struct {
	AtLeast int64 `json:"at_least,omitempty"`
	WaitMS  int   `json:"wait_ms,omitempty"`
}

func (c Consistency) values(v url.Values) url.Values {
	if c.AtLeast > 0 {
		v.Set("at_least", strconv.FormatInt(c.AtLeast, 10))
	}
	if c.WaitMS > 0 {
		v.Set("wait_ms", strconv.Itoa(c.WaitMS))
	}
	return v
}

// CheckRequest asks whether Subject may do Permission on Resource.
// Subject is user:<id>, anonymous, or empty for the caller; Resource is
// system, project:<id>, domain:<name> or folder:<id>.
type CheckRequest struct {
	Subject    string `json:"subject,omitempty"`
	Permission string `json:"permission"`
	Resource   string `json:"resource"`
	Consistency
}

// CheckResult is a check's answer, with the revision it was computed on.
type CheckResult struct {
	Allowed  bool  `json:"allowed"`
	Revision int64 `json:"revision"`
}

// CheckItem is one check of a batch.
type CheckItem struct {
	Subject    string `json:"subject,omitempty"`
	Permission string `json:"permission"`
	Resource   string `json:"resource"`
}

// BatchResult answers one check of a batch: Allowed, or Error when that
// check alone failed (an unknown permission, user or folder).
type BatchResult struct {
	Allowed bool       `json:"allowed"`
	Error   *ItemError `json:"error,omitempty"`
}

// ItemError is a problem confined to one item of a batch.
type ItemError struct {
	Status   int    `json:"status"`
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
	Location string `json:"location,omitempty"`
}

// BatchCheckResult answers every check in order, on one revision.
type BatchCheckResult struct {
	Results  []BatchResult `json:"results"`
	Revision int64         `json:"revision"`
}

// Explanation says why a check is allowed or denied (R19).
type Explanation struct {
	Allowed     bool        `json:"allowed"`
	Revision    int64       `json:"revision"`
	Subject     string      `json:"subject"`
	Permission  string      `json:"permission"`
	Resource    string      `json:"resource"`
	Reason      string      `json:"reason,omitempty"`
	Paths       []GrantPath `json:"paths,omitempty"`
	Considered  []string    `json:"considered,omitempty"`
	Suggestions []string    `json:"suggestions,omitempty"`
}

// GrantPath is one way a permission is held: through a group (or
// individually) by a role, checkbox, project or domain grant, folder level
// or rule.
type GrantPath struct {
	GroupID    string `json:"group_id,omitempty"`
	GroupName  string `json:"group_name,omitempty"`
	Via        string `json:"via"`
	RoleID     string `json:"role_id,omitempty"`
	RoleName   string `json:"role_name,omitempty"`
	Permission string `json:"permission,omitempty"`
	FolderID   string `json:"folder_id,omitempty"`
	Level      string `json:"level,omitempty"`
	RuleID     string `json:"rule_id,omitempty"`
	RuleName   string `json:"rule_name,omitempty"`
	MatchedID  string `json:"matched_id,omitempty"`
}

// ResourcesQuery asks which resources of Kind (project, domain, folder)
// Subject may do Permission on; Under limits folders to a subtree.
type ResourcesQuery struct {
	Subject    string
	Permission string
	Kind       string
	Under      string
	Consistency
}

// Resources lists resource ids.
type Resources struct {
	Kind     string   `json:"kind"`
	IDs      []string `json:"ids"`
	Revision int64    `json:"revision"`
}

// SubjectGrant is one user allowed, with the groups through which ("" is
// the user's own grant).
type SubjectGrant struct {
	UserID   string   `json:"user_id"`
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

// Subjects lists who may do a permission on a resource.
type Subjects struct {
	Users     []SubjectGrant `json:"users"`
	Anonymous bool           `json:"anonymous"`
	Revision  int64          `json:"revision"`
}

// Effective lists every permission a subject holds on a resource.
type Effective struct {
	Subject     string   `json:"subject"`
	Resource    string   `json:"resource"`
	Permissions []string `json:"permissions"`
	Revision    int64    `json:"revision"`
}

// AuditQuery filters the audit log (newest first).
type AuditQuery struct {
	ActorID    string
	TargetKind string
	TargetID   string
	Action     string // e.g. group.create
	Since      time.Time
	Until      time.Time
	Cursor     string
	Limit      int
}
