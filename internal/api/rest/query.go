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
)

// Consistency is R20's demand: answer on data at least this fresh.
type Consistency struct {
	AtLeast int64 `json:"at_least,omitempty" minimum:"0" doc:"Answer on a revision at least this one (R20), e.g. the revision a write answered with. The server waits for it up to wait_ms, then answers 503."`
	WaitMS  *int  `json:"wait_ms,omitempty" minimum:"0" maximum:"30000" doc:"How long to wait for at_least, in milliseconds (default 2000, at most 30000; 0 answers at once)."`
}

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

// CheckRequest asks whether a subject may do a permission on a resource.
type CheckRequest struct {
	Subject    string `json:"subject,omitempty" maxLength:"200" doc:"user:<id>, username:<name> (resolved from the database: slower than an id), anonymous, or empty for the caller."`
	Permission string `json:"permission" minLength:"1" maxLength:"200" doc:"A catalog key (project.read) or a folder permission <context>.<action> (root.read)."`
	Resource   string `json:"resource" minLength:"1" maxLength:"300" doc:"system, project:<id>, domain:<name> or folder:<id>."`
	Consistency
}

// CheckResponse is the answer to a check, with the revision it was computed on (R20).
type CheckResponse struct {
	Allowed  bool  `json:"allowed"`
	Revision int64 `json:"revision"`
}

type checkIn struct{ Body CheckRequest }
type checkOut struct {
	Revisioned
	Body CheckResponse
}

func (a *API) check(ctx context.Context, raw *rawIn) (*checkOut, error) {
	in := &checkIn{}
	if err := in.Body.decode(raw.RawBody); err != nil {
		return nil, err
	}
	d, err := a.svc.Check(ctx, caller(ctx), service.CheckQuery{Subject: in.Body.Subject, Permission: in.Body.Permission,
		Resource: in.Body.Resource, Consistency: consistency(in.Body.AtLeast, waitOf(in.Body.WaitMS))})
	if err != nil {
		return nil, a.queryProblem(err)
	}
	a.checks.ObserveCheck(d.Kind, d.Allowed, d.Took)
	return &checkOut{Revisioned{d.Revision}, CheckResponse{Allowed: d.Allowed, Revision: d.Revision}}, nil
}

// ---- batch check ----

// CheckItem is one check of a batch.
type CheckItem struct {
	Subject    string `json:"subject,omitempty" maxLength:"200" doc:"user:<id>, username:<name> (resolved from the database: slower than an id), anonymous, or empty for the caller."`
	Permission string `json:"permission" minLength:"1" maxLength:"200"`
	Resource   string `json:"resource" minLength:"1" maxLength:"300"`
}

// BatchCheckRequest holds up to MaxBatch checks answered on one revision.
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

type batchIn struct{ Body BatchCheckRequest }
type batchOut struct {
	Revisioned
	Body BatchCheckResponse
}

func (a *API) batchCheck(ctx context.Context, raw *rawIn) (*batchOut, error) {
	in := &batchIn{}
	if err := in.Body.decode(raw.RawBody); err != nil {
		return nil, err
	}
	q := service.BatchQuery{Checks: (*checkItems)(&in.Body.Checks), Consistency: consistency(in.Body.AtLeast, waitOf(in.Body.WaitMS))}
	out := BatchCheckResponse{Results: make([]BatchResult, len(in.Body.Checks))}
	rev, err := a.svc.BatchCheck(ctx, caller(ctx), q, func(i int, d service.Decision, err error) {
		if err != nil {
			out.Results[i].Error = itemError(a.problem(err))
			return
		}
		a.checks.ObserveCheck(d.Kind, d.Allowed, d.Took)
		out.Results[i].Allowed = d.Allowed
	})
	if err != nil {
		return nil, a.queryProblem(err)
	}
	out.Revision = rev
	return &batchOut{Revisioned{rev}, out}, nil
}

// checkItems lets the service read a batch's checks in place.
type checkItems []CheckItem

func (c *checkItems) Len() int                   { return len(*c) }
func (c *checkItems) At(i int) service.CheckItem { return service.CheckItem((*c)[i]) }

func itemError(err error) *ItemError {
	var p *Problem
	if !errors.As(err, &p) {
		return &ItemError{Status: http.StatusInternalServerError, Kind: "other", Detail: "internal error"}
	}
	ie := &ItemError{Status: p.Status, Kind: p.Kind, Detail: p.Detail}
	if len(p.Errors) > 0 {
		ie.Location = p.Errors[0].Location
		ie.Detail = p.Errors[0].Message
	}
	return ie
}

// ---- explain ----

// ExplainResponse says why a check is allowed or denied (R19).
type ExplainResponse struct {
	Allowed     bool       `json:"allowed"`
	Revision    int64      `json:"revision"`
	Subject     string     `json:"subject"`
	Permission  string     `json:"permission"`
	Resource    string     `json:"resource"`
	Reason      string     `json:"reason,omitempty"`
	Paths       []PathJSON `json:"paths,omitempty" doc:"For an allow: every grant path that allows."`
	Considered  []string   `json:"considered,omitempty" doc:"For a deny: what was checked."`
	Suggestions []string   `json:"suggestions,omitempty" doc:"For a deny: changes that would allow."`
}

// PathJSON is one grant path: user → group or individual → grant → where it comes from.
type PathJSON struct {
	GroupID    string `json:"group_id,omitempty"`
	GroupName  string `json:"group_name,omitempty"`
	Via        string `json:"via" doc:"role, checkbox, project_grant, domain_grant, folder_level, rule or files_admin"`
	RoleID     string `json:"role_id,omitempty"`
	RoleName   string `json:"role_name,omitempty"`
	Permission string `json:"permission,omitempty"`
	FolderID   string `json:"folder_id,omitempty"`
	Level      string `json:"level,omitempty"`
	RuleID     string `json:"rule_id,omitempty"`
	RuleName   string `json:"rule_name,omitempty"`
	MatchedID  string `json:"matched_id,omitempty"`
}

type explainOut struct {
	Revisioned
	Body ExplainResponse
}

func (a *API) explain(ctx context.Context, in *checkIn) (*explainOut, error) {
	x, err := a.svc.Explain(ctx, caller(ctx), service.CheckQuery{Subject: in.Body.Subject, Permission: in.Body.Permission,
		Resource: in.Body.Resource, Consistency: consistency(in.Body.AtLeast, waitOf(in.Body.WaitMS))})
	if err != nil {
		return nil, a.queryProblem(err)
	}
	out := ExplainResponse{Allowed: x.Allowed, Revision: x.Revision, Subject: x.Subject, Permission: x.Permission,
		Resource: x.Resource, Reason: x.Reason, Considered: x.Considered, Suggestions: x.Suggestions}
	for _, p := range x.Paths {
		pj := PathJSON{GroupID: p.GroupID, GroupName: p.GroupName, Via: p.Via, RoleID: p.RoleID, RoleName: p.RoleName,
			Permission: p.Permission, FolderID: p.FolderID, RuleID: p.RuleID, RuleName: p.RuleName, MatchedID: p.MatchedID}
		if p.Via == "folder_level" {
			pj.Level = p.Level.String()
		}
		out.Paths = append(out.Paths, pj)
	}
	return &explainOut{Revisioned{x.Revision}, out}, nil
}

// ---- lists ----

// QueryConsistency is Consistency as query parameters.
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
		p.Errors = []*huma.ErrorDetail{{Location: "query.wait_ms", Message: "must be 0 to 30000 milliseconds", Value: q.WaitMS}}
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

// ResourcesResponse lists resource ids the subject may act on.
type ResourcesResponse struct {
	Kind     string   `json:"kind"`
	IDs      []string `json:"ids"`
	Revision int64    `json:"revision"`
}

type resourcesOut struct {
	Revisioned
	Body ResourcesResponse
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
	return &resourcesOut{Revisioned{l.Revision}, ResourcesResponse{Kind: in.Kind, IDs: l.IDs, Revision: l.Revision}}, nil
}

type subjectsIn struct {
	Permission string `query:"permission" required:"true" minLength:"1" maxLength:"200"`
	Resource   string `query:"resource" required:"true" minLength:"1" maxLength:"300"`
	QueryConsistency
}

// SubjectGrant is one user allowed, with the groups through which ("" is the user's own grant).
type SubjectGrant struct {
	UserID   string   `json:"user_id"`
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

// SubjectsResponse lists who may do a permission on a resource.
type SubjectsResponse struct {
	Users     []SubjectGrant `json:"users"`
	Anonymous bool           `json:"anonymous" doc:"Whether requests without credentials are allowed too."`
	Revision  int64          `json:"revision"`
}

type subjectsOut struct {
	Revisioned
	Body SubjectsResponse
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
	out := SubjectsResponse{Users: make([]SubjectGrant, len(l.Users)), Anonymous: l.Anonymous, Revision: l.Revision}
	for i, u := range l.Users {
		out.Users[i] = SubjectGrant(u)
	}
	return &subjectsOut{Revisioned{out.Revision}, out}, nil
}

type effectiveIn struct {
	Subject  string `query:"subject" maxLength:"200" doc:"user:<id>, username:<name> (resolved from the database: slower than an id), anonymous, or empty for the caller."`
	Resource string `query:"resource" required:"true" minLength:"1" maxLength:"300"`
	QueryConsistency
}

// EffectiveResponse lists every permission the subject holds on the resource.
type EffectiveResponse struct {
	Subject     string   `json:"subject"`
	Resource    string   `json:"resource"`
	Permissions []string `json:"permissions"`
	Revision    int64    `json:"revision"`
}

type effectiveOut struct {
	Revisioned
	Body EffectiveResponse
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
	return &effectiveOut{Revisioned{e.Revision}, EffectiveResponse{Subject: e.Subject, Resource: e.Resource, Permissions: e.Permissions, Revision: e.Revision}}, nil
}

func (a *API) registerQueries() {
	api := a.huma
	o := op("check", http.MethodPost, "/check", "Check a permission", "Checks")
	o.Description = "May the subject do the permission on the resource? Answers with the revision used (R20). " +
		"Asking about someone other than yourself needs users.view."
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(api, publicOp(a.rawBodyOp(o, CheckRequest{})), a.check)

	o = op("batch-check", http.MethodPost, "/check/batch", "Check many permissions at once", "Checks")
	o.Description = fmt.Sprintf("Up to %d checks, answered in order on one revision. A check that fails on its own (unknown permission, user or folder) carries its error in its result; the others are answered.", MaxBatch)
	o.Errors = append(o.Errors, http.StatusServiceUnavailable, http.StatusRequestEntityTooLarge)
	huma.Register(api, publicOp(a.rawBodyOp(o, BatchCheckRequest{})), a.batchCheck)
	a.rawBodyDocs("/check", "/check/batch")

	o = op("explain", http.MethodPost, "/explain", "Explain a check", "Checks")
	o.Description = "Why a check is allowed (every grant path) or denied (what was checked, what would allow it) (R19)."
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(api, publicOp(o), a.explain)

	o = op("list-resources", http.MethodGet, "/resources", "List the resources a subject may act on", "Checks")
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(api, publicOp(o), a.listResources)

	o = op("list-subjects", http.MethodGet, "/subjects", "List the users allowed a permission on a resource", "Checks")
	o.Description = "Needs users.view."
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(api, publicOp(o), a.listSubjects)

	o = op("effective-permissions", http.MethodGet, "/effective-permissions", "List every permission a subject holds on a resource", "Checks")
	o.Errors = append(o.Errors, http.StatusServiceUnavailable)
	huma.Register(api, publicOp(o), a.effective)
}
