package http

import (
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"firebreak"
)

// FuzzPlanForm posts arbitrary form bodies to the plan form's parser and
// checks that it never panics, that every step it builds comes from a row
// with the row's own actions, and that the spec it passes on is either
// refused by Validate with a field error or valid.
func FuzzPlanForm(f *testing.F) {
	for _, seed := range []string{
		"compromised=force_password_reset&compromised=revoke_sessions&at_risk=require_step_up&stages=canary",
		"sources=block_source&duration.sources=24h&stages=all&rate_limit=50",
		"compromised=temporary_lock&duration.compromised=soon&stages=custom&custom_stages=5,25,100&manual=yes",
		"targeted=block_source&stages=custom&custom_stages=NaN&rate_limit=Inf",
		"stages=pie&note=%00",
	} {
		f.Add(seed)
	}
	inc := &firebreak.Incident{ID: 3, Counts: firebreak.TierCounts{Compromised: 2, AtRisk: 1},
		Sources: []firebreak.IncidentSource{{Kind: firebreak.SourceIP, Value: "203.0.113.9"}}}
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		form := newPlanForm(inc)
		form.fill(v)
		spec, rowOf := form.spec(v)
		if len(rowOf) != len(spec.Steps) {
			t.Fatalf("%d steps but %d rows", len(spec.Steps), len(rowOf))
		}
		for i, step := range spec.Steps {
			row := form.Rows[rowOf[i]]
			for _, a := range step.Actions {
				if !slices.Contains(v[row.Key], string(a)) {
					t.Fatalf("step %d has %s, which row %s did not tick", i, a, row.Key)
				}
			}
		}
		if form.HasErrors() {
			return
		}
		spec.Normalize()
		var fe *firebreak.FieldError
		if err := spec.Validate(); err != nil && !errors.As(err, &fe) {
			t.Fatalf("Validate = %v, want a field error", err)
		} else if fe != nil {
			form.refuse(fe.Error(), []firebreak.FieldError{*fe}, rowOf)
			if !form.HasErrors() {
				t.Fatalf("refusal %v is shown nowhere", fe)
			}
		}
	})
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"24h", "24h"}, {"90m", "1h30m"}, {"5m", "5m"}, {"10s", "10s"}, {"1h0m30s", "1h0m30s"}, {"720h", "720h"},
	} {
		d, err := time.ParseDuration(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatDuration(d); got != tt.want {
			t.Errorf("formatDuration(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   float64
		want string
	}{{0.01, "1%"}, {0.1, "10%"}, {0.07, "7%"}, {0.125, "12.5%"}, {1, "100%"}} {
		if got := share(tt.in); got != tt.want {
			t.Errorf("share(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
