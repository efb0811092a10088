// Package eval measures how well a stream of scored logins was handled: event
// and decision counts, the challenge rate, and, when the events carry labels,
// ROC AUC, the share of account takeovers caught, the legitimate challenge
// rate, true-positive rates at fixed false-positive rates and per-cohort
// accounting. It also holds NaiveRule, the static-threshold baseline that
// reports show beside the model.
//
// The package is pure: no I/O beyond the io.Writer handed to WriteText. The
// definitions behind every figure are in docs/evaluation.md.
package eval

import (
	"encoding/json"
	"math"
)

// Share is a count out of a total, such as "934 of 1,000 ATO logins caught".
// Keeping both numbers lets a report show how much evidence a rate rests on.
type Share struct {
	N  int64 `json:"n"`
	Of int64 `json:"of"`
}

// Rate returns N/Of, or 0 when Of is 0 (see Defined).
func (s Share) Rate() float64 {
	if s.Of == 0 {
		return 0
	}
	return float64(s.N) / float64(s.Of)
}

// Defined reports whether the share has a non-empty denominator.
func (s Share) Defined() bool { return s.Of > 0 }

// MarshalJSON writes {"n":N,"of":Of,"rate":N/Of}, with a null rate when Of is 0.
func (s Share) MarshalJSON() ([]byte, error) {
	var rate *float64
	if s.Defined() {
		r := s.Rate()
		rate = &r
	}
	return json.Marshal(struct {
		N    int64    `json:"n"`
		Of   int64    `json:"of"`
		Rate *float64 `json:"rate"`
	}{s.N, s.Of, rate})
}

// Decisions counts decisions by kind.
type Decisions struct {
	Allow     int64 `json:"allow"`
	Challenge int64 `json:"challenge"`
	Deny      int64 `json:"deny"`
}

// Total returns the number of decisions counted.
func (d Decisions) Total() int64 { return d.Allow + d.Challenge + d.Deny }

// Flagged returns the number of challenges and denials.
func (d Decisions) Flagged() int64 { return d.Challenge + d.Deny }

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
