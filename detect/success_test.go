package detect_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/detect"
)

// stuffing feeds a credential-stuffing run after warm traffic: one client
// cluster (Firefox on Windows, no device id) failing once on each of 120
// accounts from 120 addresses in 60 networks. It returns the time after.
func stuffing(t *testing.T, d *detect.Detector) time.Time {
	t.Helper()
	at := warm(d)
	for i := range 120 {
		e := attacker(at, fmt.Sprintf("w%04d", 200+i), fmt.Sprintf("198.%d.%d.1", 18+i/200, i%200), false)
		e.ASN = uint32(65000 + i%60)
		d.Observe(e, 0)
		at = at.Add(10 * time.Second)
	}
	if cs := d.Campaigns(); len(cs) != 1 || cs[0].Kind != detect.KindStuffing {
		for _, c := range cs {
			t.Logf("%s %s %d ips", c.ID, c.Kind, c.SourceIPs)
		}
		t.Fatalf("campaigns = %s, want one credential_stuffing", kindOf(cs))
	}
	return at
}

// attacker is a login in the stuffing tool's cluster.
func attacker(at time.Time, acct, ip string, ok bool) *firebreak.Event {
	e := login(at, acct, ip, ok)
	e.Agent = firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Firefox", Major: 140}
	e.DeviceID, e.ASN = "", 64999
	return e
}

// tierOf returns the account's tier and evidence in the only campaign.
func tierOf(d *detect.Detector, acct string) (detect.Tier, string) {
	for _, a := range d.Campaigns()[0].Accounts {
		if a.Account == acct {
			return a.Tier, a.Evidence
		}
	}
	return detect.TierNone, ""
}

// A risky success the campaign's cluster alone ties to it (a fresh address
// with no failures) is at risk, not compromised: everyone with that browser
// shares the cluster.
func TestClusterAloneIsAtRisk(t *testing.T) {
	d := detect.New(detect.Config{})
	at := stuffing(t, d)
	d.Observe(attacker(at, "w0500", "192.0.2.77", true), 0.99)
	tier, why := tierOf(d, "w0500")
	if tier != detect.TierAtRisk || !strings.Contains(why, "nothing beyond the shared cluster") {
		t.Fatalf("tier = %s (%q), want at_risk naming the cluster as the only tie", tier, why)
	}
	// The same address then fails on another account for the campaign:
	// evidence beyond the cluster. The earlier success is claimed.
	d.Observe(attacker(at.Add(time.Minute), "w0501", "192.0.2.77", false), 0)
	if tier, why := tierOf(d, "w0500"); tier != detect.TierCompromised {
		t.Fatalf("after its address failed for the campaign: tier = %s (%q), want compromised", tier, why)
	}
}

// An owner who fails from an address in the campaign's cluster and gets in
// from it later is not the campaign's hit: a stuffing tool tries an account
// once, so the account's own failure there is no evidence that the campaign
// has its password.
func TestOwnFailureAtAddressIsNotCampaignEvidence(t *testing.T) {
	d := detect.New(detect.Config{})
	at := stuffing(t, d)
	d.Observe(attacker(at, "w0520", "192.0.2.99", false), 0)
	d.Observe(attacker(at.Add(20*time.Minute), "w0520", "192.0.2.99", true), 0.99)
	if tier, why := tierOf(d, "w0520"); tier == detect.TierCompromised {
		t.Fatalf("tier = %s (%q), want below compromised: the only failure at the address was the account's own", tier, why)
	}
}

// A risky success from an address the campaign used, with no other success
// there, is the campaign's.
func TestCampaignAddressSuccessIsCompromised(t *testing.T) {
	d := detect.New(detect.Config{})
	at := stuffing(t, d)
	d.Observe(attacker(at, "w0510", "192.0.2.88", false), 0)
	d.Observe(attacker(at.Add(time.Minute), "w0511", "192.0.2.88", true), 0.99)
	if tier, why := tierOf(d, "w0511"); tier != detect.TierCompromised || !strings.Contains(why, "192.0.2.88") {
		t.Fatalf("tier = %s (%q), want compromised from 192.0.2.88", tier, why)
	}
}

// On a shared address (an office, a carrier NAT) one campaign failure does
// not make a risky success there the campaign's: its other successes are
// everyone else's, and at a HitRate of 1% the campaign's one attempt
// explains far fewer successes than they do.
func TestSharedAddressSuccessIsNotClaimed(t *testing.T) {
	d := detect.New(detect.Config{})
	at := stuffing(t, d)
	const shared = "100.64.9.9"
	for i := range 20 {
		d.Observe(login(at.Add(time.Duration(i)*time.Second), fmt.Sprintf("w%04d", 520+i), shared, true), 0)
	}
	at = at.Add(time.Minute)
	d.Observe(attacker(at, "w0540", shared, false), 0)
	d.Observe(login(at.Add(time.Minute), "w0541", shared, true), 0.99)
	if tier, why := tierOf(d, "w0541"); tier != detect.TierNone {
		t.Fatalf("tier = %s (%q), want none", tier, why)
	}
}
