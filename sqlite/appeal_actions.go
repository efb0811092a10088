package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
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
		return eachAction(ctx, tx, incidentID, account, func(_ string, kind firebreak.RunKind, a firebreak.AccountAction) {
			if kind == firebreak.RunRollback {
				for i := range out {
					if out[i].Action == a.Action && !out[i].At.After(a.At) {
						out[i].Undone = true
					}
				}
				return
			}
			out = append(out, a)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EachAccountAction calls fn with every account action the incident's runs
// confirmed, applies and rollbacks, oldest first, in one read transaction:
// what the notifier tells each person containment did.
func (s *AppealStore) EachAccountAction(ctx context.Context, incidentID int64, fn func(account string, kind firebreak.RunKind, a firebreak.AccountAction)) error {
	return s.read(ctx, "account actions", func(tx *Tx) error {
		return eachAction(ctx, tx, incidentID, "", fn)
	})
}

// eachAction scans the confirmed account items of an incident's runs, of
// one account or ("") all of them. Notices are not actions on the account
// (they restrict nothing and cannot be appealed) and are left out.
func eachAction(ctx context.Context, tx *Tx, incidentID int64, account string, fn func(string, firebreak.RunKind, firebreak.AccountAction)) error {
	runs, err := accountRuns(ctx, tx, incidentID)
	if err != nil || len(runs) == 0 {
		return err
	}
	args := []any{account, account}
	for _, id := range runs {
		args = append(args, id)
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT r.kind, r.spec, i.target, i.action, i.updated_at FROM runs r
		JOIN run_items i ON i.id >= r.item_base AND i.id < r.item_end
		WHERE (? = '' OR i.target = ?) AND i.source = 0 AND i.state = 'confirmed'
			AND i.action NOT LIKE 'notify\_%' ESCAPE '\'
			AND r.id IN (?`+strings.Repeat(", ?", len(runs)-1)+`)
		ORDER BY i.updated_at, i.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	specs := map[string]time.Duration{} // lock durations by spec and action, parsed once
	for rows.Next() {
		var (
			kind   firebreak.RunKind
			spec   []byte
			target string
			a      firebreak.AccountAction
			at     string
		)
		if err := rows.Scan(&kind, &spec, &target, &a.Action, &at); err != nil {
			return err
		}
		if err := parseInto(&a.At, at, nil); err != nil {
			return err
		}
		if info, _ := a.Action.Info(); info.Timed {
			key := string(a.Action) + "\x00" + string(spec)
			d, ok := specs[key]
			if !ok {
				d = lockDuration(spec, a.Action)
				specs[key] = d
			}
			if d > 0 {
				a.Until = a.At.Add(d)
			}
		}
		fn(target, kind, a)
	}
	return rows.Err()
}

// accountRuns returns the incident's runs whose plan acts on accounts with
// something other than notices: a campaign of a million notices is not
// read to learn what was done to anyone.
func accountRuns(ctx context.Context, tx *Tx, incidentID int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, spec FROM runs WHERE incident_id = ?`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var (
			id   int64
			spec []byte
			sp   firebreak.PlanSpec
		)
		if err := rows.Scan(&id, &spec); err != nil {
			return nil, err
		}
		if json.Unmarshal(spec, &sp) != nil {
			out = append(out, id) // unreadable: read its items rather than miss them
			continue
		}
	steps:
		for _, st := range sp.Steps {
			for _, a := range st.Actions {
				if info, _ := a.Info(); !info.OnSource && info.Channel == "" {
					out = append(out, id)
					break steps
				}
			}
		}
	}
	return out, rows.Err()
}

// ActedOn counts, per tier (the account's current one), the distinct
// accounts of an incident on which an apply run confirmed an account
// action other than a notice: the denominator of the false-positive rate.
func (s *AppealStore) ActedOn(ctx context.Context, incidentID int64) (map[firebreak.Tier]int64, error) {
	out := map[firebreak.Tier]int64{}
	err := s.read(ctx, "accounts acted on", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT a.tier, COUNT(DISTINCT i.target) FROM runs r
			JOIN run_items i ON i.id >= r.item_base AND i.id < r.item_end
			JOIN incident_accounts a ON a.incident_id = r.incident_id AND a.account = i.target
			WHERE r.incident_id = ? AND r.kind = 'apply' AND i.source = 0 AND i.state = 'confirmed'
				AND i.action NOT LIKE 'notify\_%' ESCAPE '\'
			GROUP BY a.tier`, incidentID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				t firebreak.Tier
				n int64
			)
			if err := rows.Scan(&t, &n); err != nil {
				return err
			}
			out[t] = n
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

// Lifted reports whether an appeal of account about the incident was
// lifted: a notice still queued for it is no longer due.
func (s *AppealStore) Lifted(ctx context.Context, incidentID int64, account string) (bool, error) {
	var lifted bool
	err := s.read(ctx, "lifted appeal", func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM appeals
			WHERE incident_id = ? AND account = ? AND state = 'lifted')`, incidentID, account).Scan(&lifted)
	})
	return lifted, err
}

// Tiers returns the tier of each of accounts the incident holds; accounts
// it does not hold are absent. One query per call: the notifier resolves a
// batch of notices at once.
func (s *AppealStore) Tiers(ctx context.Context, incidentID int64, accounts []string) (map[string]firebreak.Tier, error) {
	if len(accounts) > firebreak.MaxBatch {
		return nil, &firebreak.FieldError{Field: "accounts", Reason: "more than " + strconv.Itoa(firebreak.MaxBatch)}
	}
	out := make(map[string]firebreak.Tier, len(accounts))
	if len(accounts) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(accounts)+1)
	args = append(args, incidentID)
	for _, a := range accounts {
		args = append(args, a)
	}
	q := `SELECT account, tier FROM incident_accounts WHERE incident_id = ? AND account IN (?` +
		strings.Repeat(", ?", len(accounts)-1) + `)`
	err := s.read(ctx, "account tiers", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				a string
				t firebreak.Tier
			)
			if err := rows.Scan(&a, &t); err != nil {
				return err
			}
			out[a] = t
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
