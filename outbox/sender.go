package outbox

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"firebreak"
)

// Sender moves notices from the outbox to a Dispatch and records their
// outcomes. Create it with New, pass its OnDelivery to the dispatcher, then
// call Run.
type Sender struct {
	cfg     Config
	results chan firebreak.NoticeResult

	mu       sync.Mutex
	inflight map[int64]firebreak.Channel // handed over or awaiting record
	count    map[firebreak.Channel]int
	freed    chan struct{} // signalled when a notice leaves inflight
	running  bool
}

// New checks cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Sender{cfg: cfg, results: make(chan firebreak.NoticeResult, 2*cfg.InFlight*len(cfg.Channels)),
		inflight: map[int64]firebreak.Channel{}, count: map[firebreak.Channel]int{},
		freed: make(chan struct{}, 1)}, nil
}

// OnDelivery takes the dispatcher's reports: sent and failed are recorded
// in the outbox (in batches); queued (a retry the dispatcher will make)
// changes nothing durable. Reports for keys not made by Key are ignored.
func (s *Sender) OnDelivery(d firebreak.Delivery) {
	id := noticeID(d.Key)
	if id == 0 || d.State == firebreak.DeliveryQueued {
		return
	}
	r := firebreak.NoticeResult{ID: id, State: firebreak.NoticeSent, At: d.At}
	if d.State == firebreak.DeliveryFailed {
		r.State, r.Reason = firebreak.NoticeFailed, clip(d.Reason, firebreak.MaxTextLen)
	}
	s.results <- r
}

// Run claims and hands over notices until ctx is done, then waits up to
// Config.Drain for the notices in flight and records their outcomes. Those
// still in flight after that stay queued in the outbox and are sent again
// after their lease (with the same key). Run returns nil after a normal
// stop; the dispatcher may be closed after Run returns. Run runs once per
// Sender.
func (s *Sender) Run(ctx context.Context, d Dispatch) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return firebreak.Errorf(firebreak.ECONFLICT, "The outbox sender is already running.")
	}
	s.running = true
	s.mu.Unlock()

	recordCtx, stopRecord := context.WithCancel(context.Background())
	recorded := make(chan struct{})
	go func() { defer close(recorded); s.record(recordCtx) }()
	var wg sync.WaitGroup
	for _, ch := range s.cfg.Channels {
		wg.Add(1)
		go func() { defer wg.Done(); s.claimLoop(ctx, ch, d) }()
	}
	wg.Wait()
	s.drain()
	stopRecord()
	<-recorded
	return nil
}

// drain waits up to Drain for every notice in flight to be recorded.
func (s *Sender) drain() {
	deadline := time.NewTimer(s.cfg.Drain)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		n := len(s.inflight)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-s.freed:
		case <-deadline.C:
			s.cfg.Logger.Warn("outbox sender stopped with notices in flight; they are sent again after their lease", "notices", n)
			return
		}
	}
}

// claimLoop claims one channel's due notices while there is room in flight.
func (s *Sender) claimLoop(ctx context.Context, ch firebreak.Channel, d Dispatch) {
	backoff := s.cfg.Poll
	for ctx.Err() == nil {
		room := s.room(ch)
		if room == 0 {
			wait(ctx, s.freed, s.cfg.Poll)
			continue
		}
		n, err := s.claimOnce(ctx, ch, min(room, s.cfg.Batch), d)
		switch {
		case err != nil && ctx.Err() == nil:
			s.cfg.Logger.Error("outbox claim failed", "module", "outbox", "channel", ch, "err", err)
			wait(ctx, nil, backoff)
			backoff = min(2*backoff, time.Minute)
		case err == nil && n == 0:
			wait(ctx, nil, s.cfg.Poll)
		default:
			backoff = s.cfg.Poll
		}
	}
}

// claimOnce claims up to limit notices of ch and hands each over; it
// returns how many it claimed.
func (s *Sender) claimOnce(ctx context.Context, ch firebreak.Channel, limit int, d Dispatch) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	notices, err := s.cfg.Store.Claim(ctx, ch, limit, s.cfg.Lease, s.cfg.Now())
	if err != nil {
		return 0, fmt.Errorf("claim %s notices: %w", ch, err)
	}
	for _, nt := range notices {
		if !s.hold(nt) {
			continue // still in flight from an earlier claim: the claim renewed its lease
		}
		if err := s.handOver(ctx, nt, d); err != nil {
			s.release(nt.ID)
			return len(notices), err
		}
	}
	return len(notices), nil
}

// handOver re-checks a notice and gives it to the dispatcher, or records
// why it was not sent. An error means the dispatcher refused to take it for
// a reason that is not the notice's (shutdown): the notice stays queued.
func (s *Sender) handOver(ctx context.Context, n firebreak.Notice, d Dispatch) error {
	if s.cfg.StillDue != nil {
		due, reason, err := s.cfg.StillDue(ctx, n)
		switch {
		case err != nil:
			s.retry(n, "re-check failed: "+err.Error())
			return nil
		case !due:
			if reason == "" {
				reason = "no longer due"
			}
			s.fail(n, "not sent: "+reason)
			return nil
		}
	}
	to, err := s.cfg.Recipient(ctx, n)
	if err != nil {
		if permanent(err) {
			s.fail(n, "no recipient: "+firebreak.ErrorMessage(err))
		} else {
			s.retry(n, "recipient lookup failed: "+err.Error())
		}
		return nil
	}
	if err := d.Enqueue(ctx, Message(n, to)); err != nil {
		if permanent(err) {
			s.fail(n, "refused: "+firebreak.ErrorMessage(err))
			return nil
		}
		return fmt.Errorf("hand notice %d over: %w", n.ID, err)
	}
	return nil
}

func (s *Sender) fail(n firebreak.Notice, reason string) {
	s.results <- firebreak.NoticeResult{ID: n.ID, State: firebreak.NoticeFailed,
		Reason: clip(reason, firebreak.MaxTextLen), At: s.cfg.Now()}
}

func (s *Sender) retry(n firebreak.Notice, reason string) {
	s.cfg.Logger.Warn("outbox notice retried", "module", "outbox", "notice", n.ID, "reason", reason)
	s.results <- firebreak.NoticeResult{ID: n.ID, State: firebreak.NoticeQueued,
		Reason: clip(reason, firebreak.MaxTextLen), RetryAt: s.cfg.Now().Add(s.cfg.Retry)}
}

// room is how many more notices of ch may be in flight.
func (s *Sender) room(ch firebreak.Channel) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(0, s.cfg.InFlight-s.count[ch])
}

// hold marks n in flight; false if it already is.
func (s *Sender) hold(n firebreak.Notice) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.inflight[n.ID]; ok {
		return false
	}
	s.inflight[n.ID] = n.Channel
	s.count[n.Channel]++
	return true
}

// release takes ids out of flight once their outcome is durable.
func (s *Sender) release(ids ...int64) {
	s.mu.Lock()
	for _, id := range ids {
		if ch, ok := s.inflight[id]; ok {
			delete(s.inflight, id)
			s.count[ch]--
		}
	}
	s.mu.Unlock()
	select {
	case s.freed <- struct{}{}:
	default:
	}
}

// wait sleeps for d, until ctx is done or wake fires.
func wait(ctx context.Context, wake <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}
