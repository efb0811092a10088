package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"firebreak"
)

// insertEntry appends a timeline entry at the transaction's time.
func insertEntry(ctx context.Context, tx *Tx, id int64, actor, kind, msg string, data map[string]any) error {
	_, err := insertEntryID(ctx, tx, id, actor, kind, msg, data)
	return err
}

func insertEntryID(ctx context.Context, tx *Tx, id int64, actor, kind, msg string, data map[string]any) (int64, error) {
	if data == nil {
		data = map[string]any{}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("timeline data: %w", err)
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO incident_timeline (incident_id, time, actor, kind, message, data)
		VALUES (?, ?, ?, ?, ?, ?)`, id, formatTime(tx.now), actor, kind, msg, string(b))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// AddEntry appends entry to an incident's timeline at the current time and
// returns it with its ID and Time set.
func (s *IncidentStore) AddEntry(ctx context.Context, id int64, e firebreak.TimelineEntry) (*firebreak.TimelineEntry, error) {
	if err := e.Validate(); err != nil {
		return nil, invalid(err)
	}
	err := s.write(ctx, "add timeline entry", func(tx *Tx) error {
		if _, err := getIncident(ctx, tx, id); err != nil {
			return err
		}
		var err error
		e.ID, err = insertEntryID(ctx, tx, id, e.Actor, e.Kind, e.Message, e.Data)
		e.IncidentID, e.Time = id, tx.now
		return err
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Timeline returns every entry of an incident's timeline, oldest first.
func (s *IncidentStore) Timeline(ctx context.Context, id int64) ([]firebreak.TimelineEntry, error) {
	entries := []firebreak.TimelineEntry{}
	err := s.read(ctx, "read timeline", func(tx *Tx) error {
		if _, err := getIncident(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT id, time, actor, kind, message, data FROM incident_timeline
			WHERE incident_id = ? ORDER BY time, id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e := firebreak.TimelineEntry{IncidentID: id}
			var when, data string
			if err := rows.Scan(&e.ID, &when, &e.Actor, &e.Kind, &e.Message, &data); err != nil {
				return err
			}
			err := parseInto(&e.Time, when, nil)
			if err == nil {
				err = json.Unmarshal([]byte(data), &e.Data)
			}
			if err != nil {
				return fmt.Errorf("timeline entry %d: %w", e.ID, err)
			}
			entries = append(entries, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return entries, nil
}

// AddSources adds sources to an open incident or updates them. New sources
// are named in one timeline entry by the system.
func (s *IncidentStore) AddSources(ctx context.Context, id int64, sources []firebreak.IncidentSource) error {
	if err := firebreak.ValidateSources(sources); err != nil {
		return invalid(err)
	}
	return s.write(ctx, "add sources", func(tx *Tx) error {
		if err := checkOpen(ctx, tx, id); err != nil || len(sources) == 0 {
			return err
		}
		added, err := upsertSources(ctx, tx, id, sources)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET updated_at = ? WHERE id = ?`, formatTime(tx.now), id); err != nil {
			return err
		}
		if len(added) == 0 {
			return nil
		}
		data := map[string]any{"added": len(added), "updated": len(sources) - len(added)}
		return insertEntry(ctx, tx, id, firebreak.SystemActor, firebreak.EntrySourceAdded, sourcesMessage(added), data)
	})
}

// sourcesMessage names up to five new sources: "Added 7 sources: ip
// 192.0.2.1, prefix 198.51.100.0/24, … and 2 more."
func sourcesMessage(added []firebreak.IncidentSource) string {
	var names []string
	for _, src := range added[:min(len(added), 5)] {
		names = append(names, string(src.Kind)+" "+src.Value)
	}
	msg := fmt.Sprintf("Added %s: %s", plural(len(added), "source"), strings.Join(names, ", "))
	if len(added) > 5 {
		msg += fmt.Sprintf(" and %d more", len(added)-5)
	}
	return msg + "."
}

// upsertSources writes sources, keeping the larger of each stored and new
// counter and the newest evidence. It returns the sources that were new.
func upsertSources(ctx context.Context, tx *Tx, id int64, sources []firebreak.IncidentSource) ([]firebreak.IncidentSource, error) {
	exists, err := tx.PrepareContext(ctx, `
		SELECT count(*) FROM incident_sources WHERE incident_id = ? AND kind = ? AND value = ?`)
	if err != nil {
		return nil, err
	}
	defer exists.Close()
	put, err := tx.PrepareContext(ctx, `
		INSERT INTO incident_sources (incident_id, kind, value, attempts, failures, accounts, evidence)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id, kind, value) DO UPDATE SET
			attempts = max(attempts, excluded.attempts), failures = max(failures, excluded.failures),
			accounts = max(accounts, excluded.accounts), evidence = excluded.evidence`)
	if err != nil {
		return nil, err
	}
	defer put.Close()
	var added []firebreak.IncidentSource
	for _, src := range sources {
		var n int
		if err := exists.QueryRowContext(ctx, id, src.Kind, src.Value).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			added = append(added, src)
		}
		if _, err := put.ExecContext(ctx, id, src.Kind, src.Value, src.Attempts, src.Failures,
			src.Accounts, src.Evidence); err != nil {
			return nil, fmt.Errorf("source %s %s: %w", src.Kind, src.Value, err)
		}
	}
	return added, nil
}

// listSources returns an incident's sources, most attempts first.
func listSources(ctx context.Context, tx *Tx, id int64) ([]firebreak.IncidentSource, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT kind, value, attempts, failures, accounts, evidence FROM incident_sources
		WHERE incident_id = ? ORDER BY attempts DESC, kind, value`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []firebreak.IncidentSource{}
	for rows.Next() {
		var src firebreak.IncidentSource
		if err := rows.Scan(&src.Kind, &src.Value, &src.Attempts, &src.Failures, &src.Accounts, &src.Evidence); err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}
