package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"firebreak"
	"firebreak/sqlite"
)

// benchTargets is the size of the plans the containment benchmarks use.
const benchTargets = 1_000_000

// benchPlanTargets returns n targets of one account action in a shuffled
// dispatch order, as a planner makes them.
func benchPlanTargets(n int) []firebreak.PlanTarget {
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	targets := make([]firebreak.PlanTarget, n)
	for i, j := range order {
		targets[i] = firebreak.PlanTarget{Seq: int64(i), Action: firebreak.ActionRevokeSessions,
			Target: fmt.Sprintf("user%07d@example.com", j), Tier: firebreak.TierCompromised, Confidence: 0.9}
	}
	return targets
}

// benchStore returns a containment store on a fresh file with one incident.
func benchStore(b *testing.B) (*sqlite.ContainmentStore, int64) {
	b.Helper()
	db := openDB(b)
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "bench", FirstSeen: fixedNow, LastSeen: fixedNow}
	if err := sqlite.NewIncidentStore(db).Create(context.Background(), inc, nil, firebreak.SystemActor); err != nil {
		b.Fatal(err)
	}
	return sqlite.NewContainmentStore(db), inc.ID
}

func benchPlan(incidentID int64) *firebreak.Plan {
	return &firebreak.Plan{IncidentID: incidentID, Author: "alice", Hash: strings.Repeat("ab", 32),
		Spec: firebreak.PlanSpec{Steps: []firebreak.PlanStep{{
			Select:  firebreak.Selector{Tier: firebreak.TierCompromised},
			Actions: []firebreak.ActionKind{firebreak.ActionRevokeSessions}}}}}
}

// BenchmarkCreatePlan stores a plan of benchTargets targets.
func BenchmarkCreatePlan(b *testing.B) {
	s, incident := benchStore(b)
	targets, ctx := benchPlanTargets(benchTargets), context.Background()
	for b.Loop() {
		if err := s.CreatePlan(ctx, benchPlan(incident), targets); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTargets), "ns/target")
}

// BenchmarkCreateRun copies a plan of benchTargets targets into a new run.
func BenchmarkCreateRun(b *testing.B) {
	s, incident := benchStore(b)
	p, ctx := benchPlan(incident), context.Background()
	if err := s.CreatePlan(ctx, p, benchPlanTargets(benchTargets)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r := &firebreak.Run{Kind: firebreak.RunApply, PlanID: p.ID, Version: p.Version, Hash: p.Hash, StartedBy: "bob"}
		if err := s.CreateRun(ctx, r, 0); err != nil || r.Total != benchTargets {
			b.Fatalf("CreateRun: total %d, %v", r.Total, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTargets), "ns/item")
}

// BenchmarkClaimRecord is the executor's hot loop on a run of benchTargets
// items: claim 512 items, then record all 512 confirmed, each durable. One
// op is one batch; items/s counts items both claimed and recorded.
func BenchmarkClaimRecord(b *testing.B) {
	const batch = 512
	s, incident := benchStore(b)
	p, ctx := benchPlan(incident), context.Background()
	if err := s.CreatePlan(ctx, p, benchPlanTargets(benchTargets)); err != nil {
		b.Fatal(err)
	}
	newRun := func() int64 {
		r := &firebreak.Run{Kind: firebreak.RunApply, PlanID: p.ID, Version: p.Version, Hash: p.Hash, StartedBy: "bob"}
		if err := s.CreateRun(ctx, r, 0); err != nil {
			b.Fatal(err)
		}
		return r.ID
	}
	run, done := newRun(), 0
	results := make([]firebreak.ItemResult, batch)
	for b.Loop() {
		items, err := s.ClaimItems(ctx, run, benchTargets, batch, fixedNow)
		if err != nil {
			b.Fatal(err)
		}
		if len(items) < batch { // the run is done: take a fresh one, untimed
			b.StopTimer()
			run = newRun()
			b.StartTimer()
			continue
		}
		for j, it := range items {
			results[j] = firebreak.ItemResult{Seq: it.Seq, State: firebreak.ItemConfirmed, Attempts: 1}
		}
		if err := s.RecordItems(ctx, run, results); err != nil {
			b.Fatal(err)
		}
		done += batch
	}
	b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "items/s")
}
