package risk

import (
	"math/rand/v2"
	"testing"
)

// On stationary traffic the share of scores above the budgeted threshold
// must match the budget.
func TestBudgetHoldsOnStationaryTraffic(t *testing.T) {
	for _, budgetShare := range []float64{0.001, 0.01, 0.05} {
		b := &budget{window: 200_000}
		rng := rand.New(rand.NewPCG(1, 2))
		draw := func() float64 {
			// A bulk of familiar logins and a heavy tail, with ties.
			if rng.IntN(10) == 0 {
				return 0
			}
			return rng.NormFloat64()*3 - 8 + rng.ExpFloat64()*2
		}
		var above, n int
		for i := 0; i < 1_000_000; i++ {
			x := draw()
			if i > 50_000 {
				n++
				if over(x, b.challengeBin) {
					above++
				}
			}
			b.observe(x)
			if b.sinceRefresh >= refreshEvery {
				b.refresh(budgetShare, budgetShare/10)
			}
		}
		got := float64(above) / float64(n)
		if got > budgetShare*1.05 || got < budgetShare*0.9 {
			t.Errorf("budget %.3f: share above threshold = %.4f", budgetShare, got)
		}
	}
}
