package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"firebreak"
)

var _ firebreak.OperatorService = (*OperatorStore)(nil)

// OperatorStore keeps operators, their sessions and API tokens in SQLite.
type OperatorStore struct {
	db *DB
}

// NewOperatorStore returns an OperatorStore on an open DB.
func NewOperatorStore(db *DB) *OperatorStore { return &OperatorStore{db: db} }

// write runs fn in one write transaction and commits it.
func (s *OperatorStore) write(ctx context.Context, op string, fn func(tx *Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return wrapOperatorErr(op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// read runs fn in a read-only transaction.
func (s *OperatorStore) read(ctx context.Context, op string, fn func(tx *Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	return wrapOperatorErr(op, fn(tx))
}

// wrapOperatorErr names the operation in internal errors; application errors pass
// through as they are, so that their message stays the user's.
func wrapOperatorErr(op string, err error) error {
	if err == nil || firebreak.ErrorCode(err) != firebreak.EINTERNAL {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

const operatorColumns = `id, name, role, password_hash, disabled, failed_logins, locked_until, created_at`

// validateOperator checks the fields the store keeps.
func validateOperator(op *firebreak.Operator) error {
	switch {
	case op == nil:
		return firebreak.Errorf(firebreak.EINVALID, "operator: required")
	case !strings.HasPrefix(op.PasswordHash, "$argon2id$"):
		return invalid(&firebreak.FieldError{Field: "password_hash", Reason: "must be an argon2id PHC string"})
	case op.FailedLogins < 0:
		return invalid(&firebreak.FieldError{Field: "failed_logins", Reason: "must not be negative"})
	}
	return invalid(firebreak.ValidateRole(op.Role))
}

// CreateOperator stores op and sets its ID and CreatedAt. A taken name is
// ECONFLICT.
func (s *OperatorStore) CreateOperator(ctx context.Context, op *firebreak.Operator) error {
	if err := validateOperator(op); err != nil {
		return err
	}
	if err := invalid(firebreak.ValidateOperatorName(op.Name)); err != nil {
		return err
	}
	return s.write(ctx, "create operator", func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators WHERE name = ?`, op.Name).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			return firebreak.Errorf(firebreak.ECONFLICT, "Operator %q already exists.", op.Name)
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO operators (name, role, password_hash, disabled, failed_logins, locked_until, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			op.Name, op.Role, op.PasswordHash, op.Disabled, op.FailedLogins, operatorNullTime(op.LockedUntil), formatTime(tx.now))
		if err != nil {
			return err
		}
		if op.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		op.CreatedAt = tx.now
		return nil
	})
}

// FindOperator returns the operator with id, or ENOTFOUND.
func (s *OperatorStore) FindOperator(ctx context.Context, id int64) (*firebreak.Operator, error) {
	var op *firebreak.Operator
	err := s.read(ctx, "find operator", func(tx *Tx) error {
		var err error
		op, err = scanOperator(tx.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ENOTFOUND, "Operator %d not found.", id)
		}
		return err
	})
	return op, err
}

// FindOperatorByName returns the operator called name, or ENOTFOUND.
func (s *OperatorStore) FindOperatorByName(ctx context.Context, name string) (*firebreak.Operator, error) {
	var op *firebreak.Operator
	err := s.read(ctx, "find operator", func(tx *Tx) error {
		var err error
		op, err = scanOperator(tx.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE name = ?`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ENOTFOUND, "Operator %q not found.", name)
		}
		return err
	})
	return op, err
}

// ListOperators returns every operator by name.
func (s *OperatorStore) ListOperators(ctx context.Context) ([]*firebreak.Operator, error) {
	ops := []*firebreak.Operator{}
	err := s.read(ctx, "list operators", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+operatorColumns+` FROM operators ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			op, err := scanOperator(rows)
			if err != nil {
				return err
			}
			ops = append(ops, op)
		}
		return rows.Err()
	})
	return ops, err
}

// UpdateOperator stores op's Role, PasswordHash, Disabled, FailedLogins and
// LockedUntil. An unknown ID is ENOTFOUND.
func (s *OperatorStore) UpdateOperator(ctx context.Context, op *firebreak.Operator) error {
	if err := validateOperator(op); err != nil {
		return err
	}
	return s.write(ctx, "update operator", func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE operators SET role = ?, password_hash = ?, disabled = ?, failed_logins = ?, locked_until = ?
			WHERE id = ?`,
			op.Role, op.PasswordHash, op.Disabled, op.FailedLogins, operatorNullTime(op.LockedUntil), op.ID)
		if err != nil {
			return err
		}
		return changedOne(res, "Operator %d not found.", op.ID)
	})
}

// CountOperators returns how many operators exist, disabled ones included.
func (s *OperatorStore) CountOperators(ctx context.Context) (int, error) {
	var n int
	err := s.read(ctx, "count operators", func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n)
	})
	return n, err
}

// operatorScanner is what *sql.Row and *sql.Rows share.
type operatorScanner interface{ Scan(dest ...any) error }

func scanOperator(row operatorScanner) (*firebreak.Operator, error) {
	var op firebreak.Operator
	var locked sql.NullString
	var created string
	err := row.Scan(&op.ID, &op.Name, &op.Role, &op.PasswordHash, &op.Disabled, &op.FailedLogins, &locked, &created)
	if err != nil {
		return nil, err
	}
	if op.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if op.LockedUntil, err = parseOperatorNullTime(locked); err != nil {
		return nil, err
	}
	return &op, nil
}

// changedOne returns ENOTFOUND (with the formatted message) unless res changed
// exactly one row.
func changedOne(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return firebreak.Errorf(firebreak.ENOTFOUND, format, args...)
	}
	return nil
}

// operatorNullTime stores the zero time as NULL.
func operatorNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

func parseOperatorNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}
