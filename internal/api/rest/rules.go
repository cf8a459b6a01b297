package rest

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Rules: /groups/{id}/rules and /rules/{id} (R10, R16).

func (a *API) ruleRoutes() []route {
	const tag = "Rules"
	return []route{
		handle(op("list-rules", http.MethodGet, "/groups/{id}/rules", "List a group's rules", tag), a.listRules),
		handle(created(op("create-rule", http.MethodPost, "/groups/{id}/rules", "Add a rule to a group (R10, R16, R22)", tag)), a.createRule),
		handle(op("get-rule", http.MethodGet, "/rules/{id}", "Get a rule", tag), a.getRule),
		handle(withErrors(op("update-rule", http.MethodPut, "/rules/{id}", "Replace a rule's name, criteria and matrix", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.updateRule),
		handle(op("delete-rule", http.MethodDelete, "/rules/{id}", "Delete a rule", tag), a.deleteRule),
	}
}

type ruleOut = versioned[api.RuleBody]

func (a *API) ruleOut(committed int64, r domain.Rule) *ruleOut {
	rev := a.revision(committed)
	return withETag(r.Version, rev, api.RuleBody{Rule: apiRule(r), Revision: rev})
}

func (a *API) ruleVersion(ctx context.Context, id string) versionOf {
	return func() (int64, error) {
		r, err := a.svc.GetRule(ctx, caller(ctx), id)
		return r.Version, err
	}
}

func (a *API) listRules(ctx context.Context, in *IDPath) (*itemsOut[api.RulesBody], error) {
	rs, err := a.svc.ListRules(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return &itemsOut[api.RulesBody]{api.RulesBody{Items: apiList(rs, apiRule)}}, nil
}

func (a *API) createRule(ctx context.Context, in *idBodyIn[api.RuleRequest]) (*ruleOut, error) {
	b := in.Body
	r, rev, err := a.svc.CreateRule(ctx, caller(ctx), domain.Rule{ID: b.ID, GroupID: in.ID, Name: b.Name, Criteria: domainCriteria(b.Criteria), Grants: b.Grants})
	if err != nil {
		return nil, a.problem(err)
	}
	return a.ruleOut(rev, r), nil
}

func (a *API) getRule(ctx context.Context, in *IDPath) (*ruleOut, error) {
	r, err := a.svc.GetRule(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.ruleOut(0, r), nil
}

func (a *API) updateRule(ctx context.Context, in *versionedIn[api.RuleRequest]) (*ruleOut, error) {
	b := in.Body
	r, rev, err := updateVersioned(a, in.IfMatch, a.ruleVersion(ctx, in.ID), func(version int64) (domain.Rule, int64, error) {
		return a.svc.UpdateRule(ctx, caller(ctx), in.ID, domain.Rule{Name: b.Name, Criteria: domainCriteria(b.Criteria), Grants: b.Grants, Version: version})
	})
	if err != nil {
		return nil, err
	}
	return a.ruleOut(rev, r), nil
}

func (a *API) deleteRule(ctx context.Context, in *IDPath) (*RevisionOut, error) {
	rev, err := a.svc.DeleteRule(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return a.revisionOut(rev), nil
}
