package detect

import (
	"math"
	"time"

	"firebreak"
)

// Detector holds the windowed aggregates, the campaigns and the ring of
// recent successes. Feed it every scored login in time order with Observe.
type Detector struct {
	cfg                 Config
	ip, prefix, asn, fp table
	acct                accounts
	pop                 population
	scores              scoreHist
	ring                []success
	ringNext            int
	camps               []*campaign
	nextID              int
	now                 int32
	sink                uint64 // see Observe
	anyActive           bool   // some campaign is active: source reputation is worth looking up
	accounts            int    // accounts the platform has (SetAccounts); 0 unknown
	steps               stepUps
	chg                 changeStats
	stepQueue           []pendingStepUp
	out                 []Finding
	flow                counts  // every attempt, at the source half-life
	minIP               float32 // distinct failing accounts that make one address significant
	minIPAt             int32
	// half-lives and windows in minutes
	resolveMin, quietMin, mergeMin, sessionMin int32
}

// Statistical constants; docs/detection.md explains each.
const (
	// posteriorOdds is the odds a finding must reach: 100:1 that the key is
	// an attack. The test's threshold adds the log of the number of keys
	// tested in the window (the prior odds of any one being an attack are
	// about one in that many): a Bonferroni-style correction.
	posteriorOdds = 100.0
	// kappaSource is how closely legitimate sources (IPs, prefixes) and
	// accounts follow the population's failure rate: weakly, because shared
	// egress and forgetful people vary a lot (the risk model uses 4 too).
	kappaSource = 4.0
	// kappaCluster is the same for fingerprint clusters: they pool hundreds
	// of people, so their rates stay near the population's.
	kappaCluster = 50.0
	// warmUpAttempts: no campaign opens before the population's rates rest
	// on this many attempts.
	warmUpAttempts = 2000
	// impossibleKmh and minTravelKm match the risk model's impossible travel.
	impossibleKmh = 1000.0
	minTravelKm   = 500.0
	// riskyTail: a success whose score is in the top 1% of successes (the
	// default challenge budget) is "risky" for the at-risk tier.
	riskyTail = 0.01
)

// maxReputationLogLR is the risk model's bound on one feature's log
// likelihood ratio (ln 10³), which caps the reputation SourceEvidence adds.
const maxReputationLogLR = 6.91

// withoutLogLR takes a log likelihood ratio out of a score in [0, 1] (a
// logistic of the log odds, whatever the prior).
func withoutLogLR(score, logLR float64) float64 {
	s := math.Min(math.Max(score, 1e-15), 1-1e-15)
	return 1 / (1 + math.Exp(-(math.Log(s/(1-s)) - logLR)))
}

// New returns an empty detector; zero Config fields take their defaults.
func New(cfg Config) *Detector {
	cfg = cfg.normalise()
	mins := func(d time.Duration) float64 { return d.Minutes() }
	d := &Detector{
		cfg:        cfg,
		ip:         newTable(cfg.SourceBits, mins(cfg.SourceHalfLife)),
		prefix:     newTable(cfg.SourceBits, mins(cfg.SourceHalfLife)),
		asn:        newTable(cfg.ClusterBits, mins(cfg.SourceHalfLife)),
		fp:         newTable(cfg.ClusterBits, mins(cfg.ClusterHalfLife)),
		acct:       newAccounts(cfg.AccountBits, mins(cfg.AccountHalfLife)),
		pop:        newPopulation(mins(cfg.PopulationHalfLife)),
		ring:       make([]success, cfg.RecentSuccesses),
		out:        make([]Finding, 0, 16),
		resolveMin: int32(mins(cfg.ResolveWithin)),
		quietMin:   int32(mins(cfg.QuietPeriod)),
		mergeMin:   int32(mins(cfg.MergeGap)),
		sessionMin: int32(mins(cfg.SessionWindow)),
	}
	return d
}

// BytesUsed returns the bytes held by the fixed tables plus an estimate for
// the campaigns' account tiers.
func (d *Detector) BytesUsed() int {
	n := d.ip.bytes() + d.prefix.bytes() + d.asn.bytes() + d.fp.bytes()
	n += len(d.acct.slots)*acctSize + len(d.ring)*successSize + len(d.scores.bins)*8
	n += cap(d.stepQueue) * pendingSize
	for _, c := range d.camps {
		n += c.bytes()
	}
	return n
}

// SetAccounts tells the detector how many accounts the platform has (the
// risk model's profiles), for the prior odds of a single-account takeover.
// Call it now and then; until it is called, that prior is one takeover in
// the window.
func (d *Detector) SetAccounts(n int) { d.accounts = n }

// priorOdds returns the prior odds that a given one of n events, counted
// over the population's window, is a takeover outside any campaign. Those
// takeovers come at TakeoverRate per account a day; the events at n·ln2/H
// a minute (a decayed count with half-life H holds H/ln2 minutes of them).
// Without an account count it is one takeover in the window, 1/n.
func (d *Detector) priorOdds(n float64) float64 {
	n = math.Max(1, n)
	if d.accounts == 0 {
		return 1 / n
	}
	perDay := n * math.Ln2 / d.pop.halfMin * 24 * 60
	p := math.Min(0.5, d.cfg.TakeoverRate*float64(d.accounts)/perDay)
	return p / (1 - p)
}

func minute(t time.Time) int32 { return int32(t.Unix() / 60) }

// keys of one event, with their entries.
type eventKeys struct {
	ipKey, prefixKey, asnKey, fpKey uint64
	ip, prefix, asn, fp             *entry
	ipSlot, prefixSlot, fpSlot      uint32
	asnSlot                         uint32
	a                               *acctEntry
}

// Observe feeds one event (a login or an account change), in time order, with the risk model's score in
// [0, 1] (0 when there is none), and returns the findings it produced. The
// returned slice is reused by the next call. It allocates nothing while no
// campaign is active.
func (d *Detector) Observe(e *firebreak.Event, score float64) []Finding {
	d.out = d.out[:0]
	now := minute(e.Time)
	if now > d.now {
		d.now = now
		d.expire(now)
		if len(d.stepQueue) > 0 {
			d.judgeStepUps(now)
		}
	}
	if !e.IsLogin() {
		// An account change is no attempt: it counts nowhere, and is
		// weighed against the session it came from.
		if e.Outcome == firebreak.OutcomeSuccess {
			d.accountChange(e, now)
		}
		return d.out
	}
	var k eventKeys
	k.ipKey, k.prefixKey = ipKeys(e.IP)
	k.fpKey = fingerprintKey(e)
	ak := accountKey(e.Account)
	// One load from each large table before any of them is used: the loads
	// are independent, so the processor overlaps their cache misses.
	d.sink += d.ip.slots[k.ipKey&d.ip.mask].tag ^ d.prefix.slots[k.prefixKey&d.prefix.mask].tag ^ d.acct.slots[ak&d.acct.mask].tag
	k.ip, k.ipSlot = d.ip.get(k.ipKey, now)
	k.prefix, k.prefixSlot = d.prefix.get(k.prefixKey, now)
	k.fp, k.fpSlot = d.fp.get(k.fpKey, now)
	if e.ASN != 0 {
		k.asnKey = asnKey(e.ASN)
		k.asn, k.asnSlot = d.asn.get(k.asnKey, now)
	}
	k.a = d.acct.get(ak, now)
	d.pop.decay(now)
	d.flow.decay(now, d.ip.halfMin)
	d.flow.n++
	switch e.Outcome {
	case firebreak.OutcomeFailure:
		d.failure(e, &k, now)
	case firebreak.OutcomeSuccess:
		d.success(e, &k, score, now)
	}
	return d.out
}

func (d *Detector) failure(e *firebreak.Event, k *eventKeys, now int32) {
	reason := e.FailureReason
	if reason == "mfa_failed" {
		d.stepUpFailed(k, e, now)
	}
	if reason == "locked" || reason == "mfa_failed" {
		// No password was tried (locked), or it was right (mfa_failed):
		// neither is a guess. They count as attempts only.
		k.ip.c.n++
		k.prefix.c.n++
		k.fp.c.n++
		d.pop.add(1, 0, 0, 0)
		return
	}
	unknown := reason == "unknown_account"
	a := k.a
	a.burst(now, true, d.acct.halfMin)
	counted := a.failT == 0 || now-a.failT >= int32(d.acct.halfMin)
	for _, x := range [...]*entry{k.ip, k.prefix, k.fp, k.asn} {
		if x != nil {
			x.c.n++
		}
	}
	if counted {
		// A failure from a source already named by its own test is that
		// campaign's; it must not make its cluster look like another.
		d.countFailure(k, e, unknown, now, d.sourceCampaign(k) == nil)
	}
	if unknown {
		k.ip.pendU = now
	}
	d.testFailure(e, k, now)
	c := d.attribute(k)
	if c == nil {
		d.pop.add(1, b2f(counted), b2f(counted && unknown), 1)
		return
	}
	for _, x := range [...]*entry{k.ip, k.prefix, k.fp, k.asn} {
		if x != nil {
			x.c.ca++
		}
	}
	d.campaignFailure(c, k, e, unknown, now)
}

// countFailure adds an account-failure to every key, remembering where it
// went so that a success from the same address can take it back (a typo).
func (d *Detector) countFailure(k *eventKeys, e *firebreak.Event, unknown bool, now int32, cluster bool) {
	newIP := k.ip.c.k < 0.5
	for _, x := range [...]*entry{k.ip, k.prefix, k.fp, k.asn} {
		if x == nil || (x == k.fp && !cluster) {
			continue
		}
		x.c.k++
		if unknown {
			x.c.u++
		}
		if newIP {
			x.c.fi++
		}
	}
	if e.ASN != 0 && newIP && cluster {
		// Only a new failing address says something about the spread of
		// networks; a proxy reused for its handful of attempts does not.
		fp := k.fp
		if e.ASN == fp.a1 || e.ASN == fp.a2 {
			fp.c.am++
		}
		if e.ASN != fp.a1 {
			fp.a1, fp.a2 = e.ASN, fp.a1
		}
	}
	a := k.a
	a.failT, a.failIP, a.failU = now, k.ipKey, unknown
	a.slots = [4]uint32{k.ipSlot, k.prefixSlot, k.fpSlot, k.asnSlot}
	a.hasASN = k.asn != nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (d *Detector) success(e *firebreak.Event, k *eventKeys, score float64, now int32) {
	d.resolve(k, now)
	for _, x := range [...]*entry{k.ip, k.prefix, k.fp, k.asn} {
		if x != nil {
			x.c.n++
			x.c.s++
		}
	}
	d.pop.add(1, 0, 0, 0)
	a := k.a
	a.burst(now, false, d.acct.halfMin)
	d.travel(e, a, score, now)
	tail := d.scores.tail(score)
	own := tail
	if rep, _ := d.sourceLR(e.IP, now); rep > 0 {
		own = d.scores.tail(withoutLogLR(score, math.Min(rep, maxReputationLogLR)))
	}
	d.scores.add(score)
	if e.Method == "mfa" {
		d.stepUpPassed(a, now)
	} else {
		d.chg.decay(now, d.pop.halfMin)
		d.chg.session(own <= riskyTail)
	}
	s := d.remember(e, k, tail, own, now)
	a.lastRing = k.ip.ring
	d.judgeSuccess(e, k, s, now)
}

// resolve takes back failures that a success from the same address shows
// were typos: the account's own pending failure, and an unknown-account
// failure from this address (a mistyped account name).
func (d *Detector) resolve(k *eventKeys, now int32) {
	a := k.a
	if a.failT != 0 && a.failIP == k.ipKey && now-a.failT <= d.resolveMin {
		d.uncount(a, now)
		a.failT = 0
	}
	if k.ip.pendU != 0 && now-k.ip.pendU <= d.resolveMin {
		k.ip.pendU = 0
		for _, x := range [...]*entry{k.ip, k.prefix, k.fp, k.asn} {
			if x != nil {
				x.c.k = max(0, x.c.k-1)
				x.c.u = max(0, x.c.u-1)
			}
		}
		d.pop.k = math.Max(0, d.pop.k-1)
		d.pop.u = math.Max(0, d.pop.u-1)
	}
}

// uncount removes the account's pending failure from the slots it went to.
// A slot taken over by another key since loses a count it never had: rare
// within ResolveWithin, and counts never go below zero.
func (d *Detector) uncount(a *acctEntry, now int32) {
	tabs := [...]*table{&d.ip, &d.prefix, &d.fp, &d.asn}
	for i, t := range tabs {
		if i == 3 && !a.hasASN {
			continue
		}
		x := &t.slots[a.slots[i]&uint32(t.mask)]
		x.c.decay(now, t.halfMin)
		w := float32(math.Exp2(-float64(now-a.failT) / t.halfMin))
		x.c.k = max(0, x.c.k-w)
		if a.failU {
			x.c.u = max(0, x.c.u-w)
		}
	}
	d.pop.k = math.Max(0, d.pop.k-1)
	if a.failU {
		d.pop.u = math.Max(0, d.pop.u-1)
	}
}

// travel reports two successes further apart than any flight allows.
func (d *Detector) travel(e *firebreak.Event, a *acctEntry, score float64, now int32) {
	if !e.HasGeo {
		return
	}
	lat, lon, t, had := float64(a.lat), float64(a.lon), a.succT, a.hasGeo
	a.lat, a.lon, a.succT, a.hasGeo = float32(e.Lat), float32(e.Lon), now, true
	if t == 0 || !had {
		return
	}
	// The great-circle distance is at most the path along the meridian and
	// then the parallel, R·(|Δφ| + |Δλ|): most successes come from where the
	// last one did, and need no trigonometry.
	if math.Abs(lat-e.Lat)+math.Abs(lon-e.Lon) < minTravelKm/(earthRadiusKm*math.Pi/180) {
		return
	}
	km := haversine(lat, lon, e.Lat, e.Lon)
	hours := math.Max(float64(now-t), 1) / 60
	if km < minTravelKm || km/hours < impossibleKmh {
		return
	}
	d.out = append(d.out, Finding{
		Kind: KindImpossibleTravel, Time: e.Time, Account: e.Account, IP: e.IP,
		Km: km, Kmh: km / hours, Window: time.Duration(now-t) * time.Minute,
		Confidence: 1 - d.scores.tail(score),
	})
}
