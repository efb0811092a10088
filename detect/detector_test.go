package detect_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/detect"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// login builds an event; agent and device vary with the account so that
// clusters look like ordinary traffic.
func login(t time.Time, acct, ip string, ok bool) *firebreak.Event {
	e := &firebreak.Event{Time: t, Account: acct, IP: netip.MustParseAddr(ip), Outcome: firebreak.OutcomeSuccess,
		ASN: 64500, Agent: firebreak.Agent{DeviceType: "mobile", OS: "Android", Browser: "Chrome", Major: 146},
		DeviceID: "d-" + acct}
	if !ok {
		e.Outcome, e.FailureReason = firebreak.OutcomeFailure, "bad_password"
	}
	return e
}

// warm feeds ordinary traffic (3,000 logins of 600 accounts from their own
// addresses, 2% failures each followed by a success) so that the
// population's rates are established; it returns the time after.
func warm(d *detect.Detector) time.Time {
	t := t0
	for i := range 3000 {
		acct := fmt.Sprintf("w%04d", i%600)
		ip := fmt.Sprintf("10.%d.%d.1", i%600/200, i%200)
		if i%50 == 0 {
			d.Observe(login(t, acct, ip, false), 0)
		}
		d.Observe(login(t.Add(time.Second), acct, ip, true), 0)
		t = t.Add(time.Second * 2)
	}
	return t
}

// feed observes events and collects the findings by kind.
func feed(d *detect.Detector, evs []*firebreak.Event) map[detect.Kind][]detect.Finding {
	got := map[detect.Kind][]detect.Finding{}
	for _, e := range evs {
		for _, f := range d.Observe(e, 0) {
			got[f.Kind] = append(got[f.Kind], f)
		}
	}
	return got
}

func TestDetectors(t *testing.T) {
	tests := []struct {
		name   string
		events func(time.Time) []*firebreak.Event
		want   detect.Kind // the campaign kind expected, KindNone for none
		tier   map[string]detect.Tier
	}{
		{
			name: "brute force then success from the attacking address",
			events: func(t time.Time) (evs []*firebreak.Event) {
				for i := range 60 {
					evs = append(evs, login(t.Add(time.Duration(i)*20*time.Second), "victim", "203.0.113.9", false))
				}
				return append(evs, login(t.Add(25*time.Minute), "victim", "203.0.113.9", true))
			},
			want: detect.KindBruteForce,
			tier: map[string]detect.Tier{"victim": detect.TierCompromised},
		},
		{
			name: "spraying: one address, many accounts, one attempt each",
			events: func(t time.Time) (evs []*firebreak.Event) {
				for i := range 80 {
					e := login(t.Add(time.Duration(i)*30*time.Second), fmt.Sprintf("w%04d", i), "198.51.100.7", false)
					e.DeviceID, e.ASN = "", 14061
					evs = append(evs, e)
				}
				return evs
			},
			want: detect.KindSpraying,
			// Failures before the source was flagged are not attributed after the fact.
			tier: map[string]detect.Tier{"w0079": detect.TierTargeted},
		},
		{
			name: "carrier NAT: many accounts, normal success ratio",
			events: func(t time.Time) (evs []*firebreak.Event) {
				for i := range 400 {
					acct := fmt.Sprintf("w%04d", i%600)
					ok := i%20 != 0 // 5% failures, some never resolved
					evs = append(evs, login(t.Add(time.Duration(i)*5*time.Second), acct, "100.64.0.1", ok))
				}
				return evs
			},
		},
		{
			name: "typos: each failure followed by its owner's success",
			events: func(t time.Time) (evs []*firebreak.Event) {
				for i := range 100 {
					at := t.Add(time.Duration(i) * 10 * time.Second)
					acct := fmt.Sprintf("w%04d", i)
					evs = append(evs, login(at, acct, "100.64.0.2", false), login(at.Add(5*time.Second), acct, "100.64.0.2", true))
				}
				return evs
			},
		},
		{
			name: "forgetful: five failures and a success later",
			events: func(t time.Time) (evs []*firebreak.Event) {
				for i := range 5 {
					evs = append(evs, login(t.Add(time.Duration(i)*20*time.Second), "w0001", "10.0.1.1", false))
				}
				return append(evs, login(t.Add(time.Hour), "w0001", "10.0.1.1", true))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := detect.New(detect.Config{})
			start := warm(d)
			feed(d, tc.events(start))
			cs := d.Campaigns()
			if tc.want == detect.KindNone {
				if len(cs) != 0 {
					t.Fatalf("campaigns = %d (%s), want none", len(cs), cs[0].Kind)
				}
				return
			}
			if len(cs) != 1 || cs[0].Kind != tc.want {
				t.Fatalf("campaigns = %d (first %s), want one %s", len(cs), kindOf(cs), tc.want)
			}
			tiers := map[string]detect.Tier{}
			for _, a := range cs[0].Accounts {
				tiers[a.Account] = a.Tier
			}
			for acct, want := range tc.tier {
				if got := tiers[acct]; got != want {
					t.Errorf("tier of %s = %s, want %s", acct, got, want)
				}
			}
		})
	}
}

func TestImpossibleTravel(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
		after    time.Duration
		want     bool
	}{
		{"Oslo to Sydney in an hour", -33.87, 151.21, time.Hour, true},
		{"Oslo to Bergen in an hour", 60.39, 5.32, time.Hour, false},
		{"Oslo to Sydney in two days", -33.87, 151.21, 48 * time.Hour, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := detect.New(detect.Config{})
			a := login(t0, "u1", "192.0.2.1", true)
			a.Lat, a.Lon, a.HasGeo = 59.91, 10.75, true
			b := login(t0.Add(tc.after), "u1", "192.0.2.2", true)
			b.Lat, b.Lon, b.HasGeo = tc.lat, tc.lon, true
			got := feed(d, []*firebreak.Event{a, b})[detect.KindImpossibleTravel]
			if (len(got) == 1) != tc.want {
				t.Fatalf("impossible travel findings = %+v, want %v", got, tc.want)
			}
			if tc.want && got[0].Kmh < 1000 {
				t.Errorf("speed = %.0f km/h, want >= 1000", got[0].Kmh)
			}
		})
	}
}

func TestSourceEvidence(t *testing.T) {
	d := detect.New(detect.Config{})
	start := warm(d)
	var evs []*firebreak.Event
	for i := range 80 {
		e := login(start.Add(time.Duration(i)*30*time.Second), fmt.Sprintf("w%04d", i), "198.51.100.7", false)
		e.DeviceID = ""
		evs = append(evs, e)
	}
	feed(d, evs)
	at := start.Add(time.Hour)
	lr, why := d.SourceEvidence(netip.MustParseAddr("198.51.100.7"), at)
	if lr <= 0 || !strings.Contains(why, "password-spraying campaign C1") {
		t.Errorf("campaign source: logLR %.2f, reason %q; want > 0 naming C1", lr, why)
	}
	if lr, why := d.SourceEvidence(netip.MustParseAddr("10.0.0.1"), at); lr != 0 || why != "" {
		t.Errorf("ordinary source: logLR %.2f, reason %q; want 0", lr, why)
	}
	// Quiet for longer than QuietPeriod: the campaign resolves and the
	// source no longer carries evidence.
	later := at.Add(7 * time.Hour)
	d.Observe(login(later, "w0001", "10.0.0.1", true), 0)
	if lr, _ := d.SourceEvidence(netip.MustParseAddr("198.51.100.7"), later); lr != 0 {
		t.Errorf("after the quiet period: logLR %.2f, want 0", lr)
	}
	if cs := d.Campaigns(); len(cs) != 1 || cs[0].Active {
		t.Errorf("campaigns after the quiet period = %d (first %s), want one resolved", len(cs), kindOf(cs))
	}
}

func kindOf(cs []detect.Campaign) string {
	if len(cs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%s %s active=%v", cs[0].ID, cs[0].Kind, cs[0].Active)
}
