package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"firebreak"
)

// AccountActions returns what the incident's runs confirmed on account,
// oldest first, each marked Undone when a later rollback confirmed the
// same action on it. It reads each run's item range once: a run of n items
// costs a scan of n rows (run_items has no index by target, to keep
// containment's inserts fast).
func (s *AppealStore) AccountActions(ctx context.Context, incidentID int64, account string) ([]firebreak.AccountAction, error) {
	out := []firebreak.AccountAction{}
	err := s.read(ctx, "account actions", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT r.kind, r.spec, i.action, i.updated_at FROM runs r
			JOIN run_items i ON i.id >= r.item_base AND i.id < r.item_end
			WHERE r.incident_id = ? AND i.target = ? AND i.source = 0 AND i.state = 'confirmed'
			ORDER BY i.updated_at, i.id`, incidentID, account)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				kind firebreak.RunKind
				spec []byte
				a    firebreak.AccountAction
				at   string
			)
			if err := rows.Scan(&kind, &spec, &a.Action, &at); err != nil {
				return err
			}
			if err := parseInto(&a.At, at, nil); err != nil {
				return err
			}
			if d := lockDuration(spec, a.Action); d > 0 {
				a.Until = a.At.Add(d)
			}
			if kind == firebreak.RunRollback {
				for i := range out {
					if out[i].Action == a.Action && !out[i].At.After(a.At) {
						out[i].Undone = true
					}
				}
				continue
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AffectedAccount returns an incident's record of one account, or nil (and
// no error) when the incident does not hold it.
func (s *AppealStore) AffectedAccount(ctx context.Context, incidentID int64, account string) (*firebreak.AffectedAccount, error) {
	var a *firebreak.AffectedAccount
	err := s.read(ctx, "affected account", func(tx *Tx) error {
		var err error
		a, err = scanAccount(tx.QueryRowContext(ctx, selectAccount, incidentID, account), incidentID)
		if errors.Is(err, sql.ErrNoRows) {
			a, err = nil, nil
		}
		return err
	})
	return a, err
}

// lockDuration returns how long a timed action of a run's spec holds (the
// longest step with it), or 0.
func lockDuration(spec []byte, action firebreak.ActionKind) time.Duration {
	if info, _ := action.Info(); !info.Timed {
		return 0
	}
	var sp firebreak.PlanSpec
	if json.Unmarshal(spec, &sp) != nil {
		return 0
	}
	var d time.Duration
	for _, st := range sp.Steps {
		if slices.Contains(st.Actions, action) && st.Duration.Duration > d {
			d = st.Duration.Duration
		}
	}
	return d
}
