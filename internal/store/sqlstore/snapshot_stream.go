package sqlstore

import (
	"context"
	"database/sql"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// streamed is one table of StreamSnapshot: its query, and how to scan a
// row into the mutation handed to the caller.
type streamed struct {
	entity domain.Entity
	q      string
	scan   func(*sql.Rows, *domain.Mutation) error
}

// The tables of a snapshot, referenced objects before those referring to
// them (as engine.New reads them): roles and folder types, projects,
// groups and users, then what joins them.
var streamedTables = []streamed{
	{domain.EntityRole, `SELECT ` + roleCols + ` FROM roles ORDER BY id`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.Role = &domain.Role{}
		return scanRole(rows, m.Role)
	}},
	{domain.EntityFolderType, `SELECT ` + folderTypeCols + ` FROM folder_types ORDER BY id`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.FolderType = &domain.FolderType{}
		return scanFolderType(rows, m.FolderType)
	}},
	{domain.EntityProject, `SELECT ` + projectCols + ` FROM projects ORDER BY id`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.Project = &domain.Project{}
		return scanProject(rows, m.Project)
	}},
	{domain.EntityGroup, `SELECT ` + groupCols + ` FROM groups ORDER BY id`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.Group = &domain.Group{}
		return scanGroup(rows, m.Group)
	}},
	// The two large tables are read in storage order, as LoadSnapshot does.
	{domain.EntityUser, `SELECT ` + userColsNoHash + ` FROM users`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.User = &domain.User{}
		return scanUser(rows, m.User, false)
	}},
	{domain.EntityMembership, `SELECT ` + membershipCols + ` FROM memberships`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.Membership = &domain.Membership{}
		return scanMembership(rows, m.Membership)
	}},
	{domain.EntityGroupMembership, `SELECT ` + groupMembershipCols + ` FROM group_memberships ORDER BY group_id, member_group_id`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.GroupMembership = &domain.GroupMembership{}
		return scanGroupMembership(rows, m.GroupMembership)
	}},
	{domain.EntityProjectGrant, `SELECT ` + grantCols + ` FROM project_grants ORDER BY project_id, subject_kind, subject_id`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.ProjectGrant = &domain.ProjectGrant{}
		return scanGrant(rows, m.ProjectGrant)
	}},
	{domain.EntityDomainGrant, `SELECT group_id, domain FROM domain_grants ORDER BY group_id, domain`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.DomainGrant = &domain.DomainGrant{}
		return rows.Scan(&m.DomainGrant.GroupID, &m.DomainGrant.Domain)
	}},
	{domain.EntityFolder, `SELECT ` + folderCols + ` FROM folders ORDER BY id`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.Folder = &domain.Folder{}
		return scanFolder(rows, m.Folder)
	}},
	{domain.EntityFolderLevel, `SELECT folder_id, group_id, level FROM folder_levels ORDER BY folder_id, group_id`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.FolderLevel = &domain.FolderLevel{}
		return rows.Scan(&m.FolderLevel.FolderID, &m.FolderLevel.GroupID, &m.FolderLevel.Level)
	}},
	{domain.EntityRule, `SELECT ` + ruleCols + ` FROM rules ORDER BY id`, func(rows *sql.Rows, m *domain.Mutation) error {
		m.Rule = &domain.Rule{}
		return scanRule(rows, m.Rule)
	}},
}

// StreamSnapshot reads what LoadSnapshot reads, in one read transaction,
// and hands it over row by row instead of collecting it: start gets the
// revision and the mark of its change first (read in the same transaction,
// so the mark names the change this very state follows), then put gets each object as a put mutation (settings
// excepted), which it must not keep. Memory stays flat whatever the size
// of the data set; an error from start or put ends the read with it.
func (db *DB) StreamSnapshot(ctx context.Context, start func(revision int64, mark string) error, put func(*domain.Mutation) error) error {
	const op = "store.StreamSnapshot"
	sqlTx, err := db.r.BeginTx(ctx, db.d.SnapshotTx)
	if err != nil {
		return db.mapErr(op, err, domain.KindInvalid)
	}
	r := reader{c: &conn{db: db, tx: sqlTx, cache: &db.rstmts}}
	defer func() {
		_ = sqlTx.Rollback() // read-only: nothing to keep
		r.c.done(ctx)
	}()
	var rev int64
	if err := r.c.queryRow(ctx, `SELECT revision FROM gh_revision WHERE id = 1`).Scan(&rev); err != nil {
		return db.mapErr(op, err, domain.KindInvalid)
	}
	mark := ""
	if rev > 0 {
		chs, err := r.ReadChanges(ctx, rev-1, 1)
		if err != nil {
			return domain.E(op, err)
		}
		if len(chs) == 1 && chs[0].Revision == rev {
			mark = domain.ChangeMark(chs[0])
		}
	}
	if err := start(rev, mark); err != nil {
		return err
	}
	var putErr error
	for _, t := range streamedTables {
		err := r.all(ctx, op, func(rows *sql.Rows) error {
			m := domain.Mutation{Op: domain.OpPut, Entity: t.entity}
			if err := t.scan(rows, &m); err != nil {
				return err
			}
			putErr = put(&m)
			return putErr
		}, t.q)
		if putErr != nil {
			return putErr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
