package mock

import (
	"context"

	"firebreak"
)

var _ firebreak.AppealService = (*AppealService)(nil)

// AppealService is a fake firebreak.AppealService.
type AppealService struct {
	RecordFn         func(ctx context.Context, a *firebreak.Appeal) (bool, error)
	DecideFn         func(ctx context.Context, id int64, state firebreak.AppealState, reason, actor string) (*firebreak.Appeal, error)
	FindAppealFn     func(ctx context.Context, id int64) (*firebreak.Appeal, error)
	ListAppealsFn    func(ctx context.Context, filter firebreak.AppealFilter) (*firebreak.AppealList, error)
	AccountActionsFn func(ctx context.Context, incidentID int64, account string) ([]firebreak.AccountAction, error)
}

// Record calls RecordFn.
func (s *AppealService) Record(ctx context.Context, a *firebreak.Appeal) (bool, error) {
	if s.RecordFn == nil {
		return true, nil
	}
	return s.RecordFn(ctx, a)
}

// Decide calls DecideFn.
func (s *AppealService) Decide(ctx context.Context, id int64, state firebreak.AppealState, reason, actor string) (*firebreak.Appeal, error) {
	if s.DecideFn == nil {
		return &firebreak.Appeal{ID: id, State: state, Reason: reason, DecidedBy: actor}, nil
	}
	return s.DecideFn(ctx, id, state, reason, actor)
}

// FindAppeal calls FindAppealFn.
func (s *AppealService) FindAppeal(ctx context.Context, id int64) (*firebreak.Appeal, error) {
	if s.FindAppealFn == nil {
		return nil, nil
	}
	return s.FindAppealFn(ctx, id)
}

// ListAppeals calls ListAppealsFn.
func (s *AppealService) ListAppeals(ctx context.Context, filter firebreak.AppealFilter) (*firebreak.AppealList, error) {
	if s.ListAppealsFn == nil {
		return &firebreak.AppealList{}, nil
	}
	return s.ListAppealsFn(ctx, filter)
}

// AccountActions calls AccountActionsFn.
func (s *AppealService) AccountActions(ctx context.Context, incidentID int64, account string) ([]firebreak.AccountAction, error) {
	if s.AccountActionsFn == nil {
		return nil, nil
	}
	return s.AccountActionsFn(ctx, incidentID, account)
}
