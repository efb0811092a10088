package sim

import (
	"math/rand/v2"

	"firebreak"
)

// The platform's own verification of unrecognised devices. Like most large
// consumer services, the simulated platform asks for a second factor — a
// code sent to the account's e-mail or phone — when a password login comes
// from a device it does not recognise: a device id it has not verified, or,
// for a client that sends none, a network the person does not use. The
// outcome is reported as a second event of method `mfa`: a success, or a
// failure with reason `mfa_failed` (a wrong code, or no code before the
// challenge times out, as identity providers log it).
//
// Owners pass: most at once, some after a wrong code, and a few give up and
// come back later (stepUpRetry, stepUpGiveUp). Attackers pass only when they
// hold the factor too: a targeted attacker who phished it or swapped the
// SIM (targetedFactor), never an automated one. Google's study of account
// hygiene (Thomas and Moscicki, 2019) measured an SMS code stopping 100% of
// automated bots and 76% of targeted attacks.
const (
	stepUpRetry    = 0.04 // owners who enter one wrong code, then pass
	stepUpGiveUp   = 0.01 // owners who leave the challenge to time out
	targetedFactor = 0.24 // targeted attackers who hold the second factor
	stepUpTimeout  = 5 * minNs
)

// recognised says whether the platform knows the login's device: its id,
// once verified, or the network of a client that sends none.
func (g *generator) recognised(p *person, dev *device, ev *rec) bool {
	if ev.device != "" {
		return !dev.unverified
	}
	return g.knowsNetwork(p, ev.pl.net)
}

// knowsNetwork: the person's home ISP, carrier, office or own server, or a
// network where they passed a challenge before.
func (g *generator) knowsNetwork(p *person, n int) bool {
	switch {
	case int(p.isp) == n, int(p.carrier) == n, p.learned[0] == int32(n)+1, p.learned[1] == int32(n)+1:
		return true
	case p.office >= 0 && g.offices[p.office].pl.net == n:
		return true
	}
	return p.vps >= 0 && g.vps[p.vps].net == n
}

// verifyOwner emits the owner's answer to the challenge after the password
// success ev, and remembers a passed device or network. It returns the last
// event and whether the owner passed.
func (g *generator) verifyOwner(r *rand.Rand, p *person, dev *device, ev rec) (rec, bool) {
	ev.method = mMFA
	switch u := r.Float64(); {
	case u < stepUpGiveUp:
		ev.t += stepUpTimeout
		g.failure(&ev, rMFAFailed)
		return ev, false
	case u < stepUpGiveUp+stepUpRetry:
		ev.t += 20*secNs + r.Int64N(40*secNs)
		g.failure(&ev, rMFAFailed)
	}
	ev.t += 10*secNs + r.Int64N(50*secNs)
	ev.outcome, ev.reason = firebreak.OutcomeSuccess, rNone
	g.add(ev)
	if ev.device != "" {
		dev.unverified = false
		return ev, true
	}
	p.learned[p.learnNext&1] = int32(ev.pl.net) + 1
	p.learnNext++
	return ev, true
}

// attackerSuccess is an attacker's successful password login on person v,
// followed by the platform's challenge when the device is not recognised:
// an attacker's device id is always new; without one, the address's
// network decides. An attacker holding the second factor passes; the others
// enter a wrong code or two (people) or leave the challenge to time out
// (bots). A device id that passed once is not challenged again: the caller
// keeps the result in verified. It returns the session's last event and
// whether the attacker is in: the password success when not challenged, or
// the passed challenge (method mfa).
func (g *generator) attackerSuccess(r *rand.Rand, v int32, t int64, pl place, ua int32, dev string, cohort uint8, factor, human bool, verified *bool) (rec, bool) {
	acct := g.people[v].account
	ev := rec{t: t, account: acct, pl: pl, ua: ua, device: dev, outcome: firebreak.OutcomeSuccess, method: mPassword, cohort: cohort, ato: true}
	g.addAttack(ev)
	if (dev == "" && g.knowsNetwork(&g.people[v], pl.net)) || (dev != "" && *verified) {
		return ev, true
	}
	ev.method = mMFA
	if factor {
		ev.t += 15*secNs + r.Int64N(60*secNs)
		g.addAttack(ev)
		*verified = dev != ""
		return ev, true
	}
	ev.outcome, ev.reason = firebreak.OutcomeFailure, rMFAFailed
	if !human {
		ev.t += stepUpTimeout
		g.addAttack(ev)
		return ev, false
	}
	for range 1 + r.IntN(2) {
		ev.t += 20*secNs + r.Int64N(60*secNs)
		g.addAttack(ev)
	}
	return ev, false
}
