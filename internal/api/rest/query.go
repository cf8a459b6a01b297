package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

func waitOf(ms *int) time.Duration {
	if ms == nil {
		return DefaultWait
	}
	return time.Duration(*ms) * time.Millisecond
}

// consistent waits, bounded, until the engine is at revision atLeast or
// later (R20) and returns the engine to answer with. Past the bound it
// answers 503 with the revision the server has.
func (a *API) consistent(ctx context.Context, atLeast int64, wait time.Duration) (*engine.Engine, error) {
	f := a.svc.Follower()
	if atLeast <= 0 || f.Revision() >= atLeast {
		return f.Engine(), nil
	}
	if wait > MaxWait {
		wait = MaxWait
	}
	// WaitFor reads the log at once, then waits for the follower to
	// advance (woken by the database's notifications) instead of
	// sleeping in a loop.
	err := f.WaitFor(ctx, atLeast, wait)
	if err == nil {
		return f.Engine(), nil
	}
	if !domain.Is(err, domain.KindUnavailable) {
		return nil, a.problem(err)
	}
	if ctx.Err() != nil {
		return nil, a.problem(domain.E("rest.at_least", domain.KindUnavailable, ctx.Err()))
	}
	p := newProblem(http.StatusServiceUnavailable, domain.KindUnavailable.String(),
		fmt.Sprintf("revision %d is not available yet (this server is at %d after waiting %v); retry later or with a longer wait_ms", atLeast, f.Revision(), wait))
	p.Revision = f.Revision()
	return nil, huma.ErrorWithHeaders(p, http.Header{"Retry-After": {"1"}, RevisionHeader: {fmt.Sprint(f.Revision())}})
}

// parseSubject parses a subject field: "user:<id>", "username:<name>",
// "anonymous", or empty for the caller. self reports whether it names the
// caller. A username comes back in username, for resolveUsername, which
// also authorizes the question.
func (a *API) parseSubject(c domain.Principal, s, field string) (sub engine.Subject, self bool, username string, err error) {
	switch {
	case s == "":
		return engine.Subject{UserID: c.UserID}, true, "", nil
	case s == "anonymous":
		sub = engine.Anonymous
	case strings.HasPrefix(s, "user:") && len(s) > len("user:"):
		sub = engine.Subject{UserID: strings.TrimPrefix(s, "user:")}
	case strings.HasPrefix(s, "username:") && strings.TrimSpace(s[len("username:"):]) != "":
		// Resolved and authorized by resolveUsername: whether it names the
		// caller is known only once it is looked up.
		return sub, false, strings.TrimSpace(s[len("username:"):]), nil
	default:
		return sub, false, "", a.problem(domain.E("rest.subject", domain.KindInvalid,
			domain.FieldError{Field: field, Message: fmt.Sprintf("%q must be user:<id>, username:<name>, anonymous, or empty for yourself", s)}))
	}
	// What anonymous requests may do is public: anyone can find it out by
	// sending one. So asking about anonymous counts as asking about
	// yourself.
	return sub, sub.UserID == c.UserID || sub.UserID == "", "", nil
}

// resolveUsername turns a username subject into the user's id, reading
// the database (an id is answered from memory alone). Naming yourself
// needs nothing; naming anyone else, or no one, needs what asking about
// others needs, so an unknown name is told only to those who may ask: an
// invalid subject field.
func (a *API) resolveUsername(ctx context.Context, c domain.Principal, name, field string) (engine.Subject, error) {
	id, err := a.svc.UserIDByUsername(ctx, c, name)
	if domain.Is(err, domain.KindNotFound) {
		return engine.Subject{}, a.problem(domain.E("rest.subject", domain.KindInvalid,
			domain.FieldError{Field: field, Message: fmt.Sprintf("no user is named %q", name)}))
	}
	if err != nil {
		return engine.Subject{}, a.problem(err)
	}
	return engine.Subject{UserID: id}, nil
}

// subject parses a subject field and authorizes the question: asking
// about anyone but yourself needs users.view, since the answers say what
// another user may do.
func (a *API) subject(ctx context.Context, eng *engine.Engine, s, field string) (engine.Subject, error) {
	c := caller(ctx)
	sub, self, username, err := a.parseSubject(c, s, field)
	if err != nil || self {
		return sub, err
	}
	if username != "" {
		return a.resolveUsername(ctx, c, username, field)
	}
	return sub, a.mayAskAboutOthers(c)
}

// mayAskAboutOthers applies the service's rule for questions about other
// subjects (docs/api.md, "Who may ask").
func (a *API) mayAskAboutOthers(c domain.Principal) error {
	if err := a.svc.AuthorizeQuery(c, "", true); err != nil {
		return a.problem(err)
	}
	return nil
}

// queryProblem answers an engine error. The engine's invalid answers (a
// permission that does not fit the resource, a context the folder's type
// does not declare) concern the permission asked, so the problem names
// that field, as every 422 does.
func (a *API) queryProblem(err error, field string) error {
	if domain.Is(err, domain.KindInvalid) && len(domain.FieldsOf(err)) == 0 {
		err = domain.E(domain.KindInvalid, domain.FieldError{Field: field, Message: message(err)})
	}
	return a.problem(err)
}

func (a *API) resource(s, field string) (engine.Resource, error) {
	r, err := engine.ParseResource(s)
	if err != nil {
		return r, a.problem(domain.E("rest.resource", domain.KindInvalid, domain.FieldError{Field: field, Message: message(err)}))
	}
	return r, nil
}

// ---- check ----

type checkIn struct{ Body api.CheckRequest }
type checkOut struct {
	Revisioned
	Body api.CheckResponse
}

func (a *API) check(ctx context.Context, raw *rawIn) (*checkOut, error) {
	in := &checkIn{}
	if err := decodeCheck(raw.RawBody, &in.Body); err != nil {
		return nil, err
	}
	eng, err := a.consistent(ctx, in.Body.AtLeast, waitOf(in.Body.WaitMS))
	if err != nil {
		return nil, err
	}
	sub, err := a.subject(ctx, eng, in.Body.Subject, "subject")
	if err != nil {
		return nil, err
	}
	res, err := a.resource(in.Body.Resource, "resource")
	if err != nil {
		return nil, err
	}
	start := time.Now()
	d, err := eng.Check(sub, in.Body.Permission, res, a.now())
	if err != nil {
		return nil, a.queryProblem(err, "permission")
	}
	a.checks.ObserveCheck(res.Kind, d.Allowed, time.Since(start))
	return &checkOut{Revisioned{d.Revision}, api.CheckResponse{Allowed: d.Allowed, Revision: d.Revision}}, nil
}

// ---- batch check ----

type batchIn struct{ Body api.BatchCheckRequest }
type batchOut struct {
	Revisioned
	Body api.BatchCheckResponse
}

func (a *API) batchCheck(ctx context.Context, raw *rawIn) (*batchOut, error) {
	in := &batchIn{}
	if err := decodeBatch(raw.RawBody, &in.Body); err != nil {
		return nil, err
	}
	eng, err := a.consistent(ctx, in.Body.AtLeast, waitOf(in.Body.WaitMS))
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := api.BatchCheckResponse{Results: make([]api.BatchResult, len(in.Body.Checks)), Revision: eng.Revision()}
	c := caller(ctx)
	var othersOK *error
	for i, ch := range in.Body.Checks {
		loc := func(f string) string { return fmt.Sprintf("checks[%d].%s", i, f) }
		sub, err := a.subjectFast(ctx, eng, c, ch.Subject, loc, &othersOK)
		if err == nil {
			var res engine.Resource
			if res, err = engine.ParseResource(ch.Resource); err != nil {
				err = a.problem(domain.E("rest.resource", domain.KindInvalid, domain.FieldError{Field: loc("resource"), Message: message(err)}))
			} else {
				var d engine.Decision
				start := time.Now()
				if d, err = eng.Check(sub, ch.Permission, res, now); err == nil {
					a.checks.ObserveCheck(res.Kind, d.Allowed, time.Since(start))
					out.Results[i].Allowed = d.Allowed
					continue
				}
				err = a.queryProblem(err, loc("permission"))
			}
		}
		out.Results[i].Error = itemError(err)
	}
	return &batchOut{Revisioned{out.Revision}, out}, nil
}

// subjectFast is subject with the users.view verdict computed once per batch.
func (a *API) subjectFast(ctx context.Context, eng *engine.Engine, c domain.Principal, s string, loc func(string) string, othersOK **error) (engine.Subject, error) {
	if s == "" {
		return engine.Subject{UserID: c.UserID}, nil
	}
	sub, self, username, err := a.parseSubject(c, s, loc("subject"))
	if err != nil || self {
		return sub, err
	}
	if username != "" {
		return a.resolveUsername(ctx, c, username, loc("subject"))
	}
	if *othersOK == nil {
		e := a.mayAskAboutOthers(c)
		*othersOK = &e
	}
	return sub, **othersOK
}

func itemError(err error) *api.ItemError {
	var p *Problem
	if !errors.As(err, &p) {
		return &api.ItemError{Status: http.StatusInternalServerError, Kind: "other", Detail: "internal error"}
	}
	ie := &api.ItemError{Status: p.Status, Kind: p.Kind, Detail: p.Detail}
	if len(p.Errors) > 0 {
		ie.Location = p.Errors[0].Location
		ie.Detail = p.Errors[0].Message
	}
	return ie
}

// ---- explain ----

type explainOut struct {
	Revisioned
	Body api.ExplainResponse
}

func subjectString(s engine.Subject) string {
	if s.UserID == "" {
		return "anonymous"
	}
	return "user:" + s.UserID
}

func (a *API) explain(ctx context.Context, in *checkIn) (*explainOut, error) {
	eng, err := a.consistent(ctx, in.Body.AtLeast, waitOf(in.Body.WaitMS))
	if err != nil {
		return nil, err
	}
	sub, err := a.subject(ctx, eng, in.Body.Subject, "subject")
	if err != nil {
		return nil, err
	}
	res, err := a.resource(in.Body.Resource, "resource")
	if err != nil {
		return nil, err
	}
	x, err := eng.Explain(sub, in.Body.Permission, res, a.now())
	if err != nil {
		return nil, a.queryProblem(err, "permission")
	}
	out := api.ExplainResponse{Allowed: x.Allowed, Revision: x.Revision, Subject: subjectString(x.Subject), Permission: x.Permission,
		Resource: x.Resource.String(), Reason: x.Reason, Considered: x.Considered, Suggestions: x.Suggestions}
	for _, p := range x.Paths {
		pj := api.GrantPath{GroupID: p.GroupID, GroupName: p.GroupName, Via: p.Via, RoleID: p.RoleID, RoleName: p.RoleName,
			Permission: p.Permission, FolderID: p.FolderID, RuleID: p.RuleID, RuleName: p.RuleName, MatchedID: p.MatchedID}
		if p.Via == "folder_level" {
			pj.Level = p.Level.String()
		}
		out.Paths = append(out.Paths, pj)
	}
	return &explainOut{Revisioned{x.Revision}, out}, nil
}

// ---- lists ----

// QueryConsistency is the body's consistency (api.Consistency) as query parameters.
type QueryConsistency struct {
	AtLeast int64  `query:"at_least" minimum:"0" doc:"Answer on a revision at least this one (R20)."`
	WaitMS  string `query:"wait_ms" pattern:"^[0-9]{1,5}$" patternDescription:"milliseconds" doc:"How long to wait for at_least, in milliseconds (default 2000, at most 30000; 0 answers at once)."`
}

func (q QueryConsistency) wait() (time.Duration, error) {
	if q.WaitMS == "" {
		return DefaultWait, nil
	}
	n, err := strconv.Atoi(q.WaitMS)
	if err != nil || n > int(MaxWait/time.Millisecond) {
		p := newProblem(http.StatusUnprocessableEntity, domain.KindInvalid.String(), "wait_ms must be 0 to 30000")
		p.Errors = []*api.ErrorDetail{{Location: "query.wait_ms", Message: "must be 0 to 30000 milliseconds", Value: q.WaitMS}}
		return 0, p
	}
	return time.Duration(n) * time.Millisecond, nil
}

func (a *API) consistentQuery(ctx context.Context, q QueryConsistency) (*engine.Engine, error) {
	w, err := q.wait()
	if err != nil {
		return nil, err
	}
	return a.consistent(ctx, q.AtLeast, w)
}

type resourcesIn struct {
	Subject    string `query:"subject" maxLength:"200" doc:"user:<id>, username:<name> (resolved from the database: slower than an id), anonymous, or empty for the caller."`
	Permission string `query:"permission" required:"true" minLength:"1" maxLength:"200"`
	Kind       string `query:"kind" required:"true" enum:"project,domain,folder"`
	Under      string `query:"under" maxLength:"200" doc:"For folders: only this folder and its descendants."`
	QueryConsistency
}

type resourcesOut struct {
	Revisioned
	Body api.ResourcesResponse
}

func (a *API) listResources(ctx context.Context, in *resourcesIn) (*resourcesOut, error) {
	eng, err := a.consistentQuery(ctx, in.QueryConsistency)
	if err != nil {
		return nil, err
	}
	sub, err := a.subject(ctx, eng, in.Subject, "query.subject")
	if err != nil {
		return nil, err
	}
	ids, err := eng.ListResources(sub, in.Permission, engine.ResourceKind(in.Kind), in.Under, a.now())
	if err != nil {
		return nil, a.queryProblem(err, "query.permission")
	}
	if ids == nil {
		ids = []string{}
	}
	rev := eng.Revision()
	return &resourcesOut{Revisioned{rev}, api.ResourcesResponse{Kind: in.Kind, IDs: ids, Revision: rev}}, nil
}

type subjectsIn struct {
	Permission string `query:"permission" required:"true" minLength:"1" maxLength:"200"`
	Resource   string `query:"resource" required:"true" minLength:"1" maxLength:"300"`
	QueryConsistency
}

type subjectsOut struct {
	Revisioned
	Body api.SubjectsResponse
}

func (a *API) listSubjects(ctx context.Context, in *subjectsIn) (*subjectsOut, error) {
	eng, err := a.consistentQuery(ctx, in.QueryConsistency)
	if err != nil {
		return nil, err
	}
	if err := a.mayAskAboutOthers(caller(ctx)); err != nil {
		return nil, err
	}
	res, err := a.resource(in.Resource, "query.resource")
	if err != nil {
		return nil, err
	}
	users, anon, err := eng.ListSubjects(in.Permission, res, a.now())
	if err != nil {
		return nil, a.queryProblem(err, "query.permission")
	}
	out := api.SubjectsResponse{Users: make([]api.SubjectGrant, len(users)), Anonymous: anon, Revision: eng.Revision()}
	for i, u := range users {
		out.Users[i] = api.SubjectGrant{UserID: u.UserID, Username: u.Username, Groups: u.Groups}
	}
	return &subjectsOut{Revisioned{out.Revision}, out}, nil
}

type effectiveIn struct {
	Subject  string `query:"subject" maxLength:"200" doc:"user:<id>, username:<name> (resolved from the database: slower than an id), anonymous, or empty for the caller."`
	Resource string `query:"resource" required:"true" minLength:"1" maxLength:"300"`
	QueryConsistency
}

type effectiveOut struct {
	Revisioned
	Body api.EffectiveResponse
}

func (a *API) effective(ctx context.Context, in *effectiveIn) (*effectiveOut, error) {
	eng, err := a.consistentQuery(ctx, in.QueryConsistency)
	if err != nil {
		return nil, err
	}
	sub, err := a.subject(ctx, eng, in.Subject, "query.subject")
	if err != nil {
		return nil, err
	}
	res, err := a.resource(in.Resource, "query.resource")
	if err != nil {
		return nil, err
	}
	keys, err := eng.EffectivePermissions(sub, res, a.now())
	if err != nil {
		return nil, a.problem(err)
	}
	if keys == nil {
		keys = []string{}
	}
	rev := eng.Revision()
	return &effectiveOut{Revisioned{rev}, api.EffectiveResponse{Subject: subjectString(sub), Resource: res.String(), Permissions: keys, Revision: rev}}, nil
}

func (a *API) registerQueries() {
	h := a.huma
	o := op("check", http.MethodPost, "/check", "Check a permission", "Checks")
	o.Description = "May the subject do the permission on the resource? Answers with the revision used (R20). " +
		"Asking about someone other than yourself needs users.view."
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(h, publicOp(a.rawBodyOp(o, api.CheckRequest{})), a.check)

	o = op("batch-check", http.MethodPost, "/check/batch", "Check many permissions at once", "Checks")
	o.Description = fmt.Sprintf("Up to %d checks, answered in order on one revision. A check that fails on its own (unknown permission, user or folder) carries its error in its result; the others are answered.", MaxBatch)
	o.Errors = append(o.Errors, http.StatusServiceUnavailable, http.StatusRequestEntityTooLarge)
	huma.Register(h, publicOp(a.rawBodyOp(o, api.BatchCheckRequest{})), a.batchCheck)
	a.rawBodyDocs("/check", "/check/batch")

	o = op("explain", http.MethodPost, "/explain", "Explain a check", "Checks")
	o.Description = "Why a check is allowed (every grant path) or denied (what was checked, what would allow it) (R19)."
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(h, publicOp(o), a.explain)

	o = op("list-resources", http.MethodGet, "/resources", "List the resources a subject may act on", "Checks")
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(h, publicOp(o), a.listResources)

	o = op("list-subjects", http.MethodGet, "/subjects", "List the users allowed a permission on a resource", "Checks")
	o.Description = "Needs users.view."
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(h, publicOp(o), a.listSubjects)

	o = op("effective-permissions", http.MethodGet, "/effective-permissions", "List every permission a subject holds on a resource", "Checks")
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(h, publicOp(o), a.effective)
}
