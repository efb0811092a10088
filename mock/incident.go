package mock

import (
	"context"

	"firebreak"
)

var _ firebreak.IncidentService = (*IncidentService)(nil)

// IncidentService is a fake firebreak.IncidentService.
type IncidentService struct {
	CreateFn         func(ctx context.Context, inc *firebreak.Incident, accounts []firebreak.AffectedAccount, actor string) error
	FindFn           func(ctx context.Context, id int64) (*firebreak.Incident, error)
	ListFn           func(ctx context.Context, filter firebreak.IncidentFilter) (*firebreak.IncidentPage, error)
	UpdateFn         func(ctx context.Context, id int64, upd firebreak.IncidentUpdate, actor string) (*firebreak.Incident, error)
	UpsertAccountsFn func(ctx context.Context, id int64, accounts []firebreak.AffectedAccount) error
	MoveAccountFn    func(ctx context.Context, id int64, move firebreak.TierMove) (*firebreak.AffectedAccount, error)
	ListAccountsFn   func(ctx context.Context, id int64, filter firebreak.AccountFilter) (*firebreak.AccountPage, error)
	AddSourcesFn     func(ctx context.Context, id int64, sources []firebreak.IncidentSource) error
	AddEntryFn       func(ctx context.Context, id int64, entry firebreak.TimelineEntry) (*firebreak.TimelineEntry, error)
	TimelineFn       func(ctx context.Context, id int64) ([]firebreak.TimelineEntry, error)
	MergeFn          func(ctx context.Context, into, from int64, actor string) (*firebreak.Incident, error)
}

// Create calls CreateFn.
func (s *IncidentService) Create(ctx context.Context, inc *firebreak.Incident, accounts []firebreak.AffectedAccount, actor string) error {
	if s.CreateFn == nil {
		return nil
	}
	return s.CreateFn(ctx, inc, accounts, actor)
}

// Find calls FindFn.
func (s *IncidentService) Find(ctx context.Context, id int64) (*firebreak.Incident, error) {
	if s.FindFn == nil {
		return nil, nil
	}
	return s.FindFn(ctx, id)
}

// List calls ListFn.
func (s *IncidentService) List(ctx context.Context, filter firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
	if s.ListFn == nil {
		return nil, nil
	}
	return s.ListFn(ctx, filter)
}

// Update calls UpdateFn.
func (s *IncidentService) Update(ctx context.Context, id int64, upd firebreak.IncidentUpdate, actor string) (*firebreak.Incident, error) {
	if s.UpdateFn == nil {
		return nil, nil
	}
	return s.UpdateFn(ctx, id, upd, actor)
}

// UpsertAccounts calls UpsertAccountsFn.
func (s *IncidentService) UpsertAccounts(ctx context.Context, id int64, accounts []firebreak.AffectedAccount) error {
	if s.UpsertAccountsFn == nil {
		return nil
	}
	return s.UpsertAccountsFn(ctx, id, accounts)
}

// MoveAccount calls MoveAccountFn.
func (s *IncidentService) MoveAccount(ctx context.Context, id int64, move firebreak.TierMove) (*firebreak.AffectedAccount, error) {
	if s.MoveAccountFn == nil {
		return nil, nil
	}
	return s.MoveAccountFn(ctx, id, move)
}

// ListAccounts calls ListAccountsFn.
func (s *IncidentService) ListAccounts(ctx context.Context, id int64, filter firebreak.AccountFilter) (*firebreak.AccountPage, error) {
	if s.ListAccountsFn == nil {
		return nil, nil
	}
	return s.ListAccountsFn(ctx, id, filter)
}

// AddSources calls AddSourcesFn.
func (s *IncidentService) AddSources(ctx context.Context, id int64, sources []firebreak.IncidentSource) error {
	if s.AddSourcesFn == nil {
		return nil
	}
	return s.AddSourcesFn(ctx, id, sources)
}

// AddEntry calls AddEntryFn.
func (s *IncidentService) AddEntry(ctx context.Context, id int64, entry firebreak.TimelineEntry) (*firebreak.TimelineEntry, error) {
	if s.AddEntryFn == nil {
		return nil, nil
	}
	return s.AddEntryFn(ctx, id, entry)
}

// Timeline calls TimelineFn.
func (s *IncidentService) Timeline(ctx context.Context, id int64) ([]firebreak.TimelineEntry, error) {
	if s.TimelineFn == nil {
		return nil, nil
	}
	return s.TimelineFn(ctx, id)
}

// Merge calls MergeFn.
func (s *IncidentService) Merge(ctx context.Context, into, from int64, actor string) (*firebreak.Incident, error) {
	if s.MergeFn == nil {
		return nil, nil
	}
	return s.MergeFn(ctx, into, from, actor)
}
