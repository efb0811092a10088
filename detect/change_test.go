package detect_test

import (
	"fmt"
	"testing"
	"time"

	"firebreak"
	"firebreak/detect"
)

// change is a successful account change of type typ on acct from ip.
func change(at time.Time, acct, ip, typ string) *firebreak.Event {
	e := login(at, acct, ip, true)
	e.Type = typ
	return e
}

// ownersChange lets n owners change a setting a minute after an
// unremarkable login, one every step from at, and returns the time after.
func ownersChange(d *detect.Detector, at time.Time, n int, step time.Duration) time.Time {
	for i := range n {
		acct, ip := fmt.Sprintf("w%04d", i), fmt.Sprintf("10.%d.%d.1", i/200, i%200)
		d.Observe(login(at, acct, ip, true), 0)
		d.Observe(change(at.Add(time.Minute), acct, ip, firebreak.TypePasswordChange), 0)
		at = at.Add(step)
	}
	return at
}

// placed returns the account's tier and evidence in any campaign.
func placed(d *detect.Detector, acct string) (detect.Tier, string) {
	for _, c := range d.Campaigns() {
		for _, a := range c.Accounts {
			if a.Account == acct {
				return a.Tier, a.Evidence
			}
		}
	}
	return detect.TierNone, ""
}

// A session the risk model placed in its extreme tail that then enrolls a
// second factor is a takeover when owners rarely change settings (here
// none has yet: the prior rate holds): it opens a compromise campaign, and
// the evidence names the change. The same change
// after an unremarkable login, from another address than the session's, a
// refused change and one made after the session window place nobody.
func TestChangeAfterRiskySessionIsCompromise(t *testing.T) {
	d := detect.New(detect.Config{})
	at := warm(d)

	d.Observe(login(at, "w0700", "203.0.113.9", true), 0.9999)
	d.Observe(change(at.Add(3*time.Minute), "w0700", "203.0.113.9", firebreak.TypeMFAEnroll), 0)

	d.Observe(login(at, "w0701", "203.0.113.10", true), 0.9999)
	d.Observe(change(at.Add(3*time.Minute), "w0701", "198.51.100.10", firebreak.TypeMFAEnroll), 0) // another address

	d.Observe(login(at, "w0702", "203.0.113.11", true), 0.9999)
	refused := change(at.Add(3*time.Minute), "w0702", "203.0.113.11", firebreak.TypeMFAEnroll)
	refused.Outcome = firebreak.OutcomeFailure
	d.Observe(refused, 0)

	d.Observe(login(at, "w0703", "203.0.113.12", true), 0.9999)
	d.Observe(change(at.Add(2*time.Hour), "w0703", "203.0.113.12", firebreak.TypeMFAEnroll), 0) // after the window

	d.Observe(login(at, "w0704", "10.0.9.4", true), 0)
	d.Observe(change(at.Add(time.Minute), "w0704", "10.0.9.4", firebreak.TypeMFAEnroll), 0) // an ordinary session

	if kind, ok := compromised(d, "w0700"); !ok || kind != detect.KindCompromise {
		t.Fatalf("w0700: compromised %v in a %s campaign, want compromised in a compromise campaign", ok, kind)
	}
	for _, acct := range []string{"w0701", "w0702", "w0703", "w0704"} {
		if tier, why := placed(d, acct); tier != detect.TierNone {
			t.Errorf("%s placed %s (%q), want nowhere", acct, tier, why)
		}
	}
	onlyCompromise(t, d, "203.0.113.9", "account change (mfa_enroll)")
}

// The evidence is measured against the owners: where owners change a
// setting after one session in sixteen, the same risky session with a
// change is not enough to claim the account on its own.
func TestChangeWeighedAgainstOwnersRate(t *testing.T) {
	d := detect.New(detect.Config{})
	at := ownersChange(d, warm(d), 200, 30*time.Second)
	d.Observe(login(at, "w0700", "203.0.113.9", true), 0.9999)
	d.Observe(change(at.Add(3*time.Minute), "w0700", "203.0.113.9", firebreak.TypeMFAEnroll), 0)
	if tier, why := placed(d, "w0700"); tier != detect.TierNone {
		t.Errorf("w0700 placed %s (%q) although owners change settings after 1 session in 16, want nowhere", tier, why)
	}
}

// An account change is not a login attempt: alone, however many, it opens
// nothing and produces no finding.
func TestChangeIsNoAttempt(t *testing.T) {
	d := detect.New(detect.Config{})
	at := warm(d)
	for i := range 500 {
		e := change(at.Add(time.Duration(i)*time.Second), fmt.Sprintf("x%04d", i), "198.51.100.7", firebreak.TypePasswordChange)
		e.Outcome = firebreak.OutcomeFailure
		if f := d.Observe(e, 0); len(f) != 0 {
			t.Fatalf("change %d: findings %v, want none", i, f)
		}
	}
	if cs := d.Campaigns(); len(cs) != 0 {
		t.Errorf("campaigns = %s, want none: refused changes from one address are not failed logins", kindOf(cs))
	}
}
