package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"firebreak"
)

func testList(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	var created []int64
	for i, kind := range []firebreak.IncidentKind{firebreak.KindCredentialStuffing, firebreak.KindPasswordSpraying,
		firebreak.KindBruteForce, firebreak.KindPasswordSpraying} {
		inc := newIncident()
		inc.Kind, inc.LastSeen = kind, t0.Add(time.Duration(i)*time.Hour)
		if err := s.Create(ctx, inc, []firebreak.AffectedAccount{account("u1", firebreak.TierAtRisk, 0.5)}, "system"); err != nil {
			t.Fatal(err)
		}
		created = append(created, inc.ID)
	}
	if _, err := s.Update(ctx, created[2], firebreak.IncidentUpdate{State: ptr(firebreak.StateTriaged)}, "alice"); err != nil {
		t.Fatal(err)
	}
	newest := slices.Clone(created)
	slices.Reverse(newest)
	tests := []struct {
		name   string
		filter firebreak.IncidentFilter
		want   []int64
	}{
		{"all, newest first", firebreak.IncidentFilter{}, newest},
		{"by state", firebreak.IncidentFilter{State: firebreak.StateTriaged}, []int64{created[2]}},
		{"by kind", firebreak.IncidentFilter{Kind: firebreak.KindPasswordSpraying}, []int64{created[3], created[1]}},
		{"last seen since", firebreak.IncidentFilter{Since: t0.Add(2 * time.Hour)}, []int64{created[3], created[2]}},
		{"kind and state", firebreak.IncidentFilter{Kind: firebreak.KindBruteForce, State: firebreak.StateDetected}, []int64{}},
		{"limit", firebreak.IncidentFilter{Limit: 2}, newest[:2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := list(t, s, tt.filter)
			if got := ids(page.Incidents); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("List ids = %v, want %v", got, tt.want)
			}
			if (page.Next != "") != (tt.filter.Limit > 0) {
				t.Errorf("Next = %q with limit %d and %d incidents", page.Next, tt.filter.Limit, len(created))
			}
			for _, inc := range page.Incidents {
				if inc.Counts.AtRisk != 1 {
					t.Errorf("incident %d listed with counts %+v, want 1 at risk", inc.ID, inc.Counts)
				}
			}
		})
	}
}

// testListPagination pages through incidents opened within the same clock
// tick, so the cursor must order by id as well as by time.
func testListPagination(t *testing.T, open Opener) {
	s := open(t)
	var all []int64
	for range 7 {
		all = append(all, create(t, s).ID)
	}
	for _, limit := range []int{1, 3, 7, 10} {
		var got []int64
		f := firebreak.IncidentFilter{Limit: limit}
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatalf("limit %d: more than %d pages", limit, len(all))
			}
			page := list(t, s, f)
			if len(page.Incidents) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page.Incidents))
			}
			got = append(got, ids(page.Incidents)...)
			if page.Next == "" {
				break
			}
			f.Cursor = page.Next
		}
		want := slices.Clone(all)
		slices.Reverse(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("limit %d: paged ids = %v, want %v (no duplicates, no gaps)", limit, got, want)
		}
	}
}

func testListInvalid(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	inc := create(t, s, account("u1", firebreak.TierTargeted, 0.1), account("u2", firebreak.TierTargeted, 0.1))
	create(t, s)
	accPage, err := s.ListAccounts(ctx, inc.ID, firebreak.AccountFilter{Limit: 1})
	if err != nil || accPage.Next == "" {
		t.Fatalf("ListAccounts = %+v, %v; want a next page", accPage, err)
	}
	tests := []struct {
		name   string
		filter firebreak.IncidentFilter
		field  string
	}{
		{"cursor not base64", firebreak.IncidentFilter{Cursor: "not a cursor!"}, "cursor"},
		{"cursor of garbage", firebreak.IncidentFilter{Cursor: "AAAAAAAA"}, "cursor"},
		{"cursor of empty JSON", firebreak.IncidentFilter{Cursor: "e30"}, "cursor"},
		{"cursor of the accounts list", firebreak.IncidentFilter{Cursor: accPage.Next}, "cursor"},
		{"negative limit", firebreak.IncidentFilter{Limit: -1}, "limit"},
		{"limit over the maximum", firebreak.IncidentFilter{Limit: firebreak.MaxPageLimit + 1}, "limit"},
		{"unknown state", firebreak.IncidentFilter{State: "closed"}, "state"},
		{"unknown kind", firebreak.IncidentFilter{Kind: "ddos"}, "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.List(ctx, tt.filter)
			wantField(t, err, tt.field)
		})
	}
}
