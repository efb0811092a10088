package selfservice

import (
	"fmt"
	"slices"

	"firebreak"
)

// Decision is what the policy does with an appeal of one tier.
type Decision string

// Decisions.
const (
	// Lift undoes the account's step-up and temporary lock at once, through
	// a rollback run (a password reset and revoked sessions stay).
	Lift Decision = "lift"
	// Review queues the appeal for an operator.
	Review Decision = "review"
)

// Policy says per tier what an appeal does. It reads from YAML or JSON:
//
//	tiers:
//	  compromised: review
//	  at_risk: lift
//	  targeted: lift
//
// A tier it does not name is reviewed.
type Policy struct {
	Tiers map[firebreak.Tier]Decision `yaml:"tiers" json:"tiers"`
}

// DefaultPolicy reviews appeals of compromised accounts (the attacker
// logged in and may be the one appealing) and lifts the others at once.
func DefaultPolicy() Policy {
	return Policy{Tiers: map[firebreak.Tier]Decision{
		firebreak.TierCompromised: Review,
		firebreak.TierAtRisk:      Lift,
		firebreak.TierTargeted:    Lift,
	}}
}

// Validate names the first bad entry: an unknown tier or decision.
func (p Policy) Validate() error {
	for t, d := range p.Tiers {
		field := "self_service.policy.tiers." + string(t)
		if !slices.Contains(firebreak.Tiers, t) {
			return &firebreak.FieldError{Field: field, Reason: fmt.Sprintf("unknown tier %q; must be compromised, at_risk or targeted", t)}
		}
		if d != Lift && d != Review {
			return &firebreak.FieldError{Field: field, Reason: fmt.Sprintf("unknown decision %q; must be lift or review", d)}
		}
	}
	return nil
}

// For returns the decision for tier t; Review when the policy is silent.
func (p Policy) For(t firebreak.Tier) Decision {
	if d, ok := p.Tiers[t]; ok {
		return d
	}
	return Review
}
