package journal_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"firebreak/journal"
)

// FuzzScanRecords feeds the segment reader valid records followed by
// arbitrary bytes: it must never panic, must recover every valid record, and
// must report a valid length that rescans to the same records.
func FuzzScanRecords(f *testing.F) {
	f.Add([]byte("a\x00bc\x00"), []byte{})
	f.Add([]byte("event"), []byte("\x05\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte{}, []byte("\xff\xff\xff\xff garbage"))
	f.Add([]byte("x\x00y"), bytes.Repeat([]byte{0}, 64))
	f.Fuzz(func(t *testing.T, payloads, tail []byte) {
		recs := bytes.Split(payloads, []byte{0})
		var body []byte
		for _, r := range recs {
			body = append(body, journal.EncodeRecord(r)...)
		}
		prefix := len(body)
		body = append(body, tail...)

		var got [][]byte
		valid, err := journal.ScanRecords(bytes.NewReader(body), func(rec []byte) error {
			got = append(got, bytes.Clone(rec))
			return nil
		})
		if err != nil {
			t.Fatalf("ScanRecords: %v", err)
		}
		if valid < int64(prefix) || valid > int64(len(body)) {
			t.Fatalf("valid = %d, want between %d and %d", valid, prefix, len(body))
		}
		if len(got) < len(recs) {
			t.Fatalf("recovered %d records, want at least the %d valid ones", len(got), len(recs))
		}
		for i, r := range recs {
			if !bytes.Equal(got[i], r) {
				t.Fatalf("record %d = %q, want %q", i, got[i], r)
			}
		}
		n := 0
		again, err := journal.ScanRecords(bytes.NewReader(body[:valid]), func([]byte) error { n++; return nil })
		if err != nil || again != valid || n != len(got) {
			t.Fatalf("rescan of valid prefix = %d bytes, %d records, %v; want %d, %d", again, n, err, valid, len(got))
		}
	})
}

// FuzzOpenSegment writes arbitrary bytes as the body of the only segment and
// opens the journal: Open must not panic, must keep the valid prefix, and the
// journal must accept appends afterwards.
func FuzzOpenSegment(f *testing.F) {
	f.Add([]byte("one\x00two"), []byte("\x03\x00\x00"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte("z"), bytes.Repeat([]byte{0xff}, 20))
	f.Fuzz(func(t *testing.T, payloads, tail []byte) {
		recs := bytes.Split(payloads, []byte{0})
		seg := journal.SegmentHeader(1)
		for _, r := range recs {
			seg = append(seg, journal.EncodeRecord(r)...)
		}
		seg = append(seg, tail...)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "00000000000000000001.seg"), seg, 0o644); err != nil {
			t.Fatal(err)
		}
		j, err := journal.Open(dir, journal.Options{NoSync: true, Logger: logTo(&bytes.Buffer{})})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer j.Close()
		if got := j.LastSeq(); got < uint64(len(recs)) {
			t.Fatalf("LastSeq = %d, want at least %d", got, len(recs))
		}
		i := 0
		err = j.Replay(1, func(seq uint64, rec []byte) error {
			if i < len(recs) && !bytes.Equal(rec, recs[i]) {
				t.Fatalf("seq %d = %q, want %q", seq, rec, recs[i])
			}
			i++
			return nil
		})
		if err != nil {
			t.Fatalf("Replay: %v", err)
		}
		if _, err := j.Append(context.Background(), [][]byte{[]byte("after")}); err != nil {
			t.Fatalf("Append after recovery: %v", err)
		}
	})
}
