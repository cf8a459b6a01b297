package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// reader implements store.Reader on a conn: the read pool for the Store,
// the transaction for a Tx.
type reader struct{ c *conn }

// getOne runs a single-row query; no row is KindNotFound naming what.
func (r reader) getOne(ctx context.Context, op, what string, scan func(scanner) error, q string, args ...any) error {
	err := scan(r.c.queryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Errorf(op, domain.KindNotFound, "%s not found", what)
	}
	return r.c.db.mapErr(op, err, domain.KindInvalid)
}

// all runs a query and scans every row with scan.
func (r reader) all(ctx context.Context, op string, scan func(*sql.Rows) error, q string, args ...any) error {
	rows, err := r.c.query(ctx, q, args...)
	if err != nil {
		return r.c.db.mapErr(op, err, domain.KindInvalid)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return r.c.db.mapErr(op, err, domain.KindInvalid)
		}
	}
	return r.c.db.mapErr(op, rows.Err(), domain.KindInvalid)
}

func (r reader) GetUser(ctx context.Context, id string) (u domain.User, err error) {
	err = r.getOne(ctx, "store.GetUser", "user "+id, func(s scanner) error { return scanUser(s, &u, true) },
		`SELECT `+userCols+` FROM users WHERE id = ?`, id)
	return u, err
}

func (r reader) GetUserByUsername(ctx context.Context, username string) (u domain.User, err error) {
	err = r.getOne(ctx, "store.GetUserByUsername", "user "+username, func(s scanner) error { return scanUser(s, &u, true) },
		`SELECT `+userCols+` FROM users WHERE username_key = ?`, domain.NameKey(username))
	return u, err
}

func (r reader) ListUsers(ctx context.Context, q store.ListQuery) (store.Page[domain.User], error) {
	var p store.Page[domain.User]
	spec := listSpec{op: "store.ListUsers", cols: userColsNoHash, from: "users", idCol: "id",
		sorts: userSorts, ints: nameInts, search: []string{"username_key", "display_name_key", "email_key"}}
	next, err := r.list(ctx, spec, q, func(rows *sql.Rows, sv any) (string, error) {
		var u domain.User
		err := scanUser(rows, &u, false, sv)
		p.Items = append(p.Items, u)
		return u.ID, err
	})
	p.Next = next
	return p, err
}

func (r reader) GetProject(ctx context.Context, id string) (p domain.Project, err error) {
	err = r.getOne(ctx, "store.GetProject", "project "+id, func(s scanner) error { return scanProject(s, &p) },
		`SELECT `+projectCols+` FROM projects WHERE id = ?`, id)
	return p, err
}

func (r reader) ListProjects(ctx context.Context, q store.ListQuery) (store.Page[domain.Project], error) {
	var p store.Page[domain.Project]
	spec := listSpec{op: "store.ListProjects", cols: projectCols, from: "projects", idCol: "id",
		sorts: nameSorts, ints: nameInts, search: []string{"name_key"}}
	next, err := r.list(ctx, spec, q, func(rows *sql.Rows, sv any) (string, error) {
		var x domain.Project
		err := scanProject(rows, &x, sv)
		p.Items = append(p.Items, x)
		return x.ID, err
	})
	p.Next = next
	return p, err
}

func (r reader) GetGroup(ctx context.Context, id string) (g domain.Group, err error) {
	err = r.getOne(ctx, "store.GetGroup", "group "+id, func(s scanner) error { return scanGroup(s, &g) },
		`SELECT `+groupCols+` FROM groups WHERE id = ?`, id)
	return g, err
}

func (r reader) ListGroups(ctx context.Context, q store.ListQuery) (store.Page[domain.Group], error) {
	var p store.Page[domain.Group]
	spec := listSpec{op: "store.ListGroups", cols: groupCols, from: "groups", idCol: "id",
		sorts: nameSorts, ints: nameInts, search: []string{"name_key"}}
	if q.Scope != "" {
		spec.where = append(spec.where, "scope = ?")
		spec.args = append(spec.args, string(q.Scope))
	}
	if q.ProjectID != "" {
		spec.where = append(spec.where, "project_id = ?")
		spec.args = append(spec.args, q.ProjectID)
	}
	next, err := r.list(ctx, spec, q, func(rows *sql.Rows, sv any) (string, error) {
		var x domain.Group
		err := scanGroup(rows, &x, sv)
		p.Items = append(p.Items, x)
		return x.ID, err
	})
	p.Next = next
	return p, err
}

func (r reader) GetMembership(ctx context.Context, groupID, userID string) (m domain.Membership, err error) {
	err = r.getOne(ctx, "store.GetMembership", fmt.Sprintf("membership of user %s in group %s", userID, groupID),
		func(s scanner) error { return scanMembership(s, &m) },
		`SELECT `+membershipCols+` FROM memberships WHERE group_id = ? AND user_id = ?`, groupID, userID)
	return m, err
}

func (r reader) ListMembers(ctx context.Context, groupID string, q store.ListQuery) (store.Page[store.Member], error) {
	var p store.Page[store.Member]
	spec := listSpec{op: "store.ListMembers",
		cols:  "m.group_id, m.user_id, m.expires_at, m.created_at, m.source, " + prefixCols("u.", userColsNoHash),
		from:  "memberships m JOIN users u ON u.id = m.user_id",
		idCol: "u.id", sorts: memberSorts, ints: nameInts,
		search: []string{"u.username_key", "u.display_name_key", "u.email_key"},
		where:  []string{"m.group_id = ?"}, args: []any{groupID}}
	next, err := r.list(ctx, spec, q, func(rows *sql.Rows, sv any) (string, error) {
		var x store.Member
		var exp sql.NullInt64
		var mcreated int64
		err := scanUser(multiScan{rows, []any{&x.Membership.GroupID, &x.Membership.UserID, &exp, &mcreated, &x.Membership.Source}}, &x.User, false, sv)
		x.Membership.CreatedAt = fromMicros(mcreated)
		if exp.Valid {
			t := fromMicros(exp.Int64)
			x.Membership.ExpiresAt = &t
		}
		p.Items = append(p.Items, x)
		return x.User.ID, err
	})
	p.Next = next
	return p, err
}

// multiScan puts leading destinations before those a scan function adds,
// so one row can feed two entity scanners.
type multiScan struct {
	s    scanner
	head []any
}

func (m multiScan) Scan(dest ...any) error { return m.s.Scan(append(m.head, dest...)...) }

func prefixCols(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func (r reader) ListUserMemberships(ctx context.Context, userID string) ([]domain.Membership, error) {
	var out []domain.Membership
	err := r.all(ctx, "store.ListUserMemberships", func(rows *sql.Rows) error {
		var m domain.Membership
		err := scanMembership(rows, &m)
		out = append(out, m)
		return err
	}, `SELECT `+membershipCols+` FROM memberships WHERE user_id = ? ORDER BY group_id`, userID)
	return out, err
}

func (r reader) GetRole(ctx context.Context, id string) (x domain.Role, err error) {
	err = r.getOne(ctx, "store.GetRole", "role "+id, func(s scanner) error { return scanRole(s, &x) },
		`SELECT `+roleCols+` FROM roles WHERE id = ?`, id)
	return x, err
}

func (r reader) ListRoles(ctx context.Context, q store.ListQuery) (store.Page[domain.Role], error) {
	var p store.Page[domain.Role]
	spec := listSpec{op: "store.ListRoles", cols: roleCols, from: "roles", idCol: "id",
		sorts: nameSorts, ints: nameInts, search: []string{"name_key"}}
	if q.Scope != "" {
		spec.where = append(spec.where, "scope = ?")
		spec.args = append(spec.args, string(q.Scope))
	}
	next, err := r.list(ctx, spec, q, func(rows *sql.Rows, sv any) (string, error) {
		var x domain.Role
		err := scanRole(rows, &x, sv)
		p.Items = append(p.Items, x)
		return x.ID, err
	})
	p.Next = next
	return p, err
}

func (r reader) RoleHolders(ctx context.Context, roleID string) ([]store.RoleHolder, error) {
	var out []store.RoleHolder
	err := r.all(ctx, "store.RoleHolders", func(rows *sql.Rows) error {
		var h store.RoleHolder
		var kind int
		if err := rows.Scan(&kind, &h.ID, &h.Name, &h.ProjectID); err != nil {
			return err
		}
		h.Kind = holderKinds[kind]
		out = append(out, h)
		return nil
	}, `SELECT 0, id, username, '' FROM users WHERE system_role_id = ?
UNION ALL SELECT 1, id, name, '' FROM groups WHERE system_role_id = ?
UNION ALL SELECT 2, id, name, '' FROM groups WHERE default_project_role_id = ?
UNION ALL SELECT 3, pg.subject_id, coalesce(u.username, g.name, ''), pg.project_id
  FROM project_grants pg LEFT JOIN users u ON u.id = pg.user_id LEFT JOIN groups g ON g.id = pg.group_id
  WHERE pg.role_id = ?
ORDER BY 1, 2, 4`, roleID, roleID, roleID, roleID)
	return out, err
}

// holderKinds are RoleHolder.Kind by the number RoleHolders' query
// selects; numbers sort and compare alike in both databases.
var holderKinds = [...]string{"user", "group", "group_default", "project_grant"}

func (r reader) GetProjectGrant(ctx context.Context, projectID string, kind domain.SubjectKind, subjectID string) (g domain.ProjectGrant, err error) {
	err = r.getOne(ctx, "store.GetProjectGrant", fmt.Sprintf("grant of %s %s on project %s", kind, subjectID, projectID),
		func(s scanner) error { return scanGrant(s, &g) },
		`SELECT `+grantCols+` FROM project_grants WHERE project_id = ? AND subject_kind = ? AND subject_id = ?`, projectID, string(kind), subjectID)
	return g, err
}

func (r reader) ListProjectGrants(ctx context.Context, f store.GrantFilter) ([]domain.ProjectGrant, error) {
	var where []string
	var args []any
	if f.ProjectID != "" {
		where = append(where, "project_id = ?")
		args = append(args, f.ProjectID)
	}
	if f.SubjectKind != "" {
		where = append(where, "subject_kind = ?")
		args = append(args, string(f.SubjectKind))
	}
	if f.SubjectID != "" {
		where = append(where, "subject_id = ?")
		args = append(args, f.SubjectID)
	}
	if len(where) == 0 {
		return nil, domain.Errorf("store.ListProjectGrants", domain.KindInvalid, "name a project or a subject")
	}
	var out []domain.ProjectGrant
	err := r.all(ctx, "store.ListProjectGrants", func(rows *sql.Rows) error {
		var g domain.ProjectGrant
		err := scanGrant(rows, &g)
		out = append(out, g)
		return err
	}, `SELECT `+grantCols+` FROM project_grants WHERE `+strings.Join(where, " AND ")+` ORDER BY project_id, subject_kind, subject_id`, args...)
	return out, err
}

func (r reader) ListDomainGrants(ctx context.Context, groupID string) ([]domain.DomainGrant, error) {
	var out []domain.DomainGrant
	err := r.all(ctx, "store.ListDomainGrants", func(rows *sql.Rows) error {
		var g domain.DomainGrant
		err := rows.Scan(&g.GroupID, &g.Domain)
		out = append(out, g)
		return err
	}, `SELECT group_id, domain FROM domain_grants WHERE group_id = ? ORDER BY domain`, groupID)
	return out, err
}

func (r reader) GetFolderType(ctx context.Context, id string) (t domain.FolderType, err error) {
	err = r.getOne(ctx, "store.GetFolderType", "folder type "+id, func(s scanner) error { return scanFolderType(s, &t) },
		`SELECT `+folderTypeCols+` FROM folder_types WHERE id = ?`, id)
	return t, err
}

func (r reader) ListFolderTypes(ctx context.Context) ([]domain.FolderType, error) {
	var out []domain.FolderType
	err := r.all(ctx, "store.ListFolderTypes", func(rows *sql.Rows) error {
		var t domain.FolderType
		err := scanFolderType(rows, &t)
		out = append(out, t)
		return err
	}, `SELECT `+folderTypeCols+` FROM folder_types ORDER BY name_key, id`)
	return out, err
}

func (r reader) GetFolder(ctx context.Context, id string) (f domain.Folder, err error) {
	err = r.getOne(ctx, "store.GetFolder", "folder "+id, func(s scanner) error { return scanFolder(s, &f) },
		`SELECT `+folderCols+` FROM folders WHERE id = ?`, id)
	return f, err
}

func (r reader) ListFolders(ctx context.Context, parentID string, q store.ListQuery) (store.Page[domain.Folder], error) {
	var p store.Page[domain.Folder]
	spec := listSpec{op: "store.ListFolders", cols: folderCols, from: "folders", idCol: "id",
		sorts: nameSorts, ints: nameInts, search: []string{"name_key"}}
	if parentID == "" {
		spec.where = []string{"parent_id IS NULL"}
	} else {
		spec.where, spec.args = []string{"parent_id = ?"}, []any{parentID}
	}
	next, err := r.list(ctx, spec, q, func(rows *sql.Rows, sv any) (string, error) {
		var x domain.Folder
		err := scanFolder(rows, &x, sv)
		p.Items = append(p.Items, x)
		return x.ID, err
	})
	p.Next = next
	return p, err
}

func (r reader) ListFolderLevels(ctx context.Context, folderID, groupID string) ([]domain.FolderLevel, error) {
	var where []string
	var args []any
	if folderID != "" {
		where = append(where, "folder_id = ?")
		args = append(args, folderID)
	}
	if groupID != "" {
		where = append(where, "group_id = ?")
		args = append(args, groupID)
	}
	if len(where) == 0 {
		return nil, domain.Errorf("store.ListFolderLevels", domain.KindInvalid, "name a folder or a group")
	}
	var out []domain.FolderLevel
	err := r.all(ctx, "store.ListFolderLevels", func(rows *sql.Rows) error {
		var l domain.FolderLevel
		err := rows.Scan(&l.FolderID, &l.GroupID, &l.Level)
		out = append(out, l)
		return err
	}, `SELECT folder_id, group_id, level FROM folder_levels WHERE `+strings.Join(where, " AND ")+` ORDER BY folder_id, group_id`, args...)
	return out, err
}

func (r reader) GetRule(ctx context.Context, id string) (x domain.Rule, err error) {
	err = r.getOne(ctx, "store.GetRule", "rule "+id, func(s scanner) error { return scanRule(s, &x) },
		`SELECT `+ruleCols+` FROM rules WHERE id = ?`, id)
	return x, err
}

func (r reader) ListRules(ctx context.Context, groupID string) ([]domain.Rule, error) {
	var out []domain.Rule
	err := r.all(ctx, "store.ListRules", func(rows *sql.Rows) error {
		var x domain.Rule
		err := scanRule(rows, &x)
		out = append(out, x)
		return err
	}, `SELECT `+ruleCols+` FROM rules WHERE group_id = ? ORDER BY name_key, id`, groupID)
	return out, err
}

// Revision returns the last committed revision; inside a write
// transaction, the one the transaction builds on.
func (r reader) Revision(ctx context.Context) (int64, error) {
	var rev int64
	if err := r.c.queryRow(ctx, `SELECT revision FROM gh_revision WHERE id = 1`).Scan(&rev); err != nil {
		return 0, r.c.db.mapErr("store.Revision", err, domain.KindInvalid)
	}
	return rev, nil
}

func (r reader) GetSetting(ctx context.Context, key string) (s domain.Setting, err error) {
	err = r.getOne(ctx, "store.GetSetting", "setting "+key, func(sc scanner) error { return sc.Scan(&s.Key, &s.Value) },
		`SELECT key, value FROM settings WHERE key = ?`, key)
	return s, err
}

func (r reader) ListAudit(ctx context.Context, q store.AuditQuery) (store.Page[domain.AuditEvent], error) {
	const op = "store.ListAudit"
	var p store.Page[domain.AuditEvent]
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if q.ActorID != "" {
		add("actor_id = ?", q.ActorID)
	}
	if q.TargetKind != "" {
		add("target_kind = ?", q.TargetKind)
	}
	if q.TargetID != "" {
		add("target_id = ?", q.TargetID)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if !q.Since.IsZero() {
		add("at >= ?", q.Since.UTC().UnixMicro())
	}
	if !q.Until.IsZero() {
		add("at < ?", q.Until.UTC().UnixMicro())
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return p, domain.Errorf(op, domain.KindInvalid, "the cursor is not one this list returned: %v", err)
		}
		where = append(where, "(at, id) < (?, ?)")
		args = append(args, c.N, c.I)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	query := `SELECT ` + auditCols + ` FROM audit`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	err := r.all(ctx, op, func(rows *sql.Rows) error {
		var e domain.AuditEvent
		err := scanAudit(rows, &e)
		p.Items = append(p.Items, e)
		return err
	}, query, args...)
	if err != nil {
		return store.Page[domain.AuditEvent]{}, err
	}
	if len(p.Items) > limit {
		p.Items = p.Items[:limit]
		last := p.Items[limit-1]
		p.Next = encodeCursor(cursor{N: last.At.UnixMicro(), I: last.ID})
	}
	return p, nil
}

// ListChangeAudit returns the successful audit records of revisions in
// (after, upTo] written in [since, until], in chain order. The time bounds
// let the audit_at index narrow the scan.
func (r reader) ListChangeAudit(ctx context.Context, after, upTo int64, since, until time.Time) ([]domain.AuditEvent, error) {
	var out []domain.AuditEvent
	err := r.all(ctx, "store.ListChangeAudit", func(rows *sql.Rows) error {
		var e domain.AuditEvent
		err := scanAudit(rows, &e)
		out = append(out, e)
		return err
	}, `SELECT `+auditCols+` FROM audit WHERE at >= ? AND at <= ? AND revision > ? AND revision <= ? AND outcome = 'success' ORDER BY seq`,
		storeTime(since).UnixMicro(), storeTime(until).UnixMicro(), after, upTo)
	return out, err
}
