package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"firebreak"
)

// runStates lists every run state.
var runStates = []firebreak.RunState{firebreak.RunRunning, firebreak.RunPaused,
	firebreak.RunHalted, firebreak.RunKilled, firebreak.RunFinished}

// CreateRun stores a run and its items, all pending, and sets r's ID,
// State (running unless paused was asked for), Stage 0, times, Total and
// Counts. StartedBy is required; an empty Spec (no steps) takes the plan
// version's (for an apply) or the undone run's (for a rollback).
//
// An apply run copies every target of plan version r.PlanID/r.Version into
// its items, in one INSERT … SELECT. The version must be the plan's latest
// and r.Hash its hash (ECONFLICT otherwise), and have targets.
//
// A rollback (r.Kind rollback, r.RollbackOf the apply run it undoes) takes
// that run's plan, version and hash, and holds one item per confirmed item
// of it whose action is reversible, with Seq below uptoSeq if uptoSeq > 0.
// Items keep their action and Seq (the executor calls Revert), so a
// rollback's Seqs have gaps. ECONFLICT if the run is still running, is
// itself a rollback, or nothing is selected.
func (s *ContainmentStore) CreateRun(ctx context.Context, r *firebreak.Run, uptoSeq int64) error {
	if err := validateNewRun(r, uptoSeq); err != nil {
		return err
	}
	return s.write(ctx, "create run", func(tx *Tx) error {
		var err error
		if r.Kind == firebreak.RunApply {
			err = createApply(ctx, tx, r)
		} else {
			err = createRollback(ctx, tx, r, rollbackFilter{uptoSeq: uptoSeq})
		}
		if err != nil {
			return err
		}
		stored, err := getRun(ctx, tx, r.ID)
		if err == nil {
			*r = *stored
		}
		return err
	})
}

func validateNewRun(r *firebreak.Run, uptoSeq int64) error {
	if r == nil {
		return firebreak.Errorf(firebreak.EINVALID, "run: required")
	}
	var fe *firebreak.FieldError
	switch reason := textProblem(r.StartedBy, firebreak.MaxShortField, true, false); {
	case r.Kind != firebreak.RunApply && r.Kind != firebreak.RunRollback:
		fe = &firebreak.FieldError{Field: "kind", Reason: "must be apply or rollback"}
	case reason != "":
		fe = &firebreak.FieldError{Field: "started_by", Reason: reason}
	case r.State != "" && r.State != firebreak.RunRunning && r.State != firebreak.RunPaused:
		fe = &firebreak.FieldError{Field: "state", Reason: "a new run starts running or paused"}
	case r.Kind == firebreak.RunApply && (r.PlanID <= 0 || r.Version <= 0):
		fe = &firebreak.FieldError{Field: "version", Reason: "an apply run names its plan and version"}
	case r.Kind == firebreak.RunApply && r.RollbackOf != 0:
		fe = &firebreak.FieldError{Field: "rollback_of", Reason: "only for rollback runs"}
	case r.Kind == firebreak.RunRollback && r.RollbackOf <= 0:
		fe = &firebreak.FieldError{Field: "rollback_of", Reason: "required: the run to roll back"}
	case uptoSeq < 0 || (uptoSeq > 0 && r.Kind != firebreak.RunRollback):
		fe = &firebreak.FieldError{Field: "upto_seq", Reason: "must be 0 (all items), or above 0 for a partial rollback"}
	}
	if fe == nil {
		if reason := textProblem(r.Reason, firebreak.MaxTextLen, false, true); reason != "" {
			fe = &firebreak.FieldError{Field: "reason", Reason: reason}
		}
	}
	if fe != nil {
		return invalid(fe)
	}
	if len(r.Spec.Steps) > 0 {
		return invalid(prefixField("spec", r.Spec.Validate()))
	}
	return nil
}

// createApply inserts an apply run and copies its plan version's targets.
func createApply(ctx context.Context, tx *Tx, r *firebreak.Run) error {
	if err := checkLatest(ctx, tx, r.PlanID, r.Version, r.Hash, "run"); err != nil {
		return err
	}
	p, err := getPlan(ctx, tx, r.PlanID, r.Version)
	if err != nil {
		return err
	}
	if r.IncidentID != 0 && r.IncidentID != p.IncidentID {
		return invalid(&firebreak.FieldError{Field: "incident_id", Reason: fmt.Sprintf("plan %d belongs to incident %d", p.ID, p.IncidentID)})
	}
	r.IncidentID = p.IncidentID
	if len(r.Spec.Steps) == 0 {
		r.Spec = p.Spec
	}
	tbase, n, err := targetRange(ctx, tx, r.PlanID, r.Version)
	if err != nil {
		return err
	}
	if n == 0 {
		return firebreak.Errorf(firebreak.ECONFLICT, "Plan %d version %d has no targets; there is nothing to run.", r.PlanID, r.Version)
	}
	base, err := insertRun(ctx, tx, r)
	if err != nil {
		return err
	}
	// Ids ascend with seq, so this appends to the end of the table.
	if _, err = tx.ExecContext(ctx, `
		INSERT INTO run_items (id, run_id, seq, action, target, source, state, updated_at)
		SELECT ?1 + seq, ?2, seq, action, target, source, 'pending', ?3 FROM plan_targets
		WHERE id >= ?4 AND id < ?5 ORDER BY id`, base, r.ID, formatTime(tx.now), tbase, tbase+n); err != nil {
		return err
	}
	return setItems(ctx, tx, r.ID, n)
}

// setItems records that a new run holds n items, all pending, and where
// its ids end.
func setItems(ctx context.Context, tx *Tx, id, n int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE runs SET total = ?1, pending = ?1,
		item_end = (SELECT max(id) + 1 FROM run_items) WHERE id = ?2`, n, id)
	return err
}

// CreateRollbackFor stores a rollback run like CreateRun, limited to the
// confirmed items of run r.RollbackOf on one of targets with one of actions
// (reversible ones only). Targets and actions are required: an empty
// filter is refused, never read as "everything".
func (s *ContainmentStore) CreateRollbackFor(ctx context.Context, r *firebreak.Run, targets []string, actions []firebreak.ActionKind) error {
	if err := validateNewRun(r, 0); err != nil {
		return err
	}
	f := rollbackFilter{targets: targets}
	if err := f.setActions(r, actions); err != nil {
		return err
	}
	return s.write(ctx, "create rollback", func(tx *Tx) error {
		if err := createRollback(ctx, tx, r, f); err != nil {
			return err
		}
		stored, err := getRun(ctx, tx, r.ID)
		if err == nil {
			*r = *stored
		}
		return err
	})
}

// rollbackFilter selects the items a rollback undoes: Seq below uptoSeq
// (0: any), and, when set, only targets and actions.
type rollbackFilter struct {
	uptoSeq int64
	targets []string
	actions []firebreak.ActionKind
}

// setActions checks a partial rollback's run kind, targets and actions and
// keeps the reversible actions.
func (f *rollbackFilter) setActions(r *firebreak.Run, actions []firebreak.ActionKind) error {
	switch {
	case r.Kind != firebreak.RunRollback:
		return invalid(&firebreak.FieldError{Field: "kind", Reason: "must be rollback"})
	case len(f.targets) == 0 || len(f.targets) > firebreak.MaxBatch:
		return invalid(&firebreak.FieldError{Field: "targets", Reason: fmt.Sprintf("required: 1 to %d targets", firebreak.MaxBatch)})
	case len(actions) == 0:
		return invalid(&firebreak.FieldError{Field: "actions", Reason: "required: the actions to undo"})
	}
	for i, t := range f.targets {
		if t == "" {
			return invalid(&firebreak.FieldError{Field: fmt.Sprintf("targets[%d]", i), Reason: "required"})
		}
	}
	for i, a := range actions {
		info, ok := a.Info()
		if !ok {
			return invalid(&firebreak.FieldError{Field: fmt.Sprintf("actions[%d]", i), Reason: fmt.Sprintf("unknown action %q", a)})
		}
		if info.Reversible {
			f.actions = append(f.actions, a)
		}
	}
	if len(f.actions) == 0 {
		return firebreak.Errorf(firebreak.ECONFLICT, "None of the actions %v can be undone; there is nothing to roll back.", actions)
	}
	return nil
}

// where returns the SQL conditions and arguments (numbered from ?7) that
// the filter adds to the selection of items.
func (f rollbackFilter) where() (string, []any) {
	actions := f.actions
	if actions == nil {
		for _, a := range firebreak.ActionKinds {
			if info, _ := a.Info(); info.Reversible {
				actions = append(actions, a)
			}
		}
	}
	var args []any
	list := func(n int) string {
		marks := make([]string, n)
		for i := range marks {
			marks[i] = fmt.Sprintf("?%d", 7+len(args)+i)
		}
		return strings.Join(marks, ", ")
	}
	cond := " AND action IN (" + list(len(actions)) + ")"
	for _, a := range actions {
		args = append(args, string(a))
	}
	if len(f.targets) > 0 {
		cond += " AND target IN (" + list(len(f.targets)) + ")"
		for _, t := range f.targets {
			args = append(args, t)
		}
	}
	return cond, args
}

// createRollback inserts a rollback run and its items.
func createRollback(ctx context.Context, tx *Tx, r *firebreak.Run, f rollbackFilter) error {
	uptoSeq := f.uptoSeq
	orig, err := getRun(ctx, tx, r.RollbackOf)
	switch {
	case err != nil:
		return err
	case orig.Kind == firebreak.RunRollback:
		return firebreak.Errorf(firebreak.ECONFLICT, "Run %d is a rollback; only apply runs roll back.", orig.ID)
	case orig.State == firebreak.RunRunning:
		return firebreak.Errorf(firebreak.ECONFLICT, "Run %d is running; pause or kill it before rolling it back.", orig.ID)
	case r.PlanID != 0 && r.PlanID != orig.PlanID:
		return invalid(&firebreak.FieldError{Field: "plan_id", Reason: fmt.Sprintf("run %d ran plan %d", orig.ID, orig.PlanID)})
	}
	r.PlanID, r.Version, r.Hash, r.IncidentID = orig.PlanID, orig.Version, orig.Hash, orig.IncidentID
	if len(r.Spec.Steps) == 0 {
		r.Spec = orig.Spec
	}
	base, err := insertRun(ctx, tx, r)
	if err != nil {
		return err
	}
	from, to, err := itemRange(ctx, tx, orig.ID)
	if err != nil {
		return err
	}
	cond, extra := f.where()
	// One pass over the undone run's id range, in order, so the new items
	// append to the end of the table as an apply's do.
	res, err := tx.ExecContext(ctx, `
		INSERT INTO run_items (id, run_id, seq, action, target, source, state, updated_at)
		SELECT ?1 + seq, ?2, seq, action, target, source, 'pending', ?3 FROM run_items
		WHERE id >= ?4 AND id < ?5 AND state = 'confirmed' AND (?6 = 0 OR seq < ?6)`+cond+`
		ORDER BY id`, append([]any{base, r.ID, formatTime(tx.now), from, to, uptoSeq}, extra...)...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		below := ""
		if uptoSeq > 0 {
			below = fmt.Sprintf(" below seq %d", uptoSeq)
		}
		if len(f.targets) > 0 {
			below += " for the targets and actions asked for"
		}
		return firebreak.Errorf(firebreak.ECONFLICT, "Run %d has no confirmed items with a reversible action%s; there is nothing to roll back.", orig.ID, below)
	}
	return setItems(ctx, tx, r.ID, n)
}

// insertRun inserts the runs row, with no items yet, sets r.ID and returns
// the base of its item ids: above every item id in use.
func insertRun(ctx context.Context, tx *Tx, r *firebreak.Run) (base int64, err error) {
	spec, err := json.Marshal(r.Spec)
	if err != nil {
		return 0, err
	}
	state := r.State
	if state == "" {
		state = firebreak.RunRunning
	}
	var rollbackOf sql.NullInt64
	if r.Kind == firebreak.RunRollback {
		rollbackOf = sql.NullInt64{Int64: r.RollbackOf, Valid: true}
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM run_items`).Scan(&base); err != nil {
		return 0, err
	}
	now := formatTime(tx.now)
	res, err := tx.ExecContext(ctx, `
		INSERT INTO runs (plan_id, incident_id, version, hash, kind, rollback_of, spec, state, stage, reason,
			started_by, started_at, updated_at, item_base, item_end, pending_from,
			total, pending, sent, confirmed, failed, skipped)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0)`,
		r.PlanID, r.IncidentID, r.Version, r.Hash, r.Kind, rollbackOf, spec, state, r.Reason,
		r.StartedBy, now, now, base, base, base)
	if err != nil {
		return 0, err
	}
	r.ID, err = res.LastInsertId()
	return base, err
}

// FindRun returns a run with its item counts, read from the run's row
// (kept current by every item change), so it costs the same at any size.
func (s *ContainmentStore) FindRun(ctx context.Context, id int64) (*firebreak.Run, error) {
	var r *firebreak.Run
	err := s.read(ctx, "find run", func(tx *Tx) error {
		var err error
		r, err = getRun(ctx, tx, id)
		return err
	})
	return r, err
}

const runColumns = `id, plan_id, incident_id, version, hash, kind, rollback_of, spec, state, stage, reason,
	started_by, started_at, updated_at, finished_at, total, pending, sent, confirmed, failed, skipped`

// getRun loads one run; an unknown id is ENOTFOUND.
func getRun(ctx context.Context, q querier, id int64) (*firebreak.Run, error) {
	r, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, firebreak.Errorf(firebreak.ENOTFOUND, "Run %d not found.", id)
	}
	return r, err
}

func scanRun(row interface{ Scan(...any) error }) (*firebreak.Run, error) {
	var (
		r                firebreak.Run
		rollbackOf       sql.NullInt64
		spec             []byte
		started, updated string
		finished         sql.NullString
	)
	c := &r.Counts
	if err := row.Scan(&r.ID, &r.PlanID, &r.IncidentID, &r.Version, &r.Hash, &r.Kind, &rollbackOf, &spec,
		&r.State, &r.Stage, &r.Reason, &r.StartedBy, &started, &updated, &finished, &r.Total,
		&c.Pending, &c.Sent, &c.Confirmed, &c.Failed, &c.Skipped); err != nil {
		return nil, err
	}
	r.RollbackOf = rollbackOf.Int64
	err := parseInto(&r.UpdatedAt, updated, parseInto(&r.StartedAt, started, nil))
	if finished.Valid {
		err = parseInto(&r.FinishedAt, finished.String, err)
	}
	if err == nil {
		err = json.Unmarshal(spec, &r.Spec)
	}
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", r.ID, err)
	}
	return &r, nil
}

// ListRuns returns the runs of a plan (every plan if planID is 0), newest
// first.
func (s *ContainmentStore) ListRuns(ctx context.Context, planID int64) ([]*firebreak.Run, error) {
	runs := []*firebreak.Run{}
	err := s.read(ctx, "list runs", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+runColumns+` FROM runs
			WHERE ?1 = 0 OR plan_id = ?1 ORDER BY id DESC`, planID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return runs, nil
}

// UpdateRun stores r's State, Stage, Reason, UpdatedAt and FinishedAt, then
// loads the stored run into r. ECONFLICT if the stored run is over (killed
// or finished): those never change again. A zero UpdatedAt means now; a
// run that ends with a zero FinishedAt ends at UpdatedAt. Stage must index
// the run's stages.
func (s *ContainmentStore) UpdateRun(ctx context.Context, r *firebreak.Run) error {
	if r == nil {
		return firebreak.Errorf(firebreak.EINVALID, "run: required")
	}
	if err := validateRunUpdate(r); err != nil {
		return err
	}
	return s.write(ctx, "update run", func(tx *Tx) error {
		stored, err := getRun(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if stored.State.Over() {
			return firebreak.Errorf(firebreak.ECONFLICT, "Run %d is %s; a run that is over does not change.", r.ID, stored.State)
		}
		stages := len(stored.Spec.Stages)
		if stages == 0 {
			stages = len(firebreak.DefaultStages) // what Normalize fills in
		}
		if r.Stage >= stages {
			return invalid(&firebreak.FieldError{Field: "stage", Reason: fmt.Sprintf("run %d has %d stages (from 0)", r.ID, stages)})
		}
		updated, finished := r.UpdatedAt, sql.NullString{}
		if updated.IsZero() {
			updated = tx.now
		}
		if r.State.Over() {
			end := r.FinishedAt
			if end.IsZero() {
				end = updated
			}
			finished = sql.NullString{String: formatTime(end), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE runs SET state = ?, stage = ?, reason = ?, updated_at = ?, finished_at = ? WHERE id = ?`,
			r.State, r.Stage, r.Reason, formatTime(updated), finished, r.ID); err != nil {
			return err
		}
		stored, err = getRun(ctx, tx, r.ID)
		if err == nil {
			*r = *stored
		}
		return err
	})
}

func validateRunUpdate(r *firebreak.Run) error {
	var fe *firebreak.FieldError
	switch reason := textProblem(r.Reason, firebreak.MaxTextLen, false, true); {
	case !slices.Contains(runStates, r.State):
		fe = &firebreak.FieldError{Field: "state", Reason: "must be one of running, paused, halted, killed, finished"}
	case r.Stage < 0:
		fe = &firebreak.FieldError{Field: "stage", Reason: "must not be negative"}
	case reason != "":
		fe = &firebreak.FieldError{Field: "reason", Reason: reason}
	case !r.State.Over() && !r.FinishedAt.IsZero():
		fe = &firebreak.FieldError{Field: "finished_at", Reason: "only for killed or finished runs"}
	}
	if fe != nil {
		return invalid(fe)
	}
	return nil
}
