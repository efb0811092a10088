package mock

import (
	"context"
	"time"

	"firebreak"
)

var _ firebreak.OperatorService = (*OperatorService)(nil)

// OperatorService is a fake firebreak.OperatorService.
type OperatorService struct {
	CreateOperatorFn        func(ctx context.Context, op *firebreak.Operator) error
	FindOperatorFn          func(ctx context.Context, id int64) (*firebreak.Operator, error)
	FindOperatorByNameFn    func(ctx context.Context, name string) (*firebreak.Operator, error)
	ListOperatorsFn         func(ctx context.Context) ([]*firebreak.Operator, error)
	UpdateOperatorFn        func(ctx context.Context, op *firebreak.Operator) error
	CountOperatorsFn        func(ctx context.Context) (int, error)
	CreateSessionFn         func(ctx context.Context, s *firebreak.Session) error
	FindSessionFn           func(ctx context.Context, idHash string) (*firebreak.Session, error)
	TouchSessionFn          func(ctx context.Context, idHash string, lastSeen time.Time) error
	DeleteSessionFn         func(ctx context.Context, idHash string) error
	DeleteExpiredSessionsFn func(ctx context.Context, absolute, idle time.Time) (int, error)
	CreateTokenFn           func(ctx context.Context, t *firebreak.APIToken) error
	FindTokenFn             func(ctx context.Context, hash string) (*firebreak.APIToken, error)
	ListTokensFn            func(ctx context.Context) ([]*firebreak.APIToken, error)
	RevokeTokenFn           func(ctx context.Context, id int64) error
	TouchTokenFn            func(ctx context.Context, id int64, lastUsed time.Time) error
}

// CreateOperator calls CreateOperatorFn.
func (s *OperatorService) CreateOperator(ctx context.Context, op *firebreak.Operator) error {
	if s.CreateOperatorFn == nil {
		return nil
	}
	return s.CreateOperatorFn(ctx, op)
}

// FindOperator calls FindOperatorFn.
func (s *OperatorService) FindOperator(ctx context.Context, id int64) (*firebreak.Operator, error) {
	if s.FindOperatorFn == nil {
		return nil, nil
	}
	return s.FindOperatorFn(ctx, id)
}

// FindOperatorByName calls FindOperatorByNameFn.
func (s *OperatorService) FindOperatorByName(ctx context.Context, name string) (*firebreak.Operator, error) {
	if s.FindOperatorByNameFn == nil {
		return nil, nil
	}
	return s.FindOperatorByNameFn(ctx, name)
}

// ListOperators calls ListOperatorsFn.
func (s *OperatorService) ListOperators(ctx context.Context) ([]*firebreak.Operator, error) {
	if s.ListOperatorsFn == nil {
		return nil, nil
	}
	return s.ListOperatorsFn(ctx)
}

// UpdateOperator calls UpdateOperatorFn.
func (s *OperatorService) UpdateOperator(ctx context.Context, op *firebreak.Operator) error {
	if s.UpdateOperatorFn == nil {
		return nil
	}
	return s.UpdateOperatorFn(ctx, op)
}

// CountOperators calls CountOperatorsFn.
func (s *OperatorService) CountOperators(ctx context.Context) (int, error) {
	if s.CountOperatorsFn == nil {
		return 0, nil
	}
	return s.CountOperatorsFn(ctx)
}

// CreateSession calls CreateSessionFn.
func (s *OperatorService) CreateSession(ctx context.Context, sess *firebreak.Session) error {
	if s.CreateSessionFn == nil {
		return nil
	}
	return s.CreateSessionFn(ctx, sess)
}

// FindSession calls FindSessionFn.
func (s *OperatorService) FindSession(ctx context.Context, idHash string) (*firebreak.Session, error) {
	if s.FindSessionFn == nil {
		return nil, nil
	}
	return s.FindSessionFn(ctx, idHash)
}

// TouchSession calls TouchSessionFn.
func (s *OperatorService) TouchSession(ctx context.Context, idHash string, lastSeen time.Time) error {
	if s.TouchSessionFn == nil {
		return nil
	}
	return s.TouchSessionFn(ctx, idHash, lastSeen)
}

// DeleteSession calls DeleteSessionFn.
func (s *OperatorService) DeleteSession(ctx context.Context, idHash string) error {
	if s.DeleteSessionFn == nil {
		return nil
	}
	return s.DeleteSessionFn(ctx, idHash)
}

// DeleteExpiredSessions calls DeleteExpiredSessionsFn.
func (s *OperatorService) DeleteExpiredSessions(ctx context.Context, absolute, idle time.Time) (int, error) {
	if s.DeleteExpiredSessionsFn == nil {
		return 0, nil
	}
	return s.DeleteExpiredSessionsFn(ctx, absolute, idle)
}

// CreateToken calls CreateTokenFn.
func (s *OperatorService) CreateToken(ctx context.Context, t *firebreak.APIToken) error {
	if s.CreateTokenFn == nil {
		return nil
	}
	return s.CreateTokenFn(ctx, t)
}

// FindToken calls FindTokenFn.
func (s *OperatorService) FindToken(ctx context.Context, hash string) (*firebreak.APIToken, error) {
	if s.FindTokenFn == nil {
		return nil, nil
	}
	return s.FindTokenFn(ctx, hash)
}

// ListTokens calls ListTokensFn.
func (s *OperatorService) ListTokens(ctx context.Context) ([]*firebreak.APIToken, error) {
	if s.ListTokensFn == nil {
		return nil, nil
	}
	return s.ListTokensFn(ctx)
}

// RevokeToken calls RevokeTokenFn.
func (s *OperatorService) RevokeToken(ctx context.Context, id int64) error {
	if s.RevokeTokenFn == nil {
		return nil
	}
	return s.RevokeTokenFn(ctx, id)
}

// TouchToken calls TouchTokenFn.
func (s *OperatorService) TouchToken(ctx context.Context, id int64, lastUsed time.Time) error {
	if s.TouchTokenFn == nil {
		return nil
	}
	return s.TouchTokenFn(ctx, id, lastUsed)
}
