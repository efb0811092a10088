package eval_test

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/eval"
)

type scored struct {
	e *firebreak.Event
	a firebreak.Assessment
}

func feed(r *eval.Report, events []scored) {
	for _, s := range events {
		r.Add(s.e, s.a)
	}
}

func TestReportCounts(t *testing.T) {
	var r eval.Report
	feed(&r, []scored{
		{login("alice", true, nil), verdict(0.1, firebreak.Allow)},
		{login("alice", false, nil), verdict(0.2, firebreak.Deny)},
		{login("bob", true, nil), verdict(0.9, firebreak.Challenge)},
		{login("carol", true, nil), verdict(0.95, firebreak.Deny)},
		{login("carol", true, nil), verdict(0.05, firebreak.Allow)},
	})
	r.Elapsed = 2 * time.Second
	got := r.Summary()
	want := eval.Summary{
		Events: 5, Accounts: 3, Successes: 4, Failures: 1,
		ElapsedSeconds: 2, EventsPerSecond: 2.5,
		Decisions:     eval.Decisions{Allow: 2, Challenge: 1, Deny: 1},
		DecisionsAll:  eval.Decisions{Allow: 2, Challenge: 1, Deny: 2},
		ChallengeRate: eval.Share{N: 2, Of: 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summary =\n%+v\nwant\n%+v", got, want)
	}
	if r.Labelled() {
		t.Error("Labelled() = true for unlabelled events")
	}
}

func TestReportQuality(t *testing.T) {
	var r eval.Report
	feed(&r, []scored{
		{login("a", true, ato("stuffing")), verdict(0.9, firebreak.Deny)},
		{login("b", true, ato("stuffing")), verdict(0.2, firebreak.Allow)},
		{login("c", true, attack("stuffing")), verdict(0.3, firebreak.Allow)},
		{login("d", true, legit("")), verdict(0.1, firebreak.Allow)},
		{login("e", true, legit("")), verdict(0.8, firebreak.Challenge)},
		{login("f", true, legit("traveller")), verdict(0.2, firebreak.Allow)},
		{login("g", true, legit("traveller")), verdict(math.NaN(), firebreak.Challenge)},
		{login("h", true, nil), verdict(0.99, firebreak.Deny)},
	})
	q := r.Summary().Quality
	if q == nil {
		t.Fatal("Quality = nil with labelled events")
	}
	// ATO {0.9, 0.2} against the finite others {0.3, 0.1, 0.8, 0.2}:
	// 0.9 beats all four, 0.2 beats 0.1 and ties 0.2: (4 + 1.5) / 8.
	if q.AUC == nil || *q.AUC != 5.5/8 {
		t.Errorf("AUC = %v, want %v", q.AUC, 5.5/8)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ATO successes", q.ATOSuccesses, int64(2)},
		{"legitimate successes", q.LegitSuccesses, int64(4)},
		{"other attack successes", q.AttackOtherSuccesses, int64(1)},
		{"unlabelled successes", q.UnlabelledSuccesses, int64(1)},
		{"invalid scores", q.InvalidScores, int64(1)},
		{"ATO caught", q.ATOCaught, eval.Share{N: 1, Of: 2}},
		{"legit challenge rate", q.LegitChallengeRate, eval.Share{N: 2, Of: 4}},
		{"operating points", len(q.TPRAtFPR), 3},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

func TestReportCohorts(t *testing.T) {
	var r eval.Report
	feed(&r, []scored{
		{login("a", true, legit("")), verdict(0.1, firebreak.Allow)},
		{login("b", true, legit("")), verdict(0.7, firebreak.Challenge)},
		{login("c", true, legit("")), verdict(0.1, firebreak.Allow)},
		{login("d", true, legit("traveller")), verdict(0.8, firebreak.Challenge)},
		{login("d", true, legit("traveller")), verdict(0.9, firebreak.Deny)},
		{login("d", false, legit("traveller")), verdict(0.9, firebreak.Deny)}, // failure: not a success
		{login("e", false, attack("stuffing")), verdict(0.5, firebreak.Allow)},
		{login("f", false, attack("stuffing")), verdict(0.5, firebreak.Allow)},
		{login("g", true, ato("stuffing")), verdict(0.9, firebreak.Deny)},
		{login("h", true, ato("stuffing")), verdict(0.1, firebreak.Allow)},
		{login("i", true, attack("stuffing")), verdict(0.8, firebreak.Challenge)},
		{login("j", false, attack("spraying")), verdict(0.3, firebreak.Allow)},
		{login("k", true, ato("")), verdict(0.95, firebreak.Challenge)},
	})
	q := r.Summary().Quality
	wantLegit := []eval.CohortStats{
		{Cohort: "ordinary", Events: 3, Successes: 3, Challenged: eval.Share{N: 1, Of: 3}},
		{Cohort: "traveller", Events: 3, Successes: 2, Challenged: eval.Share{N: 2, Of: 2}},
	}
	wantAttack := []eval.CohortStats{
		{Cohort: "ordinary", Events: 1, Successes: 1, Challenged: eval.Share{N: 1, Of: 1}, ATOCaught: &eval.Share{N: 1, Of: 1}},
		{Cohort: "spraying", Events: 1, Challenged: eval.Share{}, ATOCaught: &eval.Share{}},
		{Cohort: "stuffing", Events: 5, Successes: 3, Challenged: eval.Share{N: 2, Of: 3}, ATOCaught: &eval.Share{N: 1, Of: 2}},
	}
	if !reflect.DeepEqual(q.LegitCohorts, wantLegit) {
		t.Errorf("legit cohorts =\n%s\nwant\n%s", dump(q.LegitCohorts), dump(wantLegit))
	}
	if !reflect.DeepEqual(q.AttackCohorts, wantAttack) {
		t.Errorf("attack cohorts =\n%s\nwant\n%s", dump(q.AttackCohorts), dump(wantAttack))
	}
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

func TestReportCohortOverflow(t *testing.T) {
	var r eval.Report
	for i := range eval.MaxCohorts + 5 {
		r.Add(login("a", true, legit(fmt.Sprintf("c%04d", i))), verdict(0.1, firebreak.Allow))
	}
	rows := r.Summary().Quality.LegitCohorts
	if got, want := len(rows), eval.MaxCohorts+1; got != want {
		t.Fatalf("%d cohort rows, want %d", got, want)
	}
	last := rows[len(rows)-1]
	if last.Cohort != eval.OverflowCohort || last.Events != 5 {
		t.Errorf("last row = %+v, want %q with 5 events", last, eval.OverflowCohort)
	}
}

func TestReportJSON(t *testing.T) {
	var r eval.Report
	r.Name = "model"
	feed(&r, []scored{
		{login("a", true, ato("stuffing")), verdict(0.9, firebreak.Deny)},
		{login("b", true, legit("")), verdict(0.1, firebreak.Allow)},
	})
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	q := got["quality"].(map[string]any)
	if q["roc_auc"] != 1.0 {
		t.Errorf("roc_auc = %v, want 1", q["roc_auc"])
	}
	if rate := got["challenge_rate"].(map[string]any)["rate"]; rate != 0.5 {
		t.Errorf("challenge_rate.rate = %v, want 0.5", rate)
	}
	for _, key := range []string{"events", "accounts", "events_per_second", "decisions", "decisions_all"} {
		if _, ok := got[key]; !ok {
			t.Errorf("key %q missing from %s", key, b)
		}
	}
}

func TestReportJSONUndefinedShares(t *testing.T) {
	var r eval.Report
	r.Add(login("a", false, legit("")), verdict(0.1, firebreak.Allow))
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"roc_auc":null`, `"legit_challenge_rate":{"n":0,"of":0,"rate":null}`, `"tpr_at_fpr":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
}

func TestReportSummaryAfterMoreEvents(t *testing.T) {
	var r eval.Report
	r.Add(login("a", true, ato("")), verdict(0.2, firebreak.Allow))
	r.Add(login("b", true, legit("")), verdict(0.5, firebreak.Allow))
	if got := *r.Summary().Quality.AUC; got != 0 {
		t.Fatalf("AUC = %v, want 0", got)
	}
	r.Add(login("c", true, ato("")), verdict(0.9, firebreak.Challenge))
	if got := *r.Summary().Quality.AUC; got != 0.5 {
		t.Errorf("AUC after another ATO = %v, want 0.5", got)
	}
}
