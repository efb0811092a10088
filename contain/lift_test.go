package contain_test

import (
	"context"
	"testing"
	"time"

	"firebreak"
	"firebreak/contain"
)

// TestLiftAccountUndoesStepUpAndLockOnly runs a plan that resets, signs out,
// steps up and locks, then lifts one account: its step-up and lock go
// through a real rollback run against the simulated provider; its reset and
// the other accounts stay as they were.
func TestLiftAccountUndoesStepUpAndLockOnly(t *testing.T) {
	f := newFixture(t, tiers{compromised: 4, atRisk: 6}, contain.Config{})
	ctx := context.Background()
	spec := firebreak.PlanSpec{Stages: []float64{1}, Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierCompromised}, Actions: []firebreak.ActionKind{firebreak.ActionForceReset, firebreak.ActionRevokeSessions, firebreak.ActionStepUp}},
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionLock}, Duration: firebreak.Duration{Duration: 24 * time.Hour}},
	}}
	// The lift refuses while nothing ran.
	_, err := f.svc.LiftAccount(ctx, f.incident.ID, "c1", "system", "appeal 1")
	wantCode(t, err, firebreak.ECONFLICT, "no confirmed", "lift")
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := f.approveAndRun(t, p)
	if got := f.waitRun(t, f.svc, r.ID); got.State != firebreak.RunFinished {
		t.Fatalf("run %s", got.State)
	}
	for _, acct := range []string{"c1", "r2"} {
		rb, err := f.svc.LiftAccount(ctx, f.incident.ID, acct, "system", "appeal: this was me")
		if err != nil {
			t.Fatalf("LiftAccount(%s): %v", acct, err)
		}
		got := f.waitRun(t, f.svc, rb.ID)
		if got.Kind != firebreak.RunRollback || got.RollbackOf != r.ID || got.State != firebreak.RunFinished || got.Total != 1 || got.Counts.Confirmed != 1 {
			t.Fatalf("lift of %s: run %+v, want a finished rollback of run %d with one item undone", acct, got, r.ID)
		}
		for _, it := range f.allItems(t, rb.ID) {
			if it.Target != acct || (it.Action != firebreak.ActionStepUp && it.Action != firebreak.ActionLock) {
				t.Errorf("lift of %s holds item %+v", acct, it)
			}
		}
	}
	c1 := f.sim.Snapshot("c1", false)
	if c1.StepUpRequired || !c1.ResetRequired || c1.SessionsRevokedAt.IsZero() {
		t.Errorf("c1 after lift: %+v; want step-up lifted, reset and revocation untouched", c1)
	}
	if !f.sim.Snapshot("r2", false).LockedUntil.IsZero() {
		t.Error("r2 still locked after lift")
	}
	if !f.sim.Snapshot("c2", false).StepUpRequired || f.sim.Snapshot("r3", false).LockedUntil.IsZero() {
		t.Error("a lift touched another account")
	}
	if !f.auditor.Has(firebreak.AuditRollbackStarted) {
		t.Errorf("audit trail %v has no %s", f.auditor.Actions(), firebreak.AuditRollbackStarted)
	}
	// Clean accounts have nothing to lift; a failing audit trail stops the lift.
	_, err = f.svc.LiftAccount(ctx, f.incident.ID, "nobody", "system", "appeal")
	wantCode(t, err, firebreak.ECONFLICT)
	f.auditor.SetFail(true)
	_, err = f.svc.LiftAccount(ctx, f.incident.ID, "c3", "system", "appeal")
	wantCode(t, err, firebreak.EUNAVAILABLE, "audit")
	f.auditor.SetFail(false)
	if !f.sim.Snapshot("c3", false).StepUpRequired {
		t.Error("c3 lifted although the audit trail failed")
	}
	_, err = f.svc.LiftAccount(ctx, f.incident.ID+99, "c3", "system", "appeal")
	wantCode(t, err, firebreak.ENOTFOUND)
	_, err = f.svc.LiftAccount(ctx, f.incident.ID, "", "system", "appeal")
	wantCode(t, err, firebreak.EINVALID, "account")
}
