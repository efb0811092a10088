package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"firebreak"
	"firebreak/ingest"
	"firebreak/risk"
)

var errReplayDone = errors.New("replay reached the end of the journal at start")

// loop is the only goroutine that touches the model. It replays the journal
// past the snapshot, then scores queued batches strictly in journal order:
// concurrent appends may reach the queue out of order, so early batches wait
// in a reorder buffer until the gap before them is filled.
func (e *Engine) loop(ctx context.Context, snapSeq, end uint64) {
	defer close(e.done)
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("engine loop panicked; scoring stopped", "module", "engine", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	next, err := e.replay(snapSeq, end)
	if err != nil {
		e.log.Error("journal replay failed; scoring stopped", "err", err)
		return
	}
	e.ready.Store(true)
	pending := map[uint64]batch{}
	var r risk.Result
	sinceSnap := int64(0)
	tick := time.NewTicker(e.cfg.SyncEvery)
	defer tick.Stop()
	e.offerCampaigns()
	for {
		select {
		case <-ctx.Done():
			e.drain(pending, &next, &r)
			e.offerCampaigns()
			e.snapshot(next - 1)
			return
		case <-tick.C:
			e.offerCampaigns()
		case b := <-e.queue:
			pending[b.first] = b
			sinceSnap += e.runReady(pending, &next, &r)
			if e.cfg.SnapshotEvery > 0 && sinceSnap >= e.cfg.SnapshotEvery {
				e.snapshotInBackground(next - 1)
				sinceSnap = 0
			}
		}
	}
}

// runReady scores every pending batch that continues the sequence.
func (e *Engine) runReady(pending map[uint64]batch, next *uint64, r *risk.Result) int64 {
	var n int64
	for {
		b, ok := pending[*next]
		if !ok {
			return n
		}
		delete(pending, *next)
		e.score(b, r)
		*next += uint64(len(b.events))
		n += int64(len(b.events))
		e.queued.Add(-int64(len(b.events)))
		e.pipe.Refresh()
	}
}

// drain scores what is already queued before shutting down.
func (e *Engine) drain(pending map[uint64]batch, next *uint64, r *risk.Result) {
	for {
		select {
		case b := <-e.queue:
			pending[b.first] = b
			e.runReady(pending, next, r)
		default:
			if len(pending) > 0 {
				e.log.Warn("shutting down with batches waiting for an earlier one; they are journaled and replay on start", "batches", len(pending))
			}
			return
		}
	}
}

func (e *Engine) score(b batch, r *risk.Result) {
	for i := range b.events {
		a := e.process(b.first+uint64(i), &b.events[i], r, b.reply != nil)
		if b.reply != nil {
			b.reply <- verdict{a: a, t: e.pipe.model.Thresholds()}
		}
	}
}

// process scores one journaled event and hands the result on: to the
// detector, and to the high-risk store when challenged or denied or when it
// is an account change. It returns the verdict with its reasons when want
// is set or the event was risky (formatting reasons allocates, so ordinary
// logins skip it).
func (e *Engine) process(seq uint64, ev *firebreak.Event, r *risk.Result, want bool) firebreak.Assessment {
	e.pipe.Process(ev, r)
	if e.det != nil {
		if seq&1023 == 0 {
			e.det.SetAccounts(e.pipe.Model().Accounts())
		}
		e.det.Observe(ev, r.Score)
	}
	if !ev.IsLogin() {
		// An account change is kept with the risky logins, so that the
		// account's page shows what its sessions changed.
		e.risky.add(&firebreak.ScoredLogin{Seq: seq, Event: *ev})
		return firebreak.Assessment{}
	}
	risky := r.Decision >= firebreak.Challenge
	var a firebreak.Assessment
	if want || risky {
		a = Assessment(ev, r)
	}
	if risky {
		e.risky.add(&firebreak.ScoredLogin{Seq: seq, Event: *ev, Assessment: a})
	}
	return a
}

// replay re-scores journaled events after the snapshot up to end, the last
// sequence number durable when the engine opened. It returns the next
// sequence number to expect.
func (e *Engine) replay(snapSeq, end uint64) (uint64, error) {
	if end <= snapSeq {
		return snapSeq + 1, nil
	}
	start := time.Now()
	var ev firebreak.Event
	var r risk.Result
	next := snapSeq + 1
	err := e.journal.Replay(next, func(seq uint64, rec []byte) error {
		if seq > end {
			return errReplayDone
		}
		if seq != next {
			return fmt.Errorf("journal gap: expected seq %d, found %d", next, seq)
		}
		ev = firebreak.Event{}
		if err := ingest.ParseNative(rec, &ev, time.Time{}); err != nil {
			return fmt.Errorf("journal record %d: %w", seq, err)
		}
		e.process(seq, &ev, &r, false)
		next++
		return nil
	})
	if err != nil && !errors.Is(err, errReplayDone) {
		return 0, err
	}
	e.pipe.Refresh()
	e.log.Info("replayed journal", "from", snapSeq+1, "to", next-1, "took", time.Since(start).Round(time.Millisecond))
	return next, nil
}

// offerCampaigns hands the detector's campaigns to the incident writer.
func (e *Engine) offerCampaigns() {
	if e.det != nil && e.sync != nil {
		e.sync.submit(e.det.Campaigns())
	}
}

// snapshot writes the model state covering events up to seq, on the loop,
// after any snapshot still being written in the background (shutdown).
func (e *Engine) snapshot(seq uint64) {
	e.snapWG.Wait()
	e.writeSnapshot(seq, e.pipe.model)
}

// snapshotInBackground copies the model (a memory copy, tens of
// milliseconds at a million accounts) and writes the copy on another
// goroutine, so that scoring pauses for the copy and not for the disk. If the
// previous background snapshot is still being written, it skips this one.
func (e *Engine) snapshotInBackground(seq uint64) {
	if !e.snapBusy.CompareAndSwap(false, true) {
		return
	}
	clone := e.pipe.model.Clone()
	e.snapWG.Add(1)
	go func() {
		defer e.snapWG.Done()
		defer e.snapBusy.Store(false)
		e.writeSnapshot(seq, clone)
	}()
}

// writeSnapshot writes model as the snapshot at seq and drops the journal
// segments the previous snapshot no longer needs.
func (e *Engine) writeSnapshot(seq uint64, model *risk.Model) {
	if seq == 0 || seq <= e.snapSeq.Load() {
		return
	}
	start := time.Now()
	err := e.snapshots.Write(seq, func(w io.Writer) error {
		_, err := model.WriteTo(w)
		return err
	})
	if err != nil {
		e.log.Error("snapshot failed; the journal keeps everything", "seq", seq, "err", err)
		return
	}
	prev := e.snapSeq.Swap(seq)
	e.log.Info("wrote snapshot", "seq", seq, "took", time.Since(start).Round(time.Millisecond))
	// Keep the journal back to the previous snapshot, so that a damaged
	// latest snapshot can still be recovered from the one before it.
	if prev > 0 {
		if err := e.journal.Compact(prev + 1); err != nil {
			e.log.Warn("journal compaction failed", "err", err)
		}
	}
}
