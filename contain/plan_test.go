package contain_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/contain"
)

func TestPlanPreviewCountsExactly(t *testing.T) {
	f := newFixture(t, tiers{compromised: 40, atRisk: 90, targeted: 500}, contain.Config{})
	p, err := f.svc.CreatePlan(context.Background(), f.incident.ID, containSpec(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 || p.Version != 1 || len(p.Hash) != 64 {
		t.Fatalf("plan %+v: want an id, version 1, a hash", p)
	}
	want := map[firebreak.ActionKind][2]int64{ // count, likely clean
		firebreak.ActionForceReset:     {40, 0},
		firebreak.ActionRevokeSessions: {40, 0},
		firebreak.ActionStepUp:         {90, 30}, // every third at-risk account has confidence 0.3
	}
	if len(p.Preview.Actions) != len(want) {
		t.Fatalf("preview actions %+v, want %d", p.Preview.Actions, len(want))
	}
	for _, a := range p.Preview.Actions {
		w := want[a.Action]
		if a.Count != w[0] || a.LikelyClean != w[1] {
			t.Errorf("%s: %d targets, %d likely clean; want %d, %d", a.Action, a.Count, a.LikelyClean, w[0], w[1])
		}
		if info, _ := a.Action.Info(); a.Reversible != info.Reversible || a.Undo == "" {
			t.Errorf("%s: reversible %v undo %q", a.Action, a.Reversible, a.Undo)
		}
	}
	if p.Preview.Accounts != 130 || p.Preview.Sources != 0 {
		t.Errorf("preview accounts %d sources %d, want 130, 0", p.Preview.Accounts, p.Preview.Sources)
	}
	// revoke_sessions cannot be undone: approval is needed whatever the count.
	if !p.Preview.NeedsApproval {
		t.Error("a plan with an irreversible action must need approval")
	}
	if got := p.Preview.StageSizes; len(got) != 3 || got[0] != 2 || got[1] != 17 || got[2] != 170 {
		t.Errorf("stage sizes %v, want [2 17 170] (1%%, 10%%, all of 170)", got)
	}
	targets := f.allTargets(t, p)
	if len(targets) != 170 {
		t.Fatalf("%d targets stored, want 170", len(targets))
	}
	// An account's actions are adjacent, so that they land in one stage.
	pos := map[string]int64{}
	for _, tg := range targets {
		if tg.Target[0] == 'g' {
			t.Fatalf("targeted account %s selected by a plan that does not name that tier", tg.Target)
		}
		if prev, ok := pos[tg.Target]; ok && tg.Seq != prev+1 {
			t.Errorf("%s at seq %d and %d: actions of one account must be adjacent", tg.Target, prev, tg.Seq)
		}
		pos[tg.Target] = tg.Seq
	}
}

func TestPlanWithoutApprovalBelowLimit(t *testing.T) {
	f := newFixture(t, tiers{compromised: 10, atRisk: 10}, contain.Config{ApprovalAbove: 50})
	spec := firebreak.PlanSpec{Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	p, err := f.svc.CreatePlan(context.Background(), f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if p.Preview.NeedsApproval {
		t.Fatalf("10 reversible step-ups under a limit of 50 need no approval; got why=%q", p.Preview.Why)
	}
	r := f.approveAndRun(t, p)
	if got := f.waitRun(t, f.svc, r.ID); got.State != firebreak.RunFinished || got.Counts.Confirmed != 10 {
		t.Fatalf("run %+v: want finished with 10 confirmed", got)
	}
}

func TestPlanRefusesBadSelections(t *testing.T) {
	f := newFixture(t, tiers{compromised: 5, atRisk: 5}, contain.Config{})
	ctx := context.Background()
	step := func(sel firebreak.Selector, actions ...firebreak.ActionKind) firebreak.PlanSpec {
		return firebreak.PlanSpec{Steps: []firebreak.PlanStep{{Select: sel, Actions: actions}}}
	}
	for _, tc := range []struct {
		name  string
		spec  firebreak.PlanSpec
		field string
	}{
		{"empty selector", step(firebreak.Selector{}, firebreak.ActionStepUp), "steps[0].select"},
		{"no steps", firebreak.PlanSpec{}, "steps"},
		{"matches nothing", step(firebreak.Selector{Tier: firebreak.TierTargeted}, firebreak.ActionStepUp), "steps[0].select"},
		{"confidence matches nothing", step(firebreak.Selector{Tier: firebreak.TierCompromised, MinConfidence: 0.99}, firebreak.ActionStepUp), "steps[0].select"},
		{"unknown account", step(firebreak.Selector{Accounts: []string{"c1", "nobody"}}, firebreak.ActionStepUp), "steps[0].select.accounts[1]"},
		{"unknown action", step(firebreak.Selector{Tier: firebreak.TierCompromised}, "delete_account"), "steps[0].actions[0]"},
		{"source action on accounts", step(firebreak.Selector{Tier: firebreak.TierCompromised}, firebreak.ActionBlockSource), "steps[0].actions[0]"},
		{"lock without duration", step(firebreak.Selector{Tier: firebreak.TierCompromised}, firebreak.ActionLock), "steps[0].duration"},
		{"two selections", step(firebreak.Selector{Tier: firebreak.TierCompromised, Sources: true}, firebreak.ActionStepUp), "steps[0].select"},
		{"stages not ending at 1", firebreak.PlanSpec{Steps: containSpec().Steps, Stages: []float64{0.1, 0.5}}, "stages"},
		{"stages decreasing", firebreak.PlanSpec{Steps: containSpec().Steps, Stages: []float64{0.5, 0.1, 1}}, "stages[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreatePlan(ctx, f.incident.ID, tc.spec, "alice")
			wantCode(t, err, firebreak.EINVALID, tc.field)
		})
	}
	plans, err := f.store.ListPlans(ctx, f.incident.ID)
	if err != nil || len(plans) != 0 {
		t.Fatalf("refused plans stored: %d plans, err %v", len(plans), err)
	}
	// Each refusal is on the record with its reason.
	entries, err := f.incs.Timeline(ctx, f.incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range entries {
		if e.Kind == "plan_refused" && strings.Contains(e.Message, "was refused: ") {
			refused++
		}
	}
	if refused != 11 {
		t.Errorf("%d plan_refused timeline entries, want one per refused plan (11)", refused)
	}
	if n := f.sim.Stats().Applies; n != 0 {
		t.Errorf("%d effects from refused plans", n)
	}
	_, err = f.svc.CreatePlan(ctx, 999, containSpec(), "alice")
	wantCode(t, err, firebreak.ENOTFOUND)
}

func TestPlanRefusesEveryone(t *testing.T) {
	f := newFixture(t, tiers{compromised: 30, atRisk: 30}, contain.Config{MaxShare: 0.5})
	f.svc.KnownAccounts = func(context.Context) (int64, error) { return 100, nil }
	spec := firebreak.PlanSpec{Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierCompromised}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	_, err := f.svc.CreatePlan(context.Background(), f.incident.ID, spec, "alice")
	wantCode(t, err, firebreak.EINVALID, "60 of the 100 accounts")
	spec.Steps = spec.Steps[:1]
	if _, err := f.svc.CreatePlan(context.Background(), f.incident.ID, spec, "alice"); err != nil {
		t.Fatalf("30 of 100 accounts is not everyone: %v", err)
	}
	f.svc.KnownAccounts = func(context.Context) (int64, error) { return 0, context.DeadlineExceeded }
	if _, err := f.svc.CreatePlan(context.Background(), f.incident.ID, spec, "alice"); err == nil {
		t.Fatal("a failing account count must refuse the plan, never read as no limit")
	}
}

func TestApprovalRules(t *testing.T) {
	f := newFixture(t, tiers{compromised: 20, atRisk: 20}, contain.Config{ApprovalTTL: time.Hour})
	ctx := context.Background()
	now := t0
	f.svc = newService(f, contain.Config{Now: func() time.Time { return now }})
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, containSpec(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	// Without approval the plan does not run.
	_, err = f.svc.StartRun(ctx, p.ID, p.Version, p.Hash, "alice")
	wantCode(t, err, firebreak.EFORBIDDEN, "approval")
	// The author cannot approve their own plan.
	_, err = f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "alice", "")
	wantCode(t, err, firebreak.EFORBIDDEN, "alice")
	// An approval must name the exact version and hash.
	_, err = f.svc.Approve(ctx, p.ID, p.Version, p.Hash[:63]+"0", "bob", "")
	wantCode(t, err, firebreak.ECONFLICT, "hash")
	_, err = f.svc.Approve(ctx, p.ID, p.Version+1, p.Hash, "bob", "")
	wantCode(t, err, firebreak.ECONFLICT, "version")
	if _, err := f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "bob", "ok"); err != nil {
		t.Fatal(err)
	}
	// Revising the plan invalidates bob's approval of v1.
	spec := containSpec()
	spec.Steps = spec.Steps[:1]
	p2, err := f.svc.RevisePlan(ctx, p.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if p2.Version != 2 || p2.Hash == p.Hash {
		t.Fatalf("revision %d hash %s: want version 2 and a new hash", p2.Version, p2.Hash)
	}
	_, err = f.svc.StartRun(ctx, p.ID, 1, p.Hash, "alice")
	wantCode(t, err, firebreak.ECONFLICT, "version 2")
	_, err = f.svc.StartRun(ctx, p2.ID, p2.Version, p2.Hash, "alice")
	wantCode(t, err, firebreak.EFORBIDDEN, "another version")
	// Approved, then expired.
	if _, err := f.svc.Approve(ctx, p2.ID, p2.Version, p2.Hash, "bob", ""); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	_, err = f.svc.StartRun(ctx, p2.ID, p2.Version, p2.Hash, "alice")
	wantCode(t, err, firebreak.EFORBIDDEN, "expired")
	// A fresh approval runs it.
	if _, err := f.svc.Approve(ctx, p2.ID, p2.Version, p2.Hash, "carol", ""); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.StartRun(ctx, p2.ID, p2.Version, p2.Hash, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.waitRun(t, f.svc, r.ID); got.State != firebreak.RunFinished {
		t.Fatalf("run %+v: want finished", got)
	}
	for _, want := range []string{firebreak.AuditPlanCreated, firebreak.AuditPlanRefused, firebreak.AuditPlanRevised,
		firebreak.AuditPlanApproved, firebreak.AuditRunStarted, firebreak.AuditRunStage, firebreak.AuditRunItems, firebreak.AuditRunFinished} {
		if !f.auditor.Has(want) {
			t.Errorf("audit trail lacks %s; has %v", want, f.auditor.Actions())
		}
	}
	// The incident's timeline tells the story.
	entries, err := f.incs.Timeline(ctx, f.incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range entries {
		kinds[e.Kind] = true
	}
	for _, k := range []string{"plan_created", "plan_refused", "plan_approved", "run_started", "run_finished"} {
		if !kinds[k] {
			t.Errorf("timeline lacks %s", k)
		}
	}
	inc, _ := f.incs.Find(ctx, f.incident.ID)
	if inc.State != firebreak.StateContained {
		t.Errorf("incident state %s after a finished run, want contained", inc.State)
	}
}

func TestAuditFailureFailsClosed(t *testing.T) {
	f := newFixture(t, tiers{compromised: 10}, contain.Config{})
	ctx := context.Background()
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, containSpec2(firebreak.TierCompromised), "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.auditor.SetFail(true)
	_, err = f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "bob", "")
	wantCode(t, err, firebreak.EUNAVAILABLE, "audit")
	if list, _ := f.store.Approvals(ctx, p.ID); len(list) != 0 {
		t.Fatalf("approval stored although the audit trail refused it: %+v", list)
	}
	f.auditor.SetFail(false)
	if _, err := f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "bob", ""); err != nil {
		t.Fatal(err)
	}
	f.auditor.SetFail(true)
	_, err = f.svc.StartRun(ctx, p.ID, p.Version, p.Hash, "alice")
	wantCode(t, err, firebreak.EUNAVAILABLE, "audit")
	if runs, _ := f.store.ListRuns(ctx, p.ID); len(runs) != 0 {
		t.Fatalf("run created although the audit trail refused it")
	}
	if n := f.sim.Stats().Applies; n != 0 {
		t.Fatalf("%d effects although nothing may run", n)
	}
}

// containSpec2 resets and signs out one tier.
func containSpec2(tier firebreak.Tier) firebreak.PlanSpec {
	return firebreak.PlanSpec{Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: tier}, Actions: []firebreak.ActionKind{firebreak.ActionForceReset, firebreak.ActionRevokeSessions}},
	}}
}
