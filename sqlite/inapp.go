package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"firebreak"
)

var _ firebreak.InAppFeed = (*InAppStore)(nil)

// InAppStore keeps the in-app feed in SQLite: one entry per (account,
// message key), read per account in ID order by the platform's own app.
type InAppStore struct {
	db *DB
}

// NewInAppStore returns an InAppStore on an open DB.
func NewInAppStore(db *DB) *InAppStore { return &InAppStore{db: db} }

// Append adds m to account's feed; a key already in the feed changes
// nothing. A bad account or message is EINVALID naming the field.
func (s *InAppStore) Append(ctx context.Context, account string, m firebreak.Message) error {
	m.Channel, m.To = firebreak.ChannelInApp, account
	if err := m.Validate(); err != nil {
		return invalid(err)
	}
	meta, err := json.Marshal(m.Meta)
	if err != nil {
		return fmt.Errorf("append to in-app feed: %w", err)
	}
	if m.Meta == nil {
		meta = []byte("{}")
	}
	return (&IncidentStore{db: s.db}).write(ctx, "append to in-app feed", func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO inapp_feed (account, key, subject, text, html, meta, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account, key) DO NOTHING`,
			account, m.Key, m.Subject, m.Text, m.HTML, string(meta), formatTime(tx.now))
		return err
	})
}

// List returns up to limit entries of account's feed after the entry
// with ID after, oldest first. limit is 1 to firebreak.MaxPageLimit.
func (s *InAppStore) List(ctx context.Context, account string, after int64, limit int) ([]firebreak.InAppEntry, error) {
	switch {
	case account == "":
		return nil, invalid(&firebreak.FieldError{Field: "account", Reason: "required"})
	case after < 0:
		return nil, invalid(&firebreak.FieldError{Field: "after", Reason: "must not be negative"})
	case limit <= 0 || limit > firebreak.MaxPageLimit:
		return nil, invalid(&firebreak.FieldError{Field: "limit", Reason: "must be from 1 to " + strconv.Itoa(firebreak.MaxPageLimit)})
	}
	out := []firebreak.InAppEntry{}
	err := (&IncidentStore{db: s.db}).read(ctx, "list in-app feed", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT id, key, subject, text, html, meta, created_at FROM inapp_feed
			WHERE account = ? AND id > ? ORDER BY id LIMIT ?`, account, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e := firebreak.InAppEntry{Account: account,
				Message: firebreak.Message{Channel: firebreak.ChannelInApp, To: account}}
			var meta, created string
			if err := rows.Scan(&e.ID, &e.Message.Key, &e.Message.Subject, &e.Message.Text,
				&e.Message.HTML, &meta, &created); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(meta), &e.Message.Meta); err != nil {
				return fmt.Errorf("in-app entry %d: meta: %w", e.ID, err)
			}
			if len(e.Message.Meta) == 0 {
				e.Message.Meta = nil
			}
			if err := parseInto(&e.Created, created, nil); err != nil {
				return fmt.Errorf("in-app entry %d: %w", e.ID, err)
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
