-- Small key/value settings of the running instance, such as the policy in force.

-- +goose Up
CREATE TABLE meta (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE meta;
