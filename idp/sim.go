package idp

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"firebreak"
)

// SimConfig configures a simulated identity provider.
type SimConfig struct {
	// Known reports whether an account exists; nil means every account
	// does. Actions on an unknown account are CallRejected "unknown account".
	Known func(account string) bool
	// Sessions is how many active sessions an account has when first
	// touched; 0 means 1.
	Sessions int
	// Faults are injected into calls from the start; see SetFaults.
	Faults Faults
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// simShards spreads targets over independently locked maps so that
// concurrent callers rarely wait on each other.
const simShards = 64

// Sim is an in-process simulated identity provider. It keeps the state of
// every target it has acted on and counts every effect it carries out, per
// target, action and direction, repeats included: tests use the counts to
// prove that an executor never applies the same action twice. It is safe
// for concurrent use.
type Sim struct {
	cfg    SimConfig
	now    func() time.Time
	shards [simShards]simShard
	faults atomic.Pointer[Faults]
	start  time.Time // origin of 429 bursts
	rate   rateRecorder
	stats  simCounters
}

type simShard struct {
	mu       sync.Mutex
	accounts map[string]*simTarget
	sources  map[string]*simTarget
	rng      *rand.Rand
	_        [64]byte // keep neighbouring shards' locks on separate cache lines
}

// simTarget is one account's or source's state at the provider.
type simTarget struct {
	sessions       int
	revokedAt      time.Time
	resetRequired  bool
	resetUsed      bool
	stepUp         bool
	lockedUntil    time.Time
	throttledUntil time.Time
	blockedUntil   time.Time
	applies        [numActions]int32
	reverts        [numActions]int32
}

type simCounters struct {
	applies, reverts, observes, rejected, errors5xx, throttled429, resets atomic.Int64
}

// NewSim returns an empty simulated provider.
func NewSim(cfg SimConfig) *Sim {
	s := &Sim{cfg: cfg, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.cfg.Sessions <= 0 {
		s.cfg.Sessions = 1
	}
	s.start = s.now()
	s.rate.start = s.start
	for i := range s.shards {
		s.shards[i].accounts = make(map[string]*simTarget)
		s.shards[i].sources = make(map[string]*simTarget)
	}
	s.SetFaults(cfg.Faults)
	return s
}

// Name implements firebreak.Connector.
func (s *Sim) Name() string { return "sim" }

// Apply implements firebreak.Connector.
func (s *Sim) Apply(ctx context.Context, req firebreak.ActionRequest) error {
	return s.call(ctx, req, true)
}

// Revert implements firebreak.Connector.
func (s *Sim) Revert(ctx context.Context, req firebreak.ActionRequest) error {
	return s.call(ctx, req, false)
}

// Observe implements firebreak.Connector. It suffers the same latency, 429
// bursts and 5xx as Apply, but never a lost answer.
func (s *Sim) Observe(ctx context.Context, target string, source bool) (firebreak.TargetState, error) {
	s.stats.observes.Add(1)
	sh := s.shard(target)
	if err := s.before(ctx, sh); err != nil {
		return firebreak.TargetState{}, err
	}
	return s.snapshot(sh, target, source), nil
}

// call carries out one Apply or Revert: faults first, then the effect.
func (s *Sim) call(ctx context.Context, req firebreak.ActionRequest, apply bool) error {
	s.rate.record(s.now())
	ai := actionIndex(req.Action)
	if err := s.check(req, ai, apply); err != nil {
		s.stats.rejected.Add(1)
		return err
	}
	sh := s.shard(req.Target)
	if err := s.before(ctx, sh); err != nil {
		return err
	}
	f := s.faults.Load()
	sh.mu.Lock()
	err := s.effect(sh, req, ai, apply)
	lost := err == nil && f.ResetRate > 0 && sh.rng.Float64() < f.ResetRate
	sh.mu.Unlock()
	switch {
	case err != nil:
		s.stats.rejected.Add(1)
		return err
	case lost:
		s.stats.resets.Add(1)
		return &firebreak.ProviderError{Outcome: firebreak.CallUnknown, Reason: "connection reset after the effect (simulated)"}
	}
	return nil
}

// check refuses requests that can never succeed, before any fault.
func (s *Sim) check(req firebreak.ActionRequest, ai int, apply bool) error {
	info, ok := req.Action.Info()
	switch {
	case ai < 0 || !ok:
		return rejected("unknown action " + string(req.Action))
	case req.Target == "":
		return rejected("empty target")
	case info.OnSource && !validSource(req.Target):
		return rejected("source " + req.Target + " is not an IP address or prefix")
	case !info.OnSource && s.cfg.Known != nil && !s.cfg.Known(req.Target):
		return &firebreak.ProviderError{Outcome: firebreak.CallRejected, Status: 404, Reason: "unknown account"}
	case !apply && !info.Reversible:
		return rejected(string(req.Action) + " cannot be undone")
	case apply && info.Timed && req.Until.IsZero():
		return rejected(string(req.Action) + " needs an until time")
	case apply && info.Timed && !req.Until.After(s.now()):
		return rejected(string(req.Action) + ": until is in the past")
	}
	return nil
}

func validSource(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

func rejected(reason string) error {
	return &firebreak.ProviderError{Outcome: firebreak.CallRejected, Status: 422, Reason: reason}
}

func (s *Sim) shard(target string) *simShard {
	// FNV-1a, not a seeded hash: the same target lands on the same shard
	// (and its random draws) in every run, so seeded faults repeat.
	h := uint32(2166136261)
	for i := 0; i < len(target); i++ {
		h = (h ^ uint32(target[i])) * 16777619
	}
	return &s.shards[h%simShards]
}

// target returns the state of a target, creating it; sh.mu must be held.
func (s *Sim) target(sh *simShard, id string, source bool) *simTarget {
	m := sh.accounts
	if source {
		m = sh.sources
	}
	t := m[id]
	if t == nil {
		t = &simTarget{}
		if !source {
			t.sessions = s.cfg.Sessions
		}
		m[id] = t
	}
	return t
}

// lookup returns the state of a target without creating it; sh.mu must be held.
func lookup(sh *simShard, id string, source bool) *simTarget {
	if source {
		return sh.sources[id]
	}
	return sh.accounts[id]
}
