package risk

// slotCount bounds what one profile remembers. Values beyond it are evicted
// least-frequent first; the per-level novelty counters keep the record that
// they existed, so an evicted value that returns is judged honestly.
const slotCount = 18

// decayAt is the login count at which a profile halves all its counts, so that
// old habits fade and counts fit in 12 bits.
const decayAt = 1024

const (
	countBits = 12
	countMask = 1<<countBits - 1
)

// profile is one account's history in a fixed 160-byte record: no pointers, so
// a million of them are one allocation that the garbage collector never scans.
type profile struct {
	keys [slotCount]uint32
	// meta holds the level in the top 4 bits and the count in the low 12.
	meta [slotCount]uint16
	// n counts learned logins per hierarchy (network, agent, device).
	n [len(hierarchies)]uint16
	// novel counts learned logins whose value at a level was new while the
	// level above was known: the account's own rate of change at that level.
	novel [numLevels]uint16

	lastMin  uint32 // minute of the last learned success; 0 = never
	lat, lon int16  // centi-degrees of the last learned success with geo
	hasGeo   bool
	failMass uint16 // recent failures ×16, decaying with failHalfLife
	failMin  uint32 // minute failMass was last updated
	acctOff  uint32 // account id in the model's arena
	acctLen  uint16
	check    uint32 // second hash of the account id
}

func (p *profile) count(i int) int   { return int(p.meta[i] & countMask) }
func (p *profile) level(i int) level { return level(p.meta[i] >> countBits) }

// maxMajorBelow reports whether the profile holds a browser version of the
// same browser (same tag) that is older than major, and the newest such one.
func (p *profile) maxMajorBelow(slot uint32, major uint8) (int, bool) {
	best, ok := -1, false
	for i := range p.keys {
		if p.meta[i] == 0 || p.level(i) != lvMajor || p.keys[i]&^0xff != slot&^0xff {
			continue
		}
		if v := int(p.keys[i] & 0xff); v < int(major) && v > best {
			best, ok = v, true
		}
	}
	return best, ok
}

// add increments the count of key at level l, held in slot i (or -1 when
// absent, to insert it). Slots whose bit is set in protect are never evicted
// (the parents just touched).
func (p *profile) add(l level, key uint32, i int, protect uint32) (idx int) {
	if i >= 0 && p.keys[i] == key && p.level(i) == l && p.meta[i] != 0 {
		if p.count(i) < countMask {
			p.meta[i]++
		}
		return i
	}
	victim, low := -1, countMask+1
	for i := range p.keys {
		if protect&(1<<i) != 0 {
			continue
		}
		c := p.count(i)
		if p.meta[i] == 0 {
			victim = i
			break
		}
		// Evict the rarest; among equals, the finest level (an old IP
		// before an old country).
		if c < low || (c == low && p.level(i) > p.level(victim)) {
			victim, low = i, c
		}
	}
	p.keys[victim] = key
	p.meta[victim] = uint16(l)<<countBits | 1
	return victim
}

// halve ages the whole profile by one half-life.
func (p *profile) halve() {
	for i := range p.meta {
		if p.meta[i] == 0 {
			continue
		}
		c := (p.count(i) + 1) / 2
		p.meta[i] = p.meta[i]&^countMask | uint16(c)
	}
	for h := range p.n {
		p.n[h] = (p.n[h] + 1) / 2
	}
	for l := range p.novel {
		p.novel[l] = (p.novel[l] + 1) / 2
	}
}
