package risk_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/risk"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// home is an account's usual login: Oslo, one ISP, one laptop.
func home(account string, i int) firebreak.Event {
	return firebreak.Event{
		Time:     t0.Add(time.Duration(i) * 7 * time.Hour),
		Account:  account,
		Outcome:  firebreak.OutcomeSuccess,
		IP:       netip.AddrFrom4([4]byte{81, 23, 4, byte(10 + i%3)}),
		Country:  "NO",
		ASN:      2119,
		Agent:    firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Chrome", Major: 120},
		DeviceID: "d-" + account,
		Lat:      59.91, Lon: 10.75, HasGeo: true,
	}
}

// population builds a model that has seen many ordinary accounts in a few
// countries, so population frequencies exist, then the account "alice" with
// n logins from home.
func population(t testing.TB, n int) *risk.Model {
	t.Helper()
	pol := firebreak.DefaultPolicy()
	pol.WarmUp = 1000
	return populationWith(t, n, pol)
}

// populationWith is population under another policy.
func populationWith(t testing.TB, n int, pol firebreak.Policy) *risk.Model {
	t.Helper()
	m := risk.New(risk.Config{Policy: pol})
	rng := rand.New(rand.NewPCG(1, 2))
	countries := []string{"NO", "SE", "DE", "US", "GB"}
	var r risk.Result
	for i := 0; i < 30000; i++ {
		acct := fmt.Sprintf("u%05d", rng.IntN(2000))
		c := rng.IntN(len(countries))
		e := firebreak.Event{
			Time: t0.Add(time.Duration(i) * time.Second), Account: acct, Outcome: firebreak.OutcomeSuccess,
			IP:      netip.AddrFrom4([4]byte{byte(10 + c), byte(rng.IntN(4)), byte(rng.IntN(200)), byte(rng.IntN(250))}),
			Country: countries[c], ASN: uint32(1000 + c*10 + rng.IntN(3)),
			Agent:    firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: "Chrome", Major: 120},
			DeviceID: "d-" + acct,
		}
		m.Assess(&e, &r)
	}
	for i := 0; i < n; i++ {
		e := home("alice", i)
		m.Assess(&e, &r)
	}
	return m
}

func assess(m *risk.Model, e firebreak.Event) (risk.Result, []string) {
	var r risk.Result
	m.Assess(&e, &r)
	return r, risk.Reasons(&e, &r)
}

func TestNewCountryStandsOutHomeDoesNot(t *testing.T) {
	m := population(t, 212)
	e := home("alice", 213)
	gotHome, _ := assess(m, e)

	m = population(t, 212)
	e = home("alice", 213)
	e.Country, e.ASN, e.IP, e.DeviceID = "BR", 28573, netip.MustParseAddr("177.10.20.30"), "d-unknown"
	e.Lat, e.Lon = -23.55, -46.63
	gotAbroad, reasons := assess(m, e)

	if gotHome.LogLR >= 0 {
		t.Errorf("home login: logLR = %.2f, want < 0 (evidence of the owner)", gotHome.LogLR)
	}
	if gotAbroad.LogLR < 8 {
		t.Errorf("new country, network and device: logLR = %.2f, want ≥ 8", gotAbroad.LogLR)
	}
	if len(reasons) == 0 || !strings.Contains(strings.Join(reasons, "|"), "country BR never seen in 212 earlier logins") {
		t.Errorf("reasons = %q, want the new country named with the history behind it", reasons)
	}
}

func TestSmallChangesCostLittle(t *testing.T) {
	cases := []struct {
		name   string
		change func(e *firebreak.Event)
		max    float64 // logLR must stay below
	}{
		{"browser upgrade", func(e *firebreak.Event) { e.Agent.Major = 121 }, 1},
		{"new IP in the home /24", func(e *firebreak.Event) { e.IP = netip.MustParseAddr("81.23.4.99") }, 2},
		{"new /24 in the home ISP", func(e *firebreak.Event) { e.IP = netip.MustParseAddr("81.23.9.7") }, 5},
	}
	big := func() float64 {
		m := population(t, 212)
		e := home("alice", 213)
		e.Country, e.ASN, e.IP, e.DeviceID = "BR", 28573, netip.MustParseAddr("177.10.20.30"), "d-unknown"
		r, _ := assess(m, e)
		return r.LogLR
	}()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := population(t, 212)
			e := home("alice", 213)
			tc.change(&e)
			got, reasons := assess(m, e)
			if got.LogLR > tc.max {
				t.Errorf("logLR = %.2f, want ≤ %.1f (reasons %q)", got.LogLR, tc.max, reasons)
			}
			if got.LogLR > big-5 {
				t.Errorf("logLR = %.2f, want far below a new country+network+device (%.2f)", got.LogLR, big)
			}
		})
	}
}

func TestBrowserDowngradeIsNotAnUpgrade(t *testing.T) {
	m := population(t, 100)
	up := home("alice", 101)
	up.Agent.Major = 121
	gotUp, _ := assess(m, up)
	m = population(t, 100)
	down := home("alice", 101)
	down.Agent.Major = 96
	gotDown, _ := assess(m, down)
	if gotDown.LogLR <= gotUp.LogLR+1 {
		t.Errorf("downgrade logLR %.2f, upgrade %.2f: want the old version to cost more", gotDown.LogLR, gotUp.LogLR)
	}
}

func TestFailureBurstRaisesScore(t *testing.T) {
	m := population(t, 100)
	base, _ := assess(m, home("alice", 101))

	m = population(t, 100)
	at := home("alice", 101)
	for i := 0; i < 12; i++ {
		f := at
		f.Outcome, f.FailureReason = firebreak.OutcomeFailure, "bad_password"
		f.Time = at.Time.Add(-time.Duration(12-i) * time.Minute)
		f.IP, f.DeviceID = netip.MustParseAddr("203.0.113.5"), ""
		assess(m, f)
	}
	got, reasons := assess(m, at)
	if got.LogLR < base.LogLR+3 {
		t.Errorf("after 12 failures logLR = %.2f, without %.2f; want ≥ +3", got.LogLR, base.LogLR)
	}
	if !strings.Contains(strings.Join(reasons, "|"), "failed logins on this account from unfamiliar places") {
		t.Errorf("reasons = %q, want the failures named", reasons)
	}
}

func TestTyposAtHomeDoNotCount(t *testing.T) {
	m := population(t, 100)
	base, _ := assess(m, home("alice", 101))
	m = population(t, 100)
	at := home("alice", 101)
	for i := 0; i < 4; i++ {
		f := at
		f.Outcome, f.FailureReason = firebreak.OutcomeFailure, "bad_password"
		f.Time = at.Time.Add(-time.Duration(4-i) * time.Minute)
		assess(m, f)
	}
	got, reasons := assess(m, at)
	if got.LogLR > base.LogLR+0.01 {
		t.Errorf("after typos on the account's own device logLR = %.2f, without %.2f (reasons %q); want no change", got.LogLR, base.LogLR, reasons)
	}
}

func TestLabelNeverInfluencesScore(t *testing.T) {
	a, b := population(t, 50), population(t, 50)
	e := home("alice", 51)
	e.Country = "US"
	e.Label = &firebreak.Label{ATO: true, Attack: true}
	ra, _ := assess(a, e)
	e.Label = nil
	rb, _ := assess(b, e)
	if ra.LogLR != rb.LogLR || ra.Decision != rb.Decision {
		t.Errorf("with label %v/%v, without %v/%v", ra.LogLR, ra.Decision, rb.LogLR, rb.Decision)
	}
}

func TestAssessKnownAccountAllocatesNothing(t *testing.T) {
	m := population(t, 50)
	e := home("alice", 51)
	var r risk.Result
	allocs := testing.AllocsPerRun(1000, func() {
		e.Time = e.Time.Add(time.Hour)
		m.Assess(&e, &r)
	})
	if allocs != 0 {
		t.Errorf("allocs per Assess = %v, want 0", allocs)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	m := population(t, 80)
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	restored := risk.New(risk.Config{Policy: m.Policy()})
	if _, err := restored.ReadFrom(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got, want := restored.Accounts(), m.Accounts(); got != want {
		t.Fatalf("accounts = %d, want %d", got, want)
	}
	for i := 81; i < 90; i++ {
		e := home("alice", i)
		if i%3 == 0 {
			e.Country = "SE"
		}
		got, _ := assess(restored, e)
		want, _ := assess(m, e)
		if got != want {
			t.Fatalf("event %d after restore: %+v, want %+v", i, got, want)
		}
	}
	// A clone writes the same snapshot, and scoring the original afterwards
	// leaves the clone untouched.
	m2 := population(t, 80)
	clone := m2.Clone()
	assess(m2, home("alice", 200))
	var a, b bytes.Buffer
	if _, err := clone.WriteTo(&a); err != nil {
		t.Fatal(err)
	}
	if _, err := population(t, 80).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("a clone taken before more scoring does not write the state it was taken at")
	}
	if _, err := restored.ReadFrom(bytes.NewReader(buf.Bytes()[:buf.Len()/2])); err == nil {
		t.Error("truncated snapshot: want an error")
	}
	if _, err := restored.ReadFrom(strings.NewReader("not a snapshot at all")); err == nil {
		t.Error("garbage snapshot: want an error")
	}
}

// A login from a device id the account never used is challenged and, on
// its own, never learned; a passed second factor from that device (the
// platform's step-up, method mfa) teaches it, so the person's next login
// from it costs less.
func TestPassedStepUpTeachesTheDevice(t *testing.T) {
	newDevice := func(i int) firebreak.Event {
		e := home("alice", i)
		e.DeviceID = "d-new-laptop" // same browser, new device id: cookies cleared
		return e
	}
	// Fixed thresholds that challenge the new device and deny nothing: a
	// denied login never teaches, whatever follows it.
	pol := firebreak.DefaultPolicy()
	pol.WarmUp, pol.Fixed = 1000, &firebreak.FixedThresholds{Challenge: 0.001, Deny: 1}
	score := func(passed bool) (first risk.Result, next risk.Result) {
		m := populationWith(t, 212, pol)
		first, _ = assess(m, newDevice(213))
		if passed {
			mfa := newDevice(213)
			mfa.Time, mfa.Method = mfa.Time.Add(30*time.Second), "mfa"
			if r, _ := assess(m, mfa); !r.Learned {
				t.Errorf("passed step-up: Learned = false, decision %s", r.Decision)
			}
		}
		next, _ = assess(m, newDevice(214))
		return first, next
	}
	first, without := score(false)
	_, with := score(true)
	if first.Decision == firebreak.Allow || first.Learned {
		t.Fatalf("first login from the new device: decision %s, learned %v; want challenged and not learned", first.Decision, first.Learned)
	}
	if with.LogLR >= without.LogLR-1 {
		t.Errorf("next login from the device: logLR %.2f after a passed step-up, %.2f without; want clearly lower", with.LogLR, without.LogLR)
	}
}

// An account change is not a login: it gets no score and teaches the
// profile nothing, however often it comes from a new place.
func TestAccountChangeIsNotScoredOrLearned(t *testing.T) {
	abroad := func(i int) firebreak.Event {
		e := home("alice", i)
		e.Country, e.ASN, e.IP, e.DeviceID = "BR", 28573, netip.MustParseAddr("177.10.20.30"), "d-unknown"
		e.Lat, e.Lon = -23.55, -46.63
		return e
	}
	m := population(t, 212)
	before, _ := assess(m, abroad(213))
	m = population(t, 212)
	for i := range 20 {
		e := abroad(213)
		e.Time = home("alice", 212).Time.Add(time.Duration(i+1) * time.Minute)
		e.Type = firebreak.TypeRecoveryChange
		if r, _ := assess(m, e); r.Score != 0 || r.Learned || r.N != 0 {
			t.Fatalf("change %d: score %g, learned %v, %d evidence; want no verdict", i, r.Score, r.Learned, r.N)
		}
	}
	after, _ := assess(m, abroad(213))
	if after.LogLR != before.LogLR {
		t.Errorf("login abroad: logLR %.3f after 20 changes from there, %.3f without; want the same", after.LogLR, before.LogLR)
	}
}
