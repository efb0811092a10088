package risk

import "math"

// budget derives score thresholds from the distribution of recent scores of
// successful logins: a fixed-bin histogram over the log likelihood ratio
// (0.01 nat bins over ±50 nats), exact to one bin, O(1) per observation, 80 KB.
// Old observations fade by halving whenever the window fills.
type budget struct {
	bins     [budgetBins]float64
	total    float64
	observed int64
	window   float64
	// cached thresholds: a score is over a threshold when its bin lies above
	// the threshold's bin. Comparing bins, not floats, keeps ties in one bin
	// on one side. challenge and deny are the bins' upper edges in log-LR.
	challengeBin, denyBin int
	challenge, deny       float64
	sinceRefresh          int
}

const (
	budgetLo     = -50.0
	budgetStep   = 0.01
	budgetBins   = 10000
	refreshEvery = 512
)

func bin(x float64) int {
	return max(0, min(budgetBins-1, int((x-budgetLo)/budgetStep)))
}

func (b *budget) observe(x float64) {
	b.bins[bin(x)]++
	b.total++
	b.observed++
	// Halve (not shift: a sparse tail of ones must not vanish) when the
	// window is full, so older scores fade.
	if b.total >= b.window {
		b.total = 0
		for j := range b.bins {
			b.bins[j] *= 0.5
			b.total += b.bins[j]
		}
	}
	b.sinceRefresh++
}

// cutoff returns the lowest bin k such that the share of observations in
// bins above k is at most share; budgetBins when there are none.
func (b *budget) cutoff(share float64) int {
	if b.total == 0 {
		return budgetBins
	}
	allowed := share * b.total
	var above float64
	for i := budgetBins - 1; i >= 0; i-- {
		if above+b.bins[i] > allowed {
			return i
		}
		above += b.bins[i]
	}
	return -1
}

func (b *budget) refresh(challengeShare, denyShare float64) {
	b.sinceRefresh = 0
	b.challengeBin = b.cutoff(challengeShare)
	b.denyBin = max(b.challengeBin, b.cutoff(denyShare))
	b.challenge = edge(b.challengeBin)
	b.deny = edge(b.denyBin)
}

// edge is the upper edge of bin i in log-LR (+Inf past the last bin).
func edge(i int) float64 {
	if i >= budgetBins-1 {
		return math.Inf(1)
	}
	return budgetLo + float64(i+1)*budgetStep
}

// over reports whether x lies in a bin above bin k.
func over(x float64, k int) bool { return bin(x) > k }
