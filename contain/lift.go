package contain

import (
	"context"
	"fmt"

	"firebreak"
)

// LiftActions are the actions an appeal may lift on its own: the gentle,
// temporary ones. A password reset and revoked sessions are never undone on
// a person's word alone (the attacker may be the one appealing).
var LiftActions = []firebreak.ActionKind{firebreak.ActionStepUp, firebreak.ActionLock}

// LiftAccount undoes the step-up and temporary lock that the incident's
// runs confirmed on one account, through rollback runs limited to that
// account and those actions (one per apply run that holds such items). The
// lift is written to the audit trail first: if that fails, nothing runs.
// It returns the rollback of the newest such run.
//
// Errors: ECONFLICT when a run that acted on the incident is still running
// (the lift would race it) or nothing is left to lift; ENOTFOUND for an
// unknown incident.
func (s *Service) LiftAccount(ctx context.Context, incidentID int64, account, actor, reason string) (*firebreak.Run, error) {
	if err := firebreak.ValidateActor(actor); err != nil {
		return nil, err
	}
	if account == "" || len(account) > firebreak.MaxAccountLen {
		return nil, &firebreak.FieldError{Field: "account", Reason: fmt.Sprintf("required: 1 to %d bytes", firebreak.MaxAccountLen)}
	}
	if len(reason) > firebreak.MaxTextLen {
		return nil, &firebreak.FieldError{Field: "reason", Reason: fmt.Sprintf("longer than %d bytes", firebreak.MaxTextLen)}
	}
	runs, err := s.applyRuns(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"incident": incidentID, "account": account, "actions": LiftActions, "reason": reason}
	if err := s.audit(ctx, actor, firebreak.AuditRollbackStarted, fmt.Sprintf("incident/%d", incidentID), data); err != nil {
		return nil, err
	}
	var newest *firebreak.Run
	for _, orig := range runs { // newest first
		r, err := s.liftIn(ctx, orig, account, actor, reason)
		if firebreak.ErrorCode(err) == firebreak.ECONFLICT {
			continue // nothing of this account's to lift in this run
		} else if err != nil {
			return nil, err
		}
		if newest == nil {
			newest = r
		}
	}
	if newest == nil {
		return nil, firebreak.Errorf(firebreak.ECONFLICT, "Incident %d holds no confirmed step-up or lock of this account to lift.", incidentID)
	}
	return newest, nil
}

// applyRuns returns the incident's apply runs, newest first, refusing when
// one of them is running.
func (s *Service) applyRuns(ctx context.Context, incidentID int64) ([]*firebreak.Run, error) {
	if _, err := s.Incidents.Find(ctx, incidentID); err != nil {
		return nil, err
	}
	plans, err := s.Store.ListPlans(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	var out []*firebreak.Run
	for _, p := range plans {
		runs, err := s.Store.ListRuns(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			if r.Kind != firebreak.RunApply {
				continue
			}
			if r.State == firebreak.RunRunning {
				return nil, firebreak.Errorf(firebreak.ECONFLICT, "Run %d of incident %d is running; a lift waits until it is paused or finished.", r.ID, incidentID)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// liftIn creates and launches the rollback of one account's lift actions
// in run orig.
func (s *Service) liftIn(ctx context.Context, orig *firebreak.Run, account, actor, reason string) (*firebreak.Run, error) {
	now := s.cfg.Now()
	spec := orig.Spec
	spec.Stages, spec.ManualStages = []float64{1}, false
	r := &firebreak.Run{Kind: firebreak.RunRollback, RollbackOf: orig.ID, Spec: spec, State: firebreak.RunRunning,
		Reason: reason, StartedBy: actor, StartedAt: now, UpdatedAt: now}
	if err := s.Store.CreateRollbackFor(ctx, r, []string{account}, LiftActions); err != nil {
		return nil, err
	}
	s.timeline(ctx, r.IncidentID, actor, "rollback_started",
		fmt.Sprintf("%s started rollback run %d of run %d for one account: %d actions to lift (%s).", actor, r.ID, orig.ID, r.Total, reason),
		map[string]any{"run": r.ID, "rollback_of": orig.ID, "account": account})
	return r, s.launch(r)
}
