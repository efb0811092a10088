package statuspage_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/sqlite"
	"firebreak/statuspage"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a fake clock shared by the store and the handler.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a status page on a real SQLite file, served on loopback.
type env struct {
	h         *statuspage.Handler
	srv       *httptest.Server
	status    *sqlite.StatusStore
	incidents *sqlite.IncidentStore
	clock     *clock

	mu   sync.Mutex
	subs []firebreak.Subscription // what OnSubscribe received
}

const baseURL = "https://status.example.com"

func newEnv(tb testing.TB, configure ...func(*statuspage.Config)) *env {
	tb.Helper()
	e := &env{clock: &clock{now: t0}}
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "firebreak.db"))
	db.Now = e.clock.Now
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		db.Logger = slog.Default()
	}
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	e.status, e.incidents = sqlite.NewStatusStore(db), sqlite.NewIncidentStore(db)
	cfg := statuspage.Config{Status: e.status, BaseURL: baseURL, Title: "Example status",
		Now: e.clock.Now, Logger: db.Logger, RateLimit: 1e6, RateBurst: 1e6,
		OnSubscribe: func(_ context.Context, sub firebreak.Subscription) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.subs = append(e.subs, sub)
		}}
	for _, f := range configure {
		f(&cfg)
	}
	var err error
	if e.h, err = statuspage.New(cfg); err != nil {
		tb.Fatal(err)
	}
	e.srv = httptest.NewServer(e.h)
	tb.Cleanup(e.srv.Close)
	return e
}

// incident creates an incident to publish about.
func (e *env) incident(tb testing.TB) int64 {
	tb.Helper()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "internal title", FirstSeen: t0, LastSeen: t0}
	if err := e.incidents.Create(context.Background(), inc, nil, firebreak.SystemActor); err != nil {
		tb.Fatal(err)
	}
	return inc.ID
}

// publish publishes an update promising the next in 30 minutes (unless
// resolved) and invalidates the cache, as the operator API will.
func (e *env) publish(tb testing.TB, id int64, phase firebreak.Phase, title, body string) *firebreak.StatusUpdate {
	tb.Helper()
	u := &firebreak.StatusUpdate{IncidentID: id, Phase: phase, Title: title, Body: body, Author: "alice"}
	if phase != firebreak.PhaseResolved {
		u.NextUpdateBy = e.clock.Now().Add(30 * time.Minute)
	}
	if err := e.status.Publish(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	e.h.Invalidate()
	return u
}

// response is a finished request: status, headers and body.
type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(tb testing.TB, req *http.Request) response {
	tb.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

func (e *env) get(tb testing.TB, path string, header ...string) response {
	tb.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(tb, req)
}

func (e *env) post(tb testing.TB, path string, form url.Values, header ...string) response {
	tb.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(tb, req)
}

// wantStatus fails tb unless r has status want.
func wantStatus(tb testing.TB, r response, want int) {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("status = %d, want %d; body:\n%s", r.status, want, r.body)
	}
}

// wantContains fails tb unless the body holds every one of parts.
func wantContains(tb testing.TB, body string, parts ...string) {
	tb.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			tb.Errorf("body does not contain %q:\n%s", p, body)
		}
	}
}

// received returns what OnSubscribe has received.
func (e *env) received() []firebreak.Subscription {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]firebreak.Subscription(nil), e.subs...)
}
