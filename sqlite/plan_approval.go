package sqlite

import (
	"context"

	"firebreak"
)

// AddApproval stores an approval of one plan version and sets its ID and
// CreatedAt. The version must exist (ENOTFOUND), be the plan's latest and
// carry a.Hash (ECONFLICT otherwise: an approval binds to exactly what the
// approver saw). Who may approve is the caller's rule, not the store's.
func (s *ContainmentStore) AddApproval(ctx context.Context, a *firebreak.Approval) error {
	if err := validateApproval(a); err != nil {
		return err
	}
	return s.write(ctx, "add approval", func(tx *Tx) error {
		if err := checkLatest(ctx, tx, a.PlanID, a.Version, a.Hash, "approve"); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO approvals (plan_id, version, hash, approver, comment, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.PlanID, a.Version, a.Hash, a.Approver, a.Comment, formatTime(tx.now), formatTime(a.ExpiresAt))
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		a.CreatedAt = tx.now
		return nil
	})
}

func validateApproval(a *firebreak.Approval) error {
	if a == nil {
		return firebreak.Errorf(firebreak.EINVALID, "approval: required")
	}
	var fe *firebreak.FieldError
	switch reason := textProblem(a.Approver, firebreak.MaxShortField, true, false); {
	case a.PlanID <= 0:
		fe = &firebreak.FieldError{Field: "plan_id", Reason: "required"}
	case a.Version <= 0:
		fe = &firebreak.FieldError{Field: "version", Reason: "required: the version approved"}
	case !isHexHash(a.Hash):
		fe = &firebreak.FieldError{Field: "hash", Reason: "must be the hex SHA-256 of the version approved"}
	case reason != "":
		fe = &firebreak.FieldError{Field: "approver", Reason: reason}
	case a.ExpiresAt.IsZero():
		fe = &firebreak.FieldError{Field: "expires_at", Reason: "required"}
	}
	if fe == nil {
		if reason := textProblem(a.Comment, firebreak.MaxTextLen, false, true); reason != "" {
			fe = &firebreak.FieldError{Field: "comment", Reason: reason}
		}
	}
	if fe != nil {
		return invalid(fe)
	}
	return nil
}

// checkLatest returns ENOTFOUND unless version v of plan id exists, and
// ECONFLICT unless it is the latest version and its hash is hash. verb says
// what the caller wanted to do, for the message.
func checkLatest(ctx context.Context, tx *Tx, id int64, v int, hash, verb string) error {
	p, err := getPlan(ctx, tx, id, v)
	if err != nil {
		return err
	}
	var latest int
	if err := tx.QueryRowContext(ctx, `SELECT version FROM plans WHERE id = ?`, id).Scan(&latest); err != nil {
		return err
	}
	switch {
	case latest != v:
		return firebreak.Errorf(firebreak.ECONFLICT, "Plan %d is at version %d; %s version %d instead of %d.", id, latest, verb, latest, v)
	case p.Hash != hash:
		return firebreak.Errorf(firebreak.ECONFLICT, "Hash %.12s… is not the hash of plan %d version %d (%.12s…); %s what you reviewed.", hash, id, v, p.Hash, verb)
	}
	return nil
}

// Approvals returns every approval of a plan, all versions, oldest first;
// ENOTFOUND for an unknown plan.
func (s *ContainmentStore) Approvals(ctx context.Context, planID int64) ([]firebreak.Approval, error) {
	out := []firebreak.Approval{}
	err := s.read(ctx, "list approvals", func(tx *Tx) error {
		if _, err := getPlan(ctx, tx, planID, 0); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT id, plan_id, version, hash, approver, comment, created_at, expires_at
			FROM approvals WHERE plan_id = ? ORDER BY id`, planID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a firebreak.Approval
			var created, expires string
			if err := rows.Scan(&a.ID, &a.PlanID, &a.Version, &a.Hash, &a.Approver, &a.Comment, &created, &expires); err != nil {
				return err
			}
			if err := parseInto(&a.ExpiresAt, expires, parseInto(&a.CreatedAt, created, nil)); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
