package risk

import "math"

// budget derives score thresholds from the distribution of recent scores of
// successful logins: a fixed-bin histogram over the log likelihood ratio
// (0.01 nat bins over ±50 nats), exact to one bin, O(1) per observation, 40 KB.
// Old observations fade by halving whenever the window fills.
type budget struct {
	bins     [budgetBins]uint32
	total    uint64
	observed int64
	window   uint64
	// cached thresholds in log-LR space, refreshed every refreshEvery scores.
	challenge, deny float64
	sinceRefresh    int
}

const (
	budgetLo     = -50.0
	budgetStep   = 0.01
	budgetBins   = 10000
	refreshEvery = 512
)

func (b *budget) observe(x float64) {
	i := int((x - budgetLo) / budgetStep)
	i = max(0, min(budgetBins-1, i))
	b.bins[i]++
	b.total++
	b.observed++
	if b.total >= b.window {
		b.total = 0
		for j := range b.bins {
			b.bins[j] >>= 1
			b.total += uint64(b.bins[j])
		}
	}
	b.sinceRefresh++
}

// cutoff returns the smallest bin edge x such that the share of observations
// strictly above x is at most share.
func (b *budget) cutoff(share float64) float64 {
	if b.total == 0 {
		return math.Inf(1)
	}
	allowed := uint64(share * float64(b.total))
	var above uint64
	for i := budgetBins - 1; i >= 0; i-- {
		if above+uint64(b.bins[i]) > allowed {
			return budgetLo + float64(i+1)*budgetStep
		}
		above += uint64(b.bins[i])
	}
	return budgetLo
}

func (b *budget) refresh(challengeShare, denyShare float64) {
	b.sinceRefresh = 0
	b.challenge = b.cutoff(challengeShare)
	b.deny = math.Max(b.challenge, b.cutoff(denyShare))
}
