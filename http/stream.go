package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	nethttp "net/http"
	"sync"
	"time"

	"firebreak"
)

// Limits of the live stream.
const (
	maxSubscribers    = 256
	streamWriteTimout = 10 * time.Second // a subscriber slower than this is dropped
)

// Frame is one message of the live stream GET /api/v1/stream: the engine's
// statistics and the event rate since the previous frame.
type Frame struct {
	firebreak.EngineStats
	EventsPerSecond float64   `json:"events_per_second"`
	Time            time.Time `json:"time"`
	// OpenIncidents counts the unresolved incidents among the newest ones
	// (absent without an incident store); Incidents are the newest few.
	OpenIncidents *int            `json:"open_incidents,omitempty"`
	Incidents     []IncidentBrief `json:"incidents,omitempty"`
}

// IncidentBrief is an incident as the live stream carries it.
type IncidentBrief struct {
	ID        int64                  `json:"id"`
	Kind      firebreak.IncidentKind `json:"kind"`
	Severity  firebreak.Severity     `json:"severity"`
	State     firebreak.State        `json:"state"`
	Title     string                 `json:"title"`
	Counts    firebreak.TierCounts   `json:"counts"`
	UpdatedAt time.Time              `json:"updated_at"`
}

// streamIncidents is how many of the newest incidents a frame carries.
const streamIncidents = 5

// hub samples the engine's statistics on a ticker and fans each frame out to
// the live-stream subscribers. It never waits for a subscriber: one whose
// buffer is still full misses a frame.
type hub struct {
	engine   firebreak.IngestService
	now      func() time.Time
	start    sync.Once
	interval time.Duration

	mu   sync.Mutex
	subs map[chan []byte]struct{}
	last []byte // the latest frame, sent first to a new subscriber

	prev     int64 // events at the previous tick, for the rate
	prevTime time.Time

	incidents firebreak.IncidentService // nil: frames carry no incidents
}

func newHub(engine firebreak.IngestService, incidents firebreak.IncidentService, now func() time.Time, interval time.Duration) *hub {
	return &hub{engine: engine, incidents: incidents, now: now, interval: interval, subs: make(map[chan []byte]struct{})}
}

// addIncidents fills the frame's incident fields from the newest incidents.
// A store that fails leaves them out: the counters still flow.
func (h *hub) addIncidents(f *Frame) {
	if h.incidents == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.interval)
	defer cancel()
	page, err := h.incidents.List(ctx, firebreak.IncidentFilter{Limit: openIncidentScan})
	if err != nil || page == nil {
		return
	}
	open := 0
	for _, inc := range page.Incidents {
		if inc == nil {
			continue
		}
		if inc.State != firebreak.StateResolved && inc.MergedInto == 0 {
			open++
		}
		if len(f.Incidents) < streamIncidents {
			f.Incidents = append(f.Incidents, IncidentBrief{ID: inc.ID, Kind: inc.Kind, Severity: inc.Severity,
				State: inc.State, Title: inc.Title, Counts: inc.Counts, UpdatedAt: inc.UpdatedAt})
		}
	}
	f.OpenIncidents = &open
}

// run ticks until ctx is done.
func (h *hub) run(ctx context.Context, logger *slog.Logger) {
	ticker := time.NewTicker(h.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			h.tick(logger)
		}
	}
}

// tick publishes one frame. A panic in the engine's Stats is logged, not
// allowed to end the loop.
func (h *hub) tick(logger *slog.Logger) {
	defer func() {
		if v := recover(); v != nil {
			logger.Error("http live stream: panic while sampling stats", "panic", v)
		}
	}()
	frame := h.sample()
	data, err := json.Marshal(frame)
	if err != nil {
		logger.Error("http live stream: encode frame", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = data
	for ch := range h.subs {
		select {
		case ch <- data:
		default: // still busy with an earlier frame: skip this one
		}
	}
}

// sample reads the statistics and computes the event rate since last time.
func (h *hub) sample() Frame {
	var st firebreak.EngineStats
	if h.engine != nil {
		st = h.engine.Stats()
	}
	now := h.now()
	f := Frame{EngineStats: st, Time: now.UTC()}
	if secs := now.Sub(h.prevTime).Seconds(); !h.prevTime.IsZero() && secs > 0 {
		f.EventsPerSecond = max(float64(st.Events-h.prev)/secs, 0)
	}
	h.prev, h.prevTime = st.Events, now
	h.addIncidents(&f)
	return f
}

// subscribe registers a subscriber and returns its channel and the latest
// frame (nil before the first tick). The first subscriber starts the ticker,
// which runs until ctx is done.
func (h *hub) subscribe(ctx context.Context, logger *slog.Logger) (chan []byte, []byte, error) {
	h.start.Do(func() { go h.run(ctx, logger) })
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= maxSubscribers {
		return nil, nil, firebreak.Errorf(firebreak.EUNAVAILABLE, "Too many live-stream subscribers; try again later.")
	}
	ch := make(chan []byte, 1)
	h.subs[ch] = struct{}{}
	return ch, h.last, nil
}

// snapshot encodes a frame of the current statistics without a rate, and
// without touching the state the ticker keeps.
func (h *hub) snapshot() []byte {
	f := Frame{Time: h.now().UTC()}
	if h.engine != nil {
		f.EngineStats = h.engine.Stats()
	}
	data, err := json.Marshal(f)
	if err != nil {
		return []byte("{}")
	}
	return data
}

func (h *hub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, ch)
}

// handleStream sends a Frame as a server-sent event every stream interval
// until the client leaves or the server closes.
func (s *Server) handleStream(w nethttp.ResponseWriter, r *nethttp.Request) {
	ch, first, err := s.hub.subscribe(s.ctx, s.logger)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer s.hub.unsubscribe(ch)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // ask reverse proxies not to buffer
	w.WriteHeader(nethttp.StatusOK)
	rc := nethttp.NewResponseController(w)
	if first == nil {
		first = s.hub.snapshot() // before the first tick: no rate yet
	}
	for data := first; ; {
		if err := sendEvent(rc, w, data); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		case data = <-ch:
		}
	}
}

// sendEvent writes one server-sent event under a write deadline, so that a
// stalled client is dropped rather than holding a goroutine forever.
func sendEvent(rc *nethttp.ResponseController, w nethttp.ResponseWriter, data []byte) error {
	if err := rc.SetWriteDeadline(time.Now().Add(streamWriteTimout)); err != nil && !errors.Is(err, nethttp.ErrNotSupported) {
		return err
	}
	if _, err := fmt.Fprintf(w, "event: stats\ndata: %s\n\n", data); err != nil {
		return err
	}
	return rc.Flush()
}
