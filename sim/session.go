package sim

import (
	"math"
	"math/rand/v2"

	"firebreak"
)

// personDay simulates one person's logins on the current day.
func (g *generator) personDay(i int) {
	p := &g.people[i]
	r := g.seedRNG(saltDay, uint64(i), uint64(g.day))
	tr := g.trapOf(p)
	hours := &g.w.cities[p.home].hours
	if tr != nil && tr.kind == cTraveller && tr.abroad(g.dayT+12*hourNs) {
		hours = &g.w.cities[tr.dest].hours
	}
	n := poisson(r, float64(p.rate)*g.weekdayFactor(p))
	for range n {
		t := g.dayT + int64(hours.pick(r))*hourNs + r.Int64N(hourNs)
		g.session(r, i, t, cNone)
	}
	if tr != nil && tr.kind == cForgetful && g.dayOf(tr.start) == g.day {
		g.forgetful(r, i, tr)
	}
	if g.surge.today(g.day) && g.surge.includes(g.cfg.Seed, i) {
		g.session(r, i, g.surge.arrival(r), cSurge)
	}
}

func (g *generator) dayOf(t int64) int {
	return int(floorDiv(t-g.start, dayNs))
}

// local returns the local hour (0-23) and weekday (0 = Sunday) of t in city c.
func (g *generator) local(t int64, c int32) (hour, weekday int) {
	sec := t/secNs + int64(g.w.cities[c].off)*60
	days := floorDiv(sec, 86400)
	return int((sec - days*86400) / 3600), int((days + 4) % 7)
}

// weekdayFactor scales activity down at weekends, more so for office workers.
func (g *generator) weekdayFactor(p *person) float64 {
	_, wd := g.local(g.dayT+12*hourNs, p.home)
	weekend := wd == 0 || wd == 6
	switch {
	case weekend && p.office >= 0:
		return 0.65
	case weekend:
		return 0.8
	case p.office >= 0:
		return 1.1
	}
	return 1.05
}

// poisson draws a Poisson variate by Knuth's method (the rates are small).
func poisson(r *rand.Rand, lambda float64) int {
	l := math.Exp(-lambda)
	k, prod := 0, r.Float64()
	for prod > l {
		k++
		prod *= r.Float64()
	}
	return k
}

// session simulates one ordinary login session of person i at time t.
func (g *generator) session(r *rand.Rand, i int, t int64, cohort uint8) {
	p := &g.people[i]
	surge := cohort == cSurge
	tr := g.trapOf(p)
	abroad := false
	if tr != nil && tr.kind == cTraveller {
		if tr.inFlight(t) {
			return
		}
		abroad = tr.abroad(t)
	}
	atOffice := !abroad && g.atOffice(r, p, t)
	dev, devCohort := g.pickDevice(r, p, tr, atOffice, abroad, t)
	pl, plCohort := g.pickPlace(r, p, tr, dev, atOffice, abroad, t)
	switch {
	case abroad:
		cohort = cTraveller
	case plCohort != cNone:
		cohort = plCohort
	case devCohort != cNone:
		cohort = devCohort
	case cohort == cNone:
		cohort = p.cohort
	}
	if last, in := g.login(r, i, t, dev, pl, cohort); in {
		g.ownerChange(i, last, dev, surge)
	}
}

// atOffice says whether an office worker is at work at t.
func (g *generator) atOffice(r *rand.Rand, p *person, t int64) bool {
	if p.office < 0 {
		return false
	}
	h, wd := g.local(t, p.home)
	return wd >= 1 && wd <= 5 && h >= 8 && h < 18 && r.Float64() < 0.8
}

// pickDevice chooses the device of a session; it reports cNewPhone when the
// newly bought phone is used.
func (g *generator) pickDevice(r *rand.Rand, p *person, tr *trap, atOffice, abroad bool, t int64) (*device, uint8) {
	var ws [3]float64
	total := 0.0
	for k := range int(p.ndev) {
		d := &p.devs[k]
		switch {
		case d.work != atOffice && d.kind != kMobile:
			continue // the office computer stays at the office, the home one at home
		case abroad && d.kind != kMobile && (tr == nil || !tr.laptop):
			continue
		case atOffice && d.work:
			ws[k] = 2.5
		case d.kind == kMobile:
			ws[k] = 0.55
		case d.kind == kDesktop:
			ws[k] = 0.35
		default:
			ws[k] = 0.2
		}
		total += ws[k]
	}
	k, u := 0, r.Float64()*total
	for j := range int(p.ndev) {
		if ws[j] > 0 {
			k = j
			if u -= ws[j]; u < 0 {
				break
			}
		}
	}
	if tr != nil && tr.kind == cNewPhone && int(tr.slot) == k && t >= tr.start {
		return &tr.newDev, cNewPhone
	}
	return &p.devs[k], cNone
}

// pickPlace chooses where a session comes from; it reports cVPN for a login
// through the VPN trap's exit.
func (g *generator) pickPlace(r *rand.Rand, p *person, tr *trap, dev *device, atOffice, abroad bool, t int64) (place, uint8) {
	if abroad {
		return g.travelPlace(r, p, tr, dev), cNone
	}
	if tr != nil && tr.kind == cVPN && t >= tr.start && r.Float64() < float64(tr.vpnShare) {
		return g.vpnPlace(r, tr), cVPN
	}
	u := r.Float64()
	switch {
	case dev.relay && !atOffice && u < 0.9:
		return g.relayPlace(r, p), cNone
	case p.vps >= 0 && dev.kind == kDesktop && !atOffice && u < 0.8:
		return g.vps[p.vps], cNone // a self-hosted VPN on a rented server
	case atOffice && (dev.work || u < 0.5):
		return g.offices[p.office].pl, cNone
	case u < 0.02:
		return g.publicWifi(r, int(p.home)), cNone // a café, a friend's home
	case p.isp < 0:
		return g.carrierPlace(r, int(p.carrier), int(p.home)), cNone
	case dev.kind == kMobile && !atOffice:
		h, _ := g.local(t, p.home)
		if (h >= 7 && h < 23 && u < 0.52) || u < 0.1 {
			return g.carrierPlace(r, int(p.carrier), int(p.home)), cNone
		}
	case dev.kind == kMobile:
		return g.carrierPlace(r, int(p.carrier), int(p.home)), cNone
	}
	return g.homePlace(p, dev, t), cNone
}

// login emits one session: usually a success, sometimes preceded by typos.
// Failures come first and the success follows within seconds. It returns
// the session's last event and whether the person got in.
func (g *generator) login(r *rand.Rand, i int, t int64, dev *device, pl place, cohort uint8) (rec, bool) {
	p := &g.people[i]
	if !dev.noID && r.Float64() < 0.003 {
		dev.id = deviceID(r) // cookies cleared or app reinstalled
		dev.unverified = true
	}
	ev := rec{t: t, account: p.account, pl: pl, method: dev.method, cohort: cohort,
		ua: g.ua.at(dev.tmpl, dev.variant, t/secNs, int(dev.lag))}
	if !dev.noID && r.Float64() >= 0.02 {
		ev.device = dev.id
	}
	if dev.method == mPassword {
		switch u := r.Float64(); {
		case u < 0.04: // typed the password wrong once or twice
			for range 1 + r.IntN(4)/3 {
				g.failure(&ev, rBadPassword)
				ev.t += 4*secNs + r.Int64N(30*secNs)
			}
		case u < 0.043: // mistyped the account name
			acct := ev.account
			ev.account = g.ids.typo(r, i)
			g.failure(&ev, rUnknownAccount)
			ev.account = acct
			ev.t += 5*secNs + r.Int64N(40*secNs)
		case u < 0.048: // gave up after a failure
			g.failure(&ev, rBadPassword)
			return ev, false
		}
	}
	ev.outcome = firebreak.OutcomeSuccess
	g.add(ev)
	if dev.method == mPassword && !g.recognised(p, dev, &ev) {
		return g.verifyOwner(r, p, dev, ev)
	}
	return ev, true
}

func (g *generator) failure(ev *rec, reason uint8) {
	f := *ev
	f.outcome, f.reason = firebreak.OutcomeFailure, reason
	g.add(f)
}
