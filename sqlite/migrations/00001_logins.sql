-- Scored high-risk logins, kept for the dashboard and investigation.
-- seq is the event's position in the journal, so re-recording after a replay
-- is a no-op. Times are UTC, RFC 3339 with 9 fractional digits, so that text
-- order is time order.

-- +goose Up
CREATE TABLE logins (
	seq         INTEGER PRIMARY KEY CHECK (seq > 0),
	time        TEXT    NOT NULL,
	account     TEXT    NOT NULL,
	outcome     TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
	ip          TEXT    NOT NULL,
	country     TEXT    NOT NULL DEFAULT '',
	asn         INTEGER NOT NULL DEFAULT 0,
	user_agent  TEXT    NOT NULL DEFAULT '',
	device_id   TEXT    NOT NULL DEFAULT '',
	score       REAL    NOT NULL CHECK (score >= 0 AND score <= 1),
	decision    TEXT    NOT NULL CHECK (decision IN ('allow', 'challenge', 'deny')),
	reasons     TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
	label       TEXT,                          -- JSON object; NULL when the source has none
	recorded_at TEXT    NOT NULL
);

CREATE INDEX logins_time_idx ON logins (time DESC, seq DESC);
CREATE INDEX logins_account_time_idx ON logins (account, time DESC, seq DESC);

-- +goose Down
DROP TABLE logins;
