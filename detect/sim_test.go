package detect_test

import (
	"flag"
	"sync"
	"testing"

	"firebreak"
	"firebreak/detect"
	"firebreak/risk"
	"firebreak/sim"
)

// run is the outcome of one simulated scenario through risk and detect.
type run struct {
	campaigns []detect.Campaign
	findings  map[detect.Kind]int
	ato       map[string]string          // account → cohort, for accounts with an ATO success
	attacked  map[string]map[string]bool // cohort → accounts its attack touched
	factor    map[string]bool            // accounts whose attacker passed the second factor
	events    int
	peak      int
}

var (
	runMu    sync.Mutex
	runCache = map[sim.Config]*run{}
)

// simulate runs a scenario through a fresh risk model whose Reputation is
// the detector, as the engine wires them, and keeps the truth. Runs are
// cached per configuration.
func simulate(t testing.TB, scenario string, accounts, days int) *run {
	t.Helper()
	cfg := sim.DefaultConfig()
	cfg.Scenario, cfg.Accounts, cfg.Days = scenario, accounts, days
	runMu.Lock()
	defer runMu.Unlock()
	if r, ok := runCache[cfg]; ok {
		return r
	}
	d := detect.New(detect.DefaultConfig())
	m := risk.New(risk.Config{Policy: firebreak.DefaultPolicy(), Reputation: d, Capacity: accounts})
	r := &run{findings: map[detect.Kind]int{}, ato: map[string]string{}, attacked: map[string]map[string]bool{},
		factor: map[string]bool{}}
	var res risk.Result
	n := 0
	err := sim.Generate(cfg, func(e *firebreak.Event) error {
		m.Assess(e, &res)
		if n++; n&1023 == 0 {
			d.SetAccounts(m.Accounts())
		}
		for _, f := range d.Observe(e, res.Score) {
			r.findings[f.Kind]++
		}
		if e.Label.Attack {
			if r.attacked[e.Label.Cohort] == nil {
				r.attacked[e.Label.Cohort] = map[string]bool{}
			}
			r.attacked[e.Label.Cohort][e.Account] = true
			if e.Label.ATO && e.Outcome == firebreak.OutcomeSuccess {
				r.ato[e.Account] = e.Label.Cohort
				if e.Method == "mfa" {
					r.factor[e.Account] = true
				}
			}
		}
		r.events++
		if r.events%4096 == 0 {
			r.peak = max(r.peak, d.BytesUsed())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	r.campaigns = d.Campaigns()
	runCache[cfg] = r
	return r
}

// quality is the compromised tier of campaigns of one kind against the
// accounts with an ATO success of one cohort.
type quality struct {
	campaigns, tp, fp, truth int
}

func (q quality) precision() float64 { return ratio(q.tp, q.tp+q.fp) }
func (q quality) recall() float64    { return ratio(q.tp, q.truth) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (r *run) quality(kind detect.Kind, cohort string) quality {
	var q quality
	for _, c := range r.campaigns {
		if c.Kind != kind {
			continue
		}
		q.campaigns++
		for _, a := range c.Accounts {
			if a.Tier != detect.TierCompromised {
				continue
			}
			if r.ato[a.Account] == cohort {
				q.tp++
			} else {
				q.fp++
			}
		}
	}
	for _, c := range r.ato {
		if c == cohort {
			q.truth++
		}
	}
	return q
}

// major returns the campaigns of a kind holding at least a tenth of the
// accounts the cohort's attack targeted: the attack itself, not a stray
// source of it.
func (r *run) major(kind detect.Kind, cohort string) int {
	total := len(r.attacked[cohort])
	n := 0
	for _, c := range r.campaigns {
		hit := 0
		for _, a := range c.Accounts {
			if r.attacked[cohort][a.Account] {
				hit++
			}
		}
		if c.Kind == kind && hit*10 >= total {
			n++
		}
	}
	return n
}

// accounts sizes the simulated population; docs/detection.md quotes runs
// with -detect.accounts=100000.
var accounts = flag.Int("detect.accounts", 20_000, "accounts in the simulated scenarios")

const testDays = 28

func TestNoCampaignWithoutAttack(t *testing.T) {
	for _, sc := range []string{sim.ScenarioBaseline, sim.ScenarioTraps} {
		t.Run(sc, func(t *testing.T) {
			r := simulate(t, sc, *accounts, testDays)
			if got := len(r.campaigns); got != 0 {
				t.Fatalf("campaigns = %d, want 0: %+v", got, r.campaigns[0])
			}
			for _, k := range []detect.Kind{detect.KindStuffing, detect.KindSpraying, detect.KindBruteForce,
				detect.KindEnumeration, detect.KindCampaignSuccess, detect.KindSuccessAfterBurst} {
				if got := r.findings[k]; got != 0 {
					t.Errorf("%s findings = %d, want 0", k, got)
				}
			}
		})
	}
}

func TestStuffingIsOneCampaign(t *testing.T) {
	r := simulate(t, sim.ScenarioStuffing, *accounts, testDays)
	q := r.quality(detect.KindStuffing, sim.CohortStuffing)
	t.Logf("stuffing: %d campaign(s), compromised tp %d fp %d of %d: precision %.2f recall %.2f",
		q.campaigns, q.tp, q.fp, q.truth, q.precision(), q.recall())
	if q.campaigns != 1 {
		t.Fatalf("stuffing campaigns = %d, want 1", q.campaigns)
	}
	// The target is 0.95 for both; docs/detection.md reports the
	// measured figures (20,000 accounts: precision 0.88 (7/8), recall 0.50;
	// 100,000: 0.94 (44/47), 0.65 (44/68)). Precision was 0.64 at 20,000
	// before a success tied to the campaign by its cluster alone went to
	// at_risk and the address evidence stopped counting twice. These floors
	// catch regressions.
	if q.precision() < 0.8 || q.recall() < 0.45 {
		t.Errorf("compromised precision %.2f recall %.2f, want >= 0.8 and >= 0.45", q.precision(), q.recall())
	}
}

func TestSprayingIsOneCampaign(t *testing.T) {
	r := simulate(t, sim.ScenarioSpraying, *accounts, testDays)
	q := r.quality(detect.KindSpraying, sim.CohortSpraying)
	t.Logf("spraying: %d campaign(s), compromised tp %d fp %d of %d", q.campaigns, q.tp, q.fp, q.truth)
	if got := r.major(detect.KindSpraying, sim.CohortSpraying); got != 1 {
		t.Fatalf("spraying campaigns holding the attack = %d, want 1", got)
	}
	if q.precision() < 0.95 || q.recall() < 0.95 {
		t.Errorf("compromised precision %.2f recall %.2f, want both >= 0.95", q.precision(), q.recall())
	}
}

func TestBruteForceFindsEachAccount(t *testing.T) {
	r := simulate(t, sim.ScenarioBruteforce, *accounts, testDays)
	tiers := map[string]detect.Tier{}
	for _, c := range r.campaigns {
		if c.Kind != detect.KindBruteForce {
			t.Errorf("campaign %s is %s, want brute_force only", c.ID, c.Kind)
		}
		for _, a := range c.Accounts {
			tiers[a.Account] = max(tiers[a.Account], a.Tier)
		}
	}
	for acct := range r.attacked[sim.CohortBruteforce] {
		want := detect.TierTargeted
		if r.ato[acct] != "" {
			want = detect.TierCompromised
		}
		if got := tiers[acct]; got < want {
			t.Errorf("account %s tier = %s, want %s", acct, got, want)
		}
	}
	if got, want := len(r.campaigns), len(r.attacked[sim.CohortBruteforce]); got != want {
		t.Errorf("brute-force campaigns = %d, want one per attacked account (%d)", got, want)
	}
}

func TestMixedFindsEachAttackOnce(t *testing.T) {
	r := simulate(t, sim.ScenarioMixed, *accounts, testDays)
	for _, tc := range []struct {
		kind   detect.Kind
		cohort string
	}{
		{detect.KindStuffing, sim.CohortStuffing},
		{detect.KindSpraying, sim.CohortSpraying},
	} {
		q := r.quality(tc.kind, tc.cohort)
		t.Logf("%s: compromised tp %d fp %d of %d", tc.cohort, q.tp, q.fp, q.truth)
		if got := r.major(tc.kind, tc.cohort); got != 1 {
			t.Errorf("%s campaigns holding the attack = %d, want 1", tc.kind, got)
		}
		// Measured: stuffing 7/8 at 20,000 accounts, 45/49 at 100,000;
		// spraying 3/3 and 16/16.
		if q.precision() < 0.85 {
			t.Errorf("%s compromised precision %.2f (%d of %d), want >= 0.85", tc.cohort, q.precision(), q.tp, q.tp+q.fp)
		}
	}
	bf := 0
	for _, c := range r.campaigns {
		if c.Kind == detect.KindBruteForce {
			bf++
		}
	}
	if want := len(r.attacked[sim.CohortBruteforce]); bf != want {
		t.Errorf("brute-force campaigns = %d, want %d", bf, want)
	}
}

// Targeted takeovers are not campaigns: the evidence is the platform's
// challenge, failed and never passed, after a risky success. The attackers
// without the second factor are found, in one compromise campaign or a
// few (one per period of activity), and owners who gave up on a challenge
// are not. Attackers holding the factor pass as the owner would.
func TestTakeoversWithoutTheFactorAreCompromises(t *testing.T) {
	r := simulate(t, sim.ScenarioTakeover, *accounts, testDays)
	var camps, tp, fp, truth int
	for acct, cohort := range r.ato {
		if cohort == sim.CohortTargetedAbroad && !r.factor[acct] {
			truth++
		}
	}
	for _, c := range r.campaigns {
		if c.Kind != detect.KindCompromise {
			t.Errorf("campaign %s is %s, want compromise only", c.ID, c.Kind)
			continue
		}
		camps++
		for _, a := range c.Accounts {
			switch {
			case a.Tier != detect.TierCompromised:
			case r.ato[a.Account] != "":
				tp++
			default:
				fp++
				t.Logf("false claim %s: %s", a.Account, a.Evidence)
			}
		}
	}
	t.Logf("takeovers abroad without the factor: %d; compromise campaigns %d, compromised tp %d fp %d", truth, camps, tp, fp)
	// Measured: 6 of 7 at 20,000 accounts in 2 campaigns, no false.
	if recall := ratio(tp, truth); recall < 0.8 {
		t.Errorf("compromised recall %.2f (%d of %d takeovers abroad without the factor), want >= 0.8", recall, tp, truth)
	}
	if precision := ratio(tp, tp+fp); precision < 0.9 {
		t.Errorf("compromised precision %.2f (%d of %d), want >= 0.9", precision, tp, tp+fp)
	}
	if camps > 4 {
		t.Errorf("%d compromise campaigns over %d days, want a few", camps, testDays)
	}
}

// TestMemoryBounded checks that 28 days keep the detector within its fixed
// tables plus a small allowance for campaign tiers.
func TestMemoryBounded(t *testing.T) {
	r := simulate(t, sim.ScenarioMixed, *accounts, testDays)
	fixed := detect.New(detect.DefaultConfig()).BytesUsed()
	t.Logf("fixed %d bytes, peak %d bytes over %d events", fixed, r.peak, r.events)
	if r.peak > fixed+8<<20 {
		t.Errorf("peak = %d bytes, want <= fixed %d + 8 MiB", r.peak, fixed)
	}
}
