package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

var _ firebreak.StatusService = (*StatusStore)(nil)

// StatusStore keeps the public status page's updates and subscriptions in
// SQLite. Publishing writes the update, the thread's latest row and (for an
// incident) a timeline entry in one transaction.
type StatusStore struct {
	db *DB
}

// NewStatusStore returns a StatusStore on an open DB.
func NewStatusStore(db *DB) *StatusStore { return &StatusStore{db: db} }

// write and read run fn in a transaction as IncidentStore's do.
func (s *StatusStore) write(ctx context.Context, op string, fn func(tx *Tx) error) error {
	return (&IncidentStore{db: s.db}).write(ctx, op, fn)
}

func (s *StatusStore) read(ctx context.Context, op string, fn func(tx *Tx) error) error {
	return (&IncidentStore{db: s.db}).read(ctx, op, fn)
}

// Publish validates u against the store's clock, stores it and sets its ID
// and PublishedAt. An unknown incident is ENOTFOUND.
func (s *StatusStore) Publish(ctx context.Context, u *firebreak.StatusUpdate) error {
	if u == nil {
		return firebreak.Errorf(firebreak.EINVALID, "status update: required")
	}
	return s.write(ctx, "publish status update", func(tx *Tx) error {
		if err := u.Validate(tx.now); err != nil {
			return invalid(err)
		}
		var incident any // NULL for a general notice
		if u.IncidentID != 0 {
			if _, err := getIncident(ctx, tx, u.IncidentID); err != nil {
				return err
			}
			incident = u.IncidentID
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO status_updates (thread, incident_id, phase, title, body, author, published_at, next_update_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u.IncidentID, incident, u.Phase, u.Title, u.Body, u.Author, formatTime(tx.now), nullTime(u.NextUpdateBy))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO status_latest (thread, update_id, phase, next_update_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (thread) DO UPDATE SET update_id = excluded.update_id,
				phase = excluded.phase, next_update_by = excluded.next_update_by`,
			u.IncidentID, id, u.Phase, nullTime(u.NextUpdateBy)); err != nil {
			return err
		}
		if err := timelineStatus(ctx, tx, u); err != nil {
			return err
		}
		u.ID, u.PublishedAt = id, tx.now
		if u.Phase != firebreak.PhaseResolved {
			u.NextUpdateBy = u.NextUpdateBy.UTC()
		}
		return nil
	})
}

// timelineStatus records an incident's status update on its timeline.
func timelineStatus(ctx context.Context, tx *Tx, u *firebreak.StatusUpdate) error {
	if u.IncidentID == 0 {
		return nil
	}
	msg := fmt.Sprintf("Published a status update (%s): %q.", u.Phase, u.Title)
	data := map[string]any{"phase": u.Phase, "title": u.Title}
	if !u.NextUpdateBy.IsZero() {
		msg += " Next update by " + u.NextUpdateBy.UTC().Format(time.RFC3339) + "."
		data["next_update_by"] = u.NextUpdateBy.UTC().Format(time.RFC3339)
	}
	return insertEntry(ctx, tx, u.IncidentID, u.Author, firebreak.EntryStatusUpdate, msg, data)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

const statusColumns = `u.id, u.thread, u.phase, u.title, u.body, u.author, u.published_at, u.next_update_by`

func scanStatus(row interface{ Scan(...any) error }) (firebreak.StatusUpdate, error) {
	var (
		u         firebreak.StatusUpdate
		published string
		next      sql.NullString
	)
	if err := row.Scan(&u.ID, &u.IncidentID, &u.Phase, &u.Title, &u.Body, &u.Author, &published, &next); err != nil {
		return u, err
	}
	err := parseInto(&u.PublishedAt, published, nil)
	if next.Valid {
		err = parseInto(&u.NextUpdateBy, next.String, err)
	}
	if err != nil {
		return u, fmt.Errorf("status update %d: %w", u.ID, err)
	}
	return u, nil
}

// queryStatus runs a query selecting statusColumns and collects the rows.
func queryStatus(ctx context.Context, q querier, query string, args ...any) ([]firebreak.StatusUpdate, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []firebreak.StatusUpdate{}
	for rows.Next() {
		u, err := scanStatus(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Current returns the unresolved threads, most recently updated first, each
// with all its updates newest first.
func (s *StatusStore) Current(ctx context.Context) ([]firebreak.StatusThread, error) {
	threads := []firebreak.StatusThread{}
	err := s.read(ctx, "list current status", func(tx *Tx) error {
		updates, err := queryStatus(ctx, tx, `
			SELECT `+statusColumns+` FROM status_latest l
			JOIN status_updates u ON u.thread = l.thread
			WHERE l.phase <> 'resolved'
			ORDER BY l.update_id DESC, u.id DESC`)
		threads = groupThreads(updates)
		return err
	})
	return threads, err
}

// groupThreads splits updates sorted by thread into threads.
func groupThreads(updates []firebreak.StatusUpdate) []firebreak.StatusThread {
	threads := []firebreak.StatusThread{}
	for _, u := range updates {
		if n := len(threads); n == 0 || threads[n-1].IncidentID != u.IncidentID {
			threads = append(threads, firebreak.StatusThread{IncidentID: u.IncidentID})
		}
		t := &threads[len(threads)-1]
		t.Updates = append(t.Updates, u)
	}
	return threads
}

// History returns a page of every update, newest first.
func (s *StatusStore) History(ctx context.Context, f firebreak.StatusFilter) (*firebreak.StatusPage, error) {
	if err := f.Validate(); err != nil {
		return nil, invalid(err)
	}
	before, err := decodeStatusCursor(f.Cursor)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = firebreak.DefaultPageLimit
	}
	page := &firebreak.StatusPage{}
	err = s.read(ctx, "list status history", func(tx *Tx) error {
		var err error
		page.Updates, err = queryStatus(ctx, tx, `SELECT `+statusColumns+` FROM status_updates u
			WHERE u.id < ? ORDER BY u.id DESC LIMIT ?`, before, limit+1)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(page.Updates) > limit {
		page.Updates = page.Updates[:limit]
		page.Next = encodeStatusCursor(page.Updates[limit-1].ID)
	}
	return page, nil
}

// statusCursorPrefix marks a history cursor, so that an incident list's
// cursor is refused rather than misread.
const statusCursorPrefix = "status:"

func encodeStatusCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(statusCursorPrefix + strconv.FormatInt(id, 10)))
}

// decodeStatusCursor returns the ID the page starts below; "" is the start.
func decodeStatusCursor(s string) (int64, error) {
	if s == "" {
		return 1<<63 - 1, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var id int64
	if rest, ok := strings.CutPrefix(string(b), statusCursorPrefix); err == nil && ok {
		id, err = strconv.ParseInt(rest, 10, 64)
	} else if err == nil {
		err = errors.New("not a status cursor")
	}
	if err != nil || id <= 0 {
		return 0, invalid(&firebreak.FieldError{Field: "cursor",
			Reason: "not a cursor from this list; pass the next value of the previous page"})
	}
	return id, nil
}

// Thread returns one thread's newest updates; a thread without updates is
// ENOTFOUND, whether or not the incident exists.
func (s *StatusStore) Thread(ctx context.Context, incidentID int64) (*firebreak.StatusThread, error) {
	var updates []firebreak.StatusUpdate
	err := s.read(ctx, "read status thread", func(tx *Tx) error {
		var err error
		updates, err = queryStatus(ctx, tx, `SELECT `+statusColumns+` FROM status_updates u
			WHERE u.thread = ? ORDER BY u.id DESC LIMIT ?`, incidentID, firebreak.MaxPageLimit)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(updates) == 0 {
		return nil, threadNotFound(incidentID)
	}
	return &firebreak.StatusThread{IncidentID: incidentID, Updates: updates}, nil
}

func threadNotFound(incidentID int64) error {
	if incidentID == 0 {
		return firebreak.Errorf(firebreak.ENOTFOUND, "No general status notices.")
	}
	return firebreak.Errorf(firebreak.ENOTFOUND, "No status updates for incident %d.", incidentID)
}

// Latest returns one thread's newest update.
func (s *StatusStore) Latest(ctx context.Context, incidentID int64) (*firebreak.StatusUpdate, error) {
	var updates []firebreak.StatusUpdate
	err := s.read(ctx, "read latest status", func(tx *Tx) error {
		var err error
		updates, err = queryStatus(ctx, tx, `SELECT `+statusColumns+` FROM status_latest l
			JOIN status_updates u ON u.id = l.update_id WHERE l.thread = ?`, incidentID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(updates) == 0 {
		return nil, threadNotFound(incidentID)
	}
	return &updates[0], nil
}

// Overdue returns the latest update of each unresolved thread whose promised
// next update time is before now, oldest promise first.
func (s *StatusStore) Overdue(ctx context.Context, now time.Time) ([]firebreak.StatusUpdate, error) {
	var updates []firebreak.StatusUpdate
	err := s.read(ctx, "list overdue status", func(tx *Tx) error {
		var err error
		updates, err = queryStatus(ctx, tx, `SELECT `+statusColumns+` FROM status_latest l
			JOIN status_updates u ON u.id = l.update_id
			WHERE l.phase <> 'resolved' AND l.next_update_by < ?
			ORDER BY l.next_update_by, l.thread`, formatTime(now))
		return err
	})
	return updates, err
}
