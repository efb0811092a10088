package eval

import (
	"fmt"
	"io"
	"strings"
)

// WriteComparison writes the reports side by side, one column each (for the
// model and the naive rule measured in the same run): challenge rate, AUC,
// ATO caught, legitimate challenge rate, TPR at each FPR target, and the
// per-cohort shares. Cohorts missing from a report show "-".
func WriteComparison(w io.Writer, reports ...*Report) error {
	sums := make([]Summary, len(reports))
	head := []string{"measure"}
	for i, r := range reports {
		sums[i] = r.Summary()
		head = append(head, cmpName(r.Name, i))
	}
	t := table{}
	t.add(head...)
	row := func(label string, cell func(Summary) string) {
		cells := []string{label}
		for _, s := range sums {
			cells = append(cells, cell(s))
		}
		t.add(cells...)
	}
	row("challenge rate", func(s Summary) string { return pct(s.ChallengeRate) })
	compareQuality(sums, row)
	var b strings.Builder
	t.writeTo(&b)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	return nil
}

func cmpName(name string, i int) string {
	if name == "" {
		return fmt.Sprintf("report %d", i+1)
	}
	return name
}

// compareQuality adds the labelled rows, reading each figure from the
// summaries that have labels.
func compareQuality(sums []Summary, row func(string, func(Summary) string)) {
	q := func(f func(*Quality) string) func(Summary) string {
		return func(s Summary) string {
			if s.Quality == nil {
				return "-"
			}
			return f(s.Quality)
		}
	}
	row("ROC AUC", q(func(q *Quality) string { return auc(q.AUC) }))
	row("ATO caught", q(func(q *Quality) string { return pct(q.ATOCaught) }))
	row("legitimate challenge rate", q(func(q *Quality) string { return pct(q.LegitChallengeRate) }))
	for _, target := range fprTargets(sums) {
		row("TPR at FPR "+fpr(target), q(func(q *Quality) string {
			for _, op := range q.TPRAtFPR {
				if op.TargetFPR == target {
					return pct(op.TPR)
				}
			}
			return "-"
		}))
	}
	for _, name := range cohortNames(sums, false) {
		row("legitimate "+name+" challenged", q(func(q *Quality) string {
			return cohortCell(q.LegitCohorts, name, func(c CohortStats) Share { return c.Challenged })
		}))
	}
	for _, name := range cohortNames(sums, true) {
		row("attack "+name+" ATO caught", q(func(q *Quality) string {
			return cohortCell(q.AttackCohorts, name, func(c CohortStats) Share {
				if c.ATOCaught == nil {
					return Share{}
				}
				return *c.ATOCaught
			})
		}))
	}
}

// fprTargets lists the FPR targets found in any summary, in first-seen order.
func fprTargets(sums []Summary) []float64 {
	var out []float64
	seen := map[float64]bool{}
	for _, s := range sums {
		if s.Quality == nil {
			continue
		}
		for _, op := range s.Quality.TPRAtFPR {
			if !seen[op.TargetFPR] {
				seen[op.TargetFPR] = true
				out = append(out, op.TargetFPR)
			}
		}
	}
	return out
}

// cohortNames lists the cohort names of every summary, in first-seen order.
func cohortNames(sums []Summary, attack bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range sums {
		if s.Quality == nil {
			continue
		}
		rows := s.Quality.LegitCohorts
		if attack {
			rows = s.Quality.AttackCohorts
		}
		for _, c := range rows {
			if !seen[c.Cohort] {
				seen[c.Cohort] = true
				out = append(out, c.Cohort)
			}
		}
	}
	return out
}

func cohortCell(rows []CohortStats, name string, share func(CohortStats) Share) string {
	for _, c := range rows {
		if c.Cohort == name {
			return pct(share(c))
		}
	}
	return "-"
}
