package ingest

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"firebreak"
)

// OCSF classes accepted: Authentication events are login attempts; Account
// Change events are read when they change an account's security settings.
const (
	OCSFAuthentication = 3002
	OCSFAccountChange  = 3001
)

// ocsfChangeTypes maps the Account Change activities Firebreak reads onto
// Event.Type. OCSF has no activity for a new recovery address or phone.
var ocsfChangeTypes = map[int]string{
	3:  firebreak.TypePasswordChange, // Password Change
	4:  firebreak.TypePasswordChange, // Password Reset
	10: firebreak.TypeMFAEnroll,      // MFA Factor Enable
	11: firebreak.TypeMFARemove,      // MFA Factor Disable
}

// ocsfOtherChanges names the Account Change activities Firebreak refuses, for
// the error message.
var ocsfOtherChanges = map[int]string{
	0: "unknown", 1: "create", 2: "enable", 5: "disable", 6: "delete",
	7: "attach policy", 8: "detach policy", 9: "lock", 99: "other",
}

// ocsfEvent holds the OCSF Authentication and Account Change attributes
// Firebreak maps.
type ocsfEvent struct {
	ClassUID       *json.Number `json:"class_uid"`
	ActivityID     int          `json:"activity_id"`
	Time           *json.Number `json:"time"`
	TimeDT         string       `json:"time_dt"`
	StatusID       int          `json:"status_id"`
	Status         string       `json:"status"`
	StatusCode     string       `json:"status_code"`
	StatusDetail   string       `json:"status_detail"`
	AuthProtocolID int          `json:"auth_protocol_id"`
	AuthProtocol   string       `json:"auth_protocol"`
	IsMFA          bool         `json:"is_mfa"`
	User           struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	} `json:"user"`
	SrcEndpoint struct {
		IP       string `json:"ip"`
		UID      string `json:"uid"`
		Location struct {
			Country     string    `json:"country"`
			Region      string    `json:"region"`
			City        string    `json:"city"`
			Coordinates []float64 `json:"coordinates"`
		} `json:"location"`
		AutonomousSystem struct {
			Number uint32 `json:"number"`
		} `json:"autonomous_system"`
	} `json:"src_endpoint"`
	HTTPRequest struct {
		UserAgent string `json:"user_agent"`
	} `json:"http_request"`
	Device struct {
		UID string `json:"uid"`
	} `json:"device"`
	Service struct {
		Name string `json:"name"`
	} `json:"service"`
}

// ParseOCSF parses one OCSF Authentication (class_uid 3002) or Account Change
// (3001) event as one JSON object into e and validates it; now bounds future
// timestamps (zero skips that check). On error it returns a
// *firebreak.FieldError with Line 0 naming the OCSF attribute path. The
// mapping is documented in docs/event-format.md. Unlike the native format,
// OCSF objects are read with encoding/json's rules: keys match
// case-insensitively and a repeated key keeps its last value. Logoff events
// (3002, activity_id 2) are rejected: they are not login attempts. Account
// changes are read only for the activities in ocsfChangeTypes; creating,
// deleting or locking an account says nothing about who holds the session.
func ParseOCSF(line []byte, e *firebreak.Event, now time.Time) error {
	return parseOCSF(line, e, now, nil)
}

func parseOCSF(line []byte, e *firebreak.Event, now time.Time, in *interner) error {
	if !utf8.Valid(line) {
		return &firebreak.FieldError{Reason: "invalid UTF-8"}
	}
	if err := checkJSON(line); err != nil {
		return err
	}
	var o ocsfEvent
	if err := json.Unmarshal(line, &o); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &firebreak.FieldError{Field: te.Field, Reason: "must be " + jsonKind(te.Type.Kind().String())}
		}
		return &firebreak.FieldError{Reason: "malformed JSON"}
	}
	typ, err := o.check()
	if err != nil {
		return err
	}
	*e = firebreak.Event{Type: typ}
	if err := o.mapRequired(e); err != nil {
		return err
	}
	if err := o.mapOptional(e, in); err != nil {
		return err
	}
	return e.Validate(now)
}

func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice":
		return "an array"
	case kind == "struct", kind == "ptr":
		return "an object"
	case kind == "bool":
		return "true or false"
	}
	return "a " + kind
}

// ocsfClasses names the accepted classes, for error messages.
const ocsfClasses = "OCSF Authentication (3002) or Account Change (3001)"

// check checks the class and activity and returns the event's type: "" for
// an authentication, the change's type for an account change.
func (o *ocsfEvent) check() (string, error) {
	if o.ClassUID == nil {
		return "", &firebreak.FieldError{Field: "class_uid", Reason: "required: " + ocsfClasses}
	}
	switch o.ClassUID.String() {
	case "3002":
		if o.ActivityID == 2 {
			return "", &firebreak.FieldError{Field: "activity_id", Reason: "logoff (2) is not a login attempt"}
		}
		return "", nil
	case "3001":
		return o.changeType()
	}
	return "", &firebreak.FieldError{Field: "class_uid", Reason: "class " + o.ClassUID.String() + " is not " + ocsfClasses}
}

// changeType maps an Account Change activity onto Event.Type.
func (o *ocsfEvent) changeType() (string, error) {
	if typ, ok := ocsfChangeTypes[o.ActivityID]; ok {
		return typ, nil
	}
	activity := strconv.Itoa(o.ActivityID)
	if name, ok := ocsfOtherChanges[o.ActivityID]; ok {
		activity += " (" + name + ")"
	}
	return "", &firebreak.FieldError{Field: "activity_id",
		Reason: "account change " + activity + " is not a security-settings change; Firebreak reads 3, 4, 10, 11"}
}

func (o *ocsfEvent) mapRequired(e *firebreak.Event) error {
	t, err := o.time()
	if err != nil {
		return err
	}
	e.Time = t
	e.Account = o.User.Name
	if e.Account == "" {
		e.Account = o.User.UID
	}
	switch {
	case o.StatusID == 1 || (o.StatusID == 0 && strings.EqualFold(o.Status, "Success")):
		e.Outcome = firebreak.OutcomeSuccess
	case o.StatusID == 2 || (o.StatusID == 0 && strings.EqualFold(o.Status, "Failure")):
		e.Outcome = firebreak.OutcomeFailure
	default:
		return &firebreak.FieldError{Field: "status_id", Reason: `must be 1 (Success) or 2 (Failure), or status "Success" or "Failure"`}
	}
	if o.SrcEndpoint.IP == "" {
		return &firebreak.FieldError{Field: "src_endpoint.ip", Reason: "required"}
	}
	ip, err := parseIP([]byte(o.SrcEndpoint.IP), false)
	if err != nil {
		return &firebreak.FieldError{Field: "src_endpoint.ip", Reason: "not an IP address"}
	}
	e.IP = ip
	return nil
}

// time reads time (integer milliseconds since the epoch) or, without it,
// time_dt (RFC 3339).
func (o *ocsfEvent) time() (time.Time, error) {
	if o.Time == nil {
		if o.TimeDT == "" {
			return time.Time{}, &firebreak.FieldError{Field: "time", Reason: "required"}
		}
		t, err := parseTime([]byte(o.TimeDT), false)
		if err != nil {
			return time.Time{}, &firebreak.FieldError{Field: "time_dt", Reason: "not an RFC 3339 timestamp"}
		}
		return t, nil
	}
	ms, err := strconv.ParseInt(o.Time.String(), 10, 64)
	if err != nil || ms < 0 || ms > 1<<53 {
		return time.Time{}, &firebreak.FieldError{Field: "time", Reason: "must be an integer number of milliseconds since 1970-01-01 UTC"}
	}
	return time.UnixMilli(ms).UTC(), nil
}

func (o *ocsfEvent) mapOptional(e *firebreak.Event, in *interner) error {
	src := &o.SrcEndpoint
	e.UserAgent = internString(o.HTTPRequest.UserAgent, in)
	e.DeviceID = src.UID
	if e.DeviceID == "" {
		e.DeviceID = o.Device.UID
	}
	e.Country = country([]byte(src.Location.Country), in)
	e.Region = internString(src.Location.Region, in)
	e.City = internString(src.Location.City, in)
	e.ASN = src.AutonomousSystem.Number
	e.App = internString(o.Service.Name, in)
	e.Method = o.method()
	// Why a change was refused (a weak new password, ...) does not mean what
	// the same words mean for a login, so only logins get a failure reason.
	if e.Outcome == firebreak.OutcomeFailure && e.IsLogin() {
		e.FailureReason = failureReason(o.StatusCode, o.StatusDetail)
	}
	switch c := src.Location.Coordinates; len(c) {
	case 0:
	case 2:
		e.Lon, e.Lat, e.HasGeo = c[0], c[1], true
	default:
		return &firebreak.FieldError{Field: "src_endpoint.location.coordinates", Reason: "must be [lon, lat]"}
	}
	return nil
}

func internString(s string, in *interner) string {
	if in == nil {
		return s
	}
	return in.str([]byte(s))
}

// method maps is_mfa and the authentication protocol onto Event.Method.
func (o *ocsfEvent) method() string {
	if o.IsMFA {
		return "mfa"
	}
	switch o.AuthProtocolID {
	case 4, 5, 6: // OpenID, SAML, OAUTH 2.0
		return "sso"
	case 1, 2, 3, 7, 8, 11, 12: // NTLM, Kerberos, Digest, PAP, CHAP, Basic, LDAP
		return "password"
	}
	switch strings.ToLower(o.AuthProtocol) {
	case "openid", "saml", "oauth 2.0", "oauth2", "oidc":
		return "sso"
	case "ntlm", "kerberos", "digest", "pap", "chap", "basic", "basic authentication", "ldap":
		return "password"
	}
	return ""
}

// failureReason maps well-known Windows status codes and plain-language
// status details onto Event.FailureReason; anything else maps to "".
func failureReason(code, detail string) string {
	switch strings.ToUpper(code) {
	case "0XC000006A":
		return "bad_password"
	case "0XC0000064":
		return "unknown_account"
	case "0XC0000234":
		return "locked"
	}
	d := strings.ToLower(detail)
	switch {
	case strings.Contains(d, "lock"):
		return "locked"
	case strings.Contains(d, "mfa"), strings.Contains(d, "multi-factor"), strings.Contains(d, "otp"):
		return "mfa_failed"
	case strings.Contains(d, "unknown user"), strings.Contains(d, "no such user"),
		strings.Contains(d, "user not found"), strings.Contains(d, "unknown account"):
		return "unknown_account"
	case strings.Contains(d, "password"), strings.Contains(d, "credential"):
		return "bad_password"
	}
	return ""
}
