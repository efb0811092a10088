package firebreak_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"firebreak"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// TestAllowedTransitions pins the state machine: the forward path, resolving
// only before containment or after recovery, and reopening for triage.
func TestAllowedTransitions(t *testing.T) {
	allowed := map[[2]firebreak.State]bool{
		{"detected", "triaged"}: true, {"detected", "resolved"}: true,
		{"triaged", "contained"}: true, {"triaged", "resolved"}: true,
		{"contained", "recovered"}: true,
		{"recovered", "resolved"}:  true,
		{"resolved", "triaged"}:    true,
	}
	for _, from := range firebreak.States {
		for _, to := range firebreak.States {
			t.Run(string(from)+"_to_"+string(to), func(t *testing.T) {
				err := firebreak.CanTransition(from, to)
				if allowed[[2]firebreak.State{from, to}] {
					if err != nil {
						t.Fatalf("CanTransition = %v, want nil", err)
					}
					return
				}
				if got := firebreak.ErrorCode(err); got != firebreak.ECONFLICT {
					t.Fatalf("CanTransition = %v (code %q), want ECONFLICT", err, got)
				}
				msg := firebreak.ErrorMessage(err)
				for _, a := range firebreak.AllowedTransitions[from] {
					if !strings.Contains(msg, string(a)) {
						t.Errorf("message %q does not name the allowed state %s", msg, a)
					}
				}
			})
		}
	}
	if err := firebreak.CanTransition(firebreak.StateDetected, "closed"); firebreak.ErrorCode(err) != firebreak.EINVALID {
		t.Errorf("CanTransition to an unknown state = %v, want EINVALID", err)
	}
}

func TestTierRankAndCounts(t *testing.T) {
	var ranks []int
	for _, tier := range []firebreak.Tier{"clean", firebreak.TierTargeted, firebreak.TierAtRisk, firebreak.TierCompromised} {
		ranks = append(ranks, tier.Rank())
	}
	if want := []int{0, 1, 2, 3}; !slices.Equal(ranks, want) {
		t.Errorf("ranks of unknown, targeted, at_risk, compromised = %v, want %v", ranks, want)
	}
	var c firebreak.TierCounts
	for _, tier := range []firebreak.Tier{firebreak.TierCompromised, firebreak.TierAtRisk, firebreak.TierAtRisk, "clean"} {
		c.Add(tier, 1)
	}
	if got, want := c, (firebreak.TierCounts{Compromised: 1, AtRisk: 2}); got != want || c.Total() != 3 || c.Of(firebreak.TierAtRisk) != 2 {
		t.Errorf("counts = %+v (total %d), want %+v (total 3)", got, c.Total(), want)
	}
}

func validIncident() firebreak.Incident {
	return firebreak.Incident{Kind: firebreak.KindPasswordSpraying, Severity: firebreak.SeverityMedium,
		Title: "Spraying", Summary: "Line one.\nLine two.", FirstSeen: t0, LastSeen: t0,
		Sources: []firebreak.IncidentSource{{Kind: firebreak.SourceASN, Value: "64500", Attempts: 2, Failures: 1}}}
}

// wantFieldErr fails unless err is a *FieldError naming field ("" = valid).
func wantFieldErr(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	fe, ok := err.(*firebreak.FieldError)
	if !ok || fe.Field != field || fe.Reason == "" {
		t.Fatalf("Validate() = %#v, want a *FieldError for %q with a reason", err, field)
	}
}

func TestIncidentValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(inc *firebreak.Incident)
		field  string
	}{
		{"valid", func(*firebreak.Incident) {}, ""},
		{"valid without state or sources", func(inc *firebreak.Incident) { inc.State, inc.Sources = "", nil }, ""},
		{"unknown kind", func(inc *firebreak.Incident) { inc.Kind = "phishing" }, "kind"},
		{"unknown severity", func(inc *firebreak.Incident) { inc.Severity = "" }, "severity"},
		{"unknown state", func(inc *firebreak.Incident) { inc.State = "open" }, "state"},
		{"title too long", func(inc *firebreak.Incident) { inc.Title = strings.Repeat("x", 201) }, "title"},
		{"title with a line break", func(inc *firebreak.Incident) { inc.Title = "a\nb" }, "title"},
		{"summary with NUL", func(inc *firebreak.Incident) { inc.Summary = "a\x00" }, "summary"},
		{"summary too long", func(inc *firebreak.Incident) { inc.Summary = strings.Repeat("x", firebreak.MaxTextLen+1) }, "summary"},
		{"no first seen", func(inc *firebreak.Incident) { inc.FirstSeen = time.Time{} }, "first_seen"},
		{"last seen first", func(inc *firebreak.Incident) { inc.LastSeen = t0.Add(-1) }, "last_seen"},
		{"bad source", func(inc *firebreak.Incident) { inc.Sources[0].Value = "AS64500" }, "sources[0].value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := validIncident()
			tt.change(&inc)
			wantFieldErr(t, inc.Validate(), tt.field)
		})
	}
}

func TestIncidentSourceValidate(t *testing.T) {
	tests := []struct {
		kind  firebreak.SourceKind
		value string
		field string
	}{
		{firebreak.SourceIP, "192.0.2.1", ""},
		{firebreak.SourceIP, "2001:db8::1", ""},
		{firebreak.SourceIP, "2001:DB8::1", "value"},
		{firebreak.SourceIP, "::ffff:192.0.2.1", "value"},
		{firebreak.SourceIP, "fe80::1%eth0", "value"},
		{firebreak.SourceIP, "192.0.2.0/24", "value"},
		{firebreak.SourcePrefix, "192.0.2.0/24", ""},
		{firebreak.SourcePrefix, "2001:db8::/48", ""},
		{firebreak.SourcePrefix, "192.0.2.7/24", "value"},
		{firebreak.SourcePrefix, "192.0.2.1", "value"},
		{firebreak.SourceASN, "64500", ""},
		{firebreak.SourceASN, "AS64500", "value"},
		{firebreak.SourceASN, "064500", "value"},
		{firebreak.SourceASN, "4294967296", "value"},
		{firebreak.SourceFingerprint, "python-requests/2.31", ""},
		{firebreak.SourceFingerprint, "", "value"},
		{"country", "NO", "kind"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+" "+tt.value, func(t *testing.T) {
			s := firebreak.IncidentSource{Kind: tt.kind, Value: tt.value}
			wantFieldErr(t, s.Validate(), tt.field)
		})
	}
	counters := []struct {
		name                      string
		attempts, failures, accts int64
		field                     string
	}{
		{"negative", -1, 0, 0, "attempts"},
		{"failures over attempts", 1, 2, 0, "failures"},
	}
	for _, tt := range counters {
		t.Run(tt.name, func(t *testing.T) {
			s := firebreak.IncidentSource{Kind: firebreak.SourceIP, Value: "192.0.2.1", Attempts: tt.attempts, Failures: tt.failures, Accounts: tt.accts}
			wantFieldErr(t, s.Validate(), tt.field)
		})
	}
	dup := []firebreak.IncidentSource{{Kind: firebreak.SourceIP, Value: "192.0.2.1"}, {Kind: firebreak.SourceIP, Value: "192.0.2.1"}}
	wantFieldErr(t, firebreak.ValidateSources(dup), "sources[1].value")
}

func TestAffectedAccountValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *firebreak.AffectedAccount)
		field  string
	}{
		{"valid", func(*firebreak.AffectedAccount) {}, ""},
		{"no account", func(a *firebreak.AffectedAccount) { a.Account = "" }, "account"},
		{"clean is not a tier", func(a *firebreak.AffectedAccount) { a.Tier = "clean" }, "tier"},
		{"confidence NaN", func(a *firebreak.AffectedAccount) { a.Confidence = math.NaN() }, "confidence"},
		{"confidence negative", func(a *firebreak.AffectedAccount) { a.Confidence = -0.01 }, "confidence"},
		{"confidence infinite", func(a *firebreak.AffectedAccount) { a.Confidence = math.Inf(1) }, "confidence"},
		{"evidence invalid UTF-8", func(a *firebreak.AffectedAccount) { a.Evidence = "\xff" }, "evidence"},
		{"no first seen", func(a *firebreak.AffectedAccount) { a.FirstSeen = time.Time{} }, "first_seen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := firebreak.AffectedAccount{Account: "u1", Tier: firebreak.TierAtRisk, Confidence: 1, FirstSeen: t0, LastSeen: t0}
			tt.change(&a)
			wantFieldErr(t, a.Validate(), tt.field)
			wantFieldErr(t, firebreak.ValidateAccounts([]firebreak.AffectedAccount{a}), prefixed("accounts[0].", tt.field))
		})
	}
	moved := firebreak.AffectedAccount{Account: "u1", Tier: firebreak.TierAtRisk, FirstSeen: t0, LastSeen: t0, MovedBy: "alice"}
	wantFieldErr(t, firebreak.ValidateAccounts([]firebreak.AffectedAccount{moved}), "accounts[0].moved_by")
}

func prefixed(prefix, field string) string {
	if field == "" {
		return ""
	}
	return prefix + field
}

func TestOperatorInputValidate(t *testing.T) {
	state, sev, empty := firebreak.State("closed"), firebreak.Severity("urgent"), ""
	tests := []struct {
		name  string
		v     interface{ Validate() error }
		field string
	}{
		{"update: state", &firebreak.IncidentUpdate{State: &state}, "state"},
		{"update: severity", &firebreak.IncidentUpdate{Severity: &sev}, "severity"},
		{"update: empty title", &firebreak.IncidentUpdate{Title: &empty}, "title"},
		{"move: valid", &firebreak.TierMove{Account: "u1", To: firebreak.TierTargeted, Reason: "appeal\nupheld", Actor: "alice"}, ""},
		{"move: no reason", &firebreak.TierMove{Account: "u1", To: firebreak.TierTargeted, Actor: "alice"}, "reason"},
		{"move: unknown tier", &firebreak.TierMove{Account: "u1", To: "clean", Reason: "r", Actor: "alice"}, "to"},
		{"move: no actor", &firebreak.TierMove{Account: "u1", To: firebreak.TierTargeted, Reason: "r"}, "actor"},
		{"filter: state", &firebreak.IncidentFilter{State: "open"}, "state"},
		{"filter: kind", &firebreak.IncidentFilter{Kind: "phishing"}, "kind"},
		{"filter: limit", &firebreak.IncidentFilter{Limit: 1001}, "limit"},
		{"filter: cursor too long", &firebreak.IncidentFilter{Cursor: strings.Repeat("a", 1025)}, "cursor"},
		{"accounts: tier", &firebreak.AccountFilter{Tier: "clean"}, "tier"},
		{"accounts: limit", &firebreak.AccountFilter{Limit: -1}, "limit"},
		{"entry: kind", &firebreak.TimelineEntry{Actor: "a", Kind: "Note", Message: "m"}, "kind"},
		{"entry: data", &firebreak.TimelineEntry{Actor: "a", Kind: "note", Message: "m", Data: map[string]any{"f": math.Inf(1)}}, "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFieldErr(t, tt.v.Validate(), tt.field)
		})
	}
	upd := firebreak.IncidentUpdate{}
	if fe, ok := upd.Validate().(*firebreak.FieldError); !ok || !strings.Contains(fe.Reason, "nothing to update") {
		t.Errorf("empty update: Validate() = %#v, want a *FieldError saying there is nothing to update", upd.Validate())
	}
}

// TestIncidentJSON pins the field names the API and dashboard read.
func TestIncidentJSON(t *testing.T) {
	inc := validIncident()
	inc.ID, inc.State = 7, firebreak.StateDetected
	b, err := json.Marshal(inc)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"id", "kind", "severity", "state", "title", "first_seen", "last_seen", "opened_at", "updated_at", "sources", "counts"} {
		if _, ok := got[key]; !ok {
			t.Errorf("JSON %s lacks %q", b, key)
		}
	}
	for _, key := range []string{"resolved_at", "merged_into"} {
		if _, ok := got[key]; ok {
			t.Errorf("JSON of an open incident has %q: %s", key, b)
		}
	}
}
