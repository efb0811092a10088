-- The outbox: one row per notice (incident, account, template), and the
-- in-app feed the platform's own app reads per account. Times are UTC, RFC
-- 3339 with 9 fractional digits, so that text order is time order.

-- +goose Up
CREATE TABLE notices (
	id           INTEGER PRIMARY KEY,
	incident_id  INTEGER NOT NULL REFERENCES incidents (id),
	account      TEXT    NOT NULL,
	template     TEXT    NOT NULL,
	channel      TEXT    NOT NULL CHECK (channel IN ('email', 'sms', 'chat', 'slack', 'inapp')),
	locale       TEXT    NOT NULL DEFAULT '',
	subject      TEXT    NOT NULL DEFAULT '',
	text         TEXT    NOT NULL CHECK (text <> ''),
	html         TEXT    NOT NULL DEFAULT '',
	state        TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
	reason       TEXT    NOT NULL DEFAULT '',
	attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	created_at   TEXT    NOT NULL,
	done_at      TEXT,              -- when it was sent or failed; NULL while queued
	next_attempt TEXT    NOT NULL,  -- created_at until the first claim, then the lease or retry time
	CHECK ((state = 'queued') = (done_at IS NULL)),
	-- Exactly one notice per incident, account and template: Enqueue is
	-- INSERT ... ON CONFLICT DO NOTHING, so the key survives restarts.
	UNIQUE (incident_id, account, template)
);

-- The queue a sender claims from: due notices of one channel, earliest first.
CREATE INDEX notices_due_idx ON notices (channel, next_attempt, id) WHERE state = 'queued';

-- Counts by incident, channel and state without reading the bodies.
CREATE INDEX notices_incident_idx ON notices (incident_id, channel, state);

CREATE TABLE inapp_feed (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	account    TEXT NOT NULL CHECK (account <> ''),
	key        TEXT NOT NULL CHECK (key <> ''),
	subject    TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL,
	html       TEXT NOT NULL DEFAULT '',
	meta       TEXT NOT NULL DEFAULT '{}', -- JSON object
	created_at TEXT NOT NULL,
	read_at    TEXT,                       -- set by the app, for unread counts
	UNIQUE (account, key)
);

CREATE INDEX inapp_feed_account_idx ON inapp_feed (account, id);

-- +goose Down
DROP TABLE inapp_feed;
DROP TABLE notices;
