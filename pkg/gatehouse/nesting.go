package gatehouse

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Nested groups (issue 20): groups as members of a group, and the groups
// a group is a member of. A group's effective members are ListMembers
// with MemberQuery.Effective.

// ListGroupMembers lists the groups that are members of a group.
func (c *Client) ListGroupMembers(ctx context.Context, groupID string) ([]api.GroupMemberRow, error) {
	r, err := read[api.GroupRowsBody](ctx, c, "/groups/"+seg(groupID)+"/group-members")
	return r.Items, err
}

// ListGroupParents lists the groups a group is a member of.
func (c *Client) ListGroupParents(ctx context.Context, groupID string) ([]api.GroupMemberRow, error) {
	r, err := read[api.GroupRowsBody](ctx, c, "/groups/"+seg(groupID)+"/parents")
	return r.Items, err
}

// AddGroupMembers adds groups as members of a group, or changes their
// expiry; a cycle (409) or a chain deeper than the server's limit (422)
// is refused.
func (c *Client) AddGroupMembers(ctx context.Context, groupID string, groups ...api.GroupMemberInput) (api.GroupMembersBody, error) {
	return write[api.GroupMembersBody](ctx, c, http.MethodPost, "/groups/"+seg(groupID)+"/group-members", api.AddGroupMembersRequest{Groups: groups}, 0)
}

// RemoveGroupMembers removes groups from a group's members.
func (c *Client) RemoveGroupMembers(ctx context.Context, groupID string, groupIDs ...string) (api.GroupMembersBody, error) {
	return write[api.GroupMembersBody](ctx, c, http.MethodPost, "/groups/"+seg(groupID)+"/group-members/remove", api.RemoveGroupMembersRequest{GroupIDs: groupIDs}, 0)
}
