package journal

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// segment describes one segment file. Records in it have seqs
// first .. first+count-1.
type segment struct {
	first uint64
	count uint64
	path  string
}

// listSegments returns the segment files in dir, oldest first.
func listSegments(dir string) ([]segment, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []segment
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, segExt) {
			continue
		}
		first, err := strconv.ParseUint(strings.TrimSuffix(name, segExt), 10, 64)
		if err != nil || first == 0 {
			return nil, fmt.Errorf("segment %s: name is not a sequence number", name)
		}
		segs = append(segs, segment{first: first, path: filepath.Join(dir, name)})
	}
	slices.SortFunc(segs, func(a, b segment) int { return cmpUint(a.first, b.first) })
	return segs, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// loadSegments lists and verifies every segment in dir. A damaged tail in the
// last segment is truncated away; damage anywhere else is an error naming the
// file and offset, because those bytes were synced before the next segment
// was created.
func loadSegments(dir string, log *slog.Logger, noSync bool) ([]segment, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	for i := range segs {
		last := i == len(segs)-1
		if err := loadSegment(&segs[i], last, log, noSync); err != nil {
			return nil, err
		}
		if i > 0 && segs[i].first != segs[i-1].first+segs[i-1].count {
			return nil, fmt.Errorf("segment %s: starts at seq %d but %s ends at seq %d",
				filepath.Base(segs[i].path), segs[i].first,
				filepath.Base(segs[i-1].path), segs[i-1].first+segs[i-1].count-1)
		}
	}
	return segs, nil
}

// loadSegment counts the intact records of s and, if last, truncates any
// damaged tail.
func loadSegment(s *segment, last bool, log *slog.Logger, noSync bool) error {
	name := filepath.Base(s.path)
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("segment %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("segment %s: %w", name, err)
	}
	if st.Size() < segHeaderSize && last {
		// Torn while being created: it cannot hold an acknowledged record.
		log.Warn("journal: rewriting torn segment header", "segment", name, "dropped_bytes", st.Size())
		return rewriteHeader(f, s.first, noSync)
	}
	if err := checkHeader(f, s.first); err != nil {
		return fmt.Errorf("segment %s: offset 0: %w", name, err)
	}
	var n uint64
	valid, err := scanRecords(f, func([]byte) error { n++; return nil })
	if err != nil {
		return fmt.Errorf("segment %s: %w", name, err)
	}
	s.count = n
	end := segHeaderSize + valid
	if end == st.Size() {
		return nil
	}
	if !last {
		return fmt.Errorf("segment %s: corrupt record at offset %d (%d bytes after it unreadable)",
			name, end, st.Size()-end)
	}
	log.Warn("journal: truncating damaged tail of last segment",
		"segment", name, "offset", end, "dropped_bytes", st.Size()-end, "records", n)
	return truncate(f, end, noSync)
}

// checkHeader reads the header at the start of f and checks it names first.
func checkHeader(f io.Reader, first uint64) error {
	var h [segHeaderSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	got, err := parseSegmentHeader(h[:])
	if err == nil && got != first {
		err = fmt.Errorf("header says first seq %d", got)
	}
	return err
}

func rewriteHeader(f *os.File, first uint64, noSync bool) error {
	if err := truncate(f, 0, true); err != nil {
		return err
	}
	if _, err := f.WriteAt(appendSegmentHeader(nil, first), 0); err != nil {
		return fmt.Errorf("rewrite segment header: %w", err)
	}
	return syncFile(f, noSync)
}

func truncate(f *os.File, size int64, noSync bool) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate segment: %w", err)
	}
	return syncFile(f, noSync)
}

func syncFile(f *os.File, noSync bool) error {
	if noSync {
		return nil
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", filepath.Base(f.Name()), err)
	}
	return nil
}

// createSegment creates the segment file starting at first, writes and syncs
// its header, and syncs dir so that the new name survives a crash.
func createSegment(dir string, first uint64, noSync bool) (*os.File, error) {
	path := filepath.Join(dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	_, err = f.Write(appendSegmentHeader(nil, first))
	if err == nil {
		err = syncFile(f, noSync)
	}
	if err == nil && !noSync {
		err = syncDir(dir)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("create segment %s: %w", segmentName(first), err)
	}
	return f, nil
}

// mkdirDurable creates dir if it does not exist and fsyncs its parent, so
// that the directory itself survives a crash.
func mkdirDurable(dir string, noSync bool) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if noSync {
		return nil
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}

// syncDir fsyncs a directory so that file creations, renames and removals
// in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
