package sqlstore

import (
	"context"
	"database/sql"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// LoadSnapshot reads every entity and the revision in one read
// transaction, so the snapshot is exactly the state at that revision.
func (db *DB) LoadSnapshot(ctx context.Context) (*domain.Snapshot, error) {
	const op = "store.LoadSnapshot"
	sqlTx, err := db.r.BeginTx(ctx, db.d.SnapshotTx)
	if err != nil {
		return nil, db.mapErr(op, err, domain.KindInvalid)
	}
	r := reader{c: &conn{db: db, tx: sqlTx, cache: &db.rstmts}}
	defer func() {
		_ = sqlTx.Rollback() // read-only: nothing to keep
		r.c.done(ctx)
	}()
	s := &domain.Snapshot{}
	if err := r.c.queryRow(ctx, `SELECT revision FROM gh_revision WHERE id = 1`).Scan(&s.Revision); err != nil {
		return nil, db.mapErr(op, err, domain.KindInvalid)
	}
	var nUsers, nMembers int
	if err := r.c.queryRow(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM memberships)`).Scan(&nUsers, &nMembers); err != nil {
		return nil, db.mapErr(op, err, domain.KindInvalid)
	}

	// The snapshot promises no order; the two large tables are read in
	// storage order so PostgreSQL need not sort a million rows.
	//
	// Memberships repeat user and group ids a million times: they reuse
	// the strings of the users and groups read first instead of
	// allocating their own.
	s.Users = make([]domain.User, 0, nUsers)
	ids := make(map[string]string, nUsers+1024)
	err = r.all(ctx, op, func(rows *sql.Rows) error {
		s.Users = append(s.Users, domain.User{})
		u := &s.Users[len(s.Users)-1]
		if err := scanUser(rows, u, false); err != nil {
			return err
		}
		ids[u.ID] = u.ID
		return nil
	}, `SELECT `+userColsNoHash+` FROM users`)
	if err != nil {
		return nil, err
	}
	err = r.all(ctx, op, func(rows *sql.Rows) error {
		var g domain.Group
		err := scanGroup(rows, &g)
		ids[g.ID] = g.ID
		s.Groups = append(s.Groups, g)
		return err
	}, `SELECT `+groupCols+` FROM groups ORDER BY id`)
	if err != nil {
		return nil, err
	}
	s.Memberships = make([]domain.Membership, 0, nMembers)
	var gid, uid sql.RawBytes
	intern := func(b sql.RawBytes) string {
		if s, ok := ids[string(b)]; ok {
			return s
		}
		return string(b)
	}
	err = r.all(ctx, op, func(rows *sql.Rows) error {
		var exp sql.NullInt64
		var created int64
		var source domain.MembershipSource
		if err := rows.Scan(&gid, &uid, &exp, &created, &source); err != nil {
			return err
		}
		m := domain.Membership{GroupID: intern(gid), UserID: intern(uid), CreatedAt: fromMicros(created), Source: source}
		if exp.Valid {
			t := fromMicros(exp.Int64)
			m.ExpiresAt = &t
		}
		s.Memberships = append(s.Memberships, m)
		return nil
	}, `SELECT `+membershipCols+` FROM memberships`)
	if err != nil {
		return nil, err
	}
	if s.GroupMemberships, err = r.listAllGroupMemberships(ctx, op); err != nil {
		return nil, err
	}
	steps := []struct {
		q    string
		scan func(*sql.Rows) error
	}{
		{`SELECT ` + projectCols + ` FROM projects ORDER BY id`, func(rows *sql.Rows) error {
			var x domain.Project
			err := scanProject(rows, &x)
			s.Projects = append(s.Projects, x)
			return err
		}},
		{`SELECT ` + roleCols + ` FROM roles ORDER BY id`, func(rows *sql.Rows) error {
			var x domain.Role
			err := scanRole(rows, &x)
			s.Roles = append(s.Roles, x)
			return err
		}},
		{`SELECT ` + grantCols + ` FROM project_grants ORDER BY project_id, subject_kind, subject_id`, func(rows *sql.Rows) error {
			var x domain.ProjectGrant
			err := scanGrant(rows, &x)
			s.ProjectGrants = append(s.ProjectGrants, x)
			return err
		}},
		{`SELECT group_id, domain FROM domain_grants ORDER BY group_id, domain`, func(rows *sql.Rows) error {
			var x domain.DomainGrant
			err := rows.Scan(&x.GroupID, &x.Domain)
			s.DomainGrants = append(s.DomainGrants, x)
			return err
		}},
		{`SELECT ` + folderTypeCols + ` FROM folder_types ORDER BY id`, func(rows *sql.Rows) error {
			var x domain.FolderType
			err := scanFolderType(rows, &x)
			s.FolderTypes = append(s.FolderTypes, x)
			return err
		}},
		{`SELECT ` + folderCols + ` FROM folders ORDER BY id`, func(rows *sql.Rows) error {
			var x domain.Folder
			err := scanFolder(rows, &x)
			s.Folders = append(s.Folders, x)
			return err
		}},
		{`SELECT folder_id, group_id, level FROM folder_levels ORDER BY folder_id, group_id`, func(rows *sql.Rows) error {
			var x domain.FolderLevel
			err := rows.Scan(&x.FolderID, &x.GroupID, &x.Level)
			s.FolderLevels = append(s.FolderLevels, x)
			return err
		}},
		{`SELECT ` + ruleCols + ` FROM rules ORDER BY id`, func(rows *sql.Rows) error {
			var x domain.Rule
			err := scanRule(rows, &x)
			s.Rules = append(s.Rules, x)
			return err
		}},
		{`SELECT key, value FROM settings ORDER BY key`, func(rows *sql.Rows) error {
			var x domain.Setting
			err := rows.Scan(&x.Key, &x.Value)
			s.Settings = append(s.Settings, x)
			return err
		}},
	}
	for _, st := range steps {
		if err := r.all(ctx, op, st.scan, st.q); err != nil {
			return nil, err
		}
	}
	return s, nil
}
