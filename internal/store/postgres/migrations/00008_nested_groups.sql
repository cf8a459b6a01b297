-- Nested groups (issue 20), PostgreSQL dialect: a group as a member of
-- another group, with an optional expiry like a user's membership (R6).
-- A member row names a user (memberships) or a group (this table); both
-- foreign keys cascade, so deleting a group removes the memberships it
-- holds in other groups as well as its own group members. The service
-- refuses cycles; the CHECK refuses the shortest one. Existing data is
-- untouched: no group has group members before this migration.

-- +goose Up
CREATE TABLE group_memberships (
    group_id        TEXT COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_group_id TEXT COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    expires_at      BIGINT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (group_id, member_group_id),
    CHECK (group_id <> member_group_id)
);
CREATE INDEX group_memberships_member ON group_memberships (member_group_id);

-- +goose Down
DROP TABLE group_memberships;
