package detect

import (
	"net/netip"
	"time"
)

// Kind names a detector, and the kind of a campaign it opens.
type Kind uint8

// Kinds of finding. Stuffing, Spraying, BruteForce and Enumeration open or
// feed campaigns; the others describe one account's login.
const (
	KindNone Kind = iota
	// KindStuffing: a cluster of clients sharing a fingerprint fails on many
	// distinct accounts from many sources, each used a few times.
	KindStuffing
	// KindSpraying: a few sources fail on many distinct accounts, one or two
	// attempts each.
	KindSpraying
	// KindBruteForce: many failures on one account.
	KindBruteForce
	// KindEnumeration: a source or cluster names accounts that do not exist
	// far more often than the population does.
	KindEnumeration
	// KindImpossibleTravel: two successes further apart than any flight
	// allows.
	KindImpossibleTravel
	// KindSuccessAfterBurst: a success on an account under brute force.
	KindSuccessAfterBurst
	// KindCampaignSuccess: a success attributed to a campaign's sources or
	// cluster: a likely compromise.
	KindCampaignSuccess
	// KindCompromise: accounts taken over outside any other campaign: a
	// risky password success whose second-factor challenge failed and was
	// never passed (see stepup.go). It opens campaigns of its own.
	KindCompromise
	// KindStepUpFailed: one such account.
	KindStepUpFailed
	// KindAccountChange: an account whose risky session changed its
	// security settings (see change.go); joins or opens a compromise
	// campaign.
	KindAccountChange
)

var kindNames = [...]string{"", "credential_stuffing", "password_spraying", "brute_force", "account_enumeration",
	"impossible_travel", "success_after_burst", "campaign_success", "compromise", "step_up_failed", "account_change"}

// String returns the wire name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return ""
}

// Finding is one detector's conclusion about one key at one moment, with
// the numbers behind it. Counts are decayed tallies over Window (rounded).
type Finding struct {
	Kind     Kind
	Time     time.Time
	Campaign string // the campaign it opened or fed, "" for none

	// The key the finding is about: a source, a cluster or an account.
	IP          netip.Addr // for a source or a login
	Prefix      bool       // the source is IP's /24 (/48), not the address
	ASN         uint32     // the source network, for a network finding
	Fingerprint uint64     // cluster key, 0 for none
	Account     string

	Attempts int     // attempts by the key in the window
	Failures int     // account-failures (distinct accounts, unresolved)
	Unknown  int     // failures naming accounts that do not exist
	Sources  int     // distinct failing IPs (clusters)
	Rate     float64 // the population's rate the key was compared with
	LogBF    float64 // log Bayes factor against "like the population"
	Window   time.Duration

	// Impossible travel: distance and speed.
	Km, Kmh float64

	// Confidence is the probability the finding is right, in [0, 1].
	Confidence float64
}
