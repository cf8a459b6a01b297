-- A group's external id: the identity provider's identifier of a group
-- provisioned over SCIM (its externalId, RFC 7643 §3.1, case-exact), as
-- users have one. Empty for every group this migration finds.

-- +goose Up
ALTER TABLE groups ADD COLUMN external_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE groups DROP COLUMN external_id;
