package sim

import (
	"math"
	"time"

	"firebreak"
)

// Config says what to simulate.
type Config struct {
	Accounts int       // number of real accounts (people)
	Days     int       // length of the simulated period
	Scenario string    // one of Scenarios()
	Seed     uint64    // the same seed gives the same events
	Start    time.Time // first instant of the period
	// AttackerChanges is the share of manual takeovers (targeted_abroad,
	// local_takeover) in which the attacker, once in, makes one change to
	// the account's security settings: an assumption, as no published
	// figure gives it (see docs/simulator.md).
	AttackerChanges float64
}

// Limits on Config values.
const (
	MinAccounts = 10
	MaxAccounts = 10_000_000
	MaxDays     = 366
)

// DefaultConfig returns a mixed scenario of 10,000 accounts over four weeks
// starting on Monday 2 March 2026, where half the manual takeovers change
// the account's security settings.
func DefaultConfig() Config {
	return Config{
		Accounts: 10_000,
		Days:     28,
		Scenario: ScenarioMixed,
		Seed:     1,
		Start:    time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),

		AttackerChanges: 0.5,
	}
}

// Validate returns a *firebreak.Error with code EINVALID naming the first bad
// field and its value, or nil.
func (c Config) Validate() error {
	switch {
	case c.Accounts < MinAccounts || c.Accounts > MaxAccounts:
		return firebreak.Errorf(firebreak.EINVALID, "accounts = %d: must be between %d and %d", c.Accounts, MinAccounts, MaxAccounts)
	case c.Days < 1 || c.Days > MaxDays:
		return firebreak.Errorf(firebreak.EINVALID, "days = %d: must be between 1 and %d", c.Days, MaxDays)
	case scenarioByName(c.Scenario) == nil:
		return firebreak.Errorf(firebreak.EINVALID, "scenario = %q: must be one of %v", c.Scenario, Scenarios())
	case c.Start.Before(firebreak.MinEventTime):
		return firebreak.Errorf(firebreak.EINVALID, "start = %s: must not be before %s", c.Start.Format(time.RFC3339), firebreak.MinEventTime.Format(time.RFC3339))
	case c.Start.After(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)):
		return firebreak.Errorf(firebreak.EINVALID, "start = %s: must be before 2200", c.Start.Format(time.RFC3339))
	case math.IsNaN(c.AttackerChanges) || c.AttackerChanges < 0 || c.AttackerChanges > 1:
		return firebreak.Errorf(firebreak.EINVALID, "attacker-changes = %g: must be between 0 and 1", c.AttackerChanges)
	}
	return nil
}

// Scenario names.
const (
	ScenarioBaseline   = "baseline"
	ScenarioTraps      = "traps"
	ScenarioMixed      = "mixed"
	ScenarioStuffing   = "stuffing"
	ScenarioTakeover   = "takeover"
	ScenarioSpraying   = "spraying"
	ScenarioBruteforce = "bruteforce"
)

// Cohorts written to firebreak.Label.Cohort. Ordinary traffic has none.
const (
	CohortCGNAT          = "cgnat"           // people without home broadband, always behind carrier-grade NAT
	CohortOffice         = "office"          // people working in an office behind one egress IP
	CohortTraveller      = "traveller"       // logins during a trip abroad
	CohortNewPhone       = "new_phone"       // logins from a newly bought phone
	CohortVPN            = "vpn"             // logins through a commercial VPN exit
	CohortForgetful      = "forgetful"       // a burst of bad passwords and a lockout, then success
	CohortSurge          = "surge"           // the marketing-surge login
	CohortStuffing       = "stuffing"        // credential stuffing
	CohortTargetedAbroad = "targeted_abroad" // targeted takeover from another country
	CohortLocalTakeover  = "local_takeover"  // takeover from the victim's own city, ISP and browser
	CohortSpraying       = "spraying"        // password spraying
	CohortBruteforce     = "bruteforce"      // brute force against single accounts
)

// cohort numbers index cohortNames.
const (
	cNone uint8 = iota
	cCGNAT
	cOffice
	cTraveller
	cNewPhone
	cVPN
	cForgetful
	cSurge
	cStuffing
	cTargetedAbroad
	cLocalTakeover
	cSpraying
	cBruteforce
)

var cohortNames = [...]string{"", CohortCGNAT, CohortOffice, CohortTraveller, CohortNewPhone, CohortVPN,
	CohortForgetful, CohortSurge, CohortStuffing, CohortTargetedAbroad, CohortLocalTakeover, CohortSpraying, CohortBruteforce}

// Attack kinds, as a bit set.
const (
	atkStuffing = 1 << iota
	atkTakeover
	atkSpraying
	atkBruteforce
	atkAll = atkStuffing | atkTakeover | atkSpraying | atkBruteforce
)

type scenario struct {
	name    string
	doc     string
	traps   bool
	attacks int
}

var scenarios = []scenario{
	{ScenarioBaseline, "the ordinary population only (cohorts cgnat and office are labelled)", false, 0},
	{ScenarioTraps, "population plus every false-positive trap (traveller, new_phone, vpn, forgetful, surge); no attacks", true, 0},
	{ScenarioMixed, "population, traps and every attack", true, atkAll},
	{ScenarioStuffing, "population plus credential stuffing through residential proxies", false, atkStuffing},
	{ScenarioTakeover, "population plus targeted takeovers from abroad and from the victim's own city", false, atkTakeover},
	{ScenarioSpraying, "population plus password spraying from hosting networks", false, atkSpraying},
	{ScenarioBruteforce, "population plus brute force against a few accounts", false, atkBruteforce},
}

// Scenarios returns the scenario names in a fixed order.
func Scenarios() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

// ScenarioDoc returns a one-line description of a scenario, and false when
// the name is unknown.
func ScenarioDoc(name string) (string, bool) {
	if s := scenarioByName(name); s != nil {
		return s.doc, true
	}
	return "", false
}

func scenarioByName(name string) *scenario {
	for i := range scenarios {
		if scenarios[i].name == name {
			return &scenarios[i]
		}
	}
	return nil
}
