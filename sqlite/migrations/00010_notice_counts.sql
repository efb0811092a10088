-- Notice counts by incident, channel and state, kept by the notice store
-- in the same transaction as every insert and state change, so that the
-- outbox page and the incident metrics read a handful of rows instead of
-- counting a million notices; and the incident index in id order, so that an
-- incident's outbox pages in the order it lists without sorting. Failed
-- notices, rare, get their own index.

-- +goose Up
CREATE TABLE notice_counts (
	incident_id INTEGER NOT NULL,
	channel     TEXT    NOT NULL,
	state       TEXT    NOT NULL,
	n           INTEGER NOT NULL CHECK (n >= 0),
	PRIMARY KEY (incident_id, channel, state)
) WITHOUT ROWID;

INSERT INTO notice_counts (incident_id, channel, state, n)
	SELECT incident_id, channel, state, count(*) FROM notices GROUP BY incident_id, channel, state;

DROP INDEX notices_incident_idx;
CREATE INDEX notices_incident_idx ON notices (incident_id, id);
CREATE INDEX notices_failed_idx ON notices (state, id) WHERE state = 'failed';

-- +goose Down
DROP INDEX notices_failed_idx;
DROP INDEX notices_incident_idx;
CREATE INDEX notices_incident_idx ON notices (incident_id, channel, state);
DROP TABLE notice_counts;
