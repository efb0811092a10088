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
	// own is the tail share of the score without the campaign reputation
	// the risk model got from SourceEvidence: the score's evidence that is
	// not already the address's campaign share, which judge counts itself.
	own  float32
	camp int32 // campaign that claimed it; 0 none; −id: at risk in campaign id, still open to a claim
	when time.Time
}

const successSize = 104

// remember puts the success in the ring and returns its slot.
func (d *Detector) remember(e *firebreak.Event, k *eventKeys, tail, own float64, now int32) *success {
	i := d.ringNext
	d.ringNext = (i + 1) % len(d.ring)
	s := &d.ring[i]
	*s = success{account: e.Account, ip: e.IP, ipKey: k.ipKey, fpKey: k.fpKey, ipSlot: k.ipSlot,
		fpSlot: k.fpSlot, t: now, tail: float32(tail), own: float32(own), when: e.Time}
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
// scored in its top riskyTail, i.e. would challenge at the default budget,
// once the campaign reputation it got for the address is taken out (judge
// weighs the address itself):
//
//	odds = prior odds from the address or the cluster × scoreLR(score tail)
//
// From an address the campaign already used, the prior odds are its
// failed attempts there, a HitRate of which would succeed, against
// everyone else's successes there. Otherwise they come from the success's
// cluster: the cluster's failures beyond the population's rate are the
// attacker's, a HitRate of which would succeed, against the cluster's
// successes; times the Bayes factor of the address's own failures. A
// cluster is shared with everyone using the same browser, so a success
// whose only tie to the campaign is its cluster (the address has no
// failures of its own) goes to the at-risk tier, not the compromised one;
// it is claimed later if its address fails on another account.
func (d *Detector) judge(s *success, c *campaign) bool { return d.judgeWith(s, c, nil) }

// judgeWith is judge with more evidence about the success, ev, when not
// nil: what its session did next (a failed second-factor challenge,
// stepup.go; an account change, change.go). Evidence beyond the cluster
// lifts the cluster-only rule.
func (d *Detector) judgeWith(s *success, c *campaign, ev *sessionEvidence) bool {
	lr := 1.0
	if ev != nil {
		lr = ev.lr
	}
	if s.camp > 0 || (s.own > riskyTail && lr <= 1) || d.now-s.t > int32(2*d.fp.halfMin) {
		return false
	}
	ip := d.ip.at(s.ipSlot, s.ipKey)
	if ip == nil {
		return false
	}
	var j judgement
	if ip.camp == c.id {
		j = d.addressOdds(ip, s)
	} else if fp := d.fp.at(s.fpSlot, s.fpKey); fp != nil && c.kind == KindStuffing {
		j = d.clusterOdds(ip, fp)
	}
	odds := j.odds * scoreLR(float64(s.own)) * lr
	switch {
	case odds < 1:
		return false
	case j.clusterOnly && lr <= 1:
		if s.camp != -c.id {
			s.camp = -c.id
			d.suspect(c, s, odds/(1+odds))
		}
		return false
	}
	d.claim(c, s, odds/(1+odds), j.share)
	if lr > 1 {
		d.recordEvidence(c, s.account, ev)
	}
	return true
}

// judgement is the prior odds that a success is a campaign's, before its
// score, and what they rest on.
type judgement struct {
	odds        float64
	share       float64 // the campaign's share of the address's attempts, -1 for none
	clusterOnly bool    // nothing but the cluster ties the success to the campaign
}

// addressOdds: the campaign's failed attempts at the address on other
// accounts (a typo its owner's success resolved is not the campaign's, and
// neither is the account's own failure there: a stuffing tool tries an
// account once, an owner fails and then gets in), a HitRate of which would
// succeed, against everyone else's successes there (the one judged left
// out). An address with no other success is the campaign's alone: the odds
// are its attempts there.
func (d *Detector) addressOdds(ip *entry, s *success) judgement {
	k := float64(ip.c.k)
	key := accountKey(s.account)
	if a := &d.acct.slots[key&d.acct.mask]; a.tag == key && a.failT != 0 && a.failIP == s.ipKey {
		k -= math.Exp2(-float64(d.now-a.failT) / d.ip.halfMin)
	}
	a := math.Max(0, math.Min(float64(ip.c.ca), k))
	others := math.Max(float64(ip.c.s)-1, 0)
	return judgement{odds: a * d.cfg.HitRate / (others + d.cfg.HitRate), share: a / float64(ip.c.n)}
}

// clusterOdds: the cluster's failures beyond the population's rate, a
// HitRate of which would succeed, against its successes; times the Bayes
// factor of the address's own failures against the population's rate.
func (d *Detector) clusterOdds(ip, fp *entry) judgement {
	rate := d.pop.failRate()
	excess := float64(fp.c.k) - rate*float64(fp.c.n)
	if excess <= 0 {
		return judgement{share: -1}
	}
	lbf := logBF(float64(ip.c.k), float64(ip.c.n), rate, kappaSource)
	return judgement{odds: excess * d.cfg.HitRate / math.Max(float64(fp.c.s), 1) * math.Exp(lbf), share: -1, clusterOnly: lbf <= 0}
}

// suspect puts a success tied to c by its cluster alone in the at-risk
// tier: the campaign may have it, nothing beyond the shared cluster says so.
func (d *Detector) suspect(c *campaign, s *success, conf float64) {
	if r := c.tier(s.account, TierAtRisk, s.t, conf); r != nil && r.tier == TierAtRisk {
		r.ip, r.tail, r.why = s.ip, s.own, whyCluster
	}
	d.out = append(d.out, Finding{Kind: KindCampaignSuccess, Time: s.when, Campaign: c.name(),
		Account: s.account, IP: s.ip, Confidence: conf})
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
		r.ip, r.tail, r.share = s.ip, s.own, float32(share)
	}
	d.out = append(d.out, Finding{Kind: KindCampaignSuccess, Time: s.when, Campaign: c.name(),
		Account: s.account, IP: s.ip, Confidence: conf})
}

// rejudge offers the recent successes to c when it gains a cluster: hits
// made before the campaign showed itself.
func (d *Detector) rejudge(c *campaign) {
	for i := range d.ring {
		if s := &d.ring[i]; s.camp <= 0 && s.account != "" {
			d.judge(s, c)
		}
	}
}

func (c *campaign) name() string { return "C" + strconv.Itoa(int(c.id)) }
