-- Webhook subscriptions and their delivery log (docs/integrating.md,
-- "Webhooks"), SQLite dialect. A subscription's configuration is written
-- in audited transactions that record no mutation (like API tokens); its
-- delivery state (cursor, health, lease) and the delivery log are
-- housekeeping written by the delivery worker outside any transaction,
-- so delivering never allocates a revision or a change-log row.

-- +goose Up
CREATE TABLE webhooks (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    url          TEXT NOT NULL,
    filter       TEXT NOT NULL,
    secret       TEXT NOT NULL CHECK (length(secret) >= 16),
    active       BOOLEAN NOT NULL,
    owner_id     TEXT NOT NULL,
    read_limit   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    delivered    INTEGER NOT NULL CHECK (delivered >= 0),
    failing      BOOLEAN NOT NULL DEFAULT FALSE,
    last_error   TEXT NOT NULL DEFAULT '',
    failed_at    INTEGER,
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  INTEGER
);
CREATE UNIQUE INDEX webhooks_name ON webhooks (name_key);

CREATE TABLE webhook_deliveries (
    id            TEXT PRIMARY KEY,
    webhook_id    TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    from_revision INTEGER NOT NULL,
    to_revision   INTEGER NOT NULL,
    changes       INTEGER NOT NULL,
    attempt       INTEGER NOT NULL,
    status_code   INTEGER NOT NULL,
    latency_ms    INTEGER NOT NULL,
    ok            BOOLEAN NOT NULL,
    error         TEXT NOT NULL,
    ping          BOOLEAN NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, at, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
