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
	scan   func(*sql.Rows, *streamRow) error
}

// streamRow is what StreamSnapshot reuses from one row to the next: put
// keeps neither the mutation nor its object, and a million memberships
// would otherwise allocate a million of each, a quarter of a gigabyte of
// garbage in a large load (issue 18: cold start).
type streamRow struct {
	m          domain.Mutation
	user       domain.User
	membership domain.Membership
	folder     domain.Folder
	expiry     sql.NullInt64
	role       sql.NullString
	parent     sql.NullString
	project    sql.NullString
	props      []byte
}

// The tables of a snapshot, referenced objects before those referring to
// them (as engine.New reads them): roles and folder types, projects,
// groups and users, then what joins them.
//
// Users, memberships and folders, nearly all of a large snapshot, are read
// without the columns no check reads (store.Store.StreamSnapshot): each
// column of a million rows costs a tenth of a second through the driver
// (issue 18: cold start).
var streamedTables = []streamed{
	{domain.EntityRole, `SELECT ` + roleCols + ` FROM roles ORDER BY id`, func(rows *sql.Rows, r *streamRow) error {
		r.m.Role = &domain.Role{}
		return scanRole(rows, r.m.Role)
	}},
	{domain.EntityFolderType, `SELECT ` + folderTypeCols + ` FROM folder_types ORDER BY id`, func(rows *sql.Rows, r *streamRow) error {
		r.m.FolderType = &domain.FolderType{}
		return scanFolderType(rows, r.m.FolderType)
	}},
	{domain.EntityProject, `SELECT ` + projectCols + ` FROM projects ORDER BY id`, func(rows *sql.Rows, r *streamRow) error {
		r.m.Project = &domain.Project{}
		return scanProject(rows, r.m.Project)
	}},
	{domain.EntityGroup, `SELECT ` + groupCols + ` FROM groups ORDER BY id`, func(rows *sql.Rows, r *streamRow) error {
		r.m.Group = &domain.Group{}
		return scanGroup(rows, r.m.Group)
	}},
	// The two large tables are read in storage order, as LoadSnapshot does.
	{domain.EntityUser, `SELECT id, username, status, system_role_id, show_personal_info FROM users`, func(rows *sql.Rows, r *streamRow) error {
		u := &r.user
		*u, r.m.User = domain.User{}, u
		err := rows.Scan(&u.ID, &u.Username, &u.Status, &r.role, &u.ShowPersonalInfo)
		u.SystemRoleID = r.role.String
		return err
	}},
	{domain.EntityMembership, `SELECT group_id, user_id, expires_at FROM memberships`, func(rows *sql.Rows, r *streamRow) error {
		ms := &r.membership
		*ms, r.m.Membership = domain.Membership{}, ms
		err := rows.Scan(&ms.GroupID, &ms.UserID, &r.expiry)
		ms.ExpiresAt = expiryOf(r.expiry)
		return err
	}},
	{domain.EntityGroupMembership, `SELECT ` + groupMembershipCols + ` FROM group_memberships ORDER BY group_id, member_group_id`, func(rows *sql.Rows, r *streamRow) error {
		r.m.GroupMembership = &domain.GroupMembership{}
		return scanGroupMembership(rows, r.m.GroupMembership)
	}},
	{domain.EntityProjectGrant, `SELECT ` + grantCols + ` FROM project_grants ORDER BY project_id, subject_kind, subject_id`, func(rows *sql.Rows, r *streamRow) error {
		r.m.ProjectGrant = &domain.ProjectGrant{}
		return scanGrant(rows, r.m.ProjectGrant)
	}},
	{domain.EntityDomainGrant, `SELECT group_id, domain FROM domain_grants ORDER BY group_id, domain`, func(rows *sql.Rows, r *streamRow) error {
		r.m.DomainGrant = &domain.DomainGrant{}
		return rows.Scan(&r.m.DomainGrant.GroupID, &r.m.DomainGrant.Domain)
	}},
	{domain.EntityFolder, `SELECT id, parent_id, name, type_id, properties, project_id FROM folders ORDER BY id`, func(rows *sql.Rows, r *streamRow) error {
		f := &r.folder
		*f, r.m.Folder = domain.Folder{}, f // a fresh Properties map: the last one is the caller's
		if err := rows.Scan(&f.ID, &r.parent, &f.Name, &f.TypeID, &r.props, &r.project); err != nil {
			return err
		}
		f.ParentID, f.ProjectID = r.parent.String, r.project.String
		return unmarshal(r.props, &f.Properties)
	}},
	{domain.EntityFolderLevel, `SELECT folder_id, group_id, level FROM folder_levels ORDER BY folder_id, group_id`, func(rows *sql.Rows, r *streamRow) error {
		r.m.FolderLevel = &domain.FolderLevel{}
		return rows.Scan(&r.m.FolderLevel.FolderID, &r.m.FolderLevel.GroupID, &r.m.FolderLevel.Level)
	}},
	{domain.EntityRule, `SELECT ` + ruleCols + ` FROM rules ORDER BY id`, func(rows *sql.Rows, r *streamRow) error {
		r.m.Rule = &domain.Rule{}
		return scanRule(rows, r.m.Rule)
	}},
}

// StreamSnapshot reads what LoadSnapshot reads, less the fields no check
// reads (store.Store), in one read transaction, and hands it over row by
// row instead of collecting it: start gets the revision and the mark of
// its change first (read in the same transaction, so the mark names the
// change this very state follows), then put gets each object as a put
// mutation (settings excepted), which it must not keep: the mutation and
// the user, membership and folder objects are reused. Memory stays flat
// whatever the size of the data set; an error from start or put ends the
// read with it.
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
	row := new(streamRow)
	for _, t := range streamedTables {
		err := r.all(ctx, op, func(rows *sql.Rows) error {
			row.m = domain.Mutation{Op: domain.OpPut, Entity: t.entity}
			if err := t.scan(rows, row); err != nil {
				return err
			}
			putErr = put(&row.m)
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
