package outbox

import (
	"context"
	"time"

	"firebreak"
)

// record collects outcomes and stores them in batches, every Flush or once
// a batch is full, until ctx is done and nothing more is waiting.
func (s *Sender) record(ctx context.Context) {
	batch := make([]firebreak.NoticeResult, 0, firebreak.MaxBatch)
	tick := time.NewTicker(s.cfg.Flush)
	defer tick.Stop()
	for {
		select {
		case r := <-s.results:
			batch = append(batch, r)
			if len(batch) < cap(batch) {
				continue
			}
		case <-tick.C:
		case <-ctx.Done():
			// Take what is already waiting, store it, and stop.
			for more := true; more; {
				select {
				case r := <-s.results:
					batch = append(batch, r)
				default:
					more = false
				}
			}
			s.store(batch)
			return
		}
		s.store(batch)
		batch = batch[:0]
	}
}

// store records a batch; a batch refused for one notice (recorded already
// by another sender after a lease expired) is recorded one by one. A
// failing store is retried with backoff: outcomes are not dropped while
// the database is briefly unavailable.
func (s *Sender) store(batch []firebreak.NoticeResult) {
	for start := 0; start < len(batch); start += firebreak.MaxBatch {
		part := batch[start:min(len(batch), start+firebreak.MaxBatch)]
		s.storePart(part)
		ids := make([]int64, len(part))
		for i, r := range part {
			ids[i] = r.ID
		}
		s.release(ids...)
	}
}

func (s *Sender) storePart(part []firebreak.NoticeResult) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := s.cfg.Store.Record(context.Background(), part)
		switch code := firebreak.ErrorCode(err); {
		case err == nil:
			return
		case code == firebreak.ECONFLICT || code == firebreak.ENOTFOUND || code == firebreak.EINVALID:
			if len(part) == 1 {
				s.cfg.Logger.Warn("outbox outcome not recorded", "module", "outbox", "notice", part[0].ID, "err", err)
				return
			}
			for i := range part {
				s.storePart(part[i : i+1])
			}
			return
		case attempt >= 8:
			// The notices stay queued and are sent again after their lease.
			s.cfg.Logger.Error("outbox outcomes not recorded", "module", "outbox", "notices", len(part), "err", err)
			return
		}
		s.cfg.Logger.Warn("outbox record failed; retrying", "module", "outbox", "err", err, "attempt", attempt)
		time.Sleep(backoff)
		backoff = min(2*backoff, 10*time.Second)
	}
}
