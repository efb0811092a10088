package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"firebreak"
	"firebreak/audit"
)

var ctx = context.Background()

// clock is a deterministic Options.Now: one second per call.
func clock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func openLog(t testing.TB, dir string) *audit.Log {
	t.Helper()
	l, err := audit.Open(dir, audit.Options{Now: clock()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func record(i int) firebreak.AuditRecord {
	return firebreak.AuditRecord{
		Actor:  "alice",
		Action: firebreak.AuditRunStage,
		Object: fmt.Sprintf("run/%d", i),
		Data:   firebreak.AuditData(map[string]any{"stage": i, "note": "contain <tier 1> & notify\n"}),
	}
}

func appendN(t testing.TB, l *audit.Log, n int) {
	t.Helper()
	for i := range n {
		if _, err := l.Append(ctx, record(i)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
}

func mustVerify(t *testing.T, dir, key string) audit.Report {
	t.Helper()
	rep, err := audit.Verify(dir, key)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func TestAppendAndRead(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	for i := range 10 {
		seq, err := l.Append(ctx, record(i))
		if err != nil {
			t.Fatal(err)
		}
		if seq != int64(i) {
			t.Fatalf("Append %d: seq = %d, want %d", i, seq, i)
		}
	}
	at := time.Date(2020, 1, 1, 0, 0, 0, 5, time.FixedZone("CET", 3600))
	if seq, err := l.Append(ctx, firebreak.AuditRecord{Time: at, Actor: "system", Action: firebreak.AuditRunHalted}); err != nil || seq != 10 {
		t.Fatalf("Append with a time = %d, %v", seq, err)
	}
	if got := l.Size(); got != 11 {
		t.Fatalf("Size = %d, want 11", got)
	}
	recs, err := l.Records(ctx, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0].Seq != 3 || recs[3].Seq != 6 || recs[0].Object != "run/3" {
		t.Fatalf("Records(3, 4) = %+v", recs)
	}
	if want := time.Date(2026, 3, 2, 8, 0, 4, 0, time.UTC); !recs[0].Time.Equal(want) {
		t.Fatalf("record 3 time = %v, want %v (from Options.Now)", recs[0].Time, want)
	}
	var data map[string]any
	if err := json.Unmarshal(recs[0].Data, &data); err != nil || data["note"] != "contain <tier 1> & notify\n" {
		t.Fatalf("record 3 data = %s (%v)", recs[0].Data, err)
	}
	last, err := l.Records(ctx, 10, 100)
	if err != nil || len(last) != 1 || !last[0].Time.Equal(at) {
		t.Fatalf("Records(10, 100) = %+v, %v; want the one record with time %v", last, err, at)
	}
	if none, err := l.Records(ctx, 50, 10); err != nil || len(none) != 0 {
		t.Fatalf("Records past the end = %v, %v; want none", none, err)
	}

	// The checkpoint is a note signed by the verifier key, over the tree of 11.
	v, err := note.NewVerifier(l.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(l.Checkpoint()), note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint does not open with VerifierKey: %v", err)
	}
	tree, err := tlog.ParseTree([]byte(n.Text))
	if err != nil || tree.N != 11 {
		t.Fatalf("checkpoint tree = %+v, %v; want N 11", tree, err)
	}

	key := l.VerifierKey()
	l.Close()
	rep := mustVerify(t, dir, key)
	if rep.Records != 11 || rep.TreeSize != 11 || rep.Checkpoints != 12 || rep.RootHash != tree.Hash.String() || len(rep.Warnings) != 0 {
		t.Fatalf("Verify report = %+v; want 11 records, 12 checkpoints (the empty tree and one per append), no warnings", rep)
	}
	if !strings.HasPrefix(key, rep.VerifierKey) {
		t.Fatalf("report key %q is not the log's %q", rep.VerifierKey, key)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	st, err := os.Stat(filepath.Join(dir, "signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("signer.key mode = %v, want 0600", st.Mode().Perm())
	}
	vkey, err := os.ReadFile(filepath.Join(dir, "verifier.key"))
	if err != nil || strings.TrimSpace(string(vkey)) != l.VerifierKey() {
		t.Fatalf("verifier.key = %q, %v; want %q", vkey, err, l.VerifierKey())
	}
	if !strings.HasPrefix(l.VerifierKey(), audit.DefaultName+"+") {
		t.Fatalf("VerifierKey = %q, want the default name", l.VerifierKey())
	}
	l.Close()
	if _, err := audit.Open(dir, audit.Options{Name: "other"}); err == nil || !strings.Contains(err.Error(), `not "other"`) {
		t.Fatalf("Open with another name: err = %v, want a name mismatch", err)
	}
	if _, err := audit.Open(t.TempDir(), audit.Options{Name: "has space"}); firebreak.ErrorCode(err) != firebreak.EINVALID {
		t.Fatalf("Open with a bad name: err = %v, want EINVALID", err)
	}
}

func TestAppendRefusesBadRecords(t *testing.T) {
	l := openLog(t, t.TempDir())
	big := firebreak.AuditRecord{Actor: "a", Action: "b", Data: json.RawMessage(`"` + strings.Repeat("x", audit.MaxRecordSize) + `"`)}
	tests := []struct {
		name  string
		rec   firebreak.AuditRecord
		code  string
		field string
	}{
		{"no actor", firebreak.AuditRecord{Action: "x"}, firebreak.EINVALID, "actor"},
		{"no action", firebreak.AuditRecord{Actor: "x"}, firebreak.EINVALID, "action"},
		{"bad data", firebreak.AuditRecord{Actor: "x", Action: "y", Data: json.RawMessage(`{"a":`)}, firebreak.EINVALID, "data"},
		{"too large", big, firebreak.ETOOLARGE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Append(ctx, tt.rec)
			if got := firebreak.ErrorCode(err); got != tt.code {
				t.Fatalf("err = %v (code %q), want code %q", err, got, tt.code)
			}
			var fe *firebreak.FieldError
			if tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Fatalf("err = %v, want a FieldError for %q", err, tt.field)
			}
		})
	}
	if seq, err := l.Append(ctx, record(0)); err != nil || seq != 0 {
		t.Fatalf("Append after refusals = %d, %v; want seq 0", seq, err)
	}
	if _, err := l.AppendBatch(ctx, []firebreak.AuditRecord{record(1), {Actor: "x"}}); firebreak.ErrorCode(err) != firebreak.EINVALID || !strings.Contains(err.Error(), "record 1 of 2") {
		t.Fatalf("AppendBatch with a bad record: err = %v, want EINVALID naming record 1", err)
	}
	if got := l.Size(); got != 1 {
		t.Fatalf("Size = %d after a refused batch, want 1", got)
	}
}

func TestAppendBatch(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	appendN(t, l, 2)
	first, err := l.AppendBatch(ctx, []firebreak.AuditRecord{record(10), record(11), record(12)})
	if err != nil || first != 2 {
		t.Fatalf("AppendBatch = %d, %v; want first seq 2", first, err)
	}
	recs, err := l.Records(ctx, 2, 3)
	if err != nil || len(recs) != 3 || recs[2].Object != "run/12" || recs[2].Seq != 4 {
		t.Fatalf("Records = %+v, %v", recs, err)
	}
	key := l.VerifierKey()
	l.Close()
	if rep := mustVerify(t, dir, key); rep.Checkpoints != 4 {
		t.Fatalf("checkpoints = %d, want 4: the empty tree, two appends, one batch", rep.Checkpoints)
	}
}

func TestReopenContinues(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	appendN(t, l, 5)
	key, cp := l.VerifierKey(), l.Checkpoint()
	l.Close()
	if _, err := l.Append(ctx, record(0)); firebreak.ErrorCode(err) != firebreak.EUNAVAILABLE {
		t.Fatalf("Append after Close: err = %v, want EUNAVAILABLE", err)
	}

	l = openLog(t, dir)
	if l.VerifierKey() != key || l.Checkpoint() != cp || l.Size() != 5 {
		t.Fatalf("reopened log: key, checkpoint or size (%d) changed", l.Size())
	}
	if seq, err := l.Append(ctx, record(5)); err != nil || seq != 5 {
		t.Fatalf("Append after reopen = %d, %v; want seq 5", seq, err)
	}
	appendN(t, l, 4)
	l.Close()
	if rep := mustVerify(t, dir, key); rep.Records != 10 || rep.Checkpoints != 11 {
		t.Fatalf("report = %+v, want 10 records and 11 checkpoints", rep)
	}
}

func TestOpenIsExclusive(t *testing.T) {
	dir := t.TempDir()
	openLog(t, dir)
	_, err := audit.Open(dir, audit.Options{})
	if firebreak.ErrorCode(err) != firebreak.EUNAVAILABLE {
		t.Fatalf("second Open: err = %v, want EUNAVAILABLE (locked)", err)
	}
	// Verify works alongside the writer and says so.
	rep, err := audit.Verify(dir, "")
	if err != nil {
		t.Fatalf("Verify while open: %v", err)
	}
	if len(rep.Warnings) != 2 {
		t.Fatalf("warnings = %q, want the unpinned-key and the live-writer warnings", rep.Warnings)
	}
}

func TestConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	const writers, each = 8, 40
	seqs := make(chan int64, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				seq, err := l.Append(ctx, record(w*1000+i))
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- seq
			}
		})
	}
	// Readers run alongside.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for l.Size() < writers*each {
			if _, err := l.Records(ctx, max(0, l.Size()-5), 5); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	<-done
	close(seqs)
	seen := make(map[int64]bool)
	for s := range seqs {
		if seen[s] || s < 0 || s >= writers*each {
			t.Fatalf("seq %d duplicated or out of range", s)
		}
		seen[s] = true
	}
	key := l.VerifierKey()
	l.Close()
	rep := mustVerify(t, dir, key)
	if rep.Records != writers*each {
		t.Fatalf("records = %d, want %d", rep.Records, writers*each)
	}
	t.Logf("%d appends in %d checkpoints (group commit)", rep.Records, rep.Checkpoints-1)
	if rep.Checkpoints > writers*each+1 {
		t.Fatalf("more checkpoints (%d) than appends", rep.Checkpoints)
	}
}

func TestWriteFailureFailsClosed(t *testing.T) {
	t.Run("closed descriptor", func(t *testing.T) {
		dir := t.TempDir()
		l := openLog(t, dir)
		appendN(t, l, 3)
		key := l.VerifierKey()
		if err := audit.CloseRecordsFile(l); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := l.Append(ctx, record(i)); firebreak.ErrorCode(err) != firebreak.EUNAVAILABLE {
				t.Fatalf("Append %d after the write failure: err = %v, want EUNAVAILABLE", i, err)
			}
		}
		l.Close()
		l = openLog(t, dir)
		if got := l.Size(); got != 3 {
			t.Fatalf("Size after reopen = %d, want 3", got)
		}
		appendN(t, l, 1)
		l.Close()
		mustVerify(t, dir, key)
	})
	t.Run("one failed fsync", func(t *testing.T) {
		dir := t.TempDir()
		l := openLog(t, dir)
		appendN(t, l, 3)
		key := l.VerifierKey()
		var calls atomic.Int32
		audit.SetSyncFunc(l, func(f *os.File) error {
			if calls.Add(1) == 1 {
				return errors.New("injected: input/output error")
			}
			return f.Sync()
		})
		if _, err := l.Append(ctx, record(3)); firebreak.ErrorCode(err) != firebreak.EUNAVAILABLE {
			t.Fatalf("Append with a failing fsync: err = %v, want EUNAVAILABLE", err)
		}
		// The disk works again, but the log stays closed until reopened.
		before := calls.Load()
		_, err := l.Append(ctx, record(4))
		if firebreak.ErrorCode(err) != firebreak.EUNAVAILABLE || !strings.Contains(err.Error(), "failed closed") {
			t.Fatalf("Append after the failure: err = %v, want EUNAVAILABLE failed closed", err)
		}
		if got := calls.Load(); got != before {
			t.Fatalf("%d fsyncs after the failure, want none", got-before)
		}
		// The written but unsigned record is a torn tail: Verify says so,
		// Open drops it and keeps a copy.
		l.Close()
		if _, err := audit.Verify(dir, key); err == nil || !strings.Contains(err.Error(), "not covered by a signed checkpoint") {
			t.Fatalf("Verify of the unsigned tail: err = %v", err)
		}
		l = openLog(t, dir)
		if got := l.Size(); got != 3 {
			t.Fatalf("Size after reopen = %d, want 3", got)
		}
		torn, _ := filepath.Glob(filepath.Join(dir, "torn-*.jsonl"))
		if len(torn) != 1 {
			t.Fatalf("torn files = %v, want one", torn)
		}
		if b, _ := os.ReadFile(torn[0]); !bytes.Contains(b, []byte(`"object":"run/3"`)) {
			t.Fatalf("torn file holds %q, want the dropped record", b)
		}
		appendN(t, l, 2)
		l.Close()
		if rep := mustVerify(t, dir, key); rep.Records != 5 {
			t.Fatalf("records = %d, want 5", rep.Records)
		}
	})
}

func TestOpenRepairsTornTail(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	appendN(t, l, 4)
	key, cp := l.VerifierKey(), l.Checkpoint()
	l.Close()
	appendTo(t, filepath.Join(dir, "records.jsonl"), `{"seq":4,"time":"2026-03-02T08:`)
	appendTo(t, filepath.Join(dir, "hashes"), "0123456789")
	appendTo(t, filepath.Join(dir, "checkpoints"), "go.sum database tree\n5\n")
	if _, err := audit.Verify(dir, key); err == nil {
		t.Fatal("Verify passed a torn tail")
	}
	l = openLog(t, dir)
	if l.Size() != 4 || l.Checkpoint() != cp {
		t.Fatalf("after repair: size %d, checkpoint changed: %v", l.Size(), l.Checkpoint() != cp)
	}
	appendN(t, l, 1)
	l.Close()
	mustVerify(t, dir, key)
}

func TestOpenRefusesDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"signed records removed", func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, "records.jsonl"), -1)
		}, "signed records are missing"},
		{"hashes removed", func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, "hashes"), -32)
		}, "hashes"},
		{"last record changed", func(t *testing.T, dir string) {
			flip(t, filepath.Join(dir, "records.jsonl"), -5)
		}, "does not match its hash"},
		{"latest checkpoint forged", func(t *testing.T, dir string) {
			flip(t, filepath.Join(dir, "checkpoints"), -5)
		}, "latest checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir)
			appendN(t, l, 3)
			l.Close()
			tt.damage(t, dir)
			_, err := audit.Open(dir, audit.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestVerifyWithoutPinnedKeyWarns(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	appendN(t, l, 2)
	l.Close()
	rep := mustVerify(t, dir, "")
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "no pinned verifier key") {
		t.Fatalf("warnings = %q, want the unpinned-key warning", rep.Warnings)
	}
}

func TestExport(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir)
	appendN(t, l, 7)
	var exp bytes.Buffer
	if err := l.Export(&exp); err != nil {
		t.Fatal(err)
	}
	key := l.VerifierKey()
	l.Close()
	var fromDir bytes.Buffer
	if err := audit.ExportDir(dir, &fromDir); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(exp.Bytes(), fromDir.Bytes()) {
		t.Fatalf("ExportDir differs from Export:\n%s\n---\n%s", fromDir.Bytes(), exp.Bytes())
	}
	got, err := audit.VerifyExport(bytes.NewReader(exp.Bytes()), key)
	if err != nil {
		t.Fatalf("VerifyExport: %v", err)
	}
	want := mustVerify(t, dir, key)
	if got.Records != want.Records || got.RootHash != want.RootHash || got.Checkpoints != want.Checkpoints || len(got.Warnings) != 0 {
		t.Fatalf("VerifyExport report = %+v, want %+v", got, want)
	}
	if rep, err := audit.VerifyExport(bytes.NewReader(exp.Bytes()), ""); err != nil || len(rep.Warnings) != 1 {
		t.Fatalf("VerifyExport without a key = %+v, %v; want a warning", rep, err)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// truncate shortens path by -delta bytes.
func truncate(t *testing.T, path string, delta int64) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()+delta); err != nil {
		t.Fatal(err)
	}
}

// flip inverts one bit of the byte at off (negative: from the end).
func flip(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 0x04
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
