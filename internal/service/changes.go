package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// The change feed (docs/integrating.md, "The change feed"): the change
// log read in revision order, for consumers that cache decisions or mirror
// groups. A change is one committed write: its revision, time and actor
// come from the change-log row; its action names, and the prior state of
// the objects it updated, from the audit records the same transaction
// wrote (same revision, stamped no later than the commit).

// Feed limits.
const (
	// DefaultFeedLimit and MaxFeedLimit bound how many changes one read
	// scans.
	DefaultFeedLimit = 100
	MaxFeedLimit     = 1000
	// MaxFeedWait bounds a long poll, well within the server's write
	// timeout (60s).
	MaxFeedWait = 30 * time.Second
	// auditSkew is how much earlier than its commit a write's audit
	// records may be stamped (the transaction's length, and the clock
	// difference between replicas of one database).
	auditSkew = time.Hour
)

// FeedQuery asks for the changes after a revision.
type FeedQuery struct {
	After int64
	// AfterMark, when set, is the mark (domain.ChangeMark) of the change
	// at After as the consumer holds it: the read is refused with
	// ChangesDiverged when the server's change at After is another one.
	AfterMark string
	// Limit bounds the changes read from the log (DefaultFeedLimit when
	// 0); the filters below may keep fewer.
	Limit int
	// Wait, when no change follows After yet, is how long to wait for one.
	Wait time.Duration
	// Filters: a change is kept when one of its objects matches all of
	// them, and only its matching objects are kept.
	Entity    string // an entity kind: user, group, membership, ...
	Action    string // an audit action name: the change is kept whole when it has it
	GroupID   string
	ProjectID string
	UserID    string
}

// FeedObject is one object a change wrote.
type FeedObject struct {
	Entity domain.Entity
	// ID is the object's id; for a membership group_id/user_id, a project
	// grant project_id/subject_kind/subject_id, a domain grant
	// group_id/domain, a folder level folder_id/group_id, a setting its key.
	ID string
	Op domain.Op
	// Before (absent for a creation) and After (absent for a delete) are
	// the object's change-log encoding.
	Before json.RawMessage
	After  json.RawMessage
}

// FeedChange is one committed write.
type FeedChange struct {
	Revision int64
	Mark     string // domain.ChangeMark: send it back as AfterMark
	At       time.Time
	ActorID  string   // empty for the system itself
	Actions  []string // the audit action names of the write
	Objects  []FeedObject
}

// FeedPage is what one read of the feed answers.
type FeedPage struct {
	Changes []FeedChange
	// Next is the revision to ask after next time: the last change read,
	// kept by the filters or not; NextMark is its mark ("" while Next is
	// After and the log does not hold After).
	Next     int64
	NextMark string
}

// ChangesGone answers a read after a revision the change log no longer
// holds: the consumer must resync from a snapshot, then follow from there.
type ChangesGone struct{ Oldest int64 }

func (g *ChangesGone) Error() string {
	return fmt.Sprintf("the changes after this revision are no longer retained; the oldest available is %d: resync from a snapshot", g.Oldest)
}

// Unwrap gives ChangesGone a kind for transports that know no better.
func (g *ChangesGone) Unwrap() error { return &domain.Error{Kind: domain.KindNotFound} }

// ChangesDiverged answers a read whose consumer holds a history the
// server does not have: After is beyond the newest revision, or the
// change at After is not the one the consumer holds (AfterMark). The
// database was restored to an older revision (a backup, a failover that
// lost commits); the consumer must reload a snapshot.
type ChangesDiverged struct {
	After int64
	// Beyond is set when After is beyond Head, the newest revision;
	// otherwise the change at After differs.
	Beyond bool
	Head   int64
}

func (d *ChangesDiverged) Error() string {
	if d.Beyond {
		return fmt.Sprintf("history diverged: revision %d is beyond the newest revision, %d (the database was restored to an older revision?): reload from a snapshot", d.After, d.Head)
	}
	return fmt.Sprintf("history diverged: the change at revision %d is not the one you hold (the database was restored to an older revision?): reload from a snapshot", d.After)
}

// Unwrap gives ChangesDiverged a kind for transports that know no better.
func (d *ChangesDiverged) Unwrap() error { return &domain.Error{Kind: domain.KindConflict} }

// Changes reads the change feed (changes.read): the changes after
// q.After in revision order, waiting up to q.Wait for the next one.
func (s *Service) Changes(ctx context.Context, c Caller, q FeedQuery) (FeedPage, error) {
	const op = "service.Changes"
	p, err := s.reader(op, c)
	if err != nil {
		return FeedPage{}, err
	}
	if !p.has(domain.PermChangesRead) {
		return FeedPage{}, forbidden(op, "missing permission %s", domain.PermChangesRead)
	}
	if err := q.validate(op); err != nil {
		return FeedPage{}, err
	}
	log, mark, err := s.readFeed(ctx, q)
	if err == nil && len(log) == 0 && q.Wait > 0 {
		// The follower hears of commits (notifications, polls); waiting on
		// it reads nothing while nothing happens.
		werr := s.f.WaitFor(ctx, q.After+1, q.Wait)
		if domain.Is(werr, domain.KindUnavailable) {
			return FeedPage{Next: q.After, NextMark: mark}, nil // nothing came within the wait
		}
		if werr != nil {
			return FeedPage{}, domain.E(op, werr)
		}
		log, mark, err = s.readFeed(ctx, q)
	}
	if err != nil {
		return FeedPage{}, domain.E(op, err)
	}
	if len(log) == 0 {
		return FeedPage{Next: q.After, NextMark: mark}, nil
	}
	first, last := log[0], log[len(log)-1]
	audit, err := s.st.ListChangeAudit(ctx, q.After, last.Revision, first.At.Add(-auditSkew), last.At)
	if err != nil {
		return FeedPage{}, domain.E(op, err)
	}
	byRev := map[int64][]domain.AuditEvent{}
	for _, e := range audit {
		byRev[e.Revision] = append(byRev[e.Revision], e)
	}
	page := FeedPage{Changes: []FeedChange{}, Next: last.Revision, NextMark: domain.ChangeMark(last)}
	for _, ch := range log {
		fc := feedChange(p, ch, byRev[ch.Revision], q)
		if len(fc.Objects) > 0 && (q.Action == "" || slices.Contains(fc.Actions, q.Action)) {
			page.Changes = append(page.Changes, fc)
		}
	}
	return page, nil
}

// readFeed reads up to q.Limit changes after q.After, having proven that
// the consumer's history is the server's (docs/integrating.md, "A
// restored database"): After is not beyond the newest revision, and the
// change at After has the consumer's AfterMark when one is given. It
// reads from After itself for that, and returns the change's mark ("" when
// the log no longer holds it, or After is 0). A consumer that sends a mark
// for a revision no longer retained cannot be proven current: ChangesGone.
func (s *Service) readFeed(ctx context.Context, q FeedQuery) ([]domain.Change, string, error) {
	from, extra := max(q.After-1, 0), min(q.After, 1)
	log, err := s.st.ReadChanges(ctx, from, q.Limit+int(extra))
	if err != nil {
		return nil, "", err
	}
	mark := ""
	switch {
	case q.After > 0 && len(log) > 0 && log[0].Revision == q.After:
		mark = domain.ChangeMark(log[0])
		if q.AfterMark != "" && q.AfterMark != mark {
			return nil, "", &ChangesDiverged{After: q.After}
		}
		log = log[1:]
	case len(log) == 0 && q.After > 0:
		// The log holds nothing from After on: After may be beyond the head.
		head, err := s.st.Revision(ctx)
		if err != nil {
			return nil, "", err
		}
		if q.After > head {
			return nil, "", &ChangesDiverged{After: q.After, Beyond: true, Head: head}
		}
		if q.AfterMark != "" {
			return nil, "", &ChangesGone{Oldest: head + 1} // the log lost even its newest row
		}
	case len(log) > 0 && q.AfterMark != "":
		return nil, "", &ChangesGone{Oldest: log[0].Revision}
	}
	log = log[:min(len(log), q.Limit)]
	if len(log) > 0 && log[0].Revision != q.After+1 {
		return nil, "", &ChangesGone{Oldest: log[0].Revision}
	}
	return log, mark, nil
}

func (q *FeedQuery) validate(op string) error {
	if q.After < 0 {
		return invalid(op, "after", "must be a revision, 0 or more")
	}
	if q.Limit == 0 {
		q.Limit = DefaultFeedLimit
	}
	if q.Limit < 0 || q.Limit > MaxFeedLimit {
		return invalid(op, "limit", "must be between 1 and %d", MaxFeedLimit)
	}
	if q.Wait < 0 || q.Wait > MaxFeedWait {
		return invalid(op, "wait_ms", "must be between 0 and %d", MaxFeedWait.Milliseconds())
	}
	if len(q.AfterMark) > 100 {
		return invalid(op, "after_mark", "must be at most 100 characters")
	}
	if q.AfterMark != "" && q.After == 0 {
		return invalid(op, "after_mark", "names the change at after: give after too")
	}
	if len(q.Action) > 100 {
		return invalid(op, "action", "must be at most 100 characters")
	}
	if q.Entity != "" && !knownEntity(domain.Entity(q.Entity)) {
		return invalid(op, "entity", "unknown entity kind %q", q.Entity)
	}
	return nil
}

func knownEntity(e domain.Entity) bool {
	_, ok := object(domain.Mutation{Entity: e})
	return ok
}

// feedChange builds the feed's view of one change: the audit records of
// its revision by its actor written no later than the commit are the
// write's own (a later one at the same revision, such as a sign-in,
// changed nothing; a write's records are all stamped by the clock of the
// one server that ran it, before its commit).
func feedChange(p *perms, ch domain.Change, audit []domain.AuditEvent, q FeedQuery) FeedChange {
	fc := FeedChange{Revision: ch.Revision, Mark: domain.ChangeMark(ch), At: ch.At, ActorID: ch.ActorID, Actions: []string{}, Objects: []FeedObject{}}
	var own []domain.AuditEvent
	for _, e := range audit {
		if e.At.After(ch.At) || e.ActorID != ch.ActorID {
			continue
		}
		own = append(own, e)
		if !slices.Contains(fc.Actions, e.Action) {
			fc.Actions = append(fc.Actions, e.Action)
		}
	}
	for _, m := range ch.Mutations {
		if !q.matches(m) {
			continue
		}
		fc.Objects = append(fc.Objects, feedObject(p, m, own))
	}
	return fc
}

// feedObject is one mutation as the feed shows it, personal fields masked
// for the caller (R18). The prior state of an updated or deleted object
// is the audit record's "before" when that record is about this very
// object and decodes as one; otherwise a delete shows what the log holds.
func feedObject(p *perms, m domain.Mutation, audit []domain.AuditEvent) FeedObject {
	obj, _ := object(m)
	o := FeedObject{Entity: m.Entity, ID: m.ObjectID(), Op: m.Op}
	var before any
	for _, e := range audit {
		if e.TargetKind == string(m.Entity) && e.TargetID == o.ID && len(e.Before) > 0 {
			if v, ok := decodeStrict(e.Before, obj); ok {
				before = v
				break
			}
		}
	}
	if m.Op == domain.OpDelete {
		if before == nil {
			before = obj
		}
	} else {
		o.After = p.maskedJSON(obj)
	}
	if before != nil {
		o.Before = p.maskedJSON(before)
	}
	return o
}

// decodeStrict decodes raw as a value of like's type, refusing unknown
// fields: an audit record's "before" is not always the object itself (a
// group's domain list, say).
func decodeStrict(raw json.RawMessage, like any) (any, bool) {
	v := reflect.New(reflect.TypeOf(like).Elem()).Interface()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return nil, false
	}
	return v, true
}

// maskedJSON marshals an object, a user's personal fields masked.
func (p *perms) maskedJSON(v any) json.RawMessage {
	if u, ok := v.(*domain.User); ok {
		cp := *u
		p.maskUser(&cp)
		v = &cp
	}
	return asJSON(v)
}

// object returns the mutation's entity pointer, and whether its entity is
// a known one.
func object(m domain.Mutation) (any, bool) {
	switch m.Entity {
	case domain.EntityUser:
		return m.User, true
	case domain.EntityProject:
		return m.Project, true
	case domain.EntityGroup:
		return m.Group, true
	case domain.EntityMembership:
		return m.Membership, true
	case domain.EntityGroupMembership:
		return m.GroupMembership, true
	case domain.EntityRole:
		return m.Role, true
	case domain.EntityProjectGrant:
		return m.ProjectGrant, true
	case domain.EntityDomainGrant:
		return m.DomainGrant, true
	case domain.EntityFolderType:
		return m.FolderType, true
	case domain.EntityFolder:
		return m.Folder, true
	case domain.EntityFolderLevel:
		return m.FolderLevel, true
	case domain.EntityRule:
		return m.Rule, true
	case domain.EntitySetting:
		return m.Setting, true
	}
	return nil, false
}

// matches reports whether a mutation passes the query's filters.
func (q FeedQuery) matches(m domain.Mutation) bool {
	if q.Entity != "" && string(m.Entity) != q.Entity {
		return false
	}
	groups, projects, users := related(m)
	return within(q.GroupID, groups) && within(q.ProjectID, projects) && within(q.UserID, users)
}

func within(want string, ids []string) bool {
	return want == "" || slices.Contains(ids, want)
}

// related names the groups, projects and users a mutation is about.
func related(m domain.Mutation) (groups, projects, users []string) {
	switch {
	case m.User != nil:
		users = []string{m.User.ID}
	case m.Project != nil:
		projects = []string{m.Project.ID}
	case m.Group != nil:
		groups, projects = []string{m.Group.ID}, []string{m.Group.ProjectID}
	case m.Membership != nil:
		groups, users = []string{m.Membership.GroupID}, []string{m.Membership.UserID}
	case m.GroupMembership != nil:
		groups = []string{m.GroupMembership.GroupID, m.GroupMembership.MemberGroupID}
	case m.ProjectGrant != nil:
		projects = []string{m.ProjectGrant.ProjectID}
		if m.ProjectGrant.SubjectKind == domain.SubjectGroup {
			groups = []string{m.ProjectGrant.SubjectID}
		} else {
			users = []string{m.ProjectGrant.SubjectID}
		}
	case m.DomainGrant != nil:
		groups = []string{m.DomainGrant.GroupID}
	case m.Folder != nil:
		projects = []string{m.Folder.ProjectID}
	case m.FolderLevel != nil:
		groups = []string{m.FolderLevel.GroupID}
	case m.Rule != nil:
		groups = []string{m.Rule.GroupID}
	}
	return groups, projects, users
}

// pruneInterval is how often PruneChangesEvery prunes a log kept for
// retention: a quarter of it, so a row outlives it by at most a quarter,
// but not more than once a second nor less than once an hour.
func pruneInterval(retention time.Duration) time.Duration {
	return min(max(retention/4, time.Second), time.Hour)
}

// PruneChangesEvery deletes the change log's rows older than retention
// now and then, until ctx ends: the feed then answers a read after a
// pruned revision with ChangesGone, and a follower that far behind
// reloads a snapshot. It checks a quarter as often as the retention
// (between once a second and once an hour); a failure is logged and
// retried at the next tick, leaving old rows a little longer.
func (s *Service) PruneChangesEvery(ctx context.Context, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(pruneInterval(retention))
	defer t.Stop()
	for {
		n, err := s.st.PruneChanges(ctx, s.now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("pruning the change log failed", "err", err)
		case n > 0:
			log.Debug("change log pruned", "rows", n, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
