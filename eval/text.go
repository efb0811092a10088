package eval

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for people: counts, decisions, the challenge
// rate and, when labels are present, the quality figures and cohort tables.
func (r *Report) WriteText(w io.Writer) error {
	s := r.Summary()
	var b strings.Builder
	title := "Evaluation"
	if s.Name != "" {
		title += ": " + s.Name
	}
	b.WriteString(title + "\n")
	writeVolume(&b, s)
	if s.Quality == nil {
		b.WriteString("\nNo labels in the input: quality figures need label.ato and label.attack.\n")
	} else {
		writeQuality(&b, s.Quality)
		writeCohorts(&b, s.Quality)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func writeVolume(b *strings.Builder, s Summary) {
	t := table{indent: "  "}
	t.add("events", group(s.Events))
	t.add("accounts", group(int64(s.Accounts)))
	if s.ElapsedSeconds > 0 {
		t.addNote(fmt.Sprintf("over %.2fs", s.ElapsedSeconds), "events/s", group(int64(s.EventsPerSecond)))
	}
	t.add("successful logins", group(s.Successes))
	t.addNote("failed or unknown outcome", "other events", group(s.Failures))
	if s.AccountChanges > 0 {
		t.addNote("not scored; weighed by detection", "account changes", group(s.AccountChanges))
	}
	t.addNote(evidence(s.ChallengeRate)+" successful logins challenged or denied",
		"challenge rate", pct(s.ChallengeRate))
	t.writeTo(b)
	b.WriteString("\n")
	d := table{indent: "  "}
	d.add("decisions", "allow", "challenge", "deny")
	d.add("successful logins", group(s.Decisions.Allow), group(s.Decisions.Challenge), group(s.Decisions.Deny))
	d.add("all events", group(s.DecisionsAll.Allow), group(s.DecisionsAll.Challenge), group(s.DecisionsAll.Deny))
	d.writeTo(b)
}

func writeQuality(b *strings.Builder, q *Quality) {
	fmt.Fprintf(b, "\nQuality over labelled successful logins: %s ATO, %s legitimate, %s other attack",
		group(q.ATOSuccesses), group(q.LegitSuccesses), group(q.AttackOtherSuccesses))
	if q.UnlabelledSuccesses > 0 {
		fmt.Fprintf(b, " (%s unlabelled left out)", group(q.UnlabelledSuccesses))
	}
	b.WriteString("\n")
	if q.InvalidScores > 0 {
		fmt.Fprintf(b, "  %s scores were NaN or infinite and are left out of AUC and TPR\n", group(q.InvalidScores))
	}
	t := table{indent: "  "}
	t.add("ROC AUC, ATO vs other logins", auc(q.AUC))
	t.addNote(evidence(q.ATOCaught), "ATO logins challenged or denied", pct(q.ATOCaught))
	t.addNote(evidence(q.LegitChallengeRate), "legitimate challenge rate", pct(q.LegitChallengeRate))
	for _, op := range q.TPRAtFPR {
		note := fmt.Sprintf("%s; score > %.6g flags %s legitimate (%s)",
			evidence(op.TPR), op.Threshold, group(op.FPR.N), pct(op.FPR))
		t.addNote(note, "TPR at FPR "+fpr(op.TargetFPR), pct(op.TPR))
	}
	t.writeTo(b)
}

func writeCohorts(b *strings.Builder, q *Quality) {
	if len(q.LegitCohorts) > 0 {
		b.WriteString("\n")
		t := table{indent: "  "}
		t.add("legitimate cohort", "events", "successes", "challenged")
		for _, c := range q.LegitCohorts {
			t.addNote(evidence(c.Challenged), c.Cohort, group(c.Events), group(c.Successes), pct(c.Challenged))
		}
		t.writeTo(b)
	}
	if len(q.AttackCohorts) > 0 {
		b.WriteString("\n")
		t := table{indent: "  "}
		t.add("attack cohort", "events", "successes", "ATO caught")
		for _, c := range q.AttackCohorts {
			ato := Share{}
			if c.ATOCaught != nil {
				ato = *c.ATOCaught
			}
			t.addNote(evidence(ato)+" ATO logins", c.Cohort, group(c.Events), group(c.Successes), pct(ato))
		}
		t.writeTo(b)
	}
}

// evidence formats the counts behind a share: "934 of 1,000".
func evidence(s Share) string {
	return group(s.N) + " of " + group(s.Of)
}

func auc(a *float64) string {
	if a == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", *a)
}
