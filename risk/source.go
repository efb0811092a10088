package risk

import (
	"math"
	"net/netip"
	"time"
)

// Reputation is the hook through which campaign detection (or any outside
// knowledge about sources) adds evidence to a login's score. LogLR is the
// natural log of the likelihood ratio attack:legitimate for a login from ip;
// reason is a short plain sentence, or "" when logLR is 0. Implementations
// must be fast and must not block: they are called once per scored login.
type Reputation interface {
	SourceEvidence(ip netip.Addr, t time.Time) (logLR float64, reason string)
}

// sourceStats is the built-in reputation: recent attempts and failures per
// source IP and per /24 (/48), in direct-mapped tables with time decay. It
// asks one question with a Bayes factor: is this source failing more than
// sources normally do? A source whose failures are one account's typos does
// not count against that account.
type sourceStats struct {
	ip, prefix []sourceEntry
	// global failure rate across all sources, decayed.
	fails, attempts float64
}

type sourceEntry struct {
	tag      uint32
	min      uint32 // minute of the last update
	fails    uint16 // failures on accounts other than the last failing one
	attempts uint16
	lastAcct uint32 // hash of the last account that failed here
}

const (
	sourceBits = 18
	sourceMask = 1<<sourceBits - 1
	// sourceHalfLife is how fast a source's record fades.
	sourceHalfLife = 6 * 60 // minutes
	// sourceConcentration is the strength of the legitimate-source prior:
	// legitimate sources fail at the population rate f, spread as
	// Beta(f·κ, (1−f)·κ). A small κ is the cautious choice: shared egress
	// (carrier NAT, offices) varies a lot.
	sourceConcentration = 4.0
)

func newSourceStats() sourceStats {
	return sourceStats{ip: make([]sourceEntry, 1<<sourceBits), prefix: make([]sourceEntry, 1<<sourceBits), fails: 1, attempts: 20}
}

func (s *sourceStats) entry(table []sourceEntry, key uint64, now uint32) *sourceEntry {
	e := &table[key&sourceMask]
	tag := uint32(key >> 32)
	if e.tag != tag {
		*e = sourceEntry{tag: tag, min: now}
		return e
	}
	if age := now - e.min; age >= sourceHalfLife && now > e.min {
		shift := min(age/sourceHalfLife, 16)
		e.fails >>= shift
		e.attempts >>= shift
		e.min = now
	}
	return e
}

// observe records one attempt from the source.
func (s *sourceStats) observe(f *features, acct uint32, failed bool, now uint32) {
	for _, x := range [2]struct {
		t []sourceEntry
		k uint64
	}{{s.ip, f.key[lvIP]}, {s.prefix, f.key[lvPrefix]}} {
		e := s.entry(x.t, x.k, now)
		if e.attempts < math.MaxUint16 {
			e.attempts++
		}
		if failed && e.lastAcct != acct && e.fails < math.MaxUint16 {
			e.fails++
		}
		if failed {
			e.lastAcct = acct
		}
	}
	s.attempts = s.attempts*0.999999 + 1
	if failed {
		s.fails = s.fails*0.999999 + 1
	} else {
		s.fails *= 0.999999
	}
}

// evidence returns the larger of the IP's and the prefix's log Bayes factor,
// with the counts behind it.
func (s *sourceStats) evidence(f *features, acct uint32, now uint32) (best float64, fails, attempts int, prefix bool) {
	rate := s.fails / s.attempts
	for i, x := range [2]struct {
		t []sourceEntry
		k uint64
	}{{s.ip, f.key[lvIP]}, {s.prefix, f.key[lvPrefix]}} {
		e := &x.t[x.k&sourceMask]
		if e.tag != uint32(x.k>>32) || e.fails == 0 {
			continue
		}
		age := uint32(0)
		if now > e.min {
			age = (now - e.min) / sourceHalfLife
		}
		fl, at := int(e.fails)>>min(age, 16), int(e.attempts)>>min(age, 16)
		if e.lastAcct == acct {
			fl-- // the account's own failures are its typos, not the source's
		}
		if lbf := logBayesFactor(fl, at-fl, rate); lbf > best {
			best, fails, attempts, prefix = lbf, fl, at, i == 1
		}
	}
	return best, fails, attempts, prefix
}

// logBayesFactor compares "this source fails at some unknown rate"
// (uniform prior) with "this source is like the others" (Beta around the
// population rate), for F failures and S successes. Only evidence against the
// source counts: a source failing less than usual says nothing in its favour.
func logBayesFactor(fails, succ int, rate float64) float64 {
	if fails <= 0 || succ < 0 || float64(fails)/float64(fails+succ) <= rate {
		return 0
	}
	a, b := rate*sourceConcentration, (1-rate)*sourceConcentration
	F, S := float64(fails), float64(succ)
	attack := lbeta(F+1, S+1)
	legit := lbeta(F+a, S+b) - lbeta(a, b)
	return math.Max(0, attack-legit)
}

func lbeta(a, b float64) float64 {
	x, _ := math.Lgamma(a)
	y, _ := math.Lgamma(b)
	z, _ := math.Lgamma(a + b)
	return x + y - z
}
