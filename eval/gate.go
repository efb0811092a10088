package eval

import (
	"fmt"
	"math"
	"strconv"

	"firebreak"
)

// GateError is returned by Gate when the measured challenge rate is over the
// limit. Legit tells whether Rate is the legitimate challenge rate (labels
// present) or the overall one (no labels, or no legitimate logins).
type GateError struct {
	Rate  Share
	Limit float64
	Legit bool
}

// Error names the measured rate, the evidence behind it and the limit.
func (e *GateError) Error() string {
	if e.Legit {
		return fmt.Sprintf("legitimate challenge rate %s (%s of %s legitimate successful logins challenged or denied) exceeds the limit %s",
			percent(e.Rate.Rate()), group(e.Rate.N), group(e.Rate.Of), limitPercent(e.Limit))
	}
	return fmt.Sprintf("challenge rate %s over all successful logins (%s of %s challenged or denied; no labelled legitimate logins, so the overall rate is used) exceeds the limit %s",
		percent(e.Rate.Rate()), group(e.Rate.N), group(e.Rate.Of), limitPercent(e.Limit))
}

// Gate checks the challenge budget: it returns a *GateError when the
// legitimate challenge rate is strictly above maxChallengeRate. Without
// labelled legitimate logins it checks the overall challenge rate instead
// and the error says so. A run with no successful logins passes. A limit
// outside [0, 1] gives a firebreak EINVALID error.
func (r *Report) Gate(maxChallengeRate float64) error {
	if math.IsNaN(maxChallengeRate) || maxChallengeRate < 0 || maxChallengeRate > 1 {
		return firebreak.Errorf(firebreak.EINVALID, "max challenge rate %v: must be a share in [0, 1]", maxChallengeRate)
	}
	rate, legit := r.ChallengeRate(), false
	if r.legit.flagged.Of > 0 {
		rate, legit = r.legit.flagged, true
	}
	if rate.Rate() > maxChallengeRate {
		return &GateError{Rate: rate, Limit: maxChallengeRate, Legit: legit}
	}
	return nil
}

// percent formats a share as a percentage with three decimals, enough to
// tell 0.104% from a 0.1% budget.
func percent(x float64) string {
	return fmt.Sprintf("%.3f%%", 100*x)
}

// limitPercent formats a configured limit as short as it was written: 1%, 0.5%.
func limitPercent(x float64) string {
	return strconv.FormatFloat(100*x, 'g', 6, 64) + "%"
}
