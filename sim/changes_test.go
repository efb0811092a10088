package sim_test

import (
	"testing"
	"time"

	"firebreak"
	"firebreak/sim"
)

// sessionKey is what a change shares with the login of its session.
type sessionKey struct{ account, ip, device, ua string }

func keyOf(e *firebreak.Event) sessionKey {
	return sessionKey{e.Account, e.IP.String(), e.DeviceID, e.UserAgent}
}

// TestOwnerChanges checks the owners' account changes: about one a year per
// person, split between the four types, each 1 to 10 minutes after a
// successful login from the same address, device and user agent, labelled
// as that session.
func TestOwnerChanges(t *testing.T) {
	cfg := config(sim.ScenarioBaseline, 5000, 14)
	lastIn := map[sessionKey]*firebreak.Event{}
	types := map[string]int{}
	n := 0
	evs := collect(t, cfg)
	for i := range evs {
		e := &evs[i]
		if e.IsLogin() {
			if e.Outcome == firebreak.OutcomeSuccess {
				lastIn[keyOf(e)] = e
			}
			continue
		}
		n++
		types[e.Type]++
		in := lastIn[keyOf(e)]
		switch {
		case e.Label.Attack || e.Label.ATO:
			t.Fatalf("%s: owner's %s labelled attack=%v ato=%v", e.Account, e.Type, e.Label.Attack, e.Label.ATO)
		case e.Method != "" || e.Outcome != firebreak.OutcomeSuccess || e.FailureReason != "":
			t.Fatalf("%s: %s with method %q, outcome %s, reason %q", e.Account, e.Type, e.Method, e.Outcome, e.FailureReason)
		case in == nil:
			t.Fatalf("%s: %s from %s without a login from there", e.Account, e.Type, e.IP)
		case e.Time.Sub(in.Time) < time.Minute || e.Time.Sub(in.Time) > 10*time.Minute:
			t.Fatalf("%s: %s %v after the session's login, want 1-10 min", e.Account, e.Type, e.Time.Sub(in.Time))
		case e.Label.Cohort != in.Label.Cohort:
			t.Fatalf("%s: %s in cohort %q after a login in %q", e.Account, e.Type, e.Label.Cohort, in.Label.Cohort)
		}
	}
	want := float64(cfg.Accounts*cfg.Days) / 365
	t.Logf("%d changes (about %.0f expected): %v", n, want, types)
	if float64(n) < 0.75*want || float64(n) > 1.25*want {
		t.Errorf("%d owners' changes in %d person-days, want about %.0f (one a year each)", n, cfg.Accounts*cfg.Days, want)
	}
	shares := []struct {
		typ      string
		min, max float64
	}{
		{firebreak.TypePasswordChange, 0.4, 0.6},
		{firebreak.TypeRecoveryChange, 0.17, 0.33},
		{firebreak.TypeMFAEnroll, 0.08, 0.22},
		{firebreak.TypeMFARemove, 0.04, 0.16},
	}
	for _, s := range shares {
		if got := float64(types[s.typ]) / float64(n); got < s.min || got > s.max {
			t.Errorf("%s: %.3f of changes, want within [%g, %g]", s.typ, got, s.min, s.max)
		}
	}
}

// TestNewPhoneEnrolls checks that about half the owners of a new phone
// enroll a factor on it at its first successful session.
func TestNewPhoneEnrolls(t *testing.T) {
	first := map[string]time.Time{} // first successful login on the new phone
	enrolled := map[string]bool{}
	for _, e := range byCohort(collect(t, trapConfig()), sim.CohortNewPhone) {
		switch {
		case e.IsLogin() && e.Outcome == firebreak.OutcomeSuccess:
			if _, ok := first[e.Account]; !ok {
				first[e.Account] = e.Time
			}
		case e.Type == firebreak.TypeMFAEnroll:
			if e.Label.Attack || e.Label.ATO {
				t.Fatalf("%s: owner's enrollment labelled as an attack", e.Account)
			}
			if d := e.Time.Sub(first[e.Account]); d >= time.Minute && d <= 12*time.Minute {
				enrolled[e.Account] = true
			}
		}
	}
	share := float64(len(enrolled)) / float64(len(first))
	t.Logf("%d of %d new phones enrolled at their first session", len(enrolled), len(first))
	if len(first) < 20 || share < 0.3 || share > 0.7 {
		t.Errorf("%d of %d new phones enrolled a factor at their first session, want about half", len(enrolled), len(first))
	}
}

// takeoverConfig has a hundred or so manual takeovers' worth of victims.
func takeoverConfig(share float64) sim.Config {
	cfg := config(sim.ScenarioMixed, 100_000, 5)
	cfg.AttackerChanges = share
	return cfg
}

// TestAttackerChanges checks, with every manual takeover making a change,
// that each one that got in makes exactly one, right after its first
// session in, of a type its attacker could make; that one that never got
// in and automated attacks make none; and that without changes the attacks
// are otherwise the same.
func TestAttackerChanges(t *testing.T) {
	all := attackEvents(t, takeoverConfig(1))
	type key struct{ account, cohort string }
	groups := map[key][]firebreak.Event{}
	for _, e := range all {
		switch c := e.Label.Cohort; {
		case c == sim.CohortTargetedAbroad || c == sim.CohortLocalTakeover:
			groups[key{e.Account, c}] = append(groups[key{e.Account, c}], e)
		case !e.IsLogin():
			t.Fatalf("%s: automated attack %s made a %s", e.Account, c, e.Type)
		}
	}
	in, challenged := 0, 0
	for k, evs := range groups {
		at, via := firstIn(evs)
		var changes []firebreak.Event
		for _, e := range evs {
			if !e.IsLogin() {
				changes = append(changes, e)
			}
		}
		if at == nil {
			if len(changes) > 0 {
				t.Errorf("%v: never got in but made %d changes", k, len(changes))
			}
			continue
		}
		in++
		if len(changes) != 1 {
			t.Errorf("%v: got in, made %d changes, want 1", k, len(changes))
			continue
		}
		c := changes[0]
		allowed := map[string]bool{firebreak.TypeRecoveryChange: true}
		if via == "mfa" {
			challenged++
			allowed[firebreak.TypeMFAEnroll] = true
		}
		switch d := c.Time.Sub(at.Time); {
		case d < time.Minute || d > 10*time.Minute:
			t.Errorf("%v: change %v after getting in, want 1-10 min", k, d)
		case keyOf(&c) != keyOf(at):
			t.Errorf("%v: change from %v, not from the session %v", k, keyOf(&c), keyOf(at))
		case !allowed[c.Type]:
			t.Errorf("%v: %s after getting in by %s", k, c.Type, via)
		case !c.Label.ATO || c.Label.Cohort != k.cohort:
			t.Errorf("%v: change labelled %+v", k, *c.Label)
		}
	}
	t.Logf("%d manual takeovers, %d got in (%d through the challenge)", len(groups), in, challenged)
	if in < 8 || challenged == 0 || challenged == in {
		t.Errorf("%d takeovers got in, %d through the challenge: too few to test", in, challenged)
	}
	if none := attackEvents(t, takeoverConfig(0)); !sameEvents(t, none, logins(all)) {
		t.Error("with AttackerChanges = 0, the attackers' logins differ")
	}
}

// TestAttackerChangesNested checks that a larger share adds changes to the
// same takeovers: the changes at 0.5 are among those at 1.
func TestAttackerChangesNested(t *testing.T) {
	attackerChanges := func(evs []firebreak.Event) map[string]bool {
		m := map[string]bool{}
		for _, e := range evs {
			if !e.IsLogin() {
				m[format(&e)] = true
			}
		}
		return m
	}
	half, every := attackerChanges(attackEvents(t, takeoverConfig(0.5))), attackerChanges(attackEvents(t, takeoverConfig(1)))
	t.Logf("%d attacker changes at 0.5, %d at 1", len(half), len(every))
	if len(half) == 0 || len(half) >= len(every) {
		t.Errorf("%d attacker changes at 0.5 and %d at 1", len(half), len(every))
	}
	for c := range half {
		if !every[c] {
			t.Errorf("change at 0.5 missing at 1: %s", c)
		}
	}
}

// firstIn returns the event by which a takeover first got in, and how: a
// password success not challenged ("password"), or a passed challenge
// ("mfa"); nil when it never got in.
func firstIn(evs []firebreak.Event) (*firebreak.Event, string) {
	for k := range evs {
		e := &evs[k]
		if !e.IsLogin() || e.Outcome != firebreak.OutcomeSuccess {
			continue
		}
		if e.Method == "mfa" {
			return e, "mfa"
		}
		if k+1 < len(evs) && evs[k+1].Method == "mfa" {
			continue // challenged: the answer decides
		}
		return e, "password"
	}
	return nil, ""
}

// logins drops the account changes.
func logins(evs []firebreak.Event) []firebreak.Event {
	var out []firebreak.Event
	for _, e := range evs {
		if e.IsLogin() {
			out = append(out, e)
		}
	}
	return out
}

func sameEvents(t *testing.T, got, want []firebreak.Event) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Logf("%d events, want %d", len(got), len(want))
		return false
	}
	for i := range got {
		if g, w := format(&got[i]), format(&want[i]); g != w {
			t.Logf("event %d differs:\n got %s\nwant %s", i, g, w)
			return false
		}
	}
	return true
}
