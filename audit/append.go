package audit

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/tlog"

	"firebreak"
)

var _ firebreak.Auditor = (*Log)(nil)

// pending is one record waiting for a commit.
type pending struct {
	body []byte // canonical JSON with seq 0
	seq  int64
	err  error
	done chan struct{} // closed when committed or failed
}

// Append adds rec to the log and returns its seq once the record and a
// signed checkpoint covering it are on disk (fsynced). Seq is assigned here;
// a zero Time becomes Options.Now(). Concurrent appends are committed
// together, with one write, fsync and signature per group.
//
// A record failing validation gets a *firebreak.FieldError; one over
// MaxRecordSize an ETOOLARGE error. Once a write or fsync has failed, every
// Append fails with EUNAVAILABLE until the log is reopened: the caller must
// then not take the step the record describes. A failed Append's record may
// still turn up after reopening; a successful one never goes missing.
func (l *Log) Append(ctx context.Context, rec firebreak.AuditRecord) (int64, error) {
	return l.AppendBatch(ctx, []firebreak.AuditRecord{rec})
}

// AppendBatch appends recs with contiguous seqs and returns the seq of the
// first, committing them in one group: either all are acknowledged or none.
// Errors are as for Append; a record failing validation names its index.
func (l *Log) AppendBatch(ctx context.Context, recs []firebreak.AuditRecord) (int64, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	ps, err := l.enqueue(ctx, recs)
	if err != nil {
		return 0, err
	}
	l.commitMu.Lock()
	select {
	case <-ps[0].done: // committed by the group before ours
	default:
		l.commitQueued()
	}
	l.commitMu.Unlock()
	if ps[0].err != nil {
		return 0, ps[0].err
	}
	return ps[0].seq, nil
}

// enqueue validates and encodes recs and queues them together. Times are
// assigned under the lock, so that they follow seq order.
func (l *Log) enqueue(ctx context.Context, recs []firebreak.AuditRecord) ([]*pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range recs {
		if err := validate(&recs[i]); err != nil {
			return nil, batchErr(len(recs), i, err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		return nil, err
	}
	ps := make([]*pending, len(recs))
	done := make(chan struct{})
	for i, rec := range recs {
		if rec.Time.IsZero() {
			rec.Time = l.now()
		}
		body, err := encodeRecord(rec)
		if err != nil {
			return nil, batchErr(len(recs), i, err)
		}
		ps[i] = &pending{body: body, done: done}
	}
	l.queue = append(l.queue, ps...)
	return ps, nil
}

// batchErr names the record of a batch that was refused.
func batchErr(n, i int, err error) error {
	if n == 1 {
		return err
	}
	return fmt.Errorf("record %d of %d: %w", i, n, err)
}

func (l *Log) usable() error {
	switch {
	case l.closed:
		return errClosed
	case l.failed != nil:
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "audit log failed closed after a write error (%v); reopen it", l.failed)
	}
	return nil
}

// commitQueued writes everything queued as one group. The caller holds commitMu.
func (l *Log) commitQueued() {
	l.mu.Lock()
	batch := l.queue
	l.queue = nil
	err := l.usable()
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err == nil {
		if err = l.commit(batch); err != nil {
			l.mu.Lock()
			l.failed = err
			l.mu.Unlock()
			l.log.Error("audit: write failed; refusing further appends until reopened", "err", err)
			err = firebreak.Errorf(firebreak.EUNAVAILABLE, "audit log write failed: %v", err)
		}
	}
	for _, p := range batch {
		p.err = err
	}
	// Records of one AppendBatch share a done channel: close each once.
	for i, p := range batch {
		if i == 0 || p.done != batch[i-1].done {
			close(p.done)
		}
	}
}

// commit writes the batch's records and hashes, fsyncs them, then signs and
// writes the checkpoint that covers them and fsyncs it. The order matters:
// a checkpoint is never durable before what it signs.
func (l *Log) commit(batch []*pending) error {
	n := int64(len(l.offsets) - 1)
	recEnd := l.offsets[n]
	hr := &batchHashes{file: fileHashes{l.hashes}, base: l.nhash}
	var recs []byte
	offsets := make([]int64, 0, len(batch))
	for i, p := range batch {
		p.seq = n + int64(i)
		line := withSeq(p.body, p.seq)
		hs, err := tlog.StoredHashes(p.seq, line, hr)
		if err != nil {
			return err
		}
		hr.pending = append(hr.pending, hs...)
		recs = append(append(recs, line...), '\n')
		offsets = append(offsets, recEnd+int64(len(recs)))
	}
	hashBytes := make([]byte, 0, len(hr.pending)*tlog.HashSize)
	for _, h := range hr.pending {
		hashBytes = append(hashBytes, h[:]...)
	}
	if err := l.write(l.records, recs, recEnd); err != nil {
		return fmt.Errorf("write %s: %w", recordsFile, err)
	}
	if err := l.write(l.hashes, hashBytes, l.nhash*tlog.HashSize); err != nil {
		return fmt.Errorf("write %s: %w", hashesFile, err)
	}
	// The two fsyncs overlap; both end before the checkpoint is written.
	hashSynced := make(chan error, 1)
	go func() { hashSynced <- l.sync(l.hashes) }()
	errRec := l.sync(l.records)
	errHash := <-hashSynced
	if errRec != nil {
		return fmt.Errorf("fsync %s: %w", recordsFile, errRec)
	}
	if errHash != nil {
		return fmt.Errorf("fsync %s: %w", hashesFile, errHash)
	}
	tree := tlog.Tree{N: n + int64(len(batch))}
	var err error
	if tree.Hash, err = tlog.TreeHash(tree.N, hr); err != nil {
		return err
	}
	msg, err := signTree(l.signer, tree)
	if err != nil {
		return fmt.Errorf("sign checkpoint: %w", err)
	}
	if err := l.writeSync(l.checkpoints, msg, l.ckEnd); err != nil {
		return fmt.Errorf("write %s: %w", checkpointsFile, err)
	}
	l.nhash += int64(len(hr.pending))
	l.mu.Lock()
	l.ckEnd += int64(len(msg))
	l.offsets = append(l.offsets, offsets...)
	l.checkpoint, l.tree = msg, tree
	l.mu.Unlock()
	return nil
}

func (l *Log) write(f *os.File, b []byte, off int64) error {
	_, err := f.WriteAt(b, off)
	return err
}

func (l *Log) writeSync(f *os.File, b []byte, off int64) error {
	if err := l.write(f, b, off); err != nil {
		return err
	}
	return l.sync(f)
}

// batchHashes reads stored hashes from the file and, past its end, from the
// batch being written.
type batchHashes struct {
	file    fileHashes
	base    int64 // hashes in the file
	pending []tlog.Hash
}

// ReadHashes implements tlog.HashReader.
func (r *batchHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx >= r.base {
			if idx-r.base >= int64(len(r.pending)) {
				return nil, fmt.Errorf("stored hash %d not written yet", idx)
			}
			out[i] = r.pending[idx-r.base]
			continue
		}
		h, err := r.file.ReadHashes(indexes[i : i+1])
		if err != nil {
			return nil, err
		}
		out[i] = h[0]
	}
	return out, nil
}
