package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Nested groups (issue 20): a group as a member of another group, in the
// table group_memberships (migration 00008).

const groupMembershipCols = `group_id, member_group_id, expires_at, created_at`

func scanGroupMembership(sc scanner, m *domain.GroupMembership) error {
	var exp sql.NullInt64
	var created int64
	if err := sc.Scan(&m.GroupID, &m.MemberGroupID, &exp, &created); err != nil {
		return err
	}
	m.CreatedAt, m.ExpiresAt = fromMicros(created), expiryOf(exp)
	return nil
}

func (r reader) GetGroupMembership(ctx context.Context, groupID, memberGroupID string) (m domain.GroupMembership, err error) {
	err = r.getOne(ctx, "store.GetGroupMembership", fmt.Sprintf("membership of group %s in group %s", memberGroupID, groupID),
		func(s scanner) error { return scanGroupMembership(s, &m) },
		`SELECT `+groupMembershipCols+` FROM group_memberships WHERE group_id = ? AND member_group_id = ?`, groupID, memberGroupID)
	return m, err
}

func (r reader) groupMemberships(ctx context.Context, op, where, order string, arg string) ([]domain.GroupMembership, error) {
	out := []domain.GroupMembership{}
	err := r.all(ctx, op, func(rows *sql.Rows) error {
		var m domain.GroupMembership
		err := scanGroupMembership(rows, &m)
		out = append(out, m)
		return err
	}, `SELECT `+groupMembershipCols+` FROM group_memberships WHERE `+where+` = ? ORDER BY `+order, arg)
	return out, err
}

func (r reader) ListGroupMembers(ctx context.Context, groupID string) ([]domain.GroupMembership, error) {
	return r.groupMemberships(ctx, "store.ListGroupMembers", "group_id", "member_group_id", groupID)
}

func (r reader) ListGroupParents(ctx context.Context, groupID string) ([]domain.GroupMembership, error) {
	return r.groupMemberships(ctx, "store.ListGroupParents", "member_group_id", "group_id", groupID)
}

func (r reader) listAllGroupMemberships(ctx context.Context, op string) ([]domain.GroupMembership, error) {
	var out []domain.GroupMembership
	err := r.all(ctx, op, func(rows *sql.Rows) error {
		var m domain.GroupMembership
		err := scanGroupMembership(rows, &m)
		out = append(out, m)
		return err
	}, `SELECT `+groupMembershipCols+` FROM group_memberships ORDER BY group_id, member_group_id`)
	return out, err
}

func (t *tx) PutGroupMembership(ctx context.Context, m *domain.GroupMembership) error {
	var created int64
	err := t.c.queryRow(ctx, `INSERT INTO group_memberships (group_id, member_group_id, expires_at, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (group_id, member_group_id) DO UPDATE SET expires_at = excluded.expires_at RETURNING created_at`,
		m.GroupID, m.MemberGroupID, nullTime(m.ExpiresAt), t.c.db.clock().UnixMicro()).Scan(&created)
	if err != nil {
		return t.c.db.mapErr("store.PutGroupMembership", err, domain.KindInvalid)
	}
	m.CreatedAt = fromMicros(created)
	m.ExpiresAt = storedExpiry(m.ExpiresAt)
	c := *m
	c.ExpiresAt = storedExpiry(c.ExpiresAt) // the change log's own copy
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityGroupMembership, GroupMembership: &c})
	return nil
}

func (t *tx) DeleteGroupMembership(ctx context.Context, groupID, memberGroupID string) error {
	if err := t.execOne(ctx, "store.DeleteGroupMembership", fmt.Sprintf("membership of group %s in group %s", memberGroupID, groupID), domain.KindConflict,
		`DELETE FROM group_memberships WHERE group_id = ? AND member_group_id = ?`, groupID, memberGroupID); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityGroupMembership,
		GroupMembership: &domain.GroupMembership{GroupID: groupID, MemberGroupID: memberGroupID}})
	return nil
}
