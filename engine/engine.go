package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"firebreak"
	"firebreak/detect"
	"firebreak/ingest"
	"firebreak/risk"
)

// Journal is the durable, ordered event log (implemented by journal.Journal).
type Journal interface {
	Append(ctx context.Context, recs [][]byte) (first uint64, err error)
	LastSeq() uint64
	Replay(from uint64, fn func(seq uint64, rec []byte) error) error
	Compact(before uint64) error
}

// Snapshots stores model snapshots tagged with the journal position they
// cover (implemented over journal.WriteSnapshot and OpenLatestSnapshot).
type Snapshots interface {
	Write(seq uint64, write func(w io.Writer) error) error
	OpenLatest() (seq uint64, r io.ReadCloser, err error)
}

// Config configures an Engine.
type Config struct {
	Policy firebreak.Policy
	// QueueSize bounds the events accepted but not yet scored. Beyond it
	// Ingest answers "too many requests" before journaling anything.
	QueueSize int
	// SnapshotEvery is the number of scored events between snapshots
	// (0: only on Close).
	SnapshotEvery int64
	// Reputation is passed to the risk model. When Detect is set and
	// Reputation is not, the detector's campaigns are the reputation.
	Reputation risk.Reputation
	// Detect, when set, runs campaign detection on every scored event.
	Detect *detect.Config
	// Incidents, when set with Detect, receives the campaigns as incidents
	// every SyncEvery (default 2 s).
	Incidents firebreak.IncidentService
	SyncEvery time.Duration
	Logger    *slog.Logger
}

// DefaultConfig returns the configuration used by `firebreak serve`.
func DefaultConfig() Config {
	return Config{Policy: firebreak.DefaultPolicy(), QueueSize: 200_000, SnapshotEvery: 2_000_000}
}

// Engine implements firebreak.IngestService on a journal, a risk model and
// a store for high-risk logins.
type Engine struct {
	cfg       Config
	journal   Journal
	snapshots Snapshots
	logins    firebreak.LoginService
	log       *slog.Logger
	pipe      *Pipeline

	queue    chan batch
	queued   atomic.Int64 // events enqueued but not yet scored
	ready    atomic.Bool
	snapSeq  atomic.Uint64 // journal position of the latest snapshot
	snapBusy atomic.Bool   // a background snapshot is being written
	snapWG   sync.WaitGroup
	stop     context.CancelFunc
	done     chan struct{}
	closeMu  sync.Once
	risky    *riskyWriter
	det      *detect.Detector // nil without Config.Detect
	sync     *incidentSync    // nil without Config.Incidents
}

// batch is a run of journaled events with contiguous sequence numbers.
type batch struct {
	first  uint64
	events []firebreak.Event
	reply  chan verdict // for Score: one verdict; nil for Ingest
}

type verdict struct {
	a firebreak.Assessment
	t firebreak.Thresholds
}

var _ firebreak.IngestService = (*Engine)(nil)

// New returns an engine. Call Open before use.
func New(cfg Config, j Journal, s Snapshots, logins firebreak.LoginService) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultConfig().QueueSize
	}
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = 2 * time.Second
	}
	e := &Engine{
		cfg: cfg, journal: j, snapshots: s, logins: logins, log: cfg.Logger,
		queue: make(chan batch, 4096),
		done:  make(chan struct{}),
		risky: newRiskyWriter(logins, cfg.Logger),
	}
	rcfg := risk.Config{Policy: cfg.Policy, Reputation: cfg.Reputation}
	if cfg.Detect != nil {
		e.det = detect.New(*cfg.Detect)
		if rcfg.Reputation == nil {
			rcfg.Reputation = e.det
		}
		if cfg.Incidents != nil {
			e.sync = newIncidentSync(cfg.Incidents, cfg.Logger)
		}
	}
	e.pipe = NewPipeline(risk.New(rcfg))
	return e
}

// Open restores the latest snapshot and starts the scoring loop, which first
// replays the journal past the snapshot. Stats().Ready turns true after that.
func (e *Engine) Open() error {
	seq, err := e.restore()
	if err != nil {
		return err
	}
	loopCtx, stopLoop := context.WithCancel(context.Background())
	riskyCtx, stopRisky := context.WithCancel(context.Background())
	// Stop scoring first, then let the writers store what scoring produced.
	e.stop = func() {
		stopLoop()
		<-e.done
		stopRisky()
		if e.sync != nil {
			<-e.sync.done
		}
	}
	end := e.journal.LastSeq()
	go e.risky.run(riskyCtx)
	if e.sync != nil {
		go e.sync.run(riskyCtx)
	}
	go e.loop(loopCtx, seq, end)
	return nil
}

func (e *Engine) restore() (uint64, error) {
	seq, r, err := e.snapshots.OpenLatest()
	if err != nil {
		return 0, fmt.Errorf("open snapshot: %w", err)
	}
	if r == nil {
		return 0, nil
	}
	defer r.Close()
	start := time.Now()
	if _, err := e.pipe.model.ReadFrom(r); err != nil {
		return 0, fmt.Errorf("restore snapshot at seq %d: %w", seq, err)
	}
	e.pipe.Refresh()
	e.snapSeq.Store(seq)
	e.log.Info("restored risk model", "seq", seq, "accounts", e.pipe.model.Accounts(), "took", time.Since(start).Round(time.Millisecond))
	return seq, nil
}

// Ingest journals events durably, then queues them for scoring.
func (e *Engine) Ingest(ctx context.Context, events []firebreak.Event) error {
	if len(events) == 0 {
		return nil
	}
	if !e.admit(len(events)) {
		return firebreak.Errorf(firebreak.ETOOMANYREQUEST, "scoring queue is full (%d events waiting); retry later", e.queued.Load())
	}
	first, err := e.append(ctx, events)
	if err != nil {
		e.queued.Add(-int64(len(events)))
		return err
	}
	return e.enqueue(ctx, batch{first: first, events: events})
}

// Score journals one event, scores it in order with everything before it and
// returns the verdict.
func (e *Engine) Score(ctx context.Context, ev firebreak.Event) (firebreak.Assessment, firebreak.Thresholds, error) {
	if !e.admit(1) {
		return firebreak.Assessment{}, firebreak.Thresholds{}, firebreak.Errorf(firebreak.ETOOMANYREQUEST, "scoring queue is full; retry later")
	}
	evs := []firebreak.Event{ev}
	first, err := e.append(ctx, evs)
	if err != nil {
		e.queued.Add(-1)
		return firebreak.Assessment{}, firebreak.Thresholds{}, err
	}
	reply := make(chan verdict, 1)
	if err := e.enqueue(ctx, batch{first: first, events: evs, reply: reply}); err != nil {
		return firebreak.Assessment{}, firebreak.Thresholds{}, err
	}
	select {
	case v := <-reply:
		return v.a, v.t, nil
	case <-ctx.Done():
		// The event is journaled and will be scored; only the answer is lost.
		return firebreak.Assessment{}, firebreak.Thresholds{}, ctx.Err()
	case <-e.done:
		return firebreak.Assessment{}, firebreak.Thresholds{}, firebreak.Errorf(firebreak.EUNAVAILABLE, "engine is shutting down")
	}
}

// admit reserves queue room for n events, or refuses.
func (e *Engine) admit(n int) bool {
	if e.queued.Add(int64(n)) > int64(e.cfg.QueueSize) {
		e.queued.Add(-int64(n))
		return false
	}
	return true
}

func (e *Engine) append(ctx context.Context, events []firebreak.Event) (uint64, error) {
	recs := make([][]byte, len(events))
	buf := make([]byte, 0, 320*len(events))
	for i := range events {
		start := len(buf)
		buf = ingest.AppendNative(buf, &events[i])
		recs[i] = buf[start:len(buf):len(buf)]
	}
	first, err := e.journal.Append(ctx, recs)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, err
		}
		e.log.Error("journal append failed", "err", err)
		return 0, firebreak.Errorf(firebreak.EUNAVAILABLE, "event journal unavailable; nothing was accepted")
	}
	return first, nil
}

func (e *Engine) enqueue(ctx context.Context, b batch) error {
	select {
	case e.queue <- b:
		return nil
	case <-e.done:
		// Journaled but not scored now: the next start replays it.
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "engine is shutting down")
	}
}

// Stats reports the pipeline's counters.
func (e *Engine) Stats() firebreak.EngineStats {
	s := e.pipe.Stats()
	s.QueueLength = int(max(0, e.queued.Load()))
	s.JournalSeq = e.journal.LastSeq()
	s.Ready = e.ready.Load()
	return s
}

// Close stops the loop after the queued events are scored and writes a
// final snapshot.
func (e *Engine) Close() error {
	var err error
	e.closeMu.Do(func() {
		if e.stop == nil {
			return
		}
		e.stop()
		err = e.risky.close()
	})
	return err
}
