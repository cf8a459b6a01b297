-- Sign-in sessions and API tokens (internal/authn), PostgreSQL dialect.
-- Not engine data: no change-log row ever mentions them. Only the hex
-- SHA-256 of each secret is kept; the CHECKs refuse anything else, so a
-- secret in clear cannot be stored by mistake. Times are UTC unix
-- microseconds; text collates "C" as in 00001.

-- +goose Up
CREATE TABLE sessions (
    id           TEXT COLLATE "C" PRIMARY KEY,
    token_hash   TEXT COLLATE "C" NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    remote_addr  TEXT COLLATE "C" NOT NULL,
    user_agent   TEXT COLLATE "C" NOT NULL,
    revoked_at   BIGINT
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- permissions: a JSON list of system permission keys the token is limited
-- to; [] means all of its user's.
CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    token_hash   TEXT COLLATE "C" NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT COLLATE "C" NOT NULL,
    permissions  TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE UNIQUE INDEX api_tokens_token_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at, id);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE sessions;
