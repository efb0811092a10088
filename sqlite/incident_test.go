package sqlite_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"testing"
	"time"

	"firebreak"
	"firebreak/sqlite"
	"firebreak/storetest"
)

func TestIncidentStore(t *testing.T) {
	storetest.TestIncidentService(t, func(t *testing.T) firebreak.IncidentService {
		return sqlite.NewIncidentStore(openDB(t))
	})
}

// TestIncidentStoreRestart closes and reopens the database file between
// writing and reading.
func TestIncidentStoreRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firebreak.db")
	var db *sqlite.DB
	storetest.TestIncidentRestart(t, func(t *testing.T) firebreak.IncidentService {
		if db != nil {
			if err := db.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		db = openDBAt(t, path)
		return sqlite.NewIncidentStore(db)
	})
}

// TestIncidentStoreClock checks that every write takes its time from the
// injected clock, once per transaction.
func TestIncidentStoreClock(t *testing.T) {
	db := openDB(t)
	now := fixedNow
	db.Now = func() time.Time { return now }
	s, ctx := sqlite.NewIncidentStore(db), context.Background()
	inc := &firebreak.Incident{Kind: firebreak.KindBruteForce, Severity: firebreak.SeverityLow,
		Title: "Brute force on u1", FirstSeen: fixedNow.Add(-time.Hour), LastSeen: fixedNow}
	if err := s.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	now = fixedNow.Add(time.Minute)
	got, err := s.Update(ctx, inc.ID, firebreak.IncidentUpdate{State: new(firebreak.StateResolved)}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want time.Time
	}{
		{"opened_at", got.OpenedAt, fixedNow},
		{"updated_at", got.UpdatedAt, now},
		{"resolved_at", got.ResolvedAt, now},
	}
	for _, tt := range tests {
		if !tt.got.Equal(tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	entries, err := s.Timeline(ctx, inc.ID)
	if err != nil || len(entries) != 2 || !entries[0].Time.Equal(fixedNow) || !entries[1].Time.Equal(now) {
		t.Fatalf("timeline = %+v, %v; want entries at %v and %v", entries, err, fixedNow, now)
	}
}

// TestIncidentSchemaChecks checks that the schema's CHECK constraints and
// foreign keys refuse rows the Go validation would never let through, so
// that a bug in a later store method cannot corrupt the data.
func TestIncidentSchemaChecks(t *testing.T) {
	db := openDB(t)
	w := sqlite.WritePool(db)
	const at = "2026-03-02T09:00:00.000000000Z"
	insert := `INSERT INTO incidents (kind, severity, state, title, first_seen, last_seen, opened_at, updated_at, resolved_at)
		VALUES (?, ?, ?, 'x', ?, ?, ?, ?, ?)`
	if _, err := w.Exec(insert, "brute_force", "low", "detected", at, at, at, at, nil); err != nil {
		t.Fatalf("a valid row was refused: %v", err)
	}
	tests := []struct {
		name  string
		query string
		args  []any
	}{
		{"unknown kind", insert, []any{"ddos", "low", "detected", at, at, at, at, nil}},
		{"unknown severity", insert, []any{"brute_force", "urgent", "detected", at, at, at, at, nil}},
		{"unknown state", insert, []any{"brute_force", "low", "closed", at, at, at, at, nil}},
		{"resolved without resolved_at", insert, []any{"brute_force", "low", "resolved", at, at, at, at, nil}},
		{"resolved_at while open", insert, []any{"brute_force", "low", "triaged", at, at, at, at, at}},
		{"last seen before first", insert, []any{"brute_force", "low", "detected", at, "2026-01-01T00:00:00.000000000Z", at, at, nil}},
		{"unknown tier", `INSERT INTO incident_accounts VALUES (1, 'u1', 'clean', 0.5, '', ?, ?, '')`, []any{at, at}},
		{"confidence above 1", `INSERT INTO incident_accounts VALUES (1, 'u1', 'targeted', 1.5, '', ?, ?, '')`, []any{at, at}},
		{"account of no incident", `INSERT INTO incident_accounts VALUES (99, 'u1', 'targeted', 0.5, '', ?, ?, '')`, []any{at, at}},
		{"unknown source kind", `INSERT INTO incident_sources VALUES (1, 'country', 'NO', 1, 1, 1, '')`, nil},
		{"more failures than attempts", `INSERT INTO incident_sources VALUES (1, 'ip', '192.0.2.1', 1, 2, 1, '')`, nil},
		{"timeline data not an object", `INSERT INTO incident_timeline (incident_id, time, actor, kind, message, data) VALUES (1, ?, 'a', 'note', 'm', '[1]')`, []any{at}},
		{"timeline kind with capitals", `INSERT INTO incident_timeline (incident_id, time, actor, kind, message) VALUES (1, ?, 'a', 'Note', 'm')`, []any{at}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.Exec(tt.query, tt.args...); err == nil {
				t.Fatal("the schema accepted the row")
			}
		})
	}
}

// FuzzIncidentCursor feeds arbitrary cursors to both paginated lists: the
// store must answer with a page or EINVALID, never another error or a panic.
func FuzzIncidentCursor(f *testing.F) {
	db := openDB(f)
	s, ctx := sqlite.NewIncidentStore(db), context.Background()
	inc := &firebreak.Incident{Kind: firebreak.KindBruteForce, Severity: firebreak.SeverityLow,
		Title: "t", FirstSeen: fixedNow, LastSeen: fixedNow}
	accounts := []firebreak.AffectedAccount{
		{Account: "u1", Tier: firebreak.TierTargeted, FirstSeen: fixedNow, LastSeen: fixedNow},
		{Account: "u2", Tier: firebreak.TierCompromised, FirstSeen: fixedNow, LastSeen: fixedNow}}
	for range 2 {
		if err := s.Create(ctx, inc, accounts, "system"); err != nil {
			f.Fatal(err)
		}
	}
	p1, err1 := s.List(ctx, firebreak.IncidentFilter{Limit: 1})
	p2, err2 := s.ListAccounts(ctx, inc.ID, firebreak.AccountFilter{Limit: 1})
	if err1 != nil || err2 != nil {
		f.Fatal(err1, err2)
	}
	for _, seed := range []string{p1.Next, p2.Next, "", "e30", "!!", base64.RawURLEncoding.EncodeToString([]byte(`{"l":"accounts","k":"targeted","a":"\u0000"}`))} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, c string) {
		_, err := s.List(ctx, firebreak.IncidentFilter{Cursor: c})
		if code := firebreak.ErrorCode(err); err != nil && code != firebreak.EINVALID {
			t.Fatalf("List(cursor %q) = %v, want a page or EINVALID", c, err)
		}
		_, err = s.ListAccounts(ctx, inc.ID, firebreak.AccountFilter{Cursor: c})
		if code := firebreak.ErrorCode(err); err != nil && code != firebreak.EINVALID {
			t.Fatalf("ListAccounts(cursor %q) = %v, want a page or EINVALID", c, err)
		}
	})
}
