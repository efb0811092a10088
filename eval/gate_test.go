package eval_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"firebreak"
	"firebreak/eval"
)

// withRates builds a report with legitChallenged of 100 legitimate
// successful logins challenged; labelled false leaves the labels off.
func withRates(legitChallenged int, labelled bool) *eval.Report {
	var r eval.Report
	for i := range 100 {
		var l *firebreak.Label
		if labelled {
			l = legit("")
		}
		d := firebreak.Allow
		if i < legitChallenged {
			d = firebreak.Challenge
		}
		r.Add(login("a", true, l), verdict(0, d))
	}
	if labelled {
		// Caught takeovers raise the overall rate, never the legitimate one.
		for range 50 {
			r.Add(login("x", true, ato("stuffing")), verdict(1, firebreak.Deny))
		}
	}
	return &r
}

func TestGate(t *testing.T) {
	tests := []struct {
		name      string
		report    *eval.Report
		limit     float64
		wantErr   bool
		wantLegit bool
		wantText  []string
	}{
		{"legit rate under the limit", withRates(1, true), 0.02, false, false, nil},
		{"legit rate equal to the limit passes", withRates(2, true), 0.02, false, false, nil},
		{"legit rate over the limit", withRates(3, true), 0.02, true, true,
			[]string{"legitimate challenge rate 3.000%", "3 of 100", "limit 2%"}},
		{"overall rate used without labels", withRates(3, false), 0.02, true, false,
			[]string{"challenge rate 3.000% over all successful logins", "overall rate is used", "limit 2%"}},
		{"no labels, under the limit", withRates(1, false), 0.02, false, false, nil},
		{"empty run passes", &eval.Report{}, 0, false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.report.Gate(tt.limit)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Gate(%v) = %v, want error %v", tt.limit, err, tt.wantErr)
			}
			if err == nil {
				return
			}
			var ge *eval.GateError
			if !errors.As(err, &ge) || ge.Legit != tt.wantLegit || ge.Limit != tt.limit {
				t.Errorf("error = %#v, want a GateError with Legit %v, Limit %v", err, tt.wantLegit, tt.limit)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestGateRejectsBadLimits(t *testing.T) {
	for _, limit := range []float64{-0.1, 1.5, math.NaN()} {
		err := withRates(0, true).Gate(limit)
		if got := firebreak.ErrorCode(err); got != firebreak.EINVALID {
			t.Errorf("Gate(%v) = %v, want an EINVALID error", limit, err)
		}
	}
}
