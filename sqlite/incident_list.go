package sqlite

import (
	"context"
	"slices"
	"strings"

	"firebreak"
)

// List returns a page of incidents, newest opened first.
func (s *IncidentStore) List(ctx context.Context, f firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
	if err := f.Validate(); err != nil {
		return nil, invalid(err)
	}
	after, err := decodeCursor(f.Cursor, incidentList)
	if err != nil {
		return nil, err
	}
	query, args := listQuery(f, after)
	page := &firebreak.IncidentPage{Incidents: []*firebreak.Incident{}}
	err = s.read(ctx, "list incidents", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			inc, err := scanIncident(rows)
			if err != nil {
				return err
			}
			page.Incidents = append(page.Incidents, inc)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if n := pageLimit(f.Limit); len(page.Incidents) > n {
		page.Incidents = page.Incidents[:n]
		last := page.Incidents[n-1]
		page.Next = cursor{List: incidentList, Key: formatTime(last.OpenedAt), ID: last.ID}.encode()
	}
	return page, nil
}

// listQuery builds the query for one page; it asks for one row more than the
// limit to learn whether a next page exists.
func listQuery(f firebreak.IncidentFilter, after cursor) (string, []any) {
	where, args := []string{"1 = 1"}, []any{}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, f.State)
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "last_seen >= ?"), append(args, formatTime(f.Since))
	}
	if after.ID != 0 {
		where, args = append(where, "(opened_at, id) < (?, ?)"), append(args, after.Key, after.ID)
	}
	args = append(args, pageLimit(f.Limit)+1)
	return `SELECT ` + incidentColumns + ` FROM incidents WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY opened_at DESC, id DESC LIMIT ?`, args
}

func pageLimit(limit int) int {
	if limit == 0 {
		return firebreak.DefaultPageLimit
	}
	return limit
}

// ListAccounts returns a page of an incident's accounts, most certain tier
// first and by account within a tier, with the incident's tier counts.
func (s *IncidentStore) ListAccounts(ctx context.Context, id int64, f firebreak.AccountFilter) (*firebreak.AccountPage, error) {
	if err := f.Validate(); err != nil {
		return nil, invalid(err)
	}
	after, err := decodeCursor(f.Cursor, accountList)
	if err != nil {
		return nil, err
	}
	limit := pageLimit(f.Limit)
	page := &firebreak.AccountPage{Accounts: []firebreak.AffectedAccount{}}
	err = s.read(ctx, "list accounts", func(tx *Tx) error {
		inc, err := getIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		page.Counts = inc.Counts
		// One indexed range scan per tier, in tier order, until the page
		// (plus one row, to learn whether there is a next page) is full.
		for _, tier := range tiersFrom(f.Tier, after) {
			start := ""
			if string(tier) == after.Key {
				start = after.Acct
			}
			if page.Accounts, err = appendTier(ctx, tx, page.Accounts, id, tier, start, limit+1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(page.Accounts) > limit {
		page.Accounts = page.Accounts[:limit]
		last := page.Accounts[limit-1]
		page.Next = cursor{List: accountList, Key: string(last.Tier), Acct: last.Account}.encode()
	}
	return page, nil
}

// tiersFrom returns the tiers a page reads, in order, starting at the
// cursor's tier.
func tiersFrom(only firebreak.Tier, after cursor) []firebreak.Tier {
	tiers := firebreak.Tiers
	if only != "" {
		tiers = []firebreak.Tier{only}
	}
	if after.Key == "" {
		return tiers
	}
	start := slices.Index(firebreak.Tiers, firebreak.Tier(after.Key))
	return slices.DeleteFunc(slices.Clone(tiers), func(t firebreak.Tier) bool {
		return slices.Index(firebreak.Tiers, t) < start
	})
}

// appendTier appends the accounts of one tier after start until out holds n.
func appendTier(ctx context.Context, tx *Tx, out []firebreak.AffectedAccount, id int64,
	tier firebreak.Tier, start string, n int) ([]firebreak.AffectedAccount, error) {
	if len(out) >= n {
		return out, nil
	}
	// Without the hint SQLite walks the primary key (incident_id, account)
	// and filters on tier, reading thousands of rows for a rare tier.
	rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM incident_accounts
		INDEXED BY incident_accounts_tier_idx
		WHERE incident_id = ? AND tier = ? AND account > ? ORDER BY account LIMIT ?`,
		id, tier, start, n-len(out))
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAccount(rows, id)
		if err != nil {
			return out, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}
