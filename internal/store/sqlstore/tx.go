package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/identifier"
	"github.com/gatehouse/gatehouse/internal/store"
)

// tx is a store.Tx: its reads see its own writes, and it buffers the
// mutations and audit events that InTx commits with the change-log row.
type tx struct {
	reader
	muts  []domain.Mutation
	audit []*domain.AuditEvent
}

var _ store.Tx = (*tx)(nil)

func (t *tx) record(m domain.Mutation) { t.muts = append(t.muts, m) }

// Pending returns the mutations recorded so far (store.Tx).
func (t *tx) Pending() []domain.Mutation { return t.muts }

// execOne runs a write that must touch exactly one row; zero rows is
// KindNotFound naming what.
func (t *tx) execOne(ctx context.Context, op, what string, fk domain.Kind, q string, args ...any) error {
	res, err := t.c.exec(ctx, q, args...)
	if err != nil {
		return t.c.db.mapErr(op, err, fk)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.c.db.mapErr(op, err, fk)
	}
	if n == 0 {
		return domain.Errorf(op, domain.KindNotFound, "%s not found", what)
	}
	return nil
}

// versioned runs an optimistic update (… WHERE id = ? AND version = ?
// RETURNING created_at). No row means the object is missing (KindNotFound)
// or was changed meanwhile (KindConflict).
func (t *tx) versioned(ctx context.Context, op, table, id string, q string, args ...any) (created int64, err error) {
	err = t.c.queryRow(ctx, q, args...).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		var one int
		err = t.c.queryRow(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, domain.Errorf(op, domain.KindNotFound, "%s %s not found", nouns[table], id)
		}
		if err != nil {
			return 0, t.c.db.mapErr(op, err, domain.KindInvalid)
		}
		return 0, domain.Errorf(op, domain.KindConflict, "%s %s was changed by someone else meanwhile; reload it and try again", nouns[table], id)
	}
	return created, t.c.db.mapErr(op, err, domain.KindInvalid)
}

// nouns name the versioned tables' rows in messages.
var nouns = map[string]string{"users": "user", "projects": "project", "groups": "group", "roles": "role",
	"folder_types": "folder type", "folders": "folder", "rules": "rule", "webhooks": "webhook"}

// stamp gives a new object its id, if it has none, and its creation time.
func (t *tx) stamp(id *string, created, updated *int64) {
	if *id == "" {
		*id = domain.NewID()
	}
	now := t.c.db.clock().UnixMicro()
	*created, *updated = now, now
}

func (t *tx) CreateUser(ctx context.Context, u *domain.User) error {
	if u.ID == "" {
		u.ID = domain.NewID()
	}
	now := t.c.db.clock()
	_, err := t.c.exec(ctx, `INSERT INTO users (id, username, username_key, username_skel, email, email_key, display_name, display_name_key, status, source, external_id, password_hash, system_role_id, show_personal_info, created_at, updated_at, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		u.ID, u.Username, domain.NameKey(u.Username), identifier.Skeleton(u.Username), u.Email, domain.NameKey(u.Email), u.DisplayName, domain.NameKey(u.DisplayName),
		string(u.Status), string(u.Source), u.ExternalID, u.PasswordHash, nullable(u.SystemRoleID), u.ShowPersonalInfo, now.UnixMicro(), now.UnixMicro())
	if err != nil {
		return t.c.db.mapErr("store.CreateUser", err, domain.KindInvalid)
	}
	u.CreatedAt, u.UpdatedAt, u.Version = now, now, 1
	t.putUser(u)
	return nil
}

func (t *tx) putUser(u *domain.User) {
	c := *u
	c.PasswordHash = ""
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityUser, User: &c})
}

func (t *tx) UpdateUser(ctx context.Context, u *domain.User) error {
	now := t.c.db.clock()
	// The hash is not a field UpdateUser writes: SetPasswordHash owns it.
	created, err := t.versioned(ctx, "store.UpdateUser", "users", u.ID, `UPDATE users SET username = ?, username_key = ?, username_skel = `+keepSkel("username")+`, email = ?, email_key = ?, display_name = ?, display_name_key = ?, status = ?, source = ?, external_id = ?, system_role_id = ?, show_personal_info = ?, updated_at = ?, version = version + 1
WHERE id = ? AND version = ? RETURNING created_at`,
		u.Username, domain.NameKey(u.Username), u.Username, identifier.Skeleton(u.Username), u.Email, domain.NameKey(u.Email), u.DisplayName, domain.NameKey(u.DisplayName),
		string(u.Status), string(u.Source), u.ExternalID, nullable(u.SystemRoleID), u.ShowPersonalInfo, now.UnixMicro(), u.ID, u.Version)
	if err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), now
	u.Version++
	t.putUser(u)
	return nil
}

func (t *tx) SetPasswordHash(ctx context.Context, userID, hash string) error {
	return t.execOne(ctx, "store.SetPasswordHash", "user "+userID, domain.KindInvalid,
		`UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
}

func (t *tx) DeleteUser(ctx context.Context, id string) error {
	u, err := t.GetUser(ctx, id)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, "store.DeleteUser", "user "+id, domain.KindConflict, `DELETE FROM users WHERE id = ?`, id); err != nil {
		return err
	}
	u.PasswordHash = ""
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityUser, User: &u})
	return nil
}

func (t *tx) CreateProject(ctx context.Context, p *domain.Project) error {
	var created, updated int64
	t.stamp(&p.ID, &created, &updated)
	_, err := t.c.exec(ctx, `INSERT INTO projects (id, name, name_key, name_skel, description, membership_mode, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		p.ID, p.Name, domain.NameKey(p.Name), identifier.Skeleton(p.Name), p.Description, string(p.MembershipMode), created, updated)
	if err != nil {
		return t.c.db.mapErr("store.CreateProject", err, domain.KindInvalid)
	}
	p.CreatedAt, p.UpdatedAt, p.Version = fromMicros(created), fromMicros(updated), 1
	c := *p
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityProject, Project: &c})
	return nil
}

func (t *tx) UpdateProject(ctx context.Context, p *domain.Project) error {
	now := t.c.db.clock()
	created, err := t.versioned(ctx, "store.UpdateProject", "projects", p.ID, `UPDATE projects SET name = ?, name_key = ?, name_skel = `+keepSkel("name")+`, description = ?, membership_mode = ?, updated_at = ?, version = version + 1
WHERE id = ? AND version = ? RETURNING created_at`,
		p.Name, domain.NameKey(p.Name), p.Name, identifier.Skeleton(p.Name), p.Description, string(p.MembershipMode), now.UnixMicro(), p.ID, p.Version)
	if err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), now
	p.Version++
	c := *p
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityProject, Project: &c})
	return nil
}

func (t *tx) DeleteProject(ctx context.Context, id string) error {
	p, err := t.GetProject(ctx, id)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, "store.DeleteProject", "project "+id, domain.KindConflict, `DELETE FROM projects WHERE id = ?`, id); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityProject, Project: &p})
	return nil
}

func (t *tx) CreateGroup(ctx context.Context, g *domain.Group) error {
	var created, updated int64
	t.stamp(&g.ID, &created, &updated)
	_, err := t.c.exec(ctx, `INSERT INTO groups (id, name, name_key, name_skel, description, scope, project_id, builtin, external_id, system_role_id, system_permissions, default_project_role_id, default_project_permissions, created_at, updated_at, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		g.ID, g.Name, domain.NameKey(g.Name), identifier.Skeleton(g.Name), g.Description, string(g.Scope), nullable(g.ProjectID), string(g.Builtin), g.ExternalID,
		nullable(g.SystemRoleID), mustJSON(g.SystemPermissions), nullable(g.DefaultProjectRoleID), mustJSON(g.DefaultProjectPermissions), created, updated)
	if err != nil {
		return t.c.db.mapErr("store.CreateGroup", err, domain.KindInvalid)
	}
	g.CreatedAt, g.UpdatedAt, g.Version = fromMicros(created), fromMicros(updated), 1
	c := *g
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityGroup, Group: &c})
	return nil
}

func (t *tx) UpdateGroup(ctx context.Context, g *domain.Group) error {
	const op = "store.UpdateGroup"
	old, err := t.GetGroup(ctx, g.ID)
	if err != nil {
		return err
	}
	if old.Scope != g.Scope || old.ProjectID != g.ProjectID || old.Builtin != g.Builtin {
		return domain.E(op, domain.KindInvalid, domain.FieldError{Field: "scope",
			Message: "a group's scope, project and built-in kind are fixed at creation (R1)"})
	}
	now := t.c.db.clock()
	created, err := t.versioned(ctx, op, "groups", g.ID, `UPDATE groups SET name = ?, name_key = ?, name_skel = `+keepSkel("name")+`, description = ?, external_id = ?, system_role_id = ?, system_permissions = ?, default_project_role_id = ?, default_project_permissions = ?, updated_at = ?, version = version + 1
WHERE id = ? AND version = ? RETURNING created_at`,
		g.Name, domain.NameKey(g.Name), g.Name, identifier.Skeleton(g.Name), g.Description, g.ExternalID, nullable(g.SystemRoleID), mustJSON(g.SystemPermissions),
		nullable(g.DefaultProjectRoleID), mustJSON(g.DefaultProjectPermissions), now.UnixMicro(), g.ID, g.Version)
	if err != nil {
		return err
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(created), now
	g.Version++
	c := *g
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityGroup, Group: &c})
	return nil
}

func (t *tx) DeleteGroup(ctx context.Context, id string) error {
	g, err := t.GetGroup(ctx, id)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, "store.DeleteGroup", "group "+id, domain.KindConflict, `DELETE FROM groups WHERE id = ?`, id); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityGroup, Group: &g})
	return nil
}

func (t *tx) PutMembership(ctx context.Context, m *domain.Membership) error {
	var created int64
	err := t.c.queryRow(ctx, `INSERT INTO memberships (group_id, user_id, expires_at, created_at, source) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (group_id, user_id) DO UPDATE SET expires_at = excluded.expires_at, source = excluded.source RETURNING created_at`,
		m.GroupID, m.UserID, nullTime(m.ExpiresAt), t.c.db.clock().UnixMicro(), string(m.Source)).Scan(&created)
	if err != nil {
		return t.c.db.mapErr("store.PutMembership", err, domain.KindInvalid)
	}
	m.CreatedAt = fromMicros(created)
	m.ExpiresAt = storedExpiry(m.ExpiresAt)
	c := *m
	c.ExpiresAt = storedExpiry(c.ExpiresAt) // the change log's own copy
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityMembership, Membership: &c})
	return nil
}

// storedExpiry is an expiry as the database keeps it (UTC, whole
// microseconds), in a time of its own: nil stays nil.
func storedExpiry(e *time.Time) *time.Time {
	if e == nil {
		return nil
	}
	t := e.UTC().Truncate(time.Microsecond)
	return &t
}

func (t *tx) DeleteMembership(ctx context.Context, groupID, userID string) error {
	if err := t.execOne(ctx, "store.DeleteMembership", fmt.Sprintf("membership of user %s in group %s", userID, groupID), domain.KindConflict,
		`DELETE FROM memberships WHERE group_id = ? AND user_id = ?`, groupID, userID); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityMembership, Membership: &domain.Membership{GroupID: groupID, UserID: userID}})
	return nil
}

func (t *tx) CreateRole(ctx context.Context, r *domain.Role) error {
	var created, updated int64
	t.stamp(&r.ID, &created, &updated)
	_, err := t.c.exec(ctx, `INSERT INTO roles (id, name, name_key, name_skel, description, scope, permissions, builtin, editable, deletable, created_at, updated_at, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		r.ID, r.Name, domain.NameKey(r.Name), identifier.Skeleton(r.Name), r.Description, string(r.Scope), mustJSON(r.Permissions), r.Builtin, r.Editable, r.Deletable, created, updated)
	if err != nil {
		return t.c.db.mapErr("store.CreateRole", err, domain.KindInvalid)
	}
	r.CreatedAt, r.UpdatedAt, r.Version = fromMicros(created), fromMicros(updated), 1
	c := *r
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityRole, Role: &c})
	return nil
}

func (t *tx) UpdateRole(ctx context.Context, r *domain.Role) error {
	now := t.c.db.clock()
	created, err := t.versioned(ctx, "store.UpdateRole", "roles", r.ID, `UPDATE roles SET name = ?, name_key = ?, name_skel = `+keepSkel("name")+`, description = ?, scope = ?, permissions = ?, builtin = ?, editable = ?, deletable = ?, updated_at = ?, version = version + 1
WHERE id = ? AND version = ? RETURNING created_at`,
		r.Name, domain.NameKey(r.Name), r.Name, identifier.Skeleton(r.Name), r.Description, string(r.Scope), mustJSON(r.Permissions), r.Builtin, r.Editable, r.Deletable, now.UnixMicro(), r.ID, r.Version)
	if err != nil {
		return err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), now
	r.Version++
	c := *r
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityRole, Role: &c})
	return nil
}

func (t *tx) DeleteRole(ctx context.Context, id string) error {
	const op = "store.DeleteRole"
	r, err := t.GetRole(ctx, id)
	if err != nil {
		return err
	}
	holders, err := t.RoleHolders(ctx, id)
	if err != nil {
		return err
	}
	if len(holders) > 0 {
		return domain.Errorf(op, domain.KindConflict, "role %q is still assigned (%d holders, first: %s %s); reassign them first (R7)",
			r.Name, len(holders), holders[0].Kind, holders[0].Name)
	}
	if err := t.execOne(ctx, op, "role "+id, domain.KindConflict, `DELETE FROM roles WHERE id = ?`, id); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityRole, Role: &r})
	return nil
}

func (t *tx) PutProjectGrant(ctx context.Context, g *domain.ProjectGrant) error {
	const op = "store.PutProjectGrant"
	var userID, groupID any
	switch g.SubjectKind {
	case domain.SubjectUser:
		userID = g.SubjectID
	case domain.SubjectGroup:
		groupID = g.SubjectID
	default:
		return domain.Errorf(op, domain.KindInvalid, "subject kind must be user or group, not %q", g.SubjectKind)
	}
	now := t.c.db.clock()
	_, err := t.c.exec(ctx, `INSERT INTO project_grants (project_id, subject_kind, subject_id, user_id, group_id, role_id, permissions, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (project_id, subject_kind, subject_id) DO UPDATE SET role_id = excluded.role_id, permissions = excluded.permissions, updated_at = excluded.updated_at`,
		g.ProjectID, string(g.SubjectKind), g.SubjectID, userID, groupID, nullable(g.RoleID), mustJSON(g.Permissions), now.UnixMicro())
	if err != nil {
		return t.c.db.mapErr(op, err, domain.KindInvalid)
	}
	g.UpdatedAt = now
	c := *g
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityProjectGrant, ProjectGrant: &c})
	return nil
}

func (t *tx) DeleteProjectGrant(ctx context.Context, projectID string, kind domain.SubjectKind, subjectID string) error {
	if err := t.execOne(ctx, "store.DeleteProjectGrant", fmt.Sprintf("grant of %s %s on project %s", kind, subjectID, projectID), domain.KindConflict,
		`DELETE FROM project_grants WHERE project_id = ? AND subject_kind = ? AND subject_id = ?`, projectID, string(kind), subjectID); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityProjectGrant,
		ProjectGrant: &domain.ProjectGrant{ProjectID: projectID, SubjectKind: kind, SubjectID: subjectID}})
	return nil
}

func (t *tx) PutDomainGrant(ctx context.Context, g *domain.DomainGrant) error {
	if _, err := t.c.exec(ctx, `INSERT INTO domain_grants (group_id, domain) VALUES (?, ?) ON CONFLICT (group_id, domain) DO NOTHING`, g.GroupID, g.Domain); err != nil {
		return t.c.db.mapErr("store.PutDomainGrant", err, domain.KindInvalid)
	}
	c := *g
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityDomainGrant, DomainGrant: &c})
	return nil
}

func (t *tx) DeleteDomainGrant(ctx context.Context, groupID, domainName string) error {
	if err := t.execOne(ctx, "store.DeleteDomainGrant", fmt.Sprintf("domain %s of group %s", domainName, groupID), domain.KindConflict,
		`DELETE FROM domain_grants WHERE group_id = ? AND domain = ?`, groupID, domainName); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityDomainGrant, DomainGrant: &domain.DomainGrant{GroupID: groupID, Domain: domainName}})
	return nil
}

func (t *tx) CreateFolderType(ctx context.Context, ft *domain.FolderType) error {
	var created, updated int64
	t.stamp(&ft.ID, &created, &updated)
	_, err := t.c.exec(ctx, `INSERT INTO folder_types (id, name, name_key, contexts, properties, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
		ft.ID, ft.Name, domain.NameKey(ft.Name), mustJSON(ft.Contexts), mustJSON(ft.Properties), created, updated)
	if err != nil {
		return t.c.db.mapErr("store.CreateFolderType", err, domain.KindInvalid)
	}
	ft.CreatedAt, ft.UpdatedAt, ft.Version = fromMicros(created), fromMicros(updated), 1
	c := *ft
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolderType, FolderType: &c})
	return nil
}

func (t *tx) UpdateFolderType(ctx context.Context, ft *domain.FolderType) error {
	now := t.c.db.clock()
	created, err := t.versioned(ctx, "store.UpdateFolderType", "folder_types", ft.ID, `UPDATE folder_types SET name = ?, name_key = ?, contexts = ?, properties = ?, updated_at = ?, version = version + 1
WHERE id = ? AND version = ? RETURNING created_at`,
		ft.Name, domain.NameKey(ft.Name), mustJSON(ft.Contexts), mustJSON(ft.Properties), now.UnixMicro(), ft.ID, ft.Version)
	if err != nil {
		return err
	}
	ft.CreatedAt, ft.UpdatedAt = fromMicros(created), now
	ft.Version++
	c := *ft
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolderType, FolderType: &c})
	return nil
}

func (t *tx) DeleteFolderType(ctx context.Context, id string) error {
	const op = "store.DeleteFolderType"
	ft, err := t.GetFolderType(ctx, id)
	if err != nil {
		return err
	}
	var folders, rules int64
	if err := t.c.queryRow(ctx, `SELECT (SELECT count(*) FROM folders WHERE type_id = ?), (SELECT count(*) FROM rules WHERE folder_type_id = ?)`, id, id).Scan(&folders, &rules); err != nil {
		return t.c.db.mapErr(op, err, domain.KindInvalid)
	}
	if folders > 0 || rules > 0 {
		return domain.Errorf(op, domain.KindConflict, "folder type %q is still used by %d folders and %d rules", ft.Name, folders, rules)
	}
	if err := t.execOne(ctx, op, "folder type "+id, domain.KindConflict, `DELETE FROM folder_types WHERE id = ?`, id); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityFolderType, FolderType: &ft})
	return nil
}

func (t *tx) CreateFolder(ctx context.Context, f *domain.Folder) error {
	var created, updated int64
	t.stamp(&f.ID, &created, &updated)
	_, err := t.c.exec(ctx, `INSERT INTO folders (id, parent_id, name, name_key, type_id, properties, project_id, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		f.ID, nullable(f.ParentID), f.Name, domain.NameKey(f.Name), f.TypeID, mustJSON(f.Properties), nullable(f.ProjectID), created, updated)
	if err != nil {
		return t.c.db.mapErr("store.CreateFolder", err, domain.KindInvalid)
	}
	f.CreatedAt, f.UpdatedAt, f.Version = fromMicros(created), fromMicros(updated), 1
	c := *f
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolder, Folder: &c})
	return nil
}

func (t *tx) UpdateFolder(ctx context.Context, f *domain.Folder) error {
	const op = "store.UpdateFolder"
	if f.ParentID != "" {
		if f.ParentID == f.ID {
			return domain.E(op, domain.KindInvalid, domain.FieldError{Field: "parent_id", Message: "a folder cannot be its own parent"})
		}
		// Walk up from the new parent: meeting the folder itself means the
		// move would put it below its own subtree.
		var hit int
		err := t.c.queryRow(ctx, `WITH RECURSIVE up(id, parent_id) AS (
  SELECT id, parent_id FROM folders WHERE id = ?
  UNION ALL SELECT f.id, f.parent_id FROM folders f JOIN up ON f.id = up.parent_id
) SELECT count(*) FROM up WHERE id = ?`, f.ParentID, f.ID).Scan(&hit)
		if err != nil {
			return t.c.db.mapErr(op, err, domain.KindInvalid)
		}
		if hit > 0 {
			return domain.E(op, domain.KindInvalid, domain.FieldError{Field: "parent_id", Message: "a folder cannot move below itself or one of its descendants"})
		}
	}
	now := t.c.db.clock()
	created, err := t.versioned(ctx, op, "folders", f.ID, `UPDATE folders SET parent_id = ?, name = ?, name_key = ?, type_id = ?, properties = ?, project_id = ?, updated_at = ?, version = version + 1
WHERE id = ? AND version = ? RETURNING created_at`,
		nullable(f.ParentID), f.Name, domain.NameKey(f.Name), f.TypeID, mustJSON(f.Properties), nullable(f.ProjectID), now.UnixMicro(), f.ID, f.Version)
	if err != nil {
		return err
	}
	f.CreatedAt, f.UpdatedAt = fromMicros(created), now
	f.Version++
	c := *f
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolder, Folder: &c})
	return nil
}

func (t *tx) DeleteFolder(ctx context.Context, id string) error {
	f, err := t.GetFolder(ctx, id)
	if err != nil {
		return err
	}
	if err := t.trimDeepSubtree(ctx, id); err != nil {
		return err
	}
	if err := t.execOne(ctx, "store.DeleteFolder", "folder "+id, domain.KindConflict, `DELETE FROM folders WHERE id = ?`, id); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityFolder, Folder: &f})
	return nil
}

// cascadeBand is how many tree levels one delete may cascade through.
// SQLite runs foreign-key actions as nested triggers and refuses to nest
// them deeper than 1000 (SQLITE_MAX_TRIGGER_DEPTH).
const cascadeBand = 400

const subtreeCTE = `WITH RECURSIVE sub(id, depth) AS (
  SELECT id, 0 FROM folders WHERE id = ?
  UNION ALL SELECT f.id, sub.depth + 1 FROM folders f JOIN sub ON f.parent_id = sub.id
)`

// trimDeepSubtree deletes the deep part of a folder's subtree from the
// bottom up, in bands the cascade can handle, so that deleting the
// folder itself cascades through at most cascadeBand levels.
func (t *tx) trimDeepSubtree(ctx context.Context, id string) error {
	const op = "store.DeleteFolder"
	var depth int
	if err := t.c.queryRow(ctx, subtreeCTE+` SELECT coalesce(max(depth), 0) FROM sub`, id).Scan(&depth); err != nil {
		return t.c.db.mapErr(op, err, domain.KindInvalid)
	}
	for k := depth - cascadeBand + 1; k > 0; k -= cascadeBand {
		if _, err := t.c.exec(ctx, `DELETE FROM folders WHERE id IN (`+subtreeCTE+` SELECT id FROM sub WHERE depth >= ?)`, id, k); err != nil {
			return t.c.db.mapErr(op, err, domain.KindConflict)
		}
	}
	return nil
}

func (t *tx) PutFolderLevel(ctx context.Context, l *domain.FolderLevel) error {
	if _, err := t.c.exec(ctx, `INSERT INTO folder_levels (folder_id, group_id, level) VALUES (?, ?, ?)
ON CONFLICT (folder_id, group_id) DO UPDATE SET level = excluded.level`, l.FolderID, l.GroupID, int(l.Level)); err != nil {
		return t.c.db.mapErr("store.PutFolderLevel", err, domain.KindInvalid)
	}
	c := *l
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityFolderLevel, FolderLevel: &c})
	return nil
}

func (t *tx) DeleteFolderLevel(ctx context.Context, folderID, groupID string) error {
	if err := t.execOne(ctx, "store.DeleteFolderLevel", fmt.Sprintf("level of group %s on folder %s", groupID, folderID), domain.KindConflict,
		`DELETE FROM folder_levels WHERE folder_id = ? AND group_id = ?`, folderID, groupID); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityFolderLevel, FolderLevel: &domain.FolderLevel{FolderID: folderID, GroupID: groupID}})
	return nil
}

// ruleType is the folder type a rule's criteria name (validation makes
// them name one), stored so the type cannot be deleted under the rule.
func ruleType(r *domain.Rule) any {
	if len(r.Criteria) == 0 {
		return nil
	}
	return nullable(r.Criteria[0].FolderTypeID)
}

func (t *tx) CreateRule(ctx context.Context, r *domain.Rule) error {
	var created, updated int64
	t.stamp(&r.ID, &created, &updated)
	crit, err := marshal(r.Criteria)
	if err != nil {
		return domain.E("store.CreateRule", domain.KindInvalid, err)
	}
	_, err = t.c.exec(ctx, `INSERT INTO rules (id, group_id, name, name_key, folder_type_id, criteria, grants, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		r.ID, r.GroupID, r.Name, domain.NameKey(r.Name), ruleType(r), crit, mustJSON(r.Grants), created, updated)
	if err != nil {
		return t.c.db.mapErr("store.CreateRule", err, domain.KindInvalid)
	}
	r.CreatedAt, r.UpdatedAt, r.Version = fromMicros(created), fromMicros(updated), 1
	c := *r
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityRule, Rule: &c})
	return nil
}

func (t *tx) UpdateRule(ctx context.Context, r *domain.Rule) error {
	const op = "store.UpdateRule"
	crit, err := marshal(r.Criteria)
	if err != nil {
		return domain.E(op, domain.KindInvalid, err)
	}
	now := t.c.db.clock()
	created, err := t.versioned(ctx, op, "rules", r.ID, `UPDATE rules SET group_id = ?, name = ?, name_key = ?, folder_type_id = ?, criteria = ?, grants = ?, updated_at = ?, version = version + 1
WHERE id = ? AND version = ? RETURNING created_at`,
		r.GroupID, r.Name, domain.NameKey(r.Name), ruleType(r), crit, mustJSON(r.Grants), now.UnixMicro(), r.ID, r.Version)
	if err != nil {
		return err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), now
	r.Version++
	c := *r
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntityRule, Rule: &c})
	return nil
}

func (t *tx) DeleteRule(ctx context.Context, id string) error {
	r, err := t.GetRule(ctx, id)
	if err != nil {
		return err
	}
	if err := t.execOne(ctx, "store.DeleteRule", "rule "+id, domain.KindConflict, `DELETE FROM rules WHERE id = ?`, id); err != nil {
		return err
	}
	t.record(domain.Mutation{Op: domain.OpDelete, Entity: domain.EntityRule, Rule: &r})
	return nil
}

func (t *tx) PutSetting(ctx context.Context, s *domain.Setting) error {
	if _, err := t.c.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, s.Key, s.Value); err != nil {
		return t.c.db.mapErr("store.PutSetting", err, domain.KindInvalid)
	}
	c := *s
	t.record(domain.Mutation{Op: domain.OpPut, Entity: domain.EntitySetting, Setting: &c})
	return nil
}

// Audit keeps e itself, not a copy, so that the caller sees the Revision
// stamped at commit; the caller must not change e until InTx returns.
func (t *tx) Audit(ctx context.Context, e *domain.AuditEvent) error {
	if e.ID == "" {
		e.ID = domain.NewID()
	}
	if e.At.IsZero() {
		e.At = t.c.db.clock()
	} else {
		e.At = e.At.UTC().Truncate(time.Microsecond)
	}
	t.audit = append(t.audit, e)
	return nil
}
