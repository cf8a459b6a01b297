-- OpenID Connect sign-in (issue 21, docs/authentication.md).
--
-- oidc_links ties a user to a provider's subject: the (issuer, subject)
-- pair the ID token names, which never changes when the person's email or
-- name does, so a sign-in finds the same user whatever else changed.
-- Not engine data (no change-log mutation), like sessions.
--
-- memberships.source says who made a membership: '' an administrator (or
-- SCIM), 'oidc' the group-claims mapping of a sign-in, which removes only
-- the memberships it made.

-- +goose Up
CREATE TABLE oidc_links (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_links_user ON oidc_links (user_id);
ALTER TABLE memberships ADD COLUMN source TEXT NOT NULL DEFAULT '' CHECK (source IN ('', 'oidc'));

-- +goose Down
ALTER TABLE memberships DROP COLUMN source;
DROP TABLE oidc_links;
