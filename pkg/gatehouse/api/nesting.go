package api

import "time"

// Nested groups (issue 20): a group's group members, the groups it is a
// member of, and the answer to a change of them. Its effective members
// are MemberRow with Through set (GET /groups/{id}/members?effective=true).

// GroupMemberInput is one group to add as a member, with an optional
// expiry (R6).
type GroupMemberInput struct {
	GroupID   string     `json:"group_id" minLength:"1" maxLength:"200"`
	ExpiresAt *time.Time `json:"expires_at,omitempty" doc:"When the membership stops counting (R6); absent for never."`
}

// AddGroupMembersRequest adds groups as members of a group, or changes
// their expiry.
type AddGroupMembersRequest struct {
	Groups []GroupMemberInput `json:"groups" minItems:"1" maxItems:"1000"`
}

// RemoveGroupMembersRequest removes groups from a group's members.
type RemoveGroupMembersRequest struct {
	GroupIDs []string `json:"group_ids" minItems:"1" maxItems:"1000"`
}

// GroupMembership is a group's membership in another group.
type GroupMembership struct {
	GroupID       string     `json:"group_id"`
	MemberGroupID string     `json:"member_group_id"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

// GroupMemberRow is a group in a group's member list, or a group a group
// is a member of, with the membership.
type GroupMemberRow struct {
	Group      Group           `json:"group"`
	Membership GroupMembership `json:"membership"`
}

// GroupRowsBody lists group memberships.
type GroupRowsBody struct {
	Items []GroupMemberRow `json:"items"`
}

// GroupMembersBody is the answer to a change of a group's group members:
// the groups changed, the users who became or stopped being effective
// members through it, the projects concerned (R24, R25) and the
// individual rights dropped in exclusive projects (R23).
type GroupMembersBody struct {
	Groups        []string      `json:"groups"`
	Users         []string      `json:"users"`
	Projects      []ProjectRef  `json:"projects"`
	RightsDropped []UserProject `json:"rights_dropped,omitempty"`
	Revision      int64         `json:"revision"`
}
