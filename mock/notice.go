package mock

import (
	"context"
	"time"

	"firebreak"
)

var _ firebreak.NoticeService = (*NoticeService)(nil)

// NoticeService is a fake firebreak.NoticeService.
type NoticeService struct {
	EnqueueFn func(ctx context.Context, notices []firebreak.Notice) (int, error)
	FindFn    func(ctx context.Context, id int64) (*firebreak.Notice, error)
	ClaimFn   func(ctx context.Context, ch firebreak.Channel, limit int, lease time.Duration, at time.Time) ([]firebreak.Notice, error)
	RecordFn  func(ctx context.Context, results []firebreak.NoticeResult) error
	ListFn    func(ctx context.Context, filter firebreak.NoticeFilter) (*firebreak.NoticePage, error)
	CountsFn  func(ctx context.Context, incidentID int64) (firebreak.NoticeCounts, error)
}

// Enqueue calls EnqueueFn; without one it adds nothing.
func (s *NoticeService) Enqueue(ctx context.Context, notices []firebreak.Notice) (int, error) {
	if s.EnqueueFn == nil {
		return 0, nil
	}
	return s.EnqueueFn(ctx, notices)
}

// Find calls FindFn; without one every notice is ENOTFOUND.
func (s *NoticeService) Find(ctx context.Context, id int64) (*firebreak.Notice, error) {
	if s.FindFn == nil {
		return nil, firebreak.Errorf(firebreak.ENOTFOUND, "Notice %d not found.", id)
	}
	return s.FindFn(ctx, id)
}

// Claim calls ClaimFn; without one nothing is due.
func (s *NoticeService) Claim(ctx context.Context, ch firebreak.Channel, limit int, lease time.Duration, at time.Time) ([]firebreak.Notice, error) {
	if s.ClaimFn == nil {
		return nil, nil
	}
	return s.ClaimFn(ctx, ch, limit, lease, at)
}

// Record calls RecordFn.
func (s *NoticeService) Record(ctx context.Context, results []firebreak.NoticeResult) error {
	if s.RecordFn == nil {
		return nil
	}
	return s.RecordFn(ctx, results)
}

// List calls ListFn; without one the list is empty.
func (s *NoticeService) List(ctx context.Context, filter firebreak.NoticeFilter) (*firebreak.NoticePage, error) {
	if s.ListFn == nil {
		return &firebreak.NoticePage{Notices: []firebreak.Notice{}}, nil
	}
	return s.ListFn(ctx, filter)
}

// Counts calls CountsFn; without one there are no notices.
func (s *NoticeService) Counts(ctx context.Context, incidentID int64) (firebreak.NoticeCounts, error) {
	if s.CountsFn == nil {
		return firebreak.NoticeCounts{}, nil
	}
	return s.CountsFn(ctx, incidentID)
}
