package service

import (
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The service's own query and answer types. Transports speak these, never
// the store's or the engine's, so that a change of storage or evaluation
// does not reach them (docs/architecture.md, the dependency rule).

// ListQuery selects a page of a list.
type ListQuery struct {
	// Search, when set, keeps rows whose name fields contain it,
	// case-insensitively (users: username, display name, email; members
	// and users are searched by username alone for a caller who may not
	// see personal information, R18).
	Search string
	// Sort names the column: users sort by username, display_name, email
	// or created_at; other lists by name or created_at. An unknown
	// column is KindInvalid.
	Sort string
	Desc bool
	// Cursor is the Next of the previous page ("" for the first).
	Cursor string
	// Limit is the page size; <= 0 means 100, and it is capped at 1000.
	Limit int
	// Scope and ProjectID narrow ListGroups and ListRoles.
	Scope     domain.Scope
	ProjectID string
}

func (q ListQuery) store() store.ListQuery {
	return store.ListQuery{Search: q.Search, Sort: q.Sort, Desc: q.Desc, Cursor: q.Cursor, Limit: q.Limit,
		Scope: q.Scope, ProjectID: q.ProjectID}
}

// Page is one page of a list. Next is "" on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

func pageOf[T any](p store.Page[T]) Page[T] { return Page[T]{Items: p.Items, Next: p.Next} }

// AuditQuery selects audit events, newest first.
type AuditQuery struct {
	ActorID    string
	TargetKind string
	TargetID   string
	Action     string
	Since      time.Time // inclusive, zero for no bound
	Until      time.Time // exclusive, zero for no bound
	Cursor     string
	Limit      int
}

func (q AuditQuery) store() store.AuditQuery {
	return store.AuditQuery{ActorID: q.ActorID, TargetKind: q.TargetKind, TargetID: q.TargetID, Action: q.Action,
		Since: q.Since, Until: q.Until, Cursor: q.Cursor, Limit: q.Limit}
}

// RoleHolder names one use of a role (R7).
type RoleHolder struct {
	Kind      string // "user", "group", "group_default", "project_grant"
	ID        string // the user or group id
	Name      string // the username or group name
	ProjectID string // for project grants
}

func roleHoldersOf(hs []store.RoleHolder) []RoleHolder {
	out := make([]RoleHolder, len(hs))
	for i, h := range hs {
		out[i] = RoleHolder(h)
	}
	return out
}

// AuditVerification is the outcome of VerifyAudit: how much of the hash
// chain was walked and, if it is broken, where.
type AuditVerification struct {
	Records    int64  // sealed records walked
	HeadSeq    int64  // the head the chain row records
	HeadHash   string //
	AnchorSeq  int64  // position of the last pruned record, 0 if none
	AnchorHash string // its hash, the genesis hash if none
	Unsealed   int64  // records without a position yet
	Break      *AuditBreak
}

// OK reports whether the chain verified.
func (v AuditVerification) OK() bool { return v.Break == nil }

// AuditBreak is the first record of the chain that does not match.
type AuditBreak struct {
	Seq      int64     // the position of the record (or, for a missing head, the head's)
	ID       string    // the record's id, empty if the record is missing
	At       time.Time // the record's time, zero if missing
	Problem  string    // what does not match, in words
	Expected string
	Found    string
}

func auditVerificationOf(v store.AuditVerification) AuditVerification {
	out := AuditVerification{Records: v.Records, HeadSeq: v.HeadSeq, HeadHash: v.HeadHash,
		AnchorSeq: v.AnchorSeq, AnchorHash: v.AnchorHash, Unsealed: v.Unsealed}
	if v.Break != nil {
		b := AuditBreak(*v.Break)
		out.Break = &b
	}
	return out
}

// FolderRule is one rule that reaches a folder, at its nearest match.
type FolderRule struct {
	RuleID, RuleName   string
	GroupID, GroupName string
	// MatchedID is the nearest folder on the path that the rule matches:
	// the folder itself, or the ancestor it inherits the grant from.
	MatchedID string
	// Grants is the rule's matrix: each context with the actions granted
	// there, in the order of domain.Actions; empty rows are left out.
	Grants map[string][]string
}

func folderRulesOf(rs []engine.FolderRule) []FolderRule {
	out := make([]FolderRule, len(rs))
	for i, r := range rs {
		out[i] = FolderRule(r)
	}
	return out
}
