package crash

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// dbState is everything verification reads from the database, in one
// go while the server is down (nothing writes then).
type dbState struct {
	rev       int64
	changes   map[int64]domain.Change
	audits    map[int64][]domain.AuditEvent
	nAudits   int
	snap      *domain.Snapshot
	replayErr error
	replayed  *engine.Engine // an empty engine that applied the whole change log
	loaded    *engine.Engine // engine.Load(StreamSnapshot), what the server builds at start
}

// readDB reads the change log, the audit log and a snapshot, and builds
// two engines from them. prev, when not nil, is the replay of an earlier
// verification of the same database: only the changes after it are
// applied to it, so that a long run does not replay its whole history
// after every kill (the whole log is still read and checked each time).
func readDB(ctx context.Context, st store.Store, prev *engine.Engine) (*dbState, error) {
	d := &dbState{changes: map[int64]domain.Change{}, audits: map[int64][]domain.AuditEvent{}}
	var err error
	if d.rev, err = st.Revision(ctx); err != nil {
		return nil, err
	}
	for since := int64(0); ; {
		cs, err := st.ReadChanges(ctx, since, 1000)
		if err != nil {
			return nil, err
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			d.changes[c.Revision] = c
			since = c.Revision
		}
	}
	for cursor := ""; ; {
		p, err := st.ListAudit(ctx, store.AuditQuery{Cursor: cursor, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, e := range p.Items {
			d.audits[e.Revision] = append(d.audits[e.Revision], e)
			d.nAudits++
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if d.snap, err = st.LoadSnapshot(ctx); err != nil {
		return nil, err
	}
	d.loaded, err = engine.Load(func(start func(int64) error, put func(*domain.Mutation) error) error {
		return st.StreamSnapshot(ctx, func(rev int64, _ string) error { return start(rev) }, put)
	})
	if err != nil {
		return nil, fmt.Errorf("engine.Load(StreamSnapshot): %w", err)
	}
	// The change log alone, replayed from an empty engine, must describe
	// the same data as the tables: a change-log row without its data (or
	// data without its row) makes the two disagree.
	from := int64(1)
	if prev != nil && prev.Revision() <= d.rev {
		d.replayed, from = prev, prev.Revision()+1
	} else {
		d.replayed, d.replayErr = engine.New(&domain.Snapshot{})
	}
	for r := from; r <= d.rev && d.replayErr == nil; r++ {
		d.replayErr = d.replayed.Apply(d.changes[r])
	}
	return d, nil
}

// logProblems checks the change log against itself and the audit log:
// revisions 1..rev with no gap, each change with mutations and with a
// successful audit record at its revision, and every successful audit
// record of an action that writes (actions seen at acknowledged writes)
// with its change-log row.
func (d *dbState) logProblems(writeActions map[string]bool) []string {
	var out []string
	if d.snap.Revision != d.rev {
		out = append(out, fmt.Sprintf("LoadSnapshot is at revision %d, the store at %d", d.snap.Revision, d.rev))
	}
	if d.loaded.Revision() != d.rev {
		out = append(out, fmt.Sprintf("the engine loaded from StreamSnapshot is at revision %d, the store at %d", d.loaded.Revision(), d.rev))
	}
	if len(d.changes) != int(d.rev) {
		out = append(out, fmt.Sprintf("the change log has %d rows for revisions 1..%d", len(d.changes), d.rev))
	}
	for r := int64(1); r <= d.rev; r++ {
		c, ok := d.changes[r]
		if !ok {
			out = append(out, fmt.Sprintf("revision %d has no change-log row", r))
			continue
		}
		if len(c.Mutations) == 0 {
			out = append(out, fmt.Sprintf("change %d has no mutations", r))
		}
		if !d.hasSuccessAudit(r) {
			out = append(out, fmt.Sprintf("change %d has no successful audit record", r))
		}
	}
	for r, es := range d.audits {
		if r > d.rev {
			out = append(out, fmt.Sprintf("%d audit records at revision %d, past the last revision %d", len(es), r, d.rev))
		}
		for _, e := range es {
			if e.Outcome == domain.OutcomeSuccess && writeActions[e.Action] {
				if _, ok := d.changes[r]; !ok {
					out = append(out, fmt.Sprintf("audit record %s (%s %s) at revision %d has no change-log row", e.ID, e.Action, e.TargetID, r))
				}
			}
		}
	}
	if d.replayErr != nil {
		out = append(out, fmt.Sprintf("replaying the change log: %v", d.replayErr))
	}
	return out
}

func (d *dbState) hasSuccessAudit(r int64) bool {
	for _, e := range d.audits[r] {
		if e.Outcome == domain.OutcomeSuccess {
			return true
		}
	}
	return false
}

// touches reports whether a change has a mutation of one of ids (group,
// rule ids) or of something hanging off one of those groups.
func touches(c domain.Change, ids map[string]bool) bool {
	for _, m := range c.Mutations {
		switch {
		case m.Group != nil && ids[m.Group.ID],
			m.Membership != nil && ids[m.Membership.GroupID],
			m.FolderLevel != nil && ids[m.FolderLevel.GroupID],
			m.Rule != nil && (ids[m.Rule.ID] || ids[m.Rule.GroupID]),
			m.ProjectGrant != nil && m.ProjectGrant.SubjectKind == domain.SubjectGroup && ids[m.ProjectGrant.SubjectID],
			m.DomainGrant != nil && ids[m.DomainGrant.GroupID]:
			return true
		}
	}
	return false
}

// auditTouches reports whether one of the audit records es is about one
// of ids: its target, or an object it records before or after (a folder
// level's audit record targets the folder and holds the group).
func auditTouches(es []domain.AuditEvent, ids map[string]bool) bool {
	for _, e := range es {
		if auditMentions(e, ids) {
			return true
		}
	}
	return false
}

func auditMentions(e domain.AuditEvent, ids map[string]bool) bool {
	if ids[e.TargetID] {
		return true
	}
	for id := range ids {
		if strings.Contains(string(e.Before), id) || strings.Contains(string(e.After), id) {
			return true
		}
	}
	return false
}

// readModel reads the part of the database the groups ids make up.
func readModel(ctx context.Context, st store.Store, ids []string) (model, error) {
	m := model{}
	for _, id := range ids {
		g, err := st.GetGroup(ctx, id)
		if domain.Is(err, domain.KindNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		gs := newGroupState()
		gs.Role, gs.Perms = g.SystemRoleID, slices.Sorted(slices.Values(g.SystemPermissions))
		for cursor := ""; ; {
			p, err := st.ListMembers(ctx, id, store.ListQuery{Cursor: cursor, Limit: 1000})
			if err != nil {
				return nil, err
			}
			for _, mb := range p.Items {
				gs.Members[mb.User.ID] = true
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		lv, err := st.ListFolderLevels(ctx, "", id)
		if err != nil {
			return nil, err
		}
		for _, l := range lv {
			gs.Levels[l.FolderID] = l.Level.String()
		}
		rs, err := st.ListRules(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			gs.Rules[r.ID] = true
		}
		m[id] = gs
	}
	return m, nil
}

// query is one question put to the server and to an engine.
type query struct {
	subject, perm, resource string
}

func (q query) engineSubject() engine.Subject {
	if q.subject == "anonymous" {
		return engine.Anonymous
	}
	return engine.Subject{UserID: q.subject[len("user:"):]}
}

// queries are the checks compared after each restart: every fixture user
// and anonymous, system permissions the load grants, and folder
// permissions the levels and rules grant, on every fixture folder.
func (fx *fixture) queries() []query {
	subjects := []string{"anonymous"}
	for _, u := range fx.users {
		subjects = append(subjects, "user:"+u)
	}
	var qs []query
	for _, s := range subjects {
		for _, p := range grantPerms {
			qs = append(qs, query{s, p, "system"})
		}
		qs = append(qs, query{s, domain.PermGroupsEdit, "system"}, query{s, domain.PermUsersEdit, "system"})
		for _, f := range fx.folders {
			for _, p := range []string{"root.read", "root.download", "root.edit", "root.create", "doc.read", "doc.edit", "doc.delete"} {
				qs = append(qs, query{s, p, "folder:" + f})
			}
		}
	}
	return qs
}

// engineAnswer is an engine's answer to q: "true", "false" or the error.
func engineAnswer(e *engine.Engine, q query, now time.Time) string {
	r, err := engine.ParseResource(q.resource)
	if err != nil {
		return "error: " + err.Error()
	}
	d, err := e.Check(q.engineSubject(), q.perm, r, now)
	if err != nil {
		return "error"
	}
	return fmt.Sprint(d.Allowed)
}

// compareEngines compares two engines on qs and on effective
// permissions and folder lists; it returns the disagreements.
func compareEngines(a, b *engine.Engine, fx *fixture, qs []query) []string {
	now := time.Now()
	var out []string
	for _, q := range qs {
		if x, y := engineAnswer(a, q, now), engineAnswer(b, q, now); x != y {
			out = append(out, fmt.Sprintf("%s %s %s: %s vs %s", q.subject, q.perm, q.resource, x, y))
		}
	}
	for _, u := range fx.users {
		s := engine.Subject{UserID: u}
		for _, res := range append([]string{"system"}, prefixed("folder:", fx.folders)...) {
			r, _ := engine.ParseResource(res)
			x, errx := a.EffectivePermissions(s, r, now)
			y, erry := b.EffectivePermissions(s, r, now)
			if (errx == nil) != (erry == nil) || !slices.Equal(sorted(x), sorted(y)) {
				out = append(out, fmt.Sprintf("effective permissions of %s on %s: %v (%v) vs %v (%v)", u, res, x, errx, y, erry))
			}
		}
	}
	return out
}

// compareServer asks the running server the queries (one batch check,
// then effective permissions and folder lists per user) and compares each
// answer with the engine built from the database.
func compareServer(ctx context.Context, c *gatehouse.Client, e *engine.Engine, fx *fixture, qs []query, rev int64) ([]string, int, error) {
	now := time.Now()
	var out []string
	n := 0
	for i := 0; i < len(qs); i += 1000 {
		chunk := qs[i:min(i+1000, len(qs))]
		items := make([]gatehouse.CheckRequest, len(chunk))
		for j, q := range chunk {
			items[j] = gatehouse.CheckRequest{Subject: q.subject, Permission: q.perm, Resource: q.resource}
		}
		res, err := c.BatchCheck(ctx, gatehouse.BatchCheckRequest{Checks: items})
		if err != nil {
			return nil, n, err
		}
		if res.Revision != rev {
			out = append(out, fmt.Sprintf("the server answers at revision %d, the database is at %d", res.Revision, rev))
		}
		for j, q := range chunk {
			got := fmt.Sprint(res.Results[j].Allowed)
			if res.Results[j].Err != nil {
				got = "error"
			}
			if want := engineAnswer(e, q, now); got != want {
				out = append(out, fmt.Sprintf("check %s %s %s: server %s, engine of the database %s", q.subject, q.perm, q.resource, got, want))
			}
			n++
		}
	}
	for _, u := range fx.users {
		s := engine.Subject{UserID: u}
		for _, res := range append([]string{"system"}, prefixed("folder:", fx.folders)...) {
			got, err := c.Effective(ctx, gatehouse.EffectiveQuery{Subject: "user:" + u, Resource: res})
			if err != nil {
				return nil, n, err
			}
			r, _ := engine.ParseResource(res)
			want, _ := e.EffectivePermissions(s, r, now)
			if !slices.Equal(sorted(got.Permissions), sorted(want)) {
				out = append(out, fmt.Sprintf("effective permissions of %s on %s: server %v, engine %v", u, res, got.Permissions, want))
			}
			n++
		}
		got, err := c.ListResources(ctx, gatehouse.ResourcesQuery{Subject: "user:" + u, Permission: "doc.read", Kind: "folder"})
		if err != nil {
			return nil, n, err
		}
		want, _ := e.ListResources(s, "doc.read", engine.KindFolder, "", now)
		if !slices.Equal(sorted(got.IDs), sorted(want)) {
			out = append(out, fmt.Sprintf("folders where %s has doc.read: server %v, engine %v", u, got.IDs, want))
		}
		n++
	}
	return out, n, nil
}

func prefixed(p string, s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = p + x
	}
	return out
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	if c == nil {
		c = []string{}
	}
	return c
}
