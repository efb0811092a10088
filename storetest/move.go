package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"firebreak"
)

func move(t *testing.T, s firebreak.IncidentService, id int64, m firebreak.TierMove) *firebreak.AffectedAccount {
	t.Helper()
	a, err := s.MoveAccount(context.Background(), id, m)
	if err != nil {
		t.Fatalf("MoveAccount(%+v): %v", m, err)
	}
	return a
}

func testMoveAccount(t *testing.T, open Opener) {
	s := open(t)
	inc := create(t, s, account("u1", firebreak.TierCompromised, 0.9), account("u2", firebreak.TierTargeted, 0.2))
	reason := "user confirmed the login from their new phone"
	got := move(t, s, inc.ID, firebreak.TierMove{Account: "u1", To: firebreak.TierTargeted, Reason: reason, Actor: "alice"})
	if got.Tier != firebreak.TierTargeted || got.MovedBy != "alice" || got.Account != "u1" || got.IncidentID != inc.ID {
		t.Fatalf("MoveAccount returned %+v, want u1 targeted, moved by alice", got)
	}
	checkCounts(t, s, inc.ID, firebreak.TierCounts{Targeted: 2})
	entries := timeline(t, s, inc.ID)
	last := entries[len(entries)-1]
	if last.Kind != firebreak.EntryTierMoved || last.Actor != "alice" || !strings.Contains(last.Message, reason) || last.Data["reason"] != reason {
		t.Fatalf("last entry = %+v, want tier_moved by alice with the reason", last)
	}
	t.Run("automatic updates leave an operator's tier alone", func(t *testing.T) {
		upsert(t, s, inc.ID, account("u1", firebreak.TierCompromised, 1))
		if all, _ := accounts(t, s, inc.ID); all["u1"].Tier != firebreak.TierTargeted {
			t.Fatalf("u1 is %s after an automatic upsert, want the operator's targeted", all["u1"].Tier)
		}
	})
	t.Run("up, by another operator", func(t *testing.T) {
		got := move(t, s, inc.ID, firebreak.TierMove{Account: "u2", To: firebreak.TierCompromised, Reason: "session from the campaign ASN", Actor: "bob"})
		if got.Tier != firebreak.TierCompromised || got.MovedBy != "bob" {
			t.Fatalf("got %+v", got)
		}
		checkCounts(t, s, inc.ID, firebreak.TierCounts{Compromised: 1, Targeted: 1})
	})
	t.Run("on a resolved incident", func(t *testing.T) {
		done := create(t, s, account("u9", firebreak.TierCompromised, 1))
		if _, err := s.Update(context.Background(), done.ID, firebreak.IncidentUpdate{State: ptr(firebreak.StateResolved)}, "alice"); err != nil {
			t.Fatal(err)
		}
		move(t, s, done.ID, firebreak.TierMove{Account: "u9", To: firebreak.TierTargeted, Reason: "appeal: it was me", Actor: "carol"})
		checkCounts(t, s, done.ID, firebreak.TierCounts{Targeted: 1})
	})
}

func testMoveAccountInvalid(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	inc := create(t, s, account("u1", firebreak.TierAtRisk, 0.5))
	ok := firebreak.TierMove{Account: "u1", To: firebreak.TierCompromised, Reason: "confirmed", Actor: "alice"}
	tests := []struct {
		name    string
		id      int64
		change  func(m *firebreak.TierMove)
		code    string
		mention string
	}{
		{"unknown incident", inc.ID + 100, func(*firebreak.TierMove) {}, firebreak.ENOTFOUND, fmt.Sprint(inc.ID + 100)},
		{"account not in the incident", inc.ID, func(m *firebreak.TierMove) { m.Account = "u2" }, firebreak.ENOTFOUND, "u2"},
		{"already in the tier", inc.ID, func(m *firebreak.TierMove) { m.To = firebreak.TierAtRisk }, firebreak.ECONFLICT, "at_risk"},
		{"no reason", inc.ID, func(m *firebreak.TierMove) { m.Reason = "" }, firebreak.EINVALID, "reason"},
		{"unknown tier", inc.ID, func(m *firebreak.TierMove) { m.To = "clean" }, firebreak.EINVALID, "to"},
		{"no actor", inc.ID, func(m *firebreak.TierMove) { m.Actor = "" }, firebreak.EINVALID, "actor"},
		{"no account", inc.ID, func(m *firebreak.TierMove) { m.Account = "" }, firebreak.EINVALID, "account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.change(&m)
			_, err := s.MoveAccount(ctx, tt.id, m)
			wantCode(t, err, tt.code, tt.mention)
		})
	}
	checkCounts(t, s, inc.ID, firebreak.TierCounts{AtRisk: 1})
	if n := len(timeline(t, s, inc.ID)); n != 1 {
		t.Fatalf("refused moves wrote %d timeline entries", n-1)
	}
}

// testListAccountsPagination pages through 250 accounts 100 at a time: most
// certain tier first, by account within a tier, no duplicates, no gaps.
func testListAccountsPagination(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	var all []firebreak.AffectedAccount
	for i := range 250 {
		all = append(all, account(fmt.Sprintf("acct-%03d", i), firebreak.Tiers[i%3], 0.5))
	}
	inc := create(t, s, all[:100]...)
	upsert(t, s, inc.ID, all[100:]...)
	counts := firebreak.TierCounts{Compromised: 84, AtRisk: 83, Targeted: 83}
	want := slices.Clone(all)
	slices.SortFunc(want, func(a, b firebreak.AffectedAccount) int {
		if d := b.Tier.Rank() - a.Tier.Rank(); d != 0 {
			return d
		}
		return strings.Compare(a.Account, b.Account)
	})
	for name, tier := range map[string]firebreak.Tier{"all tiers": "", "at_risk only": firebreak.TierAtRisk} {
		t.Run(name, func(t *testing.T) {
			var got []string
			sizes := []int{}
			f := firebreak.AccountFilter{Tier: tier, Limit: 100}
			for range 10 {
				page, err := s.ListAccounts(ctx, inc.ID, f)
				if err != nil {
					t.Fatal(err)
				}
				if page.Counts != counts {
					t.Errorf("page counts = %+v, want %+v", page.Counts, counts)
				}
				for _, a := range page.Accounts {
					got = append(got, a.Account)
				}
				if sizes = append(sizes, len(page.Accounts)); page.Next == "" {
					break
				}
				f.Cursor = page.Next
			}
			var names []string
			for _, a := range want {
				if tier == "" || a.Tier == tier {
					names = append(names, a.Account)
				}
			}
			if !slices.Equal(got, names) {
				t.Errorf("paged %d accounts in pages of %v, want %d in order, no duplicates, no gaps:\n got %v\nwant %v", len(got), sizes, len(names), got, names)
			}
		})
	}
}

func testListAccountsInvalid(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	inc := create(t, s, account("u1", firebreak.TierAtRisk, 0.5))
	create(t, s)
	incPage := list(t, s, firebreak.IncidentFilter{Limit: 1})
	_, err := s.ListAccounts(ctx, inc.ID+100, firebreak.AccountFilter{})
	wantCode(t, err, firebreak.ENOTFOUND)
	tests := []struct {
		name   string
		filter firebreak.AccountFilter
		field  string
	}{
		{"cursor not base64", firebreak.AccountFilter{Cursor: "%%%"}, "cursor"},
		{"cursor of empty JSON", firebreak.AccountFilter{Cursor: "e30"}, "cursor"},
		{"cursor of the incidents list", firebreak.AccountFilter{Cursor: incPage.Next}, "cursor"},
		{"negative limit", firebreak.AccountFilter{Limit: -5}, "limit"},
		{"limit over the maximum", firebreak.AccountFilter{Limit: firebreak.MaxPageLimit + 1}, "limit"},
		{"unknown tier", firebreak.AccountFilter{Tier: "clean"}, "tier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.ListAccounts(ctx, inc.ID, tt.filter)
			wantField(t, err, tt.field)
		})
	}
}
