package firebreak

import (
	"slices"
	"time"
)

// IncidentKind is the kind of attack an incident is about.
type IncidentKind string

// Incident kinds.
const (
	KindCredentialStuffing IncidentKind = "credential_stuffing"
	KindPasswordSpraying   IncidentKind = "password_spraying"
	KindBruteForce         IncidentKind = "brute_force"
	KindAccountEnumeration IncidentKind = "account_enumeration"
	KindImpossibleTravel   IncidentKind = "impossible_travel"
	KindCompromise         IncidentKind = "compromise"
)

// IncidentKinds lists every incident kind.
var IncidentKinds = []IncidentKind{KindCredentialStuffing, KindPasswordSpraying,
	KindBruteForce, KindAccountEnumeration, KindImpossibleTravel, KindCompromise}

// Severity is how urgent an incident is.
type Severity string

// Severities, from least to most urgent.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity, least urgent first.
var Severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// State is where an incident is in its life.
type State string

// Incident states, in the order an incident normally moves through them.
const (
	StateDetected  State = "detected"
	StateTriaged   State = "triaged"
	StateContained State = "contained"
	StateRecovered State = "recovered"
	StateResolved  State = "resolved"
)

// States lists every state in life order.
var States = []State{StateDetected, StateTriaged, StateContained, StateRecovered, StateResolved}

// AllowedTransitions maps each state to the states an incident may move to
// from it. An incident that was never contained may be resolved (a false
// positive, or a campaign that stopped); a contained one must be recovered
// first, so that nothing is closed with accounts still locked. A resolved
// incident may be reopened for triage.
var AllowedTransitions = map[State][]State{
	StateDetected:  {StateTriaged, StateResolved},
	StateTriaged:   {StateContained, StateResolved},
	StateContained: {StateRecovered},
	StateRecovered: {StateResolved},
	StateResolved:  {StateTriaged},
}

// CanTransition returns nil if an incident may move from one state to the
// other. An unknown target state is EINVALID; a move AllowedTransitions does
// not list is ECONFLICT, and its message names the allowed targets.
func CanTransition(from, to State) error {
	if !slices.Contains(States, to) {
		return Errorf(EINVALID, "state: must be one of %s", names(States))
	}
	allowed := AllowedTransitions[from]
	if slices.Contains(allowed, to) {
		return nil
	}
	return Errorf(ECONFLICT, "Cannot move an incident from %s to %s; allowed from %s: %s.",
		from, to, from, names(allowed))
}

// Limits on incident text fields, in bytes.
const (
	MaxTitleLen = 200
	MaxTextLen  = 4096  // summary, evidence, reasons, timeline messages
	MaxDataLen  = 16384 // a timeline entry's Data as JSON
	MaxBatch    = 10000 // accounts or sources in one call
)

// Incident is one attack campaign or compromise and the response to it.
// Counts are kept by the store; Sources are filled by Find, not by List.
type Incident struct {
	ID         int64            `json:"id"`
	Kind       IncidentKind     `json:"kind"`
	Severity   Severity         `json:"severity"`
	State      State            `json:"state"`
	Title      string           `json:"title"`
	Summary    string           `json:"summary"`
	FirstSeen  time.Time        `json:"first_seen"` // first malicious event
	LastSeen   time.Time        `json:"last_seen"`
	OpenedAt   time.Time        `json:"opened_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
	ResolvedAt time.Time        `json:"resolved_at,omitzero"`
	MergedInto int64            `json:"merged_into,omitempty"` // set when merged into another incident
	Sources    []IncidentSource `json:"sources,omitempty"`
	Counts     TierCounts       `json:"counts"`
}

// Validate checks the fields a caller sets and returns a *FieldError naming
// the first bad one. An empty State is accepted (a new incident).
func (inc *Incident) Validate() error {
	switch {
	case !slices.Contains(IncidentKinds, inc.Kind):
		return &FieldError{Field: "kind", Reason: "must be one of " + names(IncidentKinds)}
	case !slices.Contains(Severities, inc.Severity):
		return &FieldError{Field: "severity", Reason: "must be one of " + names(Severities)}
	case inc.State != "" && !slices.Contains(States, inc.State):
		return &FieldError{Field: "state", Reason: "must be one of " + names(States)}
	}
	if err := checkText("title", inc.Title, MaxTitleLen, true); err != nil {
		return err
	}
	if err := checkLongText("summary", inc.Summary, false); err != nil {
		return err
	}
	if err := checkSeen(inc.FirstSeen, inc.LastSeen); err != nil {
		return err
	}
	return ValidateSources(inc.Sources)
}
