package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"firebreak"
)

// ContainmentOpener returns a new, empty containment store, closed when t
// ends, and the incident store on the same database: plans belong to
// incidents, which the suite creates through it.
type ContainmentOpener func(t *testing.T) (firebreak.ContainmentService, firebreak.IncidentService)

// TestContainmentService runs the ContainmentService conformance suite
// against the stores open returns; each subtest opens its own.
//
// What it pins down: plans are versioned, each version with its targets in
// Seq order from 0; revising needs the latest version + 1; approvals and
// apply runs bind to the latest version and its hash; a run's items start
// pending, a claim hands out the lowest pending Seqs below a bound (only
// while the run is running), and RecordItems takes outcomes for sent items
// only, all or nothing; item counts on the run always match the items; a
// rollback holds the confirmed, reversible items of an apply run that is
// not running; a run that is over never changes.
func TestContainmentService(t *testing.T, open ContainmentOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open ContainmentOpener)
	}{
		{"CreatePlan", testCreatePlan},
		{"CreatePlanInvalid", testCreatePlanInvalid},
		{"RevisePlan", testRevisePlan},
		{"ListPlans", testListPlans},
		{"PlanTargets", testPlanTargets},
		{"Approvals", testApprovals},
		{"ApprovalsInvalid", testApprovalsInvalid},
		{"CreateRun", testCreateRun},
		{"CreateRunInvalid", testCreateRunInvalid},
		{"ClaimItems", testClaimItems},
		{"ClaimConcurrent", testClaimConcurrent},
		{"RecordItems", testRecordItems},
		{"RecordItemsInvalid", testRecordItemsInvalid},
		{"UpdateRun", testUpdateRun},
		{"Rollback", testRollback},
		{"ListItems", testListItems},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// planHash is a well-formed plan hash; the store checks the form, the
// planner computes the value.
func planHash(v int) string { return strings.Repeat(fmt.Sprintf("%02x", v), 32) }

// newPlan returns a valid plan with two steps: revoke sessions and require
// step-up for compromised accounts, block the sources.
func newPlan(incidentID int64) *firebreak.Plan {
	return &firebreak.Plan{IncidentID: incidentID, Author: "alice", Hash: planHash(1),
		Spec: firebreak.PlanSpec{Steps: []firebreak.PlanStep{
			{Select: firebreak.Selector{Tier: firebreak.TierCompromised},
				Actions: []firebreak.ActionKind{firebreak.ActionRevokeSessions, firebreak.ActionStepUp}},
			{Select: firebreak.Selector{Sources: true}, Actions: []firebreak.ActionKind{firebreak.ActionBlockSource},
				Duration: firebreak.Duration{Duration: 24 * time.Hour}},
		}, Stages: []float64{0.1, 1}, HaltErrorRate: 0.05, Note: "contain the stuffing campaign"},
		Preview: firebreak.Preview{Actions: []firebreak.ActionPreview{{Action: firebreak.ActionRevokeSessions, Count: 2}},
			Accounts: 2, StageSizes: []int64{1, 4}, NeedsApproval: true, Why: "more than 1 account"}}
}

// planTargets returns n targets of newPlan: accounts alternating revoke
// sessions (irreversible) and step-up (reversible), the last one a block.
func planTargets(n int) []firebreak.PlanTarget {
	out := make([]firebreak.PlanTarget, n)
	for i := range out {
		t := firebreak.PlanTarget{Seq: int64(i), Step: 0, Action: firebreak.ActionRevokeSessions,
			Target: fmt.Sprintf("u%d", i/2), Tier: firebreak.TierCompromised, Confidence: 0.9}
		if i%2 == 1 {
			t.Action = firebreak.ActionStepUp
		}
		if i == n-1 {
			t = firebreak.PlanTarget{Seq: int64(i), Step: 1, Action: firebreak.ActionBlockSource, Target: "192.0.2.0/24", Source: true}
		}
		out[i] = t
	}
	return out
}

// containment opens a store with one incident and returns both.
func containment(t *testing.T, open ContainmentOpener) (firebreak.ContainmentService, int64) {
	t.Helper()
	s, incidents := open(t)
	return s, create(t, incidents).ID
}

// createPlan stores newPlan with n targets.
func createPlan(t *testing.T, s firebreak.ContainmentService, incidentID int64, n int) *firebreak.Plan {
	t.Helper()
	p := newPlan(incidentID)
	if err := s.CreatePlan(context.Background(), p, planTargets(n)); err != nil {
		t.Fatalf("CreatePlan: %v", err)
	}
	return p
}

// startRun creates an apply run of plan p's version.
func startRun(t *testing.T, s firebreak.ContainmentService, p *firebreak.Plan) *firebreak.Run {
	t.Helper()
	r := &firebreak.Run{Kind: firebreak.RunApply, PlanID: p.ID, Version: p.Version, Hash: p.Hash, StartedBy: "bob"}
	if err := s.CreateRun(context.Background(), r, 0); err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	return r
}

func findRun(t *testing.T, s firebreak.ContainmentService, id int64) *firebreak.Run {
	t.Helper()
	r, err := s.FindRun(context.Background(), id)
	if err != nil {
		t.Fatalf("FindRun(%d): %v", id, err)
	}
	return r
}

// wantCounts fails t unless run id's counts are want.
func wantCounts(t *testing.T, s firebreak.ContainmentService, id int64, want firebreak.ItemCounts) {
	t.Helper()
	if got := findRun(t, s, id).Counts; got != want {
		t.Fatalf("counts = %+v, want %+v", got, want)
	}
}

func claimItems(t *testing.T, s firebreak.ContainmentService, runID, before int64, limit int) []firebreak.RunItem {
	t.Helper()
	items, err := s.ClaimItems(context.Background(), runID, before, limit, t0)
	if err != nil {
		t.Fatalf("ClaimItems: %v", err)
	}
	return items
}

func seqs[T any](items []T, seq func(T) int64) []int64 {
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = seq(it)
	}
	return out
}

func itemSeq(it firebreak.RunItem) int64 { return it.Seq }

// allItems lists every item of a run in state (all if "") through pages of 3.
func allItems(t *testing.T, s firebreak.ContainmentService, runID int64, state firebreak.ItemState) []firebreak.RunItem {
	t.Helper()
	var out []firebreak.RunItem
	f := firebreak.ItemFilter{State: state, Limit: 3}
	for {
		page, err := s.ListItems(context.Background(), runID, f)
		if err != nil {
			t.Fatalf("ListItems: %v", err)
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		f.Cursor = page.Next
	}
}

func testCreatePlan(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	p := createPlan(t, s, incident, 5)
	if p.ID <= 0 || p.Version != 1 || p.CreatedAt.IsZero() {
		t.Fatalf("CreatePlan set ID %d, Version %d, CreatedAt %v; want a positive ID, version 1 and a time", p.ID, p.Version, p.CreatedAt)
	}
	want := newPlan(incident)
	want.ID, want.Version, want.CreatedAt = p.ID, 1, p.CreatedAt
	for _, v := range []int{0, 1} {
		got, err := s.FindPlan(ctx, p.ID, v)
		if err != nil {
			t.Fatalf("FindPlan(%d, %d): %v", p.ID, v, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("FindPlan(%d, %d) =\n%+v\nwant\n%+v", p.ID, v, got, want)
		}
	}
	targets, err := s.PlanTargets(ctx, p.ID, 1, -1, 0)
	if err != nil || !reflect.DeepEqual(targets, planTargets(5)) {
		t.Fatalf("PlanTargets = %+v, %v; want %+v", targets, err, planTargets(5))
	}
	_, err = s.FindPlan(ctx, p.ID+1, 0)
	wantCode(t, err, firebreak.ENOTFOUND)
	_, err = s.FindPlan(ctx, p.ID, 2)
	wantCode(t, err, firebreak.ENOTFOUND, "version 2")
	err = s.CreatePlan(ctx, newPlan(incident+100), planTargets(2))
	wantCode(t, err, firebreak.ENOTFOUND, "Incident")
}

func testCreatePlanInvalid(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	tests := []struct {
		name  string
		edit  func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget
		field string
	}{
		{"no incident", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget { p.IncidentID = 0; return ts }, "incident_id"},
		{"no author", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget { p.Author = ""; return ts }, "author"},
		{"short hash", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget { p.Hash = "abc"; return ts }, "hash"},
		{"upper-case hash", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			p.Hash = strings.Repeat("AB", 32)
			return ts
		}, "hash"},
		{"empty spec", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			p.Spec.Steps = nil
			return ts
		}, "spec.steps"},
		{"seq out of order", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget { ts[1].Seq = 5; return ts }, "targets[1].seq"},
		{"unknown step", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget { ts[0].Step = 2; return ts }, "targets[0].step"},
		{"action not in step", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			ts[0].Action = firebreak.ActionForceReset
			return ts
		}, "targets[0].action"},
		{"unknown action", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			ts[0].Action = "delete_account"
			return ts
		}, "targets[0].action"},
		{"account action on a source", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			ts[0].Source = true
			return ts
		}, "targets[0].source"},
		{"empty target", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			ts[2].Target = ""
			return ts
		}, "targets[2].target"},
		{"control character", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			ts[2].Target = "u\n1"
			return ts
		}, "targets[2].target"},
		{"unknown tier", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			ts[0].Tier = "clean"
			return ts
		}, "targets[0].tier"},
		{"confidence above 1", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			ts[0].Confidence = 1.5
			return ts
		}, "targets[0].confidence"},
		{"same action twice on a target", func(p *firebreak.Plan, ts []firebreak.PlanTarget) []firebreak.PlanTarget {
			ts[2].Target = ts[0].Target
			return ts
		}, "targets[2].target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlan(incident)
			ts := tt.edit(p, planTargets(5))
			wantField(t, s.CreatePlan(context.Background(), p, ts), tt.field)
		})
	}
	if plans, err := s.ListPlans(context.Background(), 0); err != nil || len(plans) != 0 {
		t.Fatalf("ListPlans after refused creates = %d plans, %v; want none", len(plans), err)
	}
}

func testRevisePlan(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	p := createPlan(t, s, incident, 5)
	v2 := newPlan(0)
	v2.ID, v2.Version, v2.Hash, v2.Author = p.ID, 2, planHash(2), "carol"
	if err := s.RevisePlan(ctx, v2, planTargets(3)); err != nil {
		t.Fatalf("RevisePlan: %v", err)
	}
	if v2.IncidentID != incident || v2.CreatedAt.IsZero() {
		t.Fatalf("RevisePlan set IncidentID %d, CreatedAt %v; want %d and a time", v2.IncidentID, v2.CreatedAt, incident)
	}
	for _, version := range []int{2, 4} {
		stale := newPlan(incident)
		stale.ID, stale.Version, stale.Hash = p.ID, version, planHash(9)
		wantCode(t, s.RevisePlan(ctx, stale, planTargets(2)), firebreak.ECONFLICT, "version 2")
	}
	missing := newPlan(incident)
	missing.ID, missing.Version = p.ID+1, 2
	wantCode(t, s.RevisePlan(ctx, missing, planTargets(2)), firebreak.ENOTFOUND)
	other := newPlan(incident + 1)
	other.ID, other.Version = p.ID, 3
	wantField(t, s.RevisePlan(ctx, other, planTargets(2)), "incident_id")

	latest, err := s.FindPlan(ctx, p.ID, 0)
	if err != nil || latest.Version != 2 || latest.Author != "carol" || latest.Hash != planHash(2) {
		t.Fatalf("FindPlan(latest) = %+v, %v; want version 2 by carol", latest, err)
	}
	v1, err := s.FindPlan(ctx, p.ID, 1)
	if err != nil || v1.Version != 1 || v1.Author != "alice" || v1.Hash != planHash(1) {
		t.Fatalf("FindPlan(1) = %+v, %v; want version 1 by alice, unchanged", v1, err)
	}
	for v, n := range map[int]int{1: 5, 2: 3, 0: 3} {
		got, err := s.PlanTargets(ctx, p.ID, v, -1, 0)
		if err != nil || !reflect.DeepEqual(got, planTargets(n)) {
			t.Errorf("PlanTargets(version %d) = %d targets, %v; want %d", v, len(got), err, n)
		}
	}
}

func testListPlans(t *testing.T, open ContainmentOpener) {
	s, incidents := open(t)
	ctx := context.Background()
	a, b := create(t, incidents).ID, create(t, incidents).ID
	p1, p2, p3 := createPlan(t, s, a, 2), createPlan(t, s, b, 2), createPlan(t, s, a, 2)
	v2 := newPlan(a)
	v2.ID, v2.Version, v2.Hash = p1.ID, 2, planHash(2)
	if err := s.RevisePlan(ctx, v2, planTargets(2)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		incident int64
		want     []int64
	}{{0, []int64{p3.ID, p2.ID, p1.ID}}, {a, []int64{p3.ID, p1.ID}}, {b, []int64{p2.ID}}, {b + 1, []int64{}}}
	for _, tt := range tests {
		plans, err := s.ListPlans(ctx, tt.incident)
		if err != nil {
			t.Fatalf("ListPlans(%d): %v", tt.incident, err)
		}
		if got := seqs(plans, func(p *firebreak.Plan) int64 { return p.ID }); !slices.Equal(got, tt.want) {
			t.Errorf("ListPlans(%d) = plans %v, want %v (newest first)", tt.incident, got, tt.want)
		}
		for _, p := range plans {
			if p.ID == p1.ID && p.Version != 2 {
				t.Errorf("ListPlans gave plan %d at version %d, want its latest, 2", p.ID, p.Version)
			}
		}
	}
}

func testPlanTargets(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	const n = 2501
	p := createPlan(t, s, incident, n)
	var got []firebreak.PlanTarget
	for after := int64(-1); ; {
		page, err := s.PlanTargets(ctx, p.ID, 0, after, firebreak.MaxPageLimit)
		if err != nil {
			t.Fatalf("PlanTargets(after %d): %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		got, after = append(got, page...), page[len(page)-1].Seq
	}
	if !reflect.DeepEqual(got, planTargets(n)) {
		t.Fatalf("paging through PlanTargets gave %d targets, want the %d stored, in seq order", len(got), n)
	}
	if page, err := s.PlanTargets(ctx, p.ID, 1, 10, 0); err != nil || len(page) != firebreak.DefaultPageLimit || page[0].Seq != 11 {
		t.Fatalf("PlanTargets(after 10, limit 0) = %d targets from %v, %v; want %d from seq 11", len(page), seqs(page, func(t firebreak.PlanTarget) int64 { return t.Seq })[:1], err, firebreak.DefaultPageLimit)
	}
	_, err := s.PlanTargets(ctx, p.ID, 0, -1, firebreak.MaxPageLimit+1)
	wantField(t, err, "limit")
	_, err = s.PlanTargets(ctx, p.ID, 0, -2, 0)
	wantField(t, err, "after_seq")
	_, err = s.PlanTargets(ctx, p.ID, 2, -1, 0)
	wantCode(t, err, firebreak.ENOTFOUND)
}

func newApproval(p *firebreak.Plan) *firebreak.Approval {
	return &firebreak.Approval{PlanID: p.ID, Version: p.Version, Hash: p.Hash, Approver: "dave",
		Comment: "Checked the blast radius.\nGo.", ExpiresAt: t0.Add(time.Hour)}
}

func testApprovals(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	p := createPlan(t, s, incident, 3)
	a1 := newApproval(p)
	if err := s.AddApproval(ctx, a1); err != nil {
		t.Fatalf("AddApproval: %v", err)
	}
	if a1.ID <= 0 || a1.CreatedAt.IsZero() {
		t.Fatalf("AddApproval set ID %d, CreatedAt %v", a1.ID, a1.CreatedAt)
	}
	wrong := newApproval(p)
	wrong.Hash = planHash(7)
	wantCode(t, s.AddApproval(ctx, wrong), firebreak.ECONFLICT, "hash")

	v2 := newPlan(incident)
	v2.ID, v2.Version, v2.Hash = p.ID, 2, planHash(2)
	if err := s.RevisePlan(ctx, v2, planTargets(3)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.AddApproval(ctx, newApproval(p)), firebreak.ECONFLICT, "version 2")
	a2 := newApproval(v2)
	a2.Approver, a2.Comment = "erin", ""
	if err := s.AddApproval(ctx, a2); err != nil {
		t.Fatalf("AddApproval(v2): %v", err)
	}
	got, err := s.Approvals(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []firebreak.Approval{*a1, *a2}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Approvals =\n%+v\nwant, oldest first, each bound to its version\n%+v", got, want)
	}
	other := createPlan(t, s, incident, 2)
	if got, err := s.Approvals(ctx, other.ID); err != nil || len(got) != 0 {
		t.Fatalf("Approvals(plan without any) = %v, %v; want none", got, err)
	}
	_, err = s.Approvals(ctx, other.ID+1)
	wantCode(t, err, firebreak.ENOTFOUND)
}

func testApprovalsInvalid(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	p := createPlan(t, s, incident, 3)
	tests := []struct {
		name  string
		edit  func(a *firebreak.Approval)
		field string
	}{
		{"no plan", func(a *firebreak.Approval) { a.PlanID = 0 }, "plan_id"},
		{"no version", func(a *firebreak.Approval) { a.Version = 0 }, "version"},
		{"bad hash", func(a *firebreak.Approval) { a.Hash = "xyz" }, "hash"},
		{"no approver", func(a *firebreak.Approval) { a.Approver = "" }, "approver"},
		{"no expiry", func(a *firebreak.Approval) { a.ExpiresAt = time.Time{} }, "expires_at"},
		{"long comment", func(a *firebreak.Approval) { a.Comment = strings.Repeat("x", firebreak.MaxTextLen+1) }, "comment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApproval(p)
			tt.edit(a)
			wantField(t, s.AddApproval(context.Background(), a), tt.field)
		})
	}
	a := newApproval(p)
	a.PlanID = p.ID + 1
	wantCode(t, s.AddApproval(context.Background(), a), firebreak.ENOTFOUND)
}
