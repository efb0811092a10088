-- Notice actions: a plan may queue notices to the accounts it selects
-- (notify_inapp, notify_email, notify_sms, notify_chat), carried out by the
-- notifier through the outbox. SQLite cannot change a CHECK constraint in
-- place, so plan_targets is copied into a table that allows them.

-- +goose Up
CREATE TABLE plan_targets_v2 (
	id           INTEGER PRIMARY KEY, -- plan_versions.target_base + seq
	plan_id      INTEGER NOT NULL,
	version      INTEGER NOT NULL,
	seq          INTEGER NOT NULL CHECK (seq >= 0),
	step         INTEGER NOT NULL CHECK (step >= 0),
	action       TEXT    NOT NULL CHECK (action IN ('revoke_sessions', 'force_password_reset',
	                            'require_step_up', 'temporary_lock', 'throttle_source', 'block_source',
	                            'notify_inapp', 'notify_email', 'notify_sms', 'notify_chat')),
	target       TEXT    NOT NULL CHECK (target <> ''),
	source       INTEGER NOT NULL CHECK (source IN (0, 1)),
	tier         TEXT    NOT NULL CHECK (tier IN ('', 'compromised', 'at_risk', 'targeted')),
	confidence   REAL    NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
	likely_clean INTEGER NOT NULL CHECK (likely_clean IN (0, 1)),
	FOREIGN KEY (plan_id, version) REFERENCES plan_versions (plan_id, version)
);
INSERT INTO plan_targets_v2 SELECT id, plan_id, version, seq, step, action, target, source, tier, confidence, likely_clean
	FROM plan_targets;
DROP TABLE plan_targets;
ALTER TABLE plan_targets_v2 RENAME TO plan_targets;

-- +goose Down
CREATE TABLE plan_targets_v1 (
	id           INTEGER PRIMARY KEY,
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
INSERT INTO plan_targets_v1 SELECT * FROM plan_targets WHERE action NOT LIKE 'notify\_%' ESCAPE '\';
DROP TABLE plan_targets;
ALTER TABLE plan_targets_v1 RENAME TO plan_targets;
