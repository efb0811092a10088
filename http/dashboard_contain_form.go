package http

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

// planForm is the form on the incident page that writes a plan: what the
// operator ticked and typed, and the errors to show next to it.
type planForm struct {
	IncidentID   int64
	CSRF         string // the session's token, for posting without script
	Rows         []actionRow
	Stages       string // "canary", "all" or "custom"
	CustomStages string // percentages, "5, 25, 100"
	Manual       bool   // pause after each stage until resumed
	RateLimit    string // calls per second; empty: no cap
	Note         string
	Errors       []string // that concern the whole form
}

// actionRow is one row of checkboxes: the accounts of a tier, or the
// incident's sources.
type actionRow struct {
	Key      string // the tier, or "sources"; the checkboxes' name
	Label    string
	Count    int64 // accounts in the tier, or addresses and prefixes
	Noun     string
	Actions  []actionBox
	Duration string // of timed actions
	Errors   []string
}

// actionBox is one checkbox.
type actionBox struct {
	Kind    firebreak.ActionKind
	Help    string
	Checked bool
}

// Timed reports whether the row offers a timed action, and so a duration.
func (r *actionRow) Timed() bool {
	return slices.ContainsFunc(r.Actions, func(b actionBox) bool { info, _ := b.Kind.Info(); return info.Timed })
}

// HasErrors reports whether anything in the form was refused.
func (f *planForm) HasErrors() bool {
	return len(f.Errors) > 0 || slices.ContainsFunc(f.Rows, func(r actionRow) bool { return len(r.Errors) > 0 })
}

// actionHelp says in a few words what each action does.
var actionHelp = map[firebreak.ActionKind]string{
	firebreak.ActionStepUp:         "require MFA at next login",
	firebreak.ActionRevokeSessions: "sign out everywhere; cannot be undone",
	firebreak.ActionForceReset:     "require a new password at next login",
	firebreak.ActionLock:           "refuse logins for a while",
	firebreak.ActionThrottleSource: "slow logins from the source down",
	firebreak.ActionBlockSource:    "refuse logins from the source",
	firebreak.ActionNotifyInApp:    "tell them in the app, with a link to their self-service page",
	firebreak.ActionNotifyEmail:    "tell them by e-mail",
	firebreak.ActionNotifySMS:      "tell them by text message",
	firebreak.ActionNotifyChat:     "tell them by chat message",
}

// defaultActions are ticked on a fresh form for a tier that holds accounts:
// reset and sign out the compromised, step up the at-risk, and leave the
// targeted (whose password did not work) alone.
var defaultActions = map[string][]firebreak.ActionKind{
	string(firebreak.TierCompromised): {firebreak.ActionForceReset, firebreak.ActionRevokeSessions},
	string(firebreak.TierAtRisk):      {firebreak.ActionStepUp},
}

// defaultDuration is what a fresh form offers for timed actions.
const defaultDuration = "24h"

// sourcesKey names the sources row of the form.
const sourcesKey = "sources"

// newPlanForm returns the form for an incident with the defaults ticked.
func newPlanForm(inc *firebreak.Incident) *planForm {
	f := &planForm{IncidentID: inc.ID, Stages: "canary"}
	for _, tier := range firebreak.Tiers {
		row := actionRow{Key: string(tier), Label: label(string(tier)), Count: inc.Counts.Of(tier), Noun: "accounts", Duration: defaultDuration}
		for _, a := range firebreak.ActionKinds {
			if info, _ := a.Info(); !info.OnSource {
				row.Actions = append(row.Actions, actionBox{Kind: a, Help: actionHelp[a],
					Checked: row.Count > 0 && slices.Contains(defaultActions[row.Key], a)})
			}
		}
		f.Rows = append(f.Rows, row)
	}
	src := actionRow{Key: sourcesKey, Label: "sources", Noun: "addresses and prefixes", Duration: defaultDuration}
	for _, s := range inc.Sources {
		if s.Kind == firebreak.SourceIP || s.Kind == firebreak.SourcePrefix {
			src.Count++
		}
	}
	for _, a := range firebreak.ActionKinds {
		if info, _ := a.Info(); info.OnSource {
			src.Actions = append(src.Actions, actionBox{Kind: a, Help: actionHelp[a]})
		}
	}
	f.Rows = append(f.Rows, src)
	return f
}

// fill replaces the form's values with those posted, keeping what was
// posted even where it is wrong, so that the page can show it again.
func (f *planForm) fill(v url.Values) {
	for i := range f.Rows {
		row := &f.Rows[i]
		ticked := v[row.Key]
		for j := range row.Actions {
			row.Actions[j].Checked = slices.Contains(ticked, string(row.Actions[j].Kind))
		}
		row.Duration = strings.TrimSpace(v.Get("duration." + row.Key))
	}
	f.Stages = v.Get("stages")
	f.CustomStages = strings.TrimSpace(v.Get("custom_stages"))
	f.Manual = v.Get("manual") != ""
	f.RateLimit = strings.TrimSpace(v.Get("rate_limit"))
	f.Note = v.Get("note")
}

// spec turns the posted form into a plan spec: one step per row with an
// action ticked, in the rows' order. It returns the row of each step, to
// put the service's "steps[i]" errors next to the right row, and records
// the form's own errors (a bad duration, an unknown action) on the form.
func (f *planForm) spec(v url.Values) (spec firebreak.PlanSpec, rowOf []int) {
	for i := range f.Rows {
		row := &f.Rows[i]
		for _, a := range v[row.Key] {
			if !slices.ContainsFunc(row.Actions, func(b actionBox) bool { return string(b.Kind) == a }) {
				row.Errors = append(row.Errors, strconv.Quote(a)+" is not an action for "+row.Noun)
			}
		}
		step := firebreak.PlanStep{}
		for _, b := range row.Actions {
			if b.Checked {
				step.Actions = append(step.Actions, b.Kind)
			}
		}
		if len(step.Actions) == 0 {
			continue
		}
		if row.Key == sourcesKey {
			step.Select.Sources = true
		} else {
			step.Select.Tier = firebreak.Tier(row.Key)
		}
		if timed(step.Actions) {
			d, err := time.ParseDuration(row.Duration)
			if err != nil {
				row.Errors = append(row.Errors, `duration: must be a duration such as "90m" or "24h"`)
			}
			step.Duration.Duration = d
		}
		spec.Steps = append(spec.Steps, step)
		rowOf = append(rowOf, i)
	}
	switch f.Stages {
	case "canary":
	case "all":
		spec.Stages = []float64{1}
	case "custom":
		spec.Stages = f.parseStages()
	default:
		f.Errors = append(f.Errors, "stages: choose canary, all at once, or custom stages")
	}
	spec.ManualStages = f.Manual
	if f.RateLimit != "" {
		rate, err := strconv.ParseFloat(f.RateLimit, 64)
		if err != nil {
			f.Errors = append(f.Errors, "rate_limit: must be a number of calls per second (empty: no cap)")
		}
		spec.RateLimit = rate
	}
	spec.Note = f.Note
	return spec, rowOf
}

// parseStages reads custom stages: cumulative percentages separated by
// commas or spaces, "5, 25, 100".
func (f *planForm) parseStages() []float64 {
	var stages []float64
	for _, field := range strings.FieldsFunc(f.CustomStages, func(r rune) bool { return r == ',' || r == ' ' || r == '%' }) {
		v, err := strconv.ParseFloat(field, 64)
		if err != nil {
			f.Errors = append(f.Errors, `custom stages: write cumulative percentages separated by commas, such as "5, 25, 100"`)
			return nil
		}
		stages = append(stages, v/100)
	}
	if len(stages) == 0 {
		f.Errors = append(f.Errors, `custom stages: required with custom stages, such as "5, 25, 100"`)
	}
	return stages
}

func timed(actions []firebreak.ActionKind) bool {
	return slices.ContainsFunc(actions, func(a firebreak.ActionKind) bool { info, _ := a.Info(); return info.Timed })
}

// stepField reads the step index of a service field error ("steps[2].select").
var stepField = regexp.MustCompile(`^steps\[(\d+)\]`)

// refuse puts the service's refusal on the form: each field error about a
// step next to that step's row, in words with the field it names
// ("steps[0].select: matches nothing in incident 3"), the rest above it.
func (f *planForm) refuse(msg string, fields []firebreak.FieldError, rowOf []int) {
	if len(fields) == 0 {
		f.Errors = append(f.Errors, msg)
		return
	}
	for _, fe := range fields {
		text := fe.Reason
		if fe.Field != "" {
			text = fe.Field + ": " + fe.Reason
		}
		if m := stepField.FindStringSubmatch(fe.Field); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i < len(rowOf) {
				f.Rows[rowOf[i]].Errors = append(f.Rows[rowOf[i]].Errors, text)
				continue
			}
		}
		f.Errors = append(f.Errors, text)
	}
}
