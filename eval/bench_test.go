package eval_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"firebreak"
	"firebreak/eval"
)

// benchEvents returns n labelled events, about 1% of them ATO and 20%
// failures, with scores and decisions, over accounts accounts.
func benchEvents(n, accounts int) ([]firebreak.Event, []firebreak.Assessment) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels := []*firebreak.Label{legit(""), legit("traveller"), ato("stuffing"), attack("spraying")}
	events := make([]firebreak.Event, n)
	verdicts := make([]firebreak.Assessment, n)
	names := accountNames(accounts)
	for i := range events {
		l := labels[0]
		switch r := rng.IntN(100); {
		case r == 0:
			l = labels[2]
		case r < 5:
			l = labels[1]
		case r < 8:
			l = labels[3]
		}
		events[i] = *login(names[rng.IntN(accounts)], rng.IntN(5) != 0, l)
		score := rng.Float64()
		verdicts[i] = verdict(score, firebreak.Decision(min(2, int(score*score*2.02))))
	}
	return events, verdicts
}

func accountNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("u%07d", i)
	}
	return names
}

// BenchmarkReportAdd feeds 64k distinct labelled events whose accounts
// cycle through 10k names (mostly known accounts) or 1M names (mostly new
// ones, the distinct-account set growing as in a first pass over a file).
func BenchmarkReportAdd(b *testing.B) {
	for _, accounts := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			events, verdicts := benchEvents(1<<16, 1000)
			names := accountNames(accounts)
			var r eval.Report
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i & (len(events) - 1)
				e := &events[j]
				e.Account = names[i%len(names)]
				r.Add(e, verdicts[j])
			}
		})
	}
}

// BenchmarkAUC3M measures the exact AUC over 3M scores, 1% positives, with
// the sort it needs (the copy into unsorted buffers is not timed).
func BenchmarkAUC3M(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	pos := make([]float64, 30_000)
	neg := make([]float64, 2_970_000)
	for i := range pos {
		pos[i] = min(1, 0.5+rng.Float64())
	}
	for i := range neg {
		neg[i] = float64(rng.IntN(100_000)) / 100_000 // many ties
	}
	p, n := slices.Clone(pos), slices.Clone(neg)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		copy(p, pos)
		copy(n, neg)
		b.StartTimer()
		if _, ok := eval.AUC(p, n); !ok {
			b.Fatal("AUC undefined")
		}
	}
}

func BenchmarkNaiveRuleAssess(b *testing.B) {
	events, _ := benchEvents(1<<16, 1000)
	names := accountNames(1_000_000)
	countries := []string{"NO", "NO", "NO", "SE", "BR"}
	rule := eval.NewNaiveRule(5, time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := &events[i&(len(events)-1)]
		e.Account = names[i%len(names)]
		e.Country = countries[i%len(countries)]
		e.Time = t0.Add(time.Duration(i) * time.Millisecond)
		rule.Assess(e)
	}
}
