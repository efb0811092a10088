package firebreak_test

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"firebreak"
)

func validEvent() firebreak.Event {
	return firebreak.Event{
		Time:    time.Date(2026, 3, 2, 8, 15, 4, 0, time.UTC),
		Account: "u0012345",
		Outcome: firebreak.OutcomeSuccess,
		IP:      netip.MustParseAddr("81.23.4.56"),
		Country: "NO",
		Lat:     59.91, Lon: 10.75, HasGeo: true,
		Method: "password",
	}
}

func TestEventValidate(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		change    func(e *firebreak.Event)
		wantField string // "" means valid
	}{
		{"valid", func(e *firebreak.Event) {}, ""},
		{"no time", func(e *firebreak.Event) { e.Time = time.Time{} }, "time"},
		{"before 2000", func(e *firebreak.Event) { e.Time = time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC) }, "time"},
		{"far future", func(e *firebreak.Event) { e.Time = now.Add(48 * time.Hour) }, "time"},
		{"no account", func(e *firebreak.Event) { e.Account = "" }, "account"},
		{"account too long", func(e *firebreak.Event) { e.Account = strings.Repeat("a", 257) }, "account"},
		{"account with NUL", func(e *firebreak.Event) { e.Account = "u\x001" }, "account"},
		{"account invalid UTF-8", func(e *firebreak.Event) { e.Account = "u\xff" }, "account"},
		{"no outcome", func(e *firebreak.Event) { e.Outcome = firebreak.OutcomeUnknown }, "outcome"},
		{"no IP", func(e *firebreak.Event) { e.IP = netip.Addr{} }, "ip"},
		{"IP with zone", func(e *firebreak.Event) { e.IP = netip.MustParseAddr("fe80::1%eth0") }, "ip"},
		{"IPv4-mapped IPv6", func(e *firebreak.Event) { e.IP = netip.MustParseAddr("::ffff:1.2.3.4") }, "ip"},
		{"lower-case country", func(e *firebreak.Event) { e.Country = "no" }, "country"},
		{"NaN latitude", func(e *firebreak.Event) { e.Lat = math.NaN() }, "lat"},
		{"longitude out of range", func(e *firebreak.Event) { e.Lon = 181 }, "lon"},
		{"unknown method", func(e *firebreak.Event) { e.Method = "magic" }, "method"},
		{"unknown failure reason", func(e *firebreak.Event) { e.FailureReason = "oops" }, "failure_reason"},
		{"explicit login", func(e *firebreak.Event) { e.Type = firebreak.TypeLogin }, ""},
		{"account change", func(e *firebreak.Event) { e.Type = firebreak.TypeMFAEnroll }, ""},
		{"unknown type", func(e *firebreak.Event) { e.Type = "email_change" }, "type"},
		{"control character in user agent", func(e *firebreak.Event) { e.UserAgent = "Mozilla\n5.0" }, "user_agent"},
		{"invalid UTF-8 cohort", func(e *firebreak.Event) { e.Label = &firebreak.Label{Cohort: "vpn\xff"} }, "label.cohort"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := validEvent()
			tc.change(&e)
			err := e.Validate(now)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			fe, ok := err.(*firebreak.FieldError)
			if !ok {
				t.Fatalf("Validate() = %v (%T), want a *FieldError", err, err)
			}
			if got, want := fe.Field, tc.wantField; got != want || fe.Reason == "" {
				t.Errorf("field = %q (reason %q), want %q with a reason", got, fe.Reason, want)
			}
		})
	}
}

func TestFieldErrorNamesLineFieldAndReason(t *testing.T) {
	err := &firebreak.FieldError{Line: 3, Field: "ip", Reason: "not an IP address"}
	if got, want := err.Error(), "line 3: field ip: not an IP address"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	err := firebreak.Errorf(firebreak.ENOTFOUND, "Account %q not found.", "u1")
	if got := firebreak.ErrorCode(err); got != firebreak.ENOTFOUND {
		t.Errorf("ErrorCode = %q, want %q", got, firebreak.ENOTFOUND)
	}
	if got := firebreak.ErrorMessage(err); got != `Account "u1" not found.` {
		t.Errorf("ErrorMessage = %q", got)
	}
	// Internal errors never leak their detail to users.
	plain := errorString("disk on fire at /var/lib/x")
	if got := firebreak.ErrorCode(plain); got != firebreak.EINTERNAL {
		t.Errorf("ErrorCode(plain) = %q, want %q", got, firebreak.EINTERNAL)
	}
	if got := firebreak.ErrorMessage(plain); strings.Contains(got, "disk") {
		t.Errorf("ErrorMessage(plain) = %q leaks the internal detail", got)
	}
}

func TestFieldErrorIsInvalidInput(t *testing.T) {
	err := fmt.Errorf("decode: %w", &firebreak.FieldError{Field: "ip", Reason: "required"})
	if got := firebreak.ErrorCode(err); got != firebreak.EINVALID {
		t.Errorf("ErrorCode = %q, want %q", got, firebreak.EINVALID)
	}
	if got, want := firebreak.ErrorMessage(err), "field ip: required"; got != want {
		t.Errorf("ErrorMessage = %q, want %q", got, want)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestPolicyValidate(t *testing.T) {
	cases := []struct {
		name      string
		change    func(p *firebreak.Policy)
		wantField string
	}{
		{"default", func(p *firebreak.Policy) {}, ""},
		{"negative budget", func(p *firebreak.Policy) { p.ChallengeBudget = -0.1 }, "challenge_budget"},
		{"NaN budget", func(p *firebreak.Policy) { p.DenyBudget = math.NaN() }, "deny_budget"},
		{"deny above challenge", func(p *firebreak.Policy) { p.DenyBudget = 0.02 }, "deny_budget"},
		{"tiny window", func(p *firebreak.Policy) { p.Window = 10 }, "window"},
		{"prior of one", func(p *firebreak.Policy) { p.Prior = 1 }, "prior"},
		{"fixed challenge zero", func(p *firebreak.Policy) { p.Fixed = &firebreak.FixedThresholds{Challenge: 0, Deny: 0.9} }, "fixed_thresholds.challenge"},
		{"fixed ok", func(p *firebreak.Policy) { p.Fixed = &firebreak.FixedThresholds{Challenge: 0.5, Deny: 0.9} }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := firebreak.DefaultPolicy()
			tc.change(&p)
			err := p.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			fe, ok := err.(*firebreak.FieldError)
			if !ok || fe.Field != tc.wantField {
				t.Errorf("Validate() = %v, want a field error on %q", err, tc.wantField)
			}
		})
	}
}

func TestEventIsLogin(t *testing.T) {
	for typ, want := range map[string]bool{"": true, firebreak.TypeLogin: true, firebreak.TypePasswordChange: false, firebreak.TypeMFARemove: false} {
		e := firebreak.Event{Type: typ}
		if got := e.IsLogin(); got != want {
			t.Errorf("Event{Type: %q}.IsLogin() = %v, want %v", typ, got, want)
		}
	}
}
