package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/sqlite"
	"firebreak/storetest"
)

func TestStatusStore(t *testing.T) {
	storetest.TestStatusService(t, func(t *testing.T, now func() time.Time) (firebreak.StatusService, firebreak.IncidentService) {
		db := openDB(t)
		db.Now = now
		return sqlite.NewStatusStore(db), sqlite.NewIncidentStore(db)
	})
}

// TestStatusTokenHashed checks that a subscription token is stored only as
// its hash, and that a confirmed subscription survives a restart.
func TestStatusTokenHashed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firebreak.db")
	db := openDBAt(t, path)
	ctx := context.Background()
	sub := &firebreak.Subscription{Kind: firebreak.SubscribeEmail, Target: "ops@example.com"}
	if err := sqlite.NewStatusStore(db).Subscribe(ctx, sub); err != nil {
		t.Fatal(err)
	}
	var row string
	if err := sqlite.ReadPool(db).QueryRow(`SELECT kind || target || token_hash || created_at FROM status_subscriptions`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, sub.Token) {
		t.Fatalf("the stored row %q holds the token in plain text", row)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := sqlite.NewStatusStore(openDBAt(t, path))
	if got, err := s.Confirm(ctx, sub.Token); err != nil || got.ID != sub.ID {
		t.Fatalf("Confirm after restart = %+v, %v; want subscription %d", got, err, sub.ID)
	}
}

// TestStatusSchemaChecks checks that the schema refuses rows the Go
// validation would never let through.
func TestStatusSchemaChecks(t *testing.T) {
	db := openDB(t)
	w := sqlite.WritePool(db)
	const at = "2026-03-02T09:00:00.000000000Z"
	insert := `INSERT INTO status_updates (thread, incident_id, phase, title, body, author, published_at, next_update_by)
		VALUES (?, ?, ?, 't', 'b', 'alice', ?, ?)`
	if _, err := w.Exec(insert, 0, nil, "investigating", at, at); err != nil {
		t.Fatalf("a valid row was refused: %v", err)
	}
	tests := []struct {
		name  string
		query string
		args  []any
	}{
		{"unknown phase", insert, []any{0, nil, "fixed", at, at}},
		{"open without a promise", insert, []any{0, nil, "monitoring", at, nil}},
		{"resolved with a promise", insert, []any{0, nil, "resolved", at, at}},
		{"unknown incident", insert, []any{99, 99, "investigating", at, at}},
		{"thread is not the incident", insert, []any{0, 1, "investigating", at, at}},
		{"short token hash", `INSERT INTO status_subscriptions (kind, target, token_hash, created_at) VALUES ('email', 'a@example.com', 'abc', ?)`, []any{at}},
		{"unknown kind", `INSERT INTO status_subscriptions (kind, target, token_hash, created_at) VALUES ('sms', '1', ?, ?)`, []any{strings.Repeat("a", 64), at}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.Exec(tt.query, tt.args...); err == nil {
				t.Fatal("the schema accepted the row")
			}
		})
	}
}

// FuzzStatusCursor feeds arbitrary cursors to History: the store must answer
// with a page or EINVALID, never another error or a panic.
func FuzzStatusCursor(f *testing.F) {
	db := openDB(f)
	s, ctx := sqlite.NewStatusStore(db), context.Background()
	for i := range 3 {
		u := &firebreak.StatusUpdate{Phase: firebreak.PhaseResolved, Title: "t", Body: "b", Author: "alice"}
		if err := s.Publish(ctx, u); err != nil {
			f.Fatal(i, err)
		}
	}
	page, err := s.History(ctx, firebreak.StatusFilter{Limit: 1})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{page.Next, "", "c3RhdHVzOjA", "c3RhdHVzOi0x", "!!"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, c string) {
		_, err := s.History(ctx, firebreak.StatusFilter{Cursor: c})
		if code := firebreak.ErrorCode(err); err != nil && code != firebreak.EINVALID {
			t.Fatalf("History(cursor %q) = %v, want a page or EINVALID", c, err)
		}
	})
}
