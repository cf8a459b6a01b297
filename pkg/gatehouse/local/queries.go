package local

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// The questions a replica answers take and give the client's types, so
// that an application switches between the client and a replica without
// changing its calls. A question the replica cannot answer itself goes to
// the server (an empty or username: subject, which only the server can
// resolve) or follows Options (not ready, AtLeast not reached).

// engineFor returns the engine to answer a question with Consistency c,
// or nil and the error to answer when the replica may not answer itself
// (with server true when the question should go to the server instead).
func (r *Replica) engineFor(ctx context.Context, c gatehouse.Consistency) (e *engine.Engine, server bool, err error) {
	if !r.Ready() {
		return nil, r.opts.NotReady == AskServer, unavailable("the local replica is not ready")
	}
	e = r.eng.Load()
	if c.AtLeast <= 0 || e.Revision() >= c.AtLeast {
		return e, false, nil
	}
	wait := r.opts.AtLeastWait
	switch {
	case c.Wait < 0:
		wait = 0
	case c.Wait > 0:
		wait = min(c.Wait, gatehouse.MaxWait)
	}
	if wait > 0 {
		wctx, cancel := context.WithTimeout(ctx, wait)
		_ = r.WaitFor(wctx, c.AtLeast)
		cancel()
	}
	if e = r.eng.Load(); r.Ready() && e.Revision() >= c.AtLeast {
		return e, false, nil
	}
	return nil, r.opts.Behind == AskServer, unavailable(fmt.Sprintf("revision %d is not in the local replica yet (it is at %d)", c.AtLeast, r.Revision()))
}

// subject parses a subject; ok is false for one only the server can
// resolve (empty: the token's own user; username:).
func subject(s string) (sub engine.Subject, ok bool, err error) {
	switch {
	case s == gatehouse.Anonymous:
		return engine.Anonymous, true, nil
	case strings.HasPrefix(s, "user:") && len(s) > len("user:"):
		return engine.Subject{UserID: s[len("user:"):]}, true, nil
	case s == "" || strings.HasPrefix(s, "username:"):
		return sub, false, nil
	}
	return sub, false, invalid("subject", fmt.Sprintf("%q must be user:<id>, username:<name>, anonymous, or empty for yourself", s))
}

// Check answers one question in process, or as Options say when the
// replica cannot (see the package doc). As with the client, an error is
// never an allow.
func (r *Replica) Check(ctx context.Context, q gatehouse.CheckRequest) (gatehouse.Decision, error) {
	e, server, err := r.engineFor(ctx, q.Consistency)
	sub, local, serr := subject(q.Subject)
	if err != nil || !local {
		if (err == nil || server) && serr == nil {
			return r.serverCheck(ctx, q)
		}
		return gatehouse.Decision{}, firstErr(serr, err)
	}
	res, err := engine.ParseResource(q.Resource)
	if err != nil {
		return gatehouse.Decision{}, invalid("resource", message(err))
	}
	d, err := e.Check(sub, q.Permission, res, r.opts.Now())
	if err != nil {
		return gatehouse.Decision{}, problem(err, "permission")
	}
	if m := r.opts.Metrics; m != nil {
		m.Checked(true, d.Allowed)
	}
	return gatehouse.Decision{Allowed: d.Allowed, Revision: d.Revision}, nil
}

func (r *Replica) serverCheck(ctx context.Context, q gatehouse.CheckRequest) (gatehouse.Decision, error) {
	d, err := r.gh.Check(ctx, q)
	if m := r.opts.Metrics; m != nil && err == nil {
		m.Checked(false, d.Allowed)
	}
	return d, err
}

// BatchCheck answers up to gatehouse.MaxBatch questions on one revision.
// A check that fails on its own carries its error in its result.
func (r *Replica) BatchCheck(ctx context.Context, q gatehouse.BatchCheckRequest) (gatehouse.BatchDecision, error) {
	if len(q.Checks) == 0 || len(q.Checks) > gatehouse.MaxBatch {
		return r.gh.BatchCheck(ctx, q) // the client refuses it without a call
	}
	e, server, err := r.engineFor(ctx, q.Consistency)
	for _, c := range q.Checks {
		if _, local, _ := subject(c.Subject); !local {
			server = true
		}
	}
	if err != nil || server {
		if err == nil || server {
			return r.gh.BatchCheck(ctx, q)
		}
		return gatehouse.BatchDecision{}, err
	}
	// Shared with the applier: every check sees the same revision.
	r.applyMu.RLock()
	defer r.applyMu.RUnlock()
	now := r.opts.Now()
	out := gatehouse.BatchDecision{Results: make([]gatehouse.BatchResult, len(q.Checks)), Revision: e.Revision()}
	ahead := func(j int) (engine.Subject, engine.Resource, bool) {
		sub, _, _ := subject(q.Checks[j].Subject)
		res, err := engine.ParseResource(q.Checks[j].Resource)
		return sub, res, err == nil
	}
	pf := e.Prefetcher()
	for i, c := range q.Checks {
		pf.Before(i, len(q.Checks), ahead)
		at := func(f string) string { return fmt.Sprintf("checks[%d].%s", i, f) }
		sub, _, _ := subject(c.Subject)
		res, err := engine.ParseResource(c.Resource)
		if err != nil {
			out.Results[i].Err = invalid(at("resource"), message(err))
			continue
		}
		d, err := e.Check(sub, c.Permission, res, now)
		if err != nil {
			out.Results[i].Err = problem(err, at("permission"))
			continue
		}
		out.Results[i].Allowed = d.Allowed
		if m := r.opts.Metrics; m != nil {
			m.Checked(true, d.Allowed)
		}
	}
	return out, nil
}

// Explain answers a check and why, in process. Users are named by id
// (the replica holds no usernames), which is where its sentences differ
// from the server's.
func (r *Replica) Explain(ctx context.Context, q gatehouse.CheckRequest) (gatehouse.Explanation, error) {
	e, server, err := r.engineFor(ctx, q.Consistency)
	sub, local, serr := subject(q.Subject)
	if err != nil || !local {
		if (err == nil || server) && serr == nil {
			return r.gh.Explain(ctx, q)
		}
		return gatehouse.Explanation{}, firstErr(serr, err)
	}
	res, err := engine.ParseResource(q.Resource)
	if err != nil {
		return gatehouse.Explanation{}, invalid("resource", message(err))
	}
	x, err := e.Explain(sub, q.Permission, res, r.opts.Now())
	if err != nil {
		return gatehouse.Explanation{}, problem(err, "permission")
	}
	return explanation(x), nil
}

// explanation is the engine's explanation as the API answers it.
func explanation(x engine.Explanation) gatehouse.Explanation {
	who := gatehouse.Anonymous
	if x.Subject.UserID != "" {
		who = gatehouse.User(x.Subject.UserID)
	}
	out := gatehouse.Explanation{Allowed: x.Allowed, Revision: x.Revision, Subject: who, Permission: x.Permission,
		Resource: x.Resource.String(), Reason: x.Reason, Considered: x.Considered, Suggestions: x.Suggestions}
	for _, p := range x.Paths {
		pj := gatehouse.Path{GroupID: p.GroupID, GroupName: p.GroupName, Through: p.Through, Via: p.Via, RoleID: p.RoleID, RoleName: p.RoleName,
			Permission: p.Permission, FolderID: p.FolderID, RuleID: p.RuleID, RuleName: p.RuleName, MatchedID: p.MatchedID}
		if p.Via == "folder_level" {
			pj.Level = p.Level.String()
		}
		out.Paths = append(out.Paths, pj)
	}
	return out
}

// ListResources lists, in process, the resources of a kind on which the
// subject holds a permission.
func (r *Replica) ListResources(ctx context.Context, q gatehouse.ResourcesQuery) (gatehouse.ResourceList, error) {
	e, server, err := r.engineFor(ctx, q.Consistency)
	sub, local, serr := subject(q.Subject)
	if err != nil || !local {
		if (err == nil || server) && serr == nil {
			return r.gh.ListResources(ctx, q)
		}
		return gatehouse.ResourceList{}, firstErr(serr, err)
	}
	switch engine.ResourceKind(q.Kind) {
	case engine.KindProject, engine.KindDomain, engine.KindFolder:
	default:
		return gatehouse.ResourceList{}, invalid("query.kind", "must be project, domain or folder")
	}
	// One revision for the list and the revision it states.
	r.applyMu.RLock()
	defer r.applyMu.RUnlock()
	ids, err := e.ListResources(sub, q.Permission, engine.ResourceKind(q.Kind), q.Under, r.opts.Now())
	if err != nil {
		return gatehouse.ResourceList{}, problem(err, "query.permission")
	}
	if ids == nil {
		ids = []string{}
	}
	return gatehouse.ResourceList{Kind: q.Kind, IDs: ids, Revision: e.Revision()}, nil
}

// ---- errors, as the server would answer them ----

var statusOf = map[domain.Kind]int{
	domain.KindInvalid:     http.StatusUnprocessableEntity,
	domain.KindNotFound:    http.StatusNotFound,
	domain.KindUnavailable: http.StatusServiceUnavailable,
}

// problem turns an engine error into the *gatehouse.Error the server's
// answer would decode to; an invalid answer names field.
func problem(err error, field string) *gatehouse.Error {
	kind := domain.KindOf(err)
	status, ok := statusOf[kind]
	if !ok {
		return &gatehouse.Error{Status: http.StatusInternalServerError, Kind: "other", Detail: message(err), Method: "local", Err: err}
	}
	e := &gatehouse.Error{Status: status, Kind: kind.String(), Title: http.StatusText(status), Detail: message(err), Method: "local"}
	if kind == domain.KindInvalid {
		e.Fields = []gatehouse.FieldError{{Location: field, Message: e.Detail}}
	}
	return e
}

func invalid(field, msg string) *gatehouse.Error {
	return &gatehouse.Error{Status: http.StatusUnprocessableEntity, Kind: domain.KindInvalid.String(), Title: http.StatusText(http.StatusUnprocessableEntity),
		Detail: msg, Method: "local", Fields: []gatehouse.FieldError{{Location: field, Message: msg}}}
}

func unavailable(msg string) *gatehouse.Error {
	return &gatehouse.Error{Status: http.StatusServiceUnavailable, Kind: domain.KindUnavailable.String(),
		Title: http.StatusText(http.StatusServiceUnavailable), Detail: msg, Method: "local", RetryAfter: time.Second}
}

// message is an error's text as the server words it.
func message(err error) string { return domain.Message(err) }

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
