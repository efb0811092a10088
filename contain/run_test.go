package contain_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/contain"
	"firebreak/idp"
)

func TestRunAppliesExactlyOnceUnderFaults(t *testing.T) {
	f := newFixture(t, tiers{compromised: 300, atRisk: 600, targeted: 1000}, contain.Config{MaxAttempts: 10})
	// Lost answers after the effect, 5xx before it, and 429 bursts: the
	// executor must neither apply twice nor give up.
	f.sim.SetFaults(idp.Faults{ResetRate: 0.1, ErrorRate: 0.05, BurstEvery: 50 * time.Millisecond, BurstFor: 5 * time.Millisecond, Seed: 7})
	spec := containSpec()
	spec.HaltErrorRate = 0.5
	p, err := f.svc.CreatePlan(context.Background(), f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := f.approveAndRun(t, p)
	got := f.waitRun(t, f.svc, r.ID)
	if got.State != firebreak.RunFinished || got.Counts.Confirmed != 1200 {
		t.Fatalf("run %+v\ncounts %+v: want finished, 1200 confirmed", got, got.Counts)
	}
	st := f.sim.Stats()
	if st.Resets == 0 || st.Errors5xx == 0 || st.Throttled429 == 0 {
		t.Fatalf("faults not exercised: %+v", st)
	}
	f.checkExactlyOnce(t, f.allTargets(t, p))
	for _, it := range f.allItems(t, r.ID) {
		if it.State != firebreak.ItemConfirmed {
			t.Fatalf("item %+v not confirmed", it)
		}
	}
	// Targeted accounts (never logged into by the attacker) are untouched.
	for i := range 1000 {
		if s := f.sim.Snapshot("g"+strconv.Itoa(i), false); s.ResetRequired || s.StepUpRequired {
			t.Fatalf("targeted account g%d was acted on", i)
		}
	}
}

func TestRunHoldsRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3s")
	}
	f := newFixture(t, tiers{atRisk: 1200}, contain.Config{})
	spec := firebreak.PlanSpec{RateLimit: 400, Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	p, err := f.svc.CreatePlan(context.Background(), f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := f.approveAndRun(t, p)
	got := f.waitRun(t, f.svc, r.ID)
	took := time.Since(start)
	if got.Counts.Confirmed != 1200 {
		t.Fatalf("counts %+v", got.Counts)
	}
	rate := f.sim.Rate()
	// A token bucket of burst 1 allows at most R calls in any second, plus
	// the one token it starts with.
	if rate.MaxPerSecond > 401 {
		t.Errorf("%d calls in one second, above the cap of 400", rate.MaxPerSecond)
	}
	// A second of wait (the pacer does not know what was sent before it),
	// a burst of a quarter of a second's calls, then 400/s.
	if took < 3700*time.Millisecond {
		t.Errorf("1200 calls at 400/s took %s, want at least 3.7s (1s + 1100 calls at 400/s)", took)
	}
	if rate.Mean < 380 && !raceEnabled { // the race detector slows the store below 400/s
		t.Errorf("mean rate %.0f/s, want within 5%% of 400", rate.Mean)
	}
}

func TestKillStopsDispatchAtOnce(t *testing.T) {
	f := newFixture(t, tiers{atRisk: 3000}, contain.Config{})
	spec := firebreak.PlanSpec{RateLimit: 500, Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	ctx := context.Background()
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := f.approveAndRun(t, p)
	time.Sleep(1500 * time.Millisecond) // a capped run waits one second before its first call
	killed, err := f.svc.Kill(ctx, r.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	applied := f.sim.Stats().Applies
	time.Sleep(300 * time.Millisecond)
	if n := f.sim.Stats().Applies; n != applied {
		t.Fatalf("%d effects after the kill switch returned (%d at the kill)", n-applied, applied)
	}
	if killed.State != firebreak.RunKilled || applied == 0 || applied >= 3000 {
		t.Fatalf("run %s with %d effects: want killed part-way", killed.State, applied)
	}
	_ = after
	// Every item is accounted for: confirmed ones applied, the rest pending.
	items := f.allItems(t, r.ID)
	var confirmed int64
	for _, it := range items {
		switch it.State {
		case firebreak.ItemConfirmed:
			confirmed++
		case firebreak.ItemPending:
		default:
			t.Fatalf("item %+v after kill: want confirmed or pending", it)
		}
	}
	if confirmed != applied {
		t.Errorf("%d confirmed items, %d effects", confirmed, applied)
	}
	_, err = f.svc.Resume(ctx, r.ID, "alice")
	wantCode(t, err, firebreak.ECONFLICT, "killed")
}

func TestPauseResumeAndManualStages(t *testing.T) {
	f := newFixture(t, tiers{atRisk: 1000}, contain.Config{})
	ctx := context.Background()
	spec := firebreak.PlanSpec{ManualStages: true, Stages: []float64{0.05, 1}, Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := f.approveAndRun(t, p)
	got := f.waitRun(t, f.svc, r.ID)
	if got.State != firebreak.RunPaused || got.Counts.Confirmed != 50 || got.Stage != 1 {
		t.Fatalf("after the canary: state %s stage %d counts %+v; want paused at stage 1 with 50 done", got.State, got.Stage, got.Counts)
	}
	// The canary is a sample of the whole tier, not its first accounts.
	if n := f.sim.Stats().Applies; n != 50 {
		t.Fatalf("%d effects after a 5%% canary of 1000", n)
	}
	if _, err := f.svc.Resume(ctx, r.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	got = f.waitRun(t, f.svc, r.ID)
	if got.State != firebreak.RunFinished || got.Counts.Confirmed != 1000 {
		t.Fatalf("after resume: %s %+v", got.State, got.Counts)
	}
	f.checkExactlyOnce(t, f.allTargets(t, p))
}

func TestPauseKeepsEveryItemAccountedFor(t *testing.T) {
	f := newFixture(t, tiers{atRisk: 2000}, contain.Config{})
	ctx := context.Background()
	spec := firebreak.PlanSpec{RateLimit: 2000, Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := f.approveAndRun(t, p)
	time.Sleep(300 * time.Millisecond)
	paused, err := f.svc.Pause(ctx, r.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if paused.State != firebreak.RunPaused || paused.Counts.Sent != 0 {
		t.Fatalf("paused run %s counts %+v: want paused with nothing in flight", paused.State, paused.Counts)
	}
	if _, err := f.svc.Resume(ctx, r.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if got := f.waitRun(t, f.svc, r.ID); got.State != firebreak.RunFinished || got.Counts.Confirmed != 2000 {
		t.Fatalf("after resume: %s %+v", got.State, got.Counts)
	}
	f.checkExactlyOnce(t, f.allTargets(t, p))
}

func TestHaltOnErrorRateThenResume(t *testing.T) {
	f := newFixture(t, tiers{atRisk: 500}, contain.Config{MaxAttempts: 2})
	ctx := context.Background()
	f.sim.SetFaults(idp.Faults{ErrorRate: 0.6, Seed: 3})
	spec := firebreak.PlanSpec{HaltErrorRate: 0.1, Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := f.approveAndRun(t, p)
	got := f.waitRun(t, f.svc, r.ID)
	if got.State != firebreak.RunHalted || !strings.Contains(got.Reason, "halt rate") {
		t.Fatalf("run %s (%s): want halted for the error rate", got.State, got.Reason)
	}
	// The canary (1% of 500 = 5 items) halts before the ramp reaches everyone.
	if got.Counts.Done() > 100 {
		t.Errorf("%d items done before halting; a halt must stop early", got.Counts.Done())
	}
	f.sim.SetFaults(idp.Faults{})
	if _, err := f.svc.Resume(ctx, r.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	got = f.waitRun(t, f.svc, r.ID)
	if got.State != firebreak.RunFinished {
		t.Fatalf("after resume: %s %s", got.State, got.Reason)
	}
	for _, it := range f.allItems(t, r.ID) {
		if it.State == firebreak.ItemFailed && !strings.Contains(it.Reason, "attempts") {
			t.Errorf("failed item without a reason: %+v", it)
		}
	}
	if reps := f.sim.Repeats(); len(reps) > 0 {
		t.Errorf("repeats: %+v", reps[0])
	}
}

func TestRollbackUndoesWhatItCan(t *testing.T) {
	f := newFixture(t, tiers{compromised: 30, atRisk: 60}, contain.Config{})
	ctx := context.Background()
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, containSpec(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := f.approveAndRun(t, p)
	if got := f.waitRun(t, f.svc, r.ID); got.State != firebreak.RunFinished {
		t.Fatalf("run %s", got.State)
	}
	_, err = f.svc.Rollback(ctx, r.ID, 5, "alice")
	wantCode(t, err, firebreak.EINVALID, "stage")
	// Two people already chose a new password: their reset cannot be lifted.
	f.sim.UseReset("c0")
	f.sim.UseReset("c1")
	rb, err := f.svc.Rollback(ctx, r.ID, -1, "alice")
	if err != nil {
		t.Fatal(err)
	}
	got := f.waitRun(t, f.svc, rb.ID)
	// 30 resets + 60 step-ups are reversible; revoke_sessions is not.
	if got.State != firebreak.RunFinished || got.Total != 90 || got.Counts.Confirmed != 88 || got.Counts.Skipped != 2 {
		t.Fatalf("rollback %s total %d counts %+v: want 90 items, 88 undone, 2 skipped", got.State, got.Total, got.Counts)
	}
	for _, it := range f.allItems(t, rb.ID) {
		if it.State == firebreak.ItemSkipped && it.Reason == "" {
			t.Errorf("skipped without a reason: %+v", it)
		}
		if it.Action == firebreak.ActionRevokeSessions {
			t.Errorf("rollback of an irreversible action: %+v", it)
		}
	}
	for i := range 60 {
		if f.sim.Snapshot("r"+strconv.Itoa(i), false).StepUpRequired {
			t.Fatalf("r%d still stepped up after rollback", i)
		}
	}
	if f.sim.Snapshot("c5", false).ResetRequired {
		t.Error("c5's reset requirement not lifted")
	}
	_, err = f.svc.Rollback(ctx, rb.ID, -1, "alice")
	wantCode(t, err, firebreak.ECONFLICT, "rollback")
}

// TestRestartReconcilesUnknownOutcomes plays a crash: items claimed (sent)
// whose calls may or may not have landed. A new service reads the
// provider's state and applies only what is not in effect.
func TestRestartReconcilesUnknownOutcomes(t *testing.T) {
	f := newFixture(t, tiers{atRisk: 200}, contain.Config{})
	ctx := context.Background()
	spec := firebreak.PlanSpec{Stages: []float64{1}, Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// Create the run as StartRun would, but crash before dispatching: claim
	// 100 items and apply half of them at the provider.
	r := &firebreak.Run{PlanID: p.ID, IncidentID: p.IncidentID, Version: p.Version, Hash: p.Hash, Kind: firebreak.RunApply,
		Spec: p.Spec, State: firebreak.RunRunning, StartedBy: "alice", StartedAt: time.Now(), UpdatedAt: time.Now()}
	if err := f.store.CreateRun(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	claimed, err := f.store.ClaimItems(ctx, r.ID, r.Total, 100, time.Now())
	if err != nil || len(claimed) != 100 {
		t.Fatalf("claimed %d, err %v", len(claimed), err)
	}
	for _, it := range claimed[:50] {
		if err := f.sim.Apply(ctx, firebreak.ActionRequest{Action: it.Action, Target: it.Target, Key: it.Key()}); err != nil {
			t.Fatal(err)
		}
	}
	svc := newService(f, contain.Config{})
	defer svc.Close()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	got := f.waitRun(t, svc, r.ID)
	if got.State != firebreak.RunFinished || got.Counts.Confirmed != 200 {
		t.Fatalf("after restart: %s %+v", got.State, got.Counts)
	}
	f.checkExactlyOnce(t, f.allTargets(t, p))
	reconciled := 0
	for _, it := range f.allItems(t, r.ID) {
		if strings.Contains(it.Reason, "reading the provider") {
			reconciled++
		}
	}
	if reconciled != 50 {
		t.Errorf("%d items confirmed by reading the provider, want 50", reconciled)
	}
}

// TestExecutedSetInsideApprovedSet generates incidents, plans, revisions
// and approvals at random and checks the one property that matters: every
// effect at the provider is a target of a plan version that was approved
// (or needed no approval) and started.
func TestExecutedSetInsideApprovedSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 1))
	cases := 12
	if testing.Short() {
		cases = 4
	}
	for c := range cases {
		size := tiers{compromised: rng.IntN(30), atRisk: rng.IntN(60), targeted: rng.IntN(60)}
		f := newFixture(t, size, contain.Config{ApprovalAbove: int64(rng.IntN(60))})
		ctx := context.Background()
		allowed := map[string]bool{} // "action target" of versions started
		var runs []int64
		for range 4 {
			spec := randomSpec(rng)
			p, err := f.svc.CreatePlan(ctx, f.incident.ID, spec, "alice")
			if err != nil {
				continue // refused (e.g. matches nothing): nothing may run
			}
			if rng.IntN(2) == 0 {
				if p2, err := f.svc.RevisePlan(ctx, p.ID, randomSpec(rng), "alice"); err == nil {
					// Approve the old version sometimes: it must not count.
					if rng.IntN(2) == 0 {
						f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "bob", "")
					}
					p = p2
				}
			}
			switch rng.IntN(4) {
			case 0: // approved by another
				f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "bob", "")
			case 1: // self-approval attempt
				f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "alice", "")
			case 2: // approval with a tampered hash
				f.svc.Approve(ctx, p.ID, p.Version, strings.Repeat("0", 64), "bob", "")
			}
			r, err := f.svc.StartRun(ctx, p.ID, p.Version, p.Hash, "alice")
			if err != nil {
				if !p.Preview.NeedsApproval {
					t.Fatalf("case %d: a plan that needs no approval was refused: %v", c, err)
				}
				continue
			}
			for _, tg := range f.allTargets(t, p) {
				allowed[string(tg.Action)+" "+tg.Target] = true
			}
			runs = append(runs, r.ID)
			f.waitRun(t, f.svc, r.ID)
		}
		var inside int64
		for key := range allowed {
			action, target, _ := strings.Cut(key, " ")
			inside += int64(f.sim.Effects(target, firebreak.ActionKind(action)))
		}
		if all := f.sim.Stats().Applies; all != inside {
			t.Fatalf("case %d: %d effects, only %d inside the approved set", c, all, inside)
		}
		if reps := f.sim.Repeats(); len(reps) > 0 && len(runs) < 2 {
			t.Fatalf("case %d: repeats %+v", c, reps)
		}
	}
}

// randomSpec draws a plan: one to three steps over tiers, explicit
// accounts or sources, with random actions.
func randomSpec(rng *rand.Rand) firebreak.PlanSpec {
	var spec firebreak.PlanSpec
	accountActions := []firebreak.ActionKind{firebreak.ActionStepUp, firebreak.ActionForceReset, firebreak.ActionRevokeSessions, firebreak.ActionLock}
	for range 1 + rng.IntN(3) {
		var st firebreak.PlanStep
		switch rng.IntN(5) {
		case 0:
			st.Select.Sources = true
			st.Actions = []firebreak.ActionKind{firebreak.ActionBlockSource}
			st.Duration.Duration = time.Hour
			spec.Steps = append(spec.Steps, st)
			continue
		case 1:
			st.Select.Accounts = []string{"c" + strconv.Itoa(rng.IntN(5)), "r" + strconv.Itoa(rng.IntN(5))}
		default:
			st.Select.Tier = firebreak.Tiers[rng.IntN(3)]
			if rng.IntN(3) == 0 {
				st.Select.MinConfidence = 0.6
			}
		}
		for _, a := range accountActions {
			if rng.IntN(3) == 0 && !slices.Contains(st.Actions, a) {
				st.Actions = append(st.Actions, a)
			}
		}
		if len(st.Actions) == 0 {
			st.Actions = []firebreak.ActionKind{firebreak.ActionStepUp}
		}
		if slices.Contains(st.Actions, firebreak.ActionLock) {
			st.Duration.Duration = time.Hour
		}
		spec.Steps = append(spec.Steps, st)
	}
	return spec
}
