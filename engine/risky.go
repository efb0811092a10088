package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"firebreak"
)

// riskyWriter stores challenged and denied logins in the background, in
// batches, so that a slow disk never stalls scoring. If the store falls far
// behind, the oldest unsaved entries are dropped and counted: they are
// derived data, and the journal still holds every event.
type riskyWriter struct {
	store   firebreak.LoginService
	log     *slog.Logger
	mu      sync.Mutex
	buf     []*firebreak.ScoredLogin
	dropped int64
	wake    chan struct{}
	done    chan struct{}
}

const riskyMax = 50_000

func newRiskyWriter(store firebreak.LoginService, log *slog.Logger) *riskyWriter {
	return &riskyWriter{store: store, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (w *riskyWriter) add(l *firebreak.ScoredLogin) {
	if w.store == nil {
		return
	}
	w.mu.Lock()
	if len(w.buf) >= riskyMax {
		w.buf = w.buf[1:]
		w.dropped++
	}
	w.buf = append(w.buf, l)
	n := len(w.buf)
	w.mu.Unlock()
	if n >= 500 {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (w *riskyWriter) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.flush()
			return
		case <-t.C:
		case <-w.wake:
		}
		w.flush()
	}
}

func (w *riskyWriter) flush() {
	if w.store == nil {
		return
	}
	w.mu.Lock()
	batch := w.buf
	w.buf = nil
	dropped := w.dropped
	w.dropped = 0
	w.mu.Unlock()
	if dropped > 0 {
		w.log.Warn("high-risk login store fell behind; entries dropped", "dropped", dropped)
	}
	for len(batch) > 0 {
		n := min(len(batch), 1000)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := w.store.RecordScored(ctx, batch[:n]); err != nil {
			w.log.Error("store high-risk logins", "n", n, "err", err)
		}
		cancel()
		batch = batch[n:]
	}
}

func (w *riskyWriter) close() error {
	<-w.done
	return nil
}
