package eval_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"firebreak"
	"firebreak/eval"
)

func TestAUCKnownCases(t *testing.T) {
	tests := []struct {
		name     string
		pos, neg []float64
		want     float64
	}{
		{"perfect separation", []float64{0.9, 0.8, 0.7}, []float64{0.1, 0.2, 0.3, 0.6}, 1},
		{"reversed", []float64{0.1, 0.2}, []float64{0.5, 0.9, 0.7}, 0},
		{"all ties", []float64{0.5, 0.5}, []float64{0.5, 0.5, 0.5}, 0.5},
		{"one tie among wins", []float64{0.5, 0.9}, []float64{0.5}, 0.75},
		{"interleaved", []float64{0.2, 0.4}, []float64{0.1, 0.3}, 0.75},
		{"single pair tie", []float64{1}, []float64{1}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := eval.AUC(tt.pos, tt.neg)
			if !ok || got != tt.want {
				t.Errorf("AUC = %v, %v; want %v, true", got, ok, tt.want)
			}
		})
	}
}

func TestAUCUndefinedWhenAClassIsEmpty(t *testing.T) {
	for _, tt := range []struct {
		name     string
		pos, neg []float64
	}{
		{"no positives", nil, []float64{0.1}},
		{"no negatives", []float64{0.1}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := eval.AUC(tt.pos, tt.neg); ok {
				t.Error("AUC ok = true, want false")
			}
		})
	}
}

// randomScores draws n scores from only a few distinct values, so that
// ties are frequent, shifted by bias to make the classes differ.
func randomScores(rng *rand.Rand, n, levels int, bias float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = min(1, float64(rng.IntN(levels))/float64(levels)+bias*rng.Float64())
	}
	return s
}

func TestAUCMatchesBruteForce(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			levels := 1 + rng.IntN(12)
			pos := randomScores(rng, 1+rng.IntN(200), levels, 0.3*rng.Float64())
			neg := randomScores(rng, 1+rng.IntN(300), levels, 0)
			want := bruteAUC(pos, neg)
			got, ok := eval.AUC(slices.Clone(pos), slices.Clone(neg))
			if !ok || got != want {
				t.Errorf("AUC = %v (ok %v), brute force = %v", got, ok, want)
			}
		})
	}
}

// TestReportAUCMatchesBruteForce checks the report's AUC, whose negatives
// are the legitimate logins and the attack logins that were not ATO.
func TestReportAUCMatchesBruteForce(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			var r eval.Report
			var pos, neg []float64
			for range 1 + rng.IntN(800) {
				score := float64(rng.IntN(8)) / 8
				var l *firebreak.Label
				switch rng.IntN(4) {
				case 0:
					l, score = ato("stuffing"), min(1, score+0.25)
					pos = append(pos, score)
				case 1:
					l = attack("spraying")
					neg = append(neg, score)
				default:
					l = legit("")
					neg = append(neg, score)
				}
				r.Add(login("a", true, l), verdict(score, firebreak.Allow))
			}
			q := r.Summary().Quality
			if len(pos) == 0 || len(neg) == 0 {
				if q.AUC != nil {
					t.Errorf("AUC = %v with an empty class, want nil", *q.AUC)
				}
				return
			}
			if want := bruteAUC(pos, neg); q.AUC == nil || *q.AUC != want {
				t.Errorf("AUC = %v, brute force = %v", q.AUC, want)
			}
		})
	}
}

func TestTPRAtFPR(t *testing.T) {
	ramp := make([]float64, 1000) // legitimate scores 0.000 … 0.999
	for i := range ramp {
		ramp[i] = float64(i) / 1000
	}
	flatTop := slices.Clone(ramp) // the top 20 legitimate scores tie at 0.99
	for i := 980; i < 1000; i++ {
		flatTop[i] = 0.99
	}
	tests := []struct {
		name       string
		pos, legit []float64
		target     float64
		want       eval.OperatingPoint
	}{
		{"1% of a ramp: the tie at the threshold is not flagged",
			[]float64{0.5, 0.989, 0.9895, 0.999, 1}, ramp, 0.01,
			eval.OperatingPoint{TargetFPR: 0.01, Threshold: 0.989, FPR: eval.Share{N: 10, Of: 1000}, TPR: eval.Share{N: 3, Of: 5}}},
		{"5% of a ramp",
			[]float64{0.94, 0.95, 0.951}, ramp, 0.05,
			eval.OperatingPoint{TargetFPR: 0.05, Threshold: 0.949, FPR: eval.Share{N: 50, Of: 1000}, TPR: eval.Share{N: 2, Of: 3}}},
		{"a tied block over the budget is left out entirely",
			[]float64{0.99, 0.995}, flatTop, 0.01,
			eval.OperatingPoint{TargetFPR: 0.01, Threshold: 0.99, FPR: eval.Share{N: 0, Of: 1000}, TPR: eval.Share{N: 1, Of: 2}}},
		{"a tied block within the budget is flagged",
			[]float64{0.98, 0.99}, flatTop, 0.05,
			eval.OperatingPoint{TargetFPR: 0.05, Threshold: 0.949, FPR: eval.Share{N: 50, Of: 1000}, TPR: eval.Share{N: 2, Of: 2}}},
		{"too few legitimate logins for 0.1%: above the maximum",
			[]float64{0.3, 0.41}, []float64{0.1, 0.2, 0.4}, 0.001,
			eval.OperatingPoint{TargetFPR: 0.001, Threshold: 0.4, FPR: eval.Share{N: 0, Of: 3}, TPR: eval.Share{N: 1, Of: 2}}},
		{"unsorted input is sorted first",
			[]float64{1, 0.3, 0.41}, []float64{0.4, 0.1, 0.2}, 0.001,
			eval.OperatingPoint{TargetFPR: 0.001, Threshold: 0.4, FPR: eval.Share{N: 0, Of: 3}, TPR: eval.Share{N: 2, Of: 3}}},
		{"zero target",
			[]float64{1}, ramp, 0,
			eval.OperatingPoint{TargetFPR: 0, Threshold: 0.999, FPR: eval.Share{N: 0, Of: 1000}, TPR: eval.Share{N: 1, Of: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := eval.TPRAtFPR(tt.pos, tt.legit, tt.target)
			if !ok || got != tt.want {
				t.Errorf("TPRAtFPR = %+v, %v\nwant %+v, true", got, ok, tt.want)
			}
			if got.FPR.Rate() > tt.target {
				t.Errorf("achieved FPR %v over target %v", got.FPR.Rate(), tt.target)
			}
		})
	}
}

func TestTPRAtFPRUndefined(t *testing.T) {
	tests := []struct {
		name       string
		pos, legit []float64
		target     float64
	}{
		{"no positives", nil, []float64{0.1}, 0.01},
		{"no legitimate", []float64{0.1}, nil, 0.01},
		{"target 1", []float64{0.1}, []float64{0.1}, 1},
		{"negative target", []float64{0.1}, []float64{0.1}, -0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := eval.TPRAtFPR(tt.pos, tt.legit, tt.target); ok {
				t.Errorf("TPRAtFPR = %+v, true; want ok false", got)
			}
		})
	}
}

// FuzzAUC checks the exact AUC against the pair count on arbitrary inputs:
// each byte is a score level (many ties), its low bit picks the class.
func FuzzAUC(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3})
	f.Add([]byte{7, 7, 6, 6, 255, 254})
	f.Fuzz(func(t *testing.T, data []byte) {
		var pos, neg []float64
		for _, b := range data {
			score := float64(b>>1) / 8
			if b&1 == 1 {
				pos = append(pos, score)
			} else {
				neg = append(neg, score)
			}
		}
		got, ok := eval.AUC(slices.Clone(pos), slices.Clone(neg))
		if ok != (len(pos) > 0 && len(neg) > 0) {
			t.Fatalf("ok = %v with %d positives, %d negatives", ok, len(pos), len(neg))
		}
		if ok && got != bruteAUC(pos, neg) {
			t.Fatalf("AUC = %v, pair count = %v", got, bruteAUC(pos, neg))
		}
	})
}
