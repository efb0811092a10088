package eval

import "slices"

// Summary is the evaluation of a run, ready for JSON or text output.
type Summary struct {
	Name            string  `json:"name,omitempty"`
	Events          int64   `json:"events"`
	Accounts        int     `json:"accounts"`
	Successes       int64   `json:"successes"`
	Failures        int64   `json:"failures"` // login events that were not successful logins
	AccountChanges  int64   `json:"account_changes"`
	ElapsedSeconds  float64 `json:"elapsed_seconds"`
	EventsPerSecond float64 `json:"events_per_second"` // 0 when Elapsed is unset
	// Decisions counts decisions over successful logins, DecisionsAll over
	// every event.
	Decisions    Decisions `json:"decisions"`
	DecisionsAll Decisions `json:"decisions_all"`
	// ChallengeRate: successful logins challenged or denied.
	ChallengeRate Share `json:"challenge_rate"`
	// Quality is nil when no event carried a label.
	Quality *Quality `json:"quality,omitempty"`
}

// Quality holds the figures that need labels. Only successful logins with a
// label enter them; see docs/evaluation.md for the exact definitions.
type Quality struct {
	ATOSuccesses         int64 `json:"ato_successes"`
	LegitSuccesses       int64 `json:"legit_successes"`
	AttackOtherSuccesses int64 `json:"attack_other_successes"` // attack, not ATO
	UnlabelledSuccesses  int64 `json:"unlabelled_successes"`
	InvalidScores        int64 `json:"invalid_scores"` // NaN or ±Inf, left out of AUC and TPR
	// AUC is the ROC AUC of the score for ATO against every other labelled
	// successful login; nil when either side is empty.
	AUC *float64 `json:"roc_auc"`
	// ATOCaught: ATO logins challenged or denied.
	ATOCaught Share `json:"ato_caught"`
	// LegitChallengeRate: legitimate logins challenged or denied.
	LegitChallengeRate Share `json:"legit_challenge_rate"`
	// TPRAtFPR: ATO against legitimate logins, one point per target FPR;
	// empty when either side is empty.
	TPRAtFPR      []OperatingPoint `json:"tpr_at_fpr"`
	LegitCohorts  []CohortStats    `json:"legit_cohorts"`
	AttackCohorts []CohortStats    `json:"attack_cohorts"`
}

// Summary computes the report's figures. It sorts the stored scores the
// first time after new events, O(n log n); later calls are linear.
func (r *Report) Summary() Summary {
	s := Summary{
		Name:           r.Name,
		Events:         r.events,
		Accounts:       len(r.accounts),
		Successes:      r.success.Total(),
		Failures:       r.events - r.changes - r.success.Total(),
		AccountChanges: r.changes,
		ElapsedSeconds: r.Elapsed.Seconds(),
		Decisions:      r.success,
		DecisionsAll:   r.all,
		ChallengeRate:  r.ChallengeRate(),
	}
	if r.Elapsed > 0 {
		s.EventsPerSecond = float64(r.events) / r.Elapsed.Seconds()
	}
	if r.labelled {
		q := r.quality()
		s.Quality = &q
	}
	return s
}

func (r *Report) quality() Quality {
	r.sortScores()
	q := Quality{
		ATOSuccesses:         r.ato.flagged.Of,
		LegitSuccesses:       r.legit.flagged.Of,
		AttackOtherSuccesses: r.other.flagged.Of,
		UnlabelledSuccesses:  r.unlabelled,
		InvalidScores:        r.invalidScores,
		ATOCaught:            r.ato.flagged,
		LegitChallengeRate:   r.legit.flagged,
		TPRAtFPR:             []OperatingPoint{},
	}
	pos, negs := len(r.ato.scores), len(r.legit.scores)+len(r.other.scores)
	if pos > 0 && negs > 0 {
		u := twiceU(r.ato.scores, r.legit.scores) + twiceU(r.ato.scores, r.other.scores)
		auc := float64(u) / (2 * float64(pos) * float64(negs))
		q.AUC = &auc
	}
	targets := r.FPRTargets
	if len(targets) == 0 {
		targets = DefaultFPRTargets()
	}
	for _, t := range targets {
		if op, ok := TPRAtFPR(r.ato.scores, r.legit.scores, t); ok {
			q.TPRAtFPR = append(q.TPRAtFPR, op)
		}
	}
	q.LegitCohorts, q.AttackCohorts = r.cohorts.stats()
	return q
}

func (r *Report) sortScores() {
	if r.sorted {
		return
	}
	slices.Sort(r.ato.scores)
	slices.Sort(r.legit.scores)
	slices.Sort(r.other.scores)
	r.sorted = true
}
