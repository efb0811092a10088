package sim_test

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ua-parser/uap-go/uaparser"

	"firebreak"
	"firebreak/sim"
)

// TestPopulationShape checks the statistics the risk model is measured on.
func TestPopulationShape(t *testing.T) {
	cfg := config(sim.ScenarioBaseline, 5000, 14)
	evs := collect(t, cfg)
	perAccount := map[string]int{}
	ipAccounts := map[netip.Addr]map[string]bool{}
	var v6, noDevice, failures, unknown int
	evs = logins(evs) // the login statistics; TestOwnerChanges checks the changes
	for _, e := range evs {
		if e.Outcome == firebreak.OutcomeSuccess {
			perAccount[e.Account]++
		} else {
			failures++
		}
		if e.FailureReason == "unknown_account" {
			unknown++
		}
		if e.IP.Is6() {
			v6++
		}
		if e.DeviceID == "" {
			noDevice++
		}
		if ipAccounts[e.IP] == nil {
			ipAccounts[e.IP] = map[string]bool{}
		}
		ipAccounts[e.IP][e.Account] = true
	}
	rates := make([]float64, 0, cfg.Accounts)
	for _, n := range perAccount {
		rates = append(rates, float64(n)/float64(cfg.Days))
	}
	for len(rates) < cfg.Accounts {
		rates = append(rates, 0) // accounts that never logged in
	}
	slices.Sort(rates)
	n := float64(len(evs))
	shared := 0
	for _, accts := range ipAccounts {
		shared = max(shared, len(accts))
	}
	tests := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"median logins per day", rates[len(rates)/2], 0.25, 0.6},
		{"99th percentile logins per day", rates[len(rates)*99/100], 3, 30},
		{"IPv6 share", float64(v6) / n, 0.1, 0.3},
		{"share without device id", float64(noDevice) / n, 0.15, 0.25},
		{"failure share", float64(failures) / n, 0.02, 0.07},
		{"unknown_account typos", float64(unknown), 1, n / 100},
		{"accounts behind the busiest address", float64(shared), 30, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Logf("%s: %.3f", tt.name, tt.got)
			if tt.got < tt.min || tt.got > tt.max {
				t.Errorf("got %.3f, want within [%g, %g]", tt.got, tt.min, tt.max)
			}
		})
	}
}

// TestUnknownAccountsDoNotExist checks that mistyped account names never name
// a real account.
func TestUnknownAccountsDoNotExist(t *testing.T) {
	evs := collect(t, config(sim.ScenarioMixed, 3000, 10))
	real := map[string]bool{}
	for _, e := range evs {
		if e.Outcome == firebreak.OutcomeSuccess {
			real[e.Account] = true
		}
	}
	for _, e := range evs {
		if (e.FailureReason == "unknown_account") == real[e.Account] && (e.FailureReason == "unknown_account" || e.Outcome == firebreak.OutcomeSuccess) {
			t.Fatalf("account %q: reason %q but real=%v", e.Account, e.FailureReason, real[e.Account])
		}
	}
}

// TestDiurnal checks that logins follow local time: in Japan (UTC+9) the
// evening hours are far busier than the small hours.
func TestDiurnal(t *testing.T) {
	var byHour [24]int
	for _, e := range collect(t, config(sim.ScenarioBaseline, 5000, 14)) {
		if e.Country == "JP" && e.Label.Cohort == "" {
			byHour[(e.Time.Hour()+9)%24]++
		}
	}
	night := byHour[2] + byHour[3] + byHour[4]
	evening := byHour[19] + byHour[20] + byHour[21]
	if evening < 5*night {
		t.Errorf("Japan: %d logins at 19-22h, %d at 2-5h local; want evenings at least 5x busier", evening, night)
	}
}

type geo struct {
	country, region, city string
	asn                   uint32
	lat, lon              float64
}

// TestGeolocationConsistent checks that enrichment is a function of the
// address, as from a geolocation database: one address, one location; one
// /24, one ASN and city.
func TestGeolocationConsistent(t *testing.T) {
	byIP := map[netip.Addr]geo{}
	byPrefix := map[netip.Prefix]geo{}
	for _, e := range collect(t, config(sim.ScenarioMixed, 3000, 10)) {
		g := geo{e.Country, e.Region, e.City, e.ASN, e.Lat, e.Lon}
		if old, ok := byIP[e.IP]; ok && old != g {
			t.Fatalf("%v located at %+v and at %+v", e.IP, old, g)
		}
		byIP[e.IP] = g
		bits := 24
		if e.IP.Is6() {
			bits = 48
		}
		p := netip.PrefixFrom(e.IP, bits).Masked()
		g.lat, g.lon = 0, 0
		if old, ok := byPrefix[p]; ok && old != g {
			t.Fatalf("%v located at %+v and at %+v", p, old, g)
		}
		byPrefix[p] = g
		if !e.IP.IsGlobalUnicast() || e.IP.IsPrivate() {
			t.Fatalf("%v is not a public address", e.IP)
		}
	}
}

// TestAgentsMatchParser checks that every user agent is one a real parser
// recognises, and that the Agent filled in agrees with it.
func TestAgentsMatchParser(t *testing.T) {
	parser := uaparser.NewFromSaved()
	seen := map[string]bool{}
	for _, e := range collect(t, config(sim.ScenarioMixed, 3000, 10)) {
		if seen[e.UserAgent] {
			continue
		}
		seen[e.UserAgent] = true
		c := parser.Parse(e.UserAgent)
		if c.UserAgent.Family != e.Agent.Browser || c.Os.Family != e.Agent.OS || c.UserAgent.Major != itoa(e.Agent.Major) {
			t.Errorf("%q: parser says %s %s on %s, Agent says %+v", e.UserAgent, c.UserAgent.Family, c.UserAgent.Major, c.Os.Family, e.Agent)
		}
		want := "desktop"
		switch {
		case strings.Contains(e.UserAgent, "iPad"), strings.Contains(e.UserAgent, "Android") && !strings.Contains(e.UserAgent, "Mobile"):
			want = "tablet"
		case strings.Contains(e.UserAgent, "iPhone"), strings.Contains(e.UserAgent, "Mobile"):
			want = "mobile"
		}
		if e.Agent.DeviceType != want {
			t.Errorf("%q: device type %q, want %q", e.UserAgent, e.Agent.DeviceType, want)
		}
	}
	if len(seen) < 30 {
		t.Errorf("only %d distinct user agents", len(seen))
	}
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestBrowsersUpgrade checks that browsers move to new major versions
// during a run, staggered across people.
func TestBrowsersUpgrade(t *testing.T) {
	first, last := map[string]int{}, map[string]int{}
	for _, e := range collect(t, config(sim.ScenarioBaseline, 5000, 14)) {
		if e.DeviceID == "" || e.Agent.Browser != "Chrome" {
			continue
		}
		if _, ok := first[e.DeviceID]; !ok {
			first[e.DeviceID] = e.Agent.Major
		}
		last[e.DeviceID] = e.Agent.Major
	}
	upgraded, stayed := 0, 0
	for d, m := range first {
		switch {
		case last[d] > m:
			upgraded++
		case last[d] == m:
			stayed++
		default:
			t.Fatalf("device %s went from Chrome %d back to %d", d, m, last[d])
		}
	}
	if upgraded == 0 || stayed == 0 {
		t.Errorf("%d devices upgraded Chrome and %d did not; want both", upgraded, stayed)
	}
}

// TestSharedEgress checks the cgnat and office cohorts: both sit behind
// addresses shared by many accounts.
func TestSharedEgress(t *testing.T) {
	accounts := map[string]map[netip.Addr]map[string]bool{sim.CohortCGNAT: {}, sim.CohortOffice: {}}
	for _, e := range collect(t, config(sim.ScenarioBaseline, 5000, 14)) {
		m, ok := accounts[e.Label.Cohort]
		if !ok {
			continue
		}
		if m[e.IP] == nil {
			m[e.IP] = map[string]bool{}
		}
		m[e.IP][e.Account] = true
	}
	for cohort, m := range accounts {
		busiest := 0
		for _, a := range m {
			busiest = max(busiest, len(a))
		}
		if busiest < 20 {
			t.Errorf("%s: busiest address has %d accounts, want at least 20", cohort, busiest)
		}
	}
}
