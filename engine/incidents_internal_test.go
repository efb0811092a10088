package engine

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/detect"
	"firebreak/mock"
)

// A campaign whose incident stops taking changes (an operator resolved it)
// is frozen after one refusal: no error, and no more writes on later passes.
func TestIncidentSyncFreezesOnConflict(t *testing.T) {
	var upserts int
	store := &mock.IncidentService{
		ListFn: func(context.Context, firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
			return &firebreak.IncidentPage{}, nil
		},
		CreateFn: func(_ context.Context, inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ string) error {
			inc.ID = 7
			return nil
		},
		UpsertAccountsFn: func(context.Context, int64, []firebreak.AffectedAccount) error {
			upserts++
			return firebreak.Errorf(firebreak.ECONFLICT, "Incident 7 is resolved.")
		},
	}
	s := newIncidentSync(store, slog.New(slog.DiscardHandler))
	now := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	c := detect.Campaign{ID: "C1", Kind: detect.KindStuffing, Active: true, FirstSeen: now, LastSeen: now,
		Accounts: []detect.AccountTier{{Account: "u1", Tier: detect.TierTargeted, FirstSeen: now, LastSeen: now}}}
	for pass := 0; pass < 3; pass++ {
		c.Accounts = append(c.Accounts, detect.AccountTier{Account: "u" + string(rune('2'+pass)), Tier: detect.TierTargeted, FirstSeen: now, LastSeen: now})
		if err := s.sync(context.Background(), &c); err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
	}
	if upserts != 1 {
		t.Errorf("upserts = %d, want 1: a refused incident is not written to again", upserts)
	}
}

// A campaign the store can never take (an unknown kind) is tried once.
func TestIncidentSyncGivesUpOnInvalid(t *testing.T) {
	var creates int
	store := &mock.IncidentService{
		ListFn: func(context.Context, firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
			return &firebreak.IncidentPage{}, nil
		},
		CreateFn: func(context.Context, *firebreak.Incident, []firebreak.AffectedAccount, string) error {
			creates++
			return &firebreak.FieldError{Field: "kind", Reason: "unknown"}
		},
	}
	s := newIncidentSync(store, slog.New(slog.DiscardHandler))
	c := detect.Campaign{ID: "C9", Kind: detect.KindNone, Active: true}
	for pass := 0; pass < 3; pass++ {
		s.sync(context.Background(), &c)
	}
	if creates != 1 {
		t.Errorf("creates = %d, want 1", creates)
	}
}

// A compromise incident says what its accounts have in common, not the
// attempt and success-rate figures of an attack campaign.
func TestCompromiseIncidentWords(t *testing.T) {
	c := &detect.Campaign{ID: "C4", Kind: detect.KindCompromise, Compromised: 3, SourceIPs: 3, Attempts: 3, Successes: 3}
	if got := title(c); got != "Accounts taken over outside any campaign (detection campaign C4)" {
		t.Errorf("title = %q", got)
	}
	if got := summary(c); !strings.Contains(got, "3 account(s) whose password worked in a risky session that then failed the second factor") || !strings.Contains(got, "changed the account's security settings") {
		t.Errorf("summary = %q, want the accounts, the unresolved second factor and the account change named", got)
	}
	if got := firebreak.IncidentKind(c.Kind.String()); !slices.Contains(firebreak.IncidentKinds, got) {
		t.Errorf("campaign kind %q is not an incident kind", got)
	}
}
