package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// The permission queries (check, batch check, explain, lists, effective
// permissions) as use cases: each waits for the revision asked for (R20),
// authorizes the question (docs/api.md, "Who may ask") and answers from
// the engine. Transports decode and encode; they never reach the engine.
//
// Subjects and resources come as the API writes them: a subject is
// "user:<id>", "username:<name>", "anonymous", or "" for the caller; a
// resource is "system", "project:<id>", "domain:<name>" or "folder:<id>".
// An error names the field at fault as "subject", "permission" or
// "resource" (BatchCheck: per item); transports map these names to where
// the field sits in their request.

// ResourceKind is the kind of a resource: system, project, domain or
// folder. It is the engine's vocabulary, shared so that metrics can count
// checks by kind.
type ResourceKind = engine.ResourceKind

// The resource kinds.
const (
	KindSystem  = engine.KindSystem
	KindProject = engine.KindProject
	KindDomain  = engine.KindDomain
	KindFolder  = engine.KindFolder
)

// Consistency is R20's demand: answer on a revision at least AtLeast,
// waiting at most Wait for it (0 answers at once).
type Consistency struct {
	AtLeast int64
	Wait    time.Duration
}

// NotYetError is the refusal of a query whose revision did not arrive
// within its wait: KindUnavailable, with the revision the server has.
type NotYetError struct {
	AtLeast int64
	Have    int64
	Waited  time.Duration
}

func (e *NotYetError) Error() string {
	return fmt.Sprintf("revision %d is not available yet (this server is at %d after waiting %v); retry later or with a longer wait_ms",
		e.AtLeast, e.Have, e.Waited)
}

// Unwrap gives the refusal its kind.
func (e *NotYetError) Unwrap() error { return &domain.Error{Kind: domain.KindUnavailable} }

// Revision returns the revision the engine answers at now: what a
// transport reports for an answer that computed nothing at a revision of
// its own.
func (s *Service) Revision() int64 { return s.f.Revision() }

// engineAt waits, bounded, until the engine is at c.AtLeast or later and
// returns it.
func (s *Service) engineAt(ctx context.Context, c Consistency) (*engine.Engine, error) {
	f := s.f
	if c.AtLeast <= 0 || f.Revision() >= c.AtLeast {
		return f.Engine(), nil
	}
	// WaitFor reads the log at once, then waits for the follower to
	// advance (woken by the database's notifications) instead of
	// sleeping in a loop.
	err := f.WaitFor(ctx, c.AtLeast, c.Wait)
	if err == nil {
		return f.Engine(), nil
	}
	if !domain.Is(err, domain.KindUnavailable) {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, domain.E("service.at_least", domain.KindUnavailable, ctx.Err())
	}
	return nil, &NotYetError{AtLeast: c.AtLeast, Have: f.Revision(), Waited: c.Wait}
}

// parseSubject parses a subject field: "user:<id>", "username:<name>",
// "anonymous", or empty for the caller. self reports whether it names the
// caller. A username comes back in username, for subjectNamed, which
// also authorizes the question.
func parseSubject(c Caller, text string) (sub engine.Subject, self bool, username string, err error) {
	switch {
	case text == "":
		return engine.Subject{UserID: c.UserID}, true, "", nil
	case text == "anonymous":
		sub = engine.Anonymous
	case strings.HasPrefix(text, "user:") && len(text) > len("user:"):
		sub = engine.Subject{UserID: text[len("user:"):]}
	case strings.HasPrefix(text, "username:") && strings.TrimSpace(text[len("username:"):]) != "":
		// Whether it names the caller is known only once it is looked up.
		return sub, false, strings.TrimSpace(text[len("username:"):]), nil
	default:
		return sub, false, "", domain.E("service.subject", domain.KindInvalid,
			domain.FieldError{Field: "subject", Message: fmt.Sprintf("%q must be user:<id>, username:<name>, anonymous, or empty for yourself", text)})
	}
	// What anonymous requests may do is public: anyone can find it out by
	// sending one. So asking about anonymous counts as asking about
	// yourself.
	return sub, sub.UserID == c.UserID || sub.UserID == "", "", nil
}

// subject parses a subject field and authorizes the question: asking
// about anyone but yourself needs users.view, since the answers say what
// another user may do. othersOK, when not nil, caches that verdict over
// a batch.
func (s *Service) subject(ctx context.Context, c Caller, text string, othersOK **error) (engine.Subject, error) {
	sub, self, username, err := parseSubject(c, text)
	switch {
	case err != nil || self:
		return sub, err
	case username != "":
		return s.subjectNamed(ctx, c, username)
	case othersOK == nil:
		return sub, s.authorizeQuery(c, "", true)
	}
	if *othersOK == nil {
		e := s.authorizeQuery(c, "", true)
		*othersOK = &e
	}
	return sub, **othersOK
}

// subjectNamed resolves a username subject, reading the database (an id
// is answered from memory alone). UserIDByUsername authorizes it: an
// unknown name is told only to those who may ask about others.
func (s *Service) subjectNamed(ctx context.Context, c Caller, name string) (engine.Subject, error) {
	id, err := s.UserIDByUsername(ctx, c, name)
	if domain.Is(err, domain.KindNotFound) {
		return engine.Subject{}, domain.E("service.subject", domain.KindInvalid,
			domain.FieldError{Field: "subject", Message: fmt.Sprintf("no user is named %q", name)})
	}
	if err != nil {
		return engine.Subject{}, err
	}
	return engine.Subject{UserID: id}, nil
}

func resource(text string) (engine.Resource, error) {
	r, err := engine.ParseResource(text)
	if err != nil {
		return r, domain.E("service.resource", domain.KindInvalid, domain.FieldError{Field: "resource", Message: Describe(err).Message})
	}
	return r, nil
}

// answerError words an engine error. The engine's invalid answers (a
// permission that does not fit the resource, a context the folder's type
// does not declare) concern the permission asked, so the error names
// that field, as every invalid answer does.
func answerError(err error, field string) error {
	if domain.Is(err, domain.KindInvalid) && len(domain.FieldsOf(err)) == 0 {
		return domain.E(domain.KindInvalid, domain.FieldError{Field: field, Message: Describe(err).Message})
	}
	return err
}

func subjectText(s engine.Subject) string {
	if s.UserID == "" {
		return "anonymous"
	}
	return "user:" + s.UserID
}

// ---- check ----

// CheckQuery asks whether Subject may do Permission on Resource.
type CheckQuery struct {
	Subject    string
	Permission string
	Resource   string
	Consistency
}

// Decision answers a check, with the revision it was computed on (R20).
// Kind and Took (the engine's time alone) are for metrics.
type Decision struct {
	Allowed  bool
	Revision int64
	Kind     ResourceKind
	Took     time.Duration
}

// Check answers a permission check (R20 consistency; asking about someone
// else needs users.view). It is the hot path: it allocates nothing of its
// own on success.
func (s *Service) Check(ctx context.Context, c Caller, q CheckQuery) (Decision, error) {
	eng, err := s.engineAt(ctx, q.Consistency)
	if err != nil {
		return Decision{}, err
	}
	sub, err := s.subject(ctx, c, q.Subject, nil)
	if err != nil {
		return Decision{}, err
	}
	return s.check(eng, sub, q.Permission, q.Resource, s.now())
}

// check is one check on eng.
func (s *Service) check(eng *engine.Engine, sub engine.Subject, perm, res string, now time.Time) (Decision, error) {
	r, err := resource(res)
	if err != nil {
		return Decision{}, err
	}
	start := time.Now()
	d, err := eng.Check(sub, perm, r, now)
	if err != nil {
		return Decision{}, answerError(err, "permission")
	}
	return Decision{Allowed: d.Allowed, Revision: d.Revision, Kind: r.Kind, Took: time.Since(start)}, nil
}

// ---- batch check ----

// CheckItem is one check of a batch.
type CheckItem struct {
	Subject    string
	Permission string
	Resource   string
}

// CheckItems are the checks of a batch, read in place: a transport's
// decoded request need not be copied (a batch holds up to a thousand).
type CheckItems interface {
	Len() int
	At(i int) CheckItem
}

// CheckList is a batch held as a slice.
type CheckList []CheckItem

// Len is the number of checks.
func (l CheckList) Len() int { return len(l) }

// At returns check i.
func (l CheckList) At(i int) CheckItem { return l[i] }

// BatchQuery holds checks answered in order on one revision.
type BatchQuery struct {
	Checks CheckItems
	Consistency
}

// BatchCheck answers many checks on one revision, in order, calling
// answer with each: a check that fails on its own (unknown permission,
// user or folder) comes with its error, its fields named
// checks[i].subject, checks[i].permission or checks[i].resource; the
// others are answered. The users.view verdict for questions about others
// is computed once. It returns the revision of every answer.
func (s *Service) BatchCheck(ctx context.Context, c Caller, q BatchQuery, answer func(i int, d Decision, err error)) (int64, error) {
	eng, err := s.engineAt(ctx, q.Consistency)
	if err != nil {
		return 0, err
	}
	now := s.now()
	var othersOK *error
	n := q.Checks.Len()
	ahead := func(j int) (engine.Subject, engine.Resource, bool) { return prefetchTarget(c, q.Checks.At(j)) }
	pf := eng.Prefetcher()
	for i := range n {
		pf.Before(i, n, ahead)
		ch := q.Checks.At(i)
		var d Decision
		sub, err := s.subject(ctx, c, ch.Subject, &othersOK)
		if err == nil {
			d, err = s.check(eng, sub, ch.Permission, ch.Resource, now)
		}
		if err != nil {
			err = fieldsUnder(err, fmt.Sprintf("checks[%d].", i))
		}
		answer(i, d, err)
	}
	return eng.Revision(), nil
}

// prefetchTarget is a batch check's subject and resource as the
// engine's prefetches read them (engine.Prefetcher): parsed, not
// authorized; false for one that cannot be parsed or names a user by
// username, which the check itself answers or refuses.
func prefetchTarget(c Caller, ch CheckItem) (engine.Subject, engine.Resource, bool) {
	sub, _, username, err := parseSubject(c, ch.Subject)
	if err != nil || username != "" {
		return sub, engine.Resource{}, false
	}
	r, err := engine.ParseResource(ch.Resource)
	return sub, r, err == nil
}

// fieldsUnder prefixes the field names of err: an item's fields within
// its list.
func fieldsUnder(err error, prefix string) error {
	fs := domain.FieldsOf(err)
	if len(fs) == 0 {
		return err
	}
	out := make([]domain.FieldError, len(fs))
	for i, f := range fs {
		out[i] = domain.FieldError{Field: prefix + f.Field, Message: f.Message}
	}
	return domain.E(domain.KindOf(err), out)
}

// ---- explain ----

// Explanation says why a check is allowed or denied (R19).
type Explanation struct {
	Allowed    bool
	Revision   int64
	Subject    string // user:<id> or anonymous
	Permission string
	Resource   string
	// Reason is one sentence summing the answer up.
	Reason string
	// Paths lists, for an allow, every grant path that allows it.
	Paths []Path
	// Considered lists, for a deny, what was checked; Suggestions the
	// smallest changes that would allow.
	Considered  []string
	Suggestions []string
}

// Path is one grant path: user → group or the user's own grant → grant →
// where it comes from.
type Path struct {
	GroupID   string // empty when the grant is the user's own
	GroupName string
	// Through names the groups between the user and GroupName when the
	// user is a member through nested groups, from the user's direct
	// group up; empty for a direct member.
	Through []string
	// Via is what grants it: "role", "checkbox", "project_grant",
	// "domain_grant", "folder_level", "rule" or "files_admin".
	Via        string
	RoleID     string // for role grants (system or project role)
	RoleName   string
	Permission string // the held permission that implies the checked one (R8)
	FolderID   string // for folder levels: the folder the level is set on
	Level      domain.Level
	RuleID     string // for rules: the rule that matched, and the folder it matched
	RuleName   string
	MatchedID  string
}

// Explain answers a check with its reasons (R19), under Check's rules.
func (s *Service) Explain(ctx context.Context, c Caller, q CheckQuery) (Explanation, error) {
	eng, err := s.engineAt(ctx, q.Consistency)
	if err != nil {
		return Explanation{}, err
	}
	sub, err := s.subject(ctx, c, q.Subject, nil)
	if err != nil {
		return Explanation{}, err
	}
	r, err := resource(q.Resource)
	if err != nil {
		return Explanation{}, err
	}
	x, err := eng.Explain(sub, q.Permission, r, s.now())
	if err != nil {
		return Explanation{}, answerError(err, "permission")
	}
	return explanationOf(x), nil
}

func explanationOf(x engine.Explanation) Explanation {
	out := Explanation{Allowed: x.Allowed, Revision: x.Revision, Subject: subjectText(x.Subject), Permission: x.Permission,
		Resource: x.Resource.String(), Reason: x.Reason, Considered: x.Considered, Suggestions: x.Suggestions}
	for _, p := range x.Paths {
		out.Paths = append(out.Paths, Path(p))
	}
	return out
}

// ---- lists ----

// ResourcesQuery asks which resources of Kind (project, domain or folder)
// Subject may do Permission on; for folders, Under keeps one subtree.
type ResourcesQuery struct {
	Subject    string
	Permission string
	Kind       ResourceKind
	Under      string
	Consistency
}

// ResourceList is the answer to ListResources: resource ids.
type ResourceList struct {
	IDs      []string
	Revision int64
}

// ListResources lists the resources a subject may act on, under Check's
// rules.
func (s *Service) ListResources(ctx context.Context, c Caller, q ResourcesQuery) (ResourceList, error) {
	eng, err := s.engineAt(ctx, q.Consistency)
	if err != nil {
		return ResourceList{}, err
	}
	sub, err := s.subject(ctx, c, q.Subject, nil)
	if err != nil {
		return ResourceList{}, err
	}
	ids, err := eng.ListResources(sub, q.Permission, q.Kind, q.Under, s.now())
	if err != nil {
		return ResourceList{}, answerError(err, "permission")
	}
	return ResourceList{IDs: ids, Revision: eng.Revision()}, nil
}

// SubjectsQuery asks who may do Permission on Resource.
type SubjectsQuery struct {
	Permission string
	Resource   string
	Consistency
}

// SubjectGrant is one user allowed, with the groups through which ("" is
// the user's own grant).
type SubjectGrant struct {
	UserID   string
	Username string
	Groups   []string
	// Paths names, for each group the user is in through nested groups,
	// the chain from the user's direct group up to it.
	Paths []string
}

// SubjectList answers ListSubjects; Anonymous tells whether requests
// without credentials are allowed too.
type SubjectList struct {
	Users     []SubjectGrant
	Anonymous bool
	Revision  int64
}

// ListSubjects lists the users allowed a permission on a resource. Its
// subjects are everyone, so it needs users.view.
func (s *Service) ListSubjects(ctx context.Context, c Caller, q SubjectsQuery) (SubjectList, error) {
	eng, err := s.engineAt(ctx, q.Consistency)
	if err != nil {
		return SubjectList{}, err
	}
	if err := s.authorizeQuery(c, "", true); err != nil {
		return SubjectList{}, err
	}
	r, err := resource(q.Resource)
	if err != nil {
		return SubjectList{}, err
	}
	users, anon, err := eng.ListSubjects(q.Permission, r, s.now())
	if err != nil {
		return SubjectList{}, answerError(err, "permission")
	}
	out := SubjectList{Users: make([]SubjectGrant, len(users)), Anonymous: anon, Revision: eng.Revision()}
	for i, u := range users {
		out.Users[i] = SubjectGrant{UserID: u.UserID, Username: u.Username, Groups: u.Groups, Paths: u.Paths}
	}
	return out, nil
}

// EffectiveQuery asks every permission Subject holds on Resource.
type EffectiveQuery struct {
	Subject  string
	Resource string
	Consistency
}

// Effective answers EffectivePermissions.
type Effective struct {
	Subject     string // user:<id> or anonymous
	Resource    string
	Permissions []string
	Revision    int64
}

// EffectivePermissions lists every permission a subject holds on a
// resource, under Check's rules.
func (s *Service) EffectivePermissions(ctx context.Context, c Caller, q EffectiveQuery) (Effective, error) {
	eng, sub, r, err := s.effectiveInput(ctx, c, q)
	if err != nil {
		return Effective{}, err
	}
	keys, err := eng.EffectivePermissions(sub, r, s.now())
	if err != nil {
		return Effective{}, err
	}
	return Effective{Subject: subjectText(sub), Resource: r.String(), Permissions: keys, Revision: eng.Revision()}, nil
}

func (s *Service) effectiveInput(ctx context.Context, c Caller, q EffectiveQuery) (*engine.Engine, engine.Subject, engine.Resource, error) {
	eng, err := s.engineAt(ctx, q.Consistency)
	if err != nil {
		return nil, engine.Subject{}, engine.Resource{}, err
	}
	sub, err := s.subject(ctx, c, q.Subject, nil)
	if err != nil {
		return nil, sub, engine.Resource{}, err
	}
	r, err := resource(q.Resource)
	return eng, sub, r, err
}

// Access is one permission held, with the grant paths that give it.
type Access struct {
	Permission string
	Paths      []Path
}

// EffectiveAccess is EffectivePermissions with each permission's grant
// paths, all read on one revision (the console's user page).
func (s *Service) EffectiveAccess(ctx context.Context, c Caller, q EffectiveQuery) ([]Access, error) {
	eng, sub, r, err := s.effectiveInput(ctx, c, q)
	if err != nil {
		return nil, err
	}
	now := s.now()
	keys, err := eng.EffectivePermissions(sub, r, now)
	if err != nil {
		return nil, err
	}
	out := make([]Access, 0, len(keys))
	for _, k := range keys {
		a := Access{Permission: k}
		if x, err := eng.Explain(sub, k, r, now); err == nil {
			a.Paths = explanationOf(x).Paths
		}
		out = append(out, a)
	}
	return out, nil
}
