package eval

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// AUC returns the area under the ROC curve of a score that should rank pos
// (positives) above neg (negatives): the Mann-Whitney statistic
//
//	AUC = (#{p > n} + ½·#{p = n}) / (|pos|·|neg|)
//
// over all pairs (p, n), so a tie counts as half a correctly ordered pair.
// It is exact (integer pair counts, O((P+N) log(P+N)) time) and sorts pos
// and neg in place. ok is false when either slice is empty. NaN ranks below
// every number and ties with NaN, as in cmp.Compare.
func AUC(pos, neg []float64) (auc float64, ok bool) {
	if len(pos) == 0 || len(neg) == 0 {
		return 0, false
	}
	slices.Sort(pos)
	slices.Sort(neg)
	return float64(twiceU(pos, neg)) / (2 * float64(len(pos)) * float64(len(neg))), true
}

// twiceU returns 2·U, U being the Mann-Whitney count of (p, n) pairs with
// p > n plus half the pairs with p = n, for pos and neg sorted ascending.
// Doubling keeps the count an integer.
func twiceU(pos, neg []float64) int64 {
	var u int64
	below := 0 // neg[:below] < the current positive score
	for i := 0; i < len(pos); {
		p := pos[i]
		run := i + 1
		for run < len(pos) && cmp.Compare(pos[run], p) == 0 {
			run++
		}
		for below < len(neg) && cmp.Compare(neg[below], p) < 0 {
			below++
		}
		equal := below
		for equal < len(neg) && cmp.Compare(neg[equal], p) == 0 {
			equal++
		}
		u += int64(run-i) * int64(2*below+(equal-below))
		i = run
	}
	return u
}

// OperatingPoint is the true-positive rate reached by a score threshold
// chosen so that the false-positive rate stays within TargetFPR.
type OperatingPoint struct {
	TargetFPR float64 `json:"target_fpr"`
	// Threshold: logins scoring strictly above it are flagged.
	Threshold float64 `json:"threshold"`
	FPR       Share   `json:"fpr"` // legitimate logins above Threshold
	TPR       Share   `json:"tpr"` // positive logins above Threshold
}

// TPRAtFPR returns the operating point for target false-positive rate
// target in [0, 1), given positive and legitimate scores; it sorts both in
// place (a linear pass when they are sorted already). With n legitimate scores and k = ⌊target·n⌋, the threshold t is
// the (k+1)-th largest legitimate score and a login is flagged when its
// score is strictly greater than t. Ties at t are therefore never flagged,
// so the achieved FPR never exceeds the target, and the TPR is the highest
// any deterministic threshold on the score reaches within that budget. ok is
// false when either slice is empty or target is out of range.
func TPRAtFPR(pos, legit []float64, target float64) (op OperatingPoint, ok bool) {
	n := len(legit)
	if len(pos) == 0 || n == 0 || !(target >= 0 && target < 1) {
		return OperatingPoint{TargetFPR: target}, false
	}
	slices.Sort(pos)
	slices.Sort(legit)
	x := target * float64(n)
	// The relative nudge keeps 0.01·100 from flooring to 0 through rounding.
	k := min(int(math.Floor(x+x*1e-12)), n-1)
	t := legit[n-k-1]
	return OperatingPoint{
		TargetFPR: target,
		Threshold: t,
		FPR:       Share{N: int64(n - firstAbove(legit, t)), Of: int64(n)},
		TPR:       Share{N: int64(len(pos) - firstAbove(pos, t)), Of: int64(len(pos))},
	}, true
}

// firstAbove returns the index of the first element of sorted s greater than t.
func firstAbove(s []float64, t float64) int {
	return sort.Search(len(s), func(i int) bool { return cmp.Compare(s[i], t) > 0 })
}
