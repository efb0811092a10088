-- Account changes (decision 0007) are kept beside the high-risk logins, so
-- that an account's page shows what its sessions changed: type is '' for a
-- login, else the change's type. A change is not scored: score 0, decision
-- 'allow', so lists of challenged or denied logins leave it out.

-- +goose Up
ALTER TABLE logins ADD COLUMN type TEXT NOT NULL DEFAULT ''
	CHECK (type IN ('', 'password_change', 'recovery_change', 'mfa_enroll', 'mfa_remove'));

-- +goose Down
ALTER TABLE logins DROP COLUMN type;
