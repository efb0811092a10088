package sim

import (
	"math"
	"math/rand/v2"
	"slices"

	"firebreak"
)

// planAttacks generates every attack of the scenario up front (they are
// small next to the population) and sorts them for merging into the days.
// Each attack draws from its own stream, so an attack is the same in its own
// scenario and in mixed.
func (g *generator) planAttacks() {
	a := g.sc.attacks
	if a&atkStuffing != 0 {
		g.stuffing(g.newRNG(saltStuffing))
	}
	if a&atkTakeover != 0 {
		g.targetedAbroad(g.newRNG(saltTargeted))
		g.localTakeover(g.newRNG(saltLocal))
	}
	if a&atkSpraying != 0 {
		g.spraying(g.newRNG(saltSpraying))
	}
	if a&atkBruteforce != 0 {
		g.bruteforce(g.newRNG(saltBruteforce))
	}
	slices.SortFunc(g.attacks, cmpRec)
}

// attackStart returns a start time after the first 40% of the period, such
// that an attack of length dur fits when the period allows.
func (g *generator) attackStart(r *rand.Rand, dur int64) int64 {
	lo := g.start + int64(math.Ceil(0.4*float64(g.cfg.Days)))*dayNs
	if lo >= g.end {
		lo = g.start + int64(0.4*float64(g.end-g.start))
	}
	hi := max(lo, g.end-dur)
	return lo + r.Int64N(hi-lo+1)
}

// sampleDistinct returns k distinct person indices in random order.
func sampleDistinct(r *rand.Rand, n, k int) []int32 {
	k = min(k, n)
	seen := make([]uint64, (n+63)/64)
	out := make([]int32, 0, k)
	for len(out) < k {
		i := r.IntN(n)
		if seen[i/64]&(1<<(i%64)) == 0 {
			seen[i/64] |= 1 << (i % 64)
			out = append(out, int32(i))
		}
	}
	return out
}

// attackerUAs are the user agents attack tools rotate through: the most
// common real browsers, in proportion to their share.
var attackerUAs = []tmpl{tWinChrome, tWinEdge, tWinFirefox, tMacChrome, tMacSafari, tAndroidChrome, tIPhoneSafari, tAndroidSamsung, tIPhoneChrome, tLinuxChrome}
var attackerUAWeights = []float64{30, 10, 3, 7, 5, 22, 15, 4, 2, 2}

// commonUA returns a common user agent at a version current at t or a
// release or two behind.
func (g *generator) commonUA(r *rand.Rand, t int64) int32 {
	tm := pickTmpl(r, attackerUAs, attackerUAWeights)
	return g.ua.at(tm, uint8(r.IntN(6)), t/secNs, r.IntN(50))
}

// attempt is one attack login.
func (g *generator) attempt(t int64, account string, pl place, ua int32, device string, out firebreak.Outcome, reason uint8, cohort uint8, ato bool) {
	g.addAttack(rec{t: t, account: account, pl: pl, ua: ua, device: device, outcome: out,
		reason: reason, cohort: cohort, ato: ato, method: mPassword})
}

// stuffing replays a leaked credential list: 5-10% of the real accounts plus
// 30% of ids that do not exist, over one to three days in bursts, through
// thousands of residential-proxy exits each used a handful of times. About 1%
// of the attempts on real accounts hit a reused password; some hits are used
// again later.
func (g *generator) stuffing(r *rand.Rand) {
	list := g.stuffingList(r)
	dur := dayNs + r.Int64N(2*dayNs)
	times := g.burstTimes(r, g.attackStart(r, dur), dur, len(list))
	var pl place
	var ua int32
	uses := 0
	for k, e := range list {
		t := times[k]
		if uses == 0 {
			pl, ua, uses = g.proxyPlace(r), g.commonUA(r, t), 1+r.IntN(4)
		}
		uses--
		switch {
		case e.person < 0:
			g.attempt(t, g.ids.unknown(r), pl, ua, "", firebreak.OutcomeFailure, rUnknownAccount, cStuffing, false)
		case !e.hit:
			g.attempt(t, g.people[e.person].account, pl, ua, "", firebreak.OutcomeFailure, rBadPassword, cStuffing, false)
		default:
			v, verified := e.person, false
			g.attackerSuccess(r, v, t, pl, ua, "", cStuffing, false, false, &verified)
			if r.Float64() < 1.0/3 { // the account is used again
				for range 1 + r.IntN(2) {
					t2 := t + hourNs + r.Int64N(47*hourNs)
					g.attackerSuccess(r, v, t2, g.proxyPlace(r), g.commonUA(r, t2), "", cStuffing, false, false, &verified)
				}
			}
		}
	}
}

// comboEntry is a line of a credential list.
type comboEntry struct {
	person int32 // -1 for an id that does not exist
	hit    bool  // the password is the account's current one
}

// stuffingList builds the shuffled credential list: 5-10% of the accounts,
// 1% of them with a working password, plus 30% ids that do not exist.
func (g *generator) stuffingList(r *rand.Rand) []comboEntry {
	nReal := max(1, int(math.Round((0.05+0.05*r.Float64())*float64(g.cfg.Accounts))))
	nFake := int(math.Round(float64(nReal) * 0.3 / 0.7))
	hits := max(1, int(math.Round(0.01*float64(nReal))))
	list := make([]comboEntry, 0, nReal+nFake)
	for k, v := range sampleDistinct(r, g.cfg.Accounts, nReal) {
		list = append(list, comboEntry{person: v, hit: k < hits})
	}
	for range nFake {
		list = append(list, comboEntry{person: -1})
	}
	r.Shuffle(len(list), func(a, b int) { list[a], list[b] = list[b], list[a] })
	return list
}

// burstTimes spreads n attempts over 3 to 8 bursts of 2 to 8 hours inside
// [start, start+dur) and returns them sorted.
func (g *generator) burstTimes(r *rand.Rand, start, dur int64, n int) []int64 {
	type burst struct{ t, len int64 }
	bursts := make([]burst, 3+r.IntN(6))
	for k := range bursts {
		l := min(dur, 2*hourNs+r.Int64N(6*hourNs))
		bursts[k] = burst{t: start + r.Int64N(dur-l+1), len: l}
	}
	times := make([]int64, n)
	for k := range times {
		b := bursts[r.IntN(len(bursts))]
		times[k] = b.t + r.Int64N(b.len)
	}
	slices.Sort(times)
	return times
}
