-- Look-alike names (docs/security.md), PostgreSQL dialect. Each username and
-- each group, role and project name gets its Unicode TR39 skeleton
-- (identifier.Skeleton, computed in Go), unique within the scope the name
-- is unique in, so the database itself refuses "аdmin" (Cyrillic а) next
-- to "admin", whichever replica writes it. The columns are NULL for rows
-- written before this migration; Migrate fills them in Go right after
-- applying it, oldest row first. A row whose skeleton another row already
-- holds keeps NULL (NULLs do not clash in a unique index), Migrate logs
-- it as a look-alike to rename, and it gets its skeleton when renamed.

-- +goose Up
ALTER TABLE users ADD COLUMN username_skel TEXT COLLATE "C";
ALTER TABLE projects ADD COLUMN name_skel TEXT COLLATE "C";
ALTER TABLE groups ADD COLUMN name_skel TEXT COLLATE "C";
ALTER TABLE roles ADD COLUMN name_skel TEXT COLLATE "C";
CREATE UNIQUE INDEX users_username_skel ON users (username_skel);
CREATE UNIQUE INDEX projects_name_skel ON projects (name_skel);
CREATE UNIQUE INDEX groups_name_skel ON groups (scope, coalesce(project_id, ''), name_skel);
CREATE UNIQUE INDEX roles_name_skel ON roles (scope, name_skel);

-- +goose Down
DROP INDEX roles_name_skel;
DROP INDEX groups_name_skel;
DROP INDEX projects_name_skel;
DROP INDEX users_username_skel;
ALTER TABLE roles DROP COLUMN name_skel;
ALTER TABLE groups DROP COLUMN name_skel;
ALTER TABLE projects DROP COLUMN name_skel;
ALTER TABLE users DROP COLUMN username_skel;
