package sim_test

import (
	"net/netip"
	"testing"
	"time"

	"firebreak"
	"firebreak/sim"
)

// attackConfig is large enough for stuffing to need over a thousand proxies.
func attackConfig() sim.Config { return config(sim.ScenarioMixed, 40_000, 7) }

// byCohort returns the events of one cohort.
func byCohort(evs []firebreak.Event, cohort string) []firebreak.Event {
	var out []firebreak.Event
	for _, e := range evs {
		if e.Label.Cohort == cohort {
			out = append(out, e)
		}
	}
	return out
}

// homes returns each account's most frequent country, city and ASN among its
// ordinary logins (no attack, no trap).
func homes(evs []firebreak.Event) map[string]geo {
	counts := map[string]map[geo]int{}
	for _, e := range evs {
		if c := e.Label.Cohort; c != "" && c != sim.CohortCGNAT && c != sim.CohortOffice {
			continue
		}
		if counts[e.Account] == nil {
			counts[e.Account] = map[geo]int{}
		}
		counts[e.Account][geo{country: e.Country, city: e.City, asn: e.ASN}]++
	}
	out := map[string]geo{}
	for acct, m := range counts {
		best, bestN := geo{}, 0
		for g, n := range m {
			if n > bestN || (n == bestN && g.city < best.city) {
				best, bestN = g, n
			}
		}
		out[acct] = best
	}
	return out
}

func TestAttacksStartAfterHistory(t *testing.T) {
	cfg := attackConfig()
	earliest := cfg.Start.Add(time.Duration(0.4 * float64(cfg.Days) * float64(24*time.Hour)))
	for _, e := range collect(t, cfg) {
		if e.Label.Attack && e.Time.Before(earliest) {
			t.Fatalf("%s attack event at %v, before %v", e.Label.Cohort, e.Time, earliest)
		}
	}
}

func TestStuffingShape(t *testing.T) {
	evs := byCohort(collect(t, attackConfig()), sim.CohortStuffing)
	perIP := map[netip.Addr]int{}
	asns, countries := map[uint32]bool{}, map[string]bool{}
	var real, hits, unknown int
	for _, e := range evs {
		perIP[e.IP]++
		asns[e.ASN], countries[e.Country] = true, true
		if e.DeviceID != "" {
			t.Fatalf("stuffing event with device id %q", e.DeviceID)
		}
		switch {
		case e.FailureReason == "unknown_account":
			unknown++
		case e.Outcome == firebreak.OutcomeSuccess:
			real++
			hits++
		default:
			real++
		}
	}
	busiest := 0
	for _, n := range perIP {
		busiest = max(busiest, n)
	}
	span := evs[len(evs)-1].Time.Sub(evs[0].Time)
	tests := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"distinct addresses", float64(len(perIP)), 1000, 1e9},
		{"attempts from the busiest address", float64(busiest), 1, 12},
		{"ASNs", float64(len(asns)), 40, 1e9},
		{"countries", float64(len(countries)), 10, 1e9},
		{"success rate on real accounts", float64(hits) / float64(real), 0.005, 0.02},
		{"unknown account share", float64(unknown) / float64(len(evs)), 0.25, 0.35},
		{"hours", span.Hours(), 2, 72 + 48},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Logf("%s: %.4f", tt.name, tt.got)
			if tt.got < tt.min || tt.got > tt.max {
				t.Errorf("got %.4f, want within [%g, %g]", tt.got, tt.min, tt.max)
			}
		})
	}
}

func TestSprayingShape(t *testing.T) {
	evs := byCohort(collect(t, attackConfig()), sim.CohortSpraying)
	ips, asns, perAccount, agents := map[netip.Addr]bool{}, map[uint32]bool{}, map[string]int{}, map[string]bool{}
	hits := 0
	for _, e := range evs {
		ips[e.IP], asns[e.ASN], agents[e.UserAgent] = true, true, true
		if e.Method == "mfa" {
			continue // the platform's challenge after a hit, not a guess
		}
		perAccount[e.Account]++
		if e.Outcome == firebreak.OutcomeSuccess {
			hits++
		}
	}
	most := 0
	for _, n := range perAccount {
		most = max(most, n)
	}
	span := evs[len(evs)-1].Time.Sub(evs[0].Time)
	switch {
	case len(ips) < 20 || len(ips) > 50:
		t.Errorf("%d addresses, want 20-50", len(ips))
	case len(asns) > 2:
		t.Errorf("%d ASNs, want one or two", len(asns))
	case len(agents) > 3:
		t.Errorf("%d user agents, want at most 3", len(agents))
	case most > 2:
		t.Errorf("an account was tried %d times, want at most 2", most)
	case len(perAccount) < 2000:
		t.Errorf("only %d accounts tried", len(perAccount))
	case hits == 0 || float64(hits)/float64(len(perAccount)) > 0.005:
		t.Errorf("%d of %d accounts fell, want about 0.2%%", hits, len(perAccount))
	case span > 14*time.Hour || span < 8*time.Hour:
		t.Errorf("spraying lasted %v, want about 12h", span)
	}
}

func TestBruteforceShape(t *testing.T) {
	evs := byCohort(collect(t, attackConfig()), sim.CohortBruteforce)
	type acct struct {
		failures, successes int
		ips                 map[netip.Addr]bool
		first, last         time.Time
	}
	m := map[string]*acct{}
	for _, e := range evs {
		a := m[e.Account]
		if a == nil {
			a = &acct{ips: map[netip.Addr]bool{}, first: e.Time}
			m[e.Account] = a
		}
		a.ips[e.IP] = true
		if e.Outcome == firebreak.OutcomeSuccess {
			a.successes++
		} else {
			a.failures++
			a.last = e.Time
		}
	}
	if len(m) < 3 || len(m) > 5 {
		t.Fatalf("%d accounts brute-forced, want 3-5", len(m))
	}
	fallen := 0
	for name, a := range m {
		if a.failures < 200 || len(a.ips) > 3 || a.last.Sub(a.first) > 2*time.Hour {
			t.Errorf("%s: %d failures from %d addresses over %v; want hundreds from 1-3 within two hours", name, a.failures, len(a.ips), a.last.Sub(a.first))
		}
		if a.successes > 0 {
			fallen++
		}
	}
	if fallen != 1 {
		t.Errorf("%d accounts fell, want exactly one", fallen)
	}
}

func TestTargetedAbroadShape(t *testing.T) {
	all := collect(t, attackConfig())
	home := homes(all)
	evs := byCohort(all, sim.CohortTargetedAbroad)
	victims := map[string]bool{}
	for _, e := range evs {
		victims[e.Account] = true
		if e.Country == home[e.Account].country {
			t.Errorf("%s: attacker in the victim's home country %s", e.Account, e.Country)
		}
		if e.DeviceID == "" {
			t.Errorf("%s: attacker without a device id", e.Account)
		}
	}
	if len(victims) < 10 || len(victims) > 48 {
		t.Errorf("%d victims, want a few dozen", len(victims))
	}
}

func TestLocalTakeoverShape(t *testing.T) {
	all := collect(t, attackConfig())
	type seen struct {
		asns, cities map[string]bool
		ips          map[netip.Addr]bool
		agents       map[string]bool
	}
	legit := map[string]*seen{}
	for _, e := range all {
		if e.Label.Attack {
			continue
		}
		s := legit[e.Account]
		if s == nil {
			s = &seen{map[string]bool{}, map[string]bool{}, map[netip.Addr]bool{}, map[string]bool{}}
			legit[e.Account] = s
		}
		s.asns[itoa(int(e.ASN))], s.cities[e.City], s.ips[e.IP] = true, true, true
		s.agents[e.Agent.OS+"/"+e.Agent.Browser] = true
	}
	evs := byCohort(all, sim.CohortLocalTakeover)
	if len(evs) == 0 {
		t.Fatal("no local takeover")
	}
	for _, e := range evs {
		s := legit[e.Account]
		switch {
		case s == nil:
			t.Errorf("%s: victim has no history", e.Account)
		case !s.asns[itoa(int(e.ASN))] || !s.cities[e.City]:
			t.Errorf("%s: attacker in AS%d %s, outside the victim's ASNs and cities", e.Account, e.ASN, e.City)
		case s.ips[e.IP]:
			t.Errorf("%s: attacker uses the victim's own address %v", e.Account, e.IP)
		case !s.agents[e.Agent.OS+"/"+e.Agent.Browser]:
			t.Errorf("%s: attacker browser %s/%s never used by the victim", e.Account, e.Agent.OS, e.Agent.Browser)
		}
	}
}

// TestAttackersLookOrdinary checks the artefacts a model must not be able
// to lean on: attacker user agents and networks also occur in legitimate
// traffic (VPN users, iCloud Private Relay, people tunnelling through their
// own rented server).
func TestAttackersLookOrdinary(t *testing.T) {
	evs := collect(t, attackConfig())
	legitUA, legitASN := map[string]bool{}, map[uint32]bool{}
	for _, e := range evs {
		if !e.Label.Attack {
			legitUA[e.UserAgent], legitASN[e.ASN] = true, true
		}
	}
	attackUAs, sharedUAs := map[string]bool{}, 0
	for _, e := range evs {
		if !e.Label.Attack {
			continue
		}
		if !legitASN[e.ASN] {
			t.Errorf("%s: AS%d never seen in legitimate traffic", e.Label.Cohort, e.ASN)
		}
		if !attackUAs[e.UserAgent] {
			attackUAs[e.UserAgent] = true
			if legitUA[e.UserAgent] {
				sharedUAs++
			}
		}
	}
	if float64(sharedUAs) < 0.9*float64(len(attackUAs)) {
		t.Errorf("only %d of %d attacker user agents occur in legitimate traffic", sharedUAs, len(attackUAs))
	}
}
