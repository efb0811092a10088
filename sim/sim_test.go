package sim_test

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/sim"
)

// config returns a small configuration for tests.
func config(scenario string, accounts, days int) sim.Config {
	cfg := sim.DefaultConfig()
	cfg.Scenario, cfg.Accounts, cfg.Days = scenario, accounts, days
	return cfg
}

type cacheKey struct {
	cfg         sim.Config
	attacksOnly bool
}

var (
	cacheMu sync.Mutex
	cache   = map[cacheKey][]firebreak.Event{}
)

// collect runs the simulator once per configuration and keeps deep copies
// of the events.
func collect(t testing.TB, cfg sim.Config) []firebreak.Event {
	t.Helper()
	return collectCached(t, cacheKey{cfg: cfg})
}

// attackEvents is collect keeping the attack events only: cheaper on large
// runs.
func attackEvents(t testing.TB, cfg sim.Config) []firebreak.Event {
	t.Helper()
	return collectCached(t, cacheKey{cfg: cfg, attacksOnly: true})
}

func collectCached(t testing.TB, k cacheKey) []firebreak.Event {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if evs, ok := cache[k]; ok {
		return evs
	}
	var evs []firebreak.Event
	err := sim.Generate(k.cfg, func(e *firebreak.Event) error {
		if k.attacksOnly && !e.Label.Attack {
			return nil
		}
		c, lab := *e, *e.Label
		c.Label = &lab
		evs = append(evs, c)
		return nil
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	cache[k] = evs
	return evs
}

// format renders every field of an event, the label by value.
func format(e *firebreak.Event) string {
	c := *e
	c.Label = nil
	return fmt.Sprintf("%+v|%+v", c, *e.Label)
}

// digest hashes every field of every event.
func digest(t *testing.T, cfg sim.Config) (string, int) {
	t.Helper()
	h := fnv.New128a()
	n := 0
	err := sim.Generate(cfg, func(e *firebreak.Event) error {
		n++
		fmt.Fprintln(h, format(e))
		return nil
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), n
}

func TestConfigValidate(t *testing.T) {
	ok := sim.DefaultConfig()
	tests := []struct {
		name   string
		mutate func(*sim.Config)
		want   string // substring of the message; "" for valid
	}{
		{"default", func(*sim.Config) {}, ""},
		{"too few accounts", func(c *sim.Config) { c.Accounts = 3 }, "accounts = 3"},
		{"too many accounts", func(c *sim.Config) { c.Accounts = 20_000_000 }, "accounts = 20000000"},
		{"no days", func(c *sim.Config) { c.Days = 0 }, "days = 0"},
		{"too many days", func(c *sim.Config) { c.Days = 400 }, "days = 400"},
		{"unknown scenario", func(c *sim.Config) { c.Scenario = "chaos" }, `scenario = "chaos"`},
		{"empty scenario", func(c *sim.Config) { c.Scenario = "" }, `scenario = ""`},
		{"zero start", func(c *sim.Config) { c.Start = time.Time{} }, "start = 0001-01-01T00:00:00Z"},
		{"far future start", func(c *sim.Config) { c.Start = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }, "start = 2300"},
		{"no attacker changes", func(c *sim.Config) { c.AttackerChanges = 0 }, ""},
		{"every attacker changes", func(c *sim.Config) { c.AttackerChanges = 1 }, ""},
		{"negative attacker changes", func(c *sim.Config) { c.AttackerChanges = -0.1 }, "attacker-changes = -0.1"},
		{"attacker changes above one", func(c *sim.Config) { c.AttackerChanges = 1.5 }, "attacker-changes = 1.5"},
		{"attacker changes NaN", func(c *sim.Config) { c.AttackerChanges = math.NaN() }, "attacker-changes = NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mutate(&cfg)
			err := cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", tt.want)
			}
			if got := firebreak.ErrorCode(err); got != firebreak.EINVALID {
				t.Errorf("ErrorCode = %q, want %q", got, firebreak.EINVALID)
			}
			if got := firebreak.ErrorMessage(err); !strings.Contains(got, tt.want) {
				t.Errorf("message %q does not mention %q", got, tt.want)
			}
			calls := 0
			if gerr := sim.Generate(cfg, func(*firebreak.Event) error { calls++; return nil }); gerr == nil || calls != 0 {
				t.Errorf("Generate = %v after %d events, want the validation error and no events", gerr, calls)
			}
		})
	}
}

func TestScenarios(t *testing.T) {
	got := sim.Scenarios()
	want := []string{"baseline", "traps", "mixed", "stuffing", "takeover", "spraying", "bruteforce"}
	if !slices.Equal(got, want) {
		t.Fatalf("Scenarios() = %v, want %v", got, want)
	}
	for _, name := range got {
		if doc, ok := sim.ScenarioDoc(name); !ok || doc == "" {
			t.Errorf("ScenarioDoc(%q) = %q, %v; want a description", name, doc, ok)
		}
	}
	if _, ok := sim.ScenarioDoc("nope"); ok {
		t.Error(`ScenarioDoc("nope") reported ok`)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	cfg := config(sim.ScenarioMixed, 1500, 10)
	first, n := digest(t, cfg)
	if n < 5000 {
		t.Fatalf("only %d events for 1500 accounts over 10 days", n)
	}
	again, _ := digest(t, cfg)
	if first != again {
		t.Error("two runs with the same seed differ")
	}
	cfg.Seed++
	if other, _ := digest(t, cfg); other == first {
		t.Error("a different seed gave identical events")
	}
}

// TestAttacksDoNotDisturbPopulation checks that scenarios share the
// population: the ordinary events of the stuffing scenario are exactly
// those of the baseline.
func TestAttacksDoNotDisturbPopulation(t *testing.T) {
	base := collect(t, config(sim.ScenarioBaseline, 2000, 8))
	var legit []firebreak.Event
	for _, e := range collect(t, config(sim.ScenarioStuffing, 2000, 8)) {
		if !e.Label.Attack {
			legit = append(legit, e)
		}
	}
	if len(legit) != len(base) {
		t.Fatalf("stuffing has %d legitimate events, baseline %d", len(legit), len(base))
	}
	for i := range base {
		if got, want := format(&legit[i]), format(&base[i]); got != want {
			t.Fatalf("event %d differs:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestGenerateInvariants(t *testing.T) {
	trapCohorts := []string{sim.CohortTraveller, sim.CohortNewPhone, sim.CohortVPN, sim.CohortForgetful, sim.CohortSurge}
	base := []string{"", sim.CohortCGNAT, sim.CohortOffice}
	tests := []struct {
		scenario string
		want     []string // cohorts that must all appear, and no others
	}{
		{sim.ScenarioBaseline, base},
		{sim.ScenarioTraps, append(slices.Clone(base), trapCohorts...)},
		{sim.ScenarioStuffing, append(slices.Clone(base), sim.CohortStuffing)},
		{sim.ScenarioTakeover, append(slices.Clone(base), sim.CohortTargetedAbroad, sim.CohortLocalTakeover)},
		{sim.ScenarioSpraying, append(slices.Clone(base), sim.CohortSpraying)},
		{sim.ScenarioBruteforce, append(slices.Clone(base), sim.CohortBruteforce)},
		{sim.ScenarioMixed, append(append(slices.Clone(base), trapCohorts...), sim.CohortStuffing,
			sim.CohortTargetedAbroad, sim.CohortLocalTakeover, sim.CohortSpraying, sim.CohortBruteforce)},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			cfg := config(tt.scenario, 3000, 10)
			end := cfg.Start.AddDate(0, 0, cfg.Days)
			seen := map[string]bool{}
			var last time.Time
			for i, e := range collect(t, cfg) {
				if err := e.Validate(time.Time{}); err != nil {
					t.Fatalf("event %d invalid: %v: %+v", i, err, e)
				}
				if e.Time.Before(last) {
					t.Fatalf("event %d at %v is before its predecessor at %v", i, e.Time, last)
				}
				last = e.Time
				if e.Time.Before(cfg.Start) || !e.Time.Before(end) {
					t.Fatalf("event %d at %v outside [%v, %v)", i, e.Time, cfg.Start, end)
				}
				seen[e.Label.Cohort] = true
			}
			for c := range seen {
				if !slices.Contains(tt.want, c) {
					t.Errorf("unexpected cohort %q", c)
				}
			}
			for _, c := range tt.want {
				if !seen[c] {
					t.Errorf("cohort %q never appears", c)
				}
			}
		})
	}
}

func TestLabelsConsistent(t *testing.T) {
	attacks := map[string]bool{sim.CohortStuffing: true, sim.CohortTargetedAbroad: true,
		sim.CohortLocalTakeover: true, sim.CohortSpraying: true, sim.CohortBruteforce: true}
	taken := map[string]bool{} // account+cohort with an attacker success so far
	ato := 0
	for i, e := range collect(t, config(sim.ScenarioMixed, 3000, 10)) {
		l := e.Label
		if l.Attack != attacks[l.Cohort] {
			t.Fatalf("event %d: attack=%v with cohort %q", i, l.Attack, l.Cohort)
		}
		if l.ATO && !l.Attack {
			t.Fatalf("event %d: ATO without Attack", i)
		}
		key := e.Account + "/" + l.Cohort
		if l.Attack && e.Outcome == firebreak.OutcomeSuccess && !l.ATO {
			t.Fatalf("event %d: attacker success not labelled ATO", i)
		}
		if l.ATO && e.Outcome != firebreak.OutcomeSuccess && !taken[key] {
			t.Fatalf("event %d: ATO on a failure before any takeover", i)
		}
		if l.Attack && !l.ATO && taken[key] {
			t.Fatalf("event %d: attacker login after the takeover not labelled ATO", i)
		}
		if l.ATO {
			taken[key] = true
			ato++
		}
	}
	if ato == 0 {
		t.Fatal("mixed scenario has no ATO logins")
	}
}

func TestEmitError(t *testing.T) {
	stop := errors.New("disk full")
	calls := 0
	err := sim.Generate(config(sim.ScenarioBaseline, 100, 3), func(*firebreak.Event) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Generate = %v, want it to wrap %v", err, stop)
	}
	if calls != 10 {
		t.Errorf("emit called %d times after failing on the 10th", calls)
	}
}

// TestDaysBoundary checks that a one-day run still works, with attacks
// squeezed into the day.
func TestDaysBoundary(t *testing.T) {
	evs := collect(t, config(sim.ScenarioMixed, 500, 1))
	attacks := 0
	for _, e := range evs {
		if e.Label.Attack {
			attacks++
		}
	}
	if len(evs) == 0 || attacks == 0 {
		t.Fatalf("one-day mixed run: %d events, %d attack events", len(evs), attacks)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, accounts := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("accounts=%d/days=28/mixed", accounts), func(b *testing.B) {
			cfg := config(sim.ScenarioMixed, accounts, 28)
			n := 0
			for b.Loop() {
				n = 0
				if err := sim.Generate(cfg, func(*firebreak.Event) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "events/op")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
