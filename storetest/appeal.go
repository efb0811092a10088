package storetest

import (
	"context"
	"strings"
	"testing"

	"firebreak"
)

// AppealOpener returns a new, empty appeal store, closed when t ends, and
// the incident and containment stores on the same database.
type AppealOpener func(t *testing.T) (firebreak.AppealService, firebreak.IncidentService, firebreak.ContainmentService)

// TestAppealService runs the AppealService conformance suite.
//
// What it pins down: an incident and account hold one open appeal (a
// repeat returns it); decisions move an open appeal once; lists are newest
// first with counts by tier and state; AccountActions reports confirmed
// actions and marks those a rollback undid.
func TestAppealService(t *testing.T, open AppealOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open AppealOpener)
	}{
		{"RecordOnce", testAppealRecordOnce},
		{"RecordInvalid", testAppealRecordInvalid},
		{"Decide", testAppealDecide},
		{"List", testAppealList},
		{"AccountActions", testAccountActions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

func newAppeal(incidentID int64, account string) *firebreak.Appeal {
	return &firebreak.Appeal{IncidentID: incidentID, Account: account, Tier: firebreak.TierAtRisk, Comment: "I was travelling."}
}

func testAppealRecordOnce(t *testing.T, open AppealOpener) {
	s, incidents, _ := open(t)
	ctx := context.Background()
	inc := create(t, incidents).ID
	a := newAppeal(inc, "alice")
	created, err := s.Record(ctx, a)
	if err != nil || !created || a.ID <= 0 || a.State != firebreak.AppealReceived || a.CreatedAt.IsZero() {
		t.Fatalf("Record = %v, %v, %+v; want a new received appeal", created, err, a)
	}
	again := newAppeal(inc, "alice")
	again.Comment = "second try"
	created, err = s.Record(ctx, again)
	if err != nil || created || again.ID != a.ID || again.Comment != a.Comment {
		t.Fatalf("repeat Record = %v, %v, %+v; want the open appeal %d unchanged", created, err, again, a.ID)
	}
	if _, err := s.Decide(ctx, a.ID, firebreak.AppealQueued, "policy: review", "system"); err != nil {
		t.Fatal(err)
	}
	created, err = s.Record(ctx, newAppeal(inc, "alice"))
	if err != nil || created {
		t.Fatalf("Record while queued = %v, %v; want the queued appeal", created, err)
	}
	if _, err := s.Decide(ctx, a.ID, firebreak.AppealRejected, "the login came from the attacker's network", "carol"); err != nil {
		t.Fatal(err)
	}
	// A decided appeal is history: a new one may be recorded.
	third := newAppeal(inc, "alice")
	if created, err := s.Record(ctx, third); err != nil || !created || third.ID == a.ID {
		t.Fatalf("Record after a decision = %v, %v; want a new appeal", created, err)
	}
}

func testAppealRecordInvalid(t *testing.T, open AppealOpener) {
	s, incidents, _ := open(t)
	ctx := context.Background()
	inc := create(t, incidents).ID
	tests := []struct {
		field string
		edit  func(a *firebreak.Appeal)
	}{
		{"incident_id", func(a *firebreak.Appeal) { a.IncidentID = 0 }},
		{"account", func(a *firebreak.Appeal) { a.Account = "" }},
		{"tier", func(a *firebreak.Appeal) { a.Tier = "maybe" }},
		{"comment", func(a *firebreak.Appeal) { a.Comment = strings.Repeat("é", firebreak.MaxAppealComment+1) }},
		{"comment", func(a *firebreak.Appeal) { a.Comment = "bell\a" }},
		{"state", func(a *firebreak.Appeal) { a.State = firebreak.AppealLifted }},
	}
	for _, tt := range tests {
		a := newAppeal(inc, "bob")
		tt.edit(a)
		_, err := s.Record(ctx, a)
		wantField(t, err, tt.field)
	}
	ok := newAppeal(inc, "bob")
	ok.Comment = strings.Repeat("é", firebreak.MaxAppealComment)
	if _, err := s.Record(ctx, ok); err != nil {
		t.Fatalf("Record(1000 characters) = %v", err)
	}
	_, err := s.Record(ctx, newAppeal(inc+100, "bob"))
	wantCode(t, err, firebreak.ENOTFOUND)
}

func testAppealDecide(t *testing.T, open AppealOpener) {
	s, incidents, _ := open(t)
	ctx := context.Background()
	a := newAppeal(create(t, incidents).ID, "alice")
	if _, err := s.Record(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, err := s.Decide(ctx, a.ID, firebreak.AppealReceived, "x", "carol")
	wantField(t, err, "state")
	_, err = s.Decide(ctx, a.ID, firebreak.AppealLifted, "", "carol")
	wantField(t, err, "reason")
	_, err = s.Decide(ctx, a.ID, firebreak.AppealLifted, "ok", "")
	wantField(t, err, "actor")
	_, err = s.Decide(ctx, a.ID+1, firebreak.AppealLifted, "ok", "carol")
	wantCode(t, err, firebreak.ENOTFOUND)
	got, err := s.Decide(ctx, a.ID, firebreak.AppealLifted, "policy: lift at_risk", "system")
	if err != nil || got.State != firebreak.AppealLifted || got.DecidedBy != "system" || got.DecidedAt.IsZero() || got.Reason != "policy: lift at_risk" {
		t.Fatalf("Decide = %+v, %v", got, err)
	}
	_, err = s.Decide(ctx, a.ID, firebreak.AppealRejected, "too late", "carol")
	wantCode(t, err, firebreak.ECONFLICT, "lifted")
	if found, err := s.FindAppeal(ctx, a.ID); err != nil || *found != *got {
		t.Fatalf("FindAppeal = %+v, %v; want %+v", found, err, got)
	}
}

func testAppealList(t *testing.T, open AppealOpener) {
	s, incidents, _ := open(t)
	ctx := context.Background()
	inc := create(t, incidents).ID
	var ids []int64
	for i, acct := range []string{"a", "b", "c", "d", "e"} {
		a := newAppeal(inc, acct)
		if i%2 == 0 {
			a.Tier = firebreak.TierCompromised
		}
		if _, err := s.Record(ctx, a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if _, err := s.Decide(ctx, ids[1], firebreak.AppealLifted, "policy", "system"); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListAppeals(ctx, firebreak.AppealFilter{IncidentID: inc, Limit: 3})
	if err != nil || len(page.Appeals) != 3 || page.Appeals[0].ID != ids[4] || page.Next == "" {
		t.Fatalf("ListAppeals = %+v, %v; want the 3 newest and a cursor", page, err)
	}
	rest, err := s.ListAppeals(ctx, firebreak.AppealFilter{IncidentID: inc, Limit: 3, Cursor: page.Next})
	if err != nil || len(rest.Appeals) != 2 || rest.Appeals[1].ID != ids[0] || rest.Next != "" {
		t.Fatalf("second page = %+v, %v", rest, err)
	}
	if got := page.Lifted(firebreak.TierAtRisk); got != 1 {
		t.Errorf("lifted at_risk = %d, want 1 (counts %+v)", got, page.Counts)
	}
	var total int64
	for _, c := range page.Counts {
		total += c.Count
	}
	if total != 5 {
		t.Errorf("counts %+v add up to %d, want 5", page.Counts, total)
	}
	lifted, err := s.ListAppeals(ctx, firebreak.AppealFilter{IncidentID: inc, State: firebreak.AppealLifted})
	if err != nil || len(lifted.Appeals) != 1 || lifted.Appeals[0].ID != ids[1] {
		t.Fatalf("ListAppeals(lifted) = %+v, %v", lifted, err)
	}
	_, err = s.ListAppeals(ctx, firebreak.AppealFilter{IncidentID: inc, Cursor: "x"})
	wantField(t, err, "cursor")
	_, err = s.ListAppeals(ctx, firebreak.AppealFilter{IncidentID: inc, State: "odd"})
	wantField(t, err, "state")
}

func testAccountActions(t *testing.T, open AppealOpener) {
	s, incidents, cs := open(t)
	ctx := context.Background()
	inc := create(t, incidents).ID
	p := createPlan(t, cs, inc, 5) // u0: revoke (seq 0), step-up (1); u1: revoke, step-up; block
	apply := startRun(t, cs, p)
	claimItems(t, cs, apply.ID, 5, 5)
	var results []firebreak.ItemResult
	for seq := range int64(5) {
		results = append(results, firebreak.ItemResult{Seq: seq, State: firebreak.ItemConfirmed})
	}
	if err := cs.RecordItems(ctx, apply.ID, results); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccountActions(ctx, inc, "u0")
	if err != nil || len(got) != 2 || got[0].Undone || got[1].Undone {
		t.Fatalf("AccountActions(u0) = %+v, %v; want revoke and step-up, in effect", got, err)
	}
	apply.State = firebreak.RunFinished
	if err := cs.UpdateRun(ctx, apply); err != nil {
		t.Fatal(err)
	}
	rb := &firebreak.Run{Kind: firebreak.RunRollback, RollbackOf: apply.ID, StartedBy: "system"}
	if err := cs.CreateRollbackFor(ctx, rb, []string{"u0"}, []firebreak.ActionKind{firebreak.ActionStepUp}); err != nil {
		t.Fatal(err)
	}
	claimItems(t, cs, rb.ID, 1<<62, 5)
	if err := cs.RecordItems(ctx, rb.ID, []firebreak.ItemResult{{Seq: 1, State: firebreak.ItemConfirmed}}); err != nil {
		t.Fatal(err)
	}
	got, err = s.AccountActions(ctx, inc, "u0")
	if err != nil || len(got) != 2 {
		t.Fatalf("AccountActions after lift = %+v, %v", got, err)
	}
	for _, a := range got {
		if a.Undone != (a.Action == firebreak.ActionStepUp) {
			t.Errorf("%+v: only the step-up was undone", a)
		}
	}
	if got, err := s.AccountActions(ctx, inc, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("AccountActions(nobody) = %+v, %v; want none", got, err)
	}
}
