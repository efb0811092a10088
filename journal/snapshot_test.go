package journal_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"firebreak/journal"
)

func writeSnap(t *testing.T, dir string, seq uint64, payload string) {
	t.Helper()
	err := journal.WriteSnapshot(dir, seq, func(w io.Writer) error {
		_, err := io.WriteString(w, payload)
		return err
	})
	if err != nil {
		t.Fatalf("WriteSnapshot(%d): %v", seq, err)
	}
}

func readLatest(t *testing.T, dir string) (uint64, string) {
	t.Helper()
	seq, r, err := journal.OpenLatestSnapshot(dir)
	if err != nil {
		t.Fatalf("OpenLatestSnapshot: %v", err)
	}
	if r == nil {
		return seq, ""
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read snapshot: %v", err)
	}
	return seq, string(b)
}

func snapPath(dir string, seq uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d.snap", seq))
}

func TestSnapshotNone(t *testing.T) {
	for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		seq, r, err := journal.OpenLatestSnapshot(dir)
		if seq != 0 || r != nil || err != nil {
			t.Fatalf("OpenLatestSnapshot(%s) = %d, %v, %v; want 0, nil, nil", dir, seq, r, err)
		}
	}
}

func TestSnapshotLatestAndPrune(t *testing.T) {
	dir := t.TempDir()
	writeSnap(t, dir, 10, "ten")
	writeSnap(t, dir, 20, "twenty")
	writeSnap(t, dir, 30, "thirty, the latest")
	seqs, err := journal.SnapshotSeqs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{30, 20}; !slices.Equal(seqs, want) {
		t.Fatalf("kept snapshots = %v, want %v", seqs, want)
	}
	if seq, payload := readLatest(t, dir); seq != 30 || payload != "thirty, the latest" {
		t.Fatalf("latest = %d %q, want 30 %q", seq, payload, "thirty, the latest")
	}
}

func TestSnapshotEmptyPayload(t *testing.T) {
	dir := t.TempDir()
	writeSnap(t, dir, 7, "")
	if seq, payload := readLatest(t, dir); seq != 7 || payload != "" {
		t.Fatalf("latest = %d %q, want 7 and empty", seq, payload)
	}
}

// TestSnapshotFallback damages the newest snapshot in several ways; each time
// the previous one must be used instead.
func TestSnapshotFallback(t *testing.T) {
	tests := []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"flipped payload byte", func(b []byte) []byte { b[2] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"trailer cut off", func(b []byte) []byte { return b[:len(b)-28] }},
		{"empty file", func([]byte) []byte { return nil }},
		{"extra byte", func(b []byte) []byte { return append([]byte{0}, b...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSnap(t, dir, 100, "older state")
			writeSnap(t, dir, 200, "newer state")
			p := snapPath(dir, 200)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tt.damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			if seq, payload := readLatest(t, dir); seq != 100 || payload != "older state" {
				t.Fatalf("latest = %d %q, want the fallback 100 %q", seq, payload, "older state")
			}
		})
	}
}

func TestSnapshotRenamedIsRejected(t *testing.T) {
	dir := t.TempDir()
	writeSnap(t, dir, 5, "five")
	if err := os.Rename(snapPath(dir, 5), snapPath(dir, 9)); err != nil {
		t.Fatal(err)
	}
	if seq, r, err := journal.OpenLatestSnapshot(dir); seq != 0 || r != nil || err != nil {
		t.Fatalf("OpenLatestSnapshot = %d, %v, %v; want a snapshot whose trailer disagrees with its name skipped", seq, r, err)
	}
}

// TestSnapshotAtomic checks that a failed or interrupted write never replaces
// the current snapshot and leaves no temporary file behind.
func TestSnapshotAtomic(t *testing.T) {
	dir := t.TempDir()
	writeSnap(t, dir, 1, "good")
	boom := errors.New("encoder failed")
	err := journal.WriteSnapshot(dir, 2, func(w io.Writer) error {
		io.WriteString(w, "half a snapsh")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WriteSnapshot err = %v, want the write func's error", err)
	}
	if seq, payload := readLatest(t, dir); seq != 1 || payload != "good" {
		t.Fatalf("latest after failed write = %d %q, want 1 %q", seq, payload, "good")
	}
	// A crash mid-write leaves a temporary file: ignored, then cleaned up.
	stale := filepath.Join(dir, "snapshot-123.tmp")
	if err := os.WriteFile(stale, []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	if seq, _ := readLatest(t, dir); seq != 1 {
		t.Fatalf("latest with a stale temp file = %d, want 1", seq)
	}
	writeSnap(t, dir, 3, "three")
	left, err := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}
