-- Containment: plans (versioned, each version with its resolved targets),
-- approvals bound to one version's hash, and runs with one item per action
-- on one target. Times are UTC, RFC 3339 with 9 fractional digits, so that
-- text order is time order. The item counts on runs are kept by the store in
-- the same transaction as every change to run_items, so reading a run never
-- counts rows, even at a million items.
--
-- Targets and items are rowid tables keyed by base + seq: a plan version's
-- targets have ids target_base .. target_base + targets - 1, and a run's
-- items ids item_base + seq (below item_end). The bases are taken above the
-- largest id in use when the version or run is written, so the ranges never
-- overlap; finding the item of (run, seq) is one integer-key lookup, and
-- writing a million targets or items appends to the end of the table.

-- +goose Up
CREATE TABLE plans (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES incidents (id),
	version     INTEGER NOT NULL CHECK (version > 0) -- the latest
);

CREATE INDEX plans_incident_idx ON plans (incident_id, id);

CREATE TABLE plan_versions (
	plan_id     INTEGER NOT NULL REFERENCES plans (id),
	version     INTEGER NOT NULL CHECK (version > 0),
	author      TEXT    NOT NULL CHECK (author <> ''),
	created_at  TEXT    NOT NULL,
	spec        TEXT    NOT NULL CHECK (json_valid(spec) AND json_type(spec) = 'object'),
	preview     TEXT    NOT NULL CHECK (json_valid(preview) AND json_type(preview) = 'object'),
	hash        TEXT    NOT NULL CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
	targets     INTEGER NOT NULL CHECK (targets >= 0),
	target_base INTEGER NOT NULL CHECK (target_base > 0),
	PRIMARY KEY (plan_id, version)
) WITHOUT ROWID;

-- One action on one target; seq is the dispatch order, 0 to targets-1.
-- Append-only: a version's targets never change once written.
CREATE TABLE plan_targets (
	id           INTEGER PRIMARY KEY, -- plan_versions.target_base + seq
	plan_id      INTEGER NOT NULL,
	version      INTEGER NOT NULL,
	seq          INTEGER NOT NULL CHECK (seq >= 0),
	step         INTEGER NOT NULL CHECK (step >= 0),
	action       TEXT    NOT NULL CHECK (action IN ('revoke_sessions', 'force_password_reset',
	                            'require_step_up', 'temporary_lock', 'throttle_source', 'block_source')),
	target       TEXT    NOT NULL CHECK (target <> ''),
	source       INTEGER NOT NULL CHECK (source IN (0, 1)),
	tier         TEXT    NOT NULL CHECK (tier IN ('', 'compromised', 'at_risk', 'targeted')),
	confidence   REAL    NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
	likely_clean INTEGER NOT NULL CHECK (likely_clean IN (0, 1)),
	FOREIGN KEY (plan_id, version) REFERENCES plan_versions (plan_id, version)
);

CREATE TABLE approvals (
	id         INTEGER PRIMARY KEY,
	plan_id    INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	hash       TEXT    NOT NULL CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
	approver   TEXT    NOT NULL CHECK (approver <> ''),
	comment    TEXT    NOT NULL DEFAULT '',
	created_at TEXT    NOT NULL,
	expires_at TEXT    NOT NULL,
	FOREIGN KEY (plan_id, version) REFERENCES plan_versions (plan_id, version)
);

CREATE INDEX approvals_plan_idx ON approvals (plan_id, id);

CREATE TABLE runs (
	id           INTEGER PRIMARY KEY,
	plan_id      INTEGER NOT NULL,
	incident_id  INTEGER NOT NULL REFERENCES incidents (id),
	version      INTEGER NOT NULL,
	hash         TEXT    NOT NULL,
	kind         TEXT    NOT NULL CHECK (kind IN ('apply', 'rollback')),
	rollback_of  INTEGER REFERENCES runs (id),
	spec         TEXT    NOT NULL CHECK (json_valid(spec) AND json_type(spec) = 'object'),
	state        TEXT    NOT NULL CHECK (state IN ('running', 'paused', 'halted', 'killed', 'finished')),
	stage        INTEGER NOT NULL CHECK (stage >= 0),
	reason       TEXT    NOT NULL DEFAULT '',
	started_by   TEXT    NOT NULL CHECK (started_by <> ''),
	started_at   TEXT    NOT NULL,
	updated_at   TEXT    NOT NULL,
	finished_at  TEXT,             -- NULL unless killed or finished
	item_base    INTEGER NOT NULL CHECK (item_base > 0),
	item_end     INTEGER NOT NULL CHECK (item_end >= item_base),
	-- No pending item has an id below pending_from: claims start reading
	-- there, and move it up past what they claim.
	pending_from INTEGER NOT NULL CHECK (pending_from >= item_base),
	total        INTEGER NOT NULL CHECK (total >= 0),
	pending      INTEGER NOT NULL CHECK (pending >= 0),
	sent         INTEGER NOT NULL CHECK (sent >= 0),
	confirmed    INTEGER NOT NULL CHECK (confirmed >= 0),
	failed       INTEGER NOT NULL CHECK (failed >= 0),
	skipped      INTEGER NOT NULL CHECK (skipped >= 0),
	CHECK (pending + sent + confirmed + failed + skipped = total),
	CHECK ((kind = 'rollback') = (rollback_of IS NOT NULL)),
	CHECK ((state IN ('killed', 'finished')) = (finished_at IS NOT NULL)),
	FOREIGN KEY (plan_id, version) REFERENCES plan_versions (plan_id, version)
);

CREATE INDEX runs_plan_idx ON runs (plan_id, id);

-- One action on one target within a run, keyed by the seq of the plan
-- target it came from (a rollback keeps the seq of the item it undoes).
CREATE TABLE run_items (
	id         INTEGER PRIMARY KEY, -- runs.item_base + seq
	run_id     INTEGER NOT NULL REFERENCES runs (id),
	seq        INTEGER NOT NULL CHECK (seq >= 0),
	action     TEXT    NOT NULL,
	target     TEXT    NOT NULL,
	source     INTEGER NOT NULL,
	state      TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'confirmed', 'failed', 'skipped')),
	reason     TEXT    NOT NULL DEFAULT '',
	attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	sent_at    TEXT,              -- NULL while pending
	updated_at TEXT    NOT NULL,
	CHECK (state NOT IN ('failed', 'skipped') OR reason <> '')
);

-- Failed and skipped items, rare, for lists of them. The hot loop touches
-- no index: a claim reads pending items in id order from the run's
-- pending_from, and recording an item confirmed rewrites only its row.
CREATE INDEX run_items_state_idx ON run_items (run_id, state, id)
	WHERE state = 'failed' OR state = 'skipped';

-- +goose Down
DROP TABLE run_items;
DROP TABLE runs;
DROP TABLE approvals;
DROP TABLE plan_targets;
DROP TABLE plan_versions;
DROP TABLE plans;
