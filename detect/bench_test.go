package detect_test

import (
	"testing"
	"time"

	"firebreak"
	"firebreak/detect"
	"firebreak/sim"
)

// BenchmarkObserve feeds a simulated population (10,000 accounts, 28 days,
// traps, no attack) through a detector that has already seen it once, so
// that the tables are warm: the steady state of a quiet day.
func BenchmarkObserve(b *testing.B) {
	cfg := sim.DefaultConfig()
	cfg.Scenario = sim.ScenarioTraps
	var evs []firebreak.Event
	err := sim.Generate(cfg, func(e *firebreak.Event) error {
		c := *e
		c.Label = nil
		evs = append(evs, c)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	d := detect.New(detect.DefaultConfig())
	for i := range evs {
		d.Observe(&evs[i], 0)
	}
	// Each replay of the period is shifted past the previous one, so that
	// time keeps moving forward.
	span := evs[len(evs)-1].Time.Sub(evs[0].Time) + 24*time.Hour
	shift := func() {
		for i := range evs {
			evs[i].Time = evs[i].Time.Add(span)
		}
	}
	shift()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i > 0 && i%len(evs) == 0 {
			shift()
		}
		d.Observe(&evs[i%len(evs)], 0)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
