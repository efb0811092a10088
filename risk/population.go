package risk

import "math"

// The population side of the likelihood ratio: how common each value is among
// all learned logins (the attacker model: an attacker's login looks like a
// random login of the population), and how often accounts change values at
// each level, by how much history they have (the empirical-Bayes prior for
// accounts with little history of their own).

const (
	// The count-min sketch is blocked: both of a key's counters live in one
	// 64-byte line (16 counters), so a lookup costs one cache miss, not two.
	cmsLineBits = 18
	cmsLines    = 1 << cmsLineBits
	cmsWidth    = cmsLines * 16
	// popDecayEvery halves every population count after this many learned
	// logins, so the population follows the traffic of recent weeks.
	popDecayEvery = 1 << 22
	// expBuckets groups accounts by how many earlier logins they have at a
	// level: 1, 2–3, 4–7, … 128+.
	expBuckets = 8
	// failBuckets groups recent-failure counts: <0.5, <1.5, <3, <6, <12, <24, more.
	failBuckets = 7
)

type population struct {
	// cms is a blocked count-min sketch (two counters per key) with
	// conservative update.
	cms    []uint32
	total  [len(hierarchies)]uint32
	novel  [numLevels][expBuckets]uint32
	trials [numLevels][expBuckets]uint32
	fails  [failBuckets]uint32
	// travel counts "impossible" moves among learned logins (legit) and
	// among random pairings of an account's last place with another
	// login's place (the attacker's distribution, by Monte Carlo).
	legitImp, legitAll, attackImp, attackAll uint32
	lastLat, lastLon                         float64
	hasLast                                  bool
	sinceDecay                               uint32
}

func newPopulation() population {
	return population{cms: make([]uint32, cmsWidth)}
}

// cmsIndex returns the key's two counter positions, in one cache line.
func cmsIndex(key uint64) (uint32, uint32) {
	line := uint32(key&(cmsLines-1)) * 16
	a := uint32(key>>40) & 15
	b := (a + 1 + uint32(key>>44)%15) & 15
	return line + a, line + b
}

// count returns the (over-)estimated number of learned logins with key.
func (p *population) count(key uint64) uint32 {
	i, j := cmsIndex(key)
	return min(p.cms[i], p.cms[j])
}

// touch loads the key's line. Called for every key before any is used, it
// lets the processor fetch the lines in parallel rather than one by one.
func (p *population) touch(key uint64) uint32 {
	i, _ := cmsIndex(key)
	return p.cms[i]
}

// inc adds one to key with conservative update: only the counters at the
// minimum grow, which keeps over-estimates of rare values small.
func (p *population) inc(key uint64) {
	i, j := cmsIndex(key)
	a, b := p.cms[i], p.cms[j]
	m := min(a, b)
	if a == m {
		p.cms[i]++
	}
	if b == m {
		p.cms[j]++
	}
}

// share is P_pop(value | parent) for a value at level l, parent being the
// previous level's key (or the hierarchy total at its first level).
func (p *population) share(f *features, l level, h int) float64 {
	var parent uint32
	if l == hierarchies[h].first {
		parent = p.total[h]
	} else {
		parent = p.count(f.key[l-1])
	}
	c := p.count(f.key[l])
	if parent == 0 || c == 0 {
		return 1 / float64(p.total[h]+1)
	}
	return math.Min(1, float64(c)/float64(parent))
}

// noveltyPrior is the population's rate of new values at level l among
// accounts with the given history length, with a flat Beta(1,1) start.
func (p *population) noveltyPrior(l level, b int) float64 {
	return (float64(p.novel[l][b]) + 1) / (float64(p.trials[l][b]) + 2)
}

func expBucket(trials int) int {
	b := 0
	for t := trials; t > 1 && b < expBuckets-1; t >>= 1 {
		b++
	}
	return b
}

func failBucket(mass float64) int {
	switch {
	case mass < 0.5:
		return 0
	case mass < 1.5:
		return 1
	}
	b := 2
	for lim := 3.0; mass >= lim && b < failBuckets-1; lim *= 2 {
		b++
	}
	return b
}

// tick counts one learned login and ages the population when it is time.
func (p *population) tick() {
	p.sinceDecay++
	if p.sinceDecay < popDecayEvery {
		return
	}
	p.sinceDecay = 0
	for i := range p.cms {
		p.cms[i] >>= 1
	}
	halve := func(xs []uint32) {
		for i := range xs {
			xs[i] >>= 1
		}
	}
	halve(p.total[:])
	for l := range p.novel {
		halve(p.novel[l][:])
		halve(p.trials[l][:])
	}
	halve(p.fails[:])
	p.legitImp, p.legitAll, p.attackImp, p.attackAll = p.legitImp>>1, p.legitAll>>1, p.attackImp>>1, p.attackAll>>1
}
