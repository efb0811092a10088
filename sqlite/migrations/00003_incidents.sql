-- Incidents: attack campaigns and compromises, the sources they came from, the
-- accounts they touched (in tiers) and a timeline of every step. Times are
-- UTC, RFC 3339 with 9 fractional digits, so that text order is time order.
-- The tier counts on incidents are kept by the store in the same transaction
-- as every change to incident_accounts, so the dashboard never counts rows.

-- +goose Up
CREATE TABLE incidents (
	id          INTEGER PRIMARY KEY,
	kind        TEXT    NOT NULL CHECK (kind IN ('credential_stuffing', 'password_spraying',
	                'brute_force', 'account_enumeration', 'impossible_travel', 'compromise')),
	severity    TEXT    NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
	state       TEXT    NOT NULL CHECK (state IN ('detected', 'triaged', 'contained', 'recovered', 'resolved')),
	title       TEXT    NOT NULL CHECK (title <> ''),
	summary     TEXT    NOT NULL DEFAULT '',
	first_seen  TEXT    NOT NULL,
	last_seen   TEXT    NOT NULL CHECK (last_seen >= first_seen),
	opened_at   TEXT    NOT NULL,
	updated_at  TEXT    NOT NULL,
	resolved_at TEXT,             -- NULL unless state is resolved
	merged_into INTEGER REFERENCES incidents (id),
	compromised INTEGER NOT NULL DEFAULT 0 CHECK (compromised >= 0),
	at_risk     INTEGER NOT NULL DEFAULT 0 CHECK (at_risk >= 0),
	targeted    INTEGER NOT NULL DEFAULT 0 CHECK (targeted >= 0),
	CHECK ((state = 'resolved') = (resolved_at IS NOT NULL)),
	CHECK (merged_into IS NULL OR (merged_into <> id AND state = 'resolved'))
);

CREATE INDEX incidents_opened_idx ON incidents (opened_at DESC, id DESC);
CREATE INDEX incidents_state_opened_idx ON incidents (state, opened_at DESC, id DESC);

CREATE TABLE incident_sources (
	incident_id INTEGER NOT NULL REFERENCES incidents (id),
	kind        TEXT    NOT NULL CHECK (kind IN ('ip', 'prefix', 'asn', 'fingerprint')),
	value       TEXT    NOT NULL CHECK (value <> ''),
	attempts    INTEGER NOT NULL CHECK (attempts >= 0),
	failures    INTEGER NOT NULL CHECK (failures >= 0 AND failures <= attempts),
	accounts    INTEGER NOT NULL CHECK (accounts >= 0),
	evidence    TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (incident_id, kind, value)
) WITHOUT ROWID;

-- Which incidents involve this source (e.g. a success from a campaign's IP).
CREATE INDEX incident_sources_value_idx ON incident_sources (kind, value);

CREATE TABLE incident_accounts (
	incident_id INTEGER NOT NULL REFERENCES incidents (id),
	account     TEXT    NOT NULL CHECK (account <> ''),
	tier        TEXT    NOT NULL CHECK (tier IN ('compromised', 'at_risk', 'targeted')),
	confidence  REAL    NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
	evidence    TEXT    NOT NULL DEFAULT '',
	first_seen  TEXT    NOT NULL,
	last_seen   TEXT    NOT NULL CHECK (last_seen >= first_seen),
	moved_by    TEXT    NOT NULL DEFAULT '', -- operator who last moved it; '' = automatic
	PRIMARY KEY (incident_id, account)
) WITHOUT ROWID;

-- Which incidents touch this account (the account page).
CREATE INDEX incident_accounts_account_idx ON incident_accounts (account);
-- One tier of one incident, in account order (paginated lists).
CREATE INDEX incident_accounts_tier_idx ON incident_accounts (incident_id, tier, account);

CREATE TABLE incident_timeline (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES incidents (id),
	time        TEXT    NOT NULL,
	actor       TEXT    NOT NULL CHECK (actor <> ''),
	kind        TEXT    NOT NULL CHECK (kind <> '' AND kind NOT GLOB '*[^a-z_]*'),
	message     TEXT    NOT NULL CHECK (message <> ''),
	data        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data) AND json_type(data) = 'object')
);

CREATE INDEX incident_timeline_incident_idx ON incident_timeline (incident_id, time, id);

-- +goose Down
DROP TABLE incident_timeline;
DROP TABLE incident_accounts;
DROP TABLE incident_sources;
DROP TABLE incidents;
