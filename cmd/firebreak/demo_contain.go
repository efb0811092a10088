package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"firebreak"
	"firebreak/auth"
	"firebreak/idp"
)

// The demo's operators: alice writes and runs the plan, bob approves it.
const (
	demoResponder = "alice"
	demoApprover  = "bob"
)

// startDemoIdP serves a simulated identity provider over HTTP on loopback,
// as `firebreak simidp` does, and points the server's connector at it.
func (c *DemoCommand) startDemoIdP() (*idp.Sim, func(), error) {
	sim := idp.NewSim(idp.SimConfig{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("simulated identity provider: %w", err)
	}
	srv := &http.Server{Handler: idp.NewSimHandler(sim), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	c.serve.Config.Contain.IdPURL = "http://" + ln.Addr().String()
	return sim, func() { srv.Close() }, nil
}

// demoOperators creates the responder and the approver of the demo's plan
// with fresh passwords, and returns them.
func (c *DemoCommand) demoOperators(ctx context.Context) (map[string]string, error) {
	svc, closeDB, err := openAuth(ctx, c.serve.Config.DataDir, c.stderr, true)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	out := map[string]string{}
	for name, role := range map[string]firebreak.Role{demoResponder: firebreak.RoleResponder, demoApprover: firebreak.RoleApprover} {
		pw, err := auth.NewPassword()
		if err != nil {
			return nil, err
		}
		_, err = svc.CreateOperator(ctx, cliActor, name, role, pw)
		if firebreak.ErrorCode(err) == firebreak.ECONFLICT {
			_, err = svc.UpdateOperator(ctx, cliActor, name, auth.OperatorUpdate{Password: &pw, Disabled: new(false)})
		}
		if err != nil {
			return nil, fmt.Errorf("create demo operator %s: %w", name, err)
		}
		out[name] = pw
	}
	return out, nil
}

// contain walks the demo's biggest incident to a contained state, as two
// operators would: alice writes a plan (reset and sign out the compromised,
// step up the at-risk), bob approves it, alice runs it against the
// simulated provider. It then sets beside it what a bulk reset of every
// account that failed a login in the last day would have hit.
func (c *DemoCommand) contain(ctx context.Context, bulk, clean int, sim *idp.Sim) error {
	inc, err := c.waitIncident(ctx)
	if err != nil {
		return err
	}
	svc := c.serve.Contain
	var spec firebreak.PlanSpec
	if inc.Counts.Compromised > 0 {
		spec.Steps = append(spec.Steps, firebreak.PlanStep{Select: firebreak.Selector{Tier: firebreak.TierCompromised},
			Actions: []firebreak.ActionKind{firebreak.ActionForceReset, firebreak.ActionRevokeSessions}})
	}
	if inc.Counts.AtRisk > 0 {
		spec.Steps = append(spec.Steps, firebreak.PlanStep{Select: firebreak.Selector{Tier: firebreak.TierAtRisk},
			Actions: []firebreak.ActionKind{firebreak.ActionStepUp}})
	}
	if len(spec.Steps) == 0 {
		fmt.Fprintf(c.stdout, "incident %d has no compromised or at-risk accounts yet; nothing to contain\n", inc.ID)
		return nil
	}
	spec.Note = "Demo: reset and sign out the compromised, step up the at-risk; leave the targeted alone."
	p, err := svc.CreatePlan(ctx, inc.ID, spec, demoResponder)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	fmt.Fprintf(c.stdout, "%s wrote plan %d for incident %d (%s): %s\n", demoResponder, p.ID, inc.ID, inc.Title, previewLine(p.Preview))
	if p.Preview.NeedsApproval {
		if _, err := svc.Approve(ctx, p.ID, p.Version, p.Hash, demoApprover, "Demo: targeted to the tiers, reviewed."); err != nil {
			return fmt.Errorf("approve: %w", err)
		}
		fmt.Fprintf(c.stdout, "%s approved it (needed because %s)\n", demoApprover, p.Preview.Why)
	}
	r, err := svc.StartRun(ctx, p.ID, p.Version, p.Hash, demoResponder)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if err := svc.Wait(ctx, r.ID); err != nil {
		return err
	}
	r, err = svc.Reads().FindRun(ctx, r.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "run %d %s: %d confirmed, %d failed, %d skipped; the provider counted %d effects\n",
		r.ID, r.State, r.Counts.Confirmed, r.Counts.Failed, r.Counts.Skipped, sim.Stats().Applies)

	note := fmt.Sprintf("For comparison: a bulk password reset of every account that failed a login in the last day "+
		"would have hit %d accounts, %d of which this attack never touched. This plan acted on %d accounts.",
		bulk, clean, p.Preview.Accounts)
	if _, err := c.serve.Incidents.AddEntry(ctx, inc.ID, firebreak.TimelineEntry{Actor: firebreak.SystemActor,
		Kind: firebreak.EntryNote, Message: note}); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, note)
	fmt.Fprintf(c.stdout, "incident %d is contained: %s/incidents/%d\n", inc.ID, c.serve.Server.URL(), inc.ID)
	if err := c.publishStatus(ctx, inc, p.Preview.Accounts); err != nil {
		return err
	}
	if err := c.notify(ctx, inc, spec); err != nil {
		return err
	}
	return c.selfServiceLinks(ctx, inc, p)
}

// notify tells exactly the accounts the plan acted on, in the app, as a
// campaign of notices: alice plans it for the same tiers, bob approves it
// if it must be, the run announces it on the status page and queues one
// notice per account in the outbox, which delivers them to the in-app feed.
func (c *DemoCommand) notify(ctx context.Context, inc *firebreak.Incident, contained firebreak.PlanSpec) error {
	svc := c.serve.Contain
	var spec firebreak.PlanSpec
	for _, st := range contained.Steps {
		spec.Steps = append(spec.Steps, firebreak.PlanStep{Select: st.Select, Actions: []firebreak.ActionKind{firebreak.ActionNotifyInApp}})
	}
	spec.Note = "Demo: tell the accounts we secured what happened and what to do, in the app."
	p, err := svc.CreatePlan(ctx, inc.ID, spec, demoResponder)
	if err != nil {
		return fmt.Errorf("notice plan: %w", err)
	}
	fmt.Fprintf(c.stdout, "%s wrote plan %d to notify them: %s\n", demoResponder, p.ID, previewLine(p.Preview))
	if p.Preview.NeedsApproval {
		if _, err := svc.Approve(ctx, p.ID, p.Version, p.Hash, demoApprover, "Demo: the wording was previewed."); err != nil {
			return fmt.Errorf("approve notices: %w", err)
		}
		fmt.Fprintf(c.stdout, "%s approved it\n", demoApprover)
	}
	r, err := svc.StartRun(ctx, p.ID, p.Version, p.Hash, demoResponder)
	if err != nil {
		return fmt.Errorf("run notices: %w", err)
	}
	if err := svc.Wait(ctx, r.ID); err != nil {
		return err
	}
	// The outbox sends in the background; give it a few seconds.
	var counts firebreak.NoticeStateCounts
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		all, err := c.serve.Notices.Counts(ctx, inc.ID)
		if err != nil {
			return err
		}
		if counts = all[firebreak.ChannelInApp]; counts.Queued == 0 {
			break
		}
	}
	fmt.Fprintf(c.stdout, "the status page announced the notices first; the outbox holds %d in-app notices (%d sent, %d queued, %d failed), none to the %d targeted accounts: %s/outbox?incident_id=%d\n",
		counts.Queued+counts.Sent+counts.Failed, counts.Sent, counts.Queued, counts.Failed, inc.Counts.Targeted, c.serve.Server.URL(), inc.ID)
	return nil
}

// selfServiceLinks prints the self-service links (as the in-app feed would
// carry them) of one account the plan acted on and of one it did not.
func (c *DemoCommand) selfServiceLinks(ctx context.Context, inc *firebreak.Incident, p *firebreak.Plan) error {
	targets, err := c.serve.Contain.Reads().PlanTargets(ctx, p.ID, p.Version, -1, 1)
	if err != nil || len(targets) == 0 {
		return err
	}
	page, err := c.serve.Incidents.ListAccounts(ctx, inc.ID, firebreak.AccountFilter{Tier: firebreak.TierTargeted, Limit: 1})
	if err != nil {
		return err
	}
	links := []struct{ who, account string }{{"an account the plan acted on", targets[0].Target}}
	if len(page.Accounts) > 0 {
		links = append(links, struct{ who, account string }{"a targeted account it left alone", page.Accounts[0].Account})
	}
	for i, l := range links {
		if i == 0 {
			// The affected person's link comes from their in-app feed.
			if link := c.feedLink(ctx, l.account); link != "" {
				fmt.Fprintf(c.stdout, "self-service page of %s (%s), from its in-app notice: %s\n", l.who, l.account, link)
				continue
			}
		}
		tok, err := c.serve.SelfTokens.Issue(l.account, inc.ID, 24*time.Hour)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "self-service page of %s (%s): %s/self-service/%s\n",
			l.who, l.account, c.serve.Server.URL(), tok)
	}
	return nil
}

// feedLink returns the self-service link of the newest notice in an
// account's in-app feed, or "".
func (c *DemoCommand) feedLink(ctx context.Context, account string) string {
	entries, err := c.serve.Feed.List(ctx, account, 0, 100)
	if err != nil {
		return ""
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if link := entries[i].Message.Meta["self_service"]; link != "" {
			return link
		}
	}
	return ""
}

// publishStatus mirrors the containment on the public status page, as a
// responder would before telling the affected people, with the time of the
// next update.
func (c *DemoCommand) publishStatus(ctx context.Context, inc *firebreak.Incident, accounts int64) error {
	u := firebreak.StatusUpdate{IncidentID: inc.ID, Phase: firebreak.PhaseMonitoring, Author: demoResponder,
		Title: "Unusual sign-in attempts: affected accounts secured",
		Body: fmt.Sprintf("We detected an automated attempt to sign in with passwords leaked elsewhere. "+
			"We secured the %d accounts it reached: their owners will be asked to choose a new password or confirm it is them at their next sign-in, "+
			"and we will contact them in the app. Nobody else needs to do anything.", accounts),
		NextUpdateBy: time.Now().Add(time.Hour)}
	if err := c.serve.Status.Publish(ctx, &u); err != nil {
		return fmt.Errorf("publish status: %w", err)
	}
	c.serve.statusPage.invalidate(u)
	fmt.Fprintf(c.stdout, "%s published it on the public status page (next update within the hour): %s/status/\n", demoResponder, c.serve.Server.URL())
	return nil
}

// waitIncident waits for detection to open an incident with affected
// accounts and returns the one with the most compromised and at-risk.
func (c *DemoCommand) waitIncident(ctx context.Context) (*firebreak.Incident, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		page, err := c.serve.Incidents.List(ctx, firebreak.IncidentFilter{Limit: firebreak.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		var best *firebreak.Incident
		for _, inc := range page.Incidents {
			if inc.State == firebreak.StateResolved || inc.MergedInto != 0 {
				continue
			}
			if best == nil || inc.Counts.Compromised+inc.Counts.AtRisk > best.Counts.Compromised+best.Counts.AtRisk {
				best = inc
			}
		}
		if best != nil && best.Counts.Compromised+best.Counts.AtRisk > 0 {
			return best, nil
		}
		if time.Now().After(deadline) {
			return nil, errors.New("no incident with compromised or at-risk accounts after 30s")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// bulkResetRadius counts the accounts that failed a login in the last day
// of the events (what a blanket "reset everyone who failed" would hit), and
// how many of them no attack event touched.
func bulkResetRadius(events []firebreak.Event) (hit, clean int) {
	if len(events) == 0 {
		return 0, 0
	}
	since := events[len(events)-1].Time.Add(-24 * time.Hour)
	failed, attacked := map[string]bool{}, map[string]bool{}
	for i := range events {
		e := &events[i]
		if e.Label != nil && e.Label.Attack {
			attacked[e.Account] = true
		}
		if e.Outcome == firebreak.OutcomeFailure && !e.Time.Before(since) {
			failed[e.Account] = true
		}
	}
	for a := range failed {
		if !attacked[a] {
			clean++
		}
	}
	return len(failed), clean
}

func previewLine(p firebreak.Preview) string {
	s := fmt.Sprintf("%d accounts", p.Accounts)
	for _, a := range p.Actions {
		s += fmt.Sprintf(", %s %d (%d likely clean)", a.Action, a.Count, a.LikelyClean)
	}
	return s
}
