package sqlite_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/sqlite"
)

// fixedNow is the clock injected into test databases.
var fixedNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// openDB opens a database file in a fresh temp dir and closes it at the end.
func openDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return openDBAt(tb, filepath.Join(tb.TempDir(), "firebreak.db"))
}

func openDBAt(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	db.Now = func() time.Time { return fixedNow }
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(context.Background()); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestOpenPragmas(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "5000"},
		{"query_only", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := sqlite.WritePool(db).QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("writer PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
			}
		})
	}
	var got string
	if err := sqlite.ReadPool(db).QueryRow("PRAGMA query_only").Scan(&got); err != nil || got != "1" {
		t.Fatalf("reader PRAGMA query_only = %q, %v; want 1", got, err)
	}
	if _, err := sqlite.ReadPool(db).Exec(`DELETE FROM meta`); err == nil {
		t.Fatal("read pool accepted a write")
	}
	if n := sqlite.WritePool(db).Stats().MaxOpenConnections; n != 1 {
		t.Fatalf("writer pool allows %d connections, want 1", n)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"empty path", ""},
		{"question mark", filepath.Join(t.TempDir(), "a?b.db")},
		{"parent is a file", filepath.Join(writeFile(t, "plain"), "firebreak.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := sqlite.NewDB(tt.path)
			if err := db.Open(context.Background()); err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", tt.path)
			}
		})
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReopen checks that data survives a close and that reopening does not
// re-run migrations.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firebreak.db")
	db := openDBAt(t, path)
	ctx := context.Background()
	if err := db.SetMeta(ctx, "policy", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db = openDBAt(t, path)
	if got, err := db.GetMeta(ctx, "policy"); err != nil || got != "v1" {
		t.Fatalf("GetMeta after reopen = %q, %v; want v1", got, err)
	}
	var applied int
	q := `SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0`
	if err := sqlite.ReadPool(db).QueryRow(q).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migrations/*.sql")
	if applied != len(files) {
		t.Fatalf("%d migrations recorded after reopen, want %d (each once)", applied, len(files))
	}
}

var migrationName = regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)

// TestMigrationsUnchanged fails when a migration that has shipped is edited,
// renamed or removed. testdata/migrations.sum is append-only: a new migration
// is a new file plus a new line there.
func TestMigrationsUnchanged(t *testing.T) {
	want := readSums(t, "testdata/migrations.sum")
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, p := range files {
		name := filepath.Base(p)
		m := migrationName.FindStringSubmatch(name)
		if m == nil || m[1] != fmt.Sprintf("%05d", i+1) {
			t.Errorf("migration %s: want name %05d_description.sql (numbered from 1, no gaps)", name, i+1)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		got[name] = hex.EncodeToString(sum[:])
	}
	for name, sum := range want {
		switch g, ok := got[name]; {
		case !ok:
			t.Errorf("migration %s was applied before but is gone; migrations are append-only", name)
		case g != sum:
			t.Errorf("migration %s changed after it shipped (sha256 %s, recorded %s); add a new migration instead", name, g, sum)
		}
	}
	for name, sum := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("new migration %s: append this line to testdata/migrations.sum:\n%s  %s", name, sum, name)
		}
	}
}

func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestMeta(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	if _, err := db.GetMeta(ctx, "missing"); firebreak.ErrorCode(err) != firebreak.ENOTFOUND {
		t.Fatalf("GetMeta(missing) err = %v, want ENOTFOUND", err)
	}
	if err := db.SetMeta(ctx, "", "x"); firebreak.ErrorCode(err) != firebreak.EINVALID {
		t.Fatalf("SetMeta(empty key) err = %v, want EINVALID", err)
	}
	for _, v := range []string{"first", "second", ""} {
		if err := db.SetMeta(ctx, "policy", v); err != nil {
			t.Fatalf("SetMeta: %v", err)
		}
		if got, err := db.GetMeta(ctx, "policy"); err != nil || got != v {
			t.Fatalf("GetMeta = %q, %v; want %q", got, err, v)
		}
	}
	var updated string
	if err := sqlite.ReadPool(db).QueryRow(`SELECT updated_at FROM meta WHERE key = 'policy'`).Scan(&updated); err != nil {
		t.Fatal(err)
	}
	if want := "2026-03-02T09:00:00.000000000Z"; updated != want {
		t.Fatalf("updated_at = %s, want the injected clock %s", updated, want)
	}
}

func TestClosed(t *testing.T) {
	db := openDB(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMeta(context.Background(), "k", "v"); err == nil {
		t.Fatal("SetMeta on a closed DB succeeded")
	}
}
