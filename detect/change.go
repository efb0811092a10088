package detect

import (
	"math"
	"slices"

	"firebreak"
)

// Account changes: a change to the account's security settings — a new
// password, recovery address or second factor (decision 0007) — made from
// the session of a success. Owners make them now and then; a hijacker who
// means to keep the account makes one in the first session (Bursztein et
// al., IMC 2014). A change is weighed against the session it came from:
// the account's last success, from the same address, within SessionWindow.
//
//	odds = prior odds × LR(change) × scoreLR(the session's score)
//
// LR(change) = q/c: c is the owners' share of sessions with a change,
// measured on sessions outside the risky tail so that an attack does not
// raise the rate it is weighed against, from a prior worth 1,000 sessions
// at 0.1%; q is the share of takeovers with a change. No published figure
// gives q, so it is the predictive probability under a uniform prior, 1/2:
// knowing nothing about q, a change is as likely as not. The prior odds are
// those of one session among the window's being a takeover (priorOdds), as
// for a failed step-up (stepup.go), whose weighing this shares.
//
// A change says a person is in the session. A campaign's tools try
// passwords; in the session of a hit they change nothing (q = 0 for them),
// so a campaign's prior is never combined with a change: an owner changing
// a setting while a stuffing campaign uses the owner's browser is not the
// campaign's hit. docs/detection.md, "Account changes".
const attackerChangeShare = 0.5

// changeStats counts sessions (password successes, not the passed second
// factor that may follow) and the changes made in them, decayed like the
// population's rates.
type changeStats struct {
	t                            int32
	sessions, quiet, quietChange float64 // all; outside the risky tail; changes in those
}

func (c *changeStats) decay(now int32, halfMin float64) {
	if f := fade(&c.t, now, halfMin); f < 1 {
		c.sessions, c.quiet, c.quietChange = c.sessions*f, c.quiet*f, c.quietChange*f
	}
}

// session counts one session; risky says its score is in the risky tail.
func (c *changeStats) session(risky bool) {
	c.sessions++
	if !risky {
		c.quiet++
	}
}

// rate is c, the owners' share of sessions with a change.
func (c *changeStats) rate() float64 { return (c.quietChange + 1) / (c.quiet + 1000) }

// accountChange weighs a successful account change against the session it
// came from. A change with no session in the ring (too late, another
// address) says nothing.
func (d *Detector) accountChange(e *firebreak.Event, now int32) {
	key := accountKey(e.Account)
	a := &d.acct.slots[key&d.acct.mask]
	if a.tag != key || a.lastRing == 0 {
		return
	}
	s := &d.ring[a.lastRing-1]
	ipKey, _ := ipKeys(e.IP)
	if s.account != e.Account || s.ipKey != ipKey || now-s.t > d.sessionMin || now < s.t {
		return
	}
	d.chg.decay(now, d.pop.halfMin)
	if s.own > riskyTail {
		// What owners do; and no campaign weighs a change (below).
		d.chg.quietChange++
		return
	}
	rate := d.chg.rate()
	ev := sessionEvidence{lr: attackerChangeShare / rate, why: whyChange, rate: rate,
		change: uint8(slices.Index(firebreak.EventTypes, e.Type)), kind: KindAccountChange, person: true}
	d.weighSession(s, label(e), now, &ev, d.chg.sessions)
}

// sessionEvidence is what followed a success that its owner rarely does: a
// second-factor challenge left unresolved, or an account change.
type sessionEvidence struct {
	lr     float64 // likelihood ratio, takeover against owner
	why    uint8   // whyStepUp or whyChange
	rate   float64 // the owners' rate the ratio rests on
	change uint8   // for whyChange: index of the change's type in firebreak.EventTypes
	kind   Kind    // the finding to report
	// person: the evidence is of a person in the session, which a
	// campaign's tools never show; campaigns do not weigh it.
	person bool
}

// weighSession weighs evidence ev about success s, from the client
// labelled client; n is the decayed count of the events (sessions,
// challenges) one of which it is, behind the prior odds of an account no
// campaign holds.
func (d *Detector) weighSession(s *success, client string, now int32, ev *sessionEvidence, n float64) {
	if s.camp > 0 {
		return // already claimed
	}
	// A campaign that holds the account, or the success, weighs it first.
	if !ev.person {
		if c := d.live(-s.camp); c != nil && d.judgeWith(s, c, ev) {
			return
		}
		for _, c := range d.camps {
			if r := c.accts[s.account]; c.active && (r != nil || c.kind == KindStuffing) && c.kind != KindCompromise && d.judgeWith(s, c, ev) {
				return
			}
		}
	}
	if s.own > riskyTail {
		return
	}
	odds := ev.lr * scoreLR(float64(s.own)) * d.priorOdds(n)
	c := d.compromiseCampaign(s, now, odds)
	if c == nil {
		return
	}
	c.logBF = math.Max(c.logBF, math.Log(odds))
	if _, ok := c.fps[s.fpKey]; !ok && len(c.fps) < 256 {
		c.fps[s.fpKey] = client
	}
	d.claim(c, s, odds/(1+odds), -1)
	d.recordEvidence(c, s.account, ev)
	c.addSource(s.ip)
	d.out = append(d.out, Finding{Kind: ev.kind, Time: s.when, Campaign: c.name(),
		Account: s.account, IP: s.ip, LogBF: math.Log(odds), Confidence: odds / (1 + odds)})
}

// recordEvidence records that the account's claim rests on ev.
func (d *Detector) recordEvidence(c *campaign, acct string, ev *sessionEvidence) {
	if r := c.accts[acct]; r != nil && r.tier == TierCompromised {
		r.why, r.g, r.change = ev.why, float32(ev.rate), ev.change
	}
}
