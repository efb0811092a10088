package audit_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"firebreak"
	"firebreak/audit"
)

// logFiles is a closed log's three data files.
type logFiles struct{ records, hashes, checkpoints []byte }

func readLogFiles(t *testing.T, dir string) logFiles {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return logFiles{read("records.jsonl"), read("hashes"), read("checkpoints")}
}

func (f logFiles) write(t *testing.T, dir string) {
	t.Helper()
	for name, b := range map[string][]byte{"records.jsonl": f.records, "hashes": f.hashes, "checkpoints": f.checkpoints} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func (f logFiles) equal(g logFiles) bool {
	return bytes.Equal(f.records, g.records) && bytes.Equal(f.hashes, g.hashes) && bytes.Equal(f.checkpoints, g.checkpoints)
}

// lines splits a records file into lines without their newlines.
func lines(b []byte) [][]byte {
	ls := bytes.SplitAfter(b, []byte("\n"))
	out := make([][]byte, 0, len(ls))
	for _, l := range ls {
		if len(l) > 0 {
			out = append(out, bytes.TrimSuffix(l, []byte("\n")))
		}
	}
	return out
}

func joinLines(ls [][]byte) []byte {
	var b []byte
	for _, l := range ls {
		b = append(append(b, l...), '\n')
	}
	return b
}

// notes splits a checkpoints file into its signed notes.
func notes(b []byte) [][]byte {
	var out [][]byte
	parts := bytes.Split(b, []byte("go.sum database tree\n"))
	for _, p := range parts[1:] {
		out = append(out, append([]byte("go.sum database tree\n"), p...))
	}
	return out
}

// storedHashes recomputes the hashes file for records, as an attacker
// rewriting records and hashes consistently would.
func storedHashes(t *testing.T, recs [][]byte) []byte {
	t.Helper()
	var hs []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hs[x]
		}
		return out, nil
	})
	for n, rec := range recs {
		h, err := tlog.StoredHashes(int64(n), rec, r)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h...)
	}
	var b []byte
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

// buildLog writes a log of 40 records in singles and batches and returns
// its directory, files and verifier key.
func buildLog(t *testing.T, actor string) (string, logFiles, string) {
	t.Helper()
	dir := t.TempDir()
	l := openLog(t, dir)
	for i := 0; i < 40; {
		n := 1 + i%4
		batch := make([]firebreak.AuditRecord, n)
		for j := range batch {
			batch[j] = record(i + j)
			batch[j].Actor = actor
		}
		if _, err := l.AppendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	key := l.VerifierKey()
	l.Close()
	return dir, readLogFiles(t, dir), key
}

// copyKeys makes a second log directory that shares dir's key pair.
func copyKeys(t *testing.T, dir string) string {
	t.Helper()
	fork := t.TempDir()
	for _, name := range []string{"signer.key", "verifier.key"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fork, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return fork
}

// forgedLine is a well-formed record line an attacker could write.
func forgedLine(t *testing.T, seq int) []byte {
	t.Helper()
	b, err := json.Marshal(firebreak.AuditRecord{Seq: int64(seq), Time: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		Actor: "mallory", Action: firebreak.AuditPlanApproved, Object: "plan/1"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mutator changes a log's files (or the key it is verified with) one way.
type mutator struct {
	name string
	fn   func(r *mrand.Rand, f logFiles) (logFiles, string) // files, verifier key ("" keeps the real one)
}

// TestMutationsDetected mutates a log a thousand ways, each from a seeded
// RNG, and expects Verify with the pinned key to refuse every one.
func TestMutationsDetected(t *testing.T) {
	dir, orig, key := buildLog(t, "alice")
	if _, err := audit.Verify(dir, key); err != nil {
		t.Fatalf("unmutated log: %v", err)
	}
	// A fork: the same key, another history.
	forkDir := copyKeys(t, dir)
	fl := openLog(t, forkDir)
	for i := range 40 {
		r := record(i)
		r.Actor = "mallory"
		if _, err := fl.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	fl.Close()
	fork := readLogFiles(t, forkDir)
	// Another key with the same name.
	skey, otherKey, err := note.GenerateKey(rand.Reader, audit.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	other, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}

	mutators := []mutator{
		{"flip a records byte", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			f.records = flipRandom(r, f.records)
			return f, ""
		}},
		{"flip a hashes byte", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			f.hashes = flipRandom(r, f.hashes)
			return f, ""
		}},
		{"flip a checkpoints byte", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			f.checkpoints = flipRandom(r, f.checkpoints)
			return f, ""
		}},
		{"delete a record", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			ls := lines(f.records)
			k := r.IntN(len(ls))
			f.records = joinLines(append(ls[:k:k], ls[k+1:]...))
			return f, ""
		}},
		{"delete a record, rewrite hashes", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			ls := lines(f.records)
			k := r.IntN(len(ls))
			ls = append(ls[:k:k], ls[k+1:]...)
			f.records, f.hashes = joinLines(ls), storedHashes(t, ls)
			return f, ""
		}},
		{"swap two records", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			ls := lines(f.records)
			i, j := r.IntN(len(ls)), r.IntN(len(ls)-1)
			if j >= i {
				j++
			}
			ls[i], ls[j] = ls[j], ls[i]
			f.records = joinLines(ls)
			if r.IntN(2) == 0 {
				f.hashes = storedHashes(t, ls)
			}
			return f, ""
		}},
		{"rewrite a record consistently", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			ls := lines(f.records)
			k := r.IntN(len(ls))
			ls[k] = bytes.Replace(ls[k], []byte(`"actor":"alice"`), []byte(`"actor":"bob"`), 1)
			f.records, f.hashes = joinLines(ls), storedHashes(t, ls)
			return f, ""
		}},
		{"truncate a file", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			switch r.IntN(3) {
			case 0:
				f.records = f.records[:r.IntN(len(f.records))]
			case 1:
				f.hashes = f.hashes[:r.IntN(len(f.hashes))]
			default:
				f.checkpoints = f.checkpoints[:r.IntN(len(f.checkpoints))]
			}
			return f, ""
		}},
		{"truncate records and hashes to a record boundary", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			ls := lines(f.records)
			ls = ls[:r.IntN(len(ls))]
			f.records, f.hashes = joinLines(ls), storedHashes(t, ls)
			return f, ""
		}},
		{"append a forged record", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			ls := lines(f.records)
			ls = append(ls, forgedLine(t, len(ls)))
			f.records = joinLines(ls)
			if r.IntN(2) == 0 {
				f.hashes = storedHashes(t, ls)
			}
			return f, ""
		}},
		{"replace a checkpoint with the fork's", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			real, forged := notes(f.checkpoints), notes(fork.checkpoints)
			k := 1 + r.IntN(len(real)-1)
			real[k] = forged[min(k, len(forged)-1)]
			if r.IntN(3) == 0 {
				real[k] = forged[len(forged)-1]
			}
			f.checkpoints = bytes.Join(real, nil)
			return f, ""
		}},
		{"replace the checkpoints file with the fork's", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			f.checkpoints = fork.checkpoints
			return f, ""
		}},
		{"re-sign a checkpoint with another key", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			ns := notes(f.checkpoints)
			k := r.IntN(len(ns))
			text, _, _ := bytes.Cut(ns[k], []byte("\n\n"))
			msg, err := note.Sign(&note.Note{Text: string(text) + "\n"}, other)
			if err != nil {
				t.Fatal(err)
			}
			ns[k] = msg
			f.checkpoints = bytes.Join(ns, nil)
			return f, ""
		}},
		{"drop the latest checkpoint", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			ns := notes(f.checkpoints)
			f.checkpoints = bytes.Join(ns[:len(ns)-1-r.IntN(3)], nil)
			return f, ""
		}},
		{"verify with the wrong key", func(r *mrand.Rand, f logFiles) (logFiles, string) {
			return f, otherKey
		}},
	}

	const total = 1000
	work := t.TempDir()
	for _, name := range []string{"signer.key", "verifier.key"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		os.WriteFile(filepath.Join(work, name), b, 0o600)
	}
	r := mrand.New(mrand.NewPCG(2026, 3))
	counts := make(map[string]int)
	for done := 0; done < total; {
		m := mutators[r.IntN(len(mutators))]
		f, k := m.fn(r, orig)
		if k == "" {
			if f.equal(orig) {
				continue // the mutation changed nothing (e.g. a no-op swap)
			}
			k = key
		}
		f.write(t, work)
		_, err := audit.Verify(work, k)
		var ve *audit.VerifyError
		if err == nil {
			t.Fatalf("mutation %d (%s) was not detected", done, m.name)
		} else if !errors.As(err, &ve) {
			t.Fatalf("mutation %d (%s): err = %v, want a *VerifyError", done, m.name, err)
		}
		if counts[m.name] == 0 {
			t.Logf("%s: %v", m.name, err)
		}
		counts[m.name]++
		done++
	}
	for _, m := range mutators {
		if counts[m.name] == 0 {
			t.Errorf("mutator %q never ran", m.name)
		}
	}
	t.Logf("%d mutations detected: %v", total, counts)
}

// TestExportMutationsDetected does the same to an export file.
func TestExportMutationsDetected(t *testing.T) {
	dir, _, key := buildLog(t, "alice")
	var buf bytes.Buffer
	if err := audit.ExportDir(dir, &buf); err != nil {
		t.Fatal(err)
	}
	orig := buf.Bytes()
	if _, err := audit.VerifyExport(bytes.NewReader(orig), key); err != nil {
		t.Fatalf("unmutated export: %v", err)
	}
	forkDir := copyKeys(t, dir)
	fl := openLog(t, forkDir)
	for i := range 40 {
		r := record(i)
		r.Actor = "mallory"
		if _, err := fl.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	fl.Close()
	var forkBuf bytes.Buffer
	if err := audit.ExportDir(forkDir, &forkBuf); err != nil {
		t.Fatal(err)
	}
	forkNotes := notes(forkBuf.Bytes()[bytes.Index(forkBuf.Bytes(), []byte("checkpoints\n"))+len("checkpoints\n"):])
	_, otherKey, _ := note.GenerateKey(rand.Reader, audit.DefaultName)

	// split cuts an export into header lines, record lines and checkpoints.
	split := func(b []byte) (head []byte, recs [][]byte, cks [][]byte) {
		i := bytes.Index(b, []byte("records "))
		j := i + bytes.IndexByte(b[i:], '\n') + 1
		k := bytes.Index(b, []byte("checkpoints\n"))
		ck := bytes.TrimSuffix(b[k+len("checkpoints\n"):], []byte("end\n"))
		return b[:i], lines(b[j:k]), notes(ck)
	}
	join := func(head []byte, recs [][]byte, cks [][]byte) []byte {
		out := append([]byte{}, head...)
		out = fmt.Appendf(out, "records %d\n", len(recs))
		out = append(out, joinLines(recs)...)
		out = append(out, "checkpoints\n"...)
		return append(append(out, bytes.Join(cks, nil)...), "end\n"...)
	}
	type exportMutator struct {
		name string
		fn   func(r *mrand.Rand, b []byte) ([]byte, string)
	}
	mutators := []exportMutator{
		{"flip a byte", func(r *mrand.Rand, b []byte) ([]byte, string) { return flipRandom(r, b), "" }},
		{"truncate", func(r *mrand.Rand, b []byte) ([]byte, string) { return b[:r.IntN(len(b))], "" }},
		{"append bytes", func(r *mrand.Rand, b []byte) ([]byte, string) {
			return append(append([]byte{}, b...), "x\n"[r.IntN(2):]...), ""
		}},
		{"delete a record", func(r *mrand.Rand, b []byte) ([]byte, string) {
			h, recs, cks := split(b)
			k := r.IntN(len(recs))
			return join(h, append(recs[:k:k], recs[k+1:]...), cks), ""
		}},
		{"swap two records", func(r *mrand.Rand, b []byte) ([]byte, string) {
			h, recs, cks := split(b)
			i, j := r.IntN(len(recs)), r.IntN(len(recs))
			recs[i], recs[j] = recs[j], recs[i]
			return join(h, recs, cks), ""
		}},
		{"append a forged record", func(r *mrand.Rand, b []byte) ([]byte, string) {
			h, recs, cks := split(b)
			return join(h, append(recs, forgedLine(t, len(recs))), cks), ""
		}},
		{"drop trailing records", func(r *mrand.Rand, b []byte) ([]byte, string) {
			h, recs, cks := split(b)
			return join(h, recs[:r.IntN(len(recs))], cks), ""
		}},
		{"replace a checkpoint with the fork's", func(r *mrand.Rand, b []byte) ([]byte, string) {
			h, recs, cks := split(b)
			k := 1 + r.IntN(len(cks)-1)
			cks[k] = forkNotes[min(k, len(forkNotes)-1)]
			return join(h, recs, cks), ""
		}},
		{"drop the latest checkpoint", func(r *mrand.Rand, b []byte) ([]byte, string) {
			h, recs, cks := split(b)
			return join(h, recs, cks[:len(cks)-1]), ""
		}},
		{"verify with the wrong key", func(r *mrand.Rand, b []byte) ([]byte, string) { return b, otherKey }},
	}
	r := mrand.New(mrand.NewPCG(2026, 4))
	counts := make(map[string]int)
	for done := 0; done < 1000; {
		m := mutators[r.IntN(len(mutators))]
		b, k := m.fn(r, bytes.Clone(orig))
		if k == "" {
			if bytes.Equal(b, orig) {
				continue
			}
			k = key
		}
		if _, err := audit.VerifyExport(bytes.NewReader(b), k); err == nil {
			t.Fatalf("export mutation %d (%s) was not detected:\n%s", done, m.name, b)
		}
		counts[m.name]++
		done++
	}
	t.Logf("1000 export mutations detected: %v", counts)
}

// flipRandom returns a copy of b with one byte XORed with a random non-zero value.
func flipRandom(r *mrand.Rand, b []byte) []byte {
	b = bytes.Clone(b)
	b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
	return b
}
