package firebreak

import (
	"net/netip"
	"slices"
	"strconv"
)

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
	for _, c := range []struct {
		field string
		n     int64
	}{{"attempts", s.Attempts}, {"failures", s.Failures}, {"accounts", s.Accounts}} {
		if c.n < 0 {
			return &FieldError{Field: c.field, Reason: "must not be negative"}
		}
	}
	if s.Failures > s.Attempts {
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
		return &FieldError{Field: "sources", Reason: "more than " + strconv.Itoa(MaxBatch)}
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
