package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"firebreak"
)

// mergePair creates the two incidents of a merge: into holds u1 targeted,
// u2 compromised, u4 at_risk and u5 compromised; from holds u1 compromised,
// u3 at_risk, u4 targeted and u5 compromised that alice moved to targeted,
// is critical, started earlier, shares one source and has a note by bob.
func mergePair(t *testing.T, s firebreak.IncidentService) (into, from *firebreak.Incident) {
	t.Helper()
	ctx := context.Background()
	into = create(t, s, account("u1", firebreak.TierTargeted, 0.2), account("u2", firebreak.TierCompromised, 0.9),
		account("u4", firebreak.TierAtRisk, 0.5), account("u5", firebreak.TierCompromised, 0.9))
	from = newIncident()
	from.Severity, from.FirstSeen = firebreak.SeverityCritical, t0.Add(-2*time.Hour)
	from.Sources = []firebreak.IncidentSource{
		{Kind: firebreak.SourceIP, Value: "192.0.2.1", Attempts: 500, Failures: 450, Accounts: 100, Evidence: "from B"},
		{Kind: firebreak.SourceASN, Value: "64500", Attempts: 50, Failures: 40, Accounts: 30}}
	err := s.Create(ctx, from, []firebreak.AffectedAccount{account("u1", firebreak.TierCompromised, 0.95),
		account("u3", firebreak.TierAtRisk, 0.6), account("u4", firebreak.TierTargeted, 0.1),
		account("u5", firebreak.TierCompromised, 0.9)}, firebreak.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	move(t, s, from.ID, firebreak.TierMove{Account: "u5", To: firebreak.TierTargeted, Reason: "it was me", Actor: "alice"})
	if _, err := s.AddEntry(ctx, from.ID, firebreak.TimelineEntry{Actor: "bob", Kind: firebreak.EntryNote, Message: "same botnet as the other one"}); err != nil {
		t.Fatal(err)
	}
	return into, from
}

func testMerge(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	into, from := mergePair(t, s)
	got, err := s.Merge(ctx, into.ID, from.ID, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != into.ID || got.Severity != firebreak.SeverityCritical || !got.FirstSeen.Equal(from.FirstSeen) || got.State != firebreak.StateDetected {
		t.Errorf("Merge returned %+v, want into, critical, first seen %v", got, from.FirstSeen)
	}
	checkCounts(t, s, into.ID, firebreak.TierCounts{Compromised: 2, AtRisk: 2, Targeted: 1})
	all, _ := accounts(t, s, into.ID)
	tiers := map[string]firebreak.Tier{}
	for name, a := range all {
		tiers[name] = a.Tier
	}
	wantTiers := map[string]firebreak.Tier{"u1": firebreak.TierCompromised, "u2": firebreak.TierCompromised,
		"u3": firebreak.TierAtRisk, "u4": firebreak.TierAtRisk, "u5": firebreak.TierTargeted}
	if !reflect.DeepEqual(tiers, wantTiers) || all["u5"].MovedBy != "alice" {
		t.Errorf("tiers after merge = %v (u5 moved by %q), want %v with alice's move kept", tiers, all["u5"].MovedBy, wantTiers)
	}
	wantSources := []firebreak.IncidentSource{newIncident().Sources[0],
		{Kind: firebreak.SourceIP, Value: "192.0.2.1", Attempts: 500, Failures: 450, Accounts: 280, Evidence: "from B"}, from.Sources[1]}
	if !reflect.DeepEqual(got.Sources, wantSources) {
		t.Errorf("sources after merge = %+v\nwant %+v", got.Sources, wantSources)
	}
	checkMergedAway(t, s, from.ID, into.ID)
	checkMergeTimeline(t, s, into.ID, from.ID)
}

// checkMergedAway checks the incident merged into another: resolved,
// pointing at it, empty, and closed to changes.
func checkMergedAway(t *testing.T, s firebreak.IncidentService, id, into int64) {
	t.Helper()
	ctx := context.Background()
	old := find(t, s, id)
	if old.State != firebreak.StateResolved || old.MergedInto != into || old.ResolvedAt.IsZero() || len(old.Sources) != 0 {
		t.Errorf("merged incident = %+v, want resolved, merged into %d, no sources", old, into)
	}
	checkCounts(t, s, id, firebreak.TierCounts{})
	_, err := s.Update(ctx, id, firebreak.IncidentUpdate{State: ptr(firebreak.StateTriaged)}, "alice")
	wantCode(t, err, firebreak.ECONFLICT, fmt.Sprint(into))
	_, err = s.MoveAccount(ctx, id, firebreak.TierMove{Account: "u1", To: firebreak.TierTargeted, Reason: "x", Actor: "alice"})
	wantCode(t, err, firebreak.ECONFLICT, fmt.Sprint(into))
	_, err = s.Merge(ctx, into, id, "carol")
	wantCode(t, err, firebreak.ECONFLICT, "resolved")
}

func checkMergeTimeline(t *testing.T, s firebreak.IncidentService, into, from int64) {
	t.Helper()
	var copied, merged int
	var note bool
	for _, e := range timeline(t, s, into) {
		if e.IncidentID != into {
			t.Errorf("entry %+v listed under incident %d", e, into)
		}
		if e.Data["merged_from"] == float64(from) {
			copied++
			note = note || (e.Actor == "bob" && e.Message == "same botnet as the other one")
		}
		if e.Kind == firebreak.EntryMerged && e.Actor == "carol" {
			merged++
		}
	}
	if copied != 3 || !note || merged != 1 {
		t.Errorf("into's timeline has %d entries copied from %d (bob's note: %v) and %d merged entries by carol; want 3, true, 1", copied, from, note, merged)
	}
	entries := timeline(t, s, from)
	if len(entries) != 5 || entries[3].Kind != firebreak.EntryMerged || entries[4].Kind != firebreak.EntryStateChanged || entries[4].Actor != "carol" {
		t.Errorf("from's timeline = %+v, want its 3 entries then merged and state_changed by carol", entries)
	}
}

// testMergeLarge merges an incident with more accounts than a store is
// likely to move in one batch.
func testMergeLarge(t *testing.T, open Opener) {
	s := open(t)
	var many []firebreak.AffectedAccount
	for i := range 2500 {
		many = append(many, account(fmt.Sprintf("m%04d", i), firebreak.Tiers[i%3], 0.5))
	}
	into, from := create(t, s, many[:10]...), create(t, s, many...)
	if _, err := s.Merge(context.Background(), into.ID, from.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, s, into.ID, firebreak.TierCounts{Compromised: 834, AtRisk: 833, Targeted: 833})
	checkCounts(t, s, from.ID, firebreak.TierCounts{})
}

func testMergeInvalid(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	a, b := create(t, s, account("u1", firebreak.TierTargeted, 0.1)), create(t, s)
	done := walk(t, s, firebreak.StateResolved)
	tests := []struct {
		name       string
		into, from int64
		actor      string
		code       string
		mention    string
	}{
		{"into itself", a.ID, a.ID, "carol", firebreak.EINVALID, "from"},
		{"no actor", a.ID, b.ID, "", firebreak.EINVALID, "actor"},
		{"unknown into", done.ID + 100, b.ID, "carol", firebreak.ENOTFOUND, fmt.Sprint(done.ID + 100)},
		{"unknown from", a.ID, done.ID + 100, "carol", firebreak.ENOTFOUND, fmt.Sprint(done.ID + 100)},
		{"resolved into", done.ID, b.ID, "carol", firebreak.ECONFLICT, "resolved"},
		{"resolved from", a.ID, done.ID, "carol", firebreak.ECONFLICT, "resolved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Merge(ctx, tt.into, tt.from, tt.actor)
			wantCode(t, err, tt.code, tt.mention)
		})
	}
	for _, inc := range []*firebreak.Incident{a, b} {
		if got := find(t, s, inc.ID); got.State != firebreak.StateDetected || len(timeline(t, s, inc.ID)) != 1 {
			t.Errorf("refused merges changed incident %d: %+v", inc.ID, got)
		}
	}
	checkCounts(t, s, a.ID, firebreak.TierCounts{Targeted: 1})
}

// TestIncidentRestart checks that everything an IncidentService stored is
// there after a restart. Each call to reopen must close the store the
// previous call returned, if any, and open a new one on the same database;
// the first call opens an empty database.
func TestIncidentRestart(t *testing.T, reopen func(t *testing.T) firebreak.IncidentService) {
	s, ctx := reopen(t), context.Background()
	into, from := mergePair(t, s)
	if _, err := s.Merge(ctx, into.ID, from.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, into.ID, firebreak.IncidentUpdate{State: ptr(firebreak.StateTriaged)}, "alice"); err != nil {
		t.Fatal(err)
	}
	type state struct {
		Incidents []*firebreak.Incident
		Accounts  map[string]firebreak.AffectedAccount
		Timeline  []firebreak.TimelineEntry
		Merged    *firebreak.Incident
	}
	snapshot := func(s firebreak.IncidentService) state {
		all, _ := accounts(t, s, into.ID)
		return state{list(t, s, firebreak.IncidentFilter{}).Incidents, all, timeline(t, s, into.ID), find(t, s, from.ID)}
	}
	before := snapshot(s)
	s = reopen(t)
	if after := snapshot(s); !reflect.DeepEqual(after, before) {
		t.Fatalf("after a restart\n%+v\nwant\n%+v", after, before)
	}
	if next := create(t, s); next.ID == into.ID || next.ID == from.ID {
		t.Fatalf("after a restart a new incident reused ID %d", next.ID)
	}
}
