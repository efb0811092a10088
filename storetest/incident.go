package storetest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"firebreak"
)

// Opener returns a new, empty store that is closed when t ends.
type Opener func(t *testing.T) firebreak.IncidentService

// TestIncidentService runs the IncidentService conformance suite against
// the stores open returns; each subtest opens its own.
func TestIncidentService(t *testing.T, open func(t *testing.T) firebreak.IncidentService) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Create", testCreate},
		{"CreateInvalid", testCreateInvalid},
		{"Find", testFind},
		{"List", testList},
		{"ListPagination", testListPagination},
		{"ListInvalid", testListInvalid},
		{"Transitions", testTransitions},
		{"Update", testUpdate},
		{"UpdateInvalid", testUpdateInvalid},
		{"UpsertTierOnlyUp", testUpsertTierOnlyUp},
		{"UpsertAccounts", testUpsertAccounts},
		{"UpsertInvalid", testUpsertInvalid},
		{"UpsertConcurrent", testUpsertConcurrent},
		{"MoveAccount", testMoveAccount},
		{"MoveAccountInvalid", testMoveAccountInvalid},
		{"ListAccountsPagination", testListAccountsPagination},
		{"ListAccountsInvalid", testListAccountsInvalid},
		{"AddSources", testAddSources},
		{"Timeline", testTimeline},
		{"Merge", testMerge},
		{"MergeLarge", testMergeLarge},
		{"MergeInvalid", testMergeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// newIncident returns a valid incident with two sources, most attempts first.
func newIncident() *firebreak.Incident {
	return &firebreak.Incident{
		Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title:     "Credential stuffing from AS64500",
		Summary:   "1,200 accounts tried from 40 addresses sharing one user agent.\nFailure ratio 0.97.",
		FirstSeen: t0, LastSeen: t0.Add(time.Hour),
		Sources: []firebreak.IncidentSource{
			{Kind: firebreak.SourcePrefix, Value: "198.51.100.0/24", Attempts: 900, Failures: 880, Accounts: 850, Evidence: "40 addresses"},
			{Kind: firebreak.SourceIP, Value: "192.0.2.1", Attempts: 300, Failures: 290, Accounts: 280, Evidence: "97% failures"},
		},
	}
}

// account returns an affected account seen for ten minutes from t0.
func account(name string, tier firebreak.Tier, confidence float64) firebreak.AffectedAccount {
	return firebreak.AffectedAccount{Account: name, Tier: tier, Confidence: confidence,
		Evidence: fmt.Sprintf("%s evidence for %s", tier, name), FirstSeen: t0, LastSeen: t0.Add(10 * time.Minute)}
}

// create stores a new incident holding accounts and returns it.
func create(t *testing.T, s firebreak.IncidentService, accounts ...firebreak.AffectedAccount) *firebreak.Incident {
	t.Helper()
	inc := newIncident()
	if err := s.Create(context.Background(), inc, accounts, firebreak.SystemActor); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return inc
}

func find(t *testing.T, s firebreak.IncidentService, id int64) *firebreak.Incident {
	t.Helper()
	inc, err := s.Find(context.Background(), id)
	if err != nil {
		t.Fatalf("Find(%d): %v", id, err)
	}
	return inc
}

func testCreate(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	accounts := []firebreak.AffectedAccount{account("u1", firebreak.TierCompromised, 0.99),
		account("u2", firebreak.TierTargeted, 0.3), account("u3", firebreak.TierTargeted, 0.3)}
	inc := create(t, s, accounts...)
	want := newIncident()
	want.ID, want.State, want.OpenedAt, want.UpdatedAt = inc.ID, firebreak.StateDetected, inc.OpenedAt, inc.UpdatedAt
	want.Counts = firebreak.TierCounts{Compromised: 1, Targeted: 2}
	if inc.ID <= 0 || inc.OpenedAt.IsZero() || !inc.UpdatedAt.Equal(inc.OpenedAt) {
		t.Fatalf("Create set ID %d, OpenedAt %v, UpdatedAt %v; want a positive ID and both times equal", inc.ID, inc.OpenedAt, inc.UpdatedAt)
	}
	if !reflect.DeepEqual(inc, want) {
		t.Errorf("Create left\n%+v\nwant\n%+v", inc, want)
	}
	if got := find(t, s, inc.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("Find = \n%+v\nwant\n%+v", got, want)
	}
	page, err := s.ListAccounts(ctx, inc.ID, firebreak.AccountFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range accounts {
		accounts[i].IncidentID = inc.ID
	}
	if !reflect.DeepEqual(page.Accounts, accounts) {
		t.Errorf("accounts = %+v\nwant %+v", page.Accounts, accounts)
	}
	entries := timeline(t, s, inc.ID)
	if len(entries) != 1 || entries[0].Kind != firebreak.EntryOpened || entries[0].Actor != firebreak.SystemActor {
		t.Fatalf("timeline = %+v, want one opened entry by the system", entries)
	}
	if other := create(t, s); other.ID == inc.ID {
		t.Errorf("second incident got the same ID %d", inc.ID)
	}
}

// createCase changes a valid Create call so that one field is wrong.
type createCase struct {
	name   string
	change func(inc *firebreak.Incident, accounts []firebreak.AffectedAccount, actor *string)
	field  string
}

var createCases = []createCase{
	{"unknown kind", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) { inc.Kind = "ddos" }, "kind"},
	{"unknown severity", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) { inc.Severity = "urgent" }, "severity"},
	{"starts triaged", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) {
		inc.State = firebreak.StateTriaged
	}, "state"},
	{"no title", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) { inc.Title = "" }, "title"},
	{"no first seen", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) { inc.FirstSeen = time.Time{} }, "first_seen"},
	{"last seen before first", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) {
		inc.LastSeen = t0.Add(-time.Second)
	}, "last_seen"},
	{"prefix not masked", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) {
		inc.Sources[0].Value = "198.51.100.7/24"
	}, "sources[0].value"},
	{"bad ip", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) {
		inc.Sources[1].Value = "192.0.2"
	}, "sources[1].value"},
	{"duplicate source", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) {
		inc.Sources[1] = inc.Sources[0]
	}, "sources[1].value"},
	{"more failures than attempts", func(inc *firebreak.Incident, _ []firebreak.AffectedAccount, _ *string) { inc.Sources[1].Failures = 301 }, "sources[1].failures"},
	{"unknown tier", func(_ *firebreak.Incident, a []firebreak.AffectedAccount, _ *string) { a[1].Tier = "clean" }, "accounts[1].tier"},
	{"confidence above 1", func(_ *firebreak.Incident, a []firebreak.AffectedAccount, _ *string) { a[1].Confidence = 1.5 }, "accounts[1].confidence"},
	{"confidence NaN", func(_ *firebreak.Incident, a []firebreak.AffectedAccount, _ *string) { a[1].Confidence = math.NaN() }, "accounts[1].confidence"},
	{"no account name", func(_ *firebreak.Incident, a []firebreak.AffectedAccount, _ *string) { a[1].Account = "" }, "accounts[1].account"},
	{"moved by an operator", func(_ *firebreak.Incident, a []firebreak.AffectedAccount, _ *string) { a[1].MovedBy = "alice" }, "accounts[1].moved_by"},
	{"no actor", func(_ *firebreak.Incident, _ []firebreak.AffectedAccount, actor *string) { *actor = "" }, "actor"},
}

func testCreateInvalid(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	for _, tt := range createCases {
		t.Run(tt.name, func(t *testing.T) {
			inc, actor := newIncident(), firebreak.SystemActor
			accounts := []firebreak.AffectedAccount{account("u1", firebreak.TierTargeted, 0.5), account("u2", firebreak.TierAtRisk, 0.6)}
			tt.change(inc, accounts, &actor)
			wantField(t, s.Create(ctx, inc, accounts, actor), tt.field)
			if inc.ID != 0 {
				t.Errorf("a refused Create set ID %d", inc.ID)
			}
		})
	}
	wantCode(t, s.Create(ctx, nil, nil, firebreak.SystemActor), firebreak.EINVALID)
	if page := list(t, s, firebreak.IncidentFilter{}); len(page.Incidents) != 0 {
		t.Fatalf("refused creates stored %d incidents", len(page.Incidents))
	}
}

func testFind(t *testing.T, open Opener) {
	s := open(t)
	inc := create(t, s)
	for _, id := range []int64{0, -1, inc.ID + 1, math.MaxInt64} {
		t.Run(fmt.Sprint(id), func(t *testing.T) {
			_, err := s.Find(context.Background(), id)
			wantCode(t, err, firebreak.ENOTFOUND, fmt.Sprint(id))
		})
	}
}

func list(t *testing.T, s firebreak.IncidentService, f firebreak.IncidentFilter) *firebreak.IncidentPage {
	t.Helper()
	page, err := s.List(context.Background(), f)
	if err != nil {
		t.Fatalf("List(%+v): %v", f, err)
	}
	return page
}

func ids(incs []*firebreak.Incident) []int64 {
	out := []int64{}
	for _, inc := range incs {
		out = append(out, inc.ID)
	}
	return out
}

func timeline(t *testing.T, s firebreak.IncidentService, id int64) []firebreak.TimelineEntry {
	t.Helper()
	entries, err := s.Timeline(context.Background(), id)
	if err != nil {
		t.Fatalf("Timeline(%d): %v", id, err)
	}
	return entries
}
