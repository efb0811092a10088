package sim

import (
	"math/rand/v2"
)

// cgnatHosts is the number of egress addresses per carrier pool and city:
// a handful of addresses shared by every subscriber in the area.
const cgnatHosts = 6

// homePlace returns the household's address at t. Residential addresses are
// leased for a few days to weeks; a new lease keeps the /24 or moves to
// another one of the ISP in the same city. IPv6 households keep a /56 per
// lease and devices pick a new interface identifier every day.
func (g *generator) homePlace(p *person, dev *device, t int64) place {
	h := hash2(hash2(g.cfg.Seed, saltHousehold), uint64(p.household))
	period := int64(3 + h%33)
	days := floorDiv(t-g.start, dayNs) + int64(h>>8%uint64(period))
	epoch := uint64(floorDiv(days, period))
	block := hash2(h, epoch/(1+h>>16%3))
	pos := g.w.cities[p.home].pos
	ni := int(p.isp)
	if p.v6 {
		iid := hash2(h^uint64(dev.tmpl)<<40^uint64(dev.kind)<<48, uint64(days))
		k := 1 + int(block%uint64(g.w.v6Slots(ni)-1))
		return g.w.addr6(ni, k, pos, byte(block>>24), iid)
	}
	n := &g.w.nets[ni]
	pi := int(block >> 8 % uint64(len(n.pools)))
	k := 1 + int(block>>16%uint64(g.w.slots(n.pools[pi])-1))
	return g.w.addr4(ni, pi, k, pos, byte(2+hash2(h, epoch)%252))
}

// carrierPlace returns a carrier-grade NAT egress address of carrier ni for
// a subscriber of city c; now and then the carrier routes through another
// city's gateway.
func (g *generator) carrierPlace(r *rand.Rand, ni, c int) place {
	ci := g.w.cities[c].country
	pos := g.w.cities[c].pos
	if r.Float64() < 0.12 {
		pos = g.w.countries[ci].cityPick.pick(r)
	}
	pi := r.IntN(len(g.w.nets[ni].pools))
	return g.w.addr4(ni, pi, 0, pos, byte(1+r.IntN(cgnatHosts)))
}

// residential returns a random residential address of a random ISP in city
// c: a café, a hotel, a friend's home or an infected home router.
func (g *generator) residential(r *rand.Rand, c int) place {
	ct := &g.w.countries[g.w.cities[c].country]
	ni := ct.isps[r.IntN(len(ct.isps))]
	pi := r.IntN(len(g.w.nets[ni].pools))
	k := 1 + r.IntN(g.w.slots(g.w.nets[ni].pools[pi])-1)
	return g.w.addr4(ni, pi, k, g.w.cities[c].pos, byte(2+r.IntN(252)))
}

func (g *generator) publicWifi(r *rand.Rand, c int) place {
	return g.residential(r, c)
}

// randomCity returns a city of country ci, weighted by population.
func (g *generator) randomCity(r *rand.Rand, ci int) int {
	ct := &g.w.countries[ci]
	return ct.cities[ct.cityPick.pick(r)]
}

// hostingPlace returns server s of hosting network ni in country ci; servers
// sit in the country's first city.
func (g *generator) hostingPlace(ni, ci, s int) place {
	return g.hostingAt(ni, ci, 0, s)
}

// hostingAt returns server s of hosting network ni in the city at position
// pos of country ci.
func (g *generator) hostingAt(ni, ci, pos, s int) place {
	n := &g.w.nets[ni]
	pi := n.byCtry[ci]
	slots := g.w.slots(n.pools[pi])
	return g.w.addr4(ni, pi, s/200%slots, pos, byte(10+s%200))
}

// relayPlace returns an iCloud Private Relay egress near the person's home:
// relays keep the user's city, not the address or the network.
func (g *generator) relayPlace(r *rand.Rand, p *person) place {
	ni := g.w.relayNets[r.IntN(len(g.w.relayNets))]
	c := &g.w.cities[p.home]
	return g.hostingAt(ni, c.country, c.pos, r.IntN(64))
}

// proxyPlace returns a residential-proxy exit: mostly a home connection,
// sometimes a phone behind its carrier's NAT, in the countries where proxy
// networks recruit.
func (g *generator) proxyPlace(r *rand.Rand) place {
	ci := g.w.proxyPick.pick(r)
	c := g.randomCity(r, ci)
	if r.Float64() < 0.12 {
		ct := &g.w.countries[ci]
		return g.carrierPlace(r, ct.carriers[r.IntN(len(ct.carriers))], c)
	}
	return g.residential(r, c)
}

// vpnPlace returns an exit of the VPN trap's provider: usually the person's
// favourite foreign country, sometimes another one the provider offers.
func (g *generator) vpnPlace(r *rand.Rand, tr *trap) place {
	ni, ci := int(tr.vpnNet), int(tr.vpnCountry)
	if r.Float64() < 0.3 {
		ci = g.foreignExit(r, ni, int(tr.home))
	}
	return g.hostingPlace(ni, ci, r.IntN(12))
}

// foreignExit picks a country where hosting network ni has servers, other
// than country not.
func (g *generator) foreignExit(r *rand.Rand, ni, not int) int {
	n := &g.w.nets[ni]
	for {
		if ci := r.IntN(len(n.byCtry)); n.byCtry[ci] >= 0 && ci != not {
			return ci
		}
	}
}

// travelPlace returns where a traveller's session comes from: the phone
// roaming on its home carrier (routed home, so it geolocates at home), a
// local carrier, or the hotel's network.
func (g *generator) travelPlace(r *rand.Rand, p *person, tr *trap, dev *device) place {
	dest := int(tr.dest)
	ci := g.w.cities[dest].country
	u := r.Float64()
	switch {
	case dev.kind == kMobile && u < 0.35:
		return g.carrierPlace(r, int(p.carrier), int(p.home))
	case dev.kind == kMobile && u < 0.6:
		ct := &g.w.countries[ci]
		return g.carrierPlace(r, ct.carriers[int(tr.localCarrier)%len(ct.carriers)], dest)
	case u < 0.9:
		return tr.hotel
	}
	return g.residential(r, dest)
}
