package journal_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"firebreak/journal"
)

// segmentFirsts returns the first seq of every segment file in dir.
func segmentFirsts(t *testing.T, dir string) []uint64 {
	t.Helper()
	var firsts []uint64
	for _, p := range segmentFiles(t, dir) {
		n, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(p), ".seg"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, n)
	}
	return firsts
}

func TestCompact(t *testing.T) {
	opt := journal.Options{NoSync: true, SegmentBytes: 300}
	want := records("c", 100)
	tests := []struct {
		name   string
		before uint64
	}{
		{"nothing covered", 1},
		{"first segments", 30},
		{"most", 90},
		{"everything", 101},
		{"beyond the end", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeJournal(t, opt, want)
			j := open(t, dir, opt)
			firsts := segmentFirsts(t, dir)
			if err := j.Compact(tt.before); err != nil {
				t.Fatalf("Compact(%d): %v", tt.before, err)
			}
			// Kept: every segment holding a seq ≥ before, and always the last.
			var wantKept []uint64
			for i, f := range firsts {
				if i == len(firsts)-1 || firsts[i+1] > tt.before {
					wantKept = append(wantKept, f)
				}
			}
			if got := segmentFirsts(t, dir); !slices.Equal(got, wantKept) {
				t.Fatalf("segments after Compact(%d) = %v, want %v (of %v)", tt.before, got, wantKept, firsts)
			}
			from := min(tt.before, 100)
			if got := replayAll(t, j, from); !slices.Equal(got, want[from-1:]) {
				t.Fatalf("Replay(%d) after Compact = %d records, want %d", from, len(got), len(want[from-1:]))
			}
			if wantKept[0] > 1 {
				err := j.Replay(1, func(uint64, []byte) error { return nil })
				if err == nil || !strings.Contains(err.Error(), "compacted") {
					t.Fatalf("Replay(1) after Compact: err = %v, want a compacted error", err)
				}
			}
			j.Close()
			j = open(t, dir, opt)
			if got := j.LastSeq(); got != 100 {
				t.Fatalf("LastSeq after Compact and reopen = %d, want 100", got)
			}
			if got := appendStrings(t, j, "next"); got != 101 {
				t.Fatalf("first seq after Compact and reopen = %d, want 101", got)
			}
		})
	}
}

func TestCompactKeepsUnrelatedFiles(t *testing.T) {
	opt := journal.Options{NoSync: true, SegmentBytes: 100}
	dir := writeJournal(t, opt, records("k", 20))
	other := filepath.Join(dir, "README")
	if err := os.WriteFile(other, []byte("not a segment"), 0o644); err != nil {
		t.Fatal(err)
	}
	j := open(t, dir, opt)
	if err := j.Compact(21); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("Compact touched a file that is not a segment: %v", err)
	}
}
