package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"firebreak"
)

const accountColumns = `account, tier, confidence, evidence, first_seen, last_seen, moved_by`

const selectAccount = `SELECT ` + accountColumns + ` FROM incident_accounts WHERE incident_id = ? AND account = ?`

const writeAccount = `
	INSERT INTO incident_accounts (incident_id, ` + accountColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (incident_id, account) DO UPDATE SET tier = excluded.tier,
		confidence = excluded.confidence, evidence = excluded.evidence, first_seen = excluded.first_seen,
		last_seen = excluded.last_seen, moved_by = excluded.moved_by`

// UpsertAccounts adds accounts to an open incident or updates them: tiers
// only move up, and never for an account an operator moved. New accounts
// and upward moves are summed up in one timeline entry by the system.
func (s *IncidentStore) UpsertAccounts(ctx context.Context, id int64, accounts []firebreak.AffectedAccount) error {
	if err := validateUpsert(id, accounts); err != nil {
		return err
	}
	return s.write(ctx, "upsert accounts", func(tx *Tx) error {
		if err := checkOpen(ctx, tx, id); err != nil {
			return err
		}
		if len(accounts) == 0 {
			return nil
		}
		ch, err := upsertAccounts(ctx, tx, id, accounts, combine)
		if err != nil {
			return err
		}
		if err := ch.apply(ctx, tx, id); err != nil {
			return err
		}
		if ch.added.Total()+ch.movedUp.Total() == 0 {
			return nil
		}
		data := map[string]any{"added": ch.added, "moved_up": ch.movedUp}
		return insertEntry(ctx, tx, id, firebreak.SystemActor, firebreak.EntryAccountsAdded, ch.message(), data)
	})
}

func validateUpsert(id int64, accounts []firebreak.AffectedAccount) error {
	if err := firebreak.ValidateAccounts(accounts); err != nil {
		return invalid(err)
	}
	for i, a := range accounts {
		if a.IncidentID != 0 && a.IncidentID != id {
			return invalid(&firebreak.FieldError{Field: fmt.Sprintf("accounts[%d].incident_id", i),
				Reason: fmt.Sprintf("%d does not match incident %d", a.IncidentID, id)})
		}
	}
	return nil
}

// checkOpen returns ENOTFOUND for an unknown incident and ECONFLICT for a
// resolved one, which takes no new accounts or sources.
func checkOpen(ctx context.Context, tx *Tx, id int64) error {
	inc, err := getIncident(ctx, tx, id)
	if err != nil {
		return err
	}
	if inc.State == firebreak.StateResolved {
		return firebreak.Errorf(firebreak.ECONFLICT,
			"Incident %d is resolved; reopen it (state triaged) or open a new incident.", id)
	}
	return nil
}

// combine applies new evidence to a stored account. The tier only moves up,
// taking the new confidence and evidence with it; at the same tier the
// confidence keeps the higher value and the newest evidence wins. An
// operator's tier stands. Seen times only widen.
func combine(old, nu firebreak.AffectedAccount) firebreak.AffectedAccount {
	out := old
	out.FirstSeen, out.LastSeen = minTime(old.FirstSeen, nu.FirstSeen), maxTime(old.LastSeen, nu.LastSeen)
	switch {
	case old.MovedBy != "":
	case nu.Tier.Rank() > old.Tier.Rank():
		out.Tier, out.Confidence, out.Evidence = nu.Tier, nu.Confidence, nu.Evidence
	case nu.Tier == old.Tier:
		out.Confidence, out.Evidence = max(old.Confidence, nu.Confidence), nu.Evidence
	}
	return out
}

// mergeAccount combines an account moved in from a merged incident: an
// operator's decision on either side beats automatic evidence.
func mergeAccount(dst, src firebreak.AffectedAccount) firebreak.AffectedAccount {
	if dst.MovedBy == "" && src.MovedBy != "" {
		src.FirstSeen, src.LastSeen = minTime(dst.FirstSeen, src.FirstSeen), maxTime(dst.LastSeen, src.LastSeen)
		return src
	}
	return combine(dst, src)
}

// accountChanges sums up what an upsert did to an incident's accounts.
type accountChanges struct {
	delta       firebreak.TierCounts // change of each tier's count
	added       firebreak.TierCounts // new accounts, by tier
	movedUp     firebreak.TierCounts // accounts that moved up, by their new tier
	first, last time.Time            // widest seen times of the accounts
}

// upsertAccounts writes accounts, combining each with the stored one.
func upsertAccounts(ctx context.Context, tx *Tx, id int64, accounts []firebreak.AffectedAccount,
	merge func(old, nu firebreak.AffectedAccount) firebreak.AffectedAccount) (accountChanges, error) {
	var ch accountChanges
	sel, err := tx.PrepareContext(ctx, selectAccount)
	if err != nil {
		return ch, err
	}
	defer sel.Close()
	put, err := tx.PrepareContext(ctx, writeAccount)
	if err != nil {
		return ch, err
	}
	defer put.Close()
	for _, a := range accounts {
		a.IncidentID = id
		old, err := scanAccount(sel.QueryRowContext(ctx, id, a.Account), id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			ch.added.Add(a.Tier, 1)
			ch.delta.Add(a.Tier, 1)
		case err != nil:
			return ch, err
		default:
			if a = merge(*old, a); a.Tier != old.Tier {
				ch.delta.Add(old.Tier, -1)
				ch.delta.Add(a.Tier, 1)
				ch.movedUp.Add(a.Tier, 1)
			}
		}
		if _, err := put.ExecContext(ctx, accountArgs(a)...); err != nil {
			return ch, fmt.Errorf("account %q: %w", a.Account, err)
		}
		ch.first, ch.last = minTime(ch.first, a.FirstSeen), maxTime(ch.last, a.LastSeen)
	}
	return ch, nil
}

func accountArgs(a firebreak.AffectedAccount) []any {
	return []any{a.IncidentID, a.Account, a.Tier, a.Confidence, a.Evidence,
		formatTime(a.FirstSeen), formatTime(a.LastSeen), a.MovedBy}
}

// apply adds the count changes to the incident, widens its seen times and
// marks it updated.
func (ch accountChanges) apply(ctx context.Context, tx *Tx, id int64) error {
	var first, last sql.NullString
	if !ch.first.IsZero() {
		first = sql.NullString{String: formatTime(ch.first), Valid: true}
		last = sql.NullString{String: formatTime(ch.last), Valid: true}
	}
	d := ch.delta
	_, err := tx.ExecContext(ctx, `
		UPDATE incidents SET compromised = compromised + ?, at_risk = at_risk + ?, targeted = targeted + ?,
			first_seen = min(first_seen, coalesce(?, first_seen)), last_seen = max(last_seen, coalesce(?, last_seen)),
			updated_at = ?
		WHERE id = ?`, d.Compromised, d.AtRisk, d.Targeted, first, last, formatTime(tx.now), id)
	return err
}

func (ch accountChanges) message() string {
	var parts []string
	if n := ch.added.Total(); n > 0 {
		parts = append(parts, fmt.Sprintf("Added %s (%s)", plural(int(n), "account"), describeCounts(ch.added)))
	}
	if n := ch.movedUp.Total(); n > 0 {
		parts = append(parts, fmt.Sprintf("moved %d up (%s)", n, describeCounts(ch.movedUp)))
	}
	s := strings.Join(parts, "; ") + "."
	return strings.ToUpper(s[:1]) + s[1:]
}

// describeCounts formats the non-zero counts: "3 compromised, 9 targeted".
func describeCounts(c firebreak.TierCounts) string {
	var parts []string
	for _, t := range firebreak.Tiers {
		if n := c.Of(t); n != 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, t))
		}
	}
	return strings.Join(parts, ", ")
}

// MoveAccount moves one account to another tier on an operator's word and
// writes the reason on the timeline. The account keeps the operator's tier
// against later automatic updates.
func (s *IncidentStore) MoveAccount(ctx context.Context, id int64, m firebreak.TierMove) (*firebreak.AffectedAccount, error) {
	if err := m.Validate(); err != nil {
		return nil, invalid(err)
	}
	var moved *firebreak.AffectedAccount
	err := s.write(ctx, "move account", func(tx *Tx) error {
		if _, err := checkNotMerged(ctx, tx, id); err != nil {
			return err
		}
		a, err := scanAccount(tx.QueryRowContext(ctx, selectAccount, id, m.Account), id)
		if errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ENOTFOUND, "Account %q is not in incident %d.", m.Account, id)
		} else if err != nil {
			return err
		}
		if a.Tier == m.To {
			return firebreak.Errorf(firebreak.ECONFLICT, "Account %q is already %s in incident %d.", m.Account, m.To, id)
		}
		from := a.Tier
		a.Tier, a.MovedBy = m.To, m.Actor
		if _, err := tx.ExecContext(ctx, writeAccount, accountArgs(*a)...); err != nil {
			return err
		}
		var ch accountChanges
		ch.delta.Add(from, -1)
		ch.delta.Add(m.To, 1)
		if err := ch.apply(ctx, tx, id); err != nil {
			return err
		}
		msg := fmt.Sprintf("Moved account %s from %s to %s: %s", m.Account, from, m.To, m.Reason)
		data := map[string]any{"account": m.Account, "from": from, "to": m.To, "reason": m.Reason}
		moved = a
		return insertEntry(ctx, tx, id, m.Actor, firebreak.EntryTierMoved, msg, data)
	})
	return moved, err
}

// checkNotMerged returns ENOTFOUND for an unknown incident and ECONFLICT for
// one that was merged into another, whose accounts and sources moved there.
func checkNotMerged(ctx context.Context, tx *Tx, id int64) (*firebreak.Incident, error) {
	inc, err := getIncident(ctx, tx, id)
	if err == nil && inc.MergedInto != 0 {
		return nil, firebreak.Errorf(firebreak.ECONFLICT, "Incident %d was merged into incident %d; work on that one.", id, inc.MergedInto)
	}
	return inc, err
}

func scanAccount(row interface{ Scan(...any) error }, id int64) (*firebreak.AffectedAccount, error) {
	a := firebreak.AffectedAccount{IncidentID: id}
	var first, last string
	if err := row.Scan(&a.Account, &a.Tier, &a.Confidence, &a.Evidence, &first, &last, &a.MovedBy); err != nil {
		return nil, err
	}
	err := parseInto(&a.FirstSeen, first, nil)
	if err = parseInto(&a.LastSeen, last, err); err != nil {
		return nil, fmt.Errorf("account %q: %w", a.Account, err)
	}
	return &a, nil
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
