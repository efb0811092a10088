package journal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"firebreak/journal"
)

// open opens a journal in dir and closes it when the test ends.
func open(t testing.TB, dir string, opt journal.Options) *journal.Journal {
	t.Helper()
	j, err := journal.Open(dir, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// logTo returns a logger writing text lines into buf.
func logTo(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func appendStrings(t testing.TB, j *journal.Journal, recs ...string) uint64 {
	t.Helper()
	b := make([][]byte, len(recs))
	for i, r := range recs {
		b[i] = []byte(r)
	}
	first, err := j.Append(context.Background(), b)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return first
}

// replayAll returns the records with seq ≥ from, indexed from 0.
func replayAll(t testing.TB, j *journal.Journal, from uint64) []string {
	t.Helper()
	var got []string
	want := max(from, 1)
	err := j.Replay(from, func(seq uint64, rec []byte) error {
		if seq != want {
			t.Fatalf("Replay gave seq %d, want %d", seq, want)
		}
		want++
		got = append(got, string(rec))
		return nil
	})
	if err != nil {
		t.Fatalf("Replay(%d): %v", from, err)
	}
	return got
}

func records(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d-%s", prefix, i, bytes.Repeat([]byte{'x'}, i%37))
	}
	return out
}

func TestAppendReplay(t *testing.T) {
	tests := []struct {
		name    string
		batches [][]string
	}{
		{"one record", [][]string{{"a"}}},
		{"empty record", [][]string{{""}, {"b"}}},
		{"several batches", [][]string{{"a", "b"}, {"c"}, {"d", "e", "f"}}},
		{"many records", [][]string{records("r", 500), records("s", 3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := open(t, t.TempDir(), journal.Options{})
			var want []string
			for _, batch := range tt.batches {
				if got, wantFirst := appendStrings(t, j, batch...), uint64(len(want)+1); got != wantFirst {
					t.Fatalf("Append first = %d, want %d", got, wantFirst)
				}
				want = append(want, batch...)
			}
			if got, want := j.LastSeq(), uint64(len(want)); got != want {
				t.Fatalf("LastSeq = %d, want %d", got, want)
			}
			if got := replayAll(t, j, 0); !slices.Equal(got, want) {
				t.Fatalf("Replay(0) = %q, want %q", got, want)
			}
			if got := replayAll(t, j, 2); !slices.Equal(got, want[1:]) {
				t.Fatalf("Replay(2) = %q, want %q", got, want[1:])
			}
		})
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	opt := journal.Options{SegmentBytes: 1024}
	j, err := journal.Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := records("first", 100)
	appendStrings(t, j, want[:50]...)
	appendStrings(t, j, want[50:]...)
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := j.Append(context.Background(), [][]byte{[]byte("late")}); !errors.Is(err, journal.ErrClosed) {
		t.Fatalf("Append after Close: err = %v, want ErrClosed", err)
	}

	j = open(t, dir, opt)
	if got, want := j.LastSeq(), uint64(100); got != want {
		t.Fatalf("LastSeq after reopen = %d, want %d", got, want)
	}
	if got, wantFirst := appendStrings(t, j, "after"), uint64(101); got != wantFirst {
		t.Fatalf("first seq after reopen = %d, want %d", got, wantFirst)
	}
	if got := replayAll(t, j, 1); !slices.Equal(got, append(want, "after")) {
		t.Fatalf("Replay after reopen = %q", got)
	}
}

func TestAppendEmptyAndTooLarge(t *testing.T) {
	j := open(t, t.TempDir(), journal.Options{NoSync: true})
	if first, err := j.Append(context.Background(), nil); first != 0 || err != nil {
		t.Fatalf("Append(nil) = %d, %v; want 0, nil", first, err)
	}
	big := make([]byte, journal.MaxRecordSize+1)
	_, err := j.Append(context.Background(), [][]byte{[]byte("ok"), big})
	if !errors.Is(err, journal.ErrRecordTooLarge) {
		t.Fatalf("Append(oversized) err = %v, want ErrRecordTooLarge", err)
	}
	if want := fmt.Sprint(journal.MaxRecordSize + 1); !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("error %q does not name the size %s", err, want)
	}
	if got := j.LastSeq(); got != 0 {
		t.Fatalf("LastSeq after rejected batch = %d, want 0 (nothing written)", got)
	}
	exact := make([]byte, journal.MaxRecordSize)
	if first := appendStrings(t, j, string(exact)); first != 1 {
		t.Fatalf("Append(max size) first = %d, want 1", first)
	}
}

func TestAppendCanceled(t *testing.T) {
	j := open(t, t.TempDir(), journal.Options{NoSync: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.Append(ctx, [][]byte{[]byte("x")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append(canceled ctx) err = %v, want context.Canceled", err)
	}
	if got := j.LastSeq(); got != 0 {
		t.Fatalf("LastSeq = %d, want 0", got)
	}
}

// TestGroupCommit appends from many goroutines at once and checks that every
// record lands exactly once under a contiguous seq, and that fsyncs were shared.
func TestGroupCommit(t *testing.T) {
	j := open(t, t.TempDir(), journal.Options{SegmentBytes: 64 << 10})
	var syncs atomic.Int64
	journal.SetSyncFunc(j, func(f *os.File) error { syncs.Add(1); return f.Sync() })

	const workers, perWorker = 32, 40
	var mu sync.Mutex
	bySeq := map[uint64]string{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				batch := make([][]byte, 1+(w+i)%5)
				for k := range batch {
					batch[k] = fmt.Appendf(nil, "w%d-i%d-k%d", w, i, k)
				}
				first, err := j.Append(context.Background(), batch)
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				for k, rec := range batch {
					if prev, dup := bySeq[first+uint64(k)]; dup {
						t.Errorf("seq %d given to %q and %q", first+uint64(k), prev, rec)
					}
					bySeq[first+uint64(k)] = string(rec)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	n := uint64(len(bySeq))
	if got := j.LastSeq(); got != n {
		t.Fatalf("LastSeq = %d, want %d (one per record)", got, n)
	}
	got := replayAll(t, j, 1)
	seen := map[string]bool{}
	for i, rec := range got {
		if want := bySeq[uint64(i+1)]; rec != want {
			t.Fatalf("seq %d = %q, want %q", i+1, rec, want)
		}
		if seen[rec] {
			t.Fatalf("record %q replayed twice", rec)
		}
		seen[rec] = true
	}
	if s := syncs.Load(); s >= workers*perWorker {
		t.Errorf("%d fsyncs for %d appends: no group commit", s, workers*perWorker)
	}
	t.Logf("%d records, %d appends, %d fsyncs", n, workers*perWorker, syncs.Load())
}

// TestFailClosed checks that one failed fsync makes every later Append fail.
func TestFailClosed(t *testing.T) {
	j := open(t, t.TempDir(), journal.Options{})
	var calls atomic.Int64
	journal.SetSyncFunc(j, func(f *os.File) error {
		if calls.Add(1) == 2 {
			return errors.New("injected fsync failure")
		}
		return f.Sync()
	})
	appendStrings(t, j, "ok")
	for i := range 3 {
		_, err := j.Append(context.Background(), [][]byte{[]byte("after failure")})
		if err == nil {
			t.Fatalf("Append %d after fsync failure succeeded", i)
		}
		if !bytes.Contains([]byte(err.Error()), []byte("injected fsync failure")) {
			t.Errorf("err = %v, want it to carry the fsync failure", err)
		}
	}
	if got := j.LastSeq(); got != 1 {
		t.Fatalf("LastSeq = %d, want 1 (failed appends are not durable)", got)
	}
}

func TestReplayCallbackError(t *testing.T) {
	j := open(t, t.TempDir(), journal.Options{NoSync: true})
	appendStrings(t, j, "a", "b", "c")
	stop := errors.New("stop")
	var seen []uint64
	err := j.Replay(1, func(seq uint64, _ []byte) error {
		seen = append(seen, seq)
		if seq == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Replay err = %v, want the callback's error", err)
	}
	if want := []uint64{1, 2}; !slices.Equal(seen, want) {
		t.Fatalf("Replay visited %v, want %v", seen, want)
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}
