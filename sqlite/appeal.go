package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"firebreak"
)

var _ firebreak.AppealService = (*AppealStore)(nil)

// AppealStore implements firebreak.AppealService on SQLite.
type AppealStore struct {
	db *DB
}

// NewAppealStore returns an AppealStore on an open DB.
func NewAppealStore(db *DB) *AppealStore { return &AppealStore{db: db} }

func (s *AppealStore) write(ctx context.Context, op string, fn func(tx *Tx) error) error {
	return (&IncidentStore{db: s.db}).write(ctx, op, fn)
}

func (s *AppealStore) read(ctx context.Context, op string, fn func(tx *Tx) error) error {
	return (&IncidentStore{db: s.db}).read(ctx, op, fn)
}

const appealColumns = `id, incident_id, account, tier, comment, state, reason, created_at, decided_at, decided_by`

// Record stores a new appeal, or loads the open appeal of the same
// incident and account into a and returns created false. An unknown
// incident is ENOTFOUND.
func (s *AppealStore) Record(ctx context.Context, a *firebreak.Appeal) (created bool, err error) {
	if a == nil {
		return false, firebreak.Errorf(firebreak.EINVALID, "appeal: required")
	}
	if err := invalid(a.Validate()); err != nil {
		return false, err
	}
	err = s.write(ctx, "record appeal", func(tx *Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM incidents WHERE id = ?`, a.IncidentID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ENOTFOUND, "Incident %d not found.", a.IncidentID)
		} else if err != nil {
			return err
		}
		open, err := scanAppeal(tx.QueryRowContext(ctx, `SELECT `+appealColumns+` FROM appeals
			WHERE incident_id = ? AND account = ? AND state IN ('received', 'queued_for_review')`, a.IncidentID, a.Account))
		if err == nil {
			*a = *open
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO appeals (incident_id, account, tier, comment, state, created_at)
			VALUES (?, ?, ?, ?, 'received', ?)`, a.IncidentID, a.Account, a.Tier, a.Comment, formatTime(tx.now))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		stored, err := getAppeal(ctx, tx, id)
		if err == nil {
			*a, created = *stored, true
		}
		return err
	})
	return created, err
}

// Decide moves an open appeal to lifted, queued_for_review or rejected.
// ECONFLICT if it is decided already, or is queued and asked to queue.
func (s *AppealStore) Decide(ctx context.Context, id int64, state firebreak.AppealState, reason, actor string) (*firebreak.Appeal, error) {
	var fe *firebreak.FieldError
	switch {
	case state != firebreak.AppealLifted && state != firebreak.AppealQueued && state != firebreak.AppealRejected:
		fe = &firebreak.FieldError{Field: "state", Reason: "must be lifted, queued_for_review or rejected"}
	case textProblem(reason, firebreak.MaxTextLen, true, true) != "":
		fe = &firebreak.FieldError{Field: "reason", Reason: textProblem(reason, firebreak.MaxTextLen, true, true)}
	case firebreak.ValidateActor(actor) != nil:
		fe = &firebreak.FieldError{Field: "actor", Reason: "required: who decides, without control characters"}
	}
	if fe != nil {
		return nil, invalid(fe)
	}
	var out *firebreak.Appeal
	err := s.write(ctx, "decide appeal", func(tx *Tx) error {
		a, err := getAppeal(ctx, tx, id)
		if err != nil {
			return err
		}
		if !a.State.Open() || a.State == state {
			return firebreak.Errorf(firebreak.ECONFLICT, "Appeal %d is %s already.", id, a.State)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE appeals SET state = ?, reason = ?, decided_at = ?, decided_by = ? WHERE id = ?`,
			state, reason, formatTime(tx.now), actor, id); err != nil {
			return err
		}
		out, err = getAppeal(ctx, tx, id)
		return err
	})
	return out, err
}

// FindAppeal returns one appeal; ENOTFOUND if there is none.
func (s *AppealStore) FindAppeal(ctx context.Context, id int64) (*firebreak.Appeal, error) {
	var a *firebreak.Appeal
	err := s.read(ctx, "find appeal", func(tx *Tx) error {
		var err error
		a, err = getAppeal(ctx, tx, id)
		return err
	})
	return a, err
}

func getAppeal(ctx context.Context, q querier, id int64) (*firebreak.Appeal, error) {
	a, err := scanAppeal(q.QueryRowContext(ctx, `SELECT `+appealColumns+` FROM appeals WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, firebreak.Errorf(firebreak.ENOTFOUND, "Appeal %d not found.", id)
	}
	return a, err
}

func scanAppeal(row interface{ Scan(...any) error }) (*firebreak.Appeal, error) {
	var (
		a       firebreak.Appeal
		created string
		decided sql.NullString
	)
	if err := row.Scan(&a.ID, &a.IncidentID, &a.Account, &a.Tier, &a.Comment, &a.State, &a.Reason,
		&created, &decided, &a.DecidedBy); err != nil {
		return nil, err
	}
	err := parseInto(&a.CreatedAt, created, nil)
	if decided.Valid {
		err = parseInto(&a.DecidedAt, decided.String, err)
	}
	if err != nil {
		return nil, fmt.Errorf("appeal %d: %w", a.ID, err)
	}
	return &a, nil
}

// ListAppeals returns a page of an incident's appeals, newest first, and
// the counts of all of them by tier and state. The cursor is the id of
// the last appeal of the previous page.
func (s *AppealStore) ListAppeals(ctx context.Context, f firebreak.AppealFilter) (*firebreak.AppealList, error) {
	before := int64(1<<63 - 1)
	if f.Cursor != "" {
		n, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, invalid(&firebreak.FieldError{Field: "cursor", Reason: "not a cursor this list returned"})
		}
		before = n
	}
	switch {
	case f.Limit < 0 || f.Limit > firebreak.MaxPageLimit:
		return nil, invalid(&firebreak.FieldError{Field: "limit", Reason: fmt.Sprintf("must be from 0 (default) to %d", firebreak.MaxPageLimit)})
	case f.State != "" && !isAppealState(f.State):
		return nil, invalid(&firebreak.FieldError{Field: "state", Reason: "must be received, lifted, queued_for_review or rejected"})
	}
	limit := pageLimit(f.Limit)
	out := &firebreak.AppealList{Appeals: []*firebreak.Appeal{}, Counts: []firebreak.AppealCount{}}
	err := s.read(ctx, "list appeals", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+appealColumns+` FROM appeals
			WHERE incident_id = ?1 AND id < ?2 AND (?3 = '' OR state = ?3) ORDER BY id DESC LIMIT ?4`,
			f.IncidentID, before, f.State, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAppeal(rows)
			if err != nil {
				return err
			}
			out.Appeals = append(out.Appeals, a)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out.Appeals) > limit {
			out.Appeals = out.Appeals[:limit]
			out.Next = strconv.FormatInt(out.Appeals[limit-1].ID, 10)
		}
		return appealCounts(ctx, tx, f.IncidentID, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func appealCounts(ctx context.Context, tx *Tx, incidentID int64, out *firebreak.AppealList) error {
	rows, err := tx.QueryContext(ctx, `SELECT tier, state, count(*) FROM appeals WHERE incident_id = ?
		GROUP BY tier, state ORDER BY tier, state`, incidentID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c firebreak.AppealCount
		if err := rows.Scan(&c.Tier, &c.State, &c.Count); err != nil {
			return err
		}
		out.Counts = append(out.Counts, c)
	}
	return rows.Err()
}

func isAppealState(s firebreak.AppealState) bool {
	for _, v := range firebreak.AppealStates {
		if v == s {
			return true
		}
	}
	return false
}
