-- Appeals: a person's "this was me" about an incident that acted on their
-- account, and its decision. An incident and account hold at most one open
-- appeal (received or queued for review); decided ones stay as history.
-- Times are UTC, RFC 3339 with 9 fractional digits.

-- +goose Up
CREATE TABLE appeals (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES incidents (id),
	account     TEXT    NOT NULL CHECK (account <> ''),
	tier        TEXT    NOT NULL CHECK (tier IN ('compromised', 'at_risk', 'targeted')),
	comment     TEXT    NOT NULL DEFAULT '',
	state       TEXT    NOT NULL CHECK (state IN ('received', 'lifted', 'queued_for_review', 'rejected')),
	reason      TEXT    NOT NULL DEFAULT '',
	created_at  TEXT    NOT NULL,
	decided_at  TEXT,             -- NULL until a decision
	decided_by  TEXT    NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX appeals_open_idx ON appeals (incident_id, account)
	WHERE state IN ('received', 'queued_for_review');

-- An incident's appeals, newest first.
CREATE INDEX appeals_incident_idx ON appeals (incident_id, id DESC);

-- +goose Down
DROP TABLE appeals;
