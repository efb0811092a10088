package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"firebreak"
	"firebreak/audit"
	"firebreak/contain"
	"firebreak/idp"
	"firebreak/sqlite"
)

// benchContain measures the containment executor end to end on a real
// data directory: a plan of c.targets accounts, approved, run against the
// in-process simulated identity provider with every item's state durable in
// SQLite and every batch in the signed audit trail. With --cap it checks
// that the provider never saw more than R calls in any second and that the
// mean stayed within 5% of R; with --kills it measures the kill switch.
func (c *BenchCommand) benchContain(ctx context.Context) error {
	dir, db, log, closeDir, err := openBenchDir(ctx, "firebreak-bench-contain-")
	if err != nil {
		return err
	}
	defer closeDir()
	incs, store := sqlite.NewIncidentStore(db), sqlite.NewContainmentStore(db)
	sim := idp.NewSim(idp.SimConfig{})
	if c.latency > 0 {
		sim.SetFaults(idp.Faults{Latency: c.latency})
	}
	svc := contain.NewService(contain.Config{})
	svc.Incidents, svc.Store, svc.Auditor = incs, store, log
	svc.Connectors = map[string]firebreak.Connector{"": sim}
	defer svc.Close()

	start := time.Now()
	p, err := benchPlan(ctx, incs, store, c.targets, c.capRate)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "plan of %d accounts written in %s (data %s, fsync on)\n", c.targets, time.Since(start).Round(time.Millisecond), dir)
	if _, err := svc.Approve(ctx, p.ID, p.Version, p.Hash, "approver", "benchmark"); err != nil {
		return err
	}
	if c.kills > 0 {
		return c.benchKills(ctx, svc, sim, p)
	}
	start = time.Now()
	r, err := svc.StartRun(ctx, p.ID, p.Version, p.Hash, "bench")
	if err != nil {
		return err
	}
	created := time.Since(start)
	done := make(chan error, 1)
	go func() { done <- svc.Wait(ctx, r.ID) }()
	tick := time.NewTicker(5 * time.Second)
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
			st := sim.Stats()
			fmt.Fprintf(c.stdout, "  %s: %d effects\n", time.Since(start).Round(time.Second), st.Applies)
		}
	}
	took := time.Since(start)
	got, err := store.FindRun(ctx, r.ID)
	if err != nil {
		return err
	}
	rate := sim.Rate()
	fmt.Fprintf(c.stdout, "run %d %s: %d confirmed, %d failed, %d skipped of %d in %s (run created in %s)\n",
		got.ID, got.State, got.Counts.Confirmed, got.Counts.Failed, got.Counts.Skipped, got.Total, took.Round(time.Millisecond), created.Round(time.Millisecond))
	fmt.Fprintf(c.stdout, "end to end: %.0f actions/s; at the provider: mean %.0f/s, most in any second %d; repeats %d; audit records %d\n",
		float64(got.Counts.Confirmed)/took.Seconds(), rate.Mean, rate.MaxPerSecond, len(sim.Repeats()), log.Size())
	if c.capRate > 0 {
		dev := (rate.Mean - c.capRate) / c.capRate
		verdict := "holds"
		if float64(rate.MaxPerSecond) > c.capRate || dev < -0.05 || dev > 0.05 {
			verdict = "DOES NOT hold"
		}
		fmt.Fprintf(c.stdout, "cap %.0f/s %s: mean %+.1f%%, peak second %d (never above the cap: %v)\n",
			c.capRate, verdict, 100*dev, rate.MaxPerSecond, float64(rate.MaxPerSecond) <= c.capRate)
	}
	if got.State != firebreak.RunFinished || got.Counts.Confirmed != got.Total {
		return fmt.Errorf("run did not confirm every item: %+v", got.Counts)
	}
	return nil
}

// benchKills starts and kills runs of p c.kills times at random points and
// reports how long the kill switch took to stop dispatch.
func (c *BenchCommand) benchKills(ctx context.Context, svc *contain.Service, sim *idp.Sim, p *firebreak.Plan) error {
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	late := 0
	for i := range c.kills {
		r, err := svc.StartRun(ctx, p.ID, p.Version, p.Hash, "bench")
		if err != nil {
			return err
		}
		time.Sleep(100*time.Millisecond + rand.N(400*time.Millisecond))
		_ = rng
		start := time.Now()
		if _, err := svc.Kill(ctx, r.ID, "bench"); err != nil {
			return fmt.Errorf("kill %d: %w", i, err)
		}
		lat = append(lat, time.Since(start))
		before := sim.Stats().Applies
		time.Sleep(50 * time.Millisecond)
		if sim.Stats().Applies != before {
			late++
		}
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Fprintf(c.stdout, "kill switch over %d runs: p50 %s, p99 %s, max %s; effects after a kill returned: %d runs\n",
		len(lat), q(0.5), q(0.99), lat[len(lat)-1], late)
	return nil
}

// benchPlan writes an incident and a plan of n accounts (require_step_up
// each) straight to the store: resolving a million accounts through an
// incident is the planner's job and is measured elsewhere.
func benchPlan(ctx context.Context, incs firebreak.IncidentService, store firebreak.ContainmentService, n int, capRate float64) (*firebreak.Plan, error) {
	now := time.Now().UTC()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "benchmark incident", FirstSeen: now, LastSeen: now}
	if err := incs.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		return nil, err
	}
	spec := firebreak.PlanSpec{RateLimit: capRate, Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	spec.Normalize()
	targets := make([]firebreak.PlanTarget, n)
	h := sha256.New()
	for i := range targets {
		targets[i] = firebreak.PlanTarget{Seq: int64(i), Action: firebreak.ActionStepUp, Target: "acct" + strconv.Itoa(i),
			Tier: firebreak.TierAtRisk, Confidence: 0.7}
		h.Write([]byte(targets[i].Target))
	}
	p := &firebreak.Plan{IncidentID: inc.ID, Version: 1, Author: "bench", Spec: spec, Hash: hex.EncodeToString(h.Sum(nil)),
		Preview: firebreak.Preview{Accounts: int64(n), NeedsApproval: true, Why: "benchmark",
			Actions: []firebreak.ActionPreview{{Action: firebreak.ActionStepUp, Count: int64(n), Reversible: true}}}}
	if err := store.CreatePlan(ctx, p, targets); err != nil {
		return nil, err
	}
	return p, nil
}

// openBenchDir creates a temporary data directory with a store and an audit
// trail, as serve has them (fsync on); closeDir closes both and removes it.
func openBenchDir(ctx context.Context, prefix string) (dir string, db *sqlite.DB, log *audit.Log, closeDir func(), err error) {
	if dir, err = os.MkdirTemp("", prefix); err != nil {
		return "", nil, nil, nil, err
	}
	db = sqlite.NewDB(filepath.Join(dir, "firebreak.db"))
	if err = db.Open(ctx); err != nil {
		os.RemoveAll(dir)
		return "", nil, nil, nil, err
	}
	if log, err = audit.Open(filepath.Join(dir, "audit"), audit.Options{}); err != nil {
		db.Close()
		os.RemoveAll(dir)
		return "", nil, nil, nil, err
	}
	return dir, db, log, func() {
		log.Close()
		db.Close()
		os.RemoveAll(dir)
	}, nil
}
