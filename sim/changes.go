package sim

import (
	"math/rand/v2"

	"firebreak"
)

// Account changes (decision 0007): changes to an account's security
// settings, made from a signed-in session a few minutes after its login,
// from the same address, device and user agent.
//
// Owners make about one a year (an assumption): a new password, a new
// recovery address, a second factor added or removed. A new phone is where
// many owners enroll a factor again: moving an authenticator app is exactly
// that. Attackers who take over an account by hand act to keep it — Google's
// study of manual hijacking (Bursztein et al., IMC 2014) found hijackers
// locking owners out, and attackers who phish a one-time code register a
// factor of their own to come back — in a share of takeovers that no
// published figure gives (Config.AttackerChanges). They do not change the
// password: that would lock the owner out, and the simulator does not model
// the owner's recovery. Automated attackers change nothing: credential
// checkers validate accounts and resell them.
const (
	ownerChangesPerYear = 1.0
	newPhoneEnroll      = 0.5 // owners who enroll a factor on their new phone
	attackerEnroll      = 0.7 // attackers holding the factor who enroll their own
	changeDelayMin      = 1 * minNs
	changeDelaySpan     = 9 * minNs // changes come 1 to 10 minutes after the login
)

// Event types, indexing typeNames.
const (
	chLogin uint8 = iota
	chPassword
	chRecovery
	chMFAEnroll
	chMFARemove
)

var typeNames = [...]string{"", firebreak.TypePasswordChange, firebreak.TypeRecoveryChange,
	firebreak.TypeMFAEnroll, firebreak.TypeMFARemove}

// changeRNG returns person i's stream of account-change decisions for the
// current day, seeded on first use. It is apart from the day's login stream,
// so the logins are the same whatever the changes.
func (g *generator) changeRNG(i int) *rand.Rand {
	key := uint64(g.day)<<32 | uint64(i)
	if key != g.crKey {
		g.cpcg.Seed(hash2(g.cfg.Seed, saltChange), key^saltChange<<56)
		g.crKey = key
	}
	return g.cr
}

// ownerChange may follow a successful session of person i whose last event
// is ev (the login, or the passed challenge), on device dev. The first
// successful session on a new phone enrolls a factor for half the buyers;
// otherwise an ordinary session makes a change with the probability that
// gives ownerChangesPerYear. The surge's campaign login makes none.
func (g *generator) ownerChange(i int, ev rec, dev *device, surge bool) {
	if g.noOwnerChanges {
		return
	}
	p := &g.people[i]
	r := g.changeRNG(i)
	typ := chLogin
	if tr := g.trapOf(p); tr != nil && tr.kind == cNewPhone && dev == &tr.newDev && !tr.phoneIn {
		tr.phoneIn = true
		if r.Float64() < newPhoneEnroll {
			typ = chMFAEnroll
		}
	}
	if typ == chLogin && !surge && r.Float64() < ownerChangeP(p) {
		typ = ownerChangeType(r)
	}
	if typ != chLogin {
		g.add(changeAfter(r, ev, typ))
	}
}

// ownerChangeP is the per-session probability of a change: the yearly rate
// spread over the person's sessions (about rate a day).
func ownerChangeP(p *person) float64 {
	return min(1, ownerChangesPerYear/(365*float64(p.rate)))
}

// ownerChangeType splits owners' changes: password 50%, recovery address
// 25%, factor added 15%, factor removed 10%.
func ownerChangeType(r *rand.Rand) uint8 {
	switch u := r.Float64(); {
	case u < 0.5:
		return chPassword
	case u < 0.75:
		return chRecovery
	case u < 0.9:
		return chMFAEnroll
	}
	return chMFARemove
}

// changeAfter returns a change of type typ made 1 to 10 minutes after ev, in
// the same session.
func changeAfter(r *rand.Rand, ev rec, typ uint8) rec {
	ev.t += changeDelayMin + r.Int64N(changeDelaySpan)
	ev.typ, ev.method = typ, mNone
	ev.outcome, ev.reason = firebreak.OutcomeSuccess, rNone
	return ev
}

// takeoverChange runs after each of a manual takeover's sessions: after the
// first one in which the attacker is in (in, with last its last event), the
// share AttackerChanges of takeovers make one change. An attacker who passed
// the challenge holds the factor and mostly enrolls their own; one who was
// not challenged changes the recovery address. Each takeover draws from its
// own stream (victim v, cohort), so the takeovers' logins are the same for
// every share, and a larger share adds changes to the same takeovers.
func (g *generator) takeoverChange(v int32, cohort uint8, last rec, in bool, done *bool) {
	if !in || *done {
		return
	}
	*done = true
	r := rand.New(rand.NewPCG(hash2(g.cfg.Seed, saltAttackerChange), mix(uint64(v)<<8|uint64(cohort))))
	if r.Float64() >= g.cfg.AttackerChanges {
		return
	}
	typ := chRecovery
	if r.Float64() < attackerEnroll && last.method == mMFA {
		typ = chMFAEnroll
	}
	g.addAttack(changeAfter(r, last, typ))
}
