package journal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Replay calls fn for every durable record with seq ≥ from, in order. rec is
// valid only during the call. Records appended while Replay runs are not
// included. An error from fn stops the replay and is returned wrapped.
// Replaying from a seq that Compact has deleted is an error.
func (j *Journal) Replay(from uint64, fn func(seq uint64, rec []byte) error) error {
	j.compactMu.RLock()
	defer j.compactMu.RUnlock()
	if j.isClosed() {
		return fmt.Errorf("replay: %w", ErrClosed)
	}
	last := j.last.Load()
	j.segMu.Lock()
	segs := append([]segment(nil), j.segs...)
	j.segMu.Unlock()
	from = max(from, 1)
	if from > last {
		return nil
	}
	if from < segs[0].first {
		return fmt.Errorf("replay from seq %d: records before seq %d were compacted", from, segs[0].first)
	}
	start := 0
	for i, s := range segs {
		if s.first <= from {
			start = i
		}
	}
	next := segs[start].first
	for _, s := range segs[start:] {
		if next > last {
			break
		}
		if s.first != next {
			return fmt.Errorf("replay: segment %s starts at seq %d, want %d", filepath.Base(s.path), s.first, next)
		}
		var err error
		if next, err = replaySegment(s, from, last, fn); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
	}
	if next <= last {
		return fmt.Errorf("replay: journal ends at seq %d, want %d", next-1, last)
	}
	return nil
}

// replaySegment feeds fn the records of s with from ≤ seq ≤ last and returns
// the seq after the last record it read.
func replaySegment(s segment, from, last uint64, fn func(uint64, []byte) error) (uint64, error) {
	name := filepath.Base(s.path)
	f, err := os.Open(s.path)
	if err != nil {
		return s.first, fmt.Errorf("segment %s: %w", name, err)
	}
	defer f.Close()
	if err := checkHeader(f, s.first); err != nil {
		return s.first, fmt.Errorf("segment %s: %w", name, err)
	}
	rr := newRecordReader(f)
	seq := s.first
	for ; seq <= last; seq++ {
		rec, err := rr.next()
		if err == io.EOF {
			break
		} else if errors.Is(err, errDamaged) {
			return seq, fmt.Errorf("segment %s: corrupt record (seq %d) at offset %d", name, seq, segHeaderSize+rr.off)
		} else if err != nil {
			return seq, fmt.Errorf("segment %s: %w", name, err)
		}
		if seq < from {
			continue
		}
		if err := fn(seq, rec); err != nil {
			return seq, fmt.Errorf("seq %d: %w", seq, err)
		}
	}
	return seq, nil
}

// Compact deletes whole segments all of whose records have seq < before,
// typically after a snapshot has covered them. The active segment is never
// deleted. Segments are removed oldest first, so a crash midway leaves a
// contiguous journal.
func (j *Journal) Compact(before uint64) error {
	j.compactMu.Lock()
	defer j.compactMu.Unlock()
	j.segMu.Lock()
	segs := append([]segment(nil), j.segs...)
	j.segMu.Unlock()
	var removed int
	var err error
	for i := 0; i+1 < len(segs) && segs[i+1].first <= before; i++ {
		if err = os.Remove(segs[i].path); err != nil {
			err = fmt.Errorf("compact: %w", err)
			break
		}
		removed++
	}
	if removed == 0 {
		return err
	}
	j.segMu.Lock()
	j.segs = j.segs[removed:]
	j.segMu.Unlock()
	if !j.opt.NoSync {
		if serr := syncDir(j.dir); serr != nil && err == nil {
			err = fmt.Errorf("compact: %w", serr)
		}
	}
	return err
}
