// Package engine answers "may subject S do permission P on resource R, and
// why" from an immutable in-memory index built from a store snapshot and
// kept current by applying the change log. It implements docs/model.md §7
// (R6, R8, R11–R20) with the decisions of docs/decisions.md.
//
// The engine is pure: data in, answers out. It imports internal/domain and
// the standard library only, reads no clock (callers pass now) and does no
// I/O. Readers never block on a writer: Apply builds the next index by
// copying only what a change touches and publishes it atomically.
package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// ResourceKind is the kind of a resource.
type ResourceKind string

// Resource kinds.
const (
	KindSystem  ResourceKind = "system"
	KindProject ResourceKind = "project"
	KindDomain  ResourceKind = "domain"
	KindFolder  ResourceKind = "folder"
)

// Resource is what a permission is checked on: the system, a project, a
// named domain or a folder.
type Resource struct {
	Kind ResourceKind
	ID   string // project id, domain name or folder id; empty for the system
}

func (r Resource) String() string {
	if r.Kind == KindSystem {
		return string(KindSystem)
	}
	return string(r.Kind) + ":" + r.ID
}

// ParseResource parses "system", "project:<id>", "domain:<name>" or
// "folder:<id>".
func ParseResource(s string) (Resource, error) {
	if s == string(KindSystem) {
		return Resource{Kind: KindSystem}, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	if ok && id != "" {
		switch ResourceKind(kind) {
		case KindProject, KindDomain, KindFolder:
			return Resource{Kind: ResourceKind(kind), ID: id}, nil
		}
	}
	return Resource{}, domain.E("engine.ParseResource", domain.KindInvalid,
		fmt.Errorf("resource %q must be system, project:<id>, domain:<name> or folder:<id>", s))
}

// Subject is who asks: a user, or anonymous when UserID is empty.
type Subject struct {
	UserID string
}

// Anonymous is the subject of a request without credentials (R12).
var Anonymous = Subject{}

// Decision is the answer to a check, with the revision it was computed on (R20).
type Decision struct {
	Allowed  bool
	Revision int64
}

// Explanation says why a check is allowed or denied (R19).
type Explanation struct {
	Allowed    bool
	Revision   int64
	Subject    Subject
	Permission string
	Resource   Resource
	// Paths lists, for an allow, every grant path that allows it.
	Paths []Path
	// Considered lists, for a deny, what was checked, one line each
	// (for example "group Radiologists: no level on folder /images or above").
	Considered []string
	// Suggestions lists, for a deny, the smallest changes that would allow
	// (for example "add alice to group Radiologists", "raise the level of
	// group Radiologists on folder /images to edit").
	Suggestions []string
	// Reason is one sentence summing the answer up, e.g. that R18's
	// preference is the only reason for a deny.
	Reason string
}

// Path is one way a permission is granted: user → (group | individual) →
// grant → where it comes from.
type Path struct {
	GroupID   string // empty when the grant is the user's own
	GroupName string
	// Through names the groups between the user and GroupName when the
	// user is a member through nested groups, from the user's direct
	// group up ("XYZ radiologists" for alice → XYZ radiologists →
	// Radiologists); empty for a direct member.
	Through []string
	// Via is what grants it: "role", "checkbox", "project_grant",
	// "domain_grant", "folder_level", "rule" or "files_admin".
	Via        string
	RoleID     string // for role grants (system or project role)
	RoleName   string
	Permission string // the held permission that implies the checked one (R8), e.g. server.manage
	FolderID   string // for folder levels: the folder the level is set on (inherited from)
	Level      domain.Level
	RuleID     string // for rules: the rule that matched, and the folder it matched
	RuleName   string
	MatchedID  string
}

// SubjectGrant is one user who may, with the groups through which they may
// ("" in Groups stands for the user's own grant).
type SubjectGrant struct {
	UserID   string
	Username string
	Groups   []string
	// Paths names, for each group of Groups the user is in through nested
	// groups, the chain from the user's direct group up to it, e.g.
	// "XYZ radiologists → Radiologists".
	Paths []string
}

// Querier is what the engine answers. *Engine implements it; the reference
// evaluator (engine/reference) answers the same questions slowly, and the
// tests compare the two.
type Querier interface {
	Revision() int64
	Check(s Subject, permission string, r Resource, now time.Time) (Decision, error)
	Explain(s Subject, permission string, r Resource, now time.Time) (Explanation, error)
	// ListResources lists the ids (project ids, domain names, folder ids) of
	// every resource of kind the subject may act on with permission, sorted.
	// For folders, under ("" for all) keeps only under and its descendants.
	ListResources(s Subject, permission string, kind ResourceKind, under string, now time.Time) ([]string, error)
	// ListSubjects lists every active user allowed permission on r, sorted
	// by user id, and whether anonymous requests are allowed too.
	ListSubjects(permission string, r Resource, now time.Time) (users []SubjectGrant, anonymous bool, err error)
	// EffectivePermissions lists, sorted, every permission the subject holds
	// on r: system keys for the system, project keys for a project,
	// domain.access for a domain, <context>.<action> for each context of a
	// folder's type.
	EffectivePermissions(s Subject, r Resource, now time.Time) ([]string, error)
}

// Errors: a permission that is not in the catalog, or does not fit the
// resource's kind (project.read on the system), or a folder context the
// folder's type does not declare, is KindInvalid; an unknown user, project
// or folder is KindNotFound. Domains need no registration: any name is a
// domain, and one nobody was granted is simply denied.
