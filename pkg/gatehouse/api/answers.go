package api

import (
	"encoding/json"
	"time"
)

// An object answer is the object with the revision of the answer: for a
// write, the revision the change committed at (use it as at_least).

// UserBody is a user with the revision of the answer.
type UserBody struct {
	User
	Revision int64 `json:"revision,omitempty" doc:"For writes: the revision the change committed at (use it as at_least)."`
}

// GroupBody is a group with the revision of the answer.
type GroupBody struct {
	Group
	Revision int64 `json:"revision,omitempty" doc:"For writes: the revision the change committed at."`
}

// RoleBody is a role with the revision of the answer.
type RoleBody struct {
	Role
	Revision int64 `json:"revision,omitempty"`
}

// ProjectBody is a project with the revision of the answer.
type ProjectBody struct {
	Project
	Revision int64 `json:"revision,omitempty"`
}

// FolderTypeBody is a folder type with the revision of the answer.
type FolderTypeBody struct {
	FolderType
	Revision int64 `json:"revision,omitempty"`
}

// FolderBody is a folder with the revision of the answer.
type FolderBody struct {
	Folder
	Revision int64 `json:"revision,omitempty"`
}

// RuleBody is a rule with the revision of the answer.
type RuleBody struct {
	Rule
	Revision int64 `json:"revision,omitempty"`
}

// GrantBody is a project grant with the revision the change committed at.
type GrantBody struct {
	ProjectGrant
	Revision int64 `json:"revision"`
}

// LevelBody is a folder level with the revision the change committed at.
type LevelBody struct {
	FolderLevel
	Revision int64 `json:"revision"`
}

// RevisionBody carries the revision a write committed at.
type RevisionBody struct {
	Revision int64 `json:"revision" doc:"The revision the change committed at (use it as at_least)."`
}

// GrantsBody lists the grant rows on a project.
type GrantsBody struct {
	Items []ProjectGrant `json:"items"`
}

// LevelsBody lists folder levels.
type LevelsBody struct {
	Items []FolderLevel `json:"items"`
}

// RulesBody lists a group's rules.
type RulesBody struct {
	Items []Rule `json:"items"`
}

// ProjectRef names a project.
type ProjectRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// GroupRemoval says what deleting a group, or removing a system group
// from projects, did: the projects concerned and the group's members,
// kept or removed as asked (R26, R27).
type GroupRemoval struct {
	Projects []ProjectRef `json:"projects"`
	Users    []string     `json:"users"`
}

// DeleteGroupBody says what deleting a group did.
type DeleteGroupBody struct {
	GroupRemoval
	Revision int64 `json:"revision"`
}

// ProjectsBody lists projects a change concerned.
type ProjectsBody struct {
	Projects []ProjectRef `json:"projects"`
	Revision int64        `json:"revision"`
}

// RemoveGroupBody says what removing a system group from projects did:
// the projects, and the users who left them (R27).
type RemoveGroupBody struct {
	GroupRemoval
	Revision int64 `json:"revision"`
}

// DomainsBody lists a group's accessible domains.
type DomainsBody struct {
	Domains  []string `json:"domains"`
	Revision int64    `json:"revision"`
}

// UserProject is a user in a project.
type UserProject struct {
	UserID    string `json:"user_id"`
	ProjectID string `json:"project_id"`
}

// MembersChange is what a membership change did: the users, the projects
// concerned (R24, R25) and, on adds, the individual rights dropped in
// exclusive projects (R23).
type MembersChange struct {
	Users         []string      `json:"users"`
	Projects      []ProjectRef  `json:"projects"`
	RightsDropped []UserProject `json:"rights_dropped,omitempty"`
}

// MembersBody is the answer to a membership change.
type MembersBody struct {
	MembersChange
	Revision int64 `json:"revision"`
}

// MemberRow is one row of a group's member list (R28).
type MemberRow struct {
	User          User           `json:"user"`
	Member        bool           `json:"member"`
	ExpiresAt     *time.Time     `json:"expires_at,omitempty"`
	RoleID        string         `json:"role_id,omitempty"`
	RoleName      string         `json:"role_name,omitempty"`
	Email         string         `json:"email,omitempty"`
	CurrentGroups []CurrentGroup `json:"current_groups,omitempty"`
	// Through names, in an effective list, the groups between the user
	// and the group (nested groups), from the user's direct group up.
	Through []string `json:"through,omitempty"`
}

// CurrentGroup is a user's single group in an exclusive project.
type CurrentGroup struct {
	ProjectID string `json:"project_id"`
	GroupID   string `json:"group_id"`
	GroupName string `json:"group_name"`
}

// LoginResponse describes the session opened; its secret is in the cookie only.
type LoginResponse struct {
	UserID    string    `json:"user_id"`
	Username  string    `json:"username"`
	SessionID string    `json:"session_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// NewToken is a created API token: Secret is shown this once.
type NewToken struct {
	Secret string   `json:"secret"`
	Token  APIToken `json:"token"`
}

// AuditVerifyBody is the outcome of re-walking the audit hash chain
// (docs/audit.md). A broken chain is a finding, answered with 200 and ok
// false, not an error.
type AuditVerifyBody struct {
	OK         bool            `json:"ok" doc:"whether every record from the anchor to the head matches its hash and link"`
	Records    int64           `json:"records" doc:"records walked"`
	HeadSeq    int64           `json:"head_seq" doc:"the chain head's position"`
	HeadHash   string          `json:"head_hash" doc:"the chain head's hash; record it elsewhere to detect a rewritten log later"`
	AnchorSeq  int64           `json:"anchor_seq" doc:"position of the last pruned record, 0 if none"`
	AnchorHash string          `json:"anchor_hash" doc:"hash of the last pruned record"`
	Unsealed   int64           `json:"unsealed" doc:"records with no place in the chain"`
	Break      *AuditBreakBody `json:"break,omitempty" doc:"the first record that does not match"`
}

// AuditBreakBody names where the chain breaks.
type AuditBreakBody struct {
	Seq      int64      `json:"seq"`
	ID       string     `json:"id,omitempty"`
	At       *time.Time `json:"at,omitempty"`
	Problem  string     `json:"problem"`
	Expected string     `json:"expected"`
	Found    string     `json:"found"`
}

// ChangeMarkHeader is the replica snapshot's header naming the mark of
// the change at its revision (absent when the change log no longer holds
// it): a replica passes it as after_mark with its first read of the feed.
const ChangeMarkHeader = "X-Gatehouse-Change-Mark"

// ChangesBody is a page of the change feed.
type ChangesBody struct {
	Changes []FeedChange `json:"changes" doc:"In revision order; empty when nothing followed after (within wait_ms)."`
	Next    int64        `json:"next" doc:"Pass as after in the next request: the last revision read, whether the filters kept it or not."`
	// NextMark is the mark of the change at Next.
	NextMark string `json:"next_mark,omitempty" doc:"Pass as after_mark in the next request: the mark of the change at next (absent when the log no longer holds it)."`
}

// FeedChange is one committed write of the change feed.
type FeedChange struct {
	Revision int64 `json:"revision"`
	// Mark identifies this change among those that may have held its
	// revision (a database restored to an older revision reuses them).
	Mark    string       `json:"mark,omitempty" doc:"Identifies the change at its revision: pass it as after_mark with after=revision, to learn if the server's history differs (410, kind diverged)"`
	At      time.Time    `json:"at"`
	ActorID string       `json:"actor_id,omitempty" doc:"empty for the system itself"`
	Actions []string     `json:"actions" doc:"the audit action names of the write, e.g. group.member_add"`
	Objects []FeedObject `json:"objects"`
}

// FeedObject is one object a change wrote.
type FeedObject struct {
	Entity string          `json:"entity" doc:"user, project, group, membership, role, project_grant, domain_grant, folder_type, folder, folder_level, rule or setting"`
	ID     string          `json:"id" doc:"the object's id; for a membership group_id/user_id, a project grant project_id/subject_kind/subject_id, a domain grant group_id/domain, a folder level folder_id/group_id, a setting its key"`
	Op     string          `json:"op" doc:"put (created or replaced) or delete"`
	Before json.RawMessage `json:"before,omitempty" doc:"the object before the write, when known: absent for a creation"`
	After  json.RawMessage `json:"after,omitempty" doc:"the object after the write; absent for a delete"`
}
