package risk

import (
	"math"

	"firebreak"
)

// Kind says what a piece of evidence is about.
type Kind uint8

// Kinds of evidence.
const (
	KindNone       Kind = iota
	KindNew             // a value never seen for this account
	KindRare            // a value seen, but rarely, for this account
	KindFailures        // recent failed logins on the account
	KindTravel          // impossible travel since the last login
	KindSource          // the source fails far more than sources do
	KindReputation      // outside evidence about the source (campaigns)
)

const maxEvidence = 3

// Evidence is one reason behind a score, with the numbers that support it.
type Evidence struct {
	Kind  Kind
	LogLR float64 // natural log of this evidence's likelihood ratio
	level level
	// Trials is the history it was judged against (earlier logins, or
	// attempts from a source); Count is how often the value was seen (or
	// failures); Rate is the account's estimated chance of such a change.
	Trials, Count int
	Rate          float64
	Km, Kmh       float64
	Minutes       int
	// Move is P_pop/P_move for a new value: above 1 when few accounts that
	// change move to this value, below 1 when many do.
	Move float64
	text string
}

// add folds ev into the result, keeping the strongest reasons.
func (r *Result) add(ev Evidence) {
	if ev.Kind == KindNone {
		return
	}
	r.LogLR += ev.LogLR
	// Below a likelihood ratio of 2 a reason is not worth a person's time.
	// A "rare" value the account mostly uses is no reason a person would
	// follow: its ratio comes from how often the account changes.
	if ev.LogLR < math.Ln2 || (ev.Kind == KindRare && ev.Rate >= 0.5) {
		return
	}
	i := r.N
	if i == maxEvidence {
		if ev.LogLR <= r.Evidence[i-1].LogLR {
			return
		}
		i--
	} else {
		r.N++
	}
	for i > 0 && r.Evidence[i-1].LogLR < ev.LogLR {
		r.Evidence[i] = r.Evidence[i-1]
		i--
	}
	r.Evidence[i] = ev
}

// hierarchyEvidence walks one hierarchy from coarse to fine. Each known level
// contributes P_pop(value | parent) / P_account(value | parent); the first new
// level contributes 1 / P_account(new value), the account's own smoothed rate
// of change at that level; finer levels below a new one say nothing more.
// The ratios are multiplied and logged once: logs are the expensive part.
func (m *Model) hierarchyEvidence(p *profile, f *features, h int) Evidence {
	hi := hierarchies[h]
	n := int(p.n[h])
	if n == 0 {
		return Evidence{}
	}
	trials, parent := n, n
	parentPop := m.pop.total[h]
	ev := Evidence{Kind: KindRare, Trials: n}
	ratio, worst := 1.0, 1.0
	for l := hi.first; l <= hi.last; l++ {
		pNew := m.noveltyRate(p, l, trials)
		i := int(f.idx[l])
		if i < 0 {
			if l == lvMajor {
				if _, up := p.maxMajorBelow(f.slot[l], f.major); up {
					break // a browser upgrade: expected, no evidence either way
				}
			}
			move := m.moveRatio(f, l, hi.last, h, parentPop)
			ratio *= move / pNew
			ev = Evidence{Kind: KindNew, level: l, Trials: n, Rate: pNew, Move: move}
			break
		}
		c := p.count(i)
		pAcct := (1 - pNew) * float64(c) / float64(max(parent, c))
		popCount := m.pop.count(f.key[l])
		r := share(popCount, parentPop, m.pop.total[h]) / pAcct
		ratio *= r
		if r > worst {
			worst, ev.level, ev.Count, ev.Rate = r, l, c, float64(c)/float64(max(parent, c))
		}
		parent, parentPop = c, popCount
		trials = max(1, trials-int(p.novel[l]))
	}
	ev.LogLR = clamp(math.Log(ratio))
	return ev
}

// moveRatio weighs a new value at level first and everything below it:
// P_pop(value | parent), the attacker, against P_move(value | parent), where
// legitimate accounts go when they change. Values that many accounts move to
// (a VPN exit, a holiday country, a new phone model) cost less than values
// nobody moves to.
func (m *Model) moveRatio(f *features, first, last level, h int, parentPop uint32) float64 {
	ratio := 1.0
	parentKey := moveParent(f, first, h)
	for l := first; l <= last && tracksMoves(l); l++ {
		c := m.pop.count(f.key[l])
		pop := share(c, parentPop, m.pop.total[h])
		ratio *= pop / m.pop.moveShare(f.key[l], parentKey, pop)
		parentPop, parentKey = c, f.key[l]
	}
	return ratio
}

// tracksMoves reports whether moves are counted at level l. IPs and device
// ids have too many values for the moves sketch to count without collisions
// inflating every rare value, and a move to one exact IP or device says
// little; there a move is judged by the population alone.
func tracksMoves(l level) bool {
	return l != lvIP && l != lvDevice
}

// noveltyRate is the account's chance of a new value at level l, with the
// population's rate for accounts of similar experience as the prior.
func (m *Model) noveltyRate(p *profile, l level, trials int) float64 {
	prior := m.pop.noveltyPrior(l, expBucket(trials))
	r := (float64(p.novel[l]) + priorStrength*prior) / (float64(trials) + priorStrength)
	return math.Max(1e-6, math.Min(0.999, r))
}

// failureEvidence weighs the account's recent failures: how rare is this many
// among the population's successful logins, against an attacker who could be
// anywhere on the scale (uniform over the buckets). Few failures are no
// evidence of innocence, so the ratio never drops below 1.
func (m *Model) failureEvidence(p *profile, now uint32) Evidence {
	mass := recentFailures(p, now)
	b := failBucket(mass)
	if b == 0 {
		return Evidence{}
	}
	var sum uint32
	for _, c := range m.pop.fails {
		sum += c
	}
	pLegit := (float64(m.pop.fails[b]) + 1) / (float64(sum) + failBuckets)
	lr := math.Log(1.0 / failBuckets / pLegit)
	if lr <= 0 {
		return Evidence{}
	}
	return Evidence{Kind: KindFailures, LogLR: clamp(lr), Count: int(math.Round(mass)), Rate: pLegit}
}

func recentFailures(p *profile, now uint32) float64 {
	if p.failMass == 0 {
		return 0
	}
	age := float64(now) - float64(p.failMin)
	return float64(p.failMass) / 16 * math.Exp2(-math.Max(0, age)/failHalfLife)
}

// travelEvidence flags moves faster than an airliner since the last learned
// login, weighed by how often legitimate logins do that (VPNs, shared
// accounts) against how often a random other login's place would.
func (m *Model) travelEvidence(p *profile, e *firebreak.Event, now uint32) Evidence {
	if !e.HasGeo || !p.hasGeo || p.lastMin == 0 {
		return Evidence{}
	}
	km, kmh, mins, impossible := travel(p, e.Lat, e.Lon, now)
	if !impossible {
		return Evidence{}
	}
	pLegit := (float64(m.pop.legitImp) + 1) / (float64(m.pop.legitAll) + 2)
	pAttack := (float64(m.pop.attackImp) + 1) / (float64(m.pop.attackAll) + 2)
	lr := math.Log(pAttack / pLegit)
	if lr <= 0 {
		return Evidence{}
	}
	return Evidence{Kind: KindTravel, LogLR: clamp(lr), Km: km, Kmh: kmh, Minutes: mins, Rate: pLegit}
}

// travel reports whether the move from the profile's last place to
// (lat, lon) is impossible: at least minTravelKm at impossibleKmh or more.
// The distance and speed are measured only then (the bound settles most
// moves without trigonometry); otherwise they are 0.
func travel(p *profile, lat, lon float64, now uint32) (km, kmh float64, mins int, impossible bool) {
	mins = max(1, int(now)-int(p.lastMin))
	hours := float64(mins) / 60
	need := math.Max(minTravelKm, impossibleKmh*hours)
	plat, plon := float64(p.lat)/100, float64(p.lon)/100
	if distanceBound(plat, plon, lat, lon) < need {
		return 0, 0, mins, false
	}
	km = distance(plat, plon, lat, lon)
	return km, km / hours, mins, km >= minTravelKm && km/hours >= impossibleKmh
}

func (m *Model) sourceEvidence(f *features, acct uint32, now uint32) Evidence {
	lbf, fails, attempts, prefix := m.src.evidence(f, acct, now)
	if lbf <= 0 {
		return Evidence{}
	}
	l := lvIP
	if prefix {
		l = lvPrefix
	}
	return Evidence{Kind: KindSource, LogLR: clamp(lbf), level: l, Count: fails, Trials: attempts}
}

// distance returns the great-circle distance in km. Most logins are near
// the previous one: a flat-earth estimate, good to a few percent, settles
// those without trigonometry beyond one cosine.
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	const kmPerDegree = 111.2
	dLat := lat2 - lat1
	dLon := math.Abs(lon2 - lon1)
	if dLon > 180 {
		dLon = 360 - dLon
	}
	if dLat == 0 && dLon == 0 {
		return 0 // the same place, as most logins are: no trigonometry
	}
	if math.Abs(dLat) < 3 && dLon < 3 {
		x := dLon * math.Cos((lat1+lat2)/2*math.Pi/180)
		return kmPerDegree * math.Sqrt(x*x+dLat*dLat)
	}
	return haversine(lat1, lon1, lat2, lon2)
}

// distanceBound is an upper bound of distance without trigonometry: the
// path along the meridian, then the parallel, is no shorter than the
// great circle, nor than the flat estimate.
func distanceBound(lat1, lon1, lat2, lon2 float64) float64 {
	const kmPerDegree = 111.2
	dLon := math.Abs(lon2 - lon1)
	if dLon > 180 {
		dLon = 360 - dLon
	}
	return kmPerDegree * (math.Abs(lat2-lat1) + dLon)
}

// haversine returns the great-circle distance in km.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
