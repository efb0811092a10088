package sim

import (
	"math/rand/v2"

	"firebreak"
)

// targetedAbroad takes over a few dozen accounts from other countries: the
// attacker knows or phished the password, uses a new device, fails up to
// twice, gets in, and comes back a few times. Once in, some change the
// account's security settings (takeoverChange).
func (g *generator) targetedAbroad(r *rand.Rand) {
	n := min(48, max(2, g.cfg.Accounts/2500))
	for _, v := range sampleDistinct(r, g.cfg.Accounts, n) {
		acct := g.people[v].account
		home := g.w.cities[g.people[v].home].country
		ci := home
		for ci == home {
			ci = g.w.proxyPick.pick(r)
		}
		t := g.attackStart(r, 3*dayNs)
		pl := g.attackerPlace(r, ci, home)
		tm := pickTmpl(r, attackerUAs, attackerUAWeights)
		variant, lag, dev := uint8(r.IntN(6)), r.IntN(40), deviceID(r)
		factor, verified, changed := r.Float64() < targetedFactor, false, false
		for range r.IntN(3) {
			g.attempt(t, acct, pl, g.ua.at(tm, variant, t/secNs, lag), dev, firebreak.OutcomeFailure, rBadPassword, cTargetedAbroad, false)
			t += 20*secNs + r.Int64N(5*minNs)
		}
		last, in := g.attackerSuccess(r, v, t, pl, g.ua.at(tm, variant, t/secNs, lag), dev, cTargetedAbroad, factor, true, &verified)
		g.takeoverChange(v, cTargetedAbroad, last, in, &changed)
		for range 1 + r.IntN(3) {
			t += hourNs + r.Int64N(30*hourNs)
			if r.Float64() < 0.3 {
				pl = g.attackerPlace(r, ci, home)
			}
			last, in = g.attackerSuccess(r, v, t, pl, g.ua.at(tm, variant, t/secNs, lag), dev, cTargetedAbroad, factor, true, &verified)
			g.takeoverChange(v, cTargetedAbroad, last, in, &changed)
		}
	}
}

// attackerPlace is where a remote attacker in country ci connects from: a
// home connection, a phone, or a VPN exit outside the victim's country.
func (g *generator) attackerPlace(r *rand.Rand, ci, victimCountry int) place {
	c := g.randomCity(r, ci)
	switch u := r.Float64(); {
	case u < 0.5:
		return g.residential(r, c)
	case u < 0.75:
		ct := &g.w.countries[ci]
		return g.carrierPlace(r, ct.carriers[r.IntN(len(ct.carriers))], c)
	}
	ni := g.w.vpnNets[r.IntN(len(g.w.vpnNets))]
	return g.hostingPlace(ni, g.foreignExit(r, ni, victimCountry), r.IntN(12))
}

// localTakeover takes over a handful of accounts from the victim's own city
// and ISP (another address), with the victim's browser and OS and no or a
// new device id: the hardest case for a per-account model.
func (g *generator) localTakeover(r *rand.Rand) {
	n := min(8, max(1, g.cfg.Accounts/20000))
	done := 0
	for _, v := range sampleDistinct(r, g.cfg.Accounts, 50*n+50) {
		p := &g.people[v]
		if done == n {
			break
		}
		vd := homeDevice(p)
		// Active people with a home computer, whose history shows the home
		// network the attacker shares.
		if p.isp < 0 || vd == nil || p.rate < 0.7 {
			continue
		}
		done++
		t := g.localTime(r, g.dayOf(g.attackStart(r, 3*dayNs)), p.home, 8, 22)
		dev := ""
		if r.Float64() < 0.4 {
			dev = deviceID(r)
		}
		lag := r.IntN(21)
		factor, verified, changed := r.Float64() < targetedFactor, false, false
		pl := g.otherHomeAddress(r, p, vd, t)
		for range r.IntN(2) {
			g.attempt(t, p.account, pl, g.ua.at(vd.tmpl, vd.variant, t/secNs, lag), dev, firebreak.OutcomeFailure, rBadPassword, cLocalTakeover, false)
			t += 30*secNs + r.Int64N(3*minNs)
		}
		last, in := g.attackerSuccess(r, v, t, pl, g.ua.at(vd.tmpl, vd.variant, t/secNs, lag), dev, cLocalTakeover, factor, true, &verified)
		g.takeoverChange(v, cLocalTakeover, last, in, &changed)
		for range 1 + r.IntN(2) {
			t += 2*hourNs + r.Int64N(46*hourNs)
			last, in = g.attackerSuccess(r, v, t, pl, g.ua.at(vd.tmpl, vd.variant, t/secNs, lag), dev, cLocalTakeover, factor, true, &verified)
			g.takeoverChange(v, cLocalTakeover, last, in, &changed)
		}
	}
}

// homeDevice returns the person's first computer or tablet kept at home, or
// nil.
func homeDevice(p *person) *device {
	for k := range int(p.ndev) {
		if d := &p.devs[k]; d.kind != kMobile && !d.work {
			return d
		}
	}
	return nil
}

// otherHomeAddress returns an address of the victim's ISP in the victim's
// city in another /24 than the victim's own at t.
func (g *generator) otherHomeAddress(r *rand.Rand, p *person, vd *device, t int64) place {
	own := g.homePlace(p, vd, t)
	for {
		n := &g.w.nets[p.isp]
		pi := r.IntN(len(n.pools))
		k := 1 + r.IntN(g.w.slots(n.pools[pi])-1)
		pl := g.w.addr4(int(p.isp), pi, k, g.w.cities[p.home].pos, byte(2+r.IntN(252)))
		if !own.ip.Is4() || own.ip.As4()[2] != pl.ip.As4()[2] || own.ip.As4()[1] != pl.ip.As4()[1] {
			return pl
		}
	}
}
