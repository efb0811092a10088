package detect

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"firebreak"
)

// Campaign is a snapshot of one campaign: what it is, where it comes from,
// and the accounts it touched in tiers.
type Campaign struct {
	ID        string
	Kind      Kind
	Active    bool // false once quiet for QuietPeriod (resolved)
	FirstSeen time.Time
	LastSeen  time.Time

	Attempts        int // attempts attributed, failures and successes
	Failures        int
	Successes       int
	UnknownAccounts int // failures naming accounts that do not exist
	SourceIPs       int // distinct addresses attributed
	Enumeration     bool
	Sources         []netip.Addr // a sample of the addresses (at most 64)
	Networks        []uint32     // ASNs, most attempts first
	Fingerprints    []string     // client clusters
	LogBF           float64      // strongest detector evidence
	Rate            float64      // population failure rate when opened
	Confidence      float64

	Compromised, AtRisk, Targeted int
	Dropped                       int // accounts beyond MaxCampaignAccounts
	Accounts                      []AccountTier
}

// AccountTier is one account's place in a campaign, with its evidence.
type AccountTier struct {
	Account    string
	Tier       Tier
	Confidence float64
	Attempts   int
	FirstSeen  time.Time
	LastSeen   time.Time
	IP         netip.Addr // the deciding login's address, for at_risk and compromised
	Evidence   string
}

// Campaigns returns a snapshot of every campaign kept, oldest first, each
// with its accounts ordered by tier (compromised first) then id.
func (d *Detector) Campaigns() []Campaign {
	out := make([]Campaign, 0, len(d.camps))
	for _, c := range d.camps {
		out = append(out, c.snapshot())
	}
	return out
}

func minuteTime(m int32) time.Time { return time.Unix(int64(m)*60, 0).UTC() }

func (c *campaign) snapshot() Campaign {
	s := Campaign{
		ID: c.name(), Kind: c.kind, Active: c.active, FirstSeen: c.firstT, LastSeen: c.lastT,
		Attempts: c.attempts, Failures: c.failures, Successes: c.successes, UnknownAccounts: c.unknown,
		SourceIPs: c.ips, Enumeration: c.enumeration, Sources: slices.Clone(c.sources),
		LogBF: c.logBF, Rate: c.rate, Confidence: 1 - math.Exp(-c.logBF),
		Compromised: c.tiers[TierCompromised], AtRisk: c.tiers[TierAtRisk], Targeted: c.tiers[TierTargeted],
		Dropped: c.dropped,
	}
	for asn := range c.asns {
		s.Networks = append(s.Networks, asn)
	}
	slices.SortFunc(s.Networks, func(a, b uint32) int {
		return cmp.Or(cmp.Compare(c.asns[b], c.asns[a]), cmp.Compare(a, b))
	})
	for _, l := range c.fps {
		s.Fingerprints = append(s.Fingerprints, l)
	}
	slices.Sort(s.Fingerprints)
	s.Fingerprints = slices.Compact(s.Fingerprints)
	s.Accounts = make([]AccountTier, 0, len(c.accts))
	for acct, r := range c.accts {
		s.Accounts = append(s.Accounts, AccountTier{
			Account: acct, Tier: r.tier, Confidence: float64(r.conf), Attempts: int(r.attempts),
			FirstSeen: minuteTime(r.first), LastSeen: minuteTime(r.last), IP: r.ip, Evidence: r.evidence(c),
		})
	}
	slices.SortFunc(s.Accounts, func(a, b AccountTier) int {
		return cmp.Or(cmp.Compare(b.Tier, a.Tier), cmp.Compare(a.Account, b.Account))
	})
	return s
}

// evidence says in words why the account is in its tier.
func (r *tierRec) evidence(c *campaign) string {
	switch r.tier {
	case TierCompromised:
		if r.why == whyStepUp || r.why == whyChange {
			s := fmt.Sprintf("success from %s scored in the top %.2g%% of successes", r.ip, 100*r.tail)
			if c.kind != KindCompromise {
				s += ", in a client cluster this campaign is using"
			}
			if r.why == whyChange {
				return s + fmt.Sprintf("; the same session then made an account change (%s), as owners do in %.2g%% of sessions", firebreak.EventTypes[r.change], 100*r.g)
			}
			return s + fmt.Sprintf("; its second-factor challenge failed and was never passed (owners leave %.1f%% of challenges unresolved)", 100*r.g)
		}
		s := fmt.Sprintf("success from %s", r.ip)
		if r.share >= 0 {
			s += fmt.Sprintf(", an address where %.0f%% of recent attempts were this campaign's", 100*r.share)
		} else {
			s += " in a client cluster this campaign is using, an address failing more than the population's rate"
		}
		return s + fmt.Sprintf("; the login scored in the top %.2g%% of successes", 100*r.tail)
	case TierAtRisk:
		if r.why == whyCluster {
			return fmt.Sprintf("success from %s in a client cluster %s is using, scored in the top %.2g%% of successes; nothing beyond the shared cluster ties it to the campaign", r.ip, c.name(), 100*r.tail)
		}
		return fmt.Sprintf("targeted by %s, then a success from %s scored in the top %.2g%% of successes", c.name(), r.ip, 100*r.tail)
	}
	return fmt.Sprintf("%d failed attempt(s) attributed to %s", r.attempts, c.name())
}

// SourceEvidence implements the risk model's Reputation hook: a login from
// an address (or /24, /48) that an active campaign uses gets the likelihood
// ratio of that address under "the campaign" against "everyone else":
//
//	LR = (campaign's attempts here / campaign's attempts)
//	   / (others' attempts here + 1 / everyone's attempts + 1)
//
// over the source window. Only evidence for an attack counts.
func (d *Detector) SourceEvidence(ip netip.Addr, t time.Time) (logLR float64, reason string) {
	lr, c := d.sourceLR(ip, minute(t))
	if c == nil {
		return 0, ""
	}
	return lr, d.reason(c)
}

// sourceLR is SourceEvidence without the sentence: the log likelihood ratio
// and the campaign behind it, or nil. It allocates nothing.
func (d *Detector) sourceLR(ip netip.Addr, now int32) (logLR float64, best *campaign) {
	if !ip.IsValid() || !d.anyActive {
		return 0, nil
	}
	full, pfx := ipKeys(ip)
	for _, x := range [...]struct {
		t   *table
		key uint64
	}{{&d.ip, full}, {&d.prefix, pfx}} {
		e := x.t.at(uint32(x.key&x.t.mask), x.key)
		if e == nil {
			continue
		}
		c := d.live(e.camp)
		if c == nil {
			continue
		}
		cc, flow := e.c, c.flow
		cc.decay(now, x.t.halfMin)
		flow.decay(now, x.t.halfMin)
		everyone := d.flow
		everyone.decay(now, d.ip.halfMin)
		lr := math.Log(float64(cc.ca)/math.Max(float64(flow.n), 1)) -
			math.Log((math.Max(float64(cc.n-cc.ca), 0)+1)/(float64(everyone.n)+1))
		if lr > logLR {
			logLR, best = lr, c
		}
	}
	return logLR, best
}

// reason returns the campaign's sentence, rebuilt when its figures have
// moved by a tenth.
func (d *Detector) reason(c *campaign) string {
	if c.reason != "" && c.attempts < c.reasonAttempts*11/10 && c.ips < c.reasIP*11/10+1 {
		return c.reason
	}
	rate := 0.0
	if c.attempts > 0 {
		rate = 100 * float64(c.successes) / float64(c.attempts)
	}
	c.reason = "source is part of " + kindPhrase(c.kind) + " campaign " + c.name() + " (" +
		group(c.ips) + " IPs, " + group(c.attempts) + " attempts, " + strconv.FormatFloat(rate, 'f', 1, 64) + "% success)"
	c.reasonAttempts, c.reasIP = c.attempts, c.ips
	return c.reason
}

func kindPhrase(k Kind) string {
	switch k {
	case KindStuffing:
		return "credential-stuffing"
	case KindSpraying:
		return "password-spraying"
	case KindBruteForce:
		return "brute-force"
	case KindEnumeration:
		return "account-enumeration"
	}
	return k.String()
}

// group writes n with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
