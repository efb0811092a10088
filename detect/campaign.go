package detect

import (
	"math"
	"net/netip"
	"slices"
	"time"
	"unicode/utf8"

	"firebreak"
)

// Tier is how sure we are that a campaign affected an account.
type Tier uint8

// Tiers, in increasing certainty.
const (
	TierNone Tier = iota
	// TierTargeted: the campaign tried the account; no success.
	TierTargeted
	// TierAtRisk: targeted, and something suggests the password works (a
	// risky success after the attempts, a success after a brute-force burst).
	TierAtRisk
	// TierCompromised: a success attributed to the campaign.
	TierCompromised
)

var tierNames = [...]string{"", "targeted", "at_risk", "compromised"}

// String returns the wire name of the tier.
func (t Tier) String() string {
	if int(t) < len(tierNames) {
		return tierNames[t]
	}
	return ""
}

// tierRec is one account's place in a campaign.
type tierRec struct {
	tier     Tier
	why      uint8 // for at_risk: whyTargeted or whyCluster; for compromised: whyStepUp, whyChange or not
	change   uint8 // for whyChange: index of the change's type in firebreak.EventTypes
	attempts int32
	first    int32
	last     int32
	conf     float32
	tail     float32 // score tail share of the deciding success
	share    float32 // campaign share of the address's attempts, or -1
	g        float32 // for whyStepUp: the owners' share of unresolved challenges; for whyChange: of sessions with a change
	ip       netip.Addr
}

// Why an account is at risk.
const (
	whyTargeted uint8 = iota // targeted, then a risky success
	whyCluster               // a risky success tied to the campaign by its cluster alone
	whyStepUp                // compromised: the success's challenge failed and was never passed
	whyChange                // compromised: the success's session changed the account's security settings
)

// campaign is the live state behind a Campaign.
type campaign struct {
	id                     int32
	kind                   Kind
	active                 bool
	first, last            int32
	firstT, lastT          time.Time
	attempts, failures     int
	successes, unknown     int
	ips                    int
	enumeration            bool
	logBF                  float64
	rate                   float64
	fps                    map[uint64]string
	asns                   map[uint32]int
	sources                []netip.Addr
	accts                  map[string]*tierRec
	tiers                  [4]int
	dropped                int
	flow                   counts // decayed attempts, for SourceEvidence
	reason                 string
	reasonAttempts, reasIP int
	maxAccts               int
}

// maxSources caps the sample of source addresses a campaign reports.
const maxSources = 64

func (c *campaign) bytes() int {
	return 256 + len(c.accts)*(tierRecSize+48) + len(c.fps)*64 + len(c.asns)*16 + len(c.sources)*24
}

const tierRecSize = 56

// touch marks c active at now.
func (d *Detector) touch(c *campaign, now int32, t time.Time) {
	c.last, c.lastT, c.active = now, t, true
	d.anyActive = true
}

// label describes an event's fingerprint cluster for reports.
// It fits an incident source's value (firebreak.MaxShortField bytes): a
// raw user agent, used when none was parsed, is cut at a character.
func label(e *firebreak.Event) string {
	s := e.UserAgent
	if e.Agent.Browser != "" {
		s = e.Agent.Browser + " on " + e.Agent.OS + " " + e.Agent.DeviceType
	}
	suffix := ", with device id"
	if e.DeviceID == "" {
		suffix = ", no device id"
	}
	if n := firebreak.MaxShortField - len(suffix); len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s + suffix
}

func (c *campaign) addKeys(k *eventKeys, e *firebreak.Event) {
	if _, ok := c.fps[k.fpKey]; !ok && len(c.fps) < 256 {
		c.fps[k.fpKey] = label(e)
	}
	if e.ASN != 0 && (len(c.asns) < 1024 || c.asns[e.ASN] > 0) {
		c.asns[e.ASN]++
	}
}

// addSource counts a new address of the campaign and keeps a sample.
func (c *campaign) addSource(ip netip.Addr) {
	c.ips++
	if len(c.sources) < maxSources {
		c.sources = append(c.sources, ip)
	}
}

// tier raises an account to tier t (never lowers it).
func (c *campaign) tier(acct string, t Tier, now int32, conf float64) *tierRec {
	r := c.accts[acct]
	if r == nil {
		if len(c.accts) >= c.maxAccts {
			c.dropped++
			return nil
		}
		r = &tierRec{first: now, share: -1}
		c.accts[acct] = r
	}
	r.attempts++
	r.last = now
	if t > r.tier {
		c.tiers[r.tier]--
		c.tiers[t]++
		r.tier, r.conf = t, float32(conf)
	}
	return r
}

// campaignByID finds a campaign by id (the slice is sorted by id).
func (d *Detector) campaignByID(id int32) *campaign {
	if id == 0 {
		return nil
	}
	i, ok := slices.BinarySearchFunc(d.camps, id, func(c *campaign, id int32) int { return int(c.id - id) })
	if !ok {
		return nil
	}
	return d.camps[i]
}

// live returns the campaign with the id if it is active.
func (d *Detector) live(id int32) *campaign {
	if c := d.campaignByID(id); c != nil && c.active {
		return c
	}
	return nil
}

// sourceCampaign returns the active campaign that one of the event's
// sources (address, prefix, network) belongs to by its own test.
func (d *Detector) sourceCampaign(k *eventKeys) *campaign {
	for _, x := range [...]*entry{k.ip, k.prefix, k.asn} {
		if x != nil && x.own {
			if c := d.live(x.camp); c != nil {
				return c
			}
		}
	}
	return nil
}

// attribute returns the active campaign the event's keys belong to.
func (d *Detector) attribute(k *eventKeys) *campaign {
	if c := d.sourceCampaign(k); c != nil {
		return c
	}
	for _, id := range [...]int32{k.ip.camp, k.prefix.camp, k.a.camp, k.fp.camp} {
		if c := d.live(id); c != nil {
			return c
		}
	}
	return nil
}

// open returns the campaign a new finding of this kind joins, opening one
// when none fits: an active or recent (MergeGap) campaign of the same kind
// that shares a fingerprint or network (any stuffing or enumeration
// campaign: spread over everyone's browsers and networks, two at once
// cannot be told apart), or an enumeration campaign, which the finding
// upgrades.
func (d *Detector) open(kind Kind, k *eventKeys, e *firebreak.Event, now int32, lbf float64) *campaign {
	for i := len(d.camps) - 1; i >= 0; i-- {
		c := d.camps[i]
		if now-c.last > d.mergeMin || kind == KindBruteForce {
			continue
		}
		_, sameFP := c.fps[k.fpKey]
		sameNet := e.ASN != 0 && c.asns[e.ASN] > 0
		spread := kind == KindStuffing || kind == KindEnumeration
		switch {
		case c.kind == kind && (spread || sameFP || sameNet),
			c.kind == KindEnumeration && kind != KindEnumeration && (spread || sameFP || sameNet):
			c.kind = kind
			c.logBF = math.Max(c.logBF, lbf)
			d.touch(c, now, e.Time)
			return c
		}
	}
	return d.newCampaign(kind, now, e.Time, lbf)
}

// newCampaign opens a campaign of the kind at now.
func (d *Detector) newCampaign(kind Kind, now int32, t time.Time, lbf float64) *campaign {
	d.nextID++
	c := &campaign{id: int32(d.nextID), kind: kind, first: now, firstT: t, logBF: lbf,
		rate: d.pop.failRate(), fps: map[uint64]string{}, asns: map[uint32]int{}, accts: map[string]*tierRec{},
		maxAccts: d.cfg.MaxCampaignAccounts}
	c.flow.t = now
	d.touch(c, now, t)
	d.camps = append(d.camps, c)
	d.prune()
	return c
}

// prune drops the oldest resolved campaigns beyond MaxCampaigns.
func (d *Detector) prune() {
	for len(d.camps) > d.cfg.MaxCampaigns {
		i := slices.IndexFunc(d.camps, func(c *campaign) bool { return !c.active })
		if i < 0 {
			return
		}
		d.camps = slices.Delete(d.camps, i, i+1)
	}
}

// expire resolves campaigns quiet for QuietPeriod.
func (d *Detector) expire(now int32) {
	d.anyActive = false
	for _, c := range d.camps {
		if c.active && now-c.last > d.quietMin {
			c.active = false
		}
		d.anyActive = d.anyActive || c.active
	}
}

// campaignFailure books a failure attributed to c.
func (d *Detector) campaignFailure(c *campaign, k *eventKeys, e *firebreak.Event, unknown bool, now int32) {
	c.attempts++
	c.failures++
	d.touch(c, now, e.Time)
	c.flow.decay(now, d.ip.halfMin)
	c.flow.n++
	if unknown {
		c.unknown++
	} else {
		c.tier(e.Account, TierTargeted, now, 1)
	}
	if k.ip.camp != c.id && !(k.ip.own && d.live(k.ip.camp) != nil) {
		k.ip.camp, k.ip.own = c.id, false
		c.addSource(e.IP)
	}
	c.addKeys(k, e)
	// The address's last success, if on another account, may have been
	// the campaign's before the address showed its hand.
	if k.ip.ring > 0 {
		if s := &d.ring[k.ip.ring-1]; s.ipKey == k.ipKey && s.account != e.Account {
			d.judge(s, c)
		}
	}
}
