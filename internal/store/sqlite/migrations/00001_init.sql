-- Gatehouse schema, SQLite dialect. Times are UTC unix microseconds;
-- lists and maps are JSON text; *_key columns hold domain.NameKey (or the
-- lower-cased text for search and sort) computed in Go, so that case
-- folding is the same Unicode folding in both backends.

-- +goose Up
CREATE TABLE gh_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO gh_revision (id, revision) VALUES (1, 0);

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    description TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('system', 'project')),
    permissions TEXT NOT NULL,
    builtin     BOOLEAN NOT NULL,
    editable    BOOLEAN NOT NULL,
    deletable   BOOLEAN NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL
);
CREATE UNIQUE INDEX roles_name ON roles (scope, name_key);

CREATE TABLE users (
    id                 TEXT PRIMARY KEY,
    username           TEXT NOT NULL,
    username_key       TEXT NOT NULL,
    email              TEXT NOT NULL,
    email_key          TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    display_name_key   TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    source             TEXT NOT NULL CHECK (source IN ('local', 'scim', 'oidc')),
    external_id        TEXT NOT NULL,
    password_hash      TEXT NOT NULL DEFAULT '',
    system_role_id     TEXT REFERENCES roles (id) ON DELETE RESTRICT,
    show_personal_info BOOLEAN NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    version            INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username_key);
CREATE INDEX users_display_name ON users (display_name_key, id);
CREATE INDEX users_email ON users (email_key, id);
CREATE INDEX users_created ON users (created_at, id);
CREATE INDEX users_role ON users (system_role_id);

CREATE TABLE projects (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    description     TEXT NOT NULL,
    membership_mode TEXT NOT NULL CHECK (membership_mode IN ('multiple', 'exclusive')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
);
CREATE UNIQUE INDEX projects_name ON projects (name_key);

CREATE TABLE groups (
    id                          TEXT PRIMARY KEY,
    name                        TEXT NOT NULL,
    name_key                    TEXT NOT NULL,
    description                 TEXT NOT NULL,
    scope                       TEXT NOT NULL CHECK (scope IN ('system', 'project')),
    project_id                  TEXT REFERENCES projects (id) ON DELETE CASCADE,
    builtin                     TEXT NOT NULL CHECK (builtin IN ('', 'administrators', 'everyone', 'public')),
    system_role_id              TEXT REFERENCES roles (id) ON DELETE RESTRICT,
    system_permissions          TEXT NOT NULL,
    default_project_role_id     TEXT REFERENCES roles (id) ON DELETE RESTRICT,
    default_project_permissions TEXT NOT NULL,
    created_at                  INTEGER NOT NULL,
    updated_at                  INTEGER NOT NULL,
    version                     INTEGER NOT NULL,
    CHECK ((scope = 'project') = (project_id IS NOT NULL))
);
CREATE UNIQUE INDEX groups_name ON groups (scope, coalesce(project_id, ''), name_key);
CREATE INDEX groups_project ON groups (project_id);
CREATE INDEX groups_system_role ON groups (system_role_id);
CREATE INDEX groups_default_role ON groups (default_project_role_id);

CREATE TABLE memberships (
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_user ON memberships (user_id);

-- A grant's subject is a user or a group; the two nullable foreign keys
-- let each cascade, and subject_id keeps one primary key for both kinds.
CREATE TABLE project_grants (
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('user', 'group')),
    subject_id   TEXT NOT NULL,
    user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
    group_id     TEXT REFERENCES groups (id) ON DELETE CASCADE,
    role_id      TEXT REFERENCES roles (id) ON DELETE RESTRICT,
    permissions  TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, subject_kind, subject_id),
    CHECK ((subject_kind = 'user' AND user_id = subject_id AND group_id IS NULL)
        OR (subject_kind = 'group' AND group_id = subject_id AND user_id IS NULL))
) WITHOUT ROWID;
CREATE INDEX project_grants_subject ON project_grants (subject_kind, subject_id);
CREATE INDEX project_grants_user ON project_grants (user_id);
CREATE INDEX project_grants_group ON project_grants (group_id);
CREATE INDEX project_grants_role ON project_grants (role_id);

CREATE TABLE domain_grants (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    domain   TEXT NOT NULL,
    PRIMARY KEY (group_id, domain)
) WITHOUT ROWID;

CREATE TABLE folder_types (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    contexts   TEXT NOT NULL,
    properties TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);
CREATE UNIQUE INDEX folder_types_name ON folder_types (name_key);

CREATE TABLE folders (
    id         TEXT PRIMARY KEY,
    parent_id  TEXT REFERENCES folders (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    type_id    TEXT NOT NULL REFERENCES folder_types (id) ON DELETE RESTRICT,
    properties TEXT NOT NULL,
    project_id TEXT REFERENCES projects (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX folders_name ON folders (coalesce(parent_id, ''), name_key);
CREATE INDEX folders_parent ON folders (parent_id);
CREATE INDEX folders_type ON folders (type_id);
CREATE INDEX folders_project ON folders (project_id);

CREATE TABLE folder_levels (
    folder_id TEXT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    group_id  TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    level     INTEGER NOT NULL CHECK (level BETWEEN 0 AND 7),
    PRIMARY KEY (folder_id, group_id)
) WITHOUT ROWID;
CREATE INDEX folder_levels_group ON folder_levels (group_id);

-- folder_type_id is the one type all criteria of a rule name; it is a
-- column so that a folder type still used by a rule cannot be deleted.
CREATE TABLE rules (
    id             TEXT PRIMARY KEY,
    group_id       TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    folder_type_id TEXT REFERENCES folder_types (id) ON DELETE RESTRICT,
    criteria       TEXT NOT NULL,
    grants         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL
);
CREATE UNIQUE INDEX rules_name ON rules (group_id, name_key);
CREATE INDEX rules_folder_type ON rules (folder_type_id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE changes (
    revision  INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor_id  TEXT NOT NULL,
    mutations TEXT NOT NULL
);

CREATE TABLE audit (
    id          TEXT PRIMARY KEY,
    revision    INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'denied')),
    before_json TEXT,
    after_json  TEXT,
    detail      TEXT NOT NULL,
    remote_addr TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at, id);
CREATE INDEX audit_actor ON audit (actor_id, at);
CREATE INDEX audit_target ON audit (target_kind, target_id, at);

-- +goose Down
DROP TABLE audit;
DROP TABLE changes;
DROP TABLE settings;
DROP TABLE rules;
DROP TABLE folder_levels;
DROP TABLE folders;
DROP TABLE folder_types;
DROP TABLE domain_grants;
DROP TABLE project_grants;
DROP TABLE memberships;
DROP TABLE groups;
DROP TABLE projects;
DROP TABLE users;
DROP TABLE roles;
DROP TABLE gh_revision;
