package client

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Nested groups (issue 20).

// GroupMemberInput is one group to add as a member of another.
type GroupMemberInput struct {
	GroupID   string     `json:"group_id"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// GroupMembersResult is the answer to a change of a group's group members.
type GroupMembersResult struct {
	Groups        []string      `json:"groups"`
	Users         []string      `json:"users"`
	Projects      []ProjectRef  `json:"projects"`
	RightsDropped []UserProject `json:"rights_dropped,omitempty"`
	Revision      int64         `json:"revision"`
}

// GroupMemberRow is a group in a group's member list, or a group a group
// is a member of, with the membership.
type GroupMemberRow struct {
	Group      domain.Group           `json:"group"`
	Membership domain.GroupMembership `json:"membership"`
}

type groupRows struct {
	Items []GroupMemberRow `json:"items"`
}

// ListGroupMembers lists the groups that are members of a group.
func (c *Client) ListGroupMembers(ctx context.Context, groupID string) ([]GroupMemberRow, error) {
	r, err := call[groupRows](ctx, c, request{method: http.MethodGet, path: "/groups/" + seg(groupID) + "/group-members"})
	return r.Items, err
}

// ListGroupParents lists the groups a group is a member of.
func (c *Client) ListGroupParents(ctx context.Context, groupID string) ([]GroupMemberRow, error) {
	r, err := call[groupRows](ctx, c, request{method: http.MethodGet, path: "/groups/" + seg(groupID) + "/parents"})
	return r.Items, err
}

// AddGroupMembers adds groups as members of a group, or changes their expiry.
func (c *Client) AddGroupMembers(ctx context.Context, groupID string, groups ...GroupMemberInput) (GroupMembersResult, error) {
	return call[GroupMembersResult](ctx, c, request{method: http.MethodPost, path: "/groups/" + seg(groupID) + "/group-members", body: map[string]any{"groups": groups}})
}

// RemoveGroupMembers removes groups from a group's members.
func (c *Client) RemoveGroupMembers(ctx context.Context, groupID string, groupIDs ...string) (GroupMembersResult, error) {
	return call[GroupMembersResult](ctx, c, request{method: http.MethodPost, path: "/groups/" + seg(groupID) + "/group-members/remove", body: map[string]any{"group_ids": groupIDs}})
}
