// Package mock holds small hand-written fakes of the root package's service
// interfaces for tests. Each fake has one func field per method; a nil field
// makes the method return zero values.
package mock

import (
	"context"

	"firebreak"
)

var _ firebreak.IngestService = (*IngestService)(nil)

// IngestService is a fake firebreak.IngestService.
type IngestService struct {
	IngestFn func(ctx context.Context, events []firebreak.Event) error
	ScoreFn  func(ctx context.Context, event firebreak.Event) (firebreak.Assessment, firebreak.Thresholds, error)
	StatsFn  func() firebreak.EngineStats
}

// Ingest calls IngestFn.
func (s *IngestService) Ingest(ctx context.Context, events []firebreak.Event) error {
	if s.IngestFn == nil {
		return nil
	}
	return s.IngestFn(ctx, events)
}

// Score calls ScoreFn.
func (s *IngestService) Score(ctx context.Context, event firebreak.Event) (firebreak.Assessment, firebreak.Thresholds, error) {
	if s.ScoreFn == nil {
		return firebreak.Assessment{}, firebreak.Thresholds{}, nil
	}
	return s.ScoreFn(ctx, event)
}

// Stats calls StatsFn.
func (s *IngestService) Stats() firebreak.EngineStats {
	if s.StatsFn == nil {
		return firebreak.EngineStats{}
	}
	return s.StatsFn()
}

var _ firebreak.LoginService = (*LoginService)(nil)

// LoginService is a fake firebreak.LoginService.
type LoginService struct {
	RecordScoredFn func(ctx context.Context, logins []*firebreak.ScoredLogin) error
	FindScoredFn   func(ctx context.Context, filter firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error)
}

// RecordScored calls RecordScoredFn.
func (s *LoginService) RecordScored(ctx context.Context, logins []*firebreak.ScoredLogin) error {
	if s.RecordScoredFn == nil {
		return nil
	}
	return s.RecordScoredFn(ctx, logins)
}

// FindScored calls FindScoredFn.
func (s *LoginService) FindScored(ctx context.Context, filter firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error) {
	if s.FindScoredFn == nil {
		return nil, nil
	}
	return s.FindScoredFn(ctx, filter)
}
