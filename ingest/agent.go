package ingest

import (
	"strconv"
	"unicode/utf8"

	"firebreak"
)

// maxBrowserMajor is the largest accepted browser major version.
const maxBrowserMajor = 10000

// Common agent values, shared so that reading them back from the journal
// (ParseNative, without a Decoder's interner) does not allocate.
var (
	deviceTypes = []string{"desktop", "mobile", "tablet", "bot", "other"}
	osFamilies  = []string{"Windows", "Android", "iOS", "Mac OS X", "Linux", "Chrome OS", "Ubuntu", "Other"}
	browsers    = []string{"Chrome", "Mobile Safari", "Chrome Mobile", "Safari", "Firefox", "Edge",
		"Samsung Internet", "Chrome Mobile iOS", "Chrome Mobile WebView", "Opera", "Firefox Mobile", "Other"}
)

// buildAgent fills e.Agent from the optional enrichment fields and checks it.
func (r *rawNative) buildAgent(e *firebreak.Event, in *interner) error {
	e.Agent.DeviceType = oneOfBytes(r.val[fDeviceType], deviceTypes, in)
	e.Agent.OS = oneOfBytes(r.val[fOS], osFamilies, in)
	e.Agent.Browser = oneOfBytes(r.val[fBrowser], browsers, in)
	if v := r.val[fBrowserMajor]; v != nil {
		n, ok := parseUint(v, maxBrowserMajor)
		if !ok {
			return &firebreak.FieldError{Field: "browser_major", Reason: "must be an integer in [0, " + strconv.Itoa(maxBrowserMajor) + "]"}
		}
		e.Agent.Major = int(n)
	}
	return checkAgent(&e.Agent)
}

// checkAgent holds the agent's text to the rules of the other short fields,
// so that whatever a decoder accepts AppendNative can write and ParseNative
// can read back (the journal depends on it).
func checkAgent(a *firebreak.Agent) error {
	for _, f := range []struct{ name, v string }{
		{"device_type", a.DeviceType}, {"os", a.OS}, {"browser", a.Browser},
	} {
		if err := checkShortText(f.name, f.v); err != nil {
			return err
		}
	}
	if a.Major < 0 || a.Major > maxBrowserMajor {
		return &firebreak.FieldError{Field: "browser_major", Reason: "must be an integer in [0, " + strconv.Itoa(maxBrowserMajor) + "]"}
	}
	return nil
}

// checkShortText applies firebreak.Event.Validate's rules for optional text
// of at most firebreak.MaxShortField bytes.
func checkShortText(field, v string) error {
	if len(v) > firebreak.MaxShortField {
		return &firebreak.FieldError{Field: field, Reason: "longer than " + strconv.Itoa(firebreak.MaxShortField) + " bytes"}
	}
	if !utf8.ValidString(v) {
		return &firebreak.FieldError{Field: field, Reason: "invalid UTF-8"}
	}
	for i := 0; i < len(v); i++ {
		// Multi-byte UTF-8 sequences have no bytes below 0x80, so a byte scan
		// finds exactly the ASCII control characters.
		if c := v[i]; c < 0x20 || c == 0x7f {
			return &firebreak.FieldError{Field: field, Reason: "control character not allowed"}
		}
	}
	return nil
}

// parseUint accepts a plain unsigned decimal integer no larger than max.
func parseUint(b []byte, max uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n <= max
}
