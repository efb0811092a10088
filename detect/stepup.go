package detect

import "firebreak"

// Step-ups: the platform's second-factor challenge after a password
// success, reported as an event of method "mfa" (a success) or a failure
// with reason "mfa_failed" (a wrong code, or no code before the challenge
// timed out). A failed challenge that no passed one follows within
// ResolveWithin means the password worked for someone who does not hold
// the account's second factor: the owner gives up on a challenge now and
// then, an attacker with a stolen password almost always does.
//
// The evidence is weighed like everything else here:
//
//	odds = prior odds × LR(unresolved) × scoreLR(the password success's score)
//
// LR(unresolved) = 1/g, where g is the owners' share of challenges left
// unresolved (an attacker without the factor leaves every one unresolved),
// measured on challenges after unremarkable logins, from a prior worth 20
// challenges at 5%. For an account a campaign already holds (targeted, or
// a success tied to it by its cluster alone), and for any success while a
// stuffing campaign is active, the prior odds are the campaign's, as for
// any of its successes, and the account is claimed at even odds. For any
// other account they are those of one of the window's challenges being a
// takeover (priorOdds): a risky success at even odds joins the active or
// recent compromise campaign, and opens a new one only at the detector's
// posterior odds (100:1). docs/detection.md, "Step-ups".

// stepUps is the population's challenges, decayed like the population's
// rates: all of them (n), and those after an unremarkable password success
// (score outside the risky tail), passed and left unresolved. Owners' give-up
// rate is measured on the latter, where attackers are rare, so an attack
// does not lower the evidence it is weighed with.
type stepUps struct {
	t                int32
	n, quiet, quiet0 float64 // all; unremarkable; unremarkable and unresolved
}

func (s *stepUps) decay(now int32, halfMin float64) {
	if f := fade(&s.t, now, halfMin); f < 1 {
		s.n, s.quiet, s.quiet0 = s.n*f, s.quiet*f, s.quiet0*f
	}
}

func (s *stepUps) add(risky, resolved bool) {
	s.n++
	if !risky {
		s.quiet++
		if !resolved {
			s.quiet0++
		}
	}
}

// unresolvedRate is g, with a prior worth 20 challenges at 5%.
func (s *stepUps) unresolvedRate() float64 { return (s.quiet0 + 1) / (s.quiet + 20) }

// pendingStepUp is a failed challenge waiting for ResolveWithin to pass.
type pendingStepUp struct {
	acct   uint64 // account key
	t      int32  // minute of the failure
	ring   int32  // ring slot + 1 of the success it followed
	client string // the client's label, for a compromise campaign
}

const pendingSize = 32 // acct 8, t and ring 8, client 16

// stepUpFailed records a failed challenge on the account, once per
// challenge: further wrong codes before it is resolved add nothing.
func (d *Detector) stepUpFailed(k *eventKeys, e *firebreak.Event, now int32) {
	a := k.a
	// The queue holds no more challenges than the ring holds successes: a
	// challenge whose success has left the ring cannot be judged anyway.
	if a.stepT != 0 || a.lastRing == 0 || len(d.stepQueue) >= len(d.ring) {
		return
	}
	s := &d.ring[a.lastRing-1]
	if s.account != e.Account || s.ipKey != k.ipKey || now-s.t > d.resolveMin {
		return // no password success from this address just before
	}
	a.stepT = now
	d.stepQueue = append(d.stepQueue, pendingStepUp{acct: a.tag, t: now, ring: a.lastRing, client: label(e)})
}

// stepUpPassed resolves the account's failed challenge, if any; the
// challenge followed the account's last success.
func (d *Detector) stepUpPassed(a *acctEntry, now int32) {
	d.steps.decay(now, d.pop.halfMin)
	risky := a.lastRing > 0 && d.ring[a.lastRing-1].own <= riskyTail
	d.steps.add(risky, true)
	a.stepT = 0
}

// judgeStepUps judges the failed challenges that ResolveWithin left
// unresolved.
func (d *Detector) judgeStepUps(now int32) {
	n := 0
	for _, p := range d.stepQueue {
		if now-p.t <= d.resolveMin {
			break
		}
		n++
		a := &d.acct.slots[p.acct&d.acct.mask]
		if a.tag != p.acct || a.stepT != p.t {
			continue // passed, or the slot went to another account
		}
		a.stepT = 0
		s := &d.ring[p.ring-1]
		if s.t < p.t-d.resolveMin || s.t > p.t || accountKey(s.account) != p.acct {
			continue // the success has left the ring
		}
		d.steps.decay(now, d.pop.halfMin)
		d.steps.add(s.own <= riskyTail, false)
		d.unresolved(s, p.client, now)
	}
	d.stepQueue = append(d.stepQueue[:0], d.stepQueue[n:]...)
}

// unresolved weighs one unresolved challenge after success s, from the
// client labelled client, with LR = 1/g.
func (d *Detector) unresolved(s *success, client string, now int32) {
	g := d.steps.unresolvedRate()
	ev := sessionEvidence{lr: 1 / g, why: whyStepUp, rate: g, kind: KindStepUpFailed}
	d.weighSession(s, client, now, &ev, d.steps.n)
}

// compromiseCampaign returns the compromise campaign an account taken over
// outside any other campaign joins at these odds, or nil: the active or
// recent (MergeGap) one at even odds, as a claim joins any campaign; a new
// one only at the detector's posterior odds (100:1), as any campaign
// opens. Single-account takeovers are separate attackers, but one incident
// listing them serves the responder better than one per account.
func (d *Detector) compromiseCampaign(s *success, now int32, odds float64) *campaign {
	if odds < 1 {
		return nil
	}
	for i := len(d.camps) - 1; i >= 0; i-- {
		if c := d.camps[i]; c.kind == KindCompromise && now-c.last <= d.mergeMin {
			d.touch(c, now, s.when)
			return c
		}
	}
	if odds < posteriorOdds {
		return nil
	}
	return d.newCampaign(KindCompromise, now, s.when, 0)
}
