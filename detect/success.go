package detect

import (
	"math"
	"net/netip"
	"strconv"
	"time"

	"firebreak"
)

// success is a recent successful login, kept so that a campaign detected
// (or an address exposed) after it can still claim it.
type success struct {
	account string
	ip      netip.Addr
	ipKey   uint64
	fpKey   uint64
	ipSlot  uint32
	fpSlot  uint32
	t       int32
	tail    float32 // share of successes scored at least as high
	camp    int32   // campaign it was attributed to, 0 none
	when    time.Time
}

const successSize = 104

// remember puts the success in the ring and returns its slot.
func (d *Detector) remember(e *firebreak.Event, k *eventKeys, tail float64, now int32) *success {
	i := d.ringNext
	d.ringNext = (i + 1) % len(d.ring)
	s := &d.ring[i]
	*s = success{account: e.Account, ip: e.IP, ipKey: k.ipKey, fpKey: k.fpKey, ipSlot: k.ipSlot,
		fpSlot: k.fpSlot, t: now, tail: float32(tail), when: e.Time}
	k.ip.ring = int32(i + 1)
	return s
}

// judgeSuccess decides what a success means for the campaigns: a
// compromise when a campaign's sources or cluster explain it, the at-risk
// tier when a targeted account succeeds riskily.
func (d *Detector) judgeSuccess(e *firebreak.Event, k *eventKeys, s *success, now int32) {
	if c := d.live(k.a.camp); c != nil && c.kind == KindBruteForce {
		d.afterBurst(c, e, k, s, now)
		return
	}
	for _, id := range [...]int32{k.ip.camp, k.prefix.camp, k.fp.camp} {
		if c := d.live(id); c != nil && d.judge(s, c) {
			return
		}
	}
	for _, c := range d.camps {
		if !c.active {
			continue
		}
		if c.kind == KindStuffing && d.judge(s, c) {
			return
		}
		if r := c.accts[e.Account]; r != nil && r.tier == TierTargeted && s.tail <= riskyTail {
			d.atRisk(c, e, s, now)
		}
	}
}

// afterBurst handles a success on an account under brute force: from the
// attack's address or cluster it is the attacker's; otherwise it is at risk
// when the login looks risky.
func (d *Detector) afterBurst(c *campaign, e *firebreak.Event, k *eventKeys, s *success, now int32) {
	from := k.ip.camp == c.id || k.prefix.camp == c.id
	if _, ok := c.fps[k.fpKey]; ok && k.fp.c.s < 1.5 {
		from = true
	}
	c.successes++
	f := Finding{Kind: KindSuccessAfterBurst, Time: e.Time, Campaign: c.name(), Account: e.Account, IP: e.IP,
		Confidence: 1 - float64(s.tail)}
	switch {
	case from:
		f.Kind, f.Confidence = KindCampaignSuccess, 1
		d.claim(c, s, 1, -1)
	case s.tail <= riskyTail:
		d.atRisk(c, e, s, now)
	}
	d.out = append(d.out, f)
}

func (d *Detector) atRisk(c *campaign, e *firebreak.Event, s *success, now int32) {
	if r := c.tier(e.Account, TierAtRisk, now, 1-float64(s.tail)); r != nil {
		r.ip, r.tail = e.IP, s.tail
	}
	d.out = append(d.out, Finding{Kind: KindSuccessAfterBurst, Time: e.Time, Campaign: c.name(),
		Account: e.Account, IP: e.IP, Confidence: 1 - float64(s.tail)})
}

// judge estimates the odds that success s is campaign c's and claims it
// when they reach even. Only a risky success qualifies — one the risk model
// scored in its top riskyTail, i.e. would challenge at the default budget:
//
//	odds = prior odds from the address or the cluster × scoreLR(score tail)
//
// From an address the campaign already used, the prior odds are its
// attempts there against everyone else's. Otherwise they come from the
// success's cluster: the cluster's failures beyond the population's rate
// are the attacker's, a HitRate of which would succeed, against the
// cluster's successes; times the Bayes factor of the address's own
// failures. scoreLR turns the risk model's verdict into a likelihood ratio.
func (d *Detector) judge(s *success, c *campaign) bool {
	if s.camp != 0 || s.tail > riskyTail || d.now-s.t > int32(2*d.fp.halfMin) {
		return false
	}
	ip := d.ip.at(s.ipSlot, s.ipKey)
	if ip == nil {
		return false
	}
	share := float64(-1)
	var odds float64
	if ip.camp == c.id {
		// The campaign's attempts here that stayed failures (a typo that
		// its owner's success resolved is not the campaign's).
		a := math.Min(float64(ip.c.ca), float64(ip.c.k))
		share = a / float64(ip.c.n)
		odds = a / math.Max(float64(ip.c.n)-a, 1)
	} else if fp := d.fp.at(s.fpSlot, s.fpKey); fp != nil && c.kind == KindStuffing {
		excess := float64(fp.c.k) - d.pop.failRate()*float64(fp.c.n)
		if excess <= 0 {
			return false
		}
		odds = excess * d.cfg.HitRate / math.Max(float64(fp.c.s), 1)
		odds *= math.Exp(logBF(float64(ip.c.k), float64(ip.c.n), d.pop.failRate(), kappaSource))
	}
	odds *= scoreLR(float64(s.tail))
	if odds < 1 {
		return false
	}
	d.claim(c, s, odds/(1+odds), share)
	return true
}

// scoreLR is the likelihood ratio of a success's score: legitimate
// successes land in the top share t with probability t; an attacker's score
// is assumed log-uniform over [minTail, 1] — no assumption that it is high —
// so its density at t is 1/(t·ln(1/minTail)). LR = 1/(t·ln(1/minTail)).
func scoreLR(t float64) float64 {
	t = math.Max(t, minTail)
	return 1 / (t * -math.Log(minTail))
}

// minTail is the smallest tail share the score histogram resolves.
const minTail = 1e-5

// claim puts the success's account in c's compromised tier.
func (d *Detector) claim(c *campaign, s *success, conf, share float64) {
	s.camp = c.id
	c.successes++
	c.attempts++
	if r := c.tier(s.account, TierCompromised, s.t, conf); r != nil {
		r.ip, r.tail, r.share = s.ip, s.tail, float32(share)
	}
	d.out = append(d.out, Finding{Kind: KindCampaignSuccess, Time: s.when, Campaign: c.name(),
		Account: s.account, IP: s.ip, Confidence: conf})
}

// rejudge offers the recent successes to c when it gains a cluster: hits
// made before the campaign showed itself.
func (d *Detector) rejudge(c *campaign) {
	for i := range d.ring {
		if s := &d.ring[i]; s.camp == 0 && s.account != "" {
			d.judge(s, c)
		}
	}
}

func (c *campaign) name() string { return "C" + strconv.Itoa(int(c.id)) }
