package eval

import (
	"cmp"
	"slices"
	"strings"

	"firebreak"
)

// Cohort names used in reports.
const (
	// OrdinaryCohort names events whose label has an empty cohort.
	OrdinaryCohort = "ordinary"
	// OverflowCohort collects cohorts past MaxCohorts, so that a file with
	// millions of distinct cohort names cannot exhaust memory.
	OverflowCohort = "(other cohorts)"
	// MaxCohorts is how many distinct cohorts a report tracks by name.
	MaxCohorts = 1000
)

// CohortStats is the accounting of one cohort's legitimate or attack events.
type CohortStats struct {
	Cohort    string `json:"cohort"`
	Events    int64  `json:"events"`    // all events, failures included
	Successes int64  `json:"successes"` // successful logins
	// Challenged: successful logins challenged or denied, over Successes.
	Challenged Share `json:"challenged"`
	// ATOCaught (attack cohorts only): successful logins labelled ATO that
	// were challenged or denied, over all successful ATO logins.
	ATOCaught *Share `json:"ato_caught,omitempty"`
}

// tally counts one class (legitimate or attack) of one cohort.
type tally struct {
	events, successes, flagged int64
	ato                        Share
}

type cohort struct{ legit, attack tally }

// cohorts accumulates per-cohort tallies, caching the last cohort because
// consecutive events usually share one.
type cohorts struct {
	byName   map[string]*cohort
	lastName string
	last     *cohort
}

func (cs *cohorts) add(l *firebreak.Label, success, flagged bool) {
	c := cs.lookup(l.Cohort)
	t := &c.legit
	if l.Attack || l.ATO {
		t = &c.attack
	}
	t.events++
	if !success {
		return
	}
	t.successes++
	if flagged {
		t.flagged++
	}
	if l.ATO {
		t.ato.Of++
		if flagged {
			t.ato.N++
		}
	}
}

func (cs *cohorts) lookup(name string) *cohort {
	if cs.last != nil && name == cs.lastName {
		return cs.last
	}
	if cs.byName == nil {
		cs.byName = make(map[string]*cohort)
	}
	key := name
	if key == "" {
		key = OrdinaryCohort
	}
	c, ok := cs.byName[key]
	if !ok {
		key = strings.Clone(key) // do not pin the caller's buffer
		if len(cs.byName) >= MaxCohorts {
			key = OverflowCohort
		}
		if c, ok = cs.byName[key]; !ok {
			c = new(cohort)
			cs.byName[key] = c
		}
	}
	cs.lastName, cs.last = name, c
	return c
}

// stats returns the legitimate and attack rows: ordinary first, then by
// name, the overflow last.
func (cs *cohorts) stats() (legit, attack []CohortStats) {
	legit, attack = []CohortStats{}, []CohortStats{}
	names := make([]string, 0, len(cs.byName))
	for name := range cs.byName {
		names = append(names, name)
	}
	rank := func(name string) int {
		switch name {
		case OrdinaryCohort:
			return 0
		case OverflowCohort:
			return 2
		}
		return 1
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		c := cs.byName[name]
		if c.legit.events > 0 {
			legit = append(legit, c.legit.row(name, false))
		}
		if c.attack.events > 0 {
			attack = append(attack, c.attack.row(name, true))
		}
	}
	return legit, attack
}

func (t tally) row(name string, attack bool) CohortStats {
	s := CohortStats{
		Cohort:     name,
		Events:     t.events,
		Successes:  t.successes,
		Challenged: Share{N: t.flagged, Of: t.successes},
	}
	if attack {
		ato := t.ato
		s.ATOCaught = &ato
	}
	return s
}
