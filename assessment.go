package firebreak

// Decision is what the platform should do with a login.
type Decision uint8

// Decisions, in increasing order of friction.
const (
	Allow Decision = iota
	Challenge
	Deny
)

// String returns the wire name of the decision.
func (d Decision) String() string {
	switch d {
	case Challenge:
		return "challenge"
	case Deny:
		return "deny"
	}
	return "allow"
}

// Thresholds are the score cut-offs in force and where they came from.
type Thresholds struct {
	Challenge float64 `json:"challenge"`
	Deny      float64 `json:"deny"`
	// Source is "budget" (derived from the score distribution), "fixed"
	// (set in the policy) or "warmup" (not enough scores seen yet: allow all).
	Source string `json:"source"`
	// Observed is how many scores the budget sketch has seen.
	Observed int64 `json:"observed"`
}

// Assessment is the risk engine's verdict on one login, with its reasons.
type Assessment struct {
	Score    float64  `json:"score"`
	Decision Decision `json:"-"`
	Reasons  []string `json:"reasons"`
}
