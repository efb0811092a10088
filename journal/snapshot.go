package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A snapshot file is the payload followed by a trailer:
//
//	seq (uint64 LE) | payload length (uint64 LE) | CRC-32C of payload (uint32 LE) | magic "FBSNAP01"
const (
	snapMagic       = "FBSNAP01"
	snapTrailerSize = 28
	snapExt         = ".snap"
	snapKeep        = 2
)

// WriteSnapshot writes a snapshot covering every journal record with seq ≤ seq
// into dir: write streams the payload into a temporary file, which is then
// given a trailer, fsynced, renamed into place atomically and made durable by
// fsyncing dir. Only the two snapshots with the highest seqs are kept.
// WriteSnapshot must not run concurrently on the same dir.
func WriteSnapshot(dir string, seq uint64, write func(w io.Writer) error) error {
	if err := mkdirDurable(dir, false); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "snapshot-*.tmp")
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := writeSnapshotFile(tmp, seq, write); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write snapshot %d: %w", seq, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write snapshot %d: %w", seq, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, snapshotName(seq))); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write snapshot %d: %w", seq, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write snapshot %d: %w", seq, err)
	}
	if err := pruneSnapshots(dir); err != nil {
		return fmt.Errorf("write snapshot %d: prune: %w", seq, err)
	}
	return nil
}

func writeSnapshotFile(f *os.File, seq uint64, write func(w io.Writer) error) error {
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &crcWriter{w: bw}
	if err := write(cw); err != nil {
		return err
	}
	var t [snapTrailerSize]byte
	binary.LittleEndian.PutUint64(t[0:8], seq)
	binary.LittleEndian.PutUint64(t[8:16], uint64(cw.n))
	binary.LittleEndian.PutUint32(t[16:20], cw.crc)
	copy(t[20:], snapMagic)
	if _, err := bw.Write(t[:]); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

type crcWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	c.n += int64(n)
	return n, err
}

// pruneSnapshots deletes all but the newest snapKeep snapshots and any
// temporary file left by an interrupted WriteSnapshot.
func pruneSnapshots(dir string) error {
	seqs, err := SnapshotSeqs(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, seq := range seqs[min(snapKeep, len(seqs)):] {
		names = append(names, snapshotName(seq))
	}
	tmps, err := filepath.Glob(filepath.Join(dir, "snapshot-*.tmp"))
	if err != nil {
		return err
	}
	for _, t := range tmps {
		names = append(names, filepath.Base(t))
	}
	if len(names) == 0 {
		return nil
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// SnapshotSeqs returns the seqs of the snapshot files in dir, newest first,
// without verifying them. A missing dir has none. The journal may be
// compacted only up to the oldest of them: if the newest proves corrupt,
// recovery falls back to the previous one and replays from there.
func SnapshotSeqs(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, snapExt) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, snapExt), 10, 64)
		if err != nil {
			continue // not ours
		}
		seqs = append(seqs, seq)
	}
	slices.SortFunc(seqs, func(a, b uint64) int { return cmpUint(b, a) })
	return seqs, nil
}

// OpenLatestSnapshot opens the newest snapshot in dir that passes its
// checksum and returns its seq and a reader of its payload, which the caller
// must close. A snapshot that fails verification is skipped with a warning
// logged to slog.Default() in favour of the previous one. With no usable
// snapshot it returns seq 0 and a nil reader.
func OpenLatestSnapshot(dir string) (seq uint64, r io.ReadCloser, err error) {
	seqs, err := SnapshotSeqs(dir)
	if err != nil {
		return 0, nil, fmt.Errorf("open snapshot: %w", err)
	}
	for _, seq := range seqs {
		path := filepath.Join(dir, snapshotName(seq))
		r, err := openSnapshot(path, seq)
		if err != nil {
			slog.Default().Warn("journal: skipping unusable snapshot", "file", path, "err", err)
			continue
		}
		return seq, r, nil
	}
	return 0, nil, nil
}

type snapshotReader struct {
	*io.SectionReader
	f *os.File
}

func (s *snapshotReader) Close() error { return s.f.Close() }

// openSnapshot verifies the file's trailer and checksum and returns a reader
// of its payload.
func openSnapshot(path string, seq uint64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	n, err := verifySnapshot(f, seq)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &snapshotReader{SectionReader: io.NewSectionReader(f, 0, n), f: f}, nil
}

func verifySnapshot(f *os.File, seq uint64) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size() - snapTrailerSize
	if size < 0 {
		return 0, fmt.Errorf("%d bytes is too short for a snapshot", st.Size())
	}
	var t [snapTrailerSize]byte
	if _, err := f.ReadAt(t[:], size); err != nil {
		return 0, err
	}
	switch {
	case string(t[20:]) != snapMagic:
		return 0, errors.New("bad trailer magic")
	case binary.LittleEndian.Uint64(t[0:8]) != seq:
		return 0, fmt.Errorf("trailer says seq %d", binary.LittleEndian.Uint64(t[0:8]))
	case binary.LittleEndian.Uint64(t[8:16]) != uint64(size):
		return 0, fmt.Errorf("trailer says %d payload bytes, file has %d", binary.LittleEndian.Uint64(t[8:16]), size)
	}
	cw := &crcWriter{w: io.Discard}
	if _, err := io.Copy(cw, io.NewSectionReader(f, 0, size)); err != nil {
		return 0, err
	}
	if cw.crc != binary.LittleEndian.Uint32(t[16:20]) {
		return 0, errors.New("checksum mismatch")
	}
	return size, nil
}

func snapshotName(seq uint64) string {
	return fmt.Sprintf("%020d%s", seq, snapExt)
}
