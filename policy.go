package firebreak

import (
	"fmt"
	"math"
)

// Policy says how much friction the risk engine may add. Thresholds are
// budgets: the policy names the share of successful logins that may be
// challenged or denied, and the engine derives the score thresholds from the
// observed score distribution. Fixed thresholds are possible, never the default.
type Policy struct {
	// ChallengeBudget is the share of successful logins that may be challenged
	// or denied (0.01 = 1%).
	ChallengeBudget float64 `yaml:"challenge_budget" json:"challenge_budget"`
	// DenyBudget is the share of successful logins that may be denied
	// outright. It must not exceed ChallengeBudget.
	DenyBudget float64 `yaml:"deny_budget" json:"deny_budget"`
	// WarmUp is how many successful logins the engine must have scored before
	// budgets apply. Until then every login is allowed (learning mode).
	WarmUp int `yaml:"warm_up" json:"warm_up"`
	// Window is roughly how many recent successful logins the threshold
	// sketch remembers; older ones fade out so thresholds follow the traffic.
	Window int `yaml:"window" json:"window"`
	// Prior is the assumed probability that a login is an attack before any
	// evidence is seen. It shapes the score in [0,1], not the ranking.
	Prior float64 `yaml:"prior" json:"prior"`
	// Fixed, when set, replaces the budgets with fixed score thresholds.
	Fixed *FixedThresholds `yaml:"fixed_thresholds,omitempty" json:"fixed_thresholds,omitempty"`
}

// FixedThresholds are score cut-offs in [0,1] used instead of budgets.
type FixedThresholds struct {
	Challenge float64 `yaml:"challenge" json:"challenge"`
	Deny      float64 `yaml:"deny" json:"deny"`
}

// DefaultPolicy returns the policy used when none is given.
func DefaultPolicy() Policy {
	return Policy{ChallengeBudget: 0.01, DenyBudget: 0.0001, WarmUp: 5000, Window: 200000, Prior: 0.001}
}

// Validate returns a *FieldError naming the first invalid field.
func (p *Policy) Validate() error {
	if err := checkShare("challenge_budget", p.ChallengeBudget); err != nil {
		return err
	}
	if err := checkShare("deny_budget", p.DenyBudget); err != nil {
		return err
	}
	if p.DenyBudget > p.ChallengeBudget {
		return &FieldError{Field: "deny_budget", Reason: fmt.Sprintf("%g exceeds challenge_budget %g", p.DenyBudget, p.ChallengeBudget)}
	}
	if p.WarmUp < 0 || p.WarmUp > 100_000_000 {
		return &FieldError{Field: "warm_up", Reason: fmt.Sprintf("%d is outside [0, 100000000]", p.WarmUp)}
	}
	if p.Window < 1000 || p.Window > 1_000_000_000 {
		return &FieldError{Field: "window", Reason: fmt.Sprintf("%d is outside [1000, 1000000000]", p.Window)}
	}
	if !(p.Prior > 0 && p.Prior < 1) {
		return &FieldError{Field: "prior", Reason: fmt.Sprintf("%g must lie strictly between 0 and 1", p.Prior)}
	}
	if f := p.Fixed; f != nil {
		if !(f.Challenge > 0 && f.Challenge < 1) {
			return &FieldError{Field: "fixed_thresholds.challenge", Reason: fmt.Sprintf("%g must lie strictly between 0 and 1", f.Challenge)}
		}
		if !(f.Deny > 0 && f.Deny <= 1) || f.Deny < f.Challenge {
			return &FieldError{Field: "fixed_thresholds.deny", Reason: fmt.Sprintf("%g must lie in [challenge, 1]", f.Deny)}
		}
	}
	return nil
}

func checkShare(field string, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 0.5 {
		return &FieldError{Field: field, Reason: fmt.Sprintf("%g must be a share in [0, 0.5] (0.01 = 1%%)", v)}
	}
	return nil
}
