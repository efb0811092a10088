-- Operators (people who act on incidents), their signed-in sessions and API
-- tokens for automation. Only hashes of passwords (argon2id, PHC string),
-- session ids and tokens (hex SHA-256) are stored. Times are UTC, RFC 3339
-- with 9 fractional digits, so that text order is time order.

-- +goose Up
CREATE TABLE operators (
	id            INTEGER PRIMARY KEY,
	name          TEXT    NOT NULL UNIQUE CHECK (name <> ''),
	role          TEXT    NOT NULL CHECK (role IN ('viewer', 'responder', 'approver', 'admin')),
	password_hash TEXT    NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
	locked_until  TEXT,             -- NULL when not locked
	created_at    TEXT    NOT NULL
);

CREATE TABLE operator_sessions (
	id_hash     TEXT    PRIMARY KEY CHECK (length(id_hash) = 64 AND id_hash NOT GLOB '*[^0-9a-f]*'),
	operator_id INTEGER NOT NULL REFERENCES operators (id),
	csrf_token  TEXT    NOT NULL CHECK (csrf_token <> ''),
	created_at  TEXT    NOT NULL,
	last_seen   TEXT    NOT NULL CHECK (last_seen >= created_at)
) WITHOUT ROWID;

CREATE INDEX operator_sessions_operator_idx ON operator_sessions (operator_id);

CREATE TABLE api_tokens (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL CHECK (name <> ''),
	role       TEXT    NOT NULL CHECK (role IN ('viewer', 'responder', 'approver', 'admin')),
	hash       TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
	created_by TEXT    NOT NULL CHECK (created_by <> ''),
	created_at TEXT    NOT NULL,
	last_used  TEXT,                -- NULL until first used
	revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);

-- A name belongs to at most one token that still works.
CREATE UNIQUE INDEX api_tokens_active_name_idx ON api_tokens (name) WHERE revoked = 0;

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE operator_sessions;
DROP TABLE operators;
