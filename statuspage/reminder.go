package statuspage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"firebreak"
)

// Overdue is an update that was promised and has not come: the latest update
// of a current thread, whose NextUpdateBy has passed.
type Overdue struct {
	Update firebreak.StatusUpdate // the update that made the promise
	Late   time.Duration          // how long past NextUpdateBy
}

// Reminder finds promised status updates that are late: Check for the
// dashboard's banner, Tick or Run to tell operators once per promise.
type Reminder struct {
	// Status is where the updates live.
	Status firebreak.StatusService
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Notify tells operators of promises that became late (the operator
	// channel). Each promise is told once, or again every Repeat.
	Notify func(ctx context.Context, late []Overdue) error
	// Repeat is how often to remind of the same late promise again; zero
	// reminds once.
	Repeat time.Duration
	// Interval is how often Run checks. Default one minute.
	Interval time.Duration
	// Logger receives errors from Run. Default slog.Default().
	Logger *slog.Logger

	mu       sync.Mutex
	notified map[int64]time.Time // by update ID: when Notify last told of it
}

// NewReminder returns a Reminder on status with the default clock and interval.
func NewReminder(status firebreak.StatusService, notify func(context.Context, []Overdue) error) *Reminder {
	return &Reminder{Status: status, Notify: notify, Now: time.Now, Interval: time.Minute}
}

// Check returns every late promise, the longest overdue first.
func (r *Reminder) Check(ctx context.Context) ([]Overdue, error) {
	now := r.now()
	updates, err := r.Status.Overdue(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("check overdue status updates: %w", err)
	}
	out := make([]Overdue, len(updates))
	for i, u := range updates {
		out[i] = Overdue{Update: u, Late: now.Sub(u.NextUpdateBy)}
	}
	return out, nil
}

// Tick checks once and passes to Notify the late promises it has not told
// of yet (or not within Repeat), returning them. A promise is marked told
// only when Notify succeeds, so a failed notice is retried next tick.
func (r *Reminder) Tick(ctx context.Context) ([]Overdue, error) {
	late, err := r.Check(ctx)
	if err != nil {
		return nil, err
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.notified == nil {
		r.notified = make(map[int64]time.Time)
	}
	due, current := []Overdue{}, make(map[int64]bool, len(late))
	for _, o := range late {
		current[o.Update.ID] = true
		last, told := r.notified[o.Update.ID]
		if !told || (r.Repeat > 0 && now.Sub(last) >= r.Repeat) {
			due = append(due, o)
		}
	}
	for id := range r.notified { // kept or resolved since: forget
		if !current[id] {
			delete(r.notified, id)
		}
	}
	if len(due) == 0 || r.Notify == nil {
		return due, nil
	}
	if err := r.Notify(ctx, due); err != nil {
		return due, fmt.Errorf("notify overdue status updates: %w", err)
	}
	for _, o := range due {
		r.notified[o.Update.ID] = now
	}
	return due, nil
}

// Run calls Tick every Interval until ctx ends. A failing or panicking tick
// is logged and the loop goes on; each tick has at most Interval to finish.
func (r *Reminder) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		r.runTick(ctx, interval)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

func (r *Reminder) runTick(ctx context.Context, timeout time.Duration) {
	logger := r.Logger
	if logger == nil {
		logger = slog.Default()
	}
	defer func() {
		if p := recover(); p != nil {
			logger.Error("status reminder: panic", "panic", p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if late, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
		logger.Error("status reminder", "err", err)
	} else if len(late) > 0 {
		logger.Info("status reminder: promised updates are late", "count", len(late))
	}
}

func (r *Reminder) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}
