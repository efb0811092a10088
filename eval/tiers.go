package eval

import "firebreak"

// Truth records, from labelled events, which accounts were attacked and
// which were taken over (an attacker's successful login). It is the ground
// truth against which incident tiers are measured.
type Truth struct {
	attacked    map[string]struct{}
	compromised map[string]struct{}
	labelled    bool
}

// Add records one event. Only labelled attack events are kept.
func (t *Truth) Add(e *firebreak.Event) {
	if e.Label == nil {
		return
	}
	t.labelled = true
	if !e.Label.Attack && !e.Label.ATO {
		return
	}
	if t.attacked == nil {
		t.attacked = map[string]struct{}{}
		t.compromised = map[string]struct{}{}
	}
	t.attacked[e.Account] = struct{}{}
	if e.Label.ATO && e.Outcome == firebreak.OutcomeSuccess && e.IsLogin() {
		t.compromised[e.Account] = struct{}{}
	}
}

// Labelled reports whether any event carried a label.
func (t *Truth) Labelled() bool { return t.labelled }

// TierQuality measures one tier against the truth: precision over the
// accounts placed in it, recall over the truth it is meant to find.
type TierQuality struct {
	Tier      string `json:"tier"`
	Accounts  int    `json:"accounts"`
	Precision Share  `json:"precision"`
	Recall    Share  `json:"recall"`
}

// TiersQuality is the evaluation of every tier of every incident together.
type TiersQuality struct {
	Tiers []TierQuality `json:"tiers"`
	// NeverAttacked counts accounts placed in any tier that no labelled
	// attack event ever touched: the clean accounts an incident would act on.
	NeverAttacked int `json:"never_attacked"`
	// Compromised and Attacked are the sizes of the truth sets.
	Compromised int `json:"truth_compromised"`
	Attacked    int `json:"truth_attacked"`
}

// MeasureTiers scores accounts placed in tiers (account → tier name, the
// most certain tier when an account is in several incidents). The
// compromised tier is measured against accounts with an attacker's success;
// at_risk and targeted against accounts any attack touched.
func (t *Truth) MeasureTiers(tiers map[string]string, names []string) TiersQuality {
	q := TiersQuality{Compromised: len(t.compromised), Attacked: len(t.attacked)}
	for _, name := range names {
		truth := t.attacked
		if name == "compromised" {
			truth = t.compromised
		}
		tq := TierQuality{Tier: name}
		var hit int
		for acct, tier := range tiers {
			if tier != name {
				continue
			}
			tq.Accounts++
			if _, ok := truth[acct]; ok {
				hit++
			}
		}
		tq.Precision = Share{N: int64(hit), Of: int64(tq.Accounts)}
		tq.Recall = Share{N: int64(hit), Of: int64(len(truth))}
		q.Tiers = append(q.Tiers, tq)
	}
	for acct := range tiers {
		if _, ok := t.attacked[acct]; !ok {
			q.NeverAttacked++
		}
	}
	return q
}
