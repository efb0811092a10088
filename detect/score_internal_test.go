package detect

import (
	"math"
	"testing"
	"unsafe"
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
	} {
		if c.got != c.want {
			t.Errorf("%s is %d bytes, the constant says %d", c.name, c.got, c.want)
		}
	}
}
