package firebreak

import (
	"context"
	"encoding/json"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

// Total returns the number of accounts in any tier.
func (c TierCounts) Total() int64 { return c.Compromised + c.AtRisk + c.Targeted }

// SourceKind is what an incident source identifies.
type SourceKind string

// Source kinds.
const (
	SourceIP          SourceKind = "ip"          // one address, e.g. 81.23.4.56
	SourcePrefix      SourceKind = "prefix"      // a masked prefix, e.g. 81.23.4.0/24
	SourceASN         SourceKind = "asn"         // an AS number in decimal, e.g. 2119
	SourceFingerprint SourceKind = "fingerprint" // a user agent or timing fingerprint
)

// SourceKinds lists every source kind.
var SourceKinds = []SourceKind{SourceIP, SourcePrefix, SourceASN, SourceFingerprint}

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

// IncidentSource is one source an attack came from, with its numbers.
// Counters are running totals.
type IncidentSource struct {
	Kind     SourceKind `json:"kind"`
	Value    string     `json:"value"`
	Attempts int64      `json:"attempts"`
	Failures int64      `json:"failures"`
	Accounts int64      `json:"accounts"` // distinct accounts tried
	Evidence string     `json:"evidence"`
}

// Validate checks a source; Value must be in canonical form for its kind so
// that one source is never stored twice under two spellings.
func (s *IncidentSource) Validate() error {
	if !slices.Contains(SourceKinds, s.Kind) {
		return &FieldError{Field: "kind", Reason: "must be one of " + names(SourceKinds)}
	}
	if err := checkText("value", s.Value, MaxShortField, true); err != nil {
		return err
	}
	if canon, ok := canonicalSource(s.Kind, s.Value); !ok {
		return &FieldError{Field: "value", Reason: "not a valid " + string(s.Kind)}
	} else if canon != s.Value {
		return &FieldError{Field: "value", Reason: "not in canonical form; want " + canon}
	}
	switch {
	case s.Attempts < 0 || s.Failures < 0 || s.Accounts < 0:
		return &FieldError{Field: "attempts", Reason: "counters must not be negative"}
	case s.Failures > s.Attempts:
		return &FieldError{Field: "failures", Reason: "more failures than attempts"}
	}
	return checkLongText("evidence", s.Evidence, false)
}

func canonicalSource(kind SourceKind, v string) (string, bool) {
	switch kind {
	case SourceIP:
		a, err := netip.ParseAddr(v)
		return a.String(), err == nil && a.Zone() == "" && !a.Is4In6()
	case SourcePrefix:
		p, err := netip.ParsePrefix(v)
		return p.Masked().String(), err == nil
	case SourceASN:
		n, err := strconv.ParseUint(v, 10, 32)
		return strconv.FormatUint(n, 10), err == nil
	}
	return v, true
}

// ValidateSources validates each source and refuses duplicates; fields are
// named like "sources[2].value".
func ValidateSources(sources []IncidentSource) error {
	if len(sources) > MaxBatch {
		return &FieldError{Field: "sources", Reason: "more than " + itoa(MaxBatch)}
	}
	seen := make(map[IncidentSource]bool, len(sources))
	for i := range sources {
		if err := sources[i].Validate(); err != nil {
			return indexed("sources", i, err)
		}
		key := IncidentSource{Kind: sources[i].Kind, Value: sources[i].Value}
		if seen[key] {
			return indexed("sources", i, &FieldError{Field: "value", Reason: "duplicate source"})
		}
		seen[key] = true
	}
	return nil
}

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

// Timeline entry kinds written by the stores. Other packages may add their
// own: a kind is any lower-case word with underscores, up to 64 bytes.
const (
	EntryOpened        = "opened"
	EntryStateChanged  = "state_changed"
	EntryUpdated       = "updated" // severity or title
	EntryAccountsAdded = "accounts_added"
	EntryTierMoved     = "tier_moved"
	EntrySourceAdded   = "source_added"
	EntryMerged        = "merged"
	EntryNote          = "note"
)

var entryKind = regexp.MustCompile(`^[a-z][a-z_]{0,63}$`)

// TimelineEntry is one step in an incident's life: who did what, when.
type TimelineEntry struct {
	ID         int64          `json:"id"`
	IncidentID int64          `json:"incident_id"`
	Time       time.Time      `json:"time"`
	Actor      string         `json:"actor"` // "system" or an operator name
	Kind       string         `json:"kind"`
	Message    string         `json:"message"`
	Data       map[string]any `json:"data,omitempty"`
}

// Validate checks the fields a caller sets (Actor, Kind, Message, Data).
func (e *TimelineEntry) Validate() error {
	if err := ValidateActor(e.Actor); err != nil {
		return err
	}
	if !entryKind.MatchString(e.Kind) {
		return &FieldError{Field: "kind", Reason: "must be a lower-case word with underscores, up to 64 bytes"}
	}
	if err := checkLongText("message", e.Message, true); err != nil {
		return err
	}
	if b, err := json.Marshal(e.Data); err != nil {
		return &FieldError{Field: "data", Reason: "not representable as JSON"}
	} else if len(b) > MaxDataLen {
		return &FieldError{Field: "data", Reason: "larger than " + itoa(MaxDataLen) + " bytes as JSON"}
	}
	return nil
}

// ValidateActor checks who is acting: "system" or an operator's name.
func ValidateActor(actor string) error {
	return checkText("actor", actor, MaxShortField, true)
}

// whitespace maps the control characters free text may hold to spaces.
var whitespace = strings.NewReplacer("\n", " ", "\t", " ", "\r", " ")

// checkLongText is checkText for free text, which may hold line breaks and tabs.
func checkLongText(field, v string, required bool) error {
	return checkText(field, whitespace.Replace(v), MaxTextLen, required)
}

func checkSeen(first, last time.Time) error {
	switch {
	case first.IsZero():
		return &FieldError{Field: "first_seen", Reason: "required"}
	case last.Before(first):
		return &FieldError{Field: "last_seen", Reason: "before first_seen"}
	}
	return nil
}

// indexed prefixes the field of a *FieldError with "name[i]."; other errors
// pass through.
func indexed(name string, i int, err error) error {
	if fe, ok := err.(*FieldError); ok {
		return &FieldError{Field: name + "[" + itoa(i) + "]." + fe.Field, Reason: fe.Reason}
	}
	return err
}

// names joins a list of enum values for an error message.
func names[T ~string](set []T) string {
	if len(set) == 0 {
		return "none"
	}
	s := make([]string, len(set))
	for i, v := range set {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
