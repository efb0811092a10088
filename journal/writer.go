package journal

import (
	"fmt"
	"path/filepath"
)

// run is the single writer goroutine: it takes one request, gathers whatever
// else is already queued, and commits the group with one write and one fsync.
// It exits when Close closes the queue.
func (j *Journal) run() {
	defer close(j.done)
	var group []*request
	for req := range j.reqs {
		group = j.gather(append(group[:0], req))
		j.commit(group)
		clear(group)
	}
}

func (j *Journal) gather(group []*request) []*request {
	size := len(group[0].data)
	for size < maxGroupBytes {
		select {
		case req, ok := <-j.reqs:
			if !ok {
				return group
			}
			group = append(group, req)
			size += len(req.data)
		default:
			return group
		}
	}
	return group
}

func (j *Journal) commit(group []*request) {
	first, err := j.write(group)
	for _, req := range group {
		req.done <- result{first: first, err: err}
		first += req.n
	}
}

// write appends the group to the active segment, rolling to a new segment
// first when this one is full, and returns the seq of the group's first record.
func (j *Journal) write(group []*request) (uint64, error) {
	if err := j.failure(); err != nil {
		return 0, err
	}
	data, n := group[0].data, group[0].n
	if len(group) > 1 {
		j.buf = j.buf[:0]
		for _, req := range group {
			j.buf = append(j.buf, req.data...)
		}
		data, n = j.buf, 0
		for _, req := range group {
			n += req.n
		}
	}
	first := j.last.Load() + 1
	if j.size > segHeaderSize && j.size+int64(len(data)) > j.opt.SegmentBytes {
		if err := j.roll(first); err != nil {
			return 0, j.fail(err)
		}
	}
	if _, err := j.f.Write(data); err != nil {
		return 0, j.fail(fmt.Errorf("write %s: %w", filepath.Base(j.f.Name()), err))
	}
	if err := j.sync(j.f); err != nil {
		return 0, j.fail(err)
	}
	j.size += int64(len(data))
	j.segMu.Lock()
	j.segs[len(j.segs)-1].count += n
	j.segMu.Unlock()
	j.last.Store(first + n - 1)
	if cap(j.buf) > maxGroupBytes {
		j.buf = nil // do not pin a huge one-off batch
	}
	return first, nil
}

// roll closes the active segment (already synced) and starts one at first.
func (j *Journal) roll(first uint64) error {
	f, err := createSegment(j.dir, first, j.opt.NoSync)
	if err != nil {
		return err
	}
	if err := j.f.Close(); err != nil {
		f.Close()
		return fmt.Errorf("close segment: %w", err)
	}
	j.f, j.size = f, segHeaderSize
	j.segMu.Lock()
	j.segs = append(j.segs, segment{first: first, path: f.Name()})
	j.segMu.Unlock()
	return nil
}
