package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"firebreak"
)

// change is one field an update changed, as it goes on the timeline.
type change struct {
	kind, msg string
	data      map[string]any
}

// Update applies upd to an incident and writes one timeline entry per
// changed field by actor. A state change CanTransition refuses is ECONFLICT
// and changes nothing; fields set to their current value are no change.
func (s *IncidentStore) Update(ctx context.Context, id int64, upd firebreak.IncidentUpdate, actor string) (*firebreak.Incident, error) {
	if err := upd.Validate(); err != nil {
		return nil, invalid(err)
	}
	if err := firebreak.ValidateActor(actor); err != nil {
		return nil, invalid(err)
	}
	var inc *firebreak.Incident
	err := s.write(ctx, "update incident", func(tx *Tx) error {
		var err error
		if inc, err = checkNotMerged(ctx, tx, id); err != nil {
			return err
		}
		changes, err := applyUpdate(inc, upd, tx.now)
		if err != nil || len(changes) == 0 {
			return err
		}
		inc.UpdatedAt = tx.now
		var resolved sql.NullString
		if !inc.ResolvedAt.IsZero() {
			resolved = sql.NullString{String: formatTime(inc.ResolvedAt), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE incidents SET state = ?, severity = ?, title = ?, resolved_at = ?, updated_at = ?
			WHERE id = ?`, inc.State, inc.Severity, inc.Title, resolved, formatTime(tx.now), id); err != nil {
			return err
		}
		for _, c := range changes {
			if upd.Reason != "" {
				c.msg += " Reason: " + upd.Reason
				c.data["reason"] = upd.Reason
			}
			if err := insertEntry(ctx, tx, id, actor, c.kind, c.msg, c.data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Find(ctx, id)
}

// applyUpdate applies upd to inc and lists what changed.
func applyUpdate(inc *firebreak.Incident, upd firebreak.IncidentUpdate, now time.Time) ([]change, error) {
	var out []change
	if to := upd.State; to != nil {
		if err := firebreak.CanTransition(inc.State, *to); err != nil {
			return nil, err
		}
		out = append(out, change{firebreak.EntryStateChanged, fmt.Sprintf("State %s → %s.", inc.State, *to),
			map[string]any{"from": inc.State, "to": *to}})
		inc.State, inc.ResolvedAt = *to, time.Time{}
		if *to == firebreak.StateResolved {
			inc.ResolvedAt = now
		}
	}
	if to := upd.Severity; to != nil && *to != inc.Severity {
		out = append(out, change{firebreak.EntryUpdated, fmt.Sprintf("Severity %s → %s.", inc.Severity, *to),
			map[string]any{"field": "severity", "from": inc.Severity, "to": *to}})
		inc.Severity = *to
	}
	if to := upd.Title; to != nil && *to != inc.Title {
		out = append(out, change{firebreak.EntryUpdated, fmt.Sprintf("Title changed to %q.", *to),
			map[string]any{"field": "title", "from": inc.Title, "to": *to}})
		inc.Title = *to
	}
	return out, nil
}

// Merge moves the accounts and sources of incident from into incident into,
// copies from's timeline into into's (each copy marked merged_from), and
// resolves from with MergedInto set. Both must be open.
func (s *IncidentStore) Merge(ctx context.Context, into, from int64, actor string) (*firebreak.Incident, error) {
	if into == from {
		return nil, invalid(&firebreak.FieldError{Field: "from", Reason: "cannot merge an incident into itself"})
	}
	if err := firebreak.ValidateActor(actor); err != nil {
		return nil, invalid(err)
	}
	err := s.write(ctx, "merge incidents", func(tx *Tx) error {
		dst, src, err := mergeable(ctx, tx, into, from)
		if err != nil {
			return err
		}
		moved, err := moveAccounts(ctx, tx, into, from)
		if err != nil {
			return err
		}
		sources, err := moveSources(ctx, tx, into, from)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO incident_timeline (incident_id, time, actor, kind, message, data)
			SELECT ?, time, actor, kind, message, json_set(data, '$.merged_from', ?)
			FROM incident_timeline WHERE incident_id = ? ORDER BY id`, into, from, from); err != nil {
			return err
		}
		if err := closeMerged(ctx, tx, dst, src); err != nil {
			return err
		}
		msg := fmt.Sprintf("Merged incident %d (%q) into this one: %s, %s.", from, src.Title,
			plural(moved, "account"), plural(sources, "source"))
		data := map[string]any{"from": from, "accounts": moved, "sources": sources}
		if err := insertEntry(ctx, tx, into, actor, firebreak.EntryMerged, msg, data); err != nil {
			return err
		}
		if err := insertEntry(ctx, tx, from, actor, firebreak.EntryMerged,
			fmt.Sprintf("Merged into incident %d.", into), map[string]any{"into": into}); err != nil {
			return err
		}
		return insertEntry(ctx, tx, from, actor, firebreak.EntryStateChanged,
			fmt.Sprintf("State %s → resolved (merged into incident %d).", src.State, into),
			map[string]any{"from": src.State, "to": firebreak.StateResolved, "merged_into": into})
	})
	if err != nil {
		return nil, err
	}
	return s.Find(ctx, into)
}

// mergeable loads both incidents of a merge and refuses resolved ones.
func mergeable(ctx context.Context, tx *Tx, into, from int64) (dst, src *firebreak.Incident, err error) {
	if dst, err = getIncident(ctx, tx, into); err != nil {
		return nil, nil, err
	}
	if src, err = getIncident(ctx, tx, from); err != nil {
		return nil, nil, err
	}
	for _, inc := range []*firebreak.Incident{dst, src} {
		if inc.State == firebreak.StateResolved {
			return nil, nil, firebreak.Errorf(firebreak.ECONFLICT, "Incident %d is resolved; only open incidents merge.", inc.ID)
		}
	}
	return dst, src, nil
}

// mergeChunk is how many accounts a merge reads at a time.
const mergeChunk = 1000

// moveAccounts combines from's accounts into into's, a chunk at a time in
// account order, then deletes them from from. It returns how many moved.
func moveAccounts(ctx context.Context, tx *Tx, into, from int64) (int, error) {
	moved, after := 0, ""
	for {
		rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM incident_accounts
			WHERE incident_id = ? AND account > ? ORDER BY account LIMIT ?`, from, after, mergeChunk)
		if err != nil {
			return moved, err
		}
		chunk, err := scanAccounts(rows, from)
		if err != nil || len(chunk) == 0 {
			return moved, err
		}
		if _, err := upsertAccounts(ctx, tx, into, chunk, mergeAccount); err != nil {
			return moved, err
		}
		moved, after = moved+len(chunk), chunk[len(chunk)-1].Account
		if len(chunk) < mergeChunk {
			break
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM incident_accounts WHERE incident_id = ?`, from)
	return moved, err
}

func scanAccounts(rows *sql.Rows, id int64) ([]firebreak.AffectedAccount, error) {
	defer rows.Close()
	var out []firebreak.AffectedAccount
	for rows.Next() {
		a, err := scanAccount(rows, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// moveSources adds from's sources to into's and deletes them from from.
func moveSources(ctx context.Context, tx *Tx, into, from int64) (int, error) {
	sources, err := listSources(ctx, tx, from)
	if err != nil {
		return 0, err
	}
	if _, err := upsertSources(ctx, tx, into, sources); err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM incident_sources WHERE incident_id = ?`, from)
	return len(sources), err
}

// closeMerged recounts into's tiers, widens its seen times and takes the
// higher severity, then resolves from as merged.
func closeMerged(ctx context.Context, tx *Tx, dst, src *firebreak.Incident) error {
	sev := dst.Severity
	if slices.Index(firebreak.Severities, src.Severity) > slices.Index(firebreak.Severities, sev) {
		sev = src.Severity
	}
	now := formatTime(tx.now)
	if _, err := tx.ExecContext(ctx, `
		UPDATE incidents SET severity = ?1, updated_at = ?2,
			first_seen = min(first_seen, ?3), last_seen = max(last_seen, ?4),
			compromised = (SELECT count(*) FROM incident_accounts WHERE incident_id = ?5 AND tier = 'compromised'),
			at_risk = (SELECT count(*) FROM incident_accounts WHERE incident_id = ?5 AND tier = 'at_risk'),
			targeted = (SELECT count(*) FROM incident_accounts WHERE incident_id = ?5 AND tier = 'targeted')
		WHERE id = ?5`, sev, now, formatTime(src.FirstSeen), formatTime(src.LastSeen), dst.ID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE incidents SET state = 'resolved', resolved_at = ?, updated_at = ?, merged_into = ?,
			compromised = 0, at_risk = 0, targeted = 0
		WHERE id = ?`, now, now, dst.ID, src.ID)
	return err
}
