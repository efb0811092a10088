// Package risk scores each login against the account's own history and the
// population's, in the manner of Freeman et al., "Who Are You? A Statistical
// Approach to Measuring User Authenticity" (NDSS 2016): a likelihood ratio
// p(features | attacker) / p(features | this account) over hierarchical
// features, with the attacker modelled by the population. It is pure: no I/O,
// no clocks, no goroutines. A Model is not safe for concurrent use; the engine
// owns one per partition.
package risk

import (
	"math"
	"time"

	"firebreak"
)

// Config configures a Model.
type Config struct {
	Policy firebreak.Policy
	// Reputation, if set, adds outside evidence about sources (campaigns).
	Reputation Reputation
	// Capacity pre-sizes the account index.
	Capacity int
}

// Model holds every account's profile, the population statistics, source
// reputation and the budgeted thresholds.
type Model struct {
	policy   firebreak.Policy
	rep      Reputation
	prior    float64 // log prior odds of attack
	index    accountIndex
	profiles []profile
	arena    []byte
	pop      population
	src      sourceStats
	budget   budget
	feat     features
	sink     uint32 // keeps prefetch loads alive
}

const (
	// maxFeatureLogLR bounds any one feature's say (±ln 10³): the features
	// are not truly independent, and no single one should be decisive.
	maxFeatureLogLR = 6.91
	// priorStrength is how many logins' worth of weight the population's
	// novelty rate carries for an account with little history of its own.
	priorStrength = 4.0
	// failHalfLife is how fast recent failures on an account fade.
	failHalfLife = 60.0 // minutes
	// impossibleKmh is faster than any airliner door to door.
	impossibleKmh = 1000.0
	minTravelKm   = 500.0
)

// New returns an empty model. The policy must be valid.
func New(cfg Config) *Model {
	m := &Model{
		policy:   cfg.Policy,
		rep:      cfg.Reputation,
		prior:    math.Log(cfg.Policy.Prior / (1 - cfg.Policy.Prior)),
		index:    newAccountIndex(cfg.Capacity),
		profiles: make([]profile, 0, cfg.Capacity),
		pop:      newPopulation(),
		src:      newSourceStats(),
	}
	m.budget.window = float64(cfg.Policy.Window)
	m.budget.challenge, m.budget.deny = math.Inf(1), math.Inf(1)
	m.budget.challengeBin, m.budget.denyBin = budgetBins, budgetBins
	return m
}

// Result is the verdict on one login. Evidence holds the strongest reasons,
// most important first; Model.Reasons turns them into sentences.
type Result struct {
	LogLR    float64
	Score    float64
	Decision firebreak.Decision
	Evidence [maxEvidence]Evidence
	N        int // number of Evidence entries used
	// Learned reports whether the login was added to the account's profile.
	Learned bool
}

// Accounts returns the number of profiles held.
func (m *Model) Accounts() int { return len(m.profiles) }

// Policy returns the policy in force.
func (m *Model) Policy() firebreak.Policy { return m.policy }

// Assess scores e against everything seen before it, decides, and then
// learns from it. It allocates nothing for accounts it already knows. An
// account change is not a login: it gets a zero result and teaches nothing.
func (m *Model) Assess(e *firebreak.Event, r *Result) {
	*r = Result{}
	if !e.IsLogin() {
		return // an account change is neither scored nor learned (decision 0007)
	}
	now := minutes(e.Time)
	// Start the account index's cache miss first, then hash the features
	// while it is in flight.
	acct := hashString(0, e.Account)
	m.sink = m.index.touch(acct)
	f := &m.feat
	extract(e, f)
	m.prefetch(f)
	p := m.lookup(acct, e.Account)

	corroborated := false
	if p != nil {
		f.locate(p)
		// A passed second factor (a success of method mfa, the platform's
		// step-up) vouches for a new device on a network the account
		// uses, as a known device would. It does not make a foreign
		// network familiar: an attacker may hold the factor too.
		if e.Method == "mfa" && e.Outcome == firebreak.OutcomeSuccess && f.idx[lvASN] >= 0 {
			corroborated = true
		}
		for h := range hierarchies {
			ev := m.hierarchyEvidence(p, f, h)
			// A known device vouches for an otherwise new login. (A known
			// agent does not: popular agents are easy to match.)
			if h == hDevice && e.DeviceID != "" && f.idx[lvDevice] >= 0 {
				corroborated = true
			}
			r.add(ev)
		}
		r.add(m.failureEvidence(p, now))
		r.add(m.travelEvidence(p, e, now))
	}
	r.add(m.sourceEvidence(f, uint32(acct), now))
	if m.rep != nil {
		if lr, why := m.rep.SourceEvidence(e.IP, e.Time); lr != 0 {
			r.add(Evidence{Kind: KindReputation, LogLR: clamp(lr), text: why})
		}
	}
	r.Score = sigmoid(r.LogLR + m.prior)
	r.Decision = m.decide(r.LogLR)

	if e.Outcome == firebreak.OutcomeSuccess {
		m.budget.observe(r.LogLR)
		if m.budget.sinceRefresh >= refreshEvery {
			m.budget.refresh(m.policy.ChallengeBudget, m.policy.DenyBudget)
		}
		// A login teaches the profile when it was allowed, or challenged
		// (and, being reported a success, passed the challenge) from a
		// device id the account already uses. A denied login, or a
		// challenged one from an unknown device, never does: an
		// attacker's network must not become "familiar".
		if r.Decision == firebreak.Allow || (r.Decision == firebreak.Challenge && corroborated) {
			if p == nil {
				p = m.insert(acct, e.Account)
				f.locate(p)
			}
			m.learn(p, f, e, now)
			r.Learned = true
		}
	} else if p != nil && !m.familiar(p, f, e) {
		// Only failures from places and devices the account does not use
		// count: a person mistyping at home is not an attack on them.
		p.failMass = uint16(math.Min(65535, (recentFailures(p, now)+1)*16))
		p.failMin = now
	}
	m.src.observe(f, uint32(acct), e.Outcome == firebreak.OutcomeFailure, now)
}

func (m *Model) decide(logLR float64) firebreak.Decision {
	t := m.Thresholds()
	switch {
	case t.Source == "warmup":
		return firebreak.Allow
	case t.Source == "fixed":
		s := sigmoid(logLR + m.prior)
		if s >= t.Deny {
			return firebreak.Deny
		} else if s >= t.Challenge {
			return firebreak.Challenge
		}
		return firebreak.Allow
	case over(logLR, m.budget.denyBin):
		return firebreak.Deny
	case over(logLR, m.budget.challengeBin):
		return firebreak.Challenge
	}
	return firebreak.Allow
}

// Thresholds reports the thresholds in force, as scores in [0,1].
func (m *Model) Thresholds() firebreak.Thresholds {
	if f := m.policy.Fixed; f != nil {
		return firebreak.Thresholds{Challenge: f.Challenge, Deny: f.Deny, Source: "fixed", Observed: m.budget.observed}
	}
	if m.budget.observed < int64(m.policy.WarmUp) || math.IsInf(m.budget.challenge, 1) {
		return firebreak.Thresholds{Challenge: 1, Deny: 1, Source: "warmup", Observed: m.budget.observed}
	}
	return firebreak.Thresholds{
		Challenge: sigmoid(m.budget.challenge + m.prior),
		Deny:      sigmoid(m.budget.deny + m.prior),
		Source:    "budget",
		Observed:  m.budget.observed,
	}
}

// familiar reports whether a login comes from a network range or a device
// the account has used before.
func (m *Model) familiar(p *profile, f *features, e *firebreak.Event) bool {
	if f.idx[lvPrefix] >= 0 && f.idx[lvASN] >= 0 {
		return true
	}
	return e.DeviceID != "" && f.idx[lvDevice] >= 0
}

// lookup finds the account's profile, or nil.
func (m *Model) lookup(h uint64, account string) *profile {
	i, ok := m.index.find(h, checkHash(account), m.profiles)
	if !ok {
		return nil
	}
	return &m.profiles[i]
}

func checkHash(account string) uint32 { return uint32(hashString(hashSeed, account)) }

func (m *Model) insert(h uint64, account string) *profile {
	if m.index.full() {
		m.reindex(2 * len(m.index.slots))
	}
	m.index.put(h, uint32(len(m.profiles)))
	m.profiles = append(m.profiles, profile{acctOff: uint32(len(m.arena)), acctLen: uint16(len(account)), check: checkHash(account)})
	m.arena = append(m.arena, account...)
	return &m.profiles[len(m.profiles)-1]
}

// reindex rebuilds the account index with the given number of slots from
// the account ids in the arena.
func (m *Model) reindex(size int) {
	m.index = accountIndex{slots: make([]indexSlot, max(1024, size))}
	for i := range m.profiles {
		p := &m.profiles[i]
		m.index.put(hashString(0, string(m.arena[p.acctOff:p.acctOff+uint32(p.acctLen)])), uint32(i))
	}
}

// prefetch reads one word of every table line this event will need. The
// loads do not depend on each other, so the processor overlaps the cache
// misses instead of paying for them one after another.
func (m *Model) prefetch(f *features) {
	var sum uint32
	for l := lvASN; l < numLevels; l++ {
		sum += m.pop.touch(f.key[l])
	}
	sum += m.src.ip[f.key[lvIP]&sourceMask].min + m.src.prefix[f.key[lvPrefix]&sourceMask].min
	m.sink += sum
}

func minutes(t time.Time) uint32 {
	s := t.Unix()
	if s < 0 {
		return 1
	}
	return uint32(s/60) + 1
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func clamp(x float64) float64 {
	return math.Max(-maxFeatureLogLR, math.Min(maxFeatureLogLR, x))
}
