package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/channel"
	"firebreak/outbox"
	"firebreak/sqlite"
)

var secret = []byte("outbox-test-secret-0123456789")

// openStore opens a SQLite file at path and returns the stores on it.
func openStore(tb testing.TB, path string) (*sqlite.DB, *sqlite.NoticeStore) {
	tb.Helper()
	db := sqlite.NewDB(path)
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(context.Background()); err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, sqlite.NewNoticeStore(db)
}

// createIncident stores an incident and returns its ID.
func createIncident(tb testing.TB, db *sqlite.DB) int64 {
	tb.Helper()
	now := time.Now().UTC()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Credential stuffing", Summary: "Many failed sign-ins from one network.",
		FirstSeen: now.Add(-time.Hour), LastSeen: now}
	if err := sqlite.NewIncidentStore(db).Create(context.Background(), inc, nil, firebreak.SystemActor); err != nil {
		tb.Fatalf("create incident: %v", err)
	}
	return inc.ID
}

// chatNotices returns n chat notices for accounts u0...u(n-1).
func chatNotices(incident int64, n int) []firebreak.Notice {
	out := make([]firebreak.Notice, n)
	for i := range out {
		out[i] = firebreak.Notice{IncidentID: incident, Account: fmt.Sprintf("u%d", i), Template: "chat/compromised",
			Channel: firebreak.ChannelChat, Locale: "en", Text: "We signed you out. Next update by 12:00 UTC."}
	}
	return out
}

func enqueueAll(tb testing.TB, s firebreak.NoticeService, notices []firebreak.Notice) {
	tb.Helper()
	for start := 0; start < len(notices); start += firebreak.MaxBatch {
		if _, err := s.Enqueue(context.Background(), notices[start:min(len(notices), start+firebreak.MaxBatch)]); err != nil {
			tb.Fatalf("enqueue: %v", err)
		}
	}
}

// receiver is a chat gateway on loopback that counts deliveries per
// Idempotency-Key. answer, if set, picks the status for a request.
type receiver struct {
	mu     sync.Mutex
	raw    int
	keys   map[string]int
	to     map[string]string // key → recipient
	answer func(key, to string) int
	// onDeliver, if set, runs after a delivery is counted and before the
	// answer, with the number of distinct keys so far.
	onDeliver func(distinct int)
}

// set changes the receiver's hooks under its lock.
func (r *receiver) set(answer func(key, to string) int, onDeliver func(distinct int)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer, r.onDeliver = answer, onDeliver
}

func newReceiver(tb testing.TB) (*receiver, *httptest.Server) {
	r := &receiver{keys: map[string]int{}, to: map[string]string{}}
	srv := httptest.NewServer(r)
	tb.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body struct{ To, Key string }
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil || body.Key != req.Header.Get("Idempotency-Key") {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	answer := r.answer
	r.mu.Unlock()
	if answer != nil {
		if code := answer(body.Key, body.To); code != http.StatusOK {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"reason":"refused by the test"}`, code)
			return
		}
	}
	r.mu.Lock()
	r.raw++
	r.keys[body.Key]++
	r.to[body.Key] = body.To
	distinct, hook := len(r.keys), r.onDeliver
	r.mu.Unlock()
	if hook != nil {
		hook(distinct)
	}
}

// delivered returns how often key was delivered, and to whom.
func (r *receiver) delivered(key string) (times int, to string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[key], r.to[key]
}

func (r *receiver) counts() (raw, distinct int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.raw, len(r.keys)
}

// startSender runs a Sender for the chat channel (and inapp when feed is
// set) against a dispatcher posting to url; stop ends it and closes the
// dispatcher.
func startSender(tb testing.TB, store firebreak.NoticeService, url string, feed firebreak.InAppFeed, cfg outbox.Config) (stop func()) {
	tb.Helper()
	cfg.Store = store
	cfg.Channels = []firebreak.Channel{firebreak.ChannelChat}
	senders := []firebreak.Sender{}
	wh, err := channel.NewWebhook(channel.WebhookConfig{Kind: firebreak.ChannelChat, URL: url, Secret: secret})
	if err != nil {
		tb.Fatal(err)
	}
	senders = append(senders, wh)
	if feed != nil {
		cfg.Channels = append(cfg.Channels, firebreak.ChannelInApp)
		senders = append(senders, channel.NewInApp(feed))
	}
	s, err := outbox.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	policy := channel.Policy{Workers: 8, BaseDelay: 50 * time.Millisecond, MaxDelay: time.Second, RetryUnknown: true}
	d, err := channel.NewDispatcher(channel.DispatcherConfig{Senders: senders, OnDelivery: s.OnDelivery,
		Policies: map[firebreak.ChannelKind]channel.Policy{firebreak.ChannelChat: policy}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, d) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("Run: %v", err)
			}
			d.Close()
		})
	}
	tb.Cleanup(stop)
	return stop
}

// waitSettled waits until no notice of the incident is queued.
func waitSettled(tb testing.TB, s firebreak.NoticeService, incident int64, timeout time.Duration) firebreak.NoticeCounts {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		counts, err := s.Counts(context.Background(), incident)
		if err != nil {
			tb.Fatal(err)
		}
		queued := int64(0)
		for _, c := range counts {
			queued += c.Queued
		}
		if queued == 0 {
			return counts
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %v, still queued: %+v", timeout, counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dbPath(tb testing.TB) string { return filepath.Join(tb.TempDir(), "firebreak.db") }
