package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

var _ firebreak.NoticeService = (*NoticeStore)(nil)

// NoticeStore is the outbox in SQLite: one row per notice, unique per
// (incident, account, template), claimed by senders through a lease on
// next_attempt. See docs/outbox.md.
type NoticeStore struct {
	db *DB
}

// NewNoticeStore returns a NoticeStore on an open DB.
func NewNoticeStore(db *DB) *NoticeStore { return &NoticeStore{db: db} }

func (s *NoticeStore) write(ctx context.Context, op string, fn func(tx *Tx) error) error {
	return (&IncidentStore{db: s.db}).write(ctx, op, fn)
}

func (s *NoticeStore) read(ctx context.Context, op string, fn func(tx *Tx) error) error {
	return (&IncidentStore{db: s.db}).read(ctx, op, fn)
}

// Enqueue stores the notices as queued in one transaction, skipping those
// whose key is already stored. An unknown incident is ENOTFOUND.
func (s *NoticeStore) Enqueue(ctx context.Context, notices []firebreak.Notice) (int, error) {
	if err := firebreak.ValidateNotices(notices); err != nil {
		return 0, invalid(err)
	}
	if len(notices) == 0 {
		return 0, nil
	}
	added := 0
	err := s.write(ctx, "enqueue notices", func(tx *Tx) error {
		if err := incidentsExist(ctx, tx, notices); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `
			INSERT INTO notices (incident_id, account, template, channel, locale, subject, text, html,
				created_at, next_attempt)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (incident_id, account, template) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := formatTime(tx.now)
		added = 0
		counts := countDeltas{}
		for i := range notices {
			n := &notices[i]
			res, err := stmt.ExecContext(ctx, n.IncidentID, n.Account, n.Template, n.Channel, n.Locale,
				n.Subject, n.Text, n.HTML, now, now)
			if err != nil {
				return err
			}
			// LastInsertId is stale after a skipped row, so ask RowsAffected.
			if k, err := res.RowsAffected(); err != nil {
				return err
			} else if k == 0 {
				continue
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			added++
			counts.add(n.IncidentID, n.Channel, firebreak.NoticeQueued, 1)
			n.ID, n.State, n.CreatedAt, n.NextAttempt = id, firebreak.NoticeQueued, tx.now, tx.now
			n.Attempts, n.Reason, n.SentAt = 0, "", time.Time{}
		}
		return counts.store(ctx, tx)
	})
	if err != nil {
		for i := range notices { // nothing was stored
			notices[i].ID = 0
		}
		return 0, err
	}
	return added, nil
}

// incidentsExist returns ENOTFOUND for the first incident of notices that is
// not stored; a batch usually names one incident, so this is one query.
func incidentsExist(ctx context.Context, tx *Tx, notices []firebreak.Notice) error {
	var seen []int64
	for i := range notices {
		id := notices[i].IncidentID
		if slices.Contains(seen, id) {
			continue
		}
		seen = append(seen, id)
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM incidents WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ENOTFOUND, "Incident %d not found (notices[%d].incident_id).", id, i)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// Find returns one notice; ENOTFOUND if there is none with id.
func (s *NoticeStore) Find(ctx context.Context, id int64) (*firebreak.Notice, error) {
	var n firebreak.Notice
	err := s.read(ctx, "find notice", func(tx *Tx) error {
		var err error
		n, err = scanNotice(tx.QueryRowContext(ctx, `SELECT `+noticeColumns+` FROM notices WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ENOTFOUND, "Notice %d not found.", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// Claim leases up to limit due notices of a channel, earliest due first,
// and returns them by ID.
func (s *NoticeStore) Claim(ctx context.Context, ch firebreak.Channel, limit int, lease time.Duration, at time.Time) ([]firebreak.Notice, error) {
	switch {
	case !slices.Contains(firebreak.Channels, ch):
		return nil, invalid(firebreak.ValidateChannel("channel", ch))
	case limit <= 0 || limit > firebreak.MaxBatch:
		return nil, invalid(&firebreak.FieldError{Field: "limit", Reason: "must be from 1 to " + strconv.Itoa(firebreak.MaxBatch)})
	case lease <= 0:
		return nil, invalid(&firebreak.FieldError{Field: "lease", Reason: "must be positive"})
	case at.IsZero():
		return nil, invalid(&firebreak.FieldError{Field: "at", Reason: "required"})
	}
	var out []firebreak.Notice
	err := s.write(ctx, "claim notices", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE notices SET next_attempt = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM notices INDEXED BY notices_due_idx
				WHERE state = 'queued' AND channel = ? AND next_attempt <= ?
				ORDER BY next_attempt, id LIMIT ?)
			RETURNING `+noticeColumns,
			formatTime(at.Add(lease)), ch, formatTime(at), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanNotice(rows)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b firebreak.Notice) int { return int(a.ID - b.ID) })
	return out, nil
}

// Record stores the outcomes of claimed notices in one transaction. A
// notice that is already sent or failed is ECONFLICT, an unknown one
// ENOTFOUND; either way nothing of the batch is stored.
func (s *NoticeStore) Record(ctx context.Context, results []firebreak.NoticeResult) error {
	if err := validateNoticeResults(results); err != nil {
		return invalid(err)
	}
	return s.write(ctx, "record notices", func(tx *Tx) error {
		stmt, err := tx.PrepareContext(ctx, `
			UPDATE notices SET state = ?, reason = ?, done_at = ?, next_attempt = ?
			WHERE id = ? AND state = 'queued' RETURNING incident_id, channel`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		counts := countDeltas{}
		for _, r := range results {
			at := r.At
			if at.IsZero() {
				at = tx.now
			}
			var done any
			next := formatTime(r.RetryAt)
			if r.State != firebreak.NoticeQueued {
				done, next = formatTime(at), formatTime(at)
			} else if r.RetryAt.IsZero() {
				next = formatTime(at)
			}
			var (
				incident int64
				ch       firebreak.Channel
			)
			err := stmt.QueryRowContext(ctx, r.State, r.Reason, done, next, r.ID).Scan(&incident, &ch)
			if errors.Is(err, sql.ErrNoRows) {
				return notQueued(ctx, tx, r.ID)
			} else if err != nil {
				return err
			}
			if r.State != firebreak.NoticeQueued {
				counts.add(incident, ch, firebreak.NoticeQueued, -1)
				counts.add(incident, ch, r.State, 1)
			}
		}
		return counts.store(ctx, tx)
	})
}

// notQueued explains why notice id could not be recorded.
func notQueued(ctx context.Context, tx *Tx, id int64) error {
	var state string
	err := tx.QueryRowContext(ctx, `SELECT state FROM notices WHERE id = ?`, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return firebreak.Errorf(firebreak.ENOTFOUND, "Notice %d not found.", id)
	} else if err != nil {
		return err
	}
	return firebreak.Errorf(firebreak.ECONFLICT, "Notice %d is already %s.", id, state)
}

func validateNoticeResults(results []firebreak.NoticeResult) error {
	if len(results) > firebreak.MaxBatch {
		return &firebreak.FieldError{Field: "results", Reason: "more than " + strconv.Itoa(firebreak.MaxBatch)}
	}
	for i, r := range results {
		field := func(name string) string { return fmt.Sprintf("results[%d].%s", i, name) }
		switch {
		case r.ID <= 0:
			return &firebreak.FieldError{Field: field("id"), Reason: "required"}
		case !slices.Contains(firebreak.NoticeStates, r.State):
			return &firebreak.FieldError{Field: field("state"), Reason: "must be one of queued, sent, failed"}
		case r.State == firebreak.NoticeFailed && strings.TrimSpace(r.Reason) == "":
			return &firebreak.FieldError{Field: field("reason"), Reason: "required: say why the notice failed"}
		case len(r.Reason) > firebreak.MaxTextLen:
			return &firebreak.FieldError{Field: field("reason"), Reason: "longer than " + strconv.Itoa(firebreak.MaxTextLen) + " bytes"}
		}
	}
	return nil
}

const noticeColumns = `id, incident_id, account, template, channel, locale, subject, text, html,
	state, reason, attempts, created_at, done_at, next_attempt`

func scanNotice(row interface{ Scan(...any) error }) (firebreak.Notice, error) {
	var (
		n             firebreak.Notice
		created, next string
		done          sql.NullString
	)
	if err := row.Scan(&n.ID, &n.IncidentID, &n.Account, &n.Template, &n.Channel, &n.Locale, &n.Subject,
		&n.Text, &n.HTML, &n.State, &n.Reason, &n.Attempts, &created, &done, &next); err != nil {
		return n, err
	}
	err := parseInto(&n.CreatedAt, created, nil)
	if n.State == firebreak.NoticeQueued {
		err = parseInto(&n.NextAttempt, next, err)
	}
	if done.Valid && n.State == firebreak.NoticeSent {
		err = parseInto(&n.SentAt, done.String, err)
	}
	if err != nil {
		return n, fmt.Errorf("notice %d: %w", n.ID, err)
	}
	return n, nil
}

// countDeltas collects the changes of one transaction to notice_counts (the
// counts by incident, channel and state that Counts reads), to write once.
type countDeltas map[countKey]int64

type countKey struct {
	incident int64
	channel  firebreak.Channel
	state    firebreak.NoticeState
}

func (c countDeltas) add(incident int64, ch firebreak.Channel, state firebreak.NoticeState, n int64) {
	c[countKey{incident, ch, state}] += n
}

// store applies the deltas in tx.
func (c countDeltas) store(ctx context.Context, tx *Tx) error {
	for k, n := range c {
		var err error
		switch {
		case n < 0: // the notices it takes away were counted: the row exists
			_, err = tx.ExecContext(ctx, `UPDATE notice_counts SET n = n + ? WHERE incident_id = ? AND channel = ? AND state = ?`,
				n, k.incident, k.channel, k.state)
		case n > 0:
			_, err = tx.ExecContext(ctx, `INSERT INTO notice_counts (incident_id, channel, state, n) VALUES (?, ?, ?, ?)
				ON CONFLICT (incident_id, channel, state) DO UPDATE SET n = n + excluded.n`, k.incident, k.channel, k.state, n)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
