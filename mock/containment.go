package mock

import (
	"context"
	"time"

	"firebreak"
)

var _ firebreak.ContainmentService = (*ContainmentService)(nil)

// ContainmentService is a fake firebreak.ContainmentService.
type ContainmentService struct {
	CreatePlanFn  func(ctx context.Context, p *firebreak.Plan, targets []firebreak.PlanTarget) error
	RevisePlanFn  func(ctx context.Context, p *firebreak.Plan, targets []firebreak.PlanTarget) error
	FindPlanFn    func(ctx context.Context, id int64, v int) (*firebreak.Plan, error)
	ListPlansFn   func(ctx context.Context, incidentID int64) ([]*firebreak.Plan, error)
	PlanTargetsFn func(ctx context.Context, id int64, v int, afterSeq int64, limit int) ([]firebreak.PlanTarget, error)
	AddApprovalFn func(ctx context.Context, a *firebreak.Approval) error
	ApprovalsFn   func(ctx context.Context, planID int64) ([]firebreak.Approval, error)
	CreateRunFn   func(ctx context.Context, r *firebreak.Run, uptoSeq int64) error
	// CreateRollbackForFn backs CreateRollbackFor.
	CreateRollbackForFn func(ctx context.Context, r *firebreak.Run, targets []string, actions []firebreak.ActionKind) error
	FindRunFn           func(ctx context.Context, id int64) (*firebreak.Run, error)
	ListRunsFn          func(ctx context.Context, planID int64) ([]*firebreak.Run, error)
	UpdateRunFn         func(ctx context.Context, r *firebreak.Run) error
	ClaimItemsFn        func(ctx context.Context, runID, beforeSeq int64, limit int, at time.Time) ([]firebreak.RunItem, error)
	RecordItemsFn       func(ctx context.Context, runID int64, results []firebreak.ItemResult) error
	ListItemsFn         func(ctx context.Context, runID int64, filter firebreak.ItemFilter) (*firebreak.ItemPage, error)
}

// CreatePlan calls CreatePlanFn.
func (s *ContainmentService) CreatePlan(ctx context.Context, p *firebreak.Plan, targets []firebreak.PlanTarget) error {
	if s.CreatePlanFn == nil {
		return nil
	}
	return s.CreatePlanFn(ctx, p, targets)
}

// RevisePlan calls RevisePlanFn.
func (s *ContainmentService) RevisePlan(ctx context.Context, p *firebreak.Plan, targets []firebreak.PlanTarget) error {
	if s.RevisePlanFn == nil {
		return nil
	}
	return s.RevisePlanFn(ctx, p, targets)
}

// FindPlan calls FindPlanFn.
func (s *ContainmentService) FindPlan(ctx context.Context, id int64, v int) (*firebreak.Plan, error) {
	if s.FindPlanFn == nil {
		return nil, nil
	}
	return s.FindPlanFn(ctx, id, v)
}

// ListPlans calls ListPlansFn.
func (s *ContainmentService) ListPlans(ctx context.Context, incidentID int64) ([]*firebreak.Plan, error) {
	if s.ListPlansFn == nil {
		return nil, nil
	}
	return s.ListPlansFn(ctx, incidentID)
}

// PlanTargets calls PlanTargetsFn.
func (s *ContainmentService) PlanTargets(ctx context.Context, id int64, v int, afterSeq int64, limit int) ([]firebreak.PlanTarget, error) {
	if s.PlanTargetsFn == nil {
		return nil, nil
	}
	return s.PlanTargetsFn(ctx, id, v, afterSeq, limit)
}

// AddApproval calls AddApprovalFn.
func (s *ContainmentService) AddApproval(ctx context.Context, a *firebreak.Approval) error {
	if s.AddApprovalFn == nil {
		return nil
	}
	return s.AddApprovalFn(ctx, a)
}

// Approvals calls ApprovalsFn.
func (s *ContainmentService) Approvals(ctx context.Context, planID int64) ([]firebreak.Approval, error) {
	if s.ApprovalsFn == nil {
		return nil, nil
	}
	return s.ApprovalsFn(ctx, planID)
}

// CreateRun calls CreateRunFn.
func (s *ContainmentService) CreateRun(ctx context.Context, r *firebreak.Run, uptoSeq int64) error {
	if s.CreateRunFn == nil {
		return nil
	}
	return s.CreateRunFn(ctx, r, uptoSeq)
}

// CreateRollbackFor calls CreateRollbackForFn.
func (s *ContainmentService) CreateRollbackFor(ctx context.Context, r *firebreak.Run, targets []string, actions []firebreak.ActionKind) error {
	if s.CreateRollbackForFn == nil {
		return nil
	}
	return s.CreateRollbackForFn(ctx, r, targets, actions)
}

// FindRun calls FindRunFn.
func (s *ContainmentService) FindRun(ctx context.Context, id int64) (*firebreak.Run, error) {
	if s.FindRunFn == nil {
		return nil, nil
	}
	return s.FindRunFn(ctx, id)
}

// ListRuns calls ListRunsFn.
func (s *ContainmentService) ListRuns(ctx context.Context, planID int64) ([]*firebreak.Run, error) {
	if s.ListRunsFn == nil {
		return nil, nil
	}
	return s.ListRunsFn(ctx, planID)
}

// UpdateRun calls UpdateRunFn.
func (s *ContainmentService) UpdateRun(ctx context.Context, r *firebreak.Run) error {
	if s.UpdateRunFn == nil {
		return nil
	}
	return s.UpdateRunFn(ctx, r)
}

// ClaimItems calls ClaimItemsFn.
func (s *ContainmentService) ClaimItems(ctx context.Context, runID, beforeSeq int64, limit int, at time.Time) ([]firebreak.RunItem, error) {
	if s.ClaimItemsFn == nil {
		return nil, nil
	}
	return s.ClaimItemsFn(ctx, runID, beforeSeq, limit, at)
}

// RecordItems calls RecordItemsFn.
func (s *ContainmentService) RecordItems(ctx context.Context, runID int64, results []firebreak.ItemResult) error {
	if s.RecordItemsFn == nil {
		return nil
	}
	return s.RecordItemsFn(ctx, runID, results)
}

// ListItems calls ListItemsFn.
func (s *ContainmentService) ListItems(ctx context.Context, runID int64, filter firebreak.ItemFilter) (*firebreak.ItemPage, error) {
	if s.ListItemsFn == nil {
		return nil, nil
	}
	return s.ListItemsFn(ctx, runID, filter)
}
