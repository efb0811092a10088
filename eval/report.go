package eval

import (
	"encoding/json"
	"hash/maphash"
	"time"

	"firebreak"
)

// DefaultFPRTargets are the false-positive rates at which a report gives the
// true-positive rate when Report.FPRTargets is empty: 0.1%, 1% and 5%.
func DefaultFPRTargets() []float64 { return []float64{0.001, 0.01, 0.05} }

// Report accumulates the evaluation of a stream of scored logins. Call Add
// once per event in stream order, set Elapsed, then read Summary, WriteText
// or Gate. The zero value is ready to use. A Report is not safe for
// concurrent use; Summary sorts internal buffers and so counts as a write.
//
// Memory: one 8-byte score per labelled successful login, about 20 bytes per
// distinct account, and a few counters per cohort: about 85 MB for 10M
// events (8M labelled successes) over 1M accounts.
type Report struct {
	// Name labels the report in text output, e.g. "model" or "naive rule".
	Name string
	// Elapsed is the wall-clock time the run took; it gives events/s.
	Elapsed time.Duration
	// FPRTargets overrides DefaultFPRTargets; targets outside [0, 1) are
	// skipped.
	FPRTargets []float64

	events   int64
	changes  int64     // account changes, not scored
	all      Decisions // every login event
	success  Decisions // successful logins
	seed     maphash.Seed
	accounts map[uint64]struct{} // 64-bit hashes of account names

	labelled      bool
	unlabelled    int64 // successful logins without a label
	invalidScores int64 // labelled successful logins with NaN or ±Inf scores
	ato           class // label.ato
	legit         class // neither label.attack nor label.ato
	other         class // label.attack without label.ato
	sorted        bool
	cohorts       cohorts
}

// class holds the labelled successful logins of one kind: their finite
// scores and how many of them (finite score or not) were flagged.
type class struct {
	scores  []float64
	flagged Share
}

// Add records one event and the assessment it received.
func (r *Report) Add(e *firebreak.Event, a firebreak.Assessment) {
	if r.accounts == nil {
		r.seed = maphash.MakeSeed()
		r.accounts = make(map[uint64]struct{})
	}
	r.events++
	r.accounts[maphash.String(r.seed, e.Account)] = struct{}{}
	if !e.IsLogin() {
		// An account change is neither scored nor a login.
		r.changes++
		return
	}
	count(&r.all, a.Decision)
	// A passed second factor (method mfa) answers a challenge to a login
	// already counted at its password step; it is not another login.
	success := e.Outcome == firebreak.OutcomeSuccess && e.Method != "mfa"
	if success {
		count(&r.success, a.Decision)
	}
	if e.Label == nil {
		if success {
			r.unlabelled++
		}
		return
	}
	r.labelled = true
	r.cohorts.add(e.Label, success, flagged(a.Decision))
	if success {
		r.addScore(e.Label, a)
	}
}

// addScore files a labelled successful login under its class.
func (r *Report) addScore(l *firebreak.Label, a firebreak.Assessment) {
	c := &r.legit
	switch {
	case l.ATO:
		c = &r.ato
	case l.Attack:
		c = &r.other
	}
	c.flagged.Of++
	if flagged(a.Decision) {
		c.flagged.N++
	}
	if !finite(a.Score) {
		// Counted in the decision shares, left out of AUC and TPR.
		r.invalidScores++
		return
	}
	c.scores = append(c.scores, a.Score)
	r.sorted = false
}

// count adds d to ds. Unknown values count as allow, as Decision.String does.
func count(ds *Decisions, d firebreak.Decision) {
	switch d {
	case firebreak.Challenge:
		ds.Challenge++
	case firebreak.Deny:
		ds.Deny++
	default:
		ds.Allow++
	}
}

// flagged reports whether a decision puts friction on the login.
func flagged(d firebreak.Decision) bool {
	return d == firebreak.Challenge || d == firebreak.Deny
}

// Labelled reports whether at least one event carried a label.
func (r *Report) Labelled() bool { return r.labelled }

// ChallengeRate returns the successful logins challenged or denied.
func (r *Report) ChallengeRate() Share {
	return Share{N: r.success.Flagged(), Of: r.success.Total()}
}

// LegitChallengeRate returns the successful logins labelled neither attack
// nor ATO that were challenged or denied.
func (r *Report) LegitChallengeRate() Share { return r.legit.flagged }

// MarshalJSON writes the report's Summary.
func (r *Report) MarshalJSON() ([]byte, error) { return json.Marshal(r.Summary()) }
