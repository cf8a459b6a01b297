package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/service"
)

// Nested groups (issue 20): a group's group members and the groups it is
// a member of. Its effective members are GET /groups/{id}/members
// ?effective=true (groups.go).

// GroupMemberInput is one group to add as a member, with an optional
// expiry (R6).
type GroupMemberInput struct {
	GroupID   string     `json:"group_id" minLength:"1" maxLength:"200"`
	ExpiresAt *time.Time `json:"expires_at,omitempty" doc:"When the membership stops counting (R6); absent for never."`
}

type addGroupMembersIn struct {
	IDPath
	Body struct {
		Groups []GroupMemberInput `json:"groups" minItems:"1" maxItems:"1000"`
	}
}

type removeGroupMembersIn struct {
	IDPath
	Body struct {
		GroupIDs []string `json:"group_ids" minItems:"1" maxItems:"1000"`
	}
}

// GroupMembersBody is the answer to a change of a group's group members.
type GroupMembersBody struct {
	service.GroupMembersResult
	Revision int64 `json:"revision"`
}

type groupMembersOut struct {
	Revisioned
	Body GroupMembersBody
}

type groupRowsOut struct {
	Body struct {
		Items []service.GroupMemberRow `json:"items"`
	}
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
	out := &groupRowsOut{}
	out.Body.Items = rows
	return out, nil
}

func (a *API) addGroupMembers(ctx context.Context, in *addGroupMembersIn) (*groupMembersOut, error) {
	gs := make([]service.GroupMemberInput, len(in.Body.Groups))
	for i, g := range in.Body.Groups {
		gs[i] = service.GroupMemberInput{GroupID: g.GroupID, ExpiresAt: g.ExpiresAt}
	}
	r, err := a.svc.AddGroupMembers(ctx, caller(ctx), in.ID, gs)
	if err != nil {
		return nil, a.problem(err)
	}
	rev := a.revision(ctx)
	return &groupMembersOut{Revisioned{rev}, GroupMembersBody{r, rev}}, nil
}

func (a *API) removeGroupMembers(ctx context.Context, in *removeGroupMembersIn) (*groupMembersOut, error) {
	r, err := a.svc.RemoveGroupMembers(ctx, caller(ctx), in.ID, in.Body.GroupIDs)
	if err != nil {
		return nil, a.problem(err)
	}
	rev := a.revision(ctx)
	return &groupMembersOut{Revisioned{rev}, GroupMembersBody{r, rev}}, nil
}
