package detect

import "math"

// acctEntry is one account's recent state: its failure burst, the
// account-failure awaiting resolution, its last successful place and the
// brute-force campaign it is under.
type acctEntry struct {
	tag    uint64
	failIP uint64    // key of the address of the pending failure
	slots  [4]uint32 // the pending failure's slots: ip, prefix, fingerprint, asn
	bt     int32     // minute of the burst counts' last decay
	bn, bk float32   // attempts and password failures (burst window)
	failT  int32     // minute of the pending account-failure, 0 none
	succT  int32     // minute of the last success with coordinates, 0 none
	lat    float32
	lon    float32
	camp   int32 // brute-force campaign index + 1
	// lastRing is the ring slot + 1 of the account's last success; stepT
	// the minute of a failed challenge not yet resolved, 0 none.
	lastRing, stepT int32
	failU           bool // the pending failure named an unknown account
	hasASN          bool
	hasGeo          bool
}

const acctSize = 80

// accounts is a direct-mapped table of accounts.
type accounts struct {
	slots   []acctEntry
	mask    uint64
	halfMin float64
	keys    counts // keys.n: decayed number of distinct accounts
}

func newAccounts(bits int, halfMin float64) accounts {
	return accounts{slots: make([]acctEntry, 1<<bits), mask: 1<<bits - 1, halfMin: halfMin}
}

func (t *accounts) get(key uint64, now int32) *acctEntry {
	a := &t.slots[key&t.mask]
	if a.tag != key {
		*a = acctEntry{tag: key, bt: now}
		t.keys.decay(now, t.halfMin)
		t.keys.n++
	}
	return a
}

func (t *accounts) active(now int32) float64 {
	t.keys.decay(now, t.halfMin)
	return math.Max(1, float64(t.keys.n))
}

// burst decays the account's burst counts and adds an attempt.
func (a *acctEntry) burst(now int32, failed bool, halfMin float64) {
	if now > a.bt {
		f := float32(math.Exp2(-float64(now-a.bt) / halfMin))
		a.bn *= f
		a.bk *= f
		a.bt = now
	}
	a.bn++
	if failed {
		a.bk++
	}
}

// population holds the rates every key is compared with, decayed slowly.
// Attempts attributed to a campaign are left out, so an attack does not
// raise the bar it is measured against.
type population struct {
	t          int32
	halfMin    float64
	n, k, u, r float64 // attempts, account-failures, unknown-account failures, password failures
}

// popPrior is a prior worth 100 attempts at a 1% account-failure rate, 0.1%
// unknown-account rate and 5% password-failure rate (typical of consumer
// logins), so the rates are defined from the first event.
func newPopulation(halfMin float64) population {
	return population{halfMin: halfMin, n: 100, k: 1, u: 0.1, r: 5}
}

// fade moves a decayed tally's clock *t to now and returns the factor its
// counts shrink by, with half-life halfMin: 1 when no time passed or the
// clock was unset (nothing counted yet).
func fade(t *int32, now int32, halfMin float64) float64 {
	if now <= *t {
		return 1
	}
	f := 1.0
	if *t != 0 {
		f = math.Exp2(-float64(now-*t) / halfMin)
	}
	*t = now
	return f
}

func (p *population) decay(now int32) {
	if f := fade(&p.t, now, p.halfMin); f < 1 {
		p.n, p.k, p.u, p.r = p.n*f, p.k*f, p.u*f, p.r*f
	}
}

func (p *population) add(n, k, u, r float64) {
	p.n += n
	p.k += k
	p.u += u
	p.r += r
}

func (p *population) failRate() float64     { return p.k / p.n }
func (p *population) unknownRate() float64  { return p.u / p.n }
func (p *population) passwordRate() float64 { return p.r / p.n }

// scoreHist is a decayed histogram of the scores of successful logins, in
// half-nat bins of the log odds, so that a score can be placed in the
// population's tail: LR = 1 / tail share.
type scoreHist struct {
	bins  [80]float64
	total float64
}

// scoreHistWindow: the histogram halves after this many successes.
const scoreHistWindow = 200_000

func scoreBin(s float64) int {
	if !(s > 0) {
		return 0
	}
	if s >= 1 {
		return 79
	}
	lo := math.Log(s / (1 - s))
	return min(79, max(0, int((lo+20)*2)))
}

func (h *scoreHist) add(s float64) {
	h.bins[scoreBin(s)]++
	h.total++
	if h.total >= scoreHistWindow {
		for i := range h.bins {
			h.bins[i] /= 2
		}
		h.total /= 2
	}
}

// tail returns the share of successes scored at least as high as s, with
// one pseudo-observation above, so that it is never 0.
func (h *scoreHist) tail(s float64) float64 {
	b := scoreBin(s)
	sum := 0.0
	if b < len(h.bins)/2 {
		// Most scores are low: sum the short side below and subtract.
		for i := range b {
			sum += h.bins[i]
		}
		sum = h.total - sum
	} else {
		for i := b; i < len(h.bins); i++ {
			sum += h.bins[i]
		}
	}
	return math.Min(1, (math.Max(sum, 0)+1)/(h.total+1))
}
