package risk

import (
	"math"

	"firebreak"
)

// learn adds a successful login to the account's profile and to the
// population statistics. It runs after scoring, so scoring stays causal.
func (m *Model) learn(p *profile, f *features, e *firebreak.Event, now uint32) {
	// Slots this login matched are never evicted while it is learned.
	var protect uint32
	for _, i := range f.idx {
		if i >= 0 {
			protect |= 1 << i
		}
	}
	for h, hi := range hierarchies {
		n := int(p.n[h])
		trials, parentSeen := n, true
		for l := hi.first; l <= hi.last; l++ {
			i := int(f.idx[l])
			if parentSeen && n > 0 {
				b := expBucket(trials)
				m.pop.trials[l][b]++
				if i < 0 {
					m.pop.novel[l][b]++
					p.novel[l]++
				} else {
					trials = max(1, trials-int(p.novel[l]))
				}
			}
			if i < 0 {
				parentSeen = false
				if n > 0 && tracksMoves(l) {
					m.pop.learnMove(f.key[l], moveParent(f, l, h))
				}
			}
			protect |= 1 << p.add(l, f.slot[l], i, protect)
			m.pop.inc(f.key[l])
		}
		p.n[h]++
		m.pop.total[h]++
	}
	m.pop.fails[failBucket(recentFailures(p, now))]++
	p.failMass = 0
	m.learnPlace(p, e, now)
	p.lastMin = now
	for h := range p.n {
		if p.n[h] >= decayAt {
			p.halve()
			break
		}
	}
	m.pop.tick()
}

// learnPlace updates the travel statistics and the account's last place.
func (m *Model) learnPlace(p *profile, e *firebreak.Event, now uint32) {
	if !e.HasGeo {
		return
	}
	if p.hasGeo && p.lastMin > 0 {
		_, _, mins, impossible := travel(p, e.Lat, e.Lon, now)
		m.pop.legitAll++
		if impossible {
			m.pop.legitImp++
		}
		if m.pop.hasLast {
			// Monte Carlo draw of the attacker's distribution: the same
			// account and gap, but the place of the previous login anyone
			// made.
			// Impossible means at least this far; the bound settles most
			// draws without trigonometry.
			need := math.Max(minTravelKm, impossibleKmh*float64(mins)/60)
			lat, lon := float64(p.lat)/100, float64(p.lon)/100
			m.pop.attackAll++
			if distanceBound(lat, lon, m.pop.lastLat, m.pop.lastLon) >= need &&
				distance(lat, lon, m.pop.lastLat, m.pop.lastLon) >= need {
				m.pop.attackImp++
			}
		}
	}
	p.lat, p.lon, p.hasGeo = int16(math.Round(e.Lat*100)), int16(math.Round(e.Lon*100)), true
	m.pop.lastLat, m.pop.lastLon, m.pop.hasLast = e.Lat, e.Lon, true
}

// moveParent is the key the moves at level l are counted under: the value
// above it, or for a hierarchy's top level the hierarchy's index.
func moveParent(f *features, l level, h int) uint64 {
	if l == hierarchies[h].first {
		return uint64(h)
	}
	return f.key[l-1]
}
