package eval_test

import (
	"net/netip"
	"time"

	"firebreak"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// login builds a successful or failed login; label may be nil.
func login(account string, success bool, label *firebreak.Label) *firebreak.Event {
	e := &firebreak.Event{
		Time:    t0,
		Account: account,
		Outcome: firebreak.OutcomeFailure,
		IP:      netip.MustParseAddr("192.0.2.1"),
		Label:   label,
	}
	if success {
		e.Outcome = firebreak.OutcomeSuccess
	}
	return e
}

func legit(cohort string) *firebreak.Label { return &firebreak.Label{Cohort: cohort} }

func ato(cohort string) *firebreak.Label {
	return &firebreak.Label{ATO: true, Attack: true, Cohort: cohort}
}

func attack(cohort string) *firebreak.Label { return &firebreak.Label{Attack: true, Cohort: cohort} }

func verdict(score float64, d firebreak.Decision) firebreak.Assessment {
	return firebreak.Assessment{Score: score, Decision: d}
}

// bruteAUC counts every (positive, negative) pair: 1 when the positive
// scores higher, ½ on a tie.
func bruteAUC(pos, neg []float64) float64 {
	var twice int64
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				twice += 2
			case p == n:
				twice++
			}
		}
	}
	return float64(twice) / (2 * float64(len(pos)) * float64(len(neg)))
}
