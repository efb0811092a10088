package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"firebreak"
)

// pathTo is how the suite walks a new incident to each state.
var pathTo = map[firebreak.State][]firebreak.State{
	firebreak.StateDetected:  nil,
	firebreak.StateTriaged:   {firebreak.StateTriaged},
	firebreak.StateContained: {firebreak.StateTriaged, firebreak.StateContained},
	firebreak.StateRecovered: {firebreak.StateTriaged, firebreak.StateContained, firebreak.StateRecovered},
	firebreak.StateResolved:  {firebreak.StateTriaged, firebreak.StateContained, firebreak.StateRecovered, firebreak.StateResolved},
}

// walk creates an incident and moves it to state.
func walk(t *testing.T, s firebreak.IncidentService, state firebreak.State) *firebreak.Incident {
	t.Helper()
	inc := create(t, s)
	for _, st := range pathTo[state] {
		if _, err := s.Update(context.Background(), inc.ID, firebreak.IncidentUpdate{State: ptr(st)}, "alice"); err != nil {
			t.Fatalf("walk to %s: %v", st, err)
		}
	}
	return find(t, s, inc.ID)
}

// testTransitions tries every from/to pair: the ones AllowedTransitions
// lists succeed, the others are refused naming the allowed ones and change
// nothing.
func testTransitions(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	for _, from := range firebreak.States {
		for _, to := range firebreak.States {
			t.Run(string(from)+"_to_"+string(to), func(t *testing.T) {
				inc := walk(t, s, from)
				before := timeline(t, s, inc.ID)
				got, err := s.Update(ctx, inc.ID, firebreak.IncidentUpdate{State: ptr(to)}, "bob")
				allowed := firebreak.AllowedTransitions[from]
				if !slices.Contains(allowed, to) {
					mention := []string{string(from), string(to)}
					for _, a := range allowed {
						mention = append(mention, string(a))
					}
					wantCode(t, err, firebreak.ECONFLICT, mention...)
					if now := find(t, s, inc.ID); now.State != from || !now.UpdatedAt.Equal(inc.UpdatedAt) {
						t.Errorf("refused move left state %s, updated_at %v; want %s, %v", now.State, now.UpdatedAt, from, inc.UpdatedAt)
					}
					if n := len(timeline(t, s, inc.ID)); n != len(before) {
						t.Errorf("refused move wrote %d timeline entries", n-len(before))
					}
					return
				}
				if err != nil {
					t.Fatalf("Update %s → %s: %v", from, to, err)
				}
				checkMoved(t, s, got, to)
				entries := timeline(t, s, inc.ID)
				if len(entries) != len(before)+1 {
					t.Fatalf("timeline grew by %d entries, want 1", len(entries)-len(before))
				}
				e := entries[len(entries)-1]
				if e.Kind != firebreak.EntryStateChanged || e.Actor != "bob" || e.Data["from"] != string(from) || e.Data["to"] != string(to) {
					t.Errorf("last entry = %+v, want state_changed by bob from %s to %s", e, from, to)
				}
			})
		}
	}
}

func checkMoved(t *testing.T, s firebreak.IncidentService, got *firebreak.Incident, to firebreak.State) {
	t.Helper()
	stored := find(t, s, got.ID)
	for _, inc := range []*firebreak.Incident{got, stored} {
		if inc.State != to {
			t.Errorf("state = %s, want %s", inc.State, to)
		}
		if resolved := !inc.ResolvedAt.IsZero(); resolved != (to == firebreak.StateResolved) {
			t.Errorf("state %s with resolved_at %v", inc.State, inc.ResolvedAt)
		}
		if inc.UpdatedAt.Before(inc.OpenedAt) {
			t.Errorf("updated_at %v before opened_at %v", inc.UpdatedAt, inc.OpenedAt)
		}
	}
}

func testUpdate(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	inc := create(t, s)
	got, err := s.Update(ctx, inc.ID, firebreak.IncidentUpdate{Severity: ptr(firebreak.SeverityCritical), Title: ptr("Stuffing, 2 ASNs")}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.Severity != firebreak.SeverityCritical || got.Title != "Stuffing, 2 ASNs" || got.State != firebreak.StateDetected {
		t.Fatalf("Update returned %+v", got)
	}
	if stored := find(t, s, inc.ID); stored.Severity != got.Severity || stored.Title != got.Title {
		t.Fatalf("stored %+v, want the update", stored)
	}
	entries := timeline(t, s, inc.ID)
	if len(entries) != 3 || entries[1].Kind != firebreak.EntryUpdated || entries[2].Kind != firebreak.EntryUpdated || entries[2].Actor != "alice" {
		t.Fatalf("timeline = %+v, want opened and two updated entries by alice", entries)
	}
	t.Run("no change writes nothing", func(t *testing.T) {
		if _, err := s.Update(ctx, inc.ID, firebreak.IncidentUpdate{Severity: ptr(firebreak.SeverityCritical)}, "alice"); err != nil {
			t.Fatal(err)
		}
		if n := len(timeline(t, s, inc.ID)); n != 3 {
			t.Fatalf("an update to the current value wrote %d entries", n-3)
		}
	})
	t.Run("refused state applies nothing", func(t *testing.T) {
		upd := firebreak.IncidentUpdate{Severity: ptr(firebreak.SeverityLow), Title: ptr("changed"), State: ptr(firebreak.StateContained)}
		_, err := s.Update(ctx, inc.ID, upd, "alice")
		wantCode(t, err, firebreak.ECONFLICT, "triaged")
		if stored := find(t, s, inc.ID); stored.Severity != firebreak.SeverityCritical || stored.Title != "Stuffing, 2 ASNs" {
			t.Fatalf("refused update half-applied: %+v", stored)
		}
	})
	t.Run("the reason goes on the timeline with the change", func(t *testing.T) {
		if _, err := s.Update(ctx, inc.ID, firebreak.IncidentUpdate{State: ptr(firebreak.StateTriaged), Reason: "confirmed from AS 64500"}, "alice"); err != nil {
			t.Fatal(err)
		}
		entries := timeline(t, s, inc.ID)
		e := entries[len(entries)-1]
		if e.Kind != firebreak.EntryStateChanged || e.Data["reason"] != "confirmed from AS 64500" || !strings.Contains(e.Message, "confirmed from AS 64500") {
			t.Fatalf("entry = %+v, want the state change with its reason", e)
		}
	})
	t.Run("reopen clears resolved_at", func(t *testing.T) {
		for _, st := range []firebreak.State{firebreak.StateResolved, firebreak.StateTriaged} {
			got, err = s.Update(ctx, inc.ID, firebreak.IncidentUpdate{State: ptr(st)}, "alice")
			if err != nil {
				t.Fatal(err)
			}
			checkMoved(t, s, got, st)
		}
	})
	t.Run("unknown incident", func(t *testing.T) {
		_, err := s.Update(ctx, inc.ID+100, firebreak.IncidentUpdate{Title: ptr("x")}, "alice")
		wantCode(t, err, firebreak.ENOTFOUND)
	})
}

func testUpdateInvalid(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	inc := create(t, s)
	tests := []struct {
		name  string
		upd   firebreak.IncidentUpdate
		actor string
		field string
	}{
		{"unknown state", firebreak.IncidentUpdate{State: ptr(firebreak.State("closed"))}, "alice", "state"},
		{"unknown severity", firebreak.IncidentUpdate{Severity: ptr(firebreak.Severity("urgent"))}, "alice", "severity"},
		{"empty title", firebreak.IncidentUpdate{Title: ptr("")}, "alice", "title"},
		{"title too long", firebreak.IncidentUpdate{Title: ptr(strings.Repeat("x", firebreak.MaxTitleLen+1))}, "alice", "title"},
		{"no actor", firebreak.IncidentUpdate{Title: ptr("x")}, "", "actor"},
		{"control character in actor", firebreak.IncidentUpdate{Title: ptr("x")}, "al\x00ice", "actor"},
		{"reason too long", firebreak.IncidentUpdate{Title: ptr("x"), Reason: strings.Repeat("x", firebreak.MaxTextLen+1)}, "alice", "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Update(ctx, inc.ID, tt.upd, tt.actor)
			wantField(t, err, tt.field)
		})
	}
	t.Run("nothing to update", func(t *testing.T) {
		_, err := s.Update(ctx, inc.ID, firebreak.IncidentUpdate{}, "alice")
		wantCode(t, err, firebreak.EINVALID, "nothing to update")
	})
	if n := len(timeline(t, s, inc.ID)); n != 1 {
		t.Fatalf("refused updates wrote %d timeline entries", n-1)
	}
}
