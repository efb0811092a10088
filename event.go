package firebreak

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Outcome is whether a login attempt succeeded.
type Outcome uint8

// Outcomes of a login attempt.
const (
	OutcomeUnknown Outcome = iota
	OutcomeSuccess
	OutcomeFailure
)

// String returns the wire name of the outcome.
func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeFailure:
		return "failure"
	}
	return ""
}

// ParseOutcome parses "success" or "failure".
func ParseOutcome(s string) (Outcome, bool) {
	switch s {
	case "success":
		return OutcomeSuccess, true
	case "failure":
		return OutcomeFailure, true
	}
	return OutcomeUnknown, false
}

// Methods of authentication accepted in Event.Method.
var Methods = []string{"password", "mfa", "sso", "passkey", "token", "reset"}

// FailureReasons accepted in Event.FailureReason.
var FailureReasons = []string{"bad_password", "unknown_account", "mfa_failed", "locked"}

// Event types. An event is a login attempt unless it says otherwise; the
// other types are changes to the account's security settings, made from a
// signed-in session (decision 0007). Event.Type holds "" for a login:
// decoders turn an explicit "login" into "".
const (
	TypeLogin          = "login"
	TypePasswordChange = "password_change" // a new password, set from a session
	TypeRecoveryChange = "recovery_change" // the recovery e-mail address or phone number
	TypeMFAEnroll      = "mfa_enroll"      // a second factor added
	TypeMFARemove      = "mfa_remove"      // a second factor removed
)

// EventTypes accepted in Event.Type.
var EventTypes = []string{TypeLogin, TypePasswordChange, TypeRecoveryChange, TypeMFAEnroll, TypeMFARemove}

// Label is ground truth for evaluation (simulator, labelled data sets). It is
// carried through the pipeline for reports and never read by scoring.
type Label struct {
	ATO    bool `json:"ato"`
	Attack bool `json:"attack"`
	// Cohort names the simulator cohort or attack the event belongs to
	// ("traveller", "new_phone", "stuffing", ...); empty for ordinary traffic.
	Cohort string `json:"cohort,omitempty"`
}

// Agent is the parsed user agent: the hierarchy device type → OS → browser
// family → browser major version used by the risk model. Decoders fill it
// (from the user agent string through a parser, or from data-set columns).
type Agent struct {
	DeviceType string // "desktop", "mobile", "tablet", "bot", "other"
	OS         string // family, e.g. "Windows", "iOS"
	Browser    string // family, e.g. "Chrome"
	Major      int    // browser major version, 0 when unknown
}

// Event is one normalised login attempt, whatever format it arrived in.
type Event struct {
	Time    time.Time
	Account string
	Outcome Outcome
	IP      netip.Addr

	UserAgent     string
	Agent         Agent
	DeviceID      string
	Country       string // ISO 3166 alpha-2, upper case
	Region        string
	City          string
	ASN           uint32
	Lat, Lon      float64
	HasGeo        bool // Lat and Lon are set
	Method        string
	App           string
	FailureReason string
	// Type is "" (or "login") for a login attempt, or one of the account
	// changes in EventTypes.
	Type string

	// Label is evaluation truth; nil when the source has none. Never scored.
	Label *Label
}

// IsLogin says whether the event is a login attempt rather than an account
// change.
func (e *Event) IsLogin() bool { return e.Type == "" || e.Type == TypeLogin }

// Limits on event fields. Anything longer is rejected, not truncated.
const (
	MaxAccountLen   = 256
	MaxUserAgentLen = 1024
	MaxShortField   = 128
	// MaxClockSkew is how far in the future an event time may lie.
	MaxClockSkew = 24 * time.Hour
)

// MinEventTime is the earliest accepted event time.
var MinEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Validate checks an event against the format's rules and returns a
// *FieldError naming the first bad field. now bounds future timestamps; a zero
// now skips that check (replay of historical files).
func (e *Event) Validate(now time.Time) error {
	if e.Time.IsZero() {
		return &FieldError{Field: "time", Reason: "required"}
	}
	if e.Time.Before(MinEventTime) {
		return &FieldError{Field: "time", Reason: "before 2000-01-01"}
	}
	if !now.IsZero() && e.Time.After(now.Add(MaxClockSkew)) {
		return &FieldError{Field: "time", Reason: "more than 24h in the future"}
	}
	if err := checkText("account", e.Account, MaxAccountLen, true); err != nil {
		return err
	}
	if e.Outcome != OutcomeSuccess && e.Outcome != OutcomeFailure {
		return &FieldError{Field: "outcome", Reason: `must be "success" or "failure"`}
	}
	if !e.IP.IsValid() {
		return &FieldError{Field: "ip", Reason: "required"}
	}
	if e.IP.Zone() != "" {
		return &FieldError{Field: "ip", Reason: "zone not allowed"}
	}
	if e.IP.Is4In6() {
		return &FieldError{Field: "ip", Reason: "IPv4-mapped IPv6 form not allowed; send the IPv4 address"}
	}
	return e.validateOptional()
}

func (e *Event) validateOptional() error {
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"user_agent", e.UserAgent, MaxUserAgentLen},
		{"device_id", e.DeviceID, MaxShortField},
		{"region", e.Region, MaxShortField},
		{"city", e.City, MaxShortField},
		{"app", e.App, MaxShortField},
	} {
		if err := checkText(f.name, f.v, f.max, false); err != nil {
			return err
		}
	}
	if e.Country != "" && !isCountryCode(e.Country) {
		return &FieldError{Field: "country", Reason: "not an ISO 3166 alpha-2 code"}
	}
	if e.HasGeo {
		if math.IsNaN(e.Lat) || e.Lat < -90 || e.Lat > 90 {
			return &FieldError{Field: "lat", Reason: "must be a number in [-90, 90]"}
		}
		if math.IsNaN(e.Lon) || e.Lon < -180 || e.Lon > 180 {
			return &FieldError{Field: "lon", Reason: "must be a number in [-180, 180]"}
		}
	}
	if e.Method != "" && !slices.Contains(Methods, e.Method) {
		return &FieldError{Field: "method", Reason: "must be one of " + strings.Join(Methods, ", ")}
	}
	if e.FailureReason != "" && !slices.Contains(FailureReasons, e.FailureReason) {
		return &FieldError{Field: "failure_reason", Reason: "must be one of " + strings.Join(FailureReasons, ", ")}
	}
	if e.Type != "" && !slices.Contains(EventTypes, e.Type) {
		return &FieldError{Field: "type", Reason: "must be one of " + strings.Join(EventTypes, ", ")}
	}
	if e.Label != nil {
		return checkText("label.cohort", e.Label.Cohort, MaxShortField, false)
	}
	return nil
}

func checkText(field, v string, max int, required bool) error {
	if v == "" {
		if required {
			return &FieldError{Field: field, Reason: "required"}
		}
		return nil
	}
	if len(v) > max {
		return &FieldError{Field: field, Reason: "longer than " + strconv.Itoa(max) + " bytes"}
	}
	if !utf8.ValidString(v) {
		return &FieldError{Field: field, Reason: "invalid UTF-8"}
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return &FieldError{Field: field, Reason: "control character not allowed"}
		}
	}
	return nil
}

func isCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
