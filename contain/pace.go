package contain

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// windowGuard is the margin the pacer keeps on top of one second, so that
// scheduling delay between taking a slot and the call reaching the
// provider cannot squeeze one call too many into a second as the provider
// counts it.
const windowGuard = 10 * time.Millisecond

// bucketShare is the share of the cap the token bucket paces at, and
// windowShare the share of it the sliding window admits per second: the
// margins absorb scheduling delay between taking a slot and the call
// reaching the provider, so that the provider never counts more than R.
const (
	bucketShare = 0.98
	windowShare = 0.99
)

// maxWindow is the largest cap enforced with a sliding window; above it
// the token bucket alone paces calls.
const maxWindow = 100_000

// pacer holds calls to a provider to a rate: a token bucket spreads them
// out, and a sliding window over the start times of the last 0.99·R calls
// makes sure no second (as the provider sees it) ever holds more than R,
// however goroutines are scheduled.
type pacer struct {
	bucket *rate.Limiter

	mu   sync.Mutex
	ring []time.Time // start times of the last len(ring) calls
	next int
}

// newPacer returns a pacer for perSecond calls per second; 0 means no cap.
func newPacer(perSecond float64) *pacer {
	if perSecond <= 0 {
		return &pacer{bucket: rate.NewLimiter(rate.Inf, 1)}
	}
	// The bucket paces at 98% of the cap, by absolute reservation times, so
	// that late wake-ups do not add up into a lower rate; it holds a
	// quarter of a second of calls, so that the run catches up after a
	// stall (a claim waiting for fsync, a busy machine) instead of losing
	// that time for good. The window is the hard cap behind it: catching
	// up never puts more than R calls in any second.
	p := &pacer{bucket: rate.NewLimiter(rate.Limit(perSecond*bucketShare), max(1, int(perSecond/4)))}
	if n := int(perSecond * windowShare); n >= 1 && n <= maxWindow {
		// A new pacer does not know what the process before it sent in
		// the last second (a restart after a crash, a resume): it starts
		// as if R calls had just begun, so the cap holds across the gap.
		p.ring = make([]time.Time, n)
		now := time.Now()
		for i := range p.ring {
			p.ring[i] = now
		}
	}
	return p
}

// Wait blocks until a call may start, or ctx is done.
func (p *pacer) Wait(ctx context.Context) error {
	if err := p.bucket.Wait(ctx); err != nil {
		return err
	}
	if p.ring == nil {
		return nil
	}
	for {
		p.mu.Lock()
		now := time.Now()
		free := p.ring[p.next].Add(time.Second + windowGuard)
		if !now.Before(free) {
			p.ring[p.next] = now
			p.next = (p.next + 1) % len(p.ring)
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		t := time.NewTimer(free.Sub(now))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
