package domain

// The JSON tags of the domain types are the storage encoding of the
// change log (its objects' before and after) and of the audit records,
// which the store keeps and replicas replay: renaming one changes what
// is stored. They are not the API's: the REST API encodes its own types
// (pkg/gatehouse/api), converted field by field, so that either can
// change without the other (docs/architecture.md, "The API's vocabulary").

import (
	"encoding/json"
	"time"
)

// UserStatus is active or disabled (R11: a disabled user has no permission).
type UserStatus string

// User statuses.
const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
)

// UserSource says where a user account comes from.
type UserSource string

// User sources.
const (
	SourceLocal UserSource = "local"
	SourceSCIM  UserSource = "scim"
	SourceOIDC  UserSource = "oidc"
)

// User is a person or service account (docs/model.md §1).
type User struct {
	ID          string     `json:"id"`
	Username    string     `json:"username"` // unique case-insensitively
	Email       string     `json:"email,omitempty"`
	DisplayName string     `json:"display_name,omitempty"`
	Status      UserStatus `json:"status"`
	Source      UserSource `json:"source"`
	ExternalID  string     `json:"external_id,omitempty"` // the identity provider's id (SCIM externalId)
	// PasswordHash is the argon2id hash for local users. It never leaves the
	// store through the change log or a snapshot.
	PasswordHash     string    `json:"-"`
	SystemRoleID     string    `json:"system_role_id,omitempty"` // individual system role [S5]
	ShowPersonalInfo bool      `json:"show_personal_info"`       // preference [C], R18
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	Version          int64     `json:"version"` // increases on every update; ETags and lost-update checks
}

// Active reports whether the user may hold any permission (R11).
func (u *User) Active() bool { return u.Status == UserActive }

// MembershipMode is how a project treats users in several of its groups.
type MembershipMode string

// Membership modes (docs/model.md §2).
const (
	ModeMultiple  MembershipMode = "multiple"
	ModeExclusive MembershipMode = "exclusive"
)

// Project is a tenant or workspace ([C] project, [S2] project, [S5] organization).
type Project struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"` // unique case-insensitively
	Description    string         `json:"description,omitempty"`
	MembershipMode MembershipMode `json:"membership_mode"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	Version        int64          `json:"version"`
}

// Builtin names a built-in group (R2); empty for ordinary groups.
type Builtin string

// The built-in groups.
const (
	BuiltinNone           Builtin = ""
	BuiltinAdministrators Builtin = "administrators"
	BuiltinEveryone       Builtin = "everyone"
	BuiltinPublic         Builtin = "public"
)

// Group is a system or project group (docs/model.md §3).
type Group struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"` // unique within its scope, case-insensitively
	Description string  `json:"description,omitempty"`
	Scope       Scope   `json:"scope"`                // ScopeSystem or ScopeProject; fixed at creation (R1)
	ProjectID   string  `json:"project_id,omitempty"` // set exactly when Scope is ScopeProject
	Builtin     Builtin `json:"builtin,omitempty"`
	ExternalID  string  `json:"external_id,omitempty"` // the identity provider's id (SCIM externalId)
	// SystemRoleID and SystemPermissions are the group's system grants:
	// its role [S5] and its checkboxes [C][Q]. Only system groups have them.
	SystemRoleID      string   `json:"system_role_id,omitempty"`
	SystemPermissions []string `json:"system_permissions,omitempty"`
	// DefaultProjectRoleID and DefaultProjectPermissions are the rights a
	// system group brings into a project it is imported into [S2].
	DefaultProjectRoleID      string    `json:"default_project_role_id,omitempty"`
	DefaultProjectPermissions []string  `json:"default_project_permissions,omitempty"`
	CreatedAt                 time.Time `json:"created_at"`
	UpdatedAt                 time.Time `json:"updated_at"`
	Version                   int64     `json:"version"`
}

// Membership puts a user in a group, optionally until ExpiresAt (R6).
type Membership struct {
	GroupID   string     `json:"group_id"`
	UserID    string     `json:"user_id"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	// Source says who made the membership: MembershipByAdministrator (an
	// administrator, SCIM, apply) or MembershipByOIDC (the group-claims
	// mapping of an OpenID Connect sign-in, which removes only its own).
	Source MembershipSource `json:"source,omitempty"`
}

// MembershipSource says who made a membership.
type MembershipSource string

// Membership sources.
const (
	MembershipByAdministrator MembershipSource = ""
	MembershipByOIDC          MembershipSource = "oidc"
)

// OIDCLink ties a user to an OpenID Connect provider's subject: the
// (Issuer, Subject) pair of the provider's ID tokens, which does not change
// when the person's email or name does (docs/authentication.md).
type OIDCLink struct {
	Issuer    string    `json:"issuer"`
	Subject   string    `json:"subject"`
	UserID    string    `json:"user_id"`
	Provider  string    `json:"provider"` // the configured provider's id at link time
	CreatedAt time.Time `json:"created_at"`
}

// ActiveAt reports whether the membership counts at instant t (R6).
func (m *Membership) ActiveAt(t time.Time) bool { return countsAt(m.ExpiresAt, t) }

// countsAt is R6: a membership counts while t < expiresAt.
func countsAt(expiresAt *time.Time, t time.Time) bool {
	return expiresAt == nil || t.Before(*expiresAt)
}

// GroupMembership puts a group (the member) in another group, optionally
// until ExpiresAt (R6): every effective member of MemberGroupID is then an
// effective member of GroupID (nested groups, docs/model.md §3). A member
// row names a user (Membership) or a group (GroupMembership).
type GroupMembership struct {
	GroupID       string     `json:"group_id"`
	MemberGroupID string     `json:"member_group_id"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

// ActiveAt reports whether the membership counts at instant t (R6).
func (m *GroupMembership) ActiveAt(t time.Time) bool { return countsAt(m.ExpiresAt, t) }

// Role is a named set of permissions of one scope [S5].
type Role struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"` // unique within its scope, case-insensitively
	Description string    `json:"description,omitempty"`
	Scope       Scope     `json:"scope"` // ScopeSystem or ScopeProject
	Permissions []string  `json:"permissions"`
	Builtin     bool      `json:"builtin"`
	Editable    bool      `json:"editable"`
	Deletable   bool      `json:"deletable"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int64     `json:"version"`
}

// SubjectKind says whether a grant is held by a user or a group.
type SubjectKind string

// Subject kinds.
const (
	SubjectUser  SubjectKind = "user"
	SubjectGroup SubjectKind = "group"
)

// ProjectGrant gives a user or a group rights on a project [C][S2]. A row,
// even with no rights, makes a user a project member; for a system group it
// marks the group present in the project.
type ProjectGrant struct {
	ProjectID   string      `json:"project_id"`
	SubjectKind SubjectKind `json:"subject_kind"`
	SubjectID   string      `json:"subject_id"`
	RoleID      string      `json:"role_id,omitempty"` // a project role
	Permissions []string    `json:"permissions,omitempty"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// DomainGrant gives a group access to a named domain [C].
type DomainGrant struct {
	GroupID string `json:"group_id"`
	Domain  string `json:"domain"`
}

// FolderType declares the security contexts and properties of folders of
// that type [S3]. Every type has the root context.
type FolderType struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"` // unique case-insensitively
	Contexts   []string  `json:"contexts"`
	Properties []string  `json:"properties,omitempty"` // the property names folders of the type may carry
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Version    int64     `json:"version"`
}

// HasContext reports whether the type declares context c.
func (t *FolderType) HasContext(c string) bool {
	for _, x := range t.Contexts {
		if x == c {
			return true
		}
	}
	return false
}

// HasProperty reports whether the type declares property name p.
func (t *FolderType) HasProperty(p string) bool {
	for _, x := range t.Properties {
		if x == p {
			return true
		}
	}
	return false
}

// Folder is a node of the resource tree that applications register (docs/model.md §6).
type Folder struct {
	ID         string            `json:"id"`
	ParentID   string            `json:"parent_id,omitempty"` // empty for a root folder
	Name       string            `json:"name"`                // unique among its siblings, case-insensitively
	TypeID     string            `json:"type_id"`
	Properties map[string]string `json:"properties,omitempty"`
	ProjectID  string            `json:"project_id,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	Version    int64             `json:"version"`
}

// FolderLevel sets a group's access level on a folder [Q]; the level is
// inherited by descendants until a nearer entry overrides it (R15).
type FolderLevel struct {
	FolderID string `json:"folder_id"`
	GroupID  string `json:"group_id"`
	Level    Level  `json:"level"`
}

// Operator compares a folder property in a rule criterion [S3].
type Operator string

// Rule criterion operators.
const (
	OpEq         Operator = "eq"
	OpNe         Operator = "ne"
	OpIn         Operator = "in"
	OpContains   Operator = "contains"
	OpStartsWith Operator = "starts_with"
	OpExists     Operator = "exists"
)

// Operators lists every operator.
func Operators() []Operator {
	return []Operator{OpEq, OpNe, OpIn, OpContains, OpStartsWith, OpExists}
}

// Criterion is one row of a rule: folders of type FolderTypeID whose
// property Property satisfies Operator against Value (or Values for in).
type Criterion struct {
	FolderTypeID string   `json:"folder_type_id"`
	Property     string   `json:"property"`
	Operator     Operator `json:"operator"`
	Value        string   `json:"value,omitempty"`
	Values       []string `json:"values,omitempty"` // for OpIn
}

// Rule grants its matrix on every folder matching all its criteria (AND),
// and on their descendants (R16) [S3].
type Rule struct {
	ID       string      `json:"id"`
	GroupID  string      `json:"group_id"`
	Name     string      `json:"name"` // unique within the group, case-insensitively
	Criteria []Criterion `json:"criteria"`
	// Grants maps a security context to the actions granted on it; actions
	// are those of RuleActions.
	Grants    map[string][]string `json:"grants"`
	CreatedAt time.Time           `json:"created_at"`
	UpdatedAt time.Time           `json:"updated_at"`
	Version   int64               `json:"version"`
}

// Setting is one installation-wide setting, where the reference systems
// disagree (for example the display name of Everyone).
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Outcome says how an audited attempt ended.
type Outcome string

// Audit outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeDenied  Outcome = "denied"
)

// AuditEvent records who did what, when, to what, with the state before and
// after (R29). Refused attempts are audited too, with OutcomeDenied.
type AuditEvent struct {
	ID         string          `json:"id"`
	Revision   int64           `json:"revision"` // the revision the event committed (or, if it changed nothing, the one current then)
	At         time.Time       `json:"at"`
	ActorID    string          `json:"actor_id,omitempty"` // empty for the system itself (bootstrap, migrations)
	ActorName  string          `json:"actor_name"`
	Action     string          `json:"action"` // e.g. "group.create"
	TargetKind string          `json:"target_kind,omitempty"`
	TargetID   string          `json:"target_id,omitempty"`
	Outcome    Outcome         `json:"outcome"`
	Before     json.RawMessage `json:"before,omitempty"` // JSON of the object before, if any
	After      json.RawMessage `json:"after,omitempty"`  // JSON of the object after, if any
	Detail     string          `json:"detail,omitempty"`
	RemoteAddr string          `json:"remote_addr,omitempty"`
}
