package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"firebreak"
)

// isHexSHA256 reports whether h is a hex SHA-256, as session ids and tokens
// are stored.
func isHexSHA256(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func validateSession(ss *firebreak.Session) error {
	switch {
	case ss == nil:
		return firebreak.Errorf(firebreak.EINVALID, "session: required")
	case !isHexSHA256(ss.IDHash):
		return invalid(&firebreak.FieldError{Field: "id_hash", Reason: "must be a hex SHA-256"})
	case ss.CSRFToken == "":
		return invalid(&firebreak.FieldError{Field: "csrf_token", Reason: "required"})
	case ss.CreatedAt.IsZero():
		return invalid(&firebreak.FieldError{Field: "created_at", Reason: "required"})
	case ss.LastSeen.Before(ss.CreatedAt):
		return invalid(&firebreak.FieldError{Field: "last_seen", Reason: "must not be before created_at"})
	}
	return nil
}

// CreateSession stores a session of an existing operator (ENOTFOUND
// otherwise).
func (s *OperatorStore) CreateSession(ctx context.Context, ss *firebreak.Session) error {
	if err := validateSession(ss); err != nil {
		return err
	}
	return s.write(ctx, "create session", func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators WHERE id = ?`, ss.OperatorID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return firebreak.Errorf(firebreak.ENOTFOUND, "Operator %d not found.", ss.OperatorID)
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, last_seen)
			VALUES (?, ?, ?, ?, ?)`,
			ss.IDHash, ss.OperatorID, ss.CSRFToken, formatTime(ss.CreatedAt), formatTime(ss.LastSeen))
		return err
	})
}

// FindSession returns the session whose id hashes to idHash, or ENOTFOUND.
func (s *OperatorStore) FindSession(ctx context.Context, idHash string) (*firebreak.Session, error) {
	ss := &firebreak.Session{}
	err := s.read(ctx, "find session", func(tx *Tx) error {
		var created, seen string
		err := tx.QueryRowContext(ctx, `
			SELECT id_hash, operator_id, csrf_token, created_at, last_seen
			FROM operator_sessions WHERE id_hash = ?`, idHash).
			Scan(&ss.IDHash, &ss.OperatorID, &ss.CSRFToken, &created, &seen)
		if errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ENOTFOUND, "Session not found.")
		} else if err != nil {
			return err
		}
		if ss.CreatedAt, err = parseTime(created); err != nil {
			return err
		}
		ss.LastSeen, err = parseTime(seen)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ss, nil
}

// TouchSession records that a session was used at lastSeen. It never moves
// LastSeen backwards. An unknown session is ENOTFOUND.
func (s *OperatorStore) TouchSession(ctx context.Context, idHash string, lastSeen time.Time) error {
	return s.write(ctx, "touch session", func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE operator_sessions SET last_seen = max(last_seen, ?) WHERE id_hash = ?`,
			formatTime(lastSeen), idHash)
		if err != nil {
			return err
		}
		return changedOne(res, "Session not found.")
	})
}

// DeleteSession deletes a session. Deleting one that is gone succeeds, so
// that signing out twice is harmless.
func (s *OperatorStore) DeleteSession(ctx context.Context, idHash string) error {
	return s.write(ctx, "delete session", func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM operator_sessions WHERE id_hash = ?`, idHash)
		return err
	})
}

// DeleteExpiredSessions deletes the sessions created before absolute or last
// seen before idle, and returns how many it deleted.
func (s *OperatorStore) DeleteExpiredSessions(ctx context.Context, absolute, idle time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete expired sessions", func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM operator_sessions WHERE created_at < ? OR last_seen < ?`,
			formatTime(absolute), formatTime(idle))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

const tokenColumns = `id, name, role, hash, created_by, created_at, last_used, revoked`

func validateToken(t *firebreak.APIToken) error {
	switch {
	case t == nil:
		return firebreak.Errorf(firebreak.EINVALID, "token: required")
	case !isHexSHA256(t.Hash):
		return invalid(&firebreak.FieldError{Field: "hash", Reason: "must be a hex SHA-256"})
	case t.CreatedBy == "":
		return invalid(&firebreak.FieldError{Field: "created_by", Reason: "required"})
	}
	if err := invalid(firebreak.ValidateOperatorName(t.Name)); err != nil {
		return err
	}
	return invalid(firebreak.ValidateRole(t.Role))
}

// CreateToken stores t and sets its ID and CreatedAt. A name held by a
// token that is not revoked, or a hash already stored, is ECONFLICT.
func (s *OperatorStore) CreateToken(ctx context.Context, t *firebreak.APIToken) error {
	if err := validateToken(t); err != nil {
		return err
	}
	return s.write(ctx, "create token", func(tx *Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens WHERE (name = ? AND revoked = 0) OR hash = ?`,
			t.Name, t.Hash).Scan(&n)
		if err != nil {
			return err
		} else if n > 0 {
			return firebreak.Errorf(firebreak.ECONFLICT, "An API token named %q exists: revoke it first or pick another name.", t.Name)
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO api_tokens (name, role, hash, created_by, created_at, last_used, revoked)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.Name, t.Role, t.Hash, t.CreatedBy, formatTime(tx.now), operatorNullTime(t.LastUsed), t.Revoked)
		if err != nil {
			return err
		}
		if t.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		t.CreatedAt = tx.now
		return nil
	})
}

// FindToken returns the token, revoked or not, whose hash is hash, or
// ENOTFOUND.
func (s *OperatorStore) FindToken(ctx context.Context, hash string) (*firebreak.APIToken, error) {
	var t *firebreak.APIToken
	err := s.read(ctx, "find token", func(tx *Tx) error {
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
		if errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ENOTFOUND, "API token not found.")
		}
		return err
	})
	return t, err
}

// ListTokens returns every token, oldest first.
func (s *OperatorStore) ListTokens(ctx context.Context) ([]*firebreak.APIToken, error) {
	tokens := []*firebreak.APIToken{}
	err := s.read(ctx, "list tokens", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				return err
			}
			tokens = append(tokens, t)
		}
		return rows.Err()
	})
	return tokens, err
}

// RevokeToken revokes a token for good; revoking it again succeeds. An
// unknown id is ENOTFOUND.
func (s *OperatorStore) RevokeToken(ctx context.Context, id int64) error {
	return s.write(ctx, "revoke token", func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE id = ?`, id)
		if err != nil {
			return err
		}
		return changedOne(res, "API token %d not found.", id)
	})
}

// TouchToken records that a token was used at lastUsed. It never moves
// LastUsed backwards. An unknown id is ENOTFOUND.
func (s *OperatorStore) TouchToken(ctx context.Context, id int64, lastUsed time.Time) error {
	return s.write(ctx, "touch token", func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used = max(coalesce(last_used, ''), ?) WHERE id = ?`,
			formatTime(lastUsed), id)
		if err != nil {
			return err
		}
		return changedOne(res, "API token %d not found.", id)
	})
}

func scanToken(row operatorScanner) (*firebreak.APIToken, error) {
	var t firebreak.APIToken
	var created string
	var used sql.NullString
	err := row.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &t.CreatedBy, &created, &used, &t.Revoked)
	if err != nil {
		return nil, err
	}
	if t.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if t.LastUsed, err = parseOperatorNullTime(used); err != nil {
		return nil, err
	}
	return &t, nil
}
