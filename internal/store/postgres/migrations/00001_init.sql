-- Gatehouse schema, PostgreSQL dialect. Every text column collates "C"
-- (byte order) as SQLite does, so both backends sort and page alike.
-- Times are UTC unix microseconds;
-- lists and maps are JSON text; *_key columns hold domain.NameKey (or the
-- lower-cased text for search and sort) computed in Go, so that case
-- folding is the same Unicode folding in both backends.

-- +goose Up
CREATE TABLE gh_revision (
    id       SMALLINT PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO gh_revision (id, revision) VALUES (1, 0);

CREATE TABLE roles (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    scope       TEXT COLLATE "C" NOT NULL CHECK (scope IN ('system', 'project')),
    permissions TEXT COLLATE "C" NOT NULL,
    builtin     BOOLEAN NOT NULL,
    editable    BOOLEAN NOT NULL,
    deletable   BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_name ON roles (scope, name_key);

CREATE TABLE users (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    username           TEXT COLLATE "C" NOT NULL,
    username_key       TEXT COLLATE "C" NOT NULL,
    email              TEXT COLLATE "C" NOT NULL,
    email_key          TEXT COLLATE "C" NOT NULL,
    display_name       TEXT COLLATE "C" NOT NULL,
    display_name_key   TEXT COLLATE "C" NOT NULL,
    status             TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'disabled')),
    source             TEXT COLLATE "C" NOT NULL CHECK (source IN ('local', 'scim', 'oidc')),
    external_id        TEXT COLLATE "C" NOT NULL,
    password_hash      TEXT COLLATE "C" NOT NULL DEFAULT '',
    system_role_id     TEXT COLLATE "C" REFERENCES roles (id) ON DELETE RESTRICT,
    show_personal_info BOOLEAN NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username_key);
CREATE INDEX users_display_name ON users (display_name_key, id);
CREATE INDEX users_email ON users (email_key, id);
CREATE INDEX users_created ON users (created_at, id);
CREATE INDEX users_role ON users (system_role_id);

CREATE TABLE projects (
    id              TEXT COLLATE "C" PRIMARY KEY,
    name            TEXT COLLATE "C" NOT NULL,
    name_key        TEXT COLLATE "C" NOT NULL,
    description     TEXT COLLATE "C" NOT NULL,
    membership_mode TEXT COLLATE "C" NOT NULL CHECK (membership_mode IN ('multiple', 'exclusive')),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL
);
CREATE UNIQUE INDEX projects_name ON projects (name_key);

CREATE TABLE groups (
    id                          TEXT COLLATE "C" PRIMARY KEY,
    name                        TEXT COLLATE "C" NOT NULL,
    name_key                    TEXT COLLATE "C" NOT NULL,
    description                 TEXT COLLATE "C" NOT NULL,
    scope                       TEXT COLLATE "C" NOT NULL CHECK (scope IN ('system', 'project')),
    project_id                  TEXT COLLATE "C" REFERENCES projects (id) ON DELETE CASCADE,
    builtin                     TEXT COLLATE "C" NOT NULL CHECK (builtin IN ('', 'administrators', 'everyone', 'public')),
    system_role_id              TEXT COLLATE "C" REFERENCES roles (id) ON DELETE RESTRICT,
    system_permissions          TEXT COLLATE "C" NOT NULL,
    default_project_role_id     TEXT COLLATE "C" REFERENCES roles (id) ON DELETE RESTRICT,
    default_project_permissions TEXT COLLATE "C" NOT NULL,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL,
    version                     BIGINT NOT NULL,
    CHECK ((scope = 'project') = (project_id IS NOT NULL))
);
CREATE UNIQUE INDEX groups_name ON groups (scope, coalesce(project_id, ''), name_key);
CREATE INDEX groups_project ON groups (project_id);
CREATE INDEX groups_system_role ON groups (system_role_id);
CREATE INDEX groups_default_role ON groups (default_project_role_id);

CREATE TABLE memberships (
    group_id   TEXT COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- A grant's subject is a user or a group; the two nullable foreign keys
-- let each cascade, and subject_id keeps one primary key for both kinds.
CREATE TABLE project_grants (
    project_id   TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    subject_kind TEXT COLLATE "C" NOT NULL CHECK (subject_kind IN ('user', 'group')),
    subject_id   TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
    group_id     TEXT COLLATE "C" REFERENCES groups (id) ON DELETE CASCADE,
    role_id      TEXT COLLATE "C" REFERENCES roles (id) ON DELETE RESTRICT,
    permissions  TEXT COLLATE "C" NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (project_id, subject_kind, subject_id),
    CHECK ((subject_kind = 'user' AND user_id = subject_id AND group_id IS NULL)
        OR (subject_kind = 'group' AND group_id = subject_id AND user_id IS NULL))
);
CREATE INDEX project_grants_subject ON project_grants (subject_kind, subject_id);
CREATE INDEX project_grants_user ON project_grants (user_id);
CREATE INDEX project_grants_group ON project_grants (group_id);
CREATE INDEX project_grants_role ON project_grants (role_id);

CREATE TABLE domain_grants (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    domain   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_id, domain)
);

CREATE TABLE folder_types (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    name_key   TEXT COLLATE "C" NOT NULL,
    contexts   TEXT COLLATE "C" NOT NULL,
    properties TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL
);
CREATE UNIQUE INDEX folder_types_name ON folder_types (name_key);

CREATE TABLE folders (
    id         TEXT COLLATE "C" PRIMARY KEY,
    parent_id  TEXT COLLATE "C" REFERENCES folders (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    name_key   TEXT COLLATE "C" NOT NULL,
    type_id    TEXT COLLATE "C" NOT NULL REFERENCES folder_types (id) ON DELETE RESTRICT,
    properties TEXT COLLATE "C" NOT NULL,
    project_id TEXT COLLATE "C" REFERENCES projects (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX folders_name ON folders (coalesce(parent_id, ''), name_key);
CREATE INDEX folders_parent ON folders (parent_id);
CREATE INDEX folders_type ON folders (type_id);
CREATE INDEX folders_project ON folders (project_id);

CREATE TABLE folder_levels (
    folder_id TEXT COLLATE "C" NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    group_id  TEXT COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    level     SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 7),
    PRIMARY KEY (folder_id, group_id)
);
CREATE INDEX folder_levels_group ON folder_levels (group_id);

-- folder_type_id is the one type all criteria of a rule name; it is a
-- column so that a folder type still used by a rule cannot be deleted.
CREATE TABLE rules (
    id             TEXT COLLATE "C" PRIMARY KEY,
    group_id       TEXT COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    name_key       TEXT COLLATE "C" NOT NULL,
    folder_type_id TEXT COLLATE "C" REFERENCES folder_types (id) ON DELETE RESTRICT,
    criteria       TEXT COLLATE "C" NOT NULL,
    grants         TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL
);
CREATE UNIQUE INDEX rules_name ON rules (group_id, name_key);
CREATE INDEX rules_folder_type ON rules (folder_type_id);

CREATE TABLE settings (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE changes (
    revision  BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor_id  TEXT COLLATE "C" NOT NULL,
    mutations TEXT COLLATE "C" NOT NULL
);

CREATE TABLE audit (
    id          TEXT COLLATE "C" PRIMARY KEY,
    revision    BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor_id    TEXT COLLATE "C" NOT NULL,
    actor_name  TEXT COLLATE "C" NOT NULL,
    action      TEXT COLLATE "C" NOT NULL,
    target_kind TEXT COLLATE "C" NOT NULL,
    target_id   TEXT COLLATE "C" NOT NULL,
    outcome     TEXT COLLATE "C" NOT NULL CHECK (outcome IN ('success', 'denied')),
    before_json TEXT COLLATE "C",
    after_json  TEXT COLLATE "C",
    detail      TEXT COLLATE "C" NOT NULL,
    remote_addr TEXT COLLATE "C" NOT NULL
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
