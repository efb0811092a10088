package detect

import "time"

// Config sizes a Detector's tables and sets its windows. DefaultConfig gives
// the documented values; docs/detection.md explains each.
type Config struct {
	// SourceBits sizes the IP and prefix tables (2^SourceBits entries each).
	SourceBits int
	// AccountBits sizes the account table.
	AccountBits int
	// ClusterBits sizes the ASN and fingerprint tables.
	ClusterBits int
	// SourceHalfLife is how fast IP, prefix and ASN counts fade.
	SourceHalfLife time.Duration
	// ClusterHalfLife is how fast fingerprint-cluster counts fade.
	ClusterHalfLife time.Duration
	// AccountHalfLife is how fast an account's failure burst fades.
	AccountHalfLife time.Duration
	// PopulationHalfLife is how fast the population's rates follow traffic.
	PopulationHalfLife time.Duration
	// ResolveWithin is how soon a success from the same source turns an
	// earlier failure into a typo.
	ResolveWithin time.Duration
	// SessionWindow is how long after a success an account change from the
	// same address counts as made in that success's session.
	SessionWindow time.Duration
	// QuietPeriod resolves a campaign with no activity for that long.
	QuietPeriod time.Duration
	// MergeGap lets a resolved campaign reopen when the same kind of
	// activity from its fingerprints or networks returns within it.
	MergeGap time.Duration
	// RecentSuccesses is the size of the ring of recent successful logins
	// kept for attribution after the fact.
	RecentSuccesses int
	// MaxCampaignAccounts caps the accounts a campaign keeps in its tiers.
	MaxCampaignAccounts int
	// MaxCampaigns caps the campaigns kept (resolved ones are dropped first).
	MaxCampaigns int
	// HitRate is the prior share of a stuffing campaign's attempts that
	// succeed; published figures for credential stuffing are 0.1–2%.
	HitRate float64
	// TakeoverRate is the prior probability that a given account is taken
	// over by hand on a given day, outside any campaign: Google measured 9
	// manual hijackings per million users a day (Bursztein et al., IMC
	// 2014). It sets the prior odds of a single-account takeover once the
	// detector knows the number of accounts (SetAccounts).
	TakeoverRate float64
}

// DefaultConfig returns the documented defaults: about 40 MiB of tables.
func DefaultConfig() Config {
	return Config{
		SourceBits:          17,
		AccountBits:         18,
		ClusterBits:         12,
		SourceHalfLife:      3 * time.Hour,
		ClusterHalfLife:     time.Hour,
		AccountHalfLife:     time.Hour,
		PopulationHalfLife:  24 * time.Hour,
		ResolveWithin:       15 * time.Minute,
		SessionWindow:       time.Hour,
		QuietPeriod:         6 * time.Hour,
		MergeGap:            72 * time.Hour,
		RecentSuccesses:     1 << 14,
		MaxCampaignAccounts: 1 << 20,
		MaxCampaigns:        256,
		HitRate:             0.01,
		TakeoverRate:        9e-6,
	}
}

// normalise fills zero fields from the defaults and clamps table sizes.
func (c Config) normalise() Config {
	d := DefaultConfig()
	fix := func(v *int, def, lo, hi int) {
		if *v == 0 {
			*v = def
		}
		*v = min(max(*v, lo), hi)
	}
	fix(&c.SourceBits, d.SourceBits, 8, 26)
	fix(&c.AccountBits, d.AccountBits, 8, 26)
	fix(&c.ClusterBits, d.ClusterBits, 6, 20)
	fix(&c.RecentSuccesses, d.RecentSuccesses, 16, 1<<22)
	fix(&c.MaxCampaignAccounts, d.MaxCampaignAccounts, 1, 1<<26)
	fix(&c.MaxCampaigns, d.MaxCampaigns, 1, 1<<16)
	dur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	dur(&c.SourceHalfLife, d.SourceHalfLife)
	dur(&c.ClusterHalfLife, d.ClusterHalfLife)
	dur(&c.AccountHalfLife, d.AccountHalfLife)
	dur(&c.PopulationHalfLife, d.PopulationHalfLife)
	dur(&c.ResolveWithin, d.ResolveWithin)
	dur(&c.SessionWindow, d.SessionWindow)
	dur(&c.QuietPeriod, d.QuietPeriod)
	dur(&c.MergeGap, d.MergeGap)
	if !(c.HitRate > 0 && c.HitRate < 1) {
		c.HitRate = d.HitRate
	}
	if !(c.TakeoverRate > 0 && c.TakeoverRate < 1) {
		c.TakeoverRate = d.TakeoverRate
	}
	return c
}
