package comms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"firebreak"
	"firebreak/notice"
)

// Appeals is the store of appeals and the facts about the accounts they
// name (*sqlite.AppealStore).
type Appeals interface {
	firebreak.AppealService
	firebreak.ActedOnCounter
}

// Lifter undoes an account's step-up and lock through containment's
// rollback machinery (*contain.Service).
type Lifter interface {
	LiftAccount(ctx context.Context, incidentID int64, account, actor, reason string) (*firebreak.Run, error)
}

// Desk is what the dashboard and the API read and do about an incident's
// communication: the outbox, appeals and their decisions, previews and
// metrics. Set every field.
type Desk struct {
	Incidents firebreak.IncidentService
	Notices   firebreak.NoticeService
	Appeals   Appeals
	Lifter    Lifter
	Auditor   firebreak.Auditor
	Notifier  *Notifier // renders previews the way the campaign will
	Status    firebreak.StatusService
	// OnPublished runs after Announce publishes a status update (to
	// refresh the status page and tell its subscribers); optional.
	OnPublished func(firebreak.StatusUpdate)
	Now         func() time.Time
}

// ListNotices returns a page of the outbox.
func (d *Desk) ListNotices(ctx context.Context, f firebreak.NoticeFilter) (*firebreak.NoticePage, error) {
	return d.Notices.List(ctx, f)
}

// FindNotice returns one notice of the outbox.
func (d *Desk) FindNotice(ctx context.Context, id int64) (*firebreak.Notice, error) {
	return d.Notices.Find(ctx, id)
}

// ListAppeals returns a page of an incident's appeals with their counts.
func (d *Desk) ListAppeals(ctx context.Context, f firebreak.AppealFilter) (*firebreak.AppealList, error) {
	if _, err := d.Incidents.Find(ctx, f.IncidentID); err != nil {
		return nil, err
	}
	return d.Appeals.ListAppeals(ctx, f)
}

// Audit actions of operators' appeal decisions are the appeals' own
// (firebreak.AuditAppealDecided); the record names the operator.

// DecideAppeal decides an open appeal: lift undoes the account's step-up
// and lock through a rollback run (a reset and revoked sessions stay), and
// the appeal counts as a measured false positive; otherwise it is
// rejected. The lift is audited as containment audits it; the decision is
// written to the audit trail before it is stored (failing closed) and goes
// on the incident's timeline. ECONFLICT for an appeal already decided, or a
// lift that cannot run now (nothing left to lift, a run still going): the
// appeal then stays open.
func (d *Desk) DecideAppeal(ctx context.Context, id int64, lift bool, reason, actor string) (*firebreak.Appeal, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, &firebreak.FieldError{Field: "reason", Reason: "required: say why"}
	}
	a, err := d.Appeals.FindAppeal(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.State.Open() {
		return nil, firebreak.Errorf(firebreak.ECONFLICT, "Appeal %d is already %s.", id, a.State)
	}
	state := firebreak.AppealRejected
	if lift {
		// The lift goes first, audited on its own: an appeal whose lift
		// cannot run (nothing left to lift, a run still going) stays open.
		state = firebreak.AppealLifted
		run, err := d.Lifter.LiftAccount(ctx, a.IncidentID, a.Account, actor, fmt.Sprintf("appeal %d: %s", id, reason))
		if err != nil {
			return nil, err
		}
		reason = fmt.Sprintf("%s (lifted by rollback run %d)", reason, run.ID)
	}
	rec := firebreak.AuditRecord{Time: d.now(), Actor: actor, Action: firebreak.AuditAppealDecided, Object: fmt.Sprintf("appeal/%d", id),
		Data: firebreak.AuditData(map[string]any{"incident": a.IncidentID, "account": a.Account, "tier": a.Tier,
			"state": state, "reason": reason})}
	if _, err := d.Auditor.Append(ctx, rec); err != nil {
		return nil, firebreak.Errorf(firebreak.EUNAVAILABLE, "The audit trail is unavailable, so the appeal was not decided.")
	}
	decided, err := d.Appeals.Decide(ctx, id, state, reason, actor)
	if err != nil {
		return nil, err
	}
	verb := "rejected"
	if lift {
		verb = "lifted the restrictions of"
	}
	_, _ = d.Incidents.AddEntry(ctx, a.IncidentID, firebreak.TimelineEntry{Actor: actor, Kind: "appeal_decided",
		Message: fmt.Sprintf("%s %s the appeal of %s (%s): %s", actor, verb, a.Account, a.Tier, reason)})
	return decided, nil
}

// Preview renders the notice a campaign would queue for one tier, channel
// and locale, with the incident's real data and the first account of the
// tier (SampleAccount when the tier is empty).
func (d *Desk) Preview(ctx context.Context, incidentID int64, tier firebreak.Tier, ch firebreak.Channel, locale string) (*firebreak.NoticePreview, error) {
	if d.Notifier == nil {
		return nil, firebreak.Errorf(firebreak.EUNAVAILABLE, "Notices are not available on this server yet.")
	}
	if !slices.Contains(firebreak.Tiers, tier) {
		return nil, &firebreak.FieldError{Field: "tier", Reason: "must be compromised, at_risk or targeted"}
	}
	if _, ok := firebreak.NoticeAction(ch); !ok {
		return nil, &firebreak.FieldError{Field: "channel", Reason: "must be inapp, email, sms or chat"}
	}
	inc, err := d.Incidents.Find(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	page, err := d.Incidents.ListAccounts(ctx, incidentID, firebreak.AccountFilter{Tier: tier, Limit: 1})
	if err != nil {
		return nil, err
	}
	account := ""
	if len(page.Accounts) > 0 {
		account = page.Accounts[0].Account
	}
	data, err := d.previewData(ctx, inc, tier, account)
	if err != nil {
		return nil, err
	}
	t, err := d.Notifier.cfg.Templates.Lookup(inc.Kind, tier, ch, locale)
	if err != nil {
		return nil, err
	}
	m, err := t.Execute(data)
	if err != nil {
		return nil, err
	}
	return &firebreak.NoticePreview{IncidentID: incidentID, Tier: tier, Channel: ch, Locale: locale, Template: t.Path,
		Account: account, Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
}

// SampleAccount stands in for the person in a preview of an empty tier.
const SampleAccount = "sample-account"

// previewData is the template data of one account of an incident for a
// preview: the promised next update, or an hour from now when none is
// promised yet (the campaign's announcement will make the promise).
func (d *Desk) previewData(ctx context.Context, inc *firebreak.Incident, tier firebreak.Tier, account string) (*notice.Data, error) {
	n := d.Notifier
	next := n.cfg.Now().Add(time.Hour)
	if u, err := n.cfg.Status.Latest(ctx, inc.ID); err == nil && !u.NextUpdateBy.IsZero() {
		next = u.NextUpdateBy
	} else if err != nil && firebreak.ErrorCode(err) != firebreak.ENOTFOUND {
		return nil, err
	}
	var acts notice.Actions
	if account == "" {
		account = SampleAccount
	} else {
		done, err := d.Appeals.AccountActions(ctx, inc.ID, account)
		if err != nil {
			return nil, err
		}
		for _, a := range done {
			acts.Set(a.Action, !a.Undone, a.Until)
		}
	}
	return n.dataFor(inc, next, tier, account, acts), nil
}

// Metrics returns what an incident told people and what they answered:
// notices by channel and state, appeals by tier and state, and per tier the
// accounts acted on, appeals, lifts and the false-positive rate measured
// from them. Incident 0 counts every incident's notices, with no appeals
// or tiers (the outbox page's totals).
func (d *Desk) Metrics(ctx context.Context, incidentID int64) (*firebreak.CommunicationMetrics, error) {
	if incidentID == 0 {
		notices, err := d.Notices.Counts(ctx, 0)
		if err != nil {
			return nil, err
		}
		return &firebreak.CommunicationMetrics{Notices: notices, Appeals: []firebreak.AppealCount{}, Tiers: []firebreak.TierFalsePositives{}}, nil
	}
	if _, err := d.Incidents.Find(ctx, incidentID); err != nil {
		return nil, err
	}
	notices, err := d.Notices.Counts(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	appeals, err := d.Appeals.ListAppeals(ctx, firebreak.AppealFilter{IncidentID: incidentID, Limit: 1})
	if err != nil {
		return nil, err
	}
	acted, err := d.Appeals.ActedOn(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	m := &firebreak.CommunicationMetrics{IncidentID: incidentID, Notices: notices, Appeals: appeals.Counts}
	for _, t := range firebreak.Tiers {
		fp := firebreak.TierFalsePositives{Tier: t, ActedOn: acted[t], Lifted: appeals.Lifted(t)}
		for _, c := range appeals.Counts {
			if c.Tier == t {
				fp.Appealed += c.Count
			}
		}
		fp.Rate = firebreak.FalsePositiveRate(fp.Lifted, fp.ActedOn)
		m.Tiers = append(m.Tiers, fp)
	}
	return m, nil
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
