-- The public status page: updates in threads per incident (thread 0 holds the
-- general notices), the latest update of each thread for the current list and
-- overdue reminders, and subscriptions. Times are UTC, RFC 3339 with 9
-- fractional digits, so that text order is time order. Tokens are stored as
-- SHA-256 hex digests, never in plain text.

-- +goose Up
CREATE TABLE status_updates (
	id             INTEGER PRIMARY KEY,
	thread         INTEGER NOT NULL CHECK (thread >= 0), -- incident id, or 0 for general notices
	incident_id    INTEGER REFERENCES incidents (id),     -- NULL for general notices
	phase          TEXT    NOT NULL CHECK (phase IN ('investigating', 'identified', 'monitoring', 'resolved')),
	title          TEXT    NOT NULL CHECK (title <> ''),
	body           TEXT    NOT NULL CHECK (body <> ''),
	author         TEXT    NOT NULL CHECK (author <> ''),
	published_at   TEXT    NOT NULL,
	next_update_by TEXT,                                   -- NULL only when resolved
	CHECK (thread = coalesce(incident_id, 0)),
	CHECK ((phase = 'resolved') = (next_update_by IS NULL))
);

-- One thread's updates, newest first.
CREATE INDEX status_updates_thread_idx ON status_updates (thread, id DESC);

-- The latest update of every thread, kept by the store in the transaction
-- that publishes it, so that the current list never scans the history.
CREATE TABLE status_latest (
	thread         INTEGER PRIMARY KEY,
	update_id      INTEGER NOT NULL REFERENCES status_updates (id),
	phase          TEXT    NOT NULL,
	next_update_by TEXT
);

CREATE INDEX status_latest_open_idx ON status_latest (next_update_by) WHERE phase <> 'resolved';

CREATE TABLE status_subscriptions (
	id         INTEGER PRIMARY KEY,
	kind       TEXT    NOT NULL CHECK (kind IN ('email', 'webhook')),
	target     TEXT    NOT NULL CHECK (target <> '') COLLATE NOCASE,
	token_hash TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
	created_at TEXT    NOT NULL,
	confirmed  INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
	UNIQUE (kind, target)
);

CREATE INDEX status_subscriptions_confirmed_idx ON status_subscriptions (confirmed, kind, id);

-- +goose Down
DROP TABLE status_subscriptions;
DROP TABLE status_latest;
DROP TABLE status_updates;
