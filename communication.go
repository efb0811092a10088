package firebreak

import "context"

// TierFalsePositives is one tier's measured false positives: of the
// accounts containment acted on, how many appealed and how many appeals
// were lifted (a lifted appeal is a measured false positive).
type TierFalsePositives struct {
	Tier     Tier  `json:"tier"`
	ActedOn  int64 `json:"acted_on"` // distinct accounts with a confirmed account action (notices excluded)
	Appealed int64 `json:"appealed"` // appeals in any state
	Lifted   int64 `json:"lifted"`
	// Rate is Lifted / ActedOn: the false-positive rate measured from appeals.
	Rate float64 `json:"false_positive_rate"`
}

// CommunicationMetrics is what an incident told people and what they
// answered: notices by channel and state, appeals by tier and state, and the
// false-positive rate per tier.
type CommunicationMetrics struct {
	IncidentID int64                `json:"incident_id"`
	Notices    NoticeCounts         `json:"notices"`
	Appeals    []AppealCount        `json:"appeals"`
	Tiers      []TierFalsePositives `json:"tiers"` // one per tier, in Tiers order
}

// NoticePreview is a notice rendered with an incident's real data for one
// tier, channel and locale, before anything is sent: what the dashboard
// shows an operator who plans a campaign of notices.
type NoticePreview struct {
	IncidentID int64   `json:"incident_id"`
	Tier       Tier    `json:"tier"`
	Channel    Channel `json:"channel"`
	Locale     string  `json:"locale"`   // as asked
	Template   string  `json:"template"` // the template file that rendered it, e.g. "en/email/compromised"
	Account    string  `json:"account"`  // the sample account whose data it shows ("" when the tier is empty)
	Subject    string  `json:"subject,omitempty"`
	Text       string  `json:"text"`
	HTML       string  `json:"html,omitempty"`
}

// ActedOnCounter counts, per tier, the distinct accounts of an incident on
// which a containment run confirmed an account action other than a notice:
// the denominator of the false-positive rate.
type ActedOnCounter interface {
	ActedOn(ctx context.Context, incidentID int64) (map[Tier]int64, error)
}
