package sqlstore

import (
	"database/sql"
	"encoding/json"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// mustJSON encodes values whose types cannot fail to encode (string
// slices and maps).
func mustJSON(v any) string {
	s, err := marshal(v)
	if err != nil {
		panic("sqlstore: encoding JSON: " + err.Error())
	}
	return s
}

func unmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// nullable stores the empty string as NULL, which optional references need.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func rawOrNil(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().UnixMicro()
}

const userCols = `id, username, email, display_name, status, source, external_id, system_role_id, show_personal_info, created_at, updated_at, version, password_hash`

// userColsNoHash leaves the hash out, for the snapshot and lists.
const userColsNoHash = `id, username, email, display_name, status, source, external_id, system_role_id, show_personal_info, created_at, updated_at, version`

func scanUser(sc scanner, u *domain.User, hash bool, extra ...any) error {
	var role sql.NullString
	var created, updated int64
	dest := []any{&u.ID, &u.Username, &u.Email, &u.DisplayName, &u.Status, &u.Source, &u.ExternalID, &role, &u.ShowPersonalInfo, &created, &updated, &u.Version}
	if hash {
		dest = append(dest, &u.PasswordHash)
	}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return err
	}
	u.SystemRoleID = role.String
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return nil
}

const projectCols = `id, name, description, membership_mode, created_at, updated_at, version`

func scanProject(sc scanner, p *domain.Project, extra ...any) error {
	var created, updated int64
	if err := sc.Scan(append([]any{&p.ID, &p.Name, &p.Description, &p.MembershipMode, &created, &updated, &p.Version}, extra...)...); err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return nil
}

const groupCols = `id, name, description, scope, project_id, builtin, external_id, system_role_id, system_permissions, default_project_role_id, default_project_permissions, created_at, updated_at, version`

func scanGroup(sc scanner, g *domain.Group, extra ...any) error {
	var project, role, defRole sql.NullString
	var perms, defPerms []byte
	var created, updated int64
	if err := sc.Scan(append([]any{&g.ID, &g.Name, &g.Description, &g.Scope, &project, &g.Builtin, &g.ExternalID, &role, &perms, &defRole, &defPerms, &created, &updated, &g.Version}, extra...)...); err != nil {
		return err
	}
	g.ProjectID, g.SystemRoleID, g.DefaultProjectRoleID = project.String, role.String, defRole.String
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := unmarshal(perms, &g.SystemPermissions); err != nil {
		return err
	}
	return unmarshal(defPerms, &g.DefaultProjectPermissions)
}

const membershipCols = `group_id, user_id, expires_at, created_at, source`

func scanMembership(sc scanner, m *domain.Membership, extra ...any) error {
	var exp sql.NullInt64
	var created int64
	if err := sc.Scan(append([]any{&m.GroupID, &m.UserID, &exp, &created, &m.Source}, extra...)...); err != nil {
		return err
	}
	m.CreatedAt, m.ExpiresAt = fromMicros(created), expiryOf(exp)
	return nil
}

// expiryOf reads a nullable expiry column: NULL is no expiry.
func expiryOf(exp sql.NullInt64) *time.Time {
	if !exp.Valid {
		return nil
	}
	t := fromMicros(exp.Int64)
	return &t
}

const roleCols = `id, name, description, scope, permissions, builtin, editable, deletable, created_at, updated_at, version`

func scanRole(sc scanner, r *domain.Role, extra ...any) error {
	var perms []byte
	var created, updated int64
	if err := sc.Scan(append([]any{&r.ID, &r.Name, &r.Description, &r.Scope, &perms, &r.Builtin, &r.Editable, &r.Deletable, &created, &updated, &r.Version}, extra...)...); err != nil {
		return err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return unmarshal(perms, &r.Permissions)
}

const grantCols = `project_id, subject_kind, subject_id, role_id, permissions, updated_at`

func scanGrant(sc scanner, g *domain.ProjectGrant) error {
	var role sql.NullString
	var perms []byte
	var updated int64
	if err := sc.Scan(&g.ProjectID, &g.SubjectKind, &g.SubjectID, &role, &perms, &updated); err != nil {
		return err
	}
	g.RoleID = role.String
	g.UpdatedAt = fromMicros(updated)
	return unmarshal(perms, &g.Permissions)
}

const folderTypeCols = `id, name, contexts, properties, created_at, updated_at, version`

func scanFolderType(sc scanner, t *domain.FolderType) error {
	var contexts, props []byte
	var created, updated int64
	if err := sc.Scan(&t.ID, &t.Name, &contexts, &props, &created, &updated, &t.Version); err != nil {
		return err
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := unmarshal(contexts, &t.Contexts); err != nil {
		return err
	}
	return unmarshal(props, &t.Properties)
}

const folderCols = `id, parent_id, name, type_id, properties, project_id, created_at, updated_at, version`

func scanFolder(sc scanner, f *domain.Folder, extra ...any) error {
	var parent, project sql.NullString
	var props []byte
	var created, updated int64
	if err := sc.Scan(append([]any{&f.ID, &parent, &f.Name, &f.TypeID, &props, &project, &created, &updated, &f.Version}, extra...)...); err != nil {
		return err
	}
	f.ParentID, f.ProjectID = parent.String, project.String
	f.CreatedAt, f.UpdatedAt = fromMicros(created), fromMicros(updated)
	return unmarshal(props, &f.Properties)
}

const ruleCols = `id, group_id, name, criteria, grants, created_at, updated_at, version`

func scanRule(sc scanner, r *domain.Rule) error {
	var crit, grants []byte
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.GroupID, &r.Name, &crit, &grants, &created, &updated, &r.Version); err != nil {
		return err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := unmarshal(crit, &r.Criteria); err != nil {
		return err
	}
	return unmarshal(grants, &r.Grants)
}

const auditCols = `id, revision, at, actor_id, actor_name, action, target_kind, target_id, outcome, before_json, after_json, detail, remote_addr`

func scanAudit(sc scanner, e *domain.AuditEvent) error {
	var at int64
	var before, after sql.NullString
	if err := sc.Scan(&e.ID, &e.Revision, &at, &e.ActorID, &e.ActorName, &e.Action, &e.TargetKind, &e.TargetID, &e.Outcome, &before, &after, &e.Detail, &e.RemoteAddr); err != nil {
		return err
	}
	e.At = fromMicros(at)
	if before.Valid {
		e.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		e.After = json.RawMessage(after.String)
	}
	return nil
}
