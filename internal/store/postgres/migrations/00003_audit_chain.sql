-- Tamper-evident audit (docs/audit.md), PostgreSQL dialect. Each audit record
-- gets its position in one chain (seq, 1, 2, 3, ... with no gap), the hash
-- of the record before it and its own hash: hex SHA-256 over the canonical
-- encoding that docs/audit.md defines. The columns are NULL for records
-- written before this migration; Migrate seals them (in Go, as on SQLite,
-- so both backends share one implementation) right after applying it, and `gatehouse audit verify`
-- reports any record still unsealed.
--
-- audit_chain is one row: the chain head (last position and hash), which
-- write transactions read and advance, and the anchor that pruning leaves
-- (the position and hash of the last record removed, so the first record
-- kept still verifies).

-- +goose Up
ALTER TABLE audit ADD COLUMN seq BIGINT;
ALTER TABLE audit ADD COLUMN prev_hash TEXT COLLATE "C";
ALTER TABLE audit ADD COLUMN hash TEXT COLLATE "C";
CREATE UNIQUE INDEX audit_seq ON audit (seq);

CREATE TABLE audit_chain (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    head_seq    BIGINT NOT NULL,
    head_hash   TEXT COLLATE "C" NOT NULL,
    anchor_seq  BIGINT NOT NULL,
    anchor_hash TEXT COLLATE "C" NOT NULL,
    anchor_at   BIGINT NOT NULL
);
INSERT INTO audit_chain (id, head_seq, head_hash, anchor_seq, anchor_hash, anchor_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

-- +goose Down
DROP TABLE audit_chain;
DROP INDEX audit_seq;
ALTER TABLE audit DROP COLUMN hash;
ALTER TABLE audit DROP COLUMN prev_hash;
ALTER TABLE audit DROP COLUMN seq;
