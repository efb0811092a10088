package channel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"firebreak"
)

// job is one message on its way, with its attempts so far.
type job struct {
	msg      firebreak.Message
	attempts int
}

// lane is one channel's queue, workers, limiter and hold.
type lane struct {
	d       *Dispatcher
	sender  firebreak.Sender
	policy  Policy
	limiter *rate.Limiter
	queue   chan *job
	wake    chan struct{} // a retry became due

	mu        sync.Mutex
	ready     []*job    // retries whose backoff has passed, oldest first
	holdUntil time.Time // no sends before this (a provider's Retry-After)
	stats     Stats
}

func newLane(d *Dispatcher, s firebreak.Sender, p Policy) *lane {
	lim := rate.NewLimiter(rate.Inf, p.Burst)
	if p.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(p.Rate), p.Burst)
	}
	return &lane{d: d, sender: s, policy: p, limiter: lim,
		queue: make(chan *job, p.QueueSize), wake: make(chan struct{}, 1)}
}

// work is one worker: take a job, attempt it, until the dispatcher closes.
func (l *lane) work() {
	defer l.d.wg.Done()
	for {
		j := l.next()
		if j == nil {
			return
		}
		l.attempt(j)
	}
}

// next returns a due retry, else a new message; nil once closed.
func (l *lane) next() *job {
	for {
		l.mu.Lock()
		if len(l.ready) > 0 {
			j := l.ready[0]
			l.ready = l.ready[1:]
			more := len(l.ready) > 0
			l.mu.Unlock()
			if more {
				l.signal() // pass the wake-up on: one signal may stand for several retries
			}
			return j
		}
		l.mu.Unlock()
		select {
		case j := <-l.queue:
			return j
		case <-l.wake:
		case <-l.d.done:
			return nil
		}
	}
}

// attempt waits for the channel's hold and rate limit, sends once, and
// reports or schedules a retry.
func (l *lane) attempt(j *job) {
	if !l.waitTurn() {
		l.requeue(j) // shutting down: hand it back untouched
		return
	}
	j.attempts++
	ctx, cancel := context.WithTimeout(context.Background(), l.policy.Timeout)
	err := l.sender.Send(ctx, j.msg)
	cancel()
	l.count(func(s *Stats) { s.Attempts++ })
	if err == nil {
		l.count(func(s *Stats) { s.Sent++ })
		l.d.report(j, firebreak.DeliverySent, "")
		return
	}
	delay, retry, reason := l.decide(j, err)
	if !retry {
		l.count(func(s *Stats) { s.Failed++ })
		l.d.report(j, firebreak.DeliveryFailed, reason)
		return
	}
	l.count(func(s *Stats) { s.Retried++ })
	l.d.report(j, firebreak.DeliveryQueued, reason)
	time.AfterFunc(delay, func() { l.requeue(j) })
}

// decide classifies a failed attempt: retry after delay, or give up with
// reason. A 429 or a Retry-After also holds the whole channel.
func (l *lane) decide(j *job, err error) (delay time.Duration, retry bool, reason string) {
	reason = clip(err.Error(), 500)
	pe, _ := err.(*firebreak.ProviderError)
	if pe != nil {
		reason = clip(pe.Error(), 500)
	}
	switch firebreak.ProviderOutcome(err) {
	case firebreak.CallRejected:
		return 0, false, reason
	case firebreak.CallUnknown:
		if !l.policy.RetryUnknown {
			return 0, false, "outcome unknown: " + reason
		}
	}
	if j.attempts >= l.policy.MaxAttempts {
		return 0, false, fmt.Sprintf("gave up after %d attempts: %s", j.attempts, reason)
	}
	delay = l.backoff(j.attempts)
	if pe != nil && (pe.RetryAfter > 0 || pe.Status == 429) {
		if pe.RetryAfter > 0 {
			delay = pe.RetryAfter
		}
		l.hold(delay)
	}
	return delay, true, reason
}

// backoff is BaseDelay·2^(attempts-1), capped at MaxDelay, with "equal
// jitter": half fixed, half random, so that retries spread out.
func (l *lane) backoff(attempts int) time.Duration {
	d := l.policy.BaseDelay << min(attempts-1, 30)
	if d <= 0 || d > l.policy.MaxDelay {
		d = l.policy.MaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

// hold stops every send of the channel for d (extending, never
// shortening, a hold in place).
func (l *lane) hold(d time.Duration) {
	until := time.Now().Add(d)
	l.mu.Lock()
	if until.After(l.holdUntil) {
		l.holdUntil = until
	}
	l.mu.Unlock()
}

// waitTurn waits until the channel is not held and the rate limit lets a
// send through; false when the dispatcher closes meanwhile.
func (l *lane) waitTurn() bool {
	ctx := l.d.ctx
	for {
		l.mu.Lock()
		wait := time.Until(l.holdUntil)
		l.mu.Unlock()
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return false
			}
		}
		if l.limiter.Wait(ctx) != nil {
			return false
		}
		// A hold may have begun while this worker waited for the limiter.
		l.mu.Lock()
		held := time.Now().Before(l.holdUntil)
		l.mu.Unlock()
		if !held {
			return true
		}
	}
}

// requeue puts a job on the ready list and wakes a worker.
func (l *lane) requeue(j *job) {
	l.mu.Lock()
	l.ready = append(l.ready, j)
	l.mu.Unlock()
	l.signal()
}

// signal wakes one idle worker, if none is already woken.
func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lane) count(f func(*Stats)) {
	l.mu.Lock()
	f(&l.stats)
	l.mu.Unlock()
}
