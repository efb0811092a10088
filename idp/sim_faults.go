package idp

import (
	"context"
	"math/rand/v2"
	"time"

	"firebreak"
)

// Faults are the failures a simulated provider injects. The zero value
// injects none.
type Faults struct {
	// ErrorRate is the share of calls answered with a 5xx before anything
	// is done (CallNotApplied).
	ErrorRate float64 `yaml:"error_rate" json:"error_rate"`
	// BurstEvery and BurstFor make the provider answer 429 with a
	// Retry-After for BurstFor at the start of every BurstEvery period
	// (CallNotApplied with RetryAfter). Both zero: no bursts.
	BurstEvery time.Duration `yaml:"burst_every" json:"burst_every"`
	BurstFor   time.Duration `yaml:"burst_for" json:"burst_for"`
	// Latency delays every call; Jitter adds a uniform random extra delay
	// up to its value.
	Latency time.Duration `yaml:"latency" json:"latency"`
	Jitter  time.Duration `yaml:"jitter" json:"jitter"`
	// ResetRate is the share of successful Apply and Revert calls whose
	// answer is lost: the effect IS carried out and counted, then the call
	// fails with CallUnknown (over HTTP the connection is reset).
	ResetRate float64 `yaml:"reset_rate" json:"reset_rate"`
	// Seed seeds the random draws, for repeatable runs.
	Seed uint64 `yaml:"seed" json:"seed"`
}

// Validate checks the shares and durations.
func (f Faults) Validate() error {
	switch {
	case !(f.ErrorRate >= 0 && f.ErrorRate <= 1):
		return &firebreak.FieldError{Field: "error_rate", Reason: "must be a share from 0 to 1"}
	case !(f.ResetRate >= 0 && f.ResetRate <= 1):
		return &firebreak.FieldError{Field: "reset_rate", Reason: "must be a share from 0 to 1"}
	case f.BurstEvery < 0 || f.BurstFor < 0 || f.BurstFor > f.BurstEvery:
		return &firebreak.FieldError{Field: "burst_for", Reason: "must be from 0 to burst_every"}
	case f.BurstFor > 0 && f.BurstEvery == 0:
		return &firebreak.FieldError{Field: "burst_every", Reason: "required with burst_for"}
	case f.Latency < 0 || f.Jitter < 0:
		return &firebreak.FieldError{Field: "latency", Reason: "latency and jitter must not be negative"}
	}
	return nil
}

// SetFaults changes the injected faults and reseeds the random draws. It
// is safe to call while calls are in flight.
func (s *Sim) SetFaults(f Faults) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.rng = rand.New(rand.NewPCG(f.Seed, uint64(i)))
		sh.mu.Unlock()
	}
	s.faults.Store(&f)
}

// Faults returns the faults in force.
func (s *Sim) Faults() Faults { return *s.faults.Load() }

// before waits out the latency and injects 429 bursts and 5xx errors; a
// nil result means the call goes ahead.
func (s *Sim) before(ctx context.Context, sh *simShard) error {
	f := s.faults.Load()
	if f.ErrorRate == 0 && f.Latency == 0 && f.Jitter == 0 && f.BurstFor == 0 {
		return nil
	}
	delay := f.Latency
	fail := false
	if f.Jitter > 0 || f.ErrorRate > 0 {
		sh.mu.Lock()
		if f.Jitter > 0 {
			delay += time.Duration(sh.rng.Int64N(int64(f.Jitter) + 1))
		}
		fail = f.ErrorRate > 0 && sh.rng.Float64() < f.ErrorRate
		sh.mu.Unlock()
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Reason: "canceled before the call was made"}
		case <-t.C:
		}
	}
	if left := s.burstLeft(f); left > 0 {
		s.stats.throttled429.Add(1)
		return &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Status: 429, RetryAfter: left, Reason: "rate limited (simulated burst)"}
	}
	if fail {
		s.stats.errors5xx.Add(1)
		return &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Status: 500, Reason: "server error (simulated)"}
	}
	return nil
}

// burstLeft returns how long the current 429 burst lasts; 0 outside one.
func (s *Sim) burstLeft(f *Faults) time.Duration {
	if f.BurstFor <= 0 || f.BurstEvery <= 0 {
		return 0
	}
	in := s.now().Sub(s.start) % f.BurstEvery
	if in < f.BurstFor {
		return f.BurstFor - in
	}
	return 0
}
