package detect

import (
	"math"
	"time"

	"firebreak"
)

// threshold is the log Bayes factor a key must reach for posterior odds of
// posteriorOdds when about one key in `tested` is an attack.
func threshold(tested float64) float64 {
	return math.Log(posteriorOdds) + math.Log(math.Max(tested, 1))
}

// testFailure runs the detectors that a failure can trigger, each on the
// key it concerns, and opens or feeds campaigns.
func (d *Detector) testFailure(e *firebreak.Event, k *eventKeys, now int32) {
	if d.pop.n < warmUpAttempts {
		return
	}
	d.bruteForce(e, k, now)
	d.sourceTest(e, k, k.ip, now, 0)
	d.sourceTest(e, k, k.prefix, now, 1)
	if k.asn != nil {
		d.sourceTest(e, k, k.asn, now, 2)
	}
	d.clusterTest(e, k, now)
	d.enumeration(e, k, now)
}

// bruteForce compares the account's password failures in its window with
// the population's per-attempt failure rate.
func (d *Detector) bruteForce(e *firebreak.Event, k *eventKeys, now int32) {
	a := k.a
	if d.live(a.camp) != nil || a.bk < 2 {
		return
	}
	rate := d.pop.passwordRate()
	lbf := logBF(float64(a.bk), float64(a.bn), rate, kappaSource)
	thr := threshold(d.acct.active(now))
	if lbf < thr {
		return
	}
	c := d.open(KindBruteForce, k, e, now, lbf)
	a.camp = c.id
	if k.ip.camp != c.id {
		k.ip.camp = c.id
		c.addSource(e.IP)
	}
	c.addKeys(k, e)
	d.emit(KindBruteForce, c, e, lbf, thr, rate, float64(a.bn), float64(a.bk), 0, 0, d.acct.halfMin)
	d.out[len(d.out)-1].Account = e.Account
}

// sourceTest compares an address's (level 0), prefix's (1) or network's
// (2) account-failures with the population's: a source failing on many
// distinct accounts, one or two attempts each, is spraying.
func (d *Detector) sourceTest(e *firebreak.Event, k *eventKeys, x *entry, now int32, level int) {
	if (x.own && d.live(x.camp) != nil) || x.c.k < 2 {
		return
	}
	rate := d.pop.failRate()
	lbf := logBF(float64(x.c.k), float64(x.c.n), rate, kappaSource)
	t := [...]*table{&d.ip, &d.prefix, &d.asn}[level]
	thr := threshold(t.active(now))
	if lbf < thr {
		return
	}
	c := d.open(KindSpraying, k, e, now, lbf)
	x.camp, x.own = c.id, true
	c.addKeys(k, e)
	if level == 0 {
		c.addSource(e.IP)
	}
	d.emit(KindSpraying, c, e, lbf, thr, rate, float64(x.c.n), float64(x.c.k), float64(x.c.u), 1, t.halfMin)
	d.out[len(d.out)-1].Prefix = level == 1
	d.out[len(d.out)-1].ASN = e.ASN
}

// clusterTest compares a fingerprint cluster's account-failures with the
// population's. A significant cluster whose failures come from many
// addresses and networks is credential stuffing; one whose failures come
// from a few sources is left to the source tests (spraying). While a
// stuffing campaign is active, a cluster joins it at even prior odds
// (threshold ln posteriorOdds) instead of one in the number of clusters.
func (d *Detector) clusterTest(e *firebreak.Event, k *eventKeys, now int32) {
	fp := k.fp
	if d.live(fp.camp) != nil || fp.c.k < 2 {
		return
	}
	rate := d.pop.failRate()
	lbf := logBF(float64(fp.c.k), float64(fp.c.n), rate, kappaCluster)
	// Whether failures are spread over many sources can only be told once
	// there are as many as would make one address significant alone.
	if fp.c.k < d.minEvidenceIP(now) || d.concentrated(&fp.c, now) {
		return // a few sources: the source tests will name them
	}
	kind := KindStuffing
	thr := threshold(d.fp.active(now))
	if d.activeKind(KindStuffing) {
		thr = threshold(1)
	}
	if lbf < thr {
		return
	}
	c := d.open(kind, k, e, now, lbf)
	fp.camp, fp.own = c.id, true
	c.addKeys(k, e)
	d.emit(kind, c, e, lbf, thr, rate, float64(fp.c.n), float64(fp.c.k), float64(fp.c.u), float64(fp.c.fi), d.fp.halfMin)
	d.out[len(d.out)-1].Fingerprint = k.fpKey
	d.rejudge(c)
}

// concentrated says whether a cluster's failures come from a few sources:
// its failing addresses fail on as many accounts each as would make one
// address significant alone, or more than a quarter of its new failing
// addresses share one of the previous two failing networks. From spread
// networks that share is about twice the sum of squared network shares, a
// few percent; from one or two networks it approaches one, less the
// legitimate failures in between. From spread networks that share is about
// twice the sum of squared network shares, a few percent; from one or two
// networks it approaches one, less the legitimate failures in between.
func (d *Detector) concentrated(c *counts, now int32) bool {
	return c.k >= c.fi*d.minEvidenceIP(now) || c.am > c.fi/4
}

// minEvidenceIP is the number of distinct failing accounts, all failures,
// that makes one address significant; recomputed hourly.
func (d *Detector) minEvidenceIP(now int32) float32 {
	if now-d.minIPAt >= 60 || d.minIP == 0 {
		d.minIP = float32(minEvidence(threshold(d.ip.active(now)), d.pop.failRate(), kappaSource))
		d.minIPAt = now
	}
	return d.minIP
}

// enumeration compares unknown-account failures from the address and the
// cluster with the population's unknown-account rate. It opens a campaign
// only for keys not already in one; otherwise it marks the campaign. A
// cluster is judged only once its failures are spread (as in clusterTest),
// after the failure tests, which take precedence.
func (d *Detector) enumeration(e *firebreak.Event, k *eventKeys, now int32) {
	if e.FailureReason != "unknown_account" {
		return
	}
	rate := d.pop.unknownRate()
	for i, x := range [...]*entry{k.ip, k.fp} {
		if x.c.u < 2 || (i == 1 && (x.c.k < d.minEvidenceIP(now) || d.concentrated(&x.c, now))) {
			continue
		}
		kappa, t := kappaSource, &d.ip
		if i == 1 {
			kappa, t = kappaCluster, &d.fp
		}
		lbf := logBF(float64(x.c.u), float64(x.c.n), rate, kappa)
		thr := threshold(t.active(now))
		if lbf < thr {
			continue
		}
		if c := d.live(x.camp); c != nil {
			c.enumeration = true
			continue
		}
		c := d.open(KindEnumeration, k, e, now, lbf)
		c.enumeration = true
		x.camp, x.own = c.id, true
		c.addKeys(k, e)
		d.emit(KindEnumeration, c, e, lbf, thr, rate, float64(x.c.n), float64(x.c.k), float64(x.c.u), float64(x.c.fi), t.halfMin)
	}
}

func (d *Detector) activeKind(kind Kind) bool {
	for _, c := range d.camps {
		if c.active && c.kind == kind {
			return true
		}
	}
	return false
}

// emit appends a detector's finding. Its confidence is the posterior
// probability of an attack: log odds = lbf − (thr − ln posteriorOdds), the
// prior odds being one in the number of keys tested.
func (d *Detector) emit(kind Kind, c *campaign, e *firebreak.Event, lbf, thr, rate, n, k, u, fi, halfMin float64) {
	d.out = append(d.out, Finding{
		Kind: kind, Time: e.Time, Campaign: c.name(), IP: e.IP,
		Attempts: int(math.Round(n)), Failures: int(math.Round(k)), Unknown: int(math.Round(u)),
		Sources: int(math.Round(fi)), Rate: rate, LogBF: lbf,
		Window:     time.Duration(halfMin / math.Ln2 * float64(time.Minute)),
		Confidence: 1 / (1 + math.Exp(-(lbf - thr + math.Log(posteriorOdds)))),
	})
}
