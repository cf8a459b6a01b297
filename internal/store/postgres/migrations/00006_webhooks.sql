-- Webhook subscriptions and their delivery log (docs/integrating.md,
-- "Webhooks"), PostgreSQL dialect. A subscription's configuration is written
-- in audited transactions that record no mutation (like API tokens); its
-- delivery state (cursor, health, lease) and the delivery log are
-- housekeeping written by the delivery worker outside any transaction,
-- so delivering never allocates a revision or a change-log row.

-- +goose Up
CREATE TABLE webhooks (
    id           TEXT COLLATE "C" PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL,
    name_key     TEXT COLLATE "C" NOT NULL,
    url          TEXT COLLATE "C" NOT NULL,
    filter       TEXT COLLATE "C" NOT NULL,
    secret       TEXT COLLATE "C" NOT NULL CHECK (length(secret) >= 16),
    active       BOOLEAN NOT NULL,
    owner_id     TEXT COLLATE "C" NOT NULL,
    read_limit   TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    delivered    BIGINT NOT NULL CHECK (delivered >= 0),
    failing      BOOLEAN NOT NULL DEFAULT FALSE,
    last_error   TEXT COLLATE "C" NOT NULL DEFAULT '',
    failed_at    BIGINT,
    lease_owner  TEXT COLLATE "C" NOT NULL DEFAULT '',
    lease_until  BIGINT
);
CREATE UNIQUE INDEX webhooks_name ON webhooks (name_key);

CREATE TABLE webhook_deliveries (
    id            TEXT COLLATE "C" PRIMARY KEY,
    webhook_id    TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    at            BIGINT NOT NULL,
    from_revision BIGINT NOT NULL,
    to_revision   BIGINT NOT NULL,
    changes       BIGINT NOT NULL,
    attempt       BIGINT NOT NULL,
    status_code   BIGINT NOT NULL,
    latency_ms    BIGINT NOT NULL,
    ok            BOOLEAN NOT NULL,
    error         TEXT COLLATE "C" NOT NULL,
    ping          BOOLEAN NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, at, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
