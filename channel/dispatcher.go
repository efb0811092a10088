package channel

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"firebreak"
)

// Policy says how the Dispatcher sends over one channel. Zero fields take
// the defaults in parentheses.
type Policy struct {
	Rate    float64 // messages per second (0: unlimited)
	Burst   int     // messages sent at once after a quiet spell (max(1, Rate))
	Workers int     // concurrent sends (4)
	// MaxAttempts bounds the attempts per message, 429s included (5).
	MaxAttempts int
	// RetryUnknown retries a message whose outcome is unknown; safe where
	// the receiver drops duplicates by key (webhooks, the in-app feed, and
	// mail clients by Message-ID). Off: it fails with the reason.
	RetryUnknown bool
	BaseDelay    time.Duration // first backoff (1s); doubled per attempt, with jitter
	MaxDelay     time.Duration // longest backoff (5m)
	Timeout      time.Duration // per attempt (30s)
	QueueSize    int           // messages waiting per channel before Enqueue blocks (1024)
}

func (p Policy) withDefaults() Policy {
	if p.Burst <= 0 {
		p.Burst = max(1, int(p.Rate))
	}
	if p.Workers <= 0 {
		p.Workers = 4
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Minute
	}
	if p.Timeout <= 0 {
		p.Timeout = 30 * time.Second
	}
	if p.QueueSize <= 0 {
		p.QueueSize = 1024
	}
	return p
}

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	Senders  []firebreak.Sender               // at most one per channel
	Policies map[firebreak.ChannelKind]Policy // missing: the defaults
	// OnDelivery is called for every change of a message's state: queued
	// again after a failed attempt, then sent or failed. It runs on the
	// sending goroutine: keep it short (record it in the outbox).
	OnDelivery func(firebreak.Delivery)
	Logger     *slog.Logger // nil: discard
}

// Dispatcher sends messages through their channel's Sender: a bounded
// queue and a pool of workers per channel, a rate limit per channel,
// retries with exponential backoff and jitter, and a bounded number of
// attempts. A 429 or a Retry-After holds every send of that channel until
// the provider's time has passed, so a provider that pushes back is not
// hammered by the other workers.
//
// Messages still waiting at Close get no final report: they stay queued in
// the outbox and are enqueued again at the next start.
type Dispatcher struct {
	lanes map[firebreak.ChannelKind]*lane
	cfg   DispatcherConfig

	mu      sync.Mutex
	pending int           // messages enqueued and not yet sent or failed
	idle    chan struct{} // closed while pending is 0
	closed  bool
	done    chan struct{}   // closed by Close
	ctx     context.Context // canceled by Close: ends waits for a hold or the limiter
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// NewDispatcher starts the workers of every channel that has a sender.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d := &Dispatcher{lanes: make(map[firebreak.ChannelKind]*lane), cfg: cfg,
		idle: make(chan struct{}), done: make(chan struct{})}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	close(d.idle)
	for _, s := range cfg.Senders {
		k := s.Kind()
		if err := firebreak.ValidateChannel("senders", k); err != nil {
			d.cancel()
			return nil, err
		}
		if d.lanes[k] != nil {
			d.cancel()
			return nil, &firebreak.FieldError{Field: "senders", Reason: "two senders for channel " + string(k)}
		}
		d.lanes[k] = newLane(d, s, cfg.Policies[k].withDefaults())
	}
	for k := range cfg.Policies {
		if d.lanes[k] == nil {
			d.cancel()
			return nil, &firebreak.FieldError{Field: "policies", Reason: "a policy for channel " + string(k) + ", which has no sender"}
		}
	}
	for _, l := range d.lanes {
		for range l.policy.Workers {
			d.wg.Add(1)
			go l.work()
		}
	}
	return d, nil
}

// Enqueue validates m and queues it on its channel. It blocks while the
// channel's queue is full, until ctx is done. Errors: a *FieldError for a
// bad message or a channel without a sender, EUNAVAILABLE after Close.
func (d *Dispatcher) Enqueue(ctx context.Context, m firebreak.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	l := d.lanes[m.Channel]
	if l == nil {
		return &firebreak.FieldError{Field: "channel", Reason: "no sender is configured for channel " + string(m.Channel)}
	}
	if !d.add(1) {
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "The dispatcher is shut down.")
	}
	select {
	case l.queue <- &job{msg: m}:
		return nil
	case <-ctx.Done():
		d.add(-1)
		return fmt.Errorf("enqueue: %w", ctx.Err())
	case <-d.done:
		d.add(-1)
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "The dispatcher is shut down.")
	}
}

// add changes the pending count; false if closed (for n > 0).
func (d *Dispatcher) add(n int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n > 0 && d.closed {
		return false
	}
	if d.pending == 0 && n > 0 {
		d.idle = make(chan struct{})
	}
	d.pending += n
	if d.pending == 0 {
		close(d.idle)
	}
	return true
}

// Wait blocks until every enqueued message is sent or failed, or ctx is
// done.
func (d *Dispatcher) Wait(ctx context.Context) error {
	d.mu.Lock()
	idle := d.idle
	d.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats counts one channel's attempts and results since the start.
type Stats struct {
	Attempts, Sent, Failed, Retried int64
}

// Stats returns the counts for channel k.
func (d *Dispatcher) Stats(k firebreak.ChannelKind) Stats {
	l := d.lanes[k]
	if l == nil {
		return Stats{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Close stops the workers once their current attempt is done, then closes
// the senders that hold resources (the SMTP connections).
func (d *Dispatcher) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.done)
	d.cancel()
	d.mu.Unlock()
	d.wg.Wait()
	for _, l := range d.lanes {
		if c, ok := l.sender.(io.Closer); ok {
			_ = c.Close()
		}
	}
	return nil
}

// report passes a state change on.
func (d *Dispatcher) report(j *job, state firebreak.DeliveryState, reason string) {
	if state != firebreak.DeliveryQueued {
		defer d.add(-1)
	}
	if state == firebreak.DeliveryFailed {
		// The reason names no secret; the recipient stays out of the log.
		d.cfg.Logger.Warn("delivery failed", "channel", j.msg.Channel, "key", j.msg.Key, "attempts", j.attempts, "reason", reason)
	}
	if d.cfg.OnDelivery != nil {
		d.cfg.OnDelivery(firebreak.Delivery{Key: j.msg.Key, Channel: j.msg.Channel, State: state,
			Reason: reason, Attempts: j.attempts, At: time.Now()})
	}
}
