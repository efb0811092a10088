package journal_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"firebreak/journal"
)

// writeJournal creates a closed journal holding recs and returns its dir.
func writeJournal(t *testing.T, opt journal.Options, recs []string) string {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		appendStrings(t, j, r)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTornTail cuts the final record at every byte offset and checks that
// reopening keeps every earlier record, logs what it dropped, and appends
// cleanly after the cut.
func TestTornTail(t *testing.T) {
	recs := []string{"alpha", "bravo", "charlie", "the final record, somewhat longer"}
	dir := writeJournal(t, journal.Options{NoSync: true}, recs)
	seg := segmentFiles(t, dir)[0]
	orig, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	lastStart := len(orig) - len(journal.EncodeRecord([]byte(recs[3])))
	for cut := lastStart; cut < len(orig); cut++ {
		t.Run(fmt.Sprintf("cut at %d", cut), func(t *testing.T) {
			if err := os.WriteFile(seg, orig[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			j := open(t, dir, journal.Options{NoSync: true, Logger: logTo(&log)})
			if got := replayAll(t, j, 1); !slices.Equal(got, recs[:3]) {
				t.Fatalf("after cut: records = %q, want %q", got, recs[:3])
			}
			dropped := fmt.Sprintf("dropped_bytes=%d", cut-lastStart)
			if cut > lastStart && !strings.Contains(log.String(), dropped) {
				t.Errorf("log %q does not say %s", log.String(), dropped)
			}
			if got := appendStrings(t, j, "replacement"); got != 4 {
				t.Fatalf("first seq after truncation = %d, want 4", got)
			}
			if got, want := replayAll(t, j, 1), append(slices.Clone(recs[:3]), "replacement"); !slices.Equal(got, want) {
				t.Fatalf("after append: records = %q, want %q", got, want)
			}
		})
	}
}

func TestDamagedTail(t *testing.T) {
	recs := []string{"one", "two", "three"}
	encLast := len(journal.EncodeRecord([]byte("three")))
	tests := []struct {
		name    string
		damage  func(b []byte) []byte
		want    []string
		dropped int
	}{
		{"garbage after last record", func(b []byte) []byte {
			return append(b, "\x07\x00\x00\x00garbage!"...)
		}, recs, 12},
		{"zero fill after last record", func(b []byte) []byte {
			return append(b, make([]byte, 4096)...)
		}, recs, 4096},
		{"flipped payload byte in last record", func(b []byte) []byte {
			b[len(b)-1] ^= 0x40
			return b
		}, recs[:2], encLast},
		{"flipped CRC byte in last record", func(b []byte) []byte {
			b[len(b)-encLast+5] ^= 0x01
			return b
		}, recs[:2], encLast},
		{"huge length in last record", func(b []byte) []byte {
			copy(b[len(b)-encLast:], "\xff\xff\xff\x7f")
			return b
		}, recs[:2], encLast},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeJournal(t, journal.Options{NoSync: true}, recs)
			seg := segmentFiles(t, dir)[0]
			b, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(seg, tt.damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			j := open(t, dir, journal.Options{Logger: logTo(&log)})
			if got := replayAll(t, j, 1); !slices.Equal(got, tt.want) {
				t.Fatalf("records = %q, want %q", got, tt.want)
			}
			if want := fmt.Sprintf("dropped_bytes=%d", tt.dropped); !strings.Contains(log.String(), want) {
				t.Errorf("log %q does not say %s", log.String(), want)
			}
		})
	}
}

// TestTornSegmentHeader simulates a crash while the next segment was being
// created: its header is incomplete and it holds no records.
func TestTornSegmentHeader(t *testing.T) {
	dir := writeJournal(t, journal.Options{NoSync: true}, []string{"a", "b"})
	next := filepath.Join(dir, fmt.Sprintf("%020d.seg", 3))
	if err := os.WriteFile(next, journal.SegmentHeader(3)[:5], 0o644); err != nil {
		t.Fatal(err)
	}
	j := open(t, dir, journal.Options{NoSync: true})
	if got := appendStrings(t, j, "c"); got != 3 {
		t.Fatalf("first seq = %d, want 3", got)
	}
	if got, want := replayAll(t, j, 1), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("records = %q, want %q", got, want)
	}
}

// TestCorruptMiddleSegment checks that damage in a segment that is not the
// last one is reported, not silently truncated.
func TestCorruptMiddleSegment(t *testing.T) {
	opt := journal.Options{NoSync: true, SegmentBytes: 200}
	tests := []struct {
		name    string
		damage  func(t *testing.T, segs []string)
		wantErr []string
	}{
		{"flipped byte", func(t *testing.T, segs []string) {
			b, err := os.ReadFile(segs[1])
			if err != nil {
				t.Fatal(err)
			}
			b[16+8+3] ^= 0xff // first record's payload
			if err := os.WriteFile(segs[1], b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"offset 16", "corrupt"}},
		{"truncated", func(t *testing.T, segs []string) {
			st, err := os.Stat(segs[1])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(segs[1], st.Size()-3); err != nil {
				t.Fatal(err)
			}
		}, []string{"corrupt record at offset"}},
		{"missing segment", func(t *testing.T, segs []string) {
			if err := os.Remove(segs[1]); err != nil {
				t.Fatal(err)
			}
		}, []string{"starts at seq"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeJournal(t, opt, records("rec", 40))
			segs := segmentFiles(t, dir)
			if len(segs) < 3 {
				t.Fatalf("want at least 3 segments, got %d", len(segs))
			}
			tt.damage(t, segs)
			_, err := journal.Open(dir, opt)
			if err == nil {
				t.Fatal("Open succeeded on a journal with a damaged middle segment")
			}
			name := filepath.Base(segs[1])
			if tt.name == "missing segment" {
				name = filepath.Base(segs[2])
			}
			for _, want := range append(tt.wantErr, name) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}
