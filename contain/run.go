package contain

import (
	"context"
	"errors"
	"fmt"

	"firebreak"
)

// Causes that stop a run's dispatch.
var (
	errPaused   = errors.New("paused")
	errKilled   = errors.New("killed")
	errHalted   = errors.New("halted")
	errShutdown = errors.New("shutting down")
)

// StartRun runs the latest version of a plan, bound to its version and
// hash. A plan that needs approval runs only with a valid approval by
// someone other than its author. The start is written to the audit trail
// first: if that fails, nothing runs.
func (s *Service) StartRun(ctx context.Context, planID int64, version int, hash, actor string) (*firebreak.Run, error) {
	if err := firebreak.ValidateActor(actor); err != nil {
		return nil, err
	}
	p, err := s.Store.FindPlan(ctx, planID, 0)
	if err != nil {
		return nil, err
	}
	if err := checkBinding(p, version, hash); err != nil {
		s.refuse(ctx, p, actor, "run refused: "+firebreak.ErrorMessage(err))
		return nil, err
	}
	var approval *firebreak.Approval
	if p.Preview.NeedsApproval {
		if approval, err = s.approved(ctx, p); err != nil {
			s.refuse(ctx, p, actor, "run refused: "+firebreak.ErrorMessage(err))
			return nil, err
		}
	}
	if err := s.checkNoActiveRun(ctx, p.ID); err != nil {
		return nil, err
	}
	if err := s.connectors(p.Spec); err != nil {
		return nil, err
	}
	data := map[string]any{"plan": p.ID, "version": p.Version, "hash": p.Hash}
	if approval != nil {
		data["approved_by"] = approval.Approver
	}
	if err := s.audit(ctx, actor, firebreak.AuditRunStarted, planObject(p.ID), data); err != nil {
		return nil, err
	}
	if _, notices := needs(p.Spec); notices {
		// Every mass send is mirrored on the status page before the
		// first notice is queued, so that people can check it is real.
		if err := s.Announce(ctx, p, actor); err != nil {
			s.refuse(ctx, p, actor, "run refused: the status page entry for its notices could not be published: "+firebreak.ErrorMessage(err))
			return nil, firebreak.Errorf(firebreak.EUNAVAILABLE, "The status page entry for these notices could not be published, so none were sent: %s", firebreak.ErrorMessage(err))
		}
	}
	now := s.cfg.Now()
	r := &firebreak.Run{PlanID: p.ID, IncidentID: p.IncidentID, Version: p.Version, Hash: p.Hash, Kind: firebreak.RunApply,
		Spec: p.Spec, State: firebreak.RunRunning, StartedBy: actor, StartedAt: now, UpdatedAt: now}
	if err := s.Store.CreateRun(ctx, r, 0); err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("%s started run %d of plan %d v%d: %d actions in %d stages.", actor, r.ID, p.ID, p.Version, r.Total, len(p.Spec.Stages))
	if approval != nil {
		msg += " Approved by " + approval.Approver + "."
	}
	data["run"] = r.ID
	s.timeline(ctx, p.IncidentID, actor, "run_started", msg, data)
	s.moveIncident(ctx, p.IncidentID, firebreak.StateDetected, firebreak.StateTriaged, actor)
	return r, s.launch(r)
}

// checkNoActiveRun refuses a second run of a plan while one can still move.
func (s *Service) checkNoActiveRun(ctx context.Context, planID int64) error {
	runs, err := s.Store.ListRuns(ctx, planID)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if !r.State.Over() {
			return firebreak.Errorf(firebreak.ECONFLICT, "Run %d of plan %d is %s; kill or finish it before starting another.", r.ID, planID, r.State)
		}
	}
	return nil
}

// Rollback undoes a run where its actions allow: every confirmed reversible
// action, or (stage >= 0) those of stages 0..stage only. It runs through the
// same machinery as the run itself. The run must not be running: pause or
// kill it first.
func (s *Service) Rollback(ctx context.Context, runID int64, stage int, actor string) (*firebreak.Run, error) {
	if err := firebreak.ValidateActor(actor); err != nil {
		return nil, err
	}
	orig, err := s.Store.FindRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	switch {
	case orig.Kind != firebreak.RunApply:
		return nil, firebreak.Errorf(firebreak.ECONFLICT, "Run %d is itself a rollback; it cannot be rolled back.", runID)
	case orig.State == firebreak.RunRunning:
		return nil, firebreak.Errorf(firebreak.ECONFLICT, "Run %d is running; pause or kill it before rolling it back.", runID)
	case stage >= len(orig.Spec.Stages):
		return nil, &firebreak.FieldError{Field: "stage", Reason: fmt.Sprintf("run %d has stages 0 to %d", runID, len(orig.Spec.Stages)-1)}
	}
	var upto int64
	if stage >= 0 {
		upto = firebreak.StageEnd(orig.Spec.Stages, stage, orig.Total)
	}
	data := map[string]any{"rollback_of": orig.ID, "plan": orig.PlanID, "stage": stage}
	if err := s.audit(ctx, actor, firebreak.AuditRollbackStarted, runObject(orig.ID), data); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	spec := orig.Spec
	spec.Stages, spec.ManualStages = []float64{1}, false
	r := &firebreak.Run{PlanID: orig.PlanID, IncidentID: orig.IncidentID, Version: orig.Version, Hash: orig.Hash,
		Kind: firebreak.RunRollback, RollbackOf: orig.ID, Spec: spec, State: firebreak.RunRunning,
		StartedBy: actor, StartedAt: now, UpdatedAt: now}
	if err := s.Store.CreateRun(ctx, r, upto); err != nil {
		return nil, err
	}
	data["run"] = r.ID
	s.timeline(ctx, r.IncidentID, actor, "rollback_started",
		fmt.Sprintf("%s started rollback run %d of run %d: %d actions to undo.", actor, r.ID, orig.ID, r.Total), data)
	return r, s.launch(r)
}

// Pause stops dispatch of a running run; calls in flight finish and are
// recorded. Resume goes on where it stopped.
func (s *Service) Pause(ctx context.Context, runID int64, actor string) (*firebreak.Run, error) {
	return s.stopRun(ctx, runID, actor, firebreak.RunPaused, errPaused)
}

// Kill stops a run for good: nothing more is dispatched, from the moment it
// returns. It is never refused for an audit failure (stopping is safe).
func (s *Service) Kill(ctx context.Context, runID int64, actor string) (*firebreak.Run, error) {
	return s.stopRun(ctx, runID, actor, firebreak.RunKilled, errKilled)
}

func (s *Service) stopRun(ctx context.Context, runID int64, actor string, to firebreak.RunState, cause error) (*firebreak.Run, error) {
	if err := firebreak.ValidateActor(actor); err != nil {
		return nil, err
	}
	// Stop dispatch before anything else: the kill switch must not wait
	// for a store or the audit trail.
	s.cancel(runID, cause)
	r, err := s.Store.FindRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	switch {
	case r.State.Over():
		return nil, overError(r)
	case to == firebreak.RunPaused && r.State != firebreak.RunRunning:
		return nil, firebreak.Errorf(firebreak.ECONFLICT, "Run %d is %s, not running; only a running run can be paused: resume or kill it.", runID, r.State)
	}
	s.wait(runID)
	r.State, r.UpdatedAt = to, s.cfg.Now()
	r.Reason = "by " + actor
	if to == firebreak.RunKilled {
		r.FinishedAt = r.UpdatedAt
	}
	if err := s.Store.UpdateRun(ctx, r); err != nil {
		return nil, err
	}
	action, kind := firebreak.AuditRunPaused, "run_paused"
	if to == firebreak.RunKilled {
		action, kind = firebreak.AuditRunKilled, "run_killed"
	}
	s.record(ctx, r.IncidentID, actor, action, kind, runObject(r.ID),
		fmt.Sprintf("%s %s run %d at stage %d: %d of %d actions done.", actor, to, r.ID, r.Stage, r.Counts.Done(), r.Total),
		map[string]any{"run": r.ID, "stage": r.Stage})
	return s.Store.FindRun(ctx, runID)
}

// Resume goes on with a paused or halted run. Resuming dispatch is written
// to the audit trail first: if that fails, nothing is dispatched.
func (s *Service) Resume(ctx context.Context, runID int64, actor string) (*firebreak.Run, error) {
	if err := firebreak.ValidateActor(actor); err != nil {
		return nil, err
	}
	s.resumeMu.Lock()
	defer s.resumeMu.Unlock()
	r, err := s.Store.FindRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	switch {
	case r.State.Over():
		return nil, overError(r)
	case r.State != firebreak.RunPaused && r.State != firebreak.RunHalted:
		return nil, firebreak.Errorf(firebreak.ECONFLICT, "Run %d is %s; only a paused or halted run can be resumed: pause or kill it.", runID, r.State)
	}
	// A run that paused itself at a manual stage, or halted, may still be
	// winding down (writing its timeline entry). Wait for it: launch would
	// take it for a run being dispatched and leave the resumed run idle.
	s.wait(runID)
	if err := s.audit(ctx, actor, firebreak.AuditRunResumed, runObject(r.ID), map[string]any{"run": r.ID, "stage": r.Stage}); err != nil {
		return nil, err
	}
	r.State, r.Reason, r.UpdatedAt = firebreak.RunRunning, "", s.cfg.Now()
	if err := s.Store.UpdateRun(ctx, r); err != nil {
		return nil, err
	}
	s.timeline(ctx, r.IncidentID, actor, "run_resumed", fmt.Sprintf("%s resumed run %d at stage %d.", actor, r.ID, r.Stage), map[string]any{"run": r.ID})
	return r, s.launch(r)
}

// overError is the conflict of steering a run that is over. It says what
// can still be done: roll back an apply run.
func overError(r *firebreak.Run) error {
	msg := fmt.Sprintf("Run %d is %s already: it can no longer be paused, resumed or killed.", r.ID, r.State)
	if r.Kind == firebreak.RunApply {
		msg += " To undo what it did, roll it back."
	}
	return firebreak.Errorf(firebreak.ECONFLICT, "%s", msg)
}

// moveIncident moves an incident from one state to the next if it is in
// from; any other state is left alone.
func (s *Service) moveIncident(ctx context.Context, id int64, from, to firebreak.State, actor string) {
	inc, err := s.Incidents.Find(ctx, id)
	if err != nil || inc.State != from {
		return
	}
	if _, err := s.Incidents.Update(ctx, id, firebreak.IncidentUpdate{State: &to}, actor); err != nil {
		s.Logger.Warn("incident state not moved", "incident", id, "to", to, "err", err)
	}
}
