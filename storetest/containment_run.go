package storetest

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"firebreak"
)

// Runs and their items: the ContainmentService suite's second half.

func testCreateRun(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	p := createPlan(t, s, incident, 5)
	r := startRun(t, s, p)
	want := firebreak.Run{ID: r.ID, PlanID: p.ID, IncidentID: incident, Version: 1, Hash: p.Hash,
		Kind: firebreak.RunApply, Spec: p.Spec, State: firebreak.RunRunning, StartedBy: "bob",
		StartedAt: r.StartedAt, UpdatedAt: r.StartedAt, Total: 5, Counts: firebreak.ItemCounts{Pending: 5}}
	if r.ID <= 0 || r.StartedAt.IsZero() || !reflect.DeepEqual(*r, want) {
		t.Fatalf("CreateRun left\n%+v\nwant\n%+v", *r, want)
	}
	if got := findRun(t, s, r.ID); !reflect.DeepEqual(got, r) {
		t.Fatalf("FindRun =\n%+v\nwant\n%+v", got, r)
	}
	items := allItems(t, s, r.ID, "")
	for i, it := range items {
		tg := planTargets(5)[i]
		if it.Seq != tg.Seq || it.Action != tg.Action || it.Target != tg.Target || it.Source != tg.Source ||
			it.State != firebreak.ItemPending || it.Attempts != 0 || !it.SentAt.IsZero() || it.RunID != r.ID {
			t.Errorf("item %d = %+v, want the pending copy of target %+v", i, it, tg)
		}
	}
	if len(items) != 5 {
		t.Fatalf("run has %d items, want 5", len(items))
	}
	paused := &firebreak.Run{Kind: firebreak.RunApply, PlanID: p.ID, Version: 1, Hash: p.Hash, StartedBy: "bob",
		State: firebreak.RunPaused, Spec: firebreak.PlanSpec{Steps: p.Spec.Steps, Stages: []float64{1}}}
	if err := s.CreateRun(ctx, paused, 0); err != nil || paused.State != firebreak.RunPaused || len(paused.Spec.Stages) != 1 {
		t.Fatalf("CreateRun(paused, own spec) = %+v, %v; want it paused with one stage", paused, err)
	}
	runs, err := s.ListRuns(ctx, p.ID)
	if err != nil || len(runs) != 2 || runs[0].ID != paused.ID || runs[1].ID != r.ID {
		t.Fatalf("ListRuns = %d runs, %v; want the two runs, newest first", len(runs), err)
	}
	if runs, err := s.ListRuns(ctx, 0); err != nil || len(runs) != 2 {
		t.Fatalf("ListRuns(0) = %d runs, %v; want 2", len(runs), err)
	}

	v2 := newPlan(incident)
	v2.ID, v2.Version, v2.Hash = p.ID, 2, planHash(2)
	if err := s.RevisePlan(ctx, v2, planTargets(3)); err != nil {
		t.Fatal(err)
	}
	stale := &firebreak.Run{Kind: firebreak.RunApply, PlanID: p.ID, Version: 1, Hash: p.Hash, StartedBy: "bob"}
	wantCode(t, s.CreateRun(ctx, stale, 0), firebreak.ECONFLICT, "version 2")
	wrongHash := &firebreak.Run{Kind: firebreak.RunApply, PlanID: p.ID, Version: 2, Hash: planHash(1), StartedBy: "bob"}
	wantCode(t, s.CreateRun(ctx, wrongHash, 0), firebreak.ECONFLICT, "hash")
	unknown := &firebreak.Run{Kind: firebreak.RunApply, PlanID: p.ID + 1, Version: 1, Hash: p.Hash, StartedBy: "bob"}
	wantCode(t, s.CreateRun(ctx, unknown, 0), firebreak.ENOTFOUND)
	_, err = s.FindRun(ctx, paused.ID+1)
	wantCode(t, err, firebreak.ENOTFOUND)
}

func testCreateRunInvalid(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	p := createPlan(t, s, incident, 3)
	tests := []struct {
		name    string
		edit    func(r *firebreak.Run)
		uptoSeq int64
		field   string
	}{
		{"unknown kind", func(r *firebreak.Run) { r.Kind = "dry_run" }, 0, "kind"},
		{"no starter", func(r *firebreak.Run) { r.StartedBy = "" }, 0, "started_by"},
		{"finished at start", func(r *firebreak.Run) { r.State = firebreak.RunFinished }, 0, "state"},
		{"no version", func(r *firebreak.Run) { r.Version = 0 }, 0, "version"},
		{"apply with rollback_of", func(r *firebreak.Run) { r.RollbackOf = 1 }, 0, "rollback_of"},
		{"rollback without rollback_of", func(r *firebreak.Run) { r.Kind = firebreak.RunRollback }, 0, "rollback_of"},
		{"upto_seq on an apply", func(r *firebreak.Run) {}, 2, "upto_seq"},
		{"bad spec", func(r *firebreak.Run) {
			r.Spec = p.Spec
			r.Spec.Stages = []float64{0.5, 0.2, 1}
		}, 0, "spec.stages[1]"},
		{"incident of another plan", func(r *firebreak.Run) { r.IncidentID = incident + 1 }, 0, "incident_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &firebreak.Run{Kind: firebreak.RunApply, PlanID: p.ID, Version: p.Version, Hash: p.Hash, StartedBy: "bob"}
			tt.edit(r)
			wantField(t, s.CreateRun(context.Background(), r, tt.uptoSeq), tt.field)
		})
	}
	if runs, err := s.ListRuns(context.Background(), 0); err != nil || len(runs) != 0 {
		t.Fatalf("ListRuns after refused runs = %d runs, %v; want none", len(runs), err)
	}
}

func testClaimItems(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	p := createPlan(t, s, incident, 10)
	r := startRun(t, s, p)
	at := t0.Add(time.Minute)
	items, err := s.ClaimItems(ctx, r.ID, 4, 3, at)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(items, itemSeq); !slices.Equal(got, []int64{0, 1, 2}) {
		t.Fatalf("first claim = seqs %v, want [0 1 2] (lowest first)", got)
	}
	for _, it := range items {
		if it.State != firebreak.ItemSent || !it.SentAt.Equal(at) || it.Attempts != 1 || it.RunID != r.ID ||
			it.Target != planTargets(10)[it.Seq].Target || it.Action != planTargets(10)[it.Seq].Action {
			t.Errorf("claimed item = %+v, want it sent at %v, attempt 1, with its target", it, at)
		}
	}
	if got := seqs(claimItems(t, s, r.ID, 4, 3), itemSeq); !slices.Equal(got, []int64{3}) {
		t.Fatalf("second claim below seq 4 = %v, want [3] only", got)
	}
	if got := claimItems(t, s, r.ID, 4, 3); len(got) != 0 {
		t.Fatalf("claim with nothing pending below seq 4 = %v, want none", seqs(got, itemSeq))
	}
	wantCounts(t, s, r.ID, firebreak.ItemCounts{Pending: 6, Sent: 4})
	// An item sent back to pending is claimed again first, with attempts 2.
	if err := s.RecordItems(ctx, r.ID, []firebreak.ItemResult{{Seq: 1, State: firebreak.ItemPending, Reason: "HTTP 429"}}); err != nil {
		t.Fatal(err)
	}
	again := claimItems(t, s, r.ID, 100, 2)
	if got := seqs(again, itemSeq); !slices.Equal(got, []int64{1, 4}) || again[0].Attempts != 2 {
		t.Fatalf("claim after a return = %v (attempts %d), want [1 4] with seq 1 at attempt 2", got, again[0].Attempts)
	}
	if sent := allItems(t, s, r.ID, firebreak.ItemSent); len(sent) != 5 || sent[1].Reason != "" {
		t.Fatalf("sent items = %+v, want 5, the reclaimed one with its reason cleared", sent)
	}
	wantCounts(t, s, r.ID, firebreak.ItemCounts{Pending: 5, Sent: 5})

	_, err = s.ClaimItems(ctx, r.ID, 0, 3, at)
	wantField(t, err, "before_seq")
	_, err = s.ClaimItems(ctx, r.ID, 10, 0, at)
	wantField(t, err, "limit")
	_, err = s.ClaimItems(ctx, r.ID+1, 10, 1, at)
	wantCode(t, err, firebreak.ENOTFOUND)
	for _, state := range []firebreak.RunState{firebreak.RunPaused, firebreak.RunHalted, firebreak.RunKilled} {
		r.State = state
		if err := s.UpdateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		_, err = s.ClaimItems(ctx, r.ID, 10, 1, at)
		wantCode(t, err, firebreak.ECONFLICT, string(state))
	}
	wantCounts(t, s, r.ID, firebreak.ItemCounts{Pending: 5, Sent: 5})
}

// testClaimConcurrent claims from several goroutines at once: every item
// is handed out exactly once.
func testClaimConcurrent(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	const n = 301
	r := startRun(t, s, createPlan(t, s, incident, n))
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				items, err := s.ClaimItems(context.Background(), r.ID, n, 7, t0)
				if err != nil {
					t.Error(err)
					return
				}
				if len(items) == 0 {
					return
				}
				mu.Lock()
				for _, it := range items {
					seen[it.Seq]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for seq := range int64(n) {
		if seen[seq] != 1 {
			t.Errorf("item %d claimed %d times, want once", seq, seen[seq])
		}
	}
	wantCounts(t, s, r.ID, firebreak.ItemCounts{Sent: n})
}

func testRecordItems(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	r := startRun(t, s, createPlan(t, s, incident, 6))
	claimItems(t, s, r.ID, 6, 5)
	results := []firebreak.ItemResult{
		{Seq: 3, State: firebreak.ItemConfirmed, Attempts: 3},
		{Seq: 0, State: firebreak.ItemConfirmed, Reason: "already in place (observed)"},
		{Seq: 1, State: firebreak.ItemFailed, Reason: "HTTP 500 after 3 attempts", Attempts: 3},
		{Seq: 2, State: firebreak.ItemSkipped, Reason: "unknown account"},
		{Seq: 4, State: firebreak.ItemPending, Reason: "HTTP 429"},
	}
	if err := s.RecordItems(ctx, r.ID, results); err != nil {
		t.Fatalf("RecordItems: %v", err)
	}
	wantCounts(t, s, r.ID, firebreak.ItemCounts{Pending: 2, Confirmed: 2, Failed: 1, Skipped: 1})
	items := allItems(t, s, r.ID, "")
	want := []struct {
		state    firebreak.ItemState
		reason   string
		attempts int
		sent     bool
	}{
		{firebreak.ItemConfirmed, "already in place (observed)", 1, true},
		{firebreak.ItemFailed, "HTTP 500 after 3 attempts", 3, true},
		{firebreak.ItemSkipped, "unknown account", 1, true},
		{firebreak.ItemConfirmed, "", 3, true},
		{firebreak.ItemPending, "HTTP 429", 1, false},
		{firebreak.ItemPending, "", 0, false},
	}
	for i, it := range items {
		w := want[i]
		if it.State != w.state || it.Reason != w.reason || it.Attempts != w.attempts || it.SentAt.IsZero() == w.sent {
			t.Errorf("item %d = %+v, want state %s, reason %q, attempts %d, sent time %t", i, it, w.state, w.reason, w.attempts, w.sent)
		}
	}
	if err := s.RecordItems(ctx, r.ID, nil); err != nil {
		t.Fatalf("RecordItems(none) = %v, want nil", err)
	}
	// Outcomes of items in flight are taken after a kill.
	claimItems(t, s, r.ID, 6, 1)
	r.State = firebreak.RunKilled
	if err := s.UpdateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordItems(ctx, r.ID, []firebreak.ItemResult{{Seq: 4, State: firebreak.ItemConfirmed}}); err != nil {
		t.Fatalf("RecordItems on a killed run: %v", err)
	}
	wantCounts(t, s, r.ID, firebreak.ItemCounts{Pending: 1, Confirmed: 3, Failed: 1, Skipped: 1})
}

func testRecordItemsInvalid(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	r := startRun(t, s, createPlan(t, s, incident, 6))
	claimItems(t, s, r.ID, 6, 3) // 0, 1, 2 sent
	if err := s.RecordItems(ctx, r.ID, []firebreak.ItemResult{{Seq: 0, State: firebreak.ItemConfirmed}}); err != nil {
		t.Fatal(err)
	}
	ok := firebreak.ItemResult{Seq: 1, State: firebreak.ItemConfirmed}
	tests := []struct {
		name    string
		results []firebreak.ItemResult
		field   string
	}{
		{"already recorded", []firebreak.ItemResult{ok, {Seq: 0, State: firebreak.ItemConfirmed}}, "results[1]"},
		{"never claimed", []firebreak.ItemResult{ok, {Seq: 4, State: firebreak.ItemConfirmed}}, "results[1]"},
		{"no such item", []firebreak.ItemResult{ok, {Seq: 99, State: firebreak.ItemConfirmed}}, "results[1]"},
		{"negative seq", []firebreak.ItemResult{{Seq: -1, State: firebreak.ItemConfirmed}}, "results[0]"},
		{"failed without reason", []firebreak.ItemResult{ok, {Seq: 2, State: firebreak.ItemFailed}}, "results[1].reason"},
		{"skipped without reason", []firebreak.ItemResult{{Seq: 2, State: firebreak.ItemSkipped}}, "results[0].reason"},
		{"back to sent", []firebreak.ItemResult{{Seq: 2, State: firebreak.ItemSent}}, "results[0].state"},
		{"unknown state", []firebreak.ItemResult{{Seq: 2, State: "done"}}, "results[0].state"},
		{"repeated item", []firebreak.ItemResult{ok, ok}, "results[1].seq"},
		{"negative attempts", []firebreak.ItemResult{{Seq: 2, State: firebreak.ItemConfirmed, Attempts: -1}}, "results[0].attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, s.RecordItems(ctx, r.ID, tt.results), tt.field)
			// Nothing is half-applied: item 1 is still sent.
			wantCounts(t, s, r.ID, firebreak.ItemCounts{Pending: 3, Sent: 2, Confirmed: 1})
		})
	}
	wantCode(t, s.RecordItems(ctx, r.ID+1, []firebreak.ItemResult{ok}), firebreak.ENOTFOUND)
}

func testUpdateRun(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	r := startRun(t, s, createPlan(t, s, incident, 4))
	steps := []struct {
		state  firebreak.RunState
		stage  int
		reason string
	}{
		{firebreak.RunPaused, 0, "waiting at a manual stage"},
		{firebreak.RunRunning, 1, ""},
		{firebreak.RunHalted, 1, "error rate 0.2 above 0.05"},
		{firebreak.RunRunning, 1, "resumed by bob"},
	}
	for i, st := range steps {
		upd := *r
		upd.State, upd.Stage, upd.Reason, upd.UpdatedAt = st.state, st.stage, st.reason, t0.Add(time.Duration(i+1)*time.Minute)
		if err := s.UpdateRun(ctx, &upd); err != nil {
			t.Fatalf("UpdateRun(%s): %v", st.state, err)
		}
		got := findRun(t, s, r.ID)
		if got.State != st.state || got.Stage != st.stage || got.Reason != st.reason || !got.UpdatedAt.Equal(upd.UpdatedAt) || !got.FinishedAt.IsZero() {
			t.Fatalf("after UpdateRun(%s) the run is %+v", st.state, got)
		}
	}
	bad := []struct {
		name  string
		edit  func(r *firebreak.Run)
		field string
	}{
		{"unknown state", func(r *firebreak.Run) { r.State = "done" }, "state"},
		{"stage past the last", func(r *firebreak.Run) { r.Stage = 2 }, "stage"},
		{"negative stage", func(r *firebreak.Run) { r.Stage = -1 }, "stage"},
		{"finished_at while running", func(r *firebreak.Run) { r.FinishedAt = t0 }, "finished_at"},
	}
	for _, tt := range bad {
		upd := *findRun(t, s, r.ID)
		tt.edit(&upd)
		wantField(t, s.UpdateRun(ctx, &upd), tt.field)
	}
	upd := *r
	upd.ID = r.ID + 1
	wantCode(t, s.UpdateRun(ctx, &upd), firebreak.ENOTFOUND)

	end := t0.Add(time.Hour)
	upd = *findRun(t, s, r.ID)
	upd.State, upd.Reason, upd.UpdatedAt = firebreak.RunKilled, "kill switch", end
	if err := s.UpdateRun(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	if got := findRun(t, s, r.ID); got.State != firebreak.RunKilled || !got.FinishedAt.Equal(end) {
		t.Fatalf("killed run = %+v, want killed, finished at %v", got, end)
	}
	for _, state := range []firebreak.RunState{firebreak.RunRunning, firebreak.RunFinished} {
		upd.State, upd.FinishedAt = state, time.Time{}
		wantCode(t, s.UpdateRun(ctx, &upd), firebreak.ECONFLICT, "killed")
	}
}

func testRollback(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	// Seqs 0..8: even revoke sessions (irreversible), odd step-up, 9 a block.
	p := createPlan(t, s, incident, 10)
	apply := startRun(t, s, p)
	claimItems(t, s, apply.ID, 10, 10)
	var results []firebreak.ItemResult
	for seq := range int64(10) {
		r := firebreak.ItemResult{Seq: seq, State: firebreak.ItemConfirmed}
		if seq == 3 {
			r = firebreak.ItemResult{Seq: seq, State: firebreak.ItemFailed, Reason: "HTTP 500"}
		}
		results = append(results, r)
	}
	if err := s.RecordItems(ctx, apply.ID, results); err != nil {
		t.Fatal(err)
	}
	rollback := func() *firebreak.Run {
		return &firebreak.Run{Kind: firebreak.RunRollback, RollbackOf: apply.ID, StartedBy: "bob", Reason: "false positive"}
	}
	wantCode(t, s.CreateRun(ctx, rollback(), 0), firebreak.ECONFLICT, "running")
	apply.State = firebreak.RunFinished
	if err := s.UpdateRun(ctx, apply); err != nil {
		t.Fatal(err)
	}

	full := rollback()
	if err := s.CreateRun(ctx, full, 0); err != nil {
		t.Fatalf("CreateRun(rollback): %v", err)
	}
	if full.PlanID != p.ID || full.Version != 1 || full.Hash != p.Hash || full.IncidentID != incident ||
		full.State != firebreak.RunRunning || full.Total != 4 || full.Counts != (firebreak.ItemCounts{Pending: 4}) ||
		!reflect.DeepEqual(full.Spec, p.Spec) {
		t.Fatalf("rollback run = %+v, want plan %d version 1, 4 pending items", full, p.ID)
	}
	items := allItems(t, s, full.ID, "")
	if got := seqs(items, itemSeq); !slices.Equal(got, []int64{1, 5, 7, 9}) {
		// 3 failed; even seqs revoke sessions, which cannot be undone.
		t.Errorf("rollback items = seqs %v, want [1 5 7 9]", got)
	}
	if len(items) != int(full.Total) {
		t.Errorf("rollback lists %d items, total %d", len(items), full.Total)
	}
	for _, it := range items {
		if it.Action != planTargets(10)[it.Seq].Action || it.State != firebreak.ItemPending || it.Target != planTargets(10)[it.Seq].Target {
			t.Errorf("rollback item %+v, want the original action and target, pending", it)
		}
	}
	// Claims of a rollback take its seqs, gaps and all.
	if got := seqs(claimItems(t, s, full.ID, 1<<62, 3), itemSeq); !slices.Equal(got, []int64{1, 5, 7}) {
		t.Errorf("rollback claim = %v, want [1 5 7]", got)
	}

	partial := rollback()
	if err := s.CreateRun(ctx, partial, 6); err != nil {
		t.Fatalf("CreateRun(rollback below 6): %v", err)
	}
	if got := seqs(allItems(t, s, partial.ID, ""), itemSeq); !slices.Equal(got, []int64{1, 5}) || partial.Total != 2 {
		t.Errorf("partial rollback items = %v (total %d), want [1 5]", got, partial.Total)
	}
	wantCode(t, s.CreateRun(ctx, rollback(), 1), firebreak.ECONFLICT, "nothing to roll back")
	ofRollback := &firebreak.Run{Kind: firebreak.RunRollback, RollbackOf: full.ID, StartedBy: "bob"}
	wantCode(t, s.CreateRun(ctx, ofRollback, 0), firebreak.ECONFLICT, "rollback")
	missing := &firebreak.Run{Kind: firebreak.RunRollback, RollbackOf: partial.ID + 1, StartedBy: "bob"}
	wantCode(t, s.CreateRun(ctx, missing, 0), firebreak.ENOTFOUND)
	t.Run("For", func(t *testing.T) { testRollbackFor(t, s, apply.ID, rollback) })
}

// testRollbackFor checks CreateRollbackFor on the finished apply run of
// testRollback: only the confirmed, reversible items of the targets and
// actions asked for.
func testRollbackFor(t *testing.T, s firebreak.ContainmentService, applyID int64, rollback func() *firebreak.Run) {
	ctx := context.Background()
	items := allItems(t, s, applyID, firebreak.ItemConfirmed)
	byAction := map[firebreak.ActionKind][]firebreak.RunItem{}
	for _, it := range items {
		byAction[it.Action] = append(byAction[it.Action], it)
	}
	// Pick one reversible confirmed item; ask for its target with every
	// action: only the reversible one on that target comes back.
	var pick firebreak.RunItem
	for _, it := range items {
		if info, _ := it.Action.Info(); info.Reversible && !it.Source {
			pick = it
			break
		}
	}
	if pick.Target == "" {
		t.Fatal("no reversible confirmed account item to roll back")
	}
	r := rollback()
	if err := s.CreateRollbackFor(ctx, r, []string{pick.Target, "nobody"}, firebreak.ActionKinds); err != nil {
		t.Fatalf("CreateRollbackFor: %v", err)
	}
	got := allItems(t, s, r.ID, "")
	for _, it := range got {
		if it.Target != pick.Target {
			t.Errorf("item %+v is not on target %s", it, pick.Target)
		}
		if info, _ := it.Action.Info(); !info.Reversible {
			t.Errorf("item %+v cannot be undone", it)
		}
	}
	if len(got) == 0 || r.Total != int64(len(got)) || r.Kind != firebreak.RunRollback || r.RollbackOf != applyID {
		t.Fatalf("CreateRollbackFor made %+v with %d items; want a rollback of run %d with the items of %s", r, len(got), applyID, pick.Target)
	}
	// Another action on the same target selects nothing.
	other := firebreak.ActionForceReset
	if pick.Action == other {
		other = firebreak.ActionStepUp
	}
	wantCode(t, s.CreateRollbackFor(ctx, rollback(), []string{pick.Target}, []firebreak.ActionKind{other}), firebreak.ECONFLICT, "nothing to roll back")
	wantCode(t, s.CreateRollbackFor(ctx, rollback(), []string{pick.Target}, []firebreak.ActionKind{firebreak.ActionRevokeSessions}), firebreak.ECONFLICT)
	wantField(t, s.CreateRollbackFor(ctx, rollback(), nil, firebreak.ActionKinds), "targets")
	wantField(t, s.CreateRollbackFor(ctx, rollback(), []string{pick.Target}, nil), "actions")
	wantField(t, s.CreateRollbackFor(ctx, rollback(), []string{pick.Target}, []firebreak.ActionKind{"explode"}), "actions[0]")
	apply := &firebreak.Run{Kind: firebreak.RunApply, StartedBy: "bob", PlanID: 1, Version: 1}
	wantField(t, s.CreateRollbackFor(ctx, apply, []string{pick.Target}, firebreak.ActionKinds), "kind")
}

func testListItems(t *testing.T, open ContainmentOpener) {
	s, incident := containment(t, open)
	ctx := context.Background()
	p := createPlan(t, s, incident, 20)
	r, other := startRun(t, s, p), startRun(t, s, p)
	claimItems(t, s, r.ID, 20, 12)
	var results []firebreak.ItemResult
	for seq := range int64(10) {
		res := firebreak.ItemResult{Seq: seq, State: firebreak.ItemConfirmed}
		switch seq % 5 {
		case 1:
			res = firebreak.ItemResult{Seq: seq, State: firebreak.ItemFailed, Reason: "HTTP 500"}
		case 2:
			res = firebreak.ItemResult{Seq: seq, State: firebreak.ItemSkipped, Reason: "unknown account"}
		}
		results = append(results, res)
	}
	if err := s.RecordItems(ctx, r.ID, results); err != nil {
		t.Fatal(err)
	}
	want := map[firebreak.ItemState][]int64{
		"":                      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19},
		firebreak.ItemConfirmed: {0, 3, 4, 5, 8, 9},
		firebreak.ItemFailed:    {1, 6},
		firebreak.ItemSkipped:   {2, 7},
		firebreak.ItemSent:      {10, 11},
		firebreak.ItemPending:   {12, 13, 14, 15, 16, 17, 18, 19},
	}
	for state, w := range want {
		if got := seqs(allItems(t, s, r.ID, state), itemSeq); !slices.Equal(got, w) {
			t.Errorf("ListItems(%q) = %v, want %v", state, got, w)
		}
	}
	if got := allItems(t, s, other.ID, firebreak.ItemPending); len(got) != 20 {
		t.Errorf("the other run lists %d pending items, want 20 (runs do not share items)", len(got))
	}
	page, err := s.ListItems(ctx, r.ID, firebreak.ItemFilter{})
	if err != nil || len(page.Items) != 20 || page.Next != "" {
		t.Fatalf("ListItems(default limit) = %d items, next %q, %v; want all 20 on one page", len(page.Items), page.Next, err)
	}
	first, err := s.ListItems(ctx, r.ID, firebreak.ItemFilter{State: firebreak.ItemConfirmed, Limit: 2})
	if err != nil || first.Next == "" {
		t.Fatal(err)
	}
	bad := []struct {
		name   string
		runID  int64
		filter firebreak.ItemFilter
		field  string
	}{
		{"unknown state", r.ID, firebreak.ItemFilter{State: "done"}, "state"},
		{"limit too large", r.ID, firebreak.ItemFilter{Limit: firebreak.MaxPageLimit + 1}, "limit"},
		{"negative limit", r.ID, firebreak.ItemFilter{Limit: -1}, "limit"},
		{"garbage cursor", r.ID, firebreak.ItemFilter{Cursor: "!!"}, "cursor"},
		{"cursor of another state", r.ID, firebreak.ItemFilter{State: firebreak.ItemFailed, Cursor: first.Next}, "cursor"},
		{"cursor of another run", other.ID, firebreak.ItemFilter{State: firebreak.ItemConfirmed, Cursor: first.Next}, "cursor"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.ListItems(ctx, tt.runID, tt.filter)
			wantField(t, err, tt.field)
		})
	}
	_, err = s.ListItems(ctx, other.ID+1, firebreak.ItemFilter{})
	wantCode(t, err, firebreak.ENOTFOUND)
}
