package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"firebreak"
)

// accounts returns every account of an incident, paging with limit 100,
// keyed by name, and the counts of the last page.
func accounts(t *testing.T, s firebreak.IncidentService, id int64) (map[string]firebreak.AffectedAccount, firebreak.TierCounts) {
	t.Helper()
	out := map[string]firebreak.AffectedAccount{}
	f := firebreak.AccountFilter{Limit: 100}
	for {
		page, err := s.ListAccounts(context.Background(), id, f)
		if err != nil {
			t.Fatalf("ListAccounts(%d): %v", id, err)
		}
		for _, a := range page.Accounts {
			out[a.Account] = a
		}
		if page.Next == "" {
			return out, page.Counts
		}
		f.Cursor = page.Next
	}
}

// checkCounts fails t unless the incident's stored counts match its accounts.
func checkCounts(t *testing.T, s firebreak.IncidentService, id int64, want firebreak.TierCounts) {
	t.Helper()
	all, listed := accounts(t, s, id)
	var tally firebreak.TierCounts
	for _, a := range all {
		tally.Add(a.Tier, 1)
	}
	for name, got := range map[string]firebreak.TierCounts{"tally of accounts": tally,
		"ListAccounts counts": listed, "Find counts": find(t, s, id).Counts} {
		if got != want {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
}

func upsert(t *testing.T, s firebreak.IncidentService, id int64, accts ...firebreak.AffectedAccount) {
	t.Helper()
	if err := s.UpsertAccounts(context.Background(), id, accts); err != nil {
		t.Fatalf("UpsertAccounts: %v", err)
	}
}

// testUpsertTierOnlyUp stores one account per tier pair and proposes the
// second tier: tiers move up and never down.
func testUpsertTierOnlyUp(t *testing.T, open Opener) {
	s := open(t)
	var stored, proposed []firebreak.AffectedAccount
	for _, from := range firebreak.Tiers {
		for _, to := range firebreak.Tiers {
			name := string(from) + "-" + string(to)
			stored = append(stored, account(name, from, 0.5))
			a := account(name, to, 0.4)
			a.Evidence, a.FirstSeen, a.LastSeen = "new evidence", t0.Add(-time.Hour), t0.Add(2*time.Hour)
			proposed = append(proposed, a)
		}
	}
	inc := create(t, s, stored...)
	upsert(t, s, inc.ID, proposed...)
	all, _ := accounts(t, s, inc.ID)
	for i, p := range proposed {
		from := stored[i]
		t.Run(p.Account, func(t *testing.T) {
			got, want := all[p.Account], from
			want.IncidentID, want.FirstSeen, want.LastSeen = inc.ID, p.FirstSeen, p.LastSeen
			switch {
			case p.Tier.Rank() > from.Tier.Rank(): // up: the new evidence wins
				want.Tier, want.Confidence, want.Evidence = p.Tier, p.Confidence, p.Evidence
			case p.Tier == from.Tier: // same: newest evidence, highest confidence
				want.Evidence = p.Evidence
			}
			if got != want {
				t.Errorf("after upsert\n got %+v\nwant %+v", got, want)
			}
		})
	}
	checkCounts(t, s, inc.ID, firebreak.TierCounts{Compromised: 5, AtRisk: 3, Targeted: 1})
	entries := timeline(t, s, inc.ID)
	if last := entries[len(entries)-1]; len(entries) != 2 || last.Kind != firebreak.EntryAccountsAdded || last.Actor != firebreak.SystemActor {
		t.Fatalf("timeline = %+v, want opened and one accounts_added by the system", entries)
	}
}

func testUpsertAccounts(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	inc := create(t, s, account("u1", firebreak.TierTargeted, 0.2))
	late := account("u2", firebreak.TierTargeted, 0.2)
	late.FirstSeen, late.LastSeen = t0.Add(-time.Hour), t0.Add(3*time.Hour)
	upsert(t, s, inc.ID, late, account("u3", firebreak.TierAtRisk, 0.5), account("u3", firebreak.TierCompromised, 0.9))
	checkCounts(t, s, inc.ID, firebreak.TierCounts{Compromised: 1, Targeted: 2})
	got := find(t, s, inc.ID)
	if !got.FirstSeen.Equal(late.FirstSeen) || !got.LastSeen.Equal(late.LastSeen) || got.UpdatedAt.Before(got.OpenedAt) {
		t.Errorf("incident seen %v–%v, updated %v; want widened to %v–%v", got.FirstSeen, got.LastSeen, got.UpdatedAt, late.FirstSeen, late.LastSeen)
	}
	before := len(timeline(t, s, inc.ID))
	upsert(t, s, inc.ID, account("u1", firebreak.TierTargeted, 0.3))
	if n := len(timeline(t, s, inc.ID)); n != before {
		t.Errorf("an upsert with nothing new wrote %d timeline entries", n-before)
	}
	t.Run("unknown incident", func(t *testing.T) {
		wantCode(t, s.UpsertAccounts(ctx, inc.ID+100, []firebreak.AffectedAccount{account("u1", firebreak.TierTargeted, 0.1)}), firebreak.ENOTFOUND)
		wantCode(t, s.UpsertAccounts(ctx, inc.ID+100, nil), firebreak.ENOTFOUND)
	})
	t.Run("resolved incident", func(t *testing.T) {
		done := walk(t, s, firebreak.StateResolved)
		err := s.UpsertAccounts(ctx, done.ID, []firebreak.AffectedAccount{account("u1", firebreak.TierTargeted, 0.1)})
		wantCode(t, err, firebreak.ECONFLICT, "resolved")
	})
}

func testUpsertInvalid(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	inc := create(t, s)
	other := account("u2", firebreak.TierTargeted, 0.1)
	other.IncidentID = inc.ID + 1
	moved := account("u2", firebreak.TierTargeted, 0.1)
	moved.MovedBy = "alice"
	tests := []struct {
		name  string
		bad   firebreak.AffectedAccount
		field string
	}{
		{"confidence below 0", account("u2", firebreak.TierTargeted, -0.1), "accounts[1].confidence"},
		{"unknown tier", account("u2", "clean", 0.1), "accounts[1].tier"},
		{"another incident's account", other, "accounts[1].incident_id"},
		{"moved by an operator", moved, "accounts[1].moved_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.UpsertAccounts(ctx, inc.ID, []firebreak.AffectedAccount{account("u1", firebreak.TierCompromised, 1), tt.bad})
			wantField(t, err, tt.field)
			checkCounts(t, s, inc.ID, firebreak.TierCounts{})
		})
	}
}

// testUpsertConcurrent has four writers propose every tier for the same
// accounts at once; each account must end up compromised and the counts
// must match the accounts.
func testUpsertConcurrent(t *testing.T, open Opener) {
	s := open(t)
	inc := create(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			var batch []firebreak.AffectedAccount
			for i := range 100 {
				batch = append(batch, account(fmt.Sprintf("a%03d", i), firebreak.Tiers[(i+g)%3], 0.5))
			}
			for lo := 0; lo < len(batch); lo += 25 {
				if err := s.UpsertAccounts(context.Background(), inc.ID, batch[lo:lo+25]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent UpsertAccounts: %v", err)
	}
	checkCounts(t, s, inc.ID, firebreak.TierCounts{Compromised: 100})
}
