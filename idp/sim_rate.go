package idp

import (
	"slices"
	"sync/atomic"
	"time"
)

// rateSpan is how many seconds of call times a Sim keeps.
const rateSpan = 3600

// rateRecorder counts calls per millisecond, in one-second chunks kept in
// a ring of rateSpan seconds: recording is one atomic add, and the busiest
// sliding second can be found afterwards.
type rateRecorder struct {
	start time.Time
	secs  [rateSpan]atomic.Pointer[rateSecond]
}

type rateSecond struct {
	sec int64 // seconds since start
	ms  [1000]atomic.Int32
}

func (r *rateRecorder) record(now time.Time) {
	ms := max(now.Sub(r.start).Milliseconds(), 0)
	sec := ms / 1000
	slot := &r.secs[sec%rateSpan]
	b := slot.Load()
	for b == nil || b.sec != sec {
		if b != nil && b.sec > sec {
			return // a call that straggled in more than an hour late
		}
		nb := &rateSecond{sec: sec}
		if slot.CompareAndSwap(b, nb) {
			b = nb
			break
		}
		b = slot.Load()
	}
	b.ms[ms%1000].Add(1)
}

// Rate describes the Apply and Revert calls a Sim received, measured in
// one-millisecond buckets over the last hour.
type Rate struct {
	Calls int64 `json:"calls"`
	// Span runs from the first call's millisecond to the last's, inclusive.
	Span time.Duration `json:"span_ns"`
	// MaxPerSecond is the most calls in any sliding one-second window.
	MaxPerSecond int64 `json:"max_per_second"`
	// Mean is Calls over Span, per second.
	Mean float64 `json:"mean_per_second"`
}

// Rate returns the call rate so far. Use it to check that an executor kept
// to a plan's rate limit: MaxPerSecond must not exceed it.
func (s *Sim) Rate() Rate {
	var chunks []*rateSecond
	for i := range s.rate.secs {
		if b := s.rate.secs[i].Load(); b != nil {
			chunks = append(chunks, b)
		}
	}
	slices.SortFunc(chunks, func(a, b *rateSecond) int { return int(a.sec - b.sec) })
	return measure(chunks)
}

// measure slides a one-second window over the buckets; seconds missing
// between chunks count as empty.
func measure(chunks []*rateSecond) Rate {
	var r Rate
	var window [1000]int64 // the last 1000 buckets, by ms%1000
	var sum int64
	first, last := int64(-1), int64(-1)
	prev := int64(-2)
	for _, b := range chunks {
		if b.sec != prev+1 {
			window, sum = [1000]int64{}, 0 // a gap of at least a second empties the window
		}
		prev = b.sec
		for i := range b.ms {
			n := int64(b.ms[i].Load())
			sum += n - window[i]
			window[i] = n
			r.MaxPerSecond = max(r.MaxPerSecond, sum)
			if n > 0 {
				ms := b.sec*1000 + int64(i)
				if first < 0 {
					first = ms
				}
				last = ms
				r.Calls += n
			}
		}
	}
	if r.Calls > 0 {
		r.Span = time.Duration(last-first+1) * time.Millisecond
		r.Mean = float64(r.Calls) / r.Span.Seconds()
	}
	return r
}
