package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// treePrefix starts every checkpoint (tlog.FormatTree).
var treePrefix = []byte("go.sum database tree\n")

// recover loads the state at the latest checkpoint, checks that the hashes
// and records still match it, and cuts off what lies beyond it.
func (l *Log) recover() error {
	msg, tree, ckEnd, err := l.lastCheckpoint()
	if err != nil {
		return err
	}
	if msg == nil {
		tree = tlog.Tree{N: 0}
		if tree.Hash, err = tlog.TreeHash(0, nil); err != nil {
			return err
		}
	}
	offsets, err := scanOffsets(l.records)
	if err != nil {
		return err
	}
	if msg == nil && len(offsets) > 1 {
		// A new log signs its empty tree before the first record.
		return fmt.Errorf("%s holds records but %s no checkpoint: the checkpoints were removed; run 'firebreak audit verify'", recordsFile, checkpointsFile)
	}
	if got := int64(len(offsets) - 1); got < tree.N {
		return fmt.Errorf("%s holds %d records but the latest checkpoint signs %d: signed records are missing; run 'firebreak audit verify'", recordsFile, got, tree.N)
	}
	nhash := tlog.StoredHashCount(tree.N)
	if err := l.checkTip(tree, offsets); err != nil {
		return fmt.Errorf("%w; run 'firebreak audit verify'", err)
	}
	if err := l.cutTail(tree.N, offsets, nhash, ckEnd); err != nil {
		return err
	}
	if msg == nil {
		// A new log starts with a signed empty tree, so that a log whose
		// checkpoints file is emptied later is recognised as damaged.
		if msg, err = signTree(l.signer, tree); err != nil {
			return err
		}
		if err := l.writeSync(l.checkpoints, msg, 0); err != nil {
			return err
		}
		ckEnd = int64(len(msg))
	}
	l.offsets, l.nhash, l.ckEnd, l.checkpoint, l.tree = offsets[:tree.N+1], nhash, ckEnd, msg, tree
	return nil
}

// checkTip checks the hashes file against the latest checkpoint, and the
// last signed record against its stored hash.
func (l *Log) checkTip(tree tlog.Tree, offsets []int64) error {
	fr := fileHashes{f: l.hashes}
	got, err := tlog.TreeHash(tree.N, fr)
	if err != nil {
		return fmt.Errorf("%s is shorter than the latest checkpoint needs: %w", hashesFile, err)
	}
	if got != tree.Hash {
		return fmt.Errorf("%s does not match the latest checkpoint", hashesFile)
	}
	if tree.N == 0 {
		return nil
	}
	line := make([]byte, offsets[tree.N]-offsets[tree.N-1]-1)
	if _, err := l.records.ReadAt(line, offsets[tree.N-1]); err != nil {
		return err
	}
	h, err := fr.ReadHashes([]int64{tlog.StoredHashIndex(0, tree.N-1)})
	if err != nil {
		return err
	}
	if tlog.RecordHash(line) != h[0] {
		return fmt.Errorf("record %d in %s does not match its hash", tree.N-1, recordsFile)
	}
	return nil
}

// cutTail truncates every file to the latest checkpoint. What it drops was
// never acknowledged by Append; the dropped records are kept in a torn-*
// file so that nobody loses evidence silently.
func (l *Log) cutTail(n int64, offsets []int64, nhash, ckEnd int64) error {
	sizes := make([]int64, 3)
	for i, f := range []*os.File{l.records, l.hashes, l.checkpoints} {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		sizes[i] = st.Size()
	}
	recEnd := offsets[n]
	if sizes[0] == recEnd && sizes[1] == nhash*tlog.HashSize && sizes[2] == ckEnd {
		return nil
	}
	dropped := int64(len(offsets)-1) - n
	if sizes[0] > recEnd {
		tail := make([]byte, sizes[0]-recEnd)
		if _, err := l.records.ReadAt(tail, recEnd); err != nil {
			return err
		}
		path := filepath.Join(l.dir, "torn-"+strconv.FormatInt(l.now().UnixNano(), 10)+".jsonl")
		if err := writeFileSync(path, tail, 0o600); err != nil {
			return err
		}
		l.log.Warn("audit: dropped records past the latest checkpoint (a crash during Append, or records added without the key); saved them",
			"records", dropped, "bytes", len(tail), "first_seq", n, "saved_to", path)
	}
	if sizes[2] > ckEnd {
		l.log.Warn("audit: dropped a torn checkpoint", "bytes", sizes[2]-ckEnd)
	}
	for i, f := range []*os.File{l.records, l.hashes, l.checkpoints} {
		end := [3]int64{recEnd, nhash * tlog.HashSize, ckEnd}[i]
		if sizes[i] > end {
			if err := f.Truncate(end); err != nil {
				return err
			}
			if err := l.sync(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// lastCheckpoint finds the last complete checkpoint and verifies it. It
// reads only the end of the file. Bytes after that checkpoint must be a
// torn write, shorter than a checkpoint; more is damage, and refused.
func (l *Log) lastCheckpoint() (msg []byte, tree tlog.Tree, end int64, err error) {
	st, err := l.checkpoints.Stat()
	if err != nil {
		return nil, tree, 0, err
	}
	size := st.Size()
	start := max(0, size-4*maxNoteSize)
	tail := make([]byte, size-start)
	if _, err := l.checkpoints.ReadAt(tail, start); err != nil {
		return nil, tree, 0, err
	}
	// Candidate starts: the tree prefix at the start of a line.
	for i := len(tail); i >= 0; i-- {
		i = bytes.LastIndex(tail[:i], treePrefix)
		if i < 0 {
			break
		}
		if i == 0 && start > 0 || i > 0 && tail[i-1] != '\n' {
			continue
		}
		note, err := readNote(bufio.NewReader(bytes.NewReader(tail[i:])))
		if err != nil {
			continue // torn or damaged: try the one before
		}
		end = start + int64(i+len(note))
		if size-end >= maxNoteSize {
			return nil, tree, 0, fmt.Errorf("%s has %d bytes of damage after the checkpoint at byte %d; run 'firebreak audit verify'", checkpointsFile, size-end, start+int64(i))
		}
		if tree, err = openCheckpoint(note, l.verifier); err != nil {
			return nil, tree, 0, fmt.Errorf("latest checkpoint (byte %d of %s) %w; run 'firebreak audit verify'", start+int64(i), checkpointsFile, err)
		}
		return note, tree, end, nil
	}
	if size >= maxNoteSize {
		return nil, tree, 0, fmt.Errorf("%s holds %d bytes but no complete checkpoint at its end", checkpointsFile, size)
	}
	return nil, tlog.Tree{}, 0, nil // new log, or torn first checkpoint
}

// scanOffsets returns the start of every complete line in f, plus the end
// of the last one.
func scanOffsets(f *os.File) ([]int64, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 256<<10)
	offsets := []int64{0}
	var off int64
	for {
		line, err := br.ReadSlice('\n')
		off += int64(len(line))
		switch {
		case err == nil:
			offsets = append(offsets, off)
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return offsets, nil
		default:
			return nil, err
		}
	}
}

// fileHashes reads stored hashes from the hashes file.
type fileHashes struct{ f *os.File }

// ReadHashes implements tlog.HashReader.
func (r fileHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if _, err := r.f.ReadAt(out[i][:], idx*tlog.HashSize); err != nil {
			return nil, fmt.Errorf("read stored hash %d: %w", idx, err)
		}
	}
	return out, nil
}
