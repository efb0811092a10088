package ingest

import (
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"firebreak"
)

// Field ids of the native event, in wire order. Bits of rawNative.seen.
const (
	fTime = iota
	fAccount
	fOutcome
	fIP
	fUserAgent
	fDeviceType
	fOS
	fBrowser
	fDeviceID
	fCountry
	fRegion
	fCity
	fMethod
	fApp
	fFailureReason
	fType
	fASN // first number field
	fLat
	fLon
	fBrowserMajor
	fLabel
	nFields
)

// fieldNames maps field ids to their JSON keys.
var fieldNames = [nFields]string{
	"time", "account", "outcome", "ip", "user_agent", "device_type", "os", "browser",
	"device_id", "country", "region", "city", "method", "app", "failure_reason",
	"type", "asn", "lat", "lon", "browser_major", "label",
}

// fieldIndex returns the id of a native key, or -1 for an unknown key. Keys
// are case-sensitive. The switch on string(key) does not allocate.
func fieldIndex(key []byte) int {
	switch string(key) {
	case "time":
		return fTime
	case "account":
		return fAccount
	case "outcome":
		return fOutcome
	case "ip":
		return fIP
	case "user_agent":
		return fUserAgent
	case "device_type":
		return fDeviceType
	case "os":
		return fOS
	case "browser":
		return fBrowser
	case "device_id":
		return fDeviceID
	case "country":
		return fCountry
	case "region":
		return fRegion
	case "city":
		return fCity
	case "method":
		return fMethod
	case "app":
		return fApp
	case "failure_reason":
		return fFailureReason
	case "type":
		return fType
	case "asn":
		return fASN
	case "lat":
		return fLat
	case "lon":
		return fLon
	case "browser_major":
		return fBrowserMajor
	case "label":
		return fLabel
	}
	return -1
}

// Label keys, bits of rawNative.labelSeen.
const (
	lATO = iota
	lAttack
	lCohort
)

func labelIndex(key []byte) int {
	switch string(key) {
	case "ato":
		return lATO
	case "attack":
		return lAttack
	case "cohort":
		return lCohort
	}
	return -1
}

// rawNative is a native object split into its fields but not yet converted.
// val holds the unescaped string contents or the number text; nil means
// absent or null. Both the fast scanner and the encoding/json path fill it,
// and one conversion (build) turns it into an Event.
type rawNative struct {
	seen      uint32
	val       [nFields][]byte
	hasLabel  bool
	labelSeen uint8
	ato       bool
	attack    bool
	cohort    []byte
}

// ParseNative parses one native JSON object (one NDJSON line) into e and
// validates it; now bounds future timestamps (zero skips that check). On
// error it returns a *firebreak.FieldError with Line 0 and e is unspecified.
//
// Decisions beyond the design's field list:
//   - The whole line must be valid UTF-8; encoding/json would silently
//     replace bad bytes, which would let two different inputs look alike.
//   - Keys are case-sensitive. Unknown keys are ignored whatever their value,
//     as long as the line is valid JSON.
//   - A known key given twice (also inside label) is rejected with reason
//     "duplicate key": readers that keep the first and readers that keep the
//     last value would otherwise disagree about the same event.
//   - null is the same as an absent field.
//   - A value of the wrong JSON type is rejected ("must be a string", "must be
//     a number", ...); numbers in strings are not accepted.
//   - asn must be an integer in [0, 4294967295]; 0 means unknown.
//   - lat and lon must be given together; then HasGeo is set.
//   - time is RFC 3339 with any offset and is normalised to UTC.
//   - country is upper-cased before validation.
//   - NaN and Infinity are not JSON and fail as malformed JSON.
//   - type "login" is read as "" (a login), so that a login reads the same
//     and is written back the same whether or not it says so.
//   - device_type, os, browser and browser_major are optional enrichment
//     (the parsed user agent, e.g. written by AppendNative for the journal)
//     and fill e.Agent; they are checked after the fields above.
func ParseNative(line []byte, e *firebreak.Event, now time.Time) error {
	return parseNative(line, e, now, nil)
}

func parseNative(line []byte, e *firebreak.Event, now time.Time, in *interner) error {
	if !utf8.Valid(line) {
		return &firebreak.FieldError{Reason: "invalid UTF-8"}
	}
	var r rawNative
	slow := !fastNative(line, &r)
	if slow {
		r = rawNative{}
		if err := slowNative(line, &r); err != nil {
			return err
		}
	}
	return r.build(e, now, in, slow)
}

// build converts the raw fields into e and validates it. slow selects the
// standard library conversions only, which the differential fuzz test uses as
// the reference for the fast ones.
func (r *rawNative) build(e *firebreak.Event, now time.Time, in *interner, slow bool) error {
	*e = firebreak.Event{}
	if v := r.val[fTime]; v != nil {
		t, err := parseTime(v, slow)
		if err != nil {
			return &firebreak.FieldError{Field: "time", Reason: "not an RFC 3339 timestamp"}
		}
		e.Time = t
	}
	e.Account = string(r.val[fAccount])
	if err := r.buildOutcomeIP(e, slow); err != nil {
		return err
	}
	e.UserAgent = in.str(r.val[fUserAgent])
	e.DeviceID = string(r.val[fDeviceID])
	e.Country = country(r.val[fCountry], in)
	e.Region = in.str(r.val[fRegion])
	e.City = in.str(r.val[fCity])
	e.Method = oneOfBytes(r.val[fMethod], firebreak.Methods, in)
	e.App = in.str(r.val[fApp])
	e.FailureReason = oneOfBytes(r.val[fFailureReason], firebreak.FailureReasons, in)
	e.Type = eventType(r.val[fType], in)
	if err := r.buildNumbers(e, slow); err != nil {
		return err
	}
	if r.hasLabel {
		e.Label = &firebreak.Label{ATO: r.ato, Attack: r.attack, Cohort: in.str(r.cohort)}
	}
	if err := e.Validate(now); err != nil {
		return err
	}
	return r.buildAgent(e, in)
}

func (r *rawNative) buildOutcomeIP(e *firebreak.Event, slow bool) error {
	switch v := r.val[fOutcome]; {
	case len(v) == 0:
		return &firebreak.FieldError{Field: "outcome", Reason: "required"}
	case string(v) == "success":
		e.Outcome = firebreak.OutcomeSuccess
	case string(v) == "failure":
		e.Outcome = firebreak.OutcomeFailure
	default:
		return &firebreak.FieldError{Field: "outcome", Reason: `must be "success" or "failure"`}
	}
	v := r.val[fIP]
	if len(v) == 0 {
		return &firebreak.FieldError{Field: "ip", Reason: "required"}
	}
	ip, err := parseIP(v, slow)
	if err != nil {
		return &firebreak.FieldError{Field: "ip", Reason: "not an IP address"}
	}
	e.IP = ip
	return nil
}

func (r *rawNative) buildNumbers(e *firebreak.Event, slow bool) error {
	if v := r.val[fASN]; v != nil {
		asn, ok := parseASN(v)
		if !ok {
			return &firebreak.FieldError{Field: "asn", Reason: "must be an integer in [0, 4294967295]"}
		}
		e.ASN = asn
	}
	lat, lon := r.val[fLat], r.val[fLon]
	if (lat == nil) != (lon == nil) {
		field := "lat"
		if lon == nil {
			field = "lon"
		}
		return &firebreak.FieldError{Field: field, Reason: "lat and lon must be given together"}
	}
	if lat == nil {
		return nil
	}
	var err error
	if e.Lat, err = parseFloat(lat, slow); err != nil {
		return &firebreak.FieldError{Field: "lat", Reason: "must be a number in [-90, 90]"}
	}
	if e.Lon, err = parseFloat(lon, slow); err != nil {
		return &firebreak.FieldError{Field: "lon", Reason: "must be a number in [-180, 180]"}
	}
	e.HasGeo = true
	return nil
}

// eventType returns the event type of b, with an explicit "login" as "".
// Other values are kept for Validate to reject.
func eventType(b []byte, in *interner) string {
	if len(b) == 0 { // most events: a login that does not say so
		return ""
	}
	if t := oneOfBytes(b, firebreak.EventTypes, in); t != firebreak.TypeLogin {
		return t
	}
	return ""
}

func parseTime(b []byte, slow bool) (time.Time, error) {
	if !slow {
		if t, ok := fastTime(b); ok {
			return t, nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	return t.UTC(), err
}

func parseIP(b []byte, slow bool) (netip.Addr, error) {
	if !slow {
		if ip, ok := fastIPv4(b); ok {
			return ip, nil
		}
	}
	return netip.ParseAddr(string(b))
}

func parseFloat(b []byte, slow bool) (float64, error) {
	if !slow {
		if f, ok := fastFloat(b); ok {
			return f, nil
		}
	}
	return strconv.ParseFloat(string(b), 64)
}

// parseASN accepts a plain unsigned decimal integer that fits in 32 bits.
func parseASN(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return uint32(n), n <= 1<<32-1
}
