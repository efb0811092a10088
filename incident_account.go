package firebreak

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Tier says how sure we are that an affected account is in the attacker's hands.
type Tier string

// Tiers of affected accounts.
const (
	TierCompromised Tier = "compromised" // the attacker logged in
	TierAtRisk      Tier = "at_risk"     // targeted, and something suggests the password works
	TierTargeted    Tier = "targeted"    // attempted, no success
)

// Tiers lists every tier, most certain first.
var Tiers = []Tier{TierCompromised, TierAtRisk, TierTargeted}

// Rank orders tiers by certainty: targeted 1, at_risk 2, compromised 3, and
// 0 for an unknown tier. Automatic updates only ever raise an account's rank.
func (t Tier) Rank() int {
	if i := slices.Index(Tiers, t); i >= 0 {
		return len(Tiers) - i
	}
	return 0
}

// TierCounts is how many accounts an incident holds in each tier.
type TierCounts struct {
	Compromised int64 `json:"compromised"`
	AtRisk      int64 `json:"at_risk"`
	Targeted    int64 `json:"targeted"`
}

// Add adds n to the count of tier t; unknown tiers are ignored.
func (c *TierCounts) Add(t Tier, n int64) {
	switch t {
	case TierCompromised:
		c.Compromised += n
	case TierAtRisk:
		c.AtRisk += n
	case TierTargeted:
		c.Targeted += n
	}
}

// Of returns the count of tier t, or 0 for an unknown tier.
func (c TierCounts) Of(t Tier) int64 {
	switch t {
	case TierCompromised:
		return c.Compromised
	case TierAtRisk:
		return c.AtRisk
	case TierTargeted:
		return c.Targeted
	}
	return 0
}

// Total returns the number of accounts in any tier.
func (c TierCounts) Total() int64 { return c.Compromised + c.AtRisk + c.Targeted }

// AffectedAccount is one account an incident touched, in a tier. MovedBy is
// the operator who last moved it; while it is set, automatic updates leave
// the tier alone.
type AffectedAccount struct {
	IncidentID int64     `json:"incident_id"`
	Account    string    `json:"account"`
	Tier       Tier      `json:"tier"`
	Confidence float64   `json:"confidence"`
	Evidence   string    `json:"evidence"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	MovedBy    string    `json:"moved_by,omitempty"`
}

// Validate checks an affected account and returns a *FieldError naming the
// first bad field.
func (a *AffectedAccount) Validate() error {
	if err := checkText("account", a.Account, MaxAccountLen, true); err != nil {
		return err
	}
	switch {
	case !slices.Contains(Tiers, a.Tier):
		return &FieldError{Field: "tier", Reason: "must be one of " + names(Tiers)}
	case !(a.Confidence >= 0 && a.Confidence <= 1) || math.IsNaN(a.Confidence):
		return &FieldError{Field: "confidence", Reason: "must be a number in [0, 1]"}
	}
	if err := checkLongText("evidence", a.Evidence, false); err != nil {
		return err
	}
	if err := checkText("moved_by", a.MovedBy, MaxShortField, false); err != nil {
		return err
	}
	return checkSeen(a.FirstSeen, a.LastSeen)
}

// ValidateAccounts validates accounts given to Create or UpsertAccounts;
// fields are named like "accounts[3].tier". MovedBy must be empty: only
// MoveAccount sets it.
func ValidateAccounts(accounts []AffectedAccount) error {
	if len(accounts) > MaxBatch {
		return &FieldError{Field: "accounts", Reason: "more than " + strconv.Itoa(MaxBatch)}
	}
	for i := range accounts {
		if err := accounts[i].Validate(); err != nil {
			return indexed("accounts", i, err)
		} else if accounts[i].MovedBy != "" {
			return indexed("accounts", i, &FieldError{Field: "moved_by", Reason: "set only by an operator's move"})
		}
	}
	return nil
}
