package rest

import (
	"context"
	"errors"
	"fmt"
	"github.com/gatehouse/gatehouse/internal/service"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

func waitOf(ms *int) time.Duration {
	if ms == nil {
		return DefaultWait
	}
	return time.Duration(*ms) * time.Millisecond
}

// consistency is a query's R20 demand for the service, its wait bounded
// by MaxWait.
func consistency(atLeast int64, wait time.Duration) service.Consistency {
	return service.Consistency{AtLeast: atLeast, Wait: min(wait, MaxWait)}
}

// queryProblem answers a query's error: a revision that did not arrive
// within the wait is 503 with the revision the server has and
// Retry-After; the service's field names map to where the fields sit
// (at, as for problemAt).
func (a *API) queryProblem(err error, at ...string) error {
	var ny *service.NotYetError
	if !errors.As(err, &ny) {
		return a.problemAt(err, at...)
	}
	p := newProblem(http.StatusServiceUnavailable, domain.KindUnavailable.String(), ny.Error())
	p.Revision = ny.Have
	return huma.ErrorWithHeaders(p, http.Header{"Retry-After": {"1"}, RevisionHeader: {fmt.Sprint(ny.Have)}})
}

// inQuery are the locations of a query's fields sent as query parameters.
var inQuery = []string{"subject", "query.subject", "permission", "query.permission", "resource", "query.resource"}

// ---- check ----

type checkIn struct{ Body api.CheckRequest }
type checkOut struct {
	Revisioned
	Body api.CheckResponse
}

func (a *API) check(ctx context.Context, raw *rawIn) (*checkOut, error) {
	in := &checkIn{}
	d, err := a.decideCheck(ctx, caller(ctx), raw.RawBody, &in.Body)
	if err != nil {
		return nil, err
	}
	return &checkOut{Revisioned{d.Revision}, api.CheckResponse{Allowed: d.Allowed, Revision: d.Revision}}, nil
}

// decideCheck decodes a check's body into req and answers it for the
// caller c: the one check of the generic handler (check) and the lean
// path (serveCheck). Its errors are problems.
func (a *API) decideCheck(ctx context.Context, c service.Caller, raw []byte, req *api.CheckRequest) (service.Decision, error) {
	if err := decodeCheck(raw, req); err != nil {
		return service.Decision{}, err
	}
	d, err := a.svc.Check(ctx, c, service.CheckQuery{Subject: req.Subject, Permission: req.Permission,
		Resource: req.Resource, Consistency: consistency(req.AtLeast, waitOf(req.WaitMS))})
	if err != nil {
		return service.Decision{}, a.queryProblem(err)
	}
	a.checks.ObserveCheck(d.Kind, d.Allowed, d.Took)
	return d, nil
}

// ---- batch check ----

type batchIn struct{ Body api.BatchCheckRequest }
type batchOut struct {
	Revisioned
	Body api.BatchCheckResponse
}

func (a *API) batchCheck(ctx context.Context, raw *rawIn) (*batchOut, error) {
	in := &batchIn{}
	out, err := a.decideBatch(ctx, caller(ctx), raw.RawBody, &in.Body, nil)
	if err != nil {
		return nil, err
	}
	return &batchOut{Revisioned{out.Revision}, out}, nil
}

// decideBatch decodes a batch check from raw into req and answers it for
// the caller c, the same for the generic path and the lean one
// (checklean.go); the results
// go into results' memory when it is large enough. Every error is a
// problem.
func (a *API) decideBatch(ctx context.Context, c service.Caller, raw []byte, req *api.BatchCheckRequest, results []api.BatchResult) (api.BatchCheckResponse, error) {
	if err := decodeBatch(raw, req); err != nil {
		return api.BatchCheckResponse{}, err
	}
	q := service.BatchQuery{Checks: (*checkItems)(&req.Checks), Consistency: consistency(req.AtLeast, waitOf(req.WaitMS))}
	if cap(results) < len(req.Checks) {
		results = make([]api.BatchResult, len(req.Checks))
	}
	out := api.BatchCheckResponse{Results: results[:len(req.Checks)]}
	clear(out.Results)
	observe, observed := a.checks.ObserveBatch()
	defer observed()
	rev, err := a.svc.BatchCheck(ctx, c, q, func(i int, d service.Decision, err error) {
		if err != nil {
			out.Results[i].Error = itemError(a.problem(err))
			return
		}
		observe(d.Kind, d.Allowed, d.Took)
		out.Results[i].Allowed = d.Allowed
	})
	if err != nil {
		return api.BatchCheckResponse{}, a.queryProblem(err)
	}
	out.Revision = rev
	return out, nil
}

// checkItems lets the service read a batch's checks in place.
type checkItems []api.CheckItem

func (c *checkItems) Len() int                   { return len(*c) }
func (c *checkItems) At(i int) service.CheckItem { return service.CheckItem((*c)[i]) }

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

func (a *API) explain(ctx context.Context, in *checkIn) (*explainOut, error) {
	x, err := a.svc.Explain(ctx, caller(ctx), service.CheckQuery{Subject: in.Body.Subject, Permission: in.Body.Permission,
		Resource: in.Body.Resource, Consistency: consistency(in.Body.AtLeast, waitOf(in.Body.WaitMS))})
	if err != nil {
		return nil, a.queryProblem(err)
	}
	out := api.ExplainResponse{Allowed: x.Allowed, Revision: x.Revision, Subject: x.Subject, Permission: x.Permission,
		Resource: x.Resource, Reason: x.Reason, Considered: x.Considered, Suggestions: x.Suggestions}
	for _, p := range x.Paths {
		pj := api.GrantPath{GroupID: p.GroupID, GroupName: p.GroupName, Through: p.Through, Via: p.Via, RoleID: p.RoleID, RoleName: p.RoleName,
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

func (q QueryConsistency) consistency() (service.Consistency, error) {
	w, err := q.wait()
	return consistency(q.AtLeast, w), err
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
	cons, err := in.consistency()
	if err != nil {
		return nil, err
	}
	l, err := a.svc.ListResources(ctx, caller(ctx), service.ResourcesQuery{Subject: in.Subject, Permission: in.Permission,
		Kind: service.ResourceKind(in.Kind), Under: in.Under, Consistency: cons})
	if err != nil {
		return nil, a.queryProblem(err, inQuery...)
	}
	if l.IDs == nil {
		l.IDs = []string{}
	}
	return &resourcesOut{Revisioned{l.Revision}, api.ResourcesResponse{Kind: in.Kind, IDs: l.IDs, Revision: l.Revision}}, nil
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
	cons, err := in.consistency()
	if err != nil {
		return nil, err
	}
	l, err := a.svc.ListSubjects(ctx, caller(ctx), service.SubjectsQuery{Permission: in.Permission, Resource: in.Resource, Consistency: cons})
	if err != nil {
		return nil, a.queryProblem(err, inQuery...)
	}
	out := api.SubjectsResponse{Users: make([]api.SubjectGrant, len(l.Users)), Anonymous: l.Anonymous, Revision: l.Revision}
	for i, u := range l.Users {
		out.Users[i] = api.SubjectGrant(u)
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
	cons, err := in.consistency()
	if err != nil {
		return nil, err
	}
	e, err := a.svc.EffectivePermissions(ctx, caller(ctx), service.EffectiveQuery{Subject: in.Subject, Resource: in.Resource, Consistency: cons})
	if err != nil {
		return nil, a.queryProblem(err, inQuery...)
	}
	if e.Permissions == nil {
		e.Permissions = []string{}
	}
	return &effectiveOut{Revisioned{e.Revision}, api.EffectiveResponse{Subject: e.Subject, Resource: e.Resource, Permissions: e.Permissions, Revision: e.Revision}}, nil
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
