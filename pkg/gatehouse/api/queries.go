package api

// The permission queries (R19, R20).

// Consistency is R20's demand: answer on data at least this fresh.
type Consistency struct {
	AtLeast int64 `json:"at_least,omitempty" minimum:"0" doc:"Answer on a revision at least this one (R20), e.g. the revision a write answered with. The server waits for it up to wait_ms, then answers 503."`
	WaitMS  *int  `json:"wait_ms,omitempty" minimum:"0" maximum:"30000" doc:"How long to wait for at_least, in milliseconds (default 2000, at most 30000; 0 answers at once)."`
}

// CheckRequest asks whether a subject may do a permission on a resource.
type CheckRequest struct {
	Subject    string `json:"subject,omitempty" maxLength:"200" doc:"user:<id>, username:<name> (resolved from the database: slower than an id), anonymous, or empty for the caller."`
	Permission string `json:"permission" minLength:"1" maxLength:"200" doc:"A catalog key (project.read) or a folder permission <context>.<action> (root.read)."`
	Resource   string `json:"resource" minLength:"1" maxLength:"300" doc:"system, project:<id>, domain:<name> or folder:<id>."`
	Consistency
}

// CheckResponse is the answer to a check, with the revision it was computed on (R20).
type CheckResponse struct {
	Allowed bool `json:"allowed"`
	// Revision is the revision of the data the answer was computed on.
	Revision int64 `json:"revision"`
}

// CheckItem is one check of a batch.
type CheckItem struct {
	Subject    string `json:"subject,omitempty" maxLength:"200" doc:"user:<id>, username:<name> (resolved from the database: slower than an id), anonymous, or empty for the caller."`
	Permission string `json:"permission" minLength:"1" maxLength:"200"`
	Resource   string `json:"resource" minLength:"1" maxLength:"300"`
}

// BatchCheckRequest holds up to 1000 checks answered on one revision.
type BatchCheckRequest struct {
	Checks []CheckItem `json:"checks" minItems:"1" maxItems:"1000" doc:"Up to 1000 checks, answered in order on one revision."`
	Consistency
}

// BatchResult is the answer to one check of a batch: allowed, or the
// error that check alone met (an unknown permission, user or folder).
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

// BatchCheckResponse answers every check in request order.
type BatchCheckResponse struct {
	Results  []BatchResult `json:"results"`
	Revision int64         `json:"revision"`
}

// ExplainResponse says why a check is allowed or denied (R19).
type ExplainResponse struct {
	Allowed    bool   `json:"allowed"`
	Revision   int64  `json:"revision"`
	Subject    string `json:"subject"`
	Permission string `json:"permission"`
	Resource   string `json:"resource"`
	Reason     string `json:"reason,omitempty"`
	// Paths, for an allow, are every grant path that allows.
	Paths []GrantPath `json:"paths,omitempty" doc:"For an allow: every grant path that allows."`
	// Considered, for a deny, is what was checked; Suggestions are
	// changes that would allow.
	Considered  []string `json:"considered,omitempty" doc:"For a deny: what was checked."`
	Suggestions []string `json:"suggestions,omitempty" doc:"For a deny: changes that would allow."`
}

// GrantPath is one grant path: user → group or individual → grant →
// where it comes from. MatchedID, for a rule, is the folder whose
// properties matched.
type GrantPath struct {
	GroupID    string   `json:"group_id,omitempty"`
	GroupName  string   `json:"group_name,omitempty"`
	Through    []string `json:"through,omitempty" doc:"For a member through nested groups: the groups between the user and group_name, from the user's direct group up."`
	Via        string   `json:"via" doc:"role, checkbox, project_grant, domain_grant, folder_level, rule or files_admin"`
	RoleID     string   `json:"role_id,omitempty"`
	RoleName   string   `json:"role_name,omitempty"`
	Permission string   `json:"permission,omitempty"`
	FolderID   string   `json:"folder_id,omitempty"`
	Level      string   `json:"level,omitempty"`
	RuleID     string   `json:"rule_id,omitempty"`
	RuleName   string   `json:"rule_name,omitempty"`
	MatchedID  string   `json:"matched_id,omitempty"`
}

// ResourcesResponse lists resource ids the subject may act on.
type ResourcesResponse struct {
	Kind     string   `json:"kind"`
	IDs      []string `json:"ids"`
	Revision int64    `json:"revision"`
}

// SubjectGrant is one user allowed, with the groups through which ("" is the user's own grant).
type SubjectGrant struct {
	UserID   string   `json:"user_id"`
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
	Paths    []string `json:"paths,omitempty" doc:"For each group the user is in through nested groups: the chain from the user's direct group up to it."`
}

// SubjectsResponse lists who may do a permission on a resource.
type SubjectsResponse struct {
	Users     []SubjectGrant `json:"users"`
	Anonymous bool           `json:"anonymous" doc:"Whether requests without credentials are allowed too."`
	Revision  int64          `json:"revision"`
}

// EffectiveResponse lists every permission the subject holds on the resource.
type EffectiveResponse struct {
	Subject     string   `json:"subject"`
	Resource    string   `json:"resource"`
	Permissions []string `json:"permissions"`
	Revision    int64    `json:"revision"`
}
