package comms

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

// AnnounceWait is how far ahead an announcement promises the next update
// when no later promise stands.
const AnnounceWait = time.Hour

// Announce publishes the status page entry that mirrors a campaign of
// notices before its run starts (contain.Service.Announce): how many people
// are told, on which channels, and how to tell a genuine notice from a
// phishing copy. It keeps the incident's phase and a promise of the next
// update that is still ahead (else it promises one within AnnounceWait).
// The update is written to the audit trail first (failing closed) and goes
// on the incident's timeline.
func (d *Desk) Announce(ctx context.Context, p *firebreak.Plan, actor string) error {
	inc, err := d.Incidents.Find(ctx, p.IncidentID)
	if err != nil {
		return err
	}
	now := d.now()
	u := firebreak.StatusUpdate{IncidentID: inc.ID, Phase: firebreak.PhaseIdentified, Author: actor,
		Title: "We are notifying the affected accounts", NextUpdateBy: now.Add(AnnounceWait)}
	latest, err := d.Status.Latest(ctx, inc.ID)
	switch {
	case err == nil:
		if latest.Phase != firebreak.PhaseResolved {
			u.Phase = latest.Phase
		}
		if latest.NextUpdateBy.After(now.Add(time.Minute)) {
			u.NextUpdateBy = latest.NextUpdateBy
		}
	case firebreak.ErrorCode(err) != firebreak.ENOTFOUND:
		return err
	}
	u.Body = announcement(p, now)
	rec := firebreak.AuditRecord{Time: now, Actor: actor, Action: firebreak.AuditStatusPublished, Object: "status/" + strconv.FormatInt(inc.ID, 10),
		Data: firebreak.AuditData(map[string]any{"incident": inc.ID, "phase": u.Phase, "title": u.Title,
			"plan": p.ID, "version": p.Version, "next_update_by": u.NextUpdateBy})}
	if _, err := d.Auditor.Append(ctx, rec); err != nil {
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "The audit trail is unavailable.")
	}
	if err := d.Status.Publish(ctx, &u); err != nil {
		return err
	}
	if d.OnPublished != nil {
		d.OnPublished(u)
	}
	_, _ = d.Incidents.AddEntry(ctx, inc.ID, firebreak.TimelineEntry{Actor: actor, Kind: "status_published",
		Message: fmt.Sprintf("%s's notices (plan %d v%d) were announced on the status page: %q.", actor, p.ID, p.Version, u.Title)})
	return nil
}

// announcement is the body of a campaign's status entry.
func announcement(p *firebreak.Plan, now time.Time) string {
	var per []string
	for _, a := range p.Preview.Actions {
		if info, _ := a.Action.Info(); info.Channel != "" {
			per = append(per, fmt.Sprintf("%d by %s", a.Count, channelWords[info.Channel]))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From %s UTC we are writing to the people whose accounts this incident affected (%s), and to no one else. ",
		now.UTC().Format("2 January 2006, 15:04"), strings.Join(per, ", "))
	b.WriteString("Each notice says what happened to that account and what to do.\n\n")
	b.WriteString("A genuine notice from us names this incident and points to this page. " +
		"It never asks for your password or a code, and never contains a link to sign in: " +
		"if a message does, it is not from us. Sign in only through our app or by typing our address yourself.")
	return b.String()
}

// channelWords names each channel as people know it.
var channelWords = map[firebreak.Channel]string{
	firebreak.ChannelInApp: "a message in the app",
	firebreak.ChannelEmail: "e-mail",
	firebreak.ChannelSMS:   "text message",
	firebreak.ChannelChat:  "chat message",
}
