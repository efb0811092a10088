package sim

import (
	"math/rand/v2"

	"firebreak"
)

// trap is a person's false-positive trap: unusual but legitimate behaviour.
type trap struct {
	kind  uint8 // a trap cohort
	start int64 // departure, purchase, first VPN use or the forgetful session
	// traveller
	end          int64 // departure of the return flight
	flight       int64
	dest         int32
	localCarrier int32
	hotel        place
	laptop       bool
	// new_phone
	slot    uint8
	newDev  device
	phoneIn bool // a session on the new phone has succeeded
	// vpn
	vpnNet     int32
	vpnCountry int32
	vpnShare   float32
	home       int32 // home country, never a VPN exit
}

func (tr *trap) inFlight(t int64) bool {
	return (t >= tr.start && t < tr.start+tr.flight) || (t >= tr.end && t < tr.end+tr.flight)
}

func (tr *trap) abroad(t int64) bool {
	return tr.kind == cTraveller && t >= tr.start+tr.flight && t < tr.end
}

func (g *generator) trapOf(p *person) *trap {
	if p.trap < 0 {
		return nil
	}
	return &g.traps[p.trap]
}

// drawTrap gives about 3.5% of people a trap when the scenario has traps.
// It runs last in newPerson, so the person is the same in every scenario.
func (g *generator) drawTrap(r *rand.Rand, i int) {
	if !g.sc.traps {
		return
	}
	p := &g.people[i]
	tr := trap{}
	switch u := r.Float64(); {
	case u < 0.01:
		tr = g.traveller(r, p)
	case u < 0.02 && p.devs[0].kind == kMobile:
		tr = g.newPhone(r, p)
	case u >= 0.02 && u < 0.03:
		tr = g.vpnUser(r, p)
	case u >= 0.03 && u < 0.035:
		tr = trap{kind: cForgetful, start: g.localTime(r, g.trapDay(r, 0.25, 1), p.home, 8, 22)}
	default:
		return
	}
	p.trap = int32(len(g.traps))
	g.traps = append(g.traps, tr)
}

// trapDay picks a day in [lo*Days, hi*Days), after the profiles have some
// history.
func (g *generator) trapDay(r *rand.Rand, lo, hi float64) int {
	a := int(lo * float64(g.cfg.Days))
	b := max(a+1, int(hi*float64(g.cfg.Days)))
	return a + r.IntN(b-a)
}

// localTime returns a time on day d between local hours from and to in city c.
func (g *generator) localTime(r *rand.Rand, d int, c int32, from, to int) int64 {
	h := int64(from + r.IntN(to-from))
	return g.start + int64(d)*dayNs + h*hourNs - int64(g.w.cities[c].off)*minNs + r.Int64N(hourNs)
}

// traveller plans a trip abroad of 3 to 10 days. Flights take the
// great-circle distance at 820 km/h plus two hours at airports.
func (g *generator) traveller(r *rand.Rand, p *person) trap {
	home := g.w.cities[p.home].country
	ci := home
	for ci == home {
		ci = g.w.travelPick.pick(r)
	}
	dest := g.randomCity(r, ci)
	hours := g.w.distanceKm(int(p.home), dest)/820 + 2
	tr := trap{
		kind:         cTraveller,
		start:        g.localTime(r, g.trapDay(r, 0.25, 0.9), p.home, 6, 20),
		flight:       int64(hours * float64(hourNs)),
		dest:         int32(dest),
		localCarrier: int32(r.IntN(3)),
		hotel:        g.residential(r, dest),
		laptop:       r.Float64() < 0.4,
	}
	tr.end = tr.start + int64(3+r.IntN(8))*dayNs + r.Int64N(8*hourNs) - 4*hourNs
	return tr
}

// newPhone replaces the person's phone with a new one: a new device id, the
// latest OS and browser, and now and then a switch between iPhone and Android.
func (g *generator) newPhone(r *rand.Rand, p *person) trap {
	old := &p.devs[0]
	c := g.w.countries[g.w.cities[p.home].country].def
	ios := c.ios
	if r.Float64() < 0.85 {
		ios = 0
		if old.tmpl == tIPhoneSafari || old.tmpl == tIPhoneChrome || old.tmpl == tOldIPhoneSafari {
			ios = 1
		}
	}
	nd := g.newDevice(r, kMobile, &countryDef{ios: ios})
	if nd.tmpl == tOldIPhoneSafari {
		nd.tmpl = tIPhoneSafari
	}
	nd.lag, nd.method, nd.noID, nd.unverified = 0, old.method, old.noID, true
	return trap{kind: cNewPhone, start: g.localTime(r, g.trapDay(r, 0.25, 0.9), p.home, 10, 20), newDev: nd}
}

// vpnUser starts using a commercial VPN for a share of logins, exiting in a
// foreign country.
func (g *generator) vpnUser(r *rand.Rand, p *person) trap {
	ni := g.w.vpnNets[r.IntN(len(g.w.vpnNets))]
	home := g.w.cities[p.home].country
	return trap{
		kind:       cVPN,
		start:      g.localTime(r, g.trapDay(r, 0.1, 0.6), p.home, 0, 24),
		vpnNet:     int32(ni),
		vpnCountry: int32(g.foreignExit(r, ni, home)),
		vpnShare:   float32(0.15 + 0.35*r.Float64()),
		home:       int32(home),
	}
}

// forgetful emits a forgotten password: 3 to 5 bad passwords, the account
// locks and 1 to 3 more tries are refused; half an hour to two hours later a
// password reset or the remembered password succeeds.
func (g *generator) forgetful(r *rand.Rand, i int, tr *trap) {
	p := &g.people[i]
	dev, _ := g.pickDevice(r, p, nil, false, false, tr.start)
	pl, _ := g.pickPlace(r, p, nil, dev, false, false, tr.start)
	ev := rec{t: tr.start, account: p.account, pl: pl, cohort: cForgetful,
		ua: g.ua.at(dev.tmpl, dev.variant, tr.start/secNs, int(dev.lag))}
	if !dev.noID {
		ev.device = dev.id
	}
	bad, locked := 3+r.IntN(3), 1+r.IntN(3)
	for k := range bad + locked {
		reason := rBadPassword
		if k >= bad {
			reason = rLocked
		}
		g.failure(&ev, reason)
		ev.t += 8*secNs + r.Int64N(40*secNs)
	}
	ev.t += 30*minNs + r.Int64N(90*minNs)
	ev.method = mPassword
	if r.Float64() < 0.6 {
		ev.method = mReset
	}
	ev.outcome = firebreak.OutcomeSuccess
	g.add(ev)
}

// surgePlan is the marketing surge: on one day a large share of all
// accounts logs in within an hour of a campaign going out.
type surgePlan struct {
	on    bool
	day   int
	start int64
	share float64
}

func (g *generator) planSurge() {
	if !g.sc.traps {
		return
	}
	r := g.newRNG(saltSurge)
	d := g.trapDay(r, 0.4, 0.9)
	g.surge = surgePlan{on: true, day: d, share: 0.46,
		start: g.start + int64(d)*dayNs + int64(14+r.IntN(4))*hourNs}
}

func (s *surgePlan) today(day int) bool { return s.on && day == s.day }

// includes says whether person i answers the campaign.
func (s *surgePlan) includes(seed uint64, i int) bool {
	return float64(hash2(seed^saltSurge<<48, uint64(i))>>11)/(1<<53) < s.share
}

// arrival is when a person answers: most within minutes, all within the hour.
func (s *surgePlan) arrival(r *rand.Rand) int64 {
	return s.start + min(int64(r.ExpFloat64()*13*float64(minNs)), hourNs-secNs)
}
