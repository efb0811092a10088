package sqlite

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"firebreak"
)

// noticeCursor is a position in the notice list: after the notice with ID,
// for one filter. It travels as base64url JSON, opaque to callers; a cursor
// made for another filter is refused.
type noticeCursor struct {
	List     string                `json:"l"` // always noticeList
	Incident int64                 `json:"n,omitempty"`
	State    firebreak.NoticeState `json:"s,omitempty"`
	Channel  firebreak.Channel     `json:"c,omitempty"`
	ID       int64                 `json:"i"`
}

const noticeList = "notices"

func (c noticeCursor) encode() string {
	b, _ := json.Marshal(c) // strings and integers always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeNoticeCursor parses s as a cursor of the list under f; "" is the
// start of the list.
func decodeNoticeCursor(f firebreak.NoticeFilter) (noticeCursor, error) {
	c := noticeCursor{List: noticeList, Incident: f.IncidentID, State: f.State, Channel: f.Channel}
	if f.Cursor == "" {
		return c, nil
	}
	var got noticeCursor
	b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
	if err == nil {
		err = json.Unmarshal(b, &got)
	}
	if err == nil && (got.List != noticeList || got.Incident != c.Incident || got.State != c.State ||
		got.Channel != c.Channel || got.ID <= 0) {
		err = errors.New("bad position")
	}
	if err != nil {
		return c, invalid(&firebreak.FieldError{Field: "cursor",
			Reason: "not a cursor from this list; pass the next value of the previous page"})
	}
	return got, nil
}

// List returns a page of notices in ID order.
func (s *NoticeStore) List(ctx context.Context, f firebreak.NoticeFilter) (*firebreak.NoticePage, error) {
	if err := f.Validate(); err != nil {
		return nil, invalid(err)
	}
	after, err := decodeNoticeCursor(f)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = firebreak.DefaultPageLimit
	}
	where, args := []string{"id > ?"}, []any{after.ID}
	if f.IncidentID != 0 {
		term := "incident_id = ?"
		if f.State == firebreak.NoticeFailed {
			// Failed notices are few: read them from their own index
			// (the unary + keeps SQLite off the incident index).
			term = "+incident_id = ?"
		}
		where, args = append(where, term), append(args, f.IncidentID)
	}
	if f.State != "" {
		// A literal, validated above, so that SQLite can use the partial
		// index of failed notices.
		where = append(where, "state = '"+string(f.State)+"'")
	}
	if f.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, f.Channel)
	}
	page := &firebreak.NoticePage{Notices: []firebreak.Notice{}}
	err = s.read(ctx, "list notices", func(tx *Tx) error {
		// One row more than the page tells whether there is a next page.
		rows, err := tx.QueryContext(ctx, `SELECT `+noticeColumns+` FROM notices WHERE `+
			strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, append(args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanNotice(rows)
			if err != nil {
				return err
			}
			page.Notices = append(page.Notices, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if len(page.Notices) > limit {
		page.Notices = page.Notices[:limit]
		after.ID = page.Notices[limit-1].ID
		page.Next = after.encode()
	}
	return page, nil
}

// Counts returns notices by channel and state, of one incident or of all.
func (s *NoticeStore) Counts(ctx context.Context, incidentID int64) (firebreak.NoticeCounts, error) {
	if incidentID < 0 {
		return nil, invalid(&firebreak.FieldError{Field: "incident_id", Reason: "must not be negative"})
	}
	// notice_counts is kept by Enqueue and Record (countDeltas).
	q, args := `SELECT channel, state, sum(n) FROM notice_counts GROUP BY channel, state HAVING sum(n) > 0`, []any{}
	if incidentID != 0 {
		q = `SELECT channel, state, n FROM notice_counts WHERE incident_id = ? AND n > 0`
		args = append(args, incidentID)
	}
	counts := firebreak.NoticeCounts{}
	err := s.read(ctx, "count notices", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				ch    firebreak.Channel
				state firebreak.NoticeState
				n     int64
			)
			if err := rows.Scan(&ch, &state, &n); err != nil {
				return err
			}
			c := counts[ch]
			switch state {
			case firebreak.NoticeQueued:
				c.Queued = n
			case firebreak.NoticeSent:
				c.Sent = n
			case firebreak.NoticeFailed:
				c.Failed = n
			}
			counts[ch] = c
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}
