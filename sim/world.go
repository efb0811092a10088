package sim

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"sort"
)

// netKind says what kind of operator a network is.
type netKind uint8

const (
	kindISP netKind = iota
	kindCarrier
	kindHosting
)

// city is a city of the world with its activity curve over UTC hours.
type city struct {
	name, region string
	country      int // index into world.countries
	pos          int // position among the country's cities
	lat, lon     float64
	off          int // standard UTC offset, minutes
	hours        picker
}

// country is a country of the world with its operators.
type country struct {
	def      *countryDef
	code     string
	cities   []int // global city indices
	cityPick picker
	isps     []int // network indices
	carriers []int
}

// pool is one made-up /16 (IPv4) of a network, located in one country.
type pool struct {
	a, b    byte
	country int
}

// network is an operator with its address pools.
type network struct {
	name    string
	asn     uint32
	kind    netKind
	country int // home country; -1 for hosting
	vpn     bool
	pools   []pool
	byCtry  []int // hosting: pool index per country, -1 when absent
	v6      bool
	v6a     uint16 // first two hextets of the network's IPv6 /32
	v6b     uint16
}

// place is where a login comes from: the address and what a geolocation
// database says about it.
type place struct {
	ip   netip.Addr
	net  int
	city int
}

// world is the immutable geography and network map shared by a run.
type world struct {
	cities      []city
	countries   []country
	nets        []network
	countryPick picker
	travelPick  picker
	proxyPick   picker
	vpnNets     []int
	hostNets    []int
	relayNets   []int
}

// picker is a cumulative weight table for weighted choice.
type picker []float64

func newPicker(weights []float64) picker {
	p := make(picker, len(weights))
	sum := 0.0
	for i, w := range weights {
		sum += w
		p[i] = sum
	}
	return p
}

func (p picker) pick(r *rand.Rand) int {
	u := r.Float64() * p[len(p)-1]
	i := sort.SearchFloat64s(p, u)
	if i >= len(p) {
		i = len(p) - 1
	}
	return i
}

// newWorld builds the world from the tables. It is the same for every seed.
func newWorld() *world {
	w := &world{}
	alloc := newAllocator()
	weights, travel, proxy := make([]float64, len(countryDefs)), make([]float64, len(countryDefs)), make([]float64, len(countryDefs))
	for ci := range countryDefs {
		d := &countryDefs[ci]
		weights[ci], travel[ci], proxy[ci] = d.weight, d.travel, d.proxy
		w.addCountry(d)
	}
	for ci := range countryDefs {
		d := &countryDefs[ci]
		c := &w.countries[ci]
		for _, n := range d.isps {
			c.isps = append(c.isps, w.addNet(n, kindISP, ci, alloc))
		}
		for _, n := range d.carriers {
			c.carriers = append(c.carriers, w.addNet(n, kindCarrier, ci, alloc))
		}
	}
	for i := range hostingDefs {
		w.addHosting(&hostingDefs[i], alloc)
	}
	w.countryPick, w.travelPick, w.proxyPick = newPicker(weights), newPicker(travel), newPicker(proxy)
	return w
}

func (w *world) addCountry(d *countryDef) {
	ci := len(w.countries)
	c := country{def: d, code: d.code}
	cw := make([]float64, len(d.cities))
	for pos, cd := range d.cities {
		c.cities = append(c.cities, len(w.cities))
		cw[pos] = cd.weight
		w.cities = append(w.cities, city{
			name: cd.name, region: cd.region, country: ci, pos: pos,
			lat: cd.lat, lon: cd.lon, off: cd.off, hours: utcHours(cd.off),
		})
	}
	c.cityPick = newPicker(cw)
	w.countries = append(w.countries, c)
}

// utcHours turns the local diurnal curve into weights over UTC hours.
func utcHours(off int) picker {
	var ws [24]float64
	for h := range 24 {
		local := ((h*60+off)/60%24 + 24) % 24
		ws[h] = diurnal[local]
	}
	return newPicker(ws[:])
}

func (w *world) addNet(d netDef, kind netKind, ci int, alloc *allocator) int {
	n := network{name: d.name, asn: d.asn, kind: kind, country: ci, v6: d.v6}
	npools := 3
	if kind == kindCarrier {
		npools = 2
	}
	for range npools {
		a, b := alloc.v4()
		n.pools = append(n.pools, pool{a: a, b: b, country: ci})
	}
	if d.v6 {
		n.v6a, n.v6b = alloc.v6(w.countries[ci].code)
	}
	w.nets = append(w.nets, n)
	return len(w.nets) - 1
}

func (w *world) addHosting(d *hostingDef, alloc *allocator) {
	n := network{name: d.name, asn: d.asn, kind: kindHosting, country: -1, vpn: d.vpn}
	n.byCtry = make([]int, len(w.countries))
	for i := range n.byCtry {
		n.byCtry[i] = -1
	}
	codes := d.countries
	if codes == nil {
		for _, c := range w.countries {
			codes = append(codes, c.code)
		}
	}
	for _, code := range codes {
		ci := w.countryIndex(code)
		a, b := alloc.v4()
		n.byCtry[ci] = len(n.pools)
		n.pools = append(n.pools, pool{a: a, b: b, country: ci})
	}
	w.nets = append(w.nets, n)
	switch {
	case d.relay:
		w.relayNets = append(w.relayNets, len(w.nets)-1)
	case d.vpn:
		w.vpnNets = append(w.vpnNets, len(w.nets)-1)
	default:
		w.hostNets = append(w.hostNets, len(w.nets)-1)
	}
}

func (w *world) countryIndex(code string) int {
	for i := range w.countries {
		if w.countries[i].code == code {
			return i
		}
	}
	return -1
}

// slots is how many /24s of a pool belong to each city of its country: the
// third octet k*len(cities)+pos places a /24 in the city at position pos, the
// way a geolocation database maps blocks to cities.
func (w *world) slots(p pool) int {
	return 256 / len(w.countries[p.country].cities)
}

// addr4 returns the IPv4 place of host in slot k of pool pi of network ni,
// in the pool country's city at position pos.
func (w *world) addr4(ni, pi, k, pos int, host byte) place {
	p := w.nets[ni].pools[pi]
	c := &w.countries[p.country]
	third := byte(k*len(c.cities) + pos)
	return place{ip: netip.AddrFrom4([4]byte{p.a, p.b, third, host}), net: ni, city: c.cities[pos]}
}

// addr6 returns an IPv6 place in the /48 of slot k for the city at pos; sub
// selects the /56 and iid the interface identifier.
func (w *world) addr6(ni, k, pos int, sub byte, iid uint64) place {
	n := &w.nets[ni]
	c := &w.countries[n.country]
	s48 := uint16(k*len(c.cities) + pos)
	var b [16]byte
	b[0], b[1], b[2], b[3] = byte(n.v6a>>8), byte(n.v6a), byte(n.v6b>>8), byte(n.v6b)
	b[4], b[5], b[6] = byte(s48>>8), byte(s48), sub
	for i := 8; i < 16; i++ {
		b[i] = byte(iid >> (8 * (15 - i)))
	}
	return place{ip: netip.AddrFrom16(b), net: ni, city: c.cities[pos]}
}

// v6Slots is the number of /48s per city in a network's IPv6 /32.
func (w *world) v6Slots(ni int) int {
	return 65536 / len(w.countries[w.nets[ni].country].cities)
}

// jitter returns a stable offset in degrees for the /24 (IPv4) or /48
// (IPv6) of an address, so that a block always geolocates to one point near
// its city.
func jitter(ip netip.Addr) (dlat, dlon float64) {
	var key uint64
	if ip.Is4() {
		b := ip.As4()
		key = uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
	} else {
		b := ip.As16()
		for _, x := range b[:6] {
			key = key<<8 | uint64(x)
		}
		key |= 1 << 60
	}
	h := mix(key)
	return (float64(h&0xffff)/65535 - 0.5) * 0.12, (float64(h>>16&0xffff)/65535 - 0.5) * 0.16
}

// distanceKm is the great-circle distance between two cities.
func (w *world) distanceKm(a, b int) float64 {
	ca, cb := &w.cities[a], &w.cities[b]
	const rad = math.Pi / 180
	la1, la2 := ca.lat*rad, cb.lat*rad
	dl := (cb.lon - ca.lon) * rad
	c := math.Sin(la1)*math.Sin(la2) + math.Cos(la1)*math.Cos(la2)*math.Cos(dl)
	return 6371 * math.Acos(math.Max(-1, math.Min(1, c)))
}
