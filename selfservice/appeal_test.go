package selfservice_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"firebreak"
	"firebreak/mock"
	"firebreak/selfservice"
)

// appeals returns the incident's appeals and their counts.
func (f *fixture) list(t *testing.T) *firebreak.AppealList {
	t.Helper()
	l, err := f.appeals.ListAppeals(context.Background(), firebreak.AppealFilter{IncidentID: f.inc.ID})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// waitRuns waits for every run to stop.
func (f *fixture) waitRuns(t *testing.T) {
	t.Helper()
	runs, err := f.svc.Store.ListRuns(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		f.wait(t, r.ID)
	}
}

func TestAppealLiftsAtRiskThroughRollback(t *testing.T) {
	f := newFixture(t, open)
	path := "/self-service/" + f.token(t, "r0")
	res := f.post(t, path, "I was on holiday\r\nand forgot my password.")
	if res.status != 200 || !strings.Contains(res.body, "lifted the extra sign-in checks") {
		t.Fatalf("appeal: %d %s", res.status, res.body)
	}
	f.waitRuns(t)
	if f.sim.Snapshot("r0", false).StepUpRequired {
		t.Error("r0 still stepped up after a lifted appeal")
	}
	if !f.sim.Snapshot("r1", false).StepUpRequired {
		t.Error("r1 lost its step-up: the lift reached another account")
	}
	// Once: a repeat changes nothing and records nothing new.
	again := f.post(t, path, "again")
	l := f.list(t)
	if len(l.Appeals) != 1 || l.Appeals[0].State != firebreak.AppealLifted || l.Appeals[0].Comment != "I was on holiday\nand forgot my password." {
		t.Fatalf("appeals %+v, want one lifted with the comment", l.Appeals)
	}
	if got := l.Lifted(firebreak.TierAtRisk); got != 1 {
		t.Errorf("lifted at_risk = %d, want 1", got)
	}
	// Nothing is in effect any more: the repeat has nothing to appeal.
	if !strings.Contains(again.body, "nothing on your account to appeal") {
		t.Errorf("repeat: %s", again.body)
	}
	page := f.get(t, path)
	if !strings.Contains(page.body, "since lifted") {
		t.Errorf("page after the lift does not say the step-up was lifted")
	}
	for _, action := range []string{firebreak.AuditAppealRecorded, firebreak.AuditAppealDecided, firebreak.AuditRollbackStarted} {
		if f.auditor.count(action) == 0 {
			t.Errorf("no %s audit record", action)
		}
	}
}

func TestAppealQueuesCompromisedForReview(t *testing.T) {
	f := newFixture(t, open)
	path := "/self-service/" + f.token(t, "c0")
	for range 2 {
		res := f.post(t, path, "")
		if !strings.Contains(res.body, "Someone from our team will look at this") {
			t.Fatalf("appeal: %d %s", res.status, res.body)
		}
	}
	l := f.list(t)
	if len(l.Appeals) != 1 || l.Appeals[0].State != firebreak.AppealQueued || l.Appeals[0].Tier != firebreak.TierCompromised {
		t.Fatalf("appeals %+v, want one queued for review", l.Appeals)
	}
	st := f.sim.Snapshot("c0", false)
	if !st.ResetRequired || !st.StepUpRequired || st.SessionsRevokedAt.IsZero() {
		t.Errorf("c0 after a queued appeal: %+v; want everything in place", st)
	}
	if n := f.auditor.count(firebreak.AuditAppealRecorded); n != 1 {
		t.Errorf("%d appeal.recorded records, want 1", n)
	}
}

func TestAppealBadInput(t *testing.T) {
	f := newFixture(t, open)
	path := "/self-service/" + f.token(t, "r0")
	for name, comment := range map[string]string{
		"too long": strings.Repeat("é", firebreak.MaxAppealComment+1),
		"control":  "bell\a",
		"huge":     strings.Repeat("x", selfservice.MaxForm+1),
	} {
		res := f.post(t, path, comment)
		if res.status != 400 || !strings.Contains(res.body, "We could not read that") {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	if l := f.list(t); len(l.Appeals) != 0 {
		t.Errorf("bad input recorded %d appeals", len(l.Appeals))
	}
	if res := f.post(t, path, strings.Repeat("é", firebreak.MaxAppealComment)); res.status != 200 {
		t.Errorf("1,000 characters: %d", res.status)
	}
	if g := f.post(t, "/self-service/"+f.token(t, "nobody"), "me"); !strings.Contains(g.body, "nothing on your account to appeal") {
		t.Errorf("clean account appeal: %s", g.body)
	}
}

// TestAppealsPolicy checks the decisions with fakes: review when the
// policy says so or the lift cannot run, lift otherwise.
func TestAppealsPolicy(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		tier    firebreak.Tier
		liftErr error
		want    firebreak.AppealState
	}{
		{"lift", firebreak.TierAtRisk, nil, firebreak.AppealLifted},
		{"review", firebreak.TierCompromised, nil, firebreak.AppealQueued},
		{"running", firebreak.TierAtRisk, firebreak.Errorf(firebreak.ECONFLICT, "Run 3 is running."), firebreak.AppealQueued},
		{"broken", firebreak.TierAtRisk, errors.New("disk"), firebreak.AppealQueued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lifts := 0
			s := &selfservice.Appeals{Store: &mock.AppealService{}, Policy: selfservice.DefaultPolicy(),
				Facts: facts{tier: tt.tier, acts: []firebreak.AccountAction{{Action: firebreak.ActionStepUp}}},
				Lifter: lifter(func() (*firebreak.Run, error) {
					lifts++
					return &firebreak.Run{ID: 9}, tt.liftErr
				})}
			a, err := s.Appeal(ctx, selfservice.Claims{Account: "a", IncidentID: 1}, "")
			if err != nil || a.State != tt.want || a.Reason == "" {
				t.Fatalf("Appeal = %+v, %v; want %s with a reason", a, err, tt.want)
			}
			if wantLifts := map[bool]int{true: 0, false: 1}[tt.tier == firebreak.TierCompromised]; lifts != wantLifts {
				t.Errorf("%d lifts, want %d", lifts, wantLifts)
			}
		})
	}
	undone := &selfservice.Appeals{Store: &mock.AppealService{}, Policy: selfservice.DefaultPolicy(),
		Facts: facts{tier: firebreak.TierAtRisk, acts: []firebreak.AccountAction{{Action: firebreak.ActionStepUp, Undone: true}}}}
	if _, err := undone.Appeal(ctx, selfservice.Claims{Account: "a", IncidentID: 1}, ""); firebreak.ErrorCode(err) != firebreak.ECONFLICT {
		t.Errorf("appeal with nothing in effect = %v, want ECONFLICT", err)
	}
	bad := selfservice.Policy{Tiers: map[firebreak.Tier]selfservice.Decision{firebreak.TierAtRisk: "forgive"}}
	if err := bad.Validate(); firebreak.ErrorCode(err) != firebreak.EINVALID || !strings.Contains(err.Error(), "at_risk") {
		t.Errorf("Validate(bad) = %v", err)
	}
	if got := (selfservice.Policy{}).For(firebreak.TierTargeted); got != selfservice.Review {
		t.Errorf("empty policy decides %s, want review", got)
	}
}

type facts struct {
	tier firebreak.Tier
	acts []firebreak.AccountAction
}

func (f facts) AffectedAccount(_ context.Context, id int64, account string) (*firebreak.AffectedAccount, error) {
	return &firebreak.AffectedAccount{IncidentID: id, Account: account, Tier: f.tier}, nil
}

func (f facts) AccountActions(context.Context, int64, string) ([]firebreak.AccountAction, error) {
	return f.acts, nil
}

type lifter func() (*firebreak.Run, error)

func (l lifter) LiftAccount(context.Context, int64, string, string, string) (*firebreak.Run, error) {
	return l()
}
