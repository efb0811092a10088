package risk

import "math"

// The population side of the likelihood ratio: how common each value is among
// all learned logins (the attacker model: an attacker's login looks like a
// random login of the population), and how often accounts change values at
// each level, by how much history they have (the empirical-Bayes prior for
// accounts with little history of their own).

const (
	// cmsLineBits sizes the population sketch: 2^18 lines of 16 counters
	// (16 MiB); movesLineBits the sketch of moves, which are rarer (8 MiB).
	cmsLineBits   = 18
	movesLineBits = 17
	// movePrior is how many moves' worth of weight the population share
	// carries in moveShare before moves to a value have been seen.
	movePrior = 4.0
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
	// cms counts learned logins by (chained) value; moves counts learned
	// logins by the value they moved to when it was new to the account.
	cms    sketch
	moves  sketch
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
	return population{cms: newSketch(cmsLineBits), moves: newSketch(movesLineBits)}
}

// sketch is a blocked count-min sketch with conservative update: both of a
// key's two counters sit in one 64-byte line, so a lookup costs one cache
// miss, and only the counters at the minimum grow, which keeps
// over-estimates of rare values small. Its length is a power of two times 16.
type sketch []uint32

func newSketch(lineBits int) sketch { return make(sketch, (1<<lineBits)*16) }

func (s sketch) index(key uint64) (uint32, uint32) {
	line := uint32(key&uint64(len(s)/16-1)) * 16
	a := uint32(key>>40) & 15
	b := (a + 1 + uint32(key>>44)%15) & 15
	return line + a, line + b
}

// count returns the (over-)estimated count of key.
func (s sketch) count(key uint64) uint32 {
	i, j := s.index(key)
	return min(s[i], s[j])
}

// touch loads the key's line. Called for every key before any is used, it
// lets the processor fetch the lines in parallel rather than one by one.
func (s sketch) touch(key uint64) uint32 {
	i, _ := s.index(key)
	return s[i]
}

func (s sketch) inc(key uint64) {
	i, j := s.index(key)
	a, b := s[i], s[j]
	m := min(a, b)
	if a == m {
		s[i]++
	}
	if b == m {
		s[j]++
	}
}

func (s sketch) halve() {
	for i := range s {
		s[i] >>= 1
	}
}

// count returns the (over-)estimated number of learned logins with key.
func (p *population) count(key uint64) uint32 { return p.cms.count(key) }

// touch prefetches key's line in the population sketch.
func (p *population) touch(key uint64) uint32 { return p.cms.touch(key) }

// inc counts one learned login with key.
func (p *population) inc(key uint64) { p.cms.inc(key) }

// moveShare is P(value | parent, the account is changing to a new value):
// where legitimate accounts go when they change at this level (a VPN exit, a
// travel destination, this month's phone), smoothed towards the population
// share popShare with movePrior pseudo-observations.
func (p *population) moveShare(key, parentKey uint64, popShare float64) float64 {
	c := float64(p.moves.count(key))
	n := float64(p.moves.count(movesOf(parentKey)))
	return (c + movePrior*popShare) / (n + movePrior)
}

// learnMove records that a learned login took a value new to its account.
func (p *population) learnMove(key, parentKey uint64) {
	p.moves.inc(key)
	p.moves.inc(movesOf(parentKey))
}

// movesOf is the key under which all moves below parent are counted.
func movesOf(parentKey uint64) uint64 { return mix(parentKey ^ 0x6d6f766573) }

// share is P_pop(value | parent) from the value's and its parent's counts;
// an unseen value gets one in (total+1).
func share(count, parent, total uint32) float64 {
	if parent == 0 || count == 0 {
		return 1 / float64(total+1)
	}
	return math.Min(1, float64(count)/float64(parent))
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
	p.cms.halve()
	p.moves.halve()
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
