package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"firebreak"
	"firebreak/comms"
	"firebreak/contain"
	"firebreak/notice"
	"firebreak/sqlite"
)

// benchNotices measures a campaign of notices end to end on a real data
// directory: an incident of --targets at-risk accounts, a plan that tells
// each of them in the app, approved and run through the containment
// executor, whose notifier renders every notice from the account's current
// tier and queues it durably in the outbox (group commit). It reports how
// long rendering and queueing took and checks that the outbox holds exactly
// one notice per account.
func (c *BenchCommand) benchNotices(ctx context.Context) error {
	dir, db, log, closeDir, err := openBenchDir(ctx, "firebreak-bench-notices-")
	if err != nil {
		return err
	}
	defer closeDir()
	incs, store, notices := sqlite.NewIncidentStore(db), sqlite.NewContainmentStore(db), sqlite.NewNoticeStore(db)
	status, appeals := sqlite.NewStatusStore(db), sqlite.NewAppealStore(db)

	start := time.Now()
	inc, err := benchIncident(ctx, incs, c.targets)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "incident of %d at-risk accounts written in %s (data %s, fsync on)\n", c.targets, time.Since(start).Round(time.Millisecond), dir)

	set, err := notice.Load(notice.LintConfig{AllowedHosts: []string{"status.example.com"}}, notice.Embedded())
	if err != nil {
		return err
	}
	n, err := comms.New(comms.Config{Incidents: incs, Facts: appeals, Notices: notices, Status: status, Templates: set,
		Org: "Example Corp", StatusURL: func(id int64) string { return "https://status.example.com/incidents/" + strconv.FormatInt(id, 10) }})
	if err != nil {
		return err
	}
	defer n.Close()
	svc := contain.NewService(contain.Config{MaxShare: 1})
	svc.Incidents, svc.Store, svc.Auditor = incs, store, log
	desk := &comms.Desk{Incidents: incs, Notices: notices, Appeals: appeals, Lifter: svc, Auditor: log, Notifier: n, Status: status}
	svc.Notifier, svc.Announce = n, desk.Announce
	defer svc.Close()

	start = time.Now()
	spec := firebreak.PlanSpec{Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionNotifyInApp}}}}
	p, err := svc.CreatePlan(ctx, inc.ID, spec, "responder")
	if err != nil {
		return err
	}
	if _, err := svc.Approve(ctx, p.ID, p.Version, p.Hash, "approver", "benchmark"); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "plan %d of %d notices resolved, previewed and approved in %s\n", p.ID, p.Preview.Accounts, time.Since(start).Round(time.Millisecond))
	if c.cpuProfile != "" {
		stop, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	start = time.Now()
	r, err := svc.StartRun(ctx, p.ID, p.Version, p.Hash, "responder")
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- svc.Wait(ctx, r.ID) }()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
wait:
	for {
		select {
		case err := <-done:
			if err != nil {
				return err
			}
			break wait
		case <-tick.C:
			got, _ := store.FindRun(ctx, r.ID)
			if got != nil {
				fmt.Fprintf(c.stdout, "  %s: %d notices queued\n", time.Since(start).Round(time.Second), got.Counts.Confirmed)
			}
		}
	}
	took := time.Since(start)
	got, err := store.FindRun(ctx, r.ID)
	if err != nil {
		return err
	}
	counts, err := notices.Counts(ctx, inc.ID)
	if err != nil {
		return err
	}
	queued := counts[firebreak.ChannelInApp].Queued
	fmt.Fprintf(c.stdout, "run %d %s: %d confirmed, %d failed, %d skipped of %d in %s: %.0f notices/s rendered and queued; the outbox holds %d\n",
		got.ID, got.State, got.Counts.Confirmed, got.Counts.Failed, got.Counts.Skipped, got.Total, took.Round(time.Millisecond),
		float64(got.Counts.Confirmed)/took.Seconds(), queued)
	if got.State != firebreak.RunFinished || got.Counts.Confirmed != got.Total || queued != int64(c.targets) {
		return fmt.Errorf("the campaign did not queue one notice per account: run %+v, outbox %d", got.Counts, queued)
	}
	return nil
}

// benchIncident stores an incident of n at-risk accounts acct0...
func benchIncident(ctx context.Context, incs firebreak.IncidentService, n int) (*firebreak.Incident, error) {
	now := time.Now().UTC()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "benchmark incident", FirstSeen: now, LastSeen: now}
	if err := incs.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		return nil, err
	}
	batch := make([]firebreak.AffectedAccount, 0, firebreak.MaxBatch)
	for i := 0; i < n; i++ {
		batch = append(batch, firebreak.AffectedAccount{Account: "acct" + strconv.Itoa(i), Tier: firebreak.TierAtRisk,
			Confidence: 0.7, Evidence: "benchmark", FirstSeen: now, LastSeen: now})
		if len(batch) == firebreak.MaxBatch || i == n-1 {
			if err := incs.UpsertAccounts(ctx, inc.ID, batch); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	return inc, nil
}
