package eval_test

import (
	"testing"

	"firebreak"
	"firebreak/eval"
)

func TestMeasureTiers(t *testing.T) {
	var truth eval.Truth
	add := func(account string, attack, ato bool, outcome firebreak.Outcome) {
		truth.Add(&firebreak.Event{Account: account, Outcome: outcome, Label: &firebreak.Label{Attack: attack, ATO: ato}})
	}
	add("victim1", true, true, firebreak.OutcomeSuccess)
	add("victim2", true, true, firebreak.OutcomeSuccess)
	add("tried1", true, false, firebreak.OutcomeFailure)
	add("tried2", true, false, firebreak.OutcomeFailure)
	add("clean", false, false, firebreak.OutcomeSuccess)

	got := truth.MeasureTiers(map[string]string{
		"victim1": "compromised", // right
		"tried1":  "compromised", // attacked, but not taken over
		"tried2":  "targeted",    // right
		"clean":   "targeted",    // never attacked
	}, []string{"compromised", "targeted"})

	if got.Compromised != 2 || got.Attacked != 4 {
		t.Fatalf("truth sizes = %d compromised, %d attacked; want 2, 4", got.Compromised, got.Attacked)
	}
	comp, targ := got.Tiers[0], got.Tiers[1]
	if comp.Precision.N != 1 || comp.Precision.Of != 2 || comp.Recall.N != 1 || comp.Recall.Of != 2 {
		t.Errorf("compromised = %+v, want precision 1/2 and recall 1/2", comp)
	}
	if targ.Precision.N != 1 || targ.Precision.Of != 2 || targ.Recall.Of != 4 {
		t.Errorf("targeted = %+v, want precision 1/2 over 4 attacked", targ)
	}
	if got.NeverAttacked != 1 {
		t.Errorf("never attacked = %d, want 1 (the clean account)", got.NeverAttacked)
	}
}
