// Package store is the storage contract of Gatehouse: the Store and Tx
// interfaces every backend implements, and the rules each method keeps. The
// conformance suite in store/storetest holds every backend to this contract.
//
// Rules every backend keeps:
//
//   - Writes happen only inside InTx, except for the housekeeping methods
//     of Store (TouchSession, TouchAPIToken, PruneSessions; see "Sessions
//     and API tokens" below). Each write method of Tx records a
//     domain.Mutation; when the closure returns nil the backend allocates the
//     next revision, appends one change-log row holding every mutation of the
//     transaction, stamps the transaction's audit records with that
//     revision, and commits, all in the same database transaction.
//     Revisions strictly increase in commit order with no gaps: a reader
//     that sees revision N sees every change up to N.
//   - A transaction that records mutations must record at least one audit
//     event (R29); otherwise InTx fails with KindInvalid and rolls back. A
//     transaction with audit events but no mutation (a refused attempt)
//     commits its audit records under the current revision, without a
//     change-log row.
//   - A closure that returns an error or panics leaves no trace: no row, no
//     audit record, no change-log row. A panic is re-raised after rollback.
//     InTx returns the closure's error (possibly wrapped), so errors.Is and
//     domain.KindOf still see it. Change.ActorID is the ActorID of the
//     transaction's first audit record that has one.
//   - fn must not call InTx (a nested write transaction would wait for
//     the one it is inside of).
//   - Backends serialize write transactions, so KindConflict from a write
//     means a stale Version or a reference in use, never a transient
//     clash: callers do not retry it blindly; they re-read and decide.
//   - Errors are *domain.Error with a kind: KindNotFound for a missing
//     object, KindExists for a unique key taken (names compare
//     case-insensitively via domain.NameKey), KindConflict for a stale
//     Version, a reference still in use or a write-write conflict,
//     KindInvalid for a reference to a missing object or a write breaking
//     the schema's constraints, KindUnavailable when the database cannot be
//     reached. Kinds come from driver error codes, never from message text.
//   - Create* methods set CreatedAt, UpdatedAt (store clock, UTC, truncated
//     to microseconds) and Version = 1 on the object passed in. Update*
//     methods require obj.Version to equal the stored version (else
//     KindConflict), then store the object with Version+1 and a new
//     UpdatedAt, written back into obj; the stored CreatedAt is kept
//     whatever obj carries. Put* methods write store-clock times back too
//     (Membership.CreatedAt on the first put, kept on replace;
//     ProjectGrant.UpdatedAt on every put). IDs are set by the caller; an
//     empty ID gets domain.NewID(). CreateUser and UpdateUser ignore
//     PasswordHash: only SetPasswordHash writes it.
//   - Slice fields (permissions, contexts, properties, criteria) keep the
//     order they were written in.
//   - Objects are validated by the service before they reach the store; the
//     store still refuses what its schema forbids (KindInvalid).
//   - Deletes cascade as domain.Mutation documents; a delete of a missing
//     object is KindNotFound. Clearing a folder's ProjectID when its
//     project is deleted does not change the folder's Version or UpdatedAt.
//
// Sessions and API tokens (internal/authn) are not engine data, and their
// writes follow rules of their own:
//
//   - Their Tx methods (CreateSession, RevokeSession, RevokeUserSessions,
//     CreateAPIToken, RevokeAPIToken) record no domain.Mutation, so they
//     allocate no revision and never reach the change log or a snapshot,
//     as SetPasswordHash does. A transaction holding only such writes
//     commits them with its audit records under the current revision, or
//     with none: the store does not demand an audit record for them, but
//     their caller (internal/authn) audits each sign-in, sign-out, token
//     creation and revocation in the same transaction (R29).
//   - Marking a session or token as used on a request is housekeeping,
//     not a change anyone audits: Store.TouchSession and
//     Store.TouchAPIToken write outside InTx, one statement each, without
//     taking the write-transaction lock that serializes InTx, and with no
//     audit record. PruneSessions, deleting sessions long over, is the same
//     kind of write. These, PruneChanges and the webhook worker's methods below are the
//     only writes outside InTx.
//   - Only the hex SHA-256 of a secret is stored (TokenHash); the schema
//     refuses anything but 64 lower-case hex digits there (KindInvalid),
//     so a secret in clear cannot be stored by mistake. A TokenHash taken
//     is KindExists; a UserID of no user is KindInvalid.
//   - Unlike the Create* methods of engine data, CreateSession and
//     CreateAPIToken keep the times the caller sets (internal/authn
//     decides expiry with its own, injectable, clock), in UTC truncated to
//     microseconds and written back; a zero CreatedAt gets the store clock.
//     Sessions and tokens have no Version.
//   - Deleting a user deletes their sessions and tokens (no mutation).
//   - The readers return revoked and expired sessions and tokens too:
//     whether one still admits its holder is internal/authn's decision.
//
// Webhooks (internal/webhook) are not engine data either:
//
//   - Their Tx methods (CreateWebhook, UpdateWebhook, DeleteWebhook,
//     RewindWebhook) record no domain.Mutation, like the token writes;
//     their caller (internal/service) audits each in the same
//     transaction (R29).
//   - Delivering is housekeeping, like TouchSession: LeaseWebhook,
//     ReleaseWebhook, AdvanceWebhook, MarkWebhookFailing and
//     RecordWebhookDelivery write outside InTx, one statement each (two
//     for the log's trim), with no audit record. The delivery cursor thus
//     moves without a revision or a change-log row of its own.
//   - The secret is stored as given: it signs deliveries, so a hash
//     would not do. The schema refuses one shorter than 16 characters.
package store

import (
	"context"
	"io"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Store is a Gatehouse database.
type Store interface {
	Reader

	// InTx runs fn in one read-write transaction: commit when fn returns
	// nil, roll back when it returns an error or panics. It returns the
	// change committed (Revision 0 and no mutations when fn wrote nothing).
	// Backends serialize write transactions so that revisions follow
	// commit order.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) (domain.Change, error)

	// LoadSnapshot reads everything the engine needs at one revision, in
	// one consistent read.
	LoadSnapshot(ctx context.Context) (*domain.Snapshot, error)

	// StreamSnapshot reads what LoadSnapshot reads, in one consistent
	// read, handing over the revision and the domain.ChangeMark of the
	// change-log row at it ("" when the log does not hold it) to start,
	// then each object as a put mutation (put, which must not keep it)
	// instead of collecting them, so that a large state can be sent or
	// indexed without being held (the replica snapshot, the follower's
	// engine). It carries what answers a check and leaves out what none
	// reads: a user's email, display name, source, external id,
	// timestamps and version; a membership's creation time and source; a
	// folder's timestamps and version. An error of start or put ends it
	// with that error.
	StreamSnapshot(ctx context.Context, start func(revision int64, mark string) error, put func(*domain.Mutation) error) error

	// Ping reports whether the database is reachable and migrated to at
	// least the version this binary embeds (KindUnavailable otherwise). A
	// database migrated newer than the binary is accepted, so replicas can
	// be upgraded one by one after the migration ran.
	Ping(ctx context.Context) error

	// Close releases the database.
	Close() error

	// TouchSession sets a session's LastSeenAt to at, outside any
	// transaction and without an audit record (see the package doc). It
	// only moves LastSeenAt forward: an older at leaves it as it is, so
	// racing requests cannot move it back. A missing session is
	// KindNotFound. Like InTx, it must not be called from inside an InTx
	// closure (on SQLite it waits for the one write connection).
	TouchSession(ctx context.Context, id string, at time.Time) error
	// TouchAPIToken sets a token's LastUsedAt to at, as TouchSession does
	// for sessions.
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
	// PruneSessions deletes the sessions that expired, or were revoked,
	// before the instant given, outside any transaction and without an
	// audit record (their sign-in and sign-out were audited), and returns
	// how many it deleted. It keeps the sessions table from growing
	// without bound.
	PruneSessions(ctx context.Context, before time.Time) (int, error)
	// PruneChanges deletes the change-log rows committed before the
	// instant given, always keeping the newest, as housekeeping like
	// PruneSessions, and returns how many it deleted. A follower whose
	// next revision is gone reloads a snapshot; the change feed answers
	// that the revision is no longer retained.
	PruneChanges(ctx context.Context, before time.Time) (int, error)

	// The webhook delivery worker's housekeeping (see "Webhooks" in the
	// package doc): no transaction lock, no audit record, no revision.
	//
	// LeaseWebhook takes or renews the right to deliver a subscription
	// until the instant given: it succeeds when nobody holds it, owner
	// already does, or the last holder's lease ended (store clock). It
	// reports whether owner holds it now; a missing subscription is
	// KindNotFound.
	LeaseWebhook(ctx context.Context, id, owner string, until time.Time) (bool, error)
	// ReleaseWebhook gives up owner's lease, if owner holds it.
	ReleaseWebhook(ctx context.Context, id, owner string) error
	// AdvanceWebhook moves the delivery cursor from one revision to
	// another and clears the failing mark, only while owner holds an
	// unexpired lease and the cursor is still from (a redelivery or
	// another replica may have moved it); it reports whether it did.
	AdvanceWebhook(ctx context.Context, id, owner string, from, to int64) (bool, error)
	// MarkWebhookFailing records that delivery ran out of retries, with
	// the last error, while owner holds the lease.
	MarkWebhookFailing(ctx context.Context, id, owner, lastError string) error
	// RecordWebhookDelivery appends an attempt to a subscription's
	// delivery log (an empty ID gets domain.NewID(), a zero At the store
	// clock), keeping the newest MaxWebhookDeliveries of it.
	RecordWebhookDelivery(ctx context.Context, d *domain.WebhookDelivery) error

	// Dump writes a portable, gzipped copy of the database to w (the
	// format is described in docs/backup.md): every table of the schema,
	// read in one consistent read transaction while writers go on, except
	// sign-in sessions (short-lived; their holders sign in again) and the
	// migration bookkeeping (the header carries the schema version). It
	// is read column by column from the catalogue, so a column a later
	// migration adds is carried without code changes, and values are
	// normalized (integers, booleans, text, JSON as text) so that a dump
	// of one backend restores into the other. It returns the header it
	// wrote.
	Dump(ctx context.Context, w io.Writer) (DumpHeader, error)
	// Restore loads a dump written by Dump (from either backend) into
	// this database, which must be migrated and empty: no engine data, no
	// audit record, revision 0 (KindConflict otherwise). It reads the
	// whole dump and verifies its checksum and row counts before writing
	// anything (KindInvalid for a damaged or foreign file), refuses a dump
	// of a newer schema than the database's (KindInvalid), and writes
	// everything in one transaction, change log and revision included,
	// so an engine loads at the dump's revision and followers continue
	// from it.
	Restore(ctx context.Context, r io.Reader) (DumpHeader, error)
}

// DumpHeader describes a dump: the first line of the file.
type DumpHeader struct {
	Format        string           `json:"format"`         // "gatehouse-dump"
	FormatVersion int              `json:"format_version"` // 1
	SchemaVersion int64            `json:"schema_version"` // the source's migration version
	Backend       string           `json:"backend"`        // "sqlite" or "postgres"
	Revision      int64            `json:"revision"`       // the source's revision when read
	CreatedAt     time.Time        `json:"created_at"`
	Tables        map[string]int64 `json:"tables"` // row count per table
}

// Reader holds the read methods, available on the Store (each call its
// own read) and inside a transaction (reading the transaction's state).
type Reader interface {
	// Revision returns the last committed revision (0 for a new
	// database). Inside a write transaction it is the revision the
	// transaction builds on: writers are serialized, so no other commit
	// can come between it and this transaction's own.
	Revision(ctx context.Context) (int64, error)
	// ReadChanges returns the changes with revision > since, oldest first,
	// at most limit of them (limit <= 0 means a backend default of 1000).
	// Inside a write transaction it reads through the transaction's own
	// connection, so a writer holding the write lock can bring its engine
	// up to date without a second connection (which, with every pooled
	// connection held by writers queued behind that lock, would never come).
	ReadChanges(ctx context.Context, since int64, limit int) ([]domain.Change, error)
	// ListChangeAudit returns the successful audit records with a
	// revision in (after, upTo] and a time in [since, until], in the
	// order they were written: the change feed's source of action names
	// and of objects' prior states.
	ListChangeAudit(ctx context.Context, after, upTo int64, since, until time.Time) ([]domain.AuditEvent, error)

	GetUser(ctx context.Context, id string) (domain.User, error)
	// GetUserByUsername finds a user by username, case-insensitively.
	GetUserByUsername(ctx context.Context, username string) (domain.User, error)
	ListUsers(ctx context.Context, q ListQuery) (Page[domain.User], error)

	GetProject(ctx context.Context, id string) (domain.Project, error)
	ListProjects(ctx context.Context, q ListQuery) (Page[domain.Project], error)

	GetGroup(ctx context.Context, id string) (domain.Group, error)
	// ListGroups lists groups; q.ProjectID ("" for all) narrows to the
	// project groups of one project, q.Scope to one scope.
	ListGroups(ctx context.Context, q ListQuery) (Page[domain.Group], error)

	GetMembership(ctx context.Context, groupID, userID string) (domain.Membership, error)
	// ListMembers lists a group's members with their user record, ordered
	// and searched by the user's fields (R28).
	ListMembers(ctx context.Context, groupID string, q ListQuery) (Page[Member], error)
	// ListUserMemberships lists every membership of a user, expired ones
	// included, ordered by group id.
	ListUserMemberships(ctx context.Context, userID string) ([]domain.Membership, error)

	// GetGroupMembership reads one group member of a group (nested
	// groups): memberGroupID as a member of groupID.
	GetGroupMembership(ctx context.Context, groupID, memberGroupID string) (domain.GroupMembership, error)
	// ListGroupMembers lists the groups that are members of a group,
	// expired ones included, ordered by member group id.
	ListGroupMembers(ctx context.Context, groupID string) ([]domain.GroupMembership, error)
	// ListGroupParents lists the groups a group is a member of, expired
	// ones included, ordered by group id.
	ListGroupParents(ctx context.Context, groupID string) ([]domain.GroupMembership, error)

	GetRole(ctx context.Context, id string) (domain.Role, error)
	ListRoles(ctx context.Context, q ListQuery) (Page[domain.Role], error)
	// RoleHolders names the users, groups and grants that use a role (R7).
	RoleHolders(ctx context.Context, roleID string) ([]RoleHolder, error)

	GetProjectGrant(ctx context.Context, projectID string, kind domain.SubjectKind, subjectID string) (domain.ProjectGrant, error)
	// ListProjectGrants lists grants on a project (projectID set) or held by a
	// subject (subjectID set), or both narrowed, ordered by project id,
	// subject kind and subject id.
	ListProjectGrants(ctx context.Context, f GrantFilter) ([]domain.ProjectGrant, error)

	// ListDomainGrants lists a group's accessible domains, ordered by name.
	ListDomainGrants(ctx context.Context, groupID string) ([]domain.DomainGrant, error)

	GetFolderType(ctx context.Context, id string) (domain.FolderType, error)
	// ListFolderTypes lists every folder type, ordered by name.
	ListFolderTypes(ctx context.Context) ([]domain.FolderType, error)

	GetFolder(ctx context.Context, id string) (domain.Folder, error)
	// ListFolders lists the children of parentID ("" for the roots).
	ListFolders(ctx context.Context, parentID string, q ListQuery) (Page[domain.Folder], error)

	// ListFolderLevels lists levels on a folder (folderID set) or held by a
	// group (groupID set), or both narrowed, ordered by folder id, group id.
	ListFolderLevels(ctx context.Context, folderID, groupID string) ([]domain.FolderLevel, error)

	GetRule(ctx context.Context, id string) (domain.Rule, error)
	// ListRules lists a group's rules, ordered by name.
	ListRules(ctx context.Context, groupID string) ([]domain.Rule, error)

	GetSetting(ctx context.Context, key string) (domain.Setting, error)

	// ListAudit lists audit events, newest first (by At, then id, descending).
	ListAudit(ctx context.Context, q AuditQuery) (Page[domain.AuditEvent], error)

	// GetSessionByHash finds a session by the hex SHA-256 of its secret
	// (KindNotFound when none), revoked and expired ones included.
	GetSessionByHash(ctx context.Context, tokenHash string) (domain.Session, error)
	// GetAPIToken finds a token by id, revoked and expired ones included.
	GetAPIToken(ctx context.Context, id string) (domain.APIToken, error)
	// GetAPITokenByHash finds a token by the hex SHA-256 of its secret
	// (KindNotFound when none), revoked and expired ones included.
	GetAPITokenByHash(ctx context.Context, tokenHash string) (domain.APIToken, error)
	// ListAPITokens lists a user's tokens, revoked and expired ones
	// included, oldest first (by CreatedAt, then id); none for a missing
	// user.
	ListAPITokens(ctx context.Context, userID string) ([]domain.APIToken, error)

	// GetWebhook finds a subscription by id, its delivery state included.
	GetWebhook(ctx context.Context, id string) (domain.Webhook, error)
	// ListWebhooks lists every subscription, ordered by name (NameKey),
	// then id.
	ListWebhooks(ctx context.Context) ([]domain.Webhook, error)
	// ListWebhookDeliveries lists a subscription's delivery log, newest
	// first, at most limit entries (limit <= 0: MaxWebhookDeliveries).
	ListWebhookDeliveries(ctx context.Context, webhookID string, limit int) ([]domain.WebhookDelivery, error)
	// GetOIDCLink finds the user linked to an OpenID Connect provider's
	// subject (KindNotFound when none).
	GetOIDCLink(ctx context.Context, issuer, subject string) (domain.OIDCLink, error)
	// ListOIDCLinks lists a user's links, ordered by issuer and subject.
	ListOIDCLinks(ctx context.Context, userID string) ([]domain.OIDCLink, error)
}

// MaxWebhookDeliveries is how many entries of its delivery log a
// subscription keeps.
const MaxWebhookDeliveries = 500

// Tx is a read-write transaction. Every write of engine data records its
// mutation (SetPasswordHash and the session and token writes record none).
type Tx interface {
	Reader

	CreateUser(ctx context.Context, u *domain.User) error
	UpdateUser(ctx context.Context, u *domain.User) error
	// SetPasswordHash replaces a user's password hash (KindNotFound for a
	// missing user). It records no mutation (the hash never enters the
	// change log) but the caller still audits it.
	SetPasswordHash(ctx context.Context, userID, hash string) error
	DeleteUser(ctx context.Context, id string) error

	CreateProject(ctx context.Context, p *domain.Project) error
	UpdateProject(ctx context.Context, p *domain.Project) error
	DeleteProject(ctx context.Context, id string) error

	CreateGroup(ctx context.Context, g *domain.Group) error
	// UpdateGroup stores every field but Scope, ProjectID and Builtin,
	// which never change (R1); a change to them is KindInvalid.
	UpdateGroup(ctx context.Context, g *domain.Group) error
	DeleteGroup(ctx context.Context, id string) error

	// PutMembership adds a membership or replaces its expiry.
	PutMembership(ctx context.Context, m *domain.Membership) error
	DeleteMembership(ctx context.Context, groupID, userID string) error
	// PutGroupMembership adds a group as a member of another group, or
	// replaces its expiry. Cycles are the service's to refuse.
	PutGroupMembership(ctx context.Context, m *domain.GroupMembership) error
	DeleteGroupMembership(ctx context.Context, groupID, memberGroupID string) error

	// CreateOIDCLink links a user to an OpenID Connect subject (KindExists
	// when the subject is linked already). Like sessions it records no
	// mutation; the caller audits it. A user's links go with the user.
	CreateOIDCLink(ctx context.Context, l *domain.OIDCLink) error

	CreateRole(ctx context.Context, r *domain.Role) error
	UpdateRole(ctx context.Context, r *domain.Role) error
	// DeleteRole is KindConflict while RoleHolders is not empty.
	DeleteRole(ctx context.Context, id string) error

	// PutProjectGrant creates or replaces a grant.
	PutProjectGrant(ctx context.Context, g *domain.ProjectGrant) error
	DeleteProjectGrant(ctx context.Context, projectID string, kind domain.SubjectKind, subjectID string) error

	PutDomainGrant(ctx context.Context, g *domain.DomainGrant) error
	DeleteDomainGrant(ctx context.Context, groupID, domainName string) error

	CreateFolderType(ctx context.Context, t *domain.FolderType) error
	UpdateFolderType(ctx context.Context, t *domain.FolderType) error
	// DeleteFolderType is KindConflict while folders or rules use the type.
	DeleteFolderType(ctx context.Context, id string) error

	CreateFolder(ctx context.Context, f *domain.Folder) error
	// UpdateFolder renames, moves (ParentID), retypes or changes
	// properties. A move below the folder itself or one of its descendants
	// is KindInvalid.
	UpdateFolder(ctx context.Context, f *domain.Folder) error
	DeleteFolder(ctx context.Context, id string) error

	// PutFolderLevel creates or replaces a group's level on a folder.
	PutFolderLevel(ctx context.Context, l *domain.FolderLevel) error
	DeleteFolderLevel(ctx context.Context, folderID, groupID string) error

	CreateRule(ctx context.Context, r *domain.Rule) error
	UpdateRule(ctx context.Context, r *domain.Rule) error
	DeleteRule(ctx context.Context, id string) error

	PutSetting(ctx context.Context, s *domain.Setting) error

	// CreateSession stores a new session (see "Sessions and API tokens"
	// in the package doc). An empty ID gets domain.NewID(); a zero
	// CreatedAt gets the store clock, a zero LastSeenAt CreatedAt; a zero
	// ExpiresAt is KindInvalid (every session ends); RevokedAt is ignored.
	CreateSession(ctx context.Context, s *domain.Session) error
	// RevokeSession marks a session revoked at the store clock's time
	// (sign-out). Revoking a revoked session keeps its first RevokedAt
	// and is not an error; a missing session is KindNotFound.
	RevokeSession(ctx context.Context, id string) error
	// RevokeUserSessions revokes every session of a user not yet revoked
	// (a password reset, a disabled account) and returns how many it
	// revoked; a user with none, or no such user, gives 0 and no error.
	RevokeUserSessions(ctx context.Context, userID string) (int, error)
	// CreateAPIToken stores a new token. An empty ID gets domain.NewID();
	// a zero CreatedAt gets the store clock; LastUsedAt and RevokedAt are
	// ignored (a new token is unused and valid). Permissions keep their
	// order.
	CreateAPIToken(ctx context.Context, t *domain.APIToken) error
	// RevokeAPIToken marks a token revoked at the store clock's time, as
	// RevokeSession does for sessions.
	RevokeAPIToken(ctx context.Context, id string) error

	// CreateWebhook stores a new subscription (see "Webhooks" in the
	// package doc): an empty ID gets domain.NewID(); CreatedAt, UpdatedAt
	// and Version = 1 are set as for engine data; State.Cursor is where
	// delivery starts (the other state fields are ignored). A name taken
	// (NameKey) is KindExists.
	CreateWebhook(ctx context.Context, w *domain.Webhook) error
	// UpdateWebhook stores the subscription's configuration (name, URL,
	// filter, secret, active, owner) under the Version rule of Update*
	// methods; its delivery state is left alone.
	UpdateWebhook(ctx context.Context, w *domain.Webhook) error
	// DeleteWebhook deletes a subscription and its delivery log.
	DeleteWebhook(ctx context.Context, id string) error
	// RewindWebhook sets the delivery cursor (redeliver everything after
	// it) and clears the failing mark.
	RewindWebhook(ctx context.Context, id string, cursor int64) error

	// Audit appends an audit record to the transaction (R29). The store
	// keeps e, sets its ID (if empty) and At (if zero, the store clock),
	// and writes the committed Revision into it when InTx commits. An
	// empty Outcome is KindInvalid at commit.
	Audit(ctx context.Context, e *domain.AuditEvent) error

	// Pending returns the mutations the transaction has recorded so far,
	// in order, with the cascades of deletes left implicit as in the
	// change log: what the change would be if it committed now. The
	// service's authorization kernel stages them on the engine before
	// letting the transaction commit. The caller must not modify them.
	Pending() []domain.Mutation
}

// ListQuery selects a page of a list. Lists are ordered by Sort (a column
// name the list documents; default the name, or username for users),
// compared as domain.NameKey, and then id, ascending unless Desc (which
// reverses both); the order is total, so cursors are stable across inserts
// and deletes. Root folders are siblings of one another: their names are
// unique among roots.
type ListQuery struct {
	// Search, when set, keeps rows whose name fields contain it as a
	// literal substring (% and _ are not wildcards), case-insensitively as
	// domain.NameKey folds case (users: username, display name, email).
	Search string
	// AccountOnly (R18: the caller may not see personal information)
	// searches users and members by username alone, never by the
	// personal fields (display name, email), and refuses sorting by them
	// (KindInvalid), whose order would tell what they hide.
	AccountOnly bool
	// Sort names the column: users and members sort by username,
	// display_name, email or created_at; other lists by name or created_at.
	// An unknown column is KindInvalid.
	Sort string
	Desc bool
	// Cursor is the opaque Next of the previous page ("" for the first);
	// a malformed cursor is KindInvalid.
	Cursor string
	// Limit is the page size; <= 0 means 100, and it is capped at 1000.
	Limit int
	// Scope and ProjectID narrow ListGroups and ListRoles.
	Scope     domain.Scope
	ProjectID string
}

// Page is one page of a list. Next is "" on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

// Member is a membership with the member's user record.
type Member struct {
	User       domain.User
	Membership domain.Membership
}

// RoleHolder names one use of a role.
type RoleHolder struct {
	Kind      string // "user", "group", "group_default", "project_grant"
	ID        string // the user or group id
	Name      string // the username or group name
	ProjectID string // for project grants
}

// GrantFilter narrows ListProjectGrants; at least one field is set.
type GrantFilter struct {
	ProjectID   string
	SubjectKind domain.SubjectKind
	SubjectID   string
}

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
