package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"firebreak"
)

var _ firebreak.IncidentService = (*IncidentStore)(nil)

// IncidentStore keeps incidents, their sources, affected accounts and
// timeline in SQLite. Every write is one transaction on the writer
// connection; reads run in a read-only transaction so that a page and its
// counts come from the same snapshot.
type IncidentStore struct {
	db *DB
}

// NewIncidentStore returns an IncidentStore on an open DB.
func NewIncidentStore(db *DB) *IncidentStore { return &IncidentStore{db: db} }

// querier is what both *sql.Tx and *Tx offer for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in one write transaction and commits it; op names the
// operation in wrapped errors.
func (s *IncidentStore) write(ctx context.Context, op string, fn func(tx *Tx) error) error {
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

// read runs fn in a read-only transaction.
func (s *IncidentStore) read(ctx context.Context, op string, fn func(tx *Tx) error) error {
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

// Create stores inc with its sources and first accounts and an "opened"
// timeline entry, and fills in inc's ID, State, times and Counts.
func (s *IncidentStore) Create(ctx context.Context, inc *firebreak.Incident, accounts []firebreak.AffectedAccount, actor string) error {
	if err := validateCreate(inc, accounts, actor); err != nil {
		return err
	}
	var created *firebreak.Incident
	err := s.write(ctx, "create incident", func(tx *Tx) error {
		id, err := insertIncident(ctx, tx, inc)
		if err != nil {
			return err
		}
		if _, err := upsertSources(ctx, tx, id, inc.Sources); err != nil {
			return err
		}
		ch, err := upsertAccounts(ctx, tx, id, accounts, combine)
		if err != nil {
			return err
		}
		if err := ch.apply(ctx, tx, id); err != nil {
			return err
		}
		msg := fmt.Sprintf("Opened %s incident %q with %s and %s.", inc.Kind, inc.Title,
			plural(len(inc.Sources), "source"), plural(int(ch.added.Total()), "account"))
		data := map[string]any{"kind": inc.Kind, "severity": inc.Severity, "sources": len(inc.Sources), "accounts": ch.added}
		if err := insertEntry(ctx, tx, id, actor, firebreak.EntryOpened, msg, data); err != nil {
			return err
		}
		created, err = getIncident(ctx, tx, id)
		return err
	})
	if err != nil {
		return err
	}
	created.Sources = inc.Sources
	*inc = *created
	return nil
}

func validateCreate(inc *firebreak.Incident, accounts []firebreak.AffectedAccount, actor string) error {
	if inc == nil {
		return firebreak.Errorf(firebreak.EINVALID, "incident: required")
	}
	if inc.State != "" && inc.State != firebreak.StateDetected {
		return invalid(&firebreak.FieldError{Field: "state", Reason: "a new incident starts detected"})
	}
	if err := inc.Validate(); err != nil {
		return invalid(err)
	}
	if err := firebreak.ValidateAccounts(accounts); err != nil {
		return invalid(err)
	}
	return invalid(firebreak.ValidateActor(actor))
}

func insertIncident(ctx context.Context, tx *Tx, inc *firebreak.Incident) (int64, error) {
	now := formatTime(tx.now)
	res, err := tx.ExecContext(ctx, `
		INSERT INTO incidents (kind, severity, state, title, summary, first_seen, last_seen, opened_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inc.Kind, inc.Severity, firebreak.StateDetected, inc.Title, inc.Summary,
		formatTime(inc.FirstSeen), formatTime(inc.LastSeen), now, now)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// Find returns one incident with its sources, most attempts first.
func (s *IncidentStore) Find(ctx context.Context, id int64) (*firebreak.Incident, error) {
	var inc *firebreak.Incident
	err := s.read(ctx, "find incident", func(tx *Tx) error {
		var err error
		if inc, err = getIncident(ctx, tx, id); err != nil {
			return err
		}
		inc.Sources, err = listSources(ctx, tx, id)
		return err
	})
	return inc, err
}

const incidentColumns = `id, kind, severity, state, title, summary, first_seen, last_seen,
	opened_at, updated_at, resolved_at, merged_into, compromised, at_risk, targeted`

// getIncident loads one incident without its sources; an unknown id is ENOTFOUND.
func getIncident(ctx context.Context, q querier, id int64) (*firebreak.Incident, error) {
	row := q.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id)
	inc, err := scanIncident(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, firebreak.Errorf(firebreak.ENOTFOUND, "Incident %d not found.", id)
	}
	return inc, err
}

func scanIncident(row interface{ Scan(...any) error }) (*firebreak.Incident, error) {
	var (
		inc                          firebreak.Incident
		first, last, opened, updated string
		resolved                     sql.NullString
		merged                       sql.NullInt64
	)
	c := &inc.Counts
	if err := row.Scan(&inc.ID, &inc.Kind, &inc.Severity, &inc.State, &inc.Title, &inc.Summary,
		&first, &last, &opened, &updated, &resolved, &merged, &c.Compromised, &c.AtRisk, &c.Targeted); err != nil {
		return nil, err
	}
	inc.MergedInto = merged.Int64
	err := parseInto(&inc.FirstSeen, first, nil)
	err = parseInto(&inc.LastSeen, last, err)
	err = parseInto(&inc.OpenedAt, opened, err)
	err = parseInto(&inc.UpdatedAt, updated, err)
	if resolved.Valid {
		err = parseInto(&inc.ResolvedAt, resolved.String, err)
	}
	if err != nil {
		return nil, fmt.Errorf("incident %d: %w", inc.ID, err)
	}
	return &inc, nil
}

// parseInto parses a stored time into dst unless an earlier parse failed,
// so that a row's times can be parsed in a chain with one error check.
func parseInto(dst *time.Time, s string, err error) error {
	if err != nil {
		return err
	}
	*dst, err = parseTime(s)
	return err
}

// plural formats a count with a noun: "1 account", "3 accounts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
