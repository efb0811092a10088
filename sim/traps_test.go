package sim_test

import (
	"math"
	"testing"
	"time"

	"firebreak"
	"firebreak/sim"
)

func trapConfig() sim.Config { return config(sim.ScenarioTraps, 6000, 10) }

func TestSurge(t *testing.T) {
	cfg := trapConfig()
	hours := map[time.Time]map[string]bool{}
	var surgeFirst, surgeLast time.Time
	for _, e := range collect(t, cfg) {
		h := e.Time.Truncate(time.Hour)
		if hours[h] == nil {
			hours[h] = map[string]bool{}
		}
		hours[h][e.Account] = true
		if e.Label.Cohort == sim.CohortSurge && e.Method != "mfa" { // a challenge may time out later
			if surgeFirst.IsZero() {
				surgeFirst = e.Time
			}
			surgeLast = e.Time
		}
	}
	busiest := 0
	for _, a := range hours {
		busiest = max(busiest, len(a))
	}
	if share := float64(busiest) / float64(cfg.Accounts); share < 0.4 {
		t.Errorf("busiest hour has %.1f%% of accounts, want at least 40%%", 100*share)
	}
	if d := surgeLast.Sub(surgeFirst); d > time.Hour+time.Minute {
		t.Errorf("surge logins span %v, want about an hour", d)
	}
}

// TestTravellersFlyRealistically checks that no traveller reaches the
// destination faster than an airliner: distance over time stays under
// 1,000 km/h between the last login at home and the first one abroad.
func TestTravellersFlyRealistically(t *testing.T) {
	evs := collect(t, trapConfig())
	home := homes(evs)
	type pos struct {
		t        time.Time
		lat, lon float64
	}
	last := map[string]pos{}
	abroad, checked := 0, 0
	for _, e := range evs {
		p := pos{e.Time, e.Lat, e.Lon}
		if e.Label.Cohort != sim.CohortTraveller {
			if e.Country == home[e.Account].country {
				last[e.Account] = p
			}
			continue
		}
		if e.Country == home[e.Account].country {
			continue // roaming on the home carrier
		}
		abroad++
		prev, ok := last[e.Account]
		if !ok {
			continue
		}
		delete(last, e.Account) // only the first login abroad after home
		checked++
		km := haversine(prev.lat, prev.lon, p.lat, p.lon)
		if speed := km / e.Time.Sub(prev.t).Hours(); speed > 1000 {
			t.Errorf("%s: %0.f km in %v (%0.f km/h)", e.Account, km, e.Time.Sub(prev.t), speed)
		}
	}
	if abroad == 0 || checked == 0 {
		t.Fatalf("%d traveller logins abroad, %d arrivals checked", abroad, checked)
	}
}

func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * 6371 * math.Asin(math.Sqrt(a))
}

func TestNewPhoneIsNew(t *testing.T) {
	devices := map[string]map[string]bool{}
	newPhones := 0
	for _, e := range collect(t, trapConfig()) {
		if devices[e.Account] == nil {
			devices[e.Account] = map[string]bool{}
		}
		if e.Label.Cohort == sim.CohortNewPhone && e.DeviceID != "" && len(devices[e.Account]) > 0 && !devices[e.Account][e.DeviceID] {
			newPhones++
		}
		if e.Label.Cohort == sim.CohortNewPhone && e.Agent.DeviceType != "mobile" {
			t.Errorf("%s: new phone with device type %q", e.Account, e.Agent.DeviceType)
		}
		devices[e.Account][e.DeviceID] = true
	}
	if newPhones < 20 {
		t.Errorf("%d new phones appeared after earlier devices, want about 1%% of accounts", newPhones)
	}
}

func TestVPNExitsAbroad(t *testing.T) {
	evs := collect(t, trapConfig())
	home := homes(evs)
	n := 0
	for _, e := range byCohort(evs, sim.CohortVPN) {
		n++
		if e.Country == home[e.Account].country {
			t.Errorf("%s: VPN exit in the home country %s", e.Account, e.Country)
		}
	}
	if n < 50 {
		t.Errorf("%d VPN logins, want more", n)
	}
}

func TestForgetfulLocksThenSucceeds(t *testing.T) {
	type state struct{ bad, locked, success int }
	m := map[string]*state{}
	for _, e := range byCohort(collect(t, trapConfig()), sim.CohortForgetful) {
		s := m[e.Account]
		if s == nil {
			s = &state{}
			m[e.Account] = s
		}
		switch {
		case e.Outcome == firebreak.OutcomeSuccess:
			s.success++
		case e.FailureReason == "locked":
			s.locked++
		case e.FailureReason == "bad_password" && s.locked == 0:
			s.bad++
		default:
			t.Errorf("%s: unexpected %s %s", e.Account, e.Outcome, e.FailureReason)
		}
	}
	if len(m) < 20 {
		t.Fatalf("%d forgetful accounts, want about 0.5%%", len(m))
	}
	for acct, s := range m {
		if s.bad < 3 || s.locked < 1 || s.bad+s.locked > 8 || s.success != 1 {
			t.Errorf("%s: %d bad passwords, %d locked, %d successes", acct, s.bad, s.locked, s.success)
		}
	}
}
