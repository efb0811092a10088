package sqlite_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"firebreak"
	"firebreak/sqlite"
	"firebreak/storetest"
)

func TestContainmentStore(t *testing.T) {
	storetest.TestContainmentService(t, func(t *testing.T) (firebreak.ContainmentService, firebreak.IncidentService) {
		db := openDB(t)
		return sqlite.NewContainmentStore(db), sqlite.NewIncidentStore(db)
	})
}

// containmentFixture opens a store on path with one incident, a plan of n
// targets (revoke sessions) and a running apply run of it.
func containmentFixture(t testing.TB, db *sqlite.DB, n int) (*sqlite.ContainmentStore, *firebreak.Run) {
	t.Helper()
	ctx := context.Background()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "t", FirstSeen: fixedNow, LastSeen: fixedNow}
	if err := sqlite.NewIncidentStore(db).Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	s := sqlite.NewContainmentStore(db)
	p := benchPlan(inc.ID)
	if err := s.CreatePlan(ctx, p, benchPlanTargets(n)); err != nil {
		t.Fatal(err)
	}
	r := &firebreak.Run{Kind: firebreak.RunApply, PlanID: p.ID, Version: p.Version, Hash: p.Hash, StartedBy: "bob"}
	if err := s.CreateRun(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	return s, r
}

// TestContainmentRestart checks that claims and outcomes survive closing
// and reopening the file: an item claimed before a crash is found sent.
func TestContainmentRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firebreak.db")
	db := openDBAt(t, path)
	s, r := containmentFixture(t, db, 10)
	ctx := context.Background()
	if _, err := s.ClaimItems(ctx, r.ID, 10, 4, fixedNow); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordItems(ctx, r.ID, []firebreak.ItemResult{{Seq: 0, State: firebreak.ItemConfirmed}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s = sqlite.NewContainmentStore(openDBAt(t, path))
	got, err := s.FindRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (firebreak.ItemCounts{Pending: 6, Sent: 3, Confirmed: 1}); got.Counts != want {
		t.Fatalf("counts after reopen = %+v, want %+v", got.Counts, want)
	}
	page, err := s.ListItems(ctx, r.ID, firebreak.ItemFilter{State: firebreak.ItemSent})
	if err != nil || len(page.Items) != 3 || page.Items[0].Seq != 1 || !page.Items[0].SentAt.Equal(fixedNow) {
		t.Fatalf("sent items after reopen = %+v, %v; want seqs 1-3 sent at %v", page, err, fixedNow)
	}
	// Claims go on after the last claim, not from the start.
	items, err := s.ClaimItems(ctx, r.ID, 10, 2, fixedNow)
	if err != nil || len(items) != 2 || items[0].Seq != 4 {
		t.Fatalf("claim after reopen = %+v, %v; want seqs 4 and 5", items, err)
	}
}

// TestContainmentSchemaChecks checks that the schema refuses rows the Go
// validation never lets through, so that a bug in a later store method
// cannot corrupt runs.
func TestContainmentSchemaChecks(t *testing.T) {
	db := openDB(t)
	_, r := containmentFixture(t, db, 3)
	w := sqlite.WritePool(db)
	tests := []struct {
		name  string
		query string
	}{
		{"counts that do not add up", `UPDATE runs SET pending = pending + 1 WHERE id = ?`},
		{"negative count", `UPDATE runs SET pending = -1, sent = sent + pending + 1 WHERE id = ?`},
		{"unknown run state", `UPDATE runs SET state = 'done' WHERE id = ?`},
		{"killed without finished_at", `UPDATE runs SET state = 'killed' WHERE id = ?`},
		{"unknown item state", `UPDATE run_items SET state = 'done' WHERE run_id = ?`},
		{"failed without reason", `UPDATE run_items SET state = 'failed', reason = '' WHERE run_id = ?`},
		{"item of no run", `UPDATE run_items SET run_id = ? + 100`},
		{"unknown action", `UPDATE plan_targets SET action = 'delete_account' WHERE plan_id = (SELECT plan_id FROM runs WHERE id = ?)`},
		{"bad hash", `UPDATE plan_versions SET hash = 'x' WHERE plan_id = (SELECT plan_id FROM runs WHERE id = ?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.Exec(tt.query, r.ID); err == nil {
				t.Fatal("the schema accepted the change")
			}
		})
	}
}

// TestContainmentPlanLarge stores a plan of more targets than one INSERT
// holds and checks the batch edges.
func TestContainmentPlanLarge(t *testing.T) {
	db := openDB(t)
	const n = 1000 // several full batches and a partial one
	s, r := containmentFixture(t, db, n)
	ctx := context.Background()
	want := benchPlanTargets(n)
	for _, after := range []int64{-1, 254, 255, 256, 511, 998} {
		got, err := s.PlanTargets(ctx, r.PlanID, 0, after, 3)
		if err != nil || len(got) == 0 || got[0] != want[after+1] {
			t.Fatalf("PlanTargets(after %d) = %+v, %v; want from %+v", after, got, err, want[after+1])
		}
	}
	if r.Total != n {
		t.Fatalf("run total = %d, want %d", r.Total, n)
	}
}

// FuzzItemCursor feeds arbitrary cursors to ListItems: the store must
// answer with a page or EINVALID, never another error or a panic.
func FuzzItemCursor(f *testing.F) {
	db := openDB(f)
	s, r := containmentFixture(f, db, 5)
	ctx := context.Background()
	page, err := s.ListItems(ctx, r.ID, firebreak.ItemFilter{Limit: 2})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{page.Next, "", "e30", "!!",
		base64.RawURLEncoding.EncodeToString([]byte(`{"l":"items","r":1,"q":-5}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"l":"items","r":1,"q":9223372036854775807}`)),
		strings.Repeat("A", 2000)} {
		f.Add(seed, "")
	}
	f.Add(page.Next, "failed")
	f.Fuzz(func(t *testing.T, c, state string) {
		page, err := s.ListItems(ctx, r.ID, firebreak.ItemFilter{Cursor: c, State: firebreak.ItemState(state)})
		if code := firebreak.ErrorCode(err); err != nil && code != firebreak.EINVALID {
			t.Fatalf("ListItems(cursor %q, state %q) = %v, want a page or EINVALID", c, state, err)
		}
		if err == nil && len(page.Items) > firebreak.DefaultPageLimit {
			t.Fatalf("ListItems gave %d items", len(page.Items))
		}
	})
}
