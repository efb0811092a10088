package contain_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/contain"
	"firebreak/idp"
	"firebreak/mock"
	"firebreak/sqlite"
)

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// fixture is a containment service on a real SQLite file, with an incident
// and a simulated identity provider.
type fixture struct {
	db       *sqlite.DB
	incs     *sqlite.IncidentStore
	store    *sqlite.ContainmentStore
	sim      *idp.Sim
	auditor  *mock.AuditLog
	svc      *contain.Service
	incident *firebreak.Incident
}

// tiers sizes the incident's tiers.
type tiers struct{ compromised, atRisk, targeted int }

func newFixture(t testing.TB, size tiers, cfg contain.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db"))}
	if err := f.db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	f.incs, f.store = sqlite.NewIncidentStore(f.db), sqlite.NewContainmentStore(f.db)
	f.sim = idp.NewSim(idp.SimConfig{})
	f.auditor = &mock.AuditLog{}
	f.incident = createIncident(t, f.incs, size)
	f.svc = newService(f, cfg)
	t.Cleanup(func() { f.svc.Close() })
	return f
}

// newService returns a service over the fixture's stores, as a restarted
// process would build it.
func newService(f *fixture, cfg contain.Config) *contain.Service {
	svc := contain.NewService(cfg)
	svc.Incidents, svc.Store, svc.Auditor = f.incs, f.store, f.auditor
	svc.Connectors = map[string]firebreak.Connector{"": f.sim}
	return svc
}

// createIncident stores an incident with accounts c0..., r0..., g0...
// (compromised, at risk, targeted) and two sources. Every third at-risk
// account has a low confidence (likely clean).
func createIncident(t testing.TB, store firebreak.IncidentService, size tiers) *firebreak.Incident {
	t.Helper()
	ctx := context.Background()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing from 203.0.113.0/24", FirstSeen: t0, LastSeen: t0.Add(time.Hour),
		Sources: []firebreak.IncidentSource{
			{Kind: firebreak.SourcePrefix, Value: "203.0.113.0/24", Attempts: 100, Failures: 90, Accounts: 80},
			{Kind: firebreak.SourceASN, Value: "64500", Attempts: 100, Failures: 90, Accounts: 80},
		}}
	if err := store.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	var batch []firebreak.AffectedAccount
	add := func(prefix string, n int, tier firebreak.Tier, conf func(i int) float64) {
		for i := range n {
			batch = append(batch, firebreak.AffectedAccount{Account: fmt.Sprintf("%s%d", prefix, i), Tier: tier,
				Confidence: conf(i), Evidence: "test", FirstSeen: t0, LastSeen: t0})
			if len(batch) == firebreak.MaxBatch {
				if err := store.UpsertAccounts(ctx, inc.ID, batch); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	add("c", size.compromised, firebreak.TierCompromised, func(int) float64 { return 0.95 })
	add("r", size.atRisk, firebreak.TierAtRisk, func(i int) float64 {
		if i%3 == 0 {
			return 0.3
		}
		return 0.7
	})
	add("g", size.targeted, firebreak.TierTargeted, func(int) float64 { return 0.5 })
	if len(batch) > 0 {
		if err := store.UpsertAccounts(ctx, inc.ID, batch); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.Find(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// containSpec is the usual plan: reset and sign out the compromised, step
// up the at-risk.
func containSpec() firebreak.PlanSpec {
	return firebreak.PlanSpec{Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierCompromised}, Actions: []firebreak.ActionKind{firebreak.ActionForceReset, firebreak.ActionRevokeSessions}},
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
}

// approveAndRun approves p as "bob" if it needs it and starts it as "alice".
func (f *fixture) approveAndRun(t testing.TB, p *firebreak.Plan) *firebreak.Run {
	t.Helper()
	ctx := context.Background()
	if p.Preview.NeedsApproval {
		if _, err := f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "bob", "looks right"); err != nil {
			t.Fatal(err)
		}
	}
	r, err := f.svc.StartRun(ctx, p.ID, p.Version, p.Hash, "alice")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitRun waits until the run stops being dispatched and returns it.
func (f *fixture) waitRun(t testing.TB, svc *contain.Service, id int64) *firebreak.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := svc.Wait(ctx, id); err != nil {
		t.Fatalf("run %d still going after 60s", id)
	}
	r, err := f.store.FindRun(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// allItems returns every item of a run.
func (f *fixture) allItems(t testing.TB, runID int64) []firebreak.RunItem {
	t.Helper()
	var out []firebreak.RunItem
	filter := firebreak.ItemFilter{Limit: firebreak.MaxPageLimit}
	for {
		page, err := f.store.ListItems(context.Background(), runID, filter)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		filter.Cursor = page.Next
	}
}

// allTargets returns every target of a plan version.
func (f *fixture) allTargets(t testing.TB, p *firebreak.Plan) []firebreak.PlanTarget {
	t.Helper()
	var out []firebreak.PlanTarget
	after := int64(-1)
	for {
		page, err := f.store.PlanTargets(context.Background(), p.ID, p.Version, after, firebreak.MaxPageLimit)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if len(page) < firebreak.MaxPageLimit {
			return out
		}
		after = page[len(page)-1].Seq
	}
}

// checkExactlyOnce fails t unless every target of the plan got exactly one
// effect of its action and nothing outside the plan got any.
func (f *fixture) checkExactlyOnce(t testing.TB, targets []firebreak.PlanTarget) {
	t.Helper()
	if reps := f.sim.Repeats(); len(reps) > 0 {
		t.Errorf("%d (target, action) pairs applied more than once, e.g. %+v", len(reps), reps[0])
	}
	var inside int64
	for _, tg := range targets {
		n := f.sim.Effects(tg.Target, tg.Action)
		inside += int64(n)
		if n != 1 {
			t.Errorf("%s %s: %d effects, want 1", tg.Action, tg.Target, n)
			return
		}
	}
	if all := f.sim.Stats().Applies; all != inside {
		t.Errorf("%d effects in all, %d on the plan's targets: %d outside the approved set", all, inside, all-inside)
	}
}

// wantCode fails t unless err has code want and mentions every word.
func wantCode(t testing.TB, err error, want string, mention ...string) {
	t.Helper()
	if got := firebreak.ErrorCode(err); got != want {
		t.Fatalf("err = %v (code %q), want %q", err, got, want)
	}
	for _, m := range mention {
		if !strings.Contains(firebreak.ErrorMessage(err), m) {
			t.Errorf("message %q does not mention %q", firebreak.ErrorMessage(err), m)
		}
	}
}
