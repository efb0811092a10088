// Package journal is Firebreak's durable, append-only event journal: the
// reason a 202 from the API means the event survives kill -9.
//
// Records are opaque byte slices numbered by a 1-based, contiguous sequence.
// Concurrent Append calls are group-committed: one writer goroutine gathers
// whatever is queued, writes it in one write and fsyncs once. Records live in
// segment files named by their first seq; see docs/storage.md for the format.
package journal

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
)

// DefaultSegmentBytes is the segment size used when Options.SegmentBytes is 0.
const DefaultSegmentBytes = 64 << 20

// maxGroupBytes bounds how much one group commit gathers.
const maxGroupBytes = 16 << 20

// Options configure a Journal. The zero value is ready to use.
type Options struct {
	// SegmentBytes is the size after which a new segment is started.
	// A batch is never split, so a segment may exceed it by one batch.
	SegmentBytes int64
	// NoSync skips every fsync. For tests and benchmarks only: with it,
	// an acknowledged record can be lost in a machine crash.
	NoSync bool
	// Logger receives warnings such as truncated tails; nil means slog.Default().
	Logger *slog.Logger
}

// Journal is an open journal directory. Its methods are safe for concurrent use.
type Journal struct {
	dir string
	opt Options
	log *slog.Logger

	mu     sync.RWMutex // guards closed and sending on reqs
	closed bool
	reqs   chan *request
	done   chan struct{} // closed when the writer has exited

	segMu sync.Mutex // guards segs; the last one is the active segment
	segs  []segment

	compactMu sync.RWMutex // held for reading by Replay, for writing by Compact

	last atomic.Uint64 // last durable seq

	failMu  sync.Mutex
	failErr error // sticky: set once a write or fsync fails

	// Owned by the writer goroutine.
	f    *os.File
	size int64
	buf  []byte
	sync func(*os.File) error
}

type request struct {
	data []byte // framed records
	n    uint64 // record count
	done chan result
}

type result struct {
	first uint64
	err   error
}

// Open opens the journal in dir, creating the directory if needed, verifies
// every segment and truncates a damaged tail of the last one.
func Open(dir string, opt Options) (*Journal, error) {
	if opt.SegmentBytes <= 0 {
		opt.SegmentBytes = DefaultSegmentBytes
	}
	j := &Journal{dir: dir, opt: opt, log: opt.Logger,
		reqs: make(chan *request, 1024), done: make(chan struct{})}
	if j.log == nil {
		j.log = slog.Default()
	}
	j.sync = func(f *os.File) error { return syncFile(f, opt.NoSync) }
	if err := j.open(); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	go j.run()
	return j, nil
}

func (j *Journal) open() error {
	if err := mkdirDurable(j.dir, j.opt.NoSync); err != nil {
		return err
	}
	segs, err := loadSegments(j.dir, j.log, j.opt.NoSync)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		f, err := createSegment(j.dir, 1, j.opt.NoSync)
		if err != nil {
			return err
		}
		f.Close()
		segs = []segment{{first: 1, path: f.Name()}}
	}
	active := segs[len(segs)-1]
	f, err := os.OpenFile(active.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	j.f, j.size, j.segs = f, st.Size(), segs
	j.last.Store(active.first + active.count - 1)
	return nil
}

// LastSeq returns the seq of the last durable record, 0 when there is none.
func (j *Journal) LastSeq() uint64 { return j.last.Load() }

// Append makes recs durable and returns the seq of recs[0]; the others follow
// contiguously. It returns only after the fsync covering its records, so a
// nil error means they survive a crash. Any error means they must not be
// treated as durable (if ctx ends while the write is in flight they may still
// turn up on replay). After a failed write or fsync every Append fails.
// Appending no records returns (0, nil).
func (j *Journal) Append(ctx context.Context, recs [][]byte) (first uint64, err error) {
	if len(recs) == 0 {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("append: %w", err)
	}
	req := &request{n: uint64(len(recs)), done: make(chan result, 1)}
	size := 0
	for i, rec := range recs {
		if len(rec) > MaxRecordSize {
			return 0, fmt.Errorf("append: record %d is %d bytes, over the %d-byte limit: %w",
				i, len(rec), MaxRecordSize, ErrRecordTooLarge)
		}
		size += recHeaderSize + len(rec)
	}
	// Framing and CRCs are computed here, in parallel across callers.
	req.data = make([]byte, 0, size)
	for _, rec := range recs {
		req.data = appendRecord(req.data, rec)
	}
	if err := j.enqueue(ctx, req); err != nil {
		return 0, fmt.Errorf("append: %w", err)
	}
	select {
	case res := <-req.done:
		if res.err != nil {
			return 0, fmt.Errorf("append: %w", res.err)
		}
		return res.first, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("append: outcome unknown: %w", ctx.Err())
	}
}

func (j *Journal) enqueue(ctx context.Context, req *request) error {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		return ErrClosed
	}
	if err := j.failure(); err != nil {
		return err
	}
	select {
	case j.reqs <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (j *Journal) failure() error {
	j.failMu.Lock()
	defer j.failMu.Unlock()
	return j.failErr
}

// fail records the first write failure; from then on the journal refuses
// appends, since the file may hold a partial write it cannot vouch for.
func (j *Journal) fail(err error) error {
	j.failMu.Lock()
	defer j.failMu.Unlock()
	if j.failErr == nil {
		j.failErr = fmt.Errorf("journal failed closed: %w", err)
		j.log.Error("journal: write failed; refusing further appends", "err", err)
	}
	return j.failErr
}

// Close waits for queued appends to finish and closes the journal.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	close(j.reqs)
	j.mu.Unlock()
	<-j.done
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}

func (j *Journal) isClosed() bool {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.closed
}
