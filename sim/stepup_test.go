package sim_test

import (
	"testing"
	"time"

	"firebreak"
	"firebreak/sim"
)

// The platform's challenge: every mfa event answers a password success on
// the same account and address minutes before; owners mostly pass, some
// give up; automated attackers never pass, and some targeted ones do.
func TestStepUps(t *testing.T) {
	evs := collect(t, attackConfig())
	type key struct{ acct, ip string }
	lastPassword := map[key]time.Time{}
	var ownerPassed, ownerFailed, botPassed, botFailed, targetedPassed int
	for _, e := range evs {
		k := key{e.Account, e.IP.String()}
		if e.Method != "mfa" {
			if e.Method == "password" && e.Outcome == firebreak.OutcomeSuccess {
				lastPassword[k] = e.Time
			}
			continue
		}
		pw, ok := lastPassword[k]
		if !ok || e.Time.Sub(pw) > 10*time.Minute || e.Time.Before(pw) {
			t.Fatalf("%s: mfa event from %s with no password success just before", e.Account, e.IP)
		}
		passed := e.Outcome == firebreak.OutcomeSuccess
		if !passed && e.FailureReason != "mfa_failed" {
			t.Fatalf("%s: failed mfa event with reason %q, want mfa_failed", e.Account, e.FailureReason)
		}
		switch c := e.Label.Cohort; {
		case !e.Label.Attack:
			if passed {
				ownerPassed++
			} else {
				ownerFailed++
			}
		case c == sim.CohortStuffing || c == sim.CohortSpraying || c == sim.CohortBruteforce:
			if passed {
				botPassed++
			} else {
				botFailed++
			}
		case passed:
			targetedPassed++
		}
	}
	t.Logf("owners: %d passed, %d failed codes; bots: %d passed, %d failed; targeted: %d passed",
		ownerPassed, ownerFailed, botPassed, botFailed, targetedPassed)
	switch {
	case ownerPassed < 500:
		t.Errorf("only %d owners passed a challenge: new phones and cleared cookies should be challenged", ownerPassed)
	case float64(ownerFailed)/float64(ownerPassed) > 0.1 || ownerFailed == 0:
		t.Errorf("owners failed %d codes for %d passes, want a few percent", ownerFailed, ownerPassed)
	case botPassed > 0 || botFailed == 0:
		t.Errorf("automated attackers passed %d challenges and failed %d, want none passed", botPassed, botFailed)
	}
}
