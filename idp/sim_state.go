package idp

import (
	"cmp"
	"slices"
	"time"

	"firebreak"
)

const numActions = 6

// actionIndex numbers the actions for the effect counters; -1 if unknown.
func actionIndex(a firebreak.ActionKind) int {
	switch a {
	case firebreak.ActionRevokeSessions:
		return 0
	case firebreak.ActionForceReset:
		return 1
	case firebreak.ActionStepUp:
		return 2
	case firebreak.ActionLock:
		return 3
	case firebreak.ActionThrottleSource:
		return 4
	case firebreak.ActionBlockSource:
		return 5
	}
	return -1
}

// effect changes the target's state and counts the effect; sh.mu must be
// held and the request checked.
func (s *Sim) effect(sh *simShard, req firebreak.ActionRequest, ai int, apply bool) error {
	info, _ := req.Action.Info()
	t := s.target(sh, req.Target, info.OnSource)
	now := s.now()
	switch req.Action {
	case firebreak.ActionRevokeSessions:
		t.sessions, t.revokedAt = 0, now
	case firebreak.ActionForceReset:
		if !apply && t.resetUsed && !t.resetRequired {
			return &firebreak.ProviderError{Outcome: firebreak.CallRejected, Status: 409, Reason: "the person already reset the password"}
		}
		t.resetRequired = apply
		if apply {
			t.resetUsed = false // a new reset is pending
		}
	case firebreak.ActionStepUp:
		t.stepUp = apply
	case firebreak.ActionLock:
		t.lockedUntil = until(apply, req.Until)
	case firebreak.ActionThrottleSource:
		t.throttledUntil = until(apply, req.Until)
	case firebreak.ActionBlockSource:
		t.blockedUntil = until(apply, req.Until)
	}
	if apply {
		t.applies[ai]++
		s.stats.applies.Add(1)
	} else {
		t.reverts[ai]++
		s.stats.reverts.Add(1)
	}
	return nil
}

func until(apply bool, t time.Time) time.Time {
	if apply {
		return t
	}
	return time.Time{}
}

// snapshot reads a target's state; timed actions whose time has passed
// have lapsed.
func (s *Sim) snapshot(sh *simShard, id string, source bool) firebreak.TargetState {
	if !source && s.cfg.Known != nil && !s.cfg.Known(id) {
		return firebreak.TargetState{}
	}
	if source && !validSource(id) {
		return firebreak.TargetState{}
	}
	st := firebreak.TargetState{Exists: true}
	now := s.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := lookup(sh, id, source)
	if t == nil {
		return st
	}
	st.SessionsRevokedAt = t.revokedAt
	st.ResetRequired, st.ResetUsed, st.StepUpRequired = t.resetRequired, t.resetUsed, t.stepUp
	if t.lockedUntil.After(now) {
		st.LockedUntil = t.lockedUntil
	}
	st.Throttled = t.throttledUntil.After(now)
	st.Blocked = t.blockedUntil.After(now)
	return st
}

// Snapshot returns a target's state as Observe would, without faults.
func (s *Sim) Snapshot(target string, source bool) firebreak.TargetState {
	return s.snapshot(s.shard(target), target, source)
}

// Sessions returns an account's active sessions.
func (s *Sim) Sessions(account string) int {
	sh := s.shard(account)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if t := lookup(sh, account, false); t != nil {
		return t.sessions
	}
	return s.cfg.Sessions
}

// Login simulates the person (or an attacker) signing in: one more active
// session.
func (s *Sim) Login(account string) {
	sh := s.shard(account)
	sh.mu.Lock()
	s.target(sh, account, false).sessions++
	sh.mu.Unlock()
}

// UseReset simulates the person completing a required password reset. It
// reports false if no reset was pending.
func (s *Sim) UseReset(account string) bool {
	sh := s.shard(account)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := lookup(sh, account, false)
	if t == nil || !t.resetRequired {
		return false
	}
	t.resetRequired, t.resetUsed = false, true
	return true
}

// Effects returns how many times action was applied to target: every
// call that carried the change out, repeats included.
func (s *Sim) Effects(target string, action firebreak.ActionKind) int {
	return s.count(target, action, true)
}

// RevertEffects returns how many times action was reverted on target.
func (s *Sim) RevertEffects(target string, action firebreak.ActionKind) int {
	return s.count(target, action, false)
}

func (s *Sim) count(target string, action firebreak.ActionKind, apply bool) int {
	ai := actionIndex(action)
	info, ok := action.Info()
	if ai < 0 || !ok {
		return 0
	}
	sh := s.shard(target)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := lookup(sh, target, info.OnSource)
	switch {
	case t == nil:
		return 0
	case apply:
		return int(t.applies[ai])
	}
	return int(t.reverts[ai])
}

// TotalEffects returns every effect carried out, applies and reverts.
func (s *Sim) TotalEffects() int64 {
	return s.stats.applies.Load() + s.stats.reverts.Load()
}

// Repeat is an action applied more than once to the same target.
type Repeat struct {
	Target  string
	Action  firebreak.ActionKind
	Applies int
}

// Repeats lists every (target, action) applied more than once, by target
// then action. An executor that never applies twice leaves it empty.
func (s *Sim) Repeats() []Repeat {
	var out []Repeat
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, m := range []map[string]*simTarget{sh.accounts, sh.sources} {
			for id, t := range m {
				for _, a := range firebreak.ActionKinds {
					if ai := actionIndex(a); ai >= 0 && t.applies[ai] > 1 {
						n := t.applies[ai]
						out = append(out, Repeat{Target: id, Action: a, Applies: int(n)})
					}
				}
			}
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Repeat) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Action, b.Action))
	})
	return out
}

// SimStats counts a simulated provider's calls and faults.
type SimStats struct {
	Targets      int   `json:"targets"`       // accounts and sources with state
	Applies      int64 `json:"applies"`       // apply effects carried out
	Reverts      int64 `json:"reverts"`       // revert effects carried out
	Repeats      int   `json:"repeats"`       // (target, action) pairs applied more than once
	Observes     int64 `json:"observes"`      // Observe calls
	Rejected     int64 `json:"rejected"`      // calls refused for good
	Errors5xx    int64 `json:"errors_5xx"`    // calls failed with a simulated 5xx
	Throttled429 int64 `json:"throttled_429"` // calls answered 429 in a burst
	Resets       int64 `json:"resets"`        // effects whose answer was lost
	Rate         Rate  `json:"rate"`          // of Apply and Revert calls
}

// Stats returns the counters and the call rate so far.
func (s *Sim) Stats() SimStats {
	st := SimStats{
		Applies:      s.stats.applies.Load(),
		Reverts:      s.stats.reverts.Load(),
		Repeats:      len(s.Repeats()),
		Observes:     s.stats.observes.Load(),
		Rejected:     s.stats.rejected.Load(),
		Errors5xx:    s.stats.errors5xx.Load(),
		Throttled429: s.stats.throttled429.Load(),
		Resets:       s.stats.resets.Load(),
		Rate:         s.Rate(),
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		st.Targets += len(sh.accounts) + len(sh.sources)
		sh.mu.Unlock()
	}
	return st
}
