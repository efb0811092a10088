package detect_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/detect"
)

// stepUp is the platform's second-factor challenge on the account from ip:
// passed, or failed with mfa_failed.
func stepUp(at time.Time, acct, ip string, passed bool) *firebreak.Event {
	e := login(at, acct, ip, true)
	e.Method = "mfa"
	if !passed {
		e.Outcome, e.FailureReason = firebreak.OutcomeFailure, "mfa_failed"
	}
	return e
}

// challenged warms the detector and lets 200 owners pass a challenge after
// an unremarkable login, so that owners' give-up rate is established.
func challenged(d *detect.Detector) time.Time {
	return ownersPass(d, warm(d), 30*time.Second)
}

// ownersPass lets 200 owners pass a challenge after an unremarkable login,
// one every step from at, and returns the time after.
func ownersPass(d *detect.Detector, at time.Time, step time.Duration) time.Time {
	for i := range 200 {
		acct, ip := fmt.Sprintf("w%04d", i), fmt.Sprintf("10.%d.%d.1", i/200, i%200)
		d.Observe(login(at, acct, ip, true), 0)
		d.Observe(stepUp(at.Add(step/2), acct, ip, true), 0)
		at = at.Add(step)
	}
	return at
}

func compromised(d *detect.Detector, acct string) (kind detect.Kind, ok bool) {
	for _, c := range d.Campaigns() {
		for _, a := range c.Accounts {
			if a.Account == acct && a.Tier == detect.TierCompromised {
				return c.Kind, true
			}
		}
	}
	return detect.KindNone, false
}

// A risky password success whose challenge fails and is never passed is a
// takeover: the account opens a compromise campaign once ResolveWithin has
// passed, and not before. A challenge the owner passes after a wrong code,
// and one left after an unremarkable login, place nobody.
func TestUnresolvedStepUpIsCompromise(t *testing.T) {
	d := detect.New(detect.Config{})
	at := challenged(d)

	d.Observe(login(at, "w0300", "203.0.113.5", true), 0.999)
	d.Observe(stepUp(at.Add(time.Minute), "w0300", "203.0.113.5", false), 0.999)
	d.Observe(stepUp(at.Add(2*time.Minute), "w0300", "203.0.113.5", false), 0.999) // a second wrong code

	d.Observe(login(at, "w0301", "203.0.113.6", true), 0.999)
	d.Observe(stepUp(at.Add(time.Minute), "w0301", "203.0.113.6", false), 0.999)
	d.Observe(stepUp(at.Add(3*time.Minute), "w0301", "203.0.113.6", true), 0.999) // the owner, on second try

	d.Observe(login(at, "w0302", "10.0.9.1", true), 0)
	d.Observe(stepUp(at.Add(time.Minute), "w0302", "10.0.9.1", false), 0) // gave up after an ordinary login

	d.Observe(login(at.Add(10*time.Minute), "w0001", "10.0.1.1", true), 0)
	if _, ok := compromised(d, "w0300"); ok {
		t.Fatal("w0300 claimed before ResolveWithin passed: the owner could still pass the challenge")
	}
	d.Observe(login(at.Add(20*time.Minute), "w0001", "10.0.1.1", true), 0)
	if kind, ok := compromised(d, "w0300"); !ok || kind != detect.KindCompromise {
		t.Fatalf("w0300: compromised %v in a %s campaign, want compromised in a compromise campaign", ok, kind)
	}
	for _, acct := range []string{"w0301", "w0302"} {
		if kind, ok := compromised(d, acct); ok {
			t.Errorf("%s compromised in a %s campaign: its challenge was passed, or its login unremarkable", acct, kind)
		}
	}
	onlyCompromise(t, d, "203.0.113.5", "second-factor challenge failed and was never passed")
}

// onlyCompromise checks that the detector holds one compromise campaign
// with one account, whose evidence names the address and the reason.
func onlyCompromise(t *testing.T, d *detect.Detector, ip, reason string) {
	t.Helper()
	cs := d.Campaigns()
	if len(cs) != 1 || cs[0].Kind != detect.KindCompromise || cs[0].Compromised != 1 {
		t.Fatalf("campaigns = %s, want one compromise campaign with one account", kindOf(cs))
	}
	if why := cs[0].Accounts[0].Evidence; !strings.Contains(why, reason) || !strings.Contains(why, ip) {
		t.Errorf("evidence = %q, want %s and %q named", why, ip, reason)
	}
}

// A stuffing hit tied to its campaign by the cluster alone is at risk; a
// failed challenge after it is the evidence beyond the cluster that makes
// it the campaign's.
func TestUnresolvedStepUpClaimsForCampaign(t *testing.T) {
	d := detect.New(detect.Config{})
	at := stuffing(t, d)
	e := attacker(at, "w0500", "192.0.2.77", true)
	d.Observe(e, 0.99)
	if tier, _ := tierOf(d, "w0500"); tier != detect.TierAtRisk {
		t.Fatalf("before the challenge: tier %s, want at_risk", tier)
	}
	f := attacker(at.Add(5*time.Minute), "w0500", "192.0.2.77", false)
	f.Method, f.FailureReason = "mfa", "mfa_failed"
	d.Observe(f, 0.99)
	d.Observe(login(at.Add(30*time.Minute), "w0001", "10.0.1.1", true), 0)
	if tier, why := tierOf(d, "w0500"); tier != detect.TierCompromised {
		t.Fatalf("after an unresolved challenge: tier %s (%q), want compromised in the stuffing campaign", tier, why)
	}
}

// A hit the risk model found unremarkable is not claimed on the cluster
// alone; when its challenge then fails and is never passed, the stuffing
// campaign weighs it with that evidence and claims it.
func TestUnresolvedStepUpClaimsUnremarkableHit(t *testing.T) {
	d := detect.New(detect.Config{})
	at := ownersPass(d, stuffing(t, d), time.Second)
	d.Observe(attacker(at, "w0530", "192.0.2.130", true), 0)
	if tier, _ := tierOf(d, "w0530"); tier != detect.TierNone {
		t.Fatalf("an unremarkable success: tier %s, want none", tier)
	}
	f := attacker(at.Add(time.Minute), "w0530", "192.0.2.130", false)
	f.Method, f.FailureReason = "mfa", "mfa_failed"
	d.Observe(f, 0)
	d.Observe(login(at.Add(17*time.Minute), "w0001", "10.0.1.1", true), 0)
	if tier, why := tierOf(d, "w0530"); tier != detect.TierCompromised {
		t.Fatalf("after an unresolved challenge: tier %s (%q), want compromised in the stuffing campaign", tier, why)
	}
}
