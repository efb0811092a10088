package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"firebreak"
)

// GetMeta returns the value stored under key, or an ENOTFOUND error.
func (db *DB) GetMeta(ctx context.Context, key string) (string, error) {
	if db.read == nil {
		return "", errors.New("get meta: database not open")
	}
	var v string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", firebreak.Errorf(firebreak.ENOTFOUND, "No setting %q.", key)
	} else if err != nil {
		return "", fmt.Errorf("get meta %q: %w", key, err)
	}
	return v, nil
}

// SetMeta stores value under key, replacing any earlier value.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	if key == "" {
		return firebreak.Errorf(firebreak.EINVALID, "key: required")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set meta %q: %w", key, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `
		INSERT INTO meta (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, formatTime(tx.now))
	if err != nil {
		return fmt.Errorf("set meta %q: %w", key, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set meta %q: %w", key, err)
	}
	return nil
}
