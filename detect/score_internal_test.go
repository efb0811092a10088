package detect

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"firebreak"
)

// withoutLogLR takes evidence out of a score: the campaign reputation the
// risk model added must not be counted twice by judge.
func TestWithoutLogLR(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, tc := range []struct{ logOdds, lr float64 }{{4, 3}, {-2, 5}, {10, 6.91}, {0, 0}} {
		got, want := withoutLogLR(sig(tc.logOdds), tc.lr), sig(tc.logOdds-tc.lr)
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("withoutLogLR(sig(%g), %g) = %g, want %g", tc.logOdds, tc.lr, got, want)
		}
	}
	if got := withoutLogLR(1, 2); !(got > 0.99 && got < 1) {
		t.Errorf("withoutLogLR(1, 2) = %g, want a finite score just below 1", got)
	}
}

// The sizes BytesUsed reports are the real ones.
func TestEntrySizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"acctEntry", unsafe.Sizeof(acctEntry{}), acctSize},
		{"entry", unsafe.Sizeof(entry{}), entrySize},
		{"success", unsafe.Sizeof(success{}), successSize},
		{"tierRec", unsafe.Sizeof(tierRec{}), tierRecSize},
		{"pendingStepUp", unsafe.Sizeof(pendingStepUp{}), pendingSize},
	} {
		if c.got != c.want {
			t.Errorf("%s is %d bytes, the constant says %d", c.name, c.got, c.want)
		}
	}
}

// A client label fits an incident source's value, even for a long user
// agent nobody parsed, and is cut at a character, not inside one.
func TestLabelFitsASource(t *testing.T) {
	for _, ua := range []string{strings.Repeat("é", 300), "Mozilla/5.0 " + strings.Repeat("x", 200), "curl/8.5"} {
		for _, dev := range []string{"", "d-1"} {
			l := label(&firebreak.Event{UserAgent: ua, DeviceID: dev})
			src := firebreak.IncidentSource{Kind: firebreak.SourceFingerprint, Value: l}
			if err := src.Validate(); err != nil || !utf8.ValidString(l) {
				t.Errorf("label of %.20q… = %q (%d bytes): %v", ua, l, len(l), err)
			}
		}
	}
}
