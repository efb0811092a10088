package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"firebreak"
)

var _ firebreak.ContainmentService = (*ContainmentStore)(nil)

// ContainmentStore keeps containment plans, approvals, runs and run items
// in SQLite. Every method is one transaction: writes on the writer
// connection (durable on return: WAL with synchronous=FULL), reads in a
// read-only transaction on the read pool.
//
// Plans are versioned. Each version stores its spec, preview and hash and
// the targets resolved from its selectors, numbered by Seq from 0 in
// dispatch order; a version never changes once written. Plans belong to an
// incident the IncidentStore on the same DB holds.
type ContainmentStore struct {
	db *DB
}

// NewContainmentStore returns a ContainmentStore on an open DB.
func NewContainmentStore(db *DB) *ContainmentStore { return &ContainmentStore{db: db} }

// write runs fn in one write transaction and commits it; op names the
// operation in wrapped errors.
func (s *ContainmentStore) write(ctx context.Context, op string, fn func(tx *Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// read runs fn in a read-only transaction, so that a run and its items, or
// a plan and its targets, come from one snapshot.
func (s *ContainmentStore) read(ctx context.Context, op string, fn func(tx *Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// CreatePlan stores version 1 of a plan with its resolved targets and sets
// p's ID, Version (1) and CreatedAt. The incident must exist (ENOTFOUND).
// targets must be in Seq order and numbered from 0 (targets[i].Seq == i),
// each naming one of its step's actions, at most once per action and target.
func (s *ContainmentStore) CreatePlan(ctx context.Context, p *firebreak.Plan, targets []firebreak.PlanTarget) error {
	if p == nil {
		return firebreak.Errorf(firebreak.EINVALID, "plan: required")
	}
	if p.IncidentID <= 0 {
		return invalid(&firebreak.FieldError{Field: "incident_id", Reason: "required"})
	}
	if err := validatePlanVersion(p, targets); err != nil {
		return err
	}
	return s.write(ctx, "create plan", func(tx *Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM incidents WHERE id = ?`, p.IncidentID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ENOTFOUND, "Incident %d not found.", p.IncidentID)
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO plans (incident_id, version) VALUES (?, 1)`, p.IncidentID)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		return insertPlanVersion(ctx, tx, id, 1, p, targets)
	})
}

// RevisePlan stores version p.Version of plan p.ID with its targets and sets
// p's CreatedAt (and IncidentID, if 0). p.Version must be the latest
// version + 1, else ECONFLICT: someone else revised the plan first. Earlier
// versions, their targets and their approvals stay as they were.
func (s *ContainmentStore) RevisePlan(ctx context.Context, p *firebreak.Plan, targets []firebreak.PlanTarget) error {
	if p == nil {
		return firebreak.Errorf(firebreak.EINVALID, "plan: required")
	}
	if p.Version < 2 {
		return invalid(&firebreak.FieldError{Field: "version", Reason: "a revision is version 2 or later (the latest version + 1)"})
	}
	if err := validatePlanVersion(p, targets); err != nil {
		return err
	}
	return s.write(ctx, "revise plan", func(tx *Tx) error {
		var incident int64
		var latest int
		err := tx.QueryRowContext(ctx, `SELECT incident_id, version FROM plans WHERE id = ?`, p.ID).Scan(&incident, &latest)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return firebreak.Errorf(firebreak.ENOTFOUND, "Plan %d not found.", p.ID)
		case err != nil:
			return err
		case p.IncidentID != 0 && p.IncidentID != incident:
			return invalid(&firebreak.FieldError{Field: "incident_id",
				Reason: fmt.Sprintf("plan %d belongs to incident %d", p.ID, incident)})
		case p.Version != latest+1:
			return firebreak.Errorf(firebreak.ECONFLICT, "Plan %d is at version %d; revise from it (as version %d).", p.ID, latest, latest+1)
		}
		p.IncidentID = incident
		if _, err := tx.ExecContext(ctx, `UPDATE plans SET version = ? WHERE id = ?`, p.Version, p.ID); err != nil {
			return err
		}
		return insertPlanVersion(ctx, tx, p.ID, p.Version, p, targets)
	})
}

// insertPlanVersion writes one version of a plan and its targets, and on
// success sets p's ID, Version and CreatedAt.
func insertPlanVersion(ctx context.Context, tx *Tx, id int64, version int, p *firebreak.Plan, targets []firebreak.PlanTarget) error {
	spec, err := json.Marshal(p.Spec)
	if err != nil {
		return err
	}
	preview, err := json.Marshal(p.Preview)
	if err != nil {
		return err
	}
	// The targets take ids above every id in use (see the migration).
	var base int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM plan_targets`).Scan(&base); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO plan_versions (plan_id, version, author, created_at, spec, preview, hash, targets, target_base)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, version, p.Author, formatTime(tx.now), spec, preview, p.Hash, len(targets), base); err != nil {
		return err
	}
	if err := insertPlanTargets(ctx, tx, id, version, base, targets); err != nil {
		return err
	}
	p.ID, p.Version, p.CreatedAt = id, version, tx.now
	return nil
}

// FindPlan returns version v of a plan, or its latest version if v is 0.
// ENOTFOUND for an unknown plan or version.
func (s *ContainmentStore) FindPlan(ctx context.Context, id int64, v int) (*firebreak.Plan, error) {
	if v < 0 {
		return nil, invalid(&firebreak.FieldError{Field: "version", Reason: "must be 0 (the latest) or a version number"})
	}
	var p *firebreak.Plan
	err := s.read(ctx, "find plan", func(tx *Tx) error {
		var err error
		p, err = getPlan(ctx, tx, id, v)
		return err
	})
	return p, err
}

const planColumns = `p.id, p.incident_id, v.version, v.author, v.created_at, v.spec, v.preview, v.hash`

// getPlan loads version v of a plan (0: the latest).
func getPlan(ctx context.Context, q querier, id int64, v int) (*firebreak.Plan, error) {
	row := q.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans p
		JOIN plan_versions v ON v.plan_id = p.id AND v.version = CASE WHEN ?2 > 0 THEN ?2 ELSE p.version END
		WHERE p.id = ?1`, id, v)
	p, err := scanPlan(row)
	if !errors.Is(err, sql.ErrNoRows) {
		return p, err
	}
	if v > 0 {
		var latest int
		if err := q.QueryRowContext(ctx, `SELECT version FROM plans WHERE id = ?`, id).Scan(&latest); err == nil {
			return nil, firebreak.Errorf(firebreak.ENOTFOUND, "Plan %d has no version %d; the latest is %d.", id, v, latest)
		}
	}
	return nil, firebreak.Errorf(firebreak.ENOTFOUND, "Plan %d not found.", id)
}

func scanPlan(row interface{ Scan(...any) error }) (*firebreak.Plan, error) {
	var (
		p             firebreak.Plan
		created       string
		spec, preview []byte
	)
	if err := row.Scan(&p.ID, &p.IncidentID, &p.Version, &p.Author, &created, &spec, &preview, &p.Hash); err != nil {
		return nil, err
	}
	err := parseInto(&p.CreatedAt, created, nil)
	if err == nil {
		err = json.Unmarshal(spec, &p.Spec)
	}
	if err == nil {
		err = json.Unmarshal(preview, &p.Preview)
	}
	if err != nil {
		return nil, fmt.Errorf("plan %d version %d: %w", p.ID, p.Version, err)
	}
	return &p, nil
}

// ListPlans returns the latest version of every plan of an incident (every
// incident if incidentID is 0), newest plan first.
func (s *ContainmentStore) ListPlans(ctx context.Context, incidentID int64) ([]*firebreak.Plan, error) {
	plans := []*firebreak.Plan{}
	err := s.read(ctx, "list plans", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+planColumns+` FROM plans p
			JOIN plan_versions v ON v.plan_id = p.id AND v.version = p.version
			WHERE ?1 = 0 OR p.incident_id = ?1 ORDER BY p.id DESC`, incidentID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPlan(rows)
			if err != nil {
				return err
			}
			plans = append(plans, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return plans, nil
}
