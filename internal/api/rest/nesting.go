package rest

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Nested groups (issue 20): a group's group members and the groups it is
// a member of. Its effective members are GET /groups/{id}/members
// ?effective=true (groups.go).

type groupMembersOut struct {
	Revisioned
	Body api.GroupMembersBody
}

type groupRowsOut struct {
	Body api.GroupRowsBody
}

func (a *API) registerNesting() {
	api := a.huma
	o := op("list-group-members", http.MethodGet, "/groups/{id}/group-members", "List the groups that are members of a group (nested groups)", "Members")
	huma.Register(api, o, a.listGroupMembers)
	o = op("list-group-parents", http.MethodGet, "/groups/{id}/parents", "List the groups a group is a member of (nested groups)", "Members")
	huma.Register(api, o, a.listGroupParents)
	o = op("add-group-members", http.MethodPost, "/groups/{id}/group-members", "Add groups as members of a group, or change their expiry (no cycle, depth limit, scope; R3, R22, R23, R24)", "Members")
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, a.addGroupMembers)
	o = op("remove-group-members", http.MethodPost, "/groups/{id}/group-members/remove", "Remove groups from a group's members (R3, R25)", "Members")
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, a.removeGroupMembers)
}

func (a *API) listGroupMembers(ctx context.Context, in *IDPath) (*groupRowsOut, error) {
	rows, err := a.svc.ListGroupMemberGroups(ctx, caller(ctx), in.ID)
	return a.groupRows(rows, err)
}

func (a *API) listGroupParents(ctx context.Context, in *IDPath) (*groupRowsOut, error) {
	rows, err := a.svc.ListGroupParents(ctx, caller(ctx), in.ID)
	return a.groupRows(rows, err)
}

func (a *API) groupRows(rows []service.GroupMemberRow, err error) (*groupRowsOut, error) {
	if err != nil {
		return nil, a.problem(err)
	}
	return &groupRowsOut{api.GroupRowsBody{Items: apiList(rows, apiGroupMemberRow)}}, nil
}

func (a *API) addGroupMembers(ctx context.Context, in *idBodyIn[api.AddGroupMembersRequest]) (*groupMembersOut, error) {
	gs := make([]service.GroupMemberInput, len(in.Body.Groups))
	for i, g := range in.Body.Groups {
		gs[i] = service.GroupMemberInput{GroupID: g.GroupID, ExpiresAt: g.ExpiresAt}
	}
	r, rev, err := a.svc.AddGroupMembers(ctx, caller(ctx), in.ID, gs)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.groupMembersOut(rev, r), nil
}

func (a *API) removeGroupMembers(ctx context.Context, in *idBodyIn[api.RemoveGroupMembersRequest]) (*groupMembersOut, error) {
	r, rev, err := a.svc.RemoveGroupMembers(ctx, caller(ctx), in.ID, in.Body.GroupIDs)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.groupMembersOut(rev, r), nil
}

func (a *API) groupMembersOut(committed int64, r service.GroupMembersResult) *groupMembersOut {
	rev := a.revision(committed)
	return &groupMembersOut{Revisioned{rev}, api.GroupMembersBody{Groups: nonNil(r.Groups), Users: nonNil(r.Users),
		Projects: nonNil(apiProjectRefs(r.Projects)), RightsDropped: apiUserProjects(r.RightsDropped), Revision: rev}}
}
