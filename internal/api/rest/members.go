package rest

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Members: /groups/{id}/members.

func (a *API) memberRoutes() []route {
	const tag = "Members"
	return []route{
		handle(op("list-members", http.MethodGet, "/groups/{id}/members", "List a group's members (R28)", tag), a.listMembers),
		handle(withErrors(op("add-members", http.MethodPost, "/groups/{id}/members", "Add users to a group, or change their expiry (R3, R4, R5, R23, R24)", tag),
			http.StatusConflict), a.addMembers),
		handle(withErrors(op("remove-members", http.MethodPost, "/groups/{id}/members/remove", "Remove users from a group (R3, R25)", tag),
			http.StatusConflict), a.removeMembers),
		handle(withErrors(op("remove-member", http.MethodDelete, "/groups/{id}/members/{user_id}", "Remove one user from a group (R3, R25)", tag),
			http.StatusConflict), a.removeMember),
	}
}

type listMembersIn struct {
	HTTPRequest
	IDPath
	Search   string `query:"search" maxLength:"256" doc:"Username, display name or email contains this (R28)."`
	Sort     string `query:"sort" enum:"username,display_name,email,created_at,role,through," doc:"Column (default username); with effective=true, username or through (the number of groups in between, direct members first)."`
	Order    string `query:"order" enum:"asc,desc,none," doc:"asc (default), desc, or none: the order users were created in (not with effective=true)."`
	Cursor   string `query:"cursor" maxLength:"1024"`
	Limit    int    `query:"limit" minimum:"1" maximum:"1000"`
	AllUsers bool   `query:"all_users" doc:"List every user with a member flag, as a checkbox list."`
	// Effective lists every user who is a member now, directly or through
	// nested groups, each with the path (issue 20).
	Effective bool `query:"effective" doc:"List every user who is a member now, directly or through nested groups, with the groups between (through), paged like the direct members; search, sort (username or through), order (asc or desc), cursor and limit apply."`
}

func (a *API) listMembers(ctx context.Context, in *listMembersIn) (*pageOut[api.MemberRow], error) {
	p, err := a.svc.ListMembers(ctx, caller(ctx), in.ID, service.MemberQuery{Search: in.Search, Sort: in.Sort, Order: in.Order,
		Cursor: in.Cursor, Limit: in.Limit, AllUsers: in.AllUsers, Effective: in.Effective})
	if err != nil {
		return nil, a.problemAt(err, "sort", "query.sort", "order", "query.order", "all_users", "query.all_users", "cursor", "query.cursor")
	}
	return pageOf(a, in.r, p, apiMemberRow), nil
}

type membersOut = bodyOut[api.MembersBody]

func (a *API) membersOut(committed int64, r service.MembersResult) *membersOut {
	rev := a.revision(committed)
	dropped := apiUserProjects(r.RightsDropped)
	return &membersOut{Revisioned{rev}, api.MembersBody{MembersChange: api.MembersChange{Users: r.Users,
		Projects: nonNil(apiProjectRefs(r.Projects)), RightsDropped: dropped}, Revision: rev}}
}

func (a *API) addMembers(ctx context.Context, in *idBodyIn[api.AddMembersRequest]) (*membersOut, error) {
	ms := make([]service.MemberInput, len(in.Body.Members))
	for i, m := range in.Body.Members {
		ms[i] = service.MemberInput{UserID: m.UserID, ExpiresAt: m.ExpiresAt}
	}
	r, rev, err := a.svc.AddMembers(ctx, caller(ctx), in.ID, ms)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.membersOut(rev, r), nil
}

func (a *API) removeMembers(ctx context.Context, in *idBodyIn[api.RemoveMembersRequest]) (*membersOut, error) {
	r, rev, err := a.svc.RemoveMembers(ctx, caller(ctx), in.ID, in.Body.UserIDs)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.membersOut(rev, r), nil
}

type removeMemberIn struct {
	IDPath
	UserID string `path:"user_id" maxLength:"200"`
}

func (a *API) removeMember(ctx context.Context, in *removeMemberIn) (*membersOut, error) {
	r, rev, err := a.svc.RemoveMembers(ctx, caller(ctx), in.ID, []string{in.UserID})
	if err != nil {
		return nil, a.problem(err)
	}
	return a.membersOut(rev, r), nil
}
