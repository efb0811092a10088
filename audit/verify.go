package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Report is the outcome of a verification.
type Report struct {
	Records     int64    // records checked
	TreeSize    int64    // size signed by the latest checkpoint
	RootHash    string   // root hash of the latest checkpoint (base64)
	Checkpoints int      // checkpoints whose signature and tree were checked
	VerifierKey string   // the key the signatures were checked with (name+hash)
	Warnings    []string // what was not checked, or was odd but not wrong
}

// VerifyError says what failed verification and where.
type VerifyError struct {
	File       string // records.jsonl, hashes, checkpoints, verifier key or export
	Seq        int64  // the record concerned, or -1
	Checkpoint int    // the checkpoint concerned (0-based, in file order), or -1
	Reason     string
}

// Error implements the error interface:
// "audit log does not verify: records.jsonl: record 7: is not in canonical form".
func (e *VerifyError) Error() string {
	var b strings.Builder
	b.WriteString("audit log does not verify: ")
	b.WriteString(e.File)
	if e.Checkpoint >= 0 {
		fmt.Fprintf(&b, ": checkpoint %d", e.Checkpoint)
	}
	if e.Seq >= 0 {
		fmt.Fprintf(&b, ": record %d", e.Seq)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

func verr(file string, seq int64, ck int, format string, args ...any) *VerifyError {
	return &VerifyError{File: file, Seq: seq, Checkpoint: ck, Reason: fmt.Sprintf(format, args...)}
}

// Verify checks the log in dir from scratch: every record's canonical form
// and position, every stored hash, every checkpoint's signature (with
// verifierKey), that every checkpoint is the tree of a prefix of the records
// and consistent with the one before, and that the latest covers every
// record. An empty verifierKey means the directory's own verifier.key, which
// proves much less; the Report then says so. A failure is a *VerifyError.
//
// Verify only reads. While another process appends, it checks the log up to
// the latest checkpoint it saw and warns.
func Verify(dir, verifierKey string) (Report, error) {
	var rep Report
	v, err := pinnedKey(dir, verifierKey, &rep)
	if err != nil {
		return rep, err
	}
	live := writerActive(filepath.Join(dir, lockFile))
	if live {
		rep.Warnings = append(rep.Warnings, "a process is appending: checked the log up to the latest checkpoint when verification started")
	}
	c := &checker{recName: recordsFile, ckName: checkpointsFile, v: v}
	if err := c.readCheckpointsFile(filepath.Join(dir, checkpointsFile), live); err != nil {
		return rep, err
	}
	limit := int64(-1)
	if live && len(c.trees) > 0 {
		limit = c.trees[len(c.trees)-1].N
	}
	if err := c.readRecordsFile(filepath.Join(dir, recordsFile), limit, live); err != nil {
		return rep, err
	}
	hf, err := os.Open(filepath.Join(dir, hashesFile))
	if err != nil {
		return rep, verr(hashesFile, -1, -1, "%v", err)
	}
	defer hf.Close()
	if err := c.checkTrees(fileHashes{hf}); err != nil {
		return rep, err
	}
	if err := c.compareHashes(hf, live); err != nil {
		return rep, err
	}
	return c.report(rep), nil
}

// pinnedKey returns the verifier for key, or for dir's verifier.key with a
// warning when key is empty.
func pinnedKey(dir, key string, rep *Report) (note.Verifier, error) {
	own, ownErr := os.ReadFile(filepath.Join(dir, verifierKeyFile))
	if key == "" {
		if ownErr != nil {
			return nil, verr(verifierKeyFile, -1, -1, "no verifier key given and %v", ownErr)
		}
		key = string(own)
		rep.Warnings = append(rep.Warnings, "no pinned verifier key: used the log's own "+verifierKeyFile+
			", which anyone able to rewrite the log can replace; pass a copy kept elsewhere")
	} else if ownErr == nil && strings.TrimSpace(string(own)) != strings.TrimSpace(key) {
		return nil, verr(verifierKeyFile, -1, -1, "holds %q, not the pinned key %q: the key file was replaced, or the pinned key belongs to another log", abbrev(string(own)), abbrev(key))
	}
	v, err := parseVerifierKey(key)
	if err != nil {
		return nil, verr("verifier key", -1, -1, "%v", err)
	}
	rep.VerifierKey = keyID(v)
	return v, nil
}

// checker recomputes the tree from records and checks checkpoints against it.
type checker struct {
	recName, ckName string // where records and checkpoints come from, for errors
	v               note.Verifier
	hashes          []tlog.Hash // recomputed stored hashes
	n               int64       // records read
	trees           []tlog.Tree // checkpoints read, signatures checked
}

// ReadHashes implements tlog.HashReader over the recomputed hashes.
func (c *checker) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 || idx >= int64(len(c.hashes)) {
			return nil, fmt.Errorf("stored hash %d out of range", idx)
		}
		out[i] = c.hashes[idx]
	}
	return out, nil
}

// addRecord checks the next record line (without its newline) and hashes it.
func (c *checker) addRecord(line []byte) error {
	if _, err := decodeRecord(line, c.n); err != nil {
		return verr(c.recName, c.n, -1, "%v", err)
	}
	hs, err := tlog.StoredHashes(c.n, line, c)
	if err != nil {
		return verr(c.recName, c.n, -1, "%v", err)
	}
	c.hashes = append(c.hashes, hs...)
	c.n++
	return nil
}

// addCheckpoint checks the next checkpoint's form and signature.
func (c *checker) addCheckpoint(msg []byte) error {
	i := len(c.trees)
	tree, err := openCheckpoint(msg, c.v)
	if err != nil {
		return verr(c.ckName, -1, i, "%v", err)
	}
	if i > 0 && tree.N < c.trees[i-1].N {
		return verr(c.ckName, -1, i, "signs %d records, fewer than the %d of the checkpoint before it (a rollback)", tree.N, c.trees[i-1].N)
	}
	c.trees = append(c.trees, tree)
	return nil
}

// checkTrees checks every checkpoint against the recomputed tree, and the
// latest against the number of records. stored, when not nil, is the
// hashes file: it tells a changed record from a forged checkpoint.
func (c *checker) checkTrees(stored tlog.HashReader) error {
	if len(c.trees) == 0 {
		return verr(c.ckName, -1, -1, "no checkpoint: a log always has at least the signed empty tree")
	}
	for i, tree := range c.trees {
		if tree.N > c.n {
			return verr(c.recName, c.n, i, "the checkpoint signs %d records but only %d remain: records were truncated or deleted", tree.N, c.n)
		}
		th, err := tlog.TreeHash(tree.N, c)
		if err != nil {
			return verr(c.ckName, -1, i, "%v", err)
		}
		if th != tree.Hash {
			return c.mismatch(i, stored)
		}
		if i == 0 {
			continue
		}
		// The consistency proof a holder of only the two checkpoints would
		// check: the later tree extends the earlier one, no fork.
		prev := c.trees[i-1]
		if err := checkExtends(prev, tree, c); err != nil {
			return verr(c.ckName, -1, i, "not consistent with checkpoint %d (a fork): %v", i-1, err)
		}
	}
	if last := c.trees[len(c.trees)-1]; last.N < c.n {
		return verr(c.recName, last.N, -1, "%d record(s) from here on not covered by a signed checkpoint: a crash during Append (Open drops them) or records added without the key", c.n-last.N)
	}
	return nil
}

// checkExtends checks, with a tlog tree proof built from r, that tree newer
// contains tree older as a prefix.
func checkExtends(older, newer tlog.Tree, r tlog.HashReader) error {
	if older.N == 0 || older.N == newer.N {
		if older.N == newer.N && older.Hash != newer.Hash {
			return errors.New("same size, different root hash")
		}
		return nil
	}
	proof, err := tlog.ProveTree(newer.N, older.N, r)
	if err != nil {
		return err
	}
	return tlog.CheckTree(proof, newer.N, newer.Hash, older.N, older.Hash)
}

// mismatch explains why checkpoint i does not match the records.
func (c *checker) mismatch(i int, stored tlog.HashReader) error {
	tree := c.trees[i]
	if stored != nil {
		if sh, err := tlog.TreeHash(tree.N, stored); err == nil && sh == tree.Hash {
			// The signed tree matches the stored hashes: a record changed.
			for k := range tree.N {
				idx := []int64{tlog.StoredHashIndex(0, k)}
				h, err := stored.ReadHashes(idx)
				if err != nil {
					break
				}
				if h[0] != c.hashes[idx[0]] {
					return verr(c.recName, k, i, "the record was changed after it was signed (its hash no longer matches the signed tree)")
				}
			}
		}
	}
	lo := int64(0)
	if i > 0 {
		lo = c.trees[i-1].N
	}
	return verr(c.recName, -1, i, "the records do not match this checkpoint (size %d): records %d to %d were changed or moved, or the checkpoint comes from another history (a fork)", tree.N, lo, tree.N-1)
}

// compareHashes checks the hashes file holds exactly the recomputed hashes.
func (c *checker) compareHashes(f *os.File, live bool) error {
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 64<<10)
	var h tlog.Hash
	for idx, want := range c.hashes {
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return verr(hashesFile, -1, -1, "holds %d stored hashes, want %d", idx, len(c.hashes))
		}
		if h != want {
			level, n := tlog.SplitStoredHashIndex(int64(idx))
			return verr(hashesFile, -1, -1, "stored hash %d (level %d, node %d) does not match the records, which match the signed checkpoints: the hashes file was changed", idx, level, n)
		}
	}
	if _, err := br.ReadByte(); err == nil && !live {
		return verr(hashesFile, -1, -1, "holds more than the %d stored hashes of %d records", len(c.hashes), c.n)
	}
	return nil
}

func (c *checker) report(rep Report) Report {
	last := c.trees[len(c.trees)-1]
	rep.Records, rep.TreeSize, rep.RootHash, rep.Checkpoints = c.n, last.N, last.Hash.String(), len(c.trees)
	return rep
}

// readCheckpointsFile reads and checks every checkpoint in path. With live,
// a torn checkpoint at the end is an append in progress and is skipped.
func (c *checker) readCheckpointsFile(path string, live bool) error {
	f, err := os.Open(path)
	if err != nil {
		return verr(c.ckName, -1, -1, "%v", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		msg, err := readNote(br)
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, errPartial) && live:
			return nil
		case errors.Is(err, errPartial):
			return verr(c.ckName, -1, len(c.trees), "torn at the end of the file (a crash during Append; Open repairs it)")
		case err != nil:
			return verr(c.ckName, -1, len(c.trees), "%v", err)
		}
		if err := c.addCheckpoint(msg); err != nil {
			return err
		}
	}
}

// readRecordsFile reads and hashes every record in path, or the first limit
// when limit >= 0.
func (c *checker) readRecordsFile(path string, limit int64, live bool) error {
	f, err := os.Open(path)
	if err != nil {
		return verr(c.recName, -1, -1, "%v", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	for limit < 0 || c.n < limit {
		line, err := readLine(br, MaxRecordSize)
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, errPartial) && live:
			return nil
		case errors.Is(err, errPartial):
			return verr(c.recName, c.n, -1, "torn at the end of the file: no newline (a crash during Append; Open repairs it)")
		case err != nil:
			return verr(c.recName, c.n, -1, "%v", err)
		}
		if err := c.addRecord(line[:len(line)-1]); err != nil {
			return err
		}
	}
	return nil
}
