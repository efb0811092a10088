package sim

import (
	"math"
	"math/rand/v2"
)

// Device kinds (the hardware, whatever the user agent claims).
const (
	kDesktop uint8 = iota
	kMobile
	kTablet
)

// Login methods, indexing methodNames. mNone is last so that a device's
// zero method stays password; account changes have none.
const (
	mPassword uint8 = iota
	mSSO
	mPasskey
	mToken
	mReset
	mMFA
	mNone
)

var methodNames = [...]string{"password", "sso", "passkey", "token", "reset", "mfa", ""}

// device is one of a person's devices.
type device struct {
	id      string // stable until the user clears cookies
	tmpl    tmpl
	variant uint8
	kind    uint8
	lag     uint8 // days behind a browser release before it updates
	method  uint8
	noID    bool // the client never sends a device id
	// unverified: the platform has not verified the current id (a new
	// phone, cleared cookies) and challenges its password logins.
	unverified bool
	relay      bool // Safari with iCloud Private Relay
	work       bool // an office computer, used only at the office
}

// person is one account holder.
type person struct {
	account   string
	rate      float32 // mean sessions per day
	home      int32   // city
	isp       int32   // residential network; -1 for mobile-only people
	carrier   int32
	household int32 // people of one household share its address lease
	office    int32 // -1 when not an office worker
	vps       int32 // index into generator.vps; -1 when none
	trap      int32 // index into generator.traps; -1 when none
	cohort    uint8 // cgnat, office or none
	v6        bool
	ndev      uint8
	devs      [3]device
	// learned: networks (index + 1) where a client without a device id
	// passed the platform's challenge, the last two.
	learned   [2]int32
	learnNext uint8
}

// office is a workplace behind one egress address.
type office struct {
	pl   place
	size int
	n    int
}

// populate creates the people, their households, devices and offices.
func (g *generator) populate() {
	g.people = make([]person, g.cfg.Accounts)
	for i := range g.people {
		g.newPerson(i)
	}
	g.assignOffices()
}

func (g *generator) newPerson(i int) {
	r := g.seedRNG(saltPerson, uint64(i), 0)
	p := &g.people[i]
	p.account = g.ids.id(i)
	p.office, p.trap, p.vps = -1, -1, -1
	if i > 0 && g.people[i-1].isp >= 0 && r.Float64() < 0.3 {
		prev := &g.people[i-1]
		p.home, p.isp, p.household, p.v6 = prev.home, prev.isp, prev.household, prev.v6
	} else {
		g.newHousehold(r, p, i)
	}
	ci := g.w.cities[p.home].country
	c := &g.w.countries[ci]
	p.carrier = int32(c.carriers[pickDecreasing(r, len(c.carriers))])
	// Heavy-tailed activity: median 0.38 sessions a day, a tail of people
	// who log in many times a day.
	p.rate = float32(math.Min(24, 0.38*math.Exp(1.0*r.NormFloat64())))
	g.newDevices(r, p, c.def)
	switch u := r.Float64(); {
	case p.isp < 0:
		p.cohort = cCGNAT
	case u < 0.12:
		p.office = 0 // marked; assignOffices picks the office
	case u < 0.125:
		g.newVPS(r, p, ci)
	}
	g.drawTrap(r, i)
}

func (g *generator) newHousehold(r *rand.Rand, p *person, i int) {
	ci := g.w.countryPick.pick(r)
	c := &g.w.countries[ci]
	p.home = int32(c.cities[c.cityPick.pick(r)])
	p.household = int32(i)
	p.isp = -1
	if r.Float64() >= c.def.mobileOnly {
		p.isp = int32(c.isps[pickDecreasing(r, len(c.isps))])
		p.v6 = g.w.nets[p.isp].v6 && r.Float64() < 0.75
	}
}

// pickDecreasing picks an index with weights 1, 1/2, 1/3, ...: a few large
// operators and a tail of smaller ones.
func pickDecreasing(r *rand.Rand, n int) int {
	total := 0.0
	for k := range n {
		total += 1 / float64(k+1)
	}
	u := r.Float64() * total
	for k := range n {
		u -= 1 / float64(k+1)
		if u < 0 {
			return k
		}
	}
	return n - 1
}

func (g *generator) newDevices(r *rand.Rand, p *person, c *countryDef) {
	var kinds []uint8
	switch u := r.Float64(); {
	case p.isp < 0 && u < 0.8:
		kinds = []uint8{kMobile}
	case p.isp < 0:
		kinds = []uint8{kMobile, kMobile}
	case u < 0.40:
		kinds = []uint8{pickKind(r, 0.88, kMobile, kDesktop)}
	case u < 0.82:
		kinds = []uint8{kMobile, pickKind(r, 0.7, kDesktop, kTablet)}
	default:
		kinds = []uint8{kMobile, kDesktop, pickKind(r, 0.6, kTablet, kDesktop)}
	}
	for _, k := range kinds {
		p.devs[p.ndev] = g.newDevice(r, k, c)
		p.ndev++
	}
}

func pickKind(r *rand.Rand, pa float64, a, b uint8) uint8 {
	if r.Float64() < pa {
		return a
	}
	return b
}

func (g *generator) newDevice(r *rand.Rand, kind uint8, c *countryDef) device {
	d := device{kind: kind, id: deviceID(r), lag: uint8(r.IntN(36))}
	switch kind {
	case kMobile:
		d.tmpl, d.variant = mobileTemplate(r, c.ios)
	case kTablet:
		d.tmpl = pickTmpl(r, []tmpl{tIPadSafari, tIPadChrome, tAndroidTablet}, []float64{0.5 * c.ios / 0.4, 0.1, 0.4})
	default:
		d.tmpl = desktopTemplate(r, c.ios)
	}
	if templates[d.tmpl].sched == schedSafari {
		d.lag = uint8(r.IntN(70))
	}
	if d.tmpl == tIPhoneChrome || d.tmpl == tIPadChrome {
		d.variant = uint8(r.IntN(2)) << 4 // an older iPhone stuck on iOS 17
	}
	d.noID = r.Float64() < 0.18
	switch d.tmpl {
	case tMacSafari, tIPadSafari, tIPhoneSafari:
		d.relay = r.Float64() < 0.15
	}
	switch u := r.Float64(); {
	case u < 0.06:
		d.method = mSSO
	case u < 0.12 && kind != kTablet:
		d.method = mPasskey
	case u < 0.16:
		d.method = mToken
	}
	return d
}

func mobileTemplate(r *rand.Rand, ios float64) (tmpl, uint8) {
	if r.Float64() < ios {
		return pickTmpl(r, []tmpl{tIPhoneSafari, tIPhoneChrome, tOldIPhoneSafari}, []float64{0.84, 0.12, 0.04}), 0
	}
	return pickTmpl(r, []tmpl{tAndroidChrome, tAndroidSamsung, tAndroidFirefox}, []float64{0.68, 0.27, 0.05}), uint8(r.IntN(6))
}

func desktopTemplate(r *rand.Rand, ios float64) tmpl {
	mac := 0.08 + 0.25*ios
	switch u := r.Float64(); {
	case u < mac:
		return pickTmpl(r, []tmpl{tMacSafari, tMacChrome, tMacFirefox}, []float64{0.5, 0.42, 0.08})
	case u < mac+0.03:
		return pickTmpl(r, []tmpl{tLinuxChrome, tLinuxFirefox}, []float64{0.55, 0.45})
	case u < mac+0.06:
		return tChromeOS
	case u < mac+0.075:
		return tWin7Chrome
	}
	return pickTmpl(r, []tmpl{tWinChrome, tWinEdge, tWinFirefox, tWinOpera}, []float64{0.65, 0.22, 0.09, 0.04})
}

func pickTmpl(r *rand.Rand, ts []tmpl, ws []float64) tmpl {
	total := 0.0
	for _, w := range ws {
		total += w
	}
	u := r.Float64() * total
	for i, w := range ws {
		if u -= w; u < 0 {
			return ts[i]
		}
	}
	return ts[len(ts)-1]
}

const hexDigits = "0123456789abcdef"

// newVPS gives a technical person a rented server they tunnel their
// computer's traffic through, at home or in a neighbouring country.
func (g *generator) newVPS(r *rand.Rand, p *person, home int) {
	ni := g.w.hostNets[r.IntN(len(g.w.hostNets))]
	ci := home
	if g.w.nets[ni].byCtry[home] < 0 {
		ci = g.foreignExit(r, ni, -1)
	}
	p.vps = int32(len(g.vps))
	g.vps = append(g.vps, g.hostingPlace(ni, ci, r.IntN(2000)))
}

// deviceID returns a fresh random device id like "d-3f9a0c12be47".
func deviceID(r *rand.Rand) string {
	var b [14]byte
	b[0], b[1] = 'd', '-'
	x := r.Uint64()
	for i := 2; i < len(b); i++ {
		b[i] = hexDigits[x&15]
		x >>= 4
	}
	return string(b[:])
}

// assignOffices groups the marked office workers of each city into offices
// of 20 to 500 people, each behind one egress address of a local ISP, and
// gives each worker an office computer.
func (g *generator) assignOffices() {
	open := make([]int32, len(g.w.cities))
	for i := range open {
		open[i] = -1
	}
	perNet := make([]int, len(g.w.nets)*len(g.w.cities))
	r := g.seedRNG(saltOffice, 0, 0)
	for i := range g.people {
		p := &g.people[i]
		if p.office < 0 {
			continue
		}
		o := open[p.home]
		if o < 0 || g.offices[o].n >= g.offices[o].size {
			o = g.newOffice(r, int(p.home), perNet)
			open[p.home] = o
		}
		g.offices[o].n++
		p.office, p.cohort = o, cOffice
		work := device{kind: kDesktop, id: deviceID(r), tmpl: pickTmpl(r, []tmpl{tWinChrome, tWinEdge}, []float64{0.55, 0.45}), lag: uint8(r.IntN(36)), noID: r.Float64() < 0.18, work: true}
		if p.ndev == 3 {
			p.devs[2] = work
		} else {
			p.devs[p.ndev] = work
			p.ndev++
		}
	}
}

func (g *generator) newOffice(r *rand.Rand, cityIdx int, perNet []int) int32 {
	ci := g.w.cities[cityIdx].country
	c := &g.w.countries[ci]
	ni := c.isps[pickDecreasing(r, len(c.isps))]
	k := perNet[ni*len(g.w.cities)+cityIdx]
	perNet[ni*len(g.w.cities)+cityIdx]++
	// Slot 0 of each pool is business space; offices get hosts 1..254 of it.
	pl := g.w.addr4(ni, k/254%len(g.w.nets[ni].pools), 0, g.w.cities[cityIdx].pos, byte(1+k%254))
	size := int(math.Min(500, 20/math.Pow(1-r.Float64(), 1/1.1)))
	g.offices = append(g.offices, office{pl: pl, size: size})
	return int32(len(g.offices) - 1)
}
