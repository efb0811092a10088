// Package http is the HTTP surface of firebreak serve: the JSON API under
// /api/v1, health and metrics endpoints, the live demo page, and a client that
// implements the same service interfaces over the API.
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	nethttp "net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"firebreak"
	"firebreak/auth"
	"firebreak/ingest"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxBodyBytes    = 16 << 20
	DefaultMaxDecodedBytes = 64 << 20
	DefaultMaxEvents       = 10_000
	DefaultRetryAfter      = time.Second
	DefaultStreamInterval  = time.Second
)

// ShutdownTimeout is how long Close waits for requests in flight.
const ShutdownTimeout = 10 * time.Second

// Config configures a Server. Ingest and Logins are required; a zero value in
// any other field selects its default.
type Config struct {
	Ingest firebreak.IngestService
	Logins firebreak.LoginService
	// Incidents serves the /api/v1/incidents routes; nil leaves them
	// registered but answering 503 ("unavailable") with a message saying so.
	Incidents firebreak.IncidentService
	// Containment serves plans, approvals and runs; nil leaves those
	// routes answering 503.
	Containment Containment
	// Communication serves the outbox, appeals, notice previews and
	// communication metrics (API and dashboard); nil leaves those routes
	// answering 503, like Containment.
	Communication Communication
	// Agents parses user agent strings of incoming events; nil leaves
	// Event.Agent empty.
	Agents ingest.AgentParser
	Logger *slog.Logger
	// Registry receives the server's metrics and is what /metrics serves; nil
	// creates a private one. The global registry is never used.
	Registry *prometheus.Registry
	// Token is a static bearer token for automation that predates API
	// tokens: it acts as an admin and the timeline records it as APIActor.
	// Empty disables it.
	Token string
	// Operators stores operator accounts, sessions and API tokens. Nil
	// leaves Token as the only way in. With neither operators nor Token,
	// every route that is not public answers 401 and Open logs how to
	// create the first admin.
	Operators firebreak.OperatorService
	// Auth tunes sessions, password hashing and back-off; its zero values
	// select the defaults. Its Now, Logger and Auditor default to this
	// Config's.
	Auth auth.Config
	// Auditor receives login, logout, operator and token records; nil
	// records nothing. Operator and token changes fail closed (503) when
	// the record cannot be written.
	Auditor firebreak.Auditor
	// AuditLog serves GET /api/v1/audit; nil answers 503.
	AuditLog AuditLog
	// Status stores status page updates (/api/v1/status-updates); nil
	// answers 503. StatusPage is the public status page served under
	// /status/ (package statuspage); nil answers 404. OnStatusPublished
	// runs after an update is published (to refresh the page's cache).
	Status            firebreak.StatusService
	StatusPage        nethttp.Handler
	OnStatusPublished func(firebreak.StatusUpdate)
	// SelfService serves the public self-service pages under
	// /self-service/ (package selfservice); nil answers 404.
	SelfService nethttp.Handler
	// Feed is the in-app feed the platform's app reads per account
	// (GET /api/v1/feed/{account}); nil answers 503.
	Feed firebreak.InAppFeed

	MaxBodyBytes    int64 // raw request body, as sent (default 16 MiB)
	MaxDecodedBytes int64 // body after gzip decompression (default 64 MiB)
	MaxEvents       int   // events per request (default 10,000)
	MaxLineBytes    int   // one NDJSON line; 0 leaves the decoder's default

	RetryAfter     time.Duration    // advertised on 429 and 503 (default 1 s)
	StreamInterval time.Duration    // between live-stream frames (default 1 s)
	Now            func() time.Time // clock (default time.Now)
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	c.MaxBodyBytes = cmp0(c.MaxBodyBytes, DefaultMaxBodyBytes)
	c.MaxDecodedBytes = cmp0(c.MaxDecodedBytes, DefaultMaxDecodedBytes)
	c.MaxEvents = cmp0(c.MaxEvents, DefaultMaxEvents)
	c.RetryAfter = cmp0(c.RetryAfter, DefaultRetryAfter)
	c.StreamInterval = cmp0(c.StreamInterval, DefaultStreamInterval)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// cmp0 returns v, or def when v is zero or negative.
func cmp0[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Server serves the API, the health and metrics endpoints and the demo page.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	handler nethttp.Handler
	metrics *metrics
	page    *page
	hub     *hub
	auth    *auth.Service // nil without Config.Operators
	// crossOrigin refuses cross-site state-changing requests of sessions.
	crossOrigin *nethttp.CrossOriginProtection
	// haveOperators is set once an operator exists; until then every
	// anonymous request counts them again.
	haveOperators atomic.Bool
	initErr       error // from metric registration, reported by Open

	ctx    context.Context // cancelled by Close; ends live streams
	cancel context.CancelFunc
	ln     net.Listener
	server *nethttp.Server
}

// NewServer returns a server for cfg. Use Open to listen, or Handler to
// serve in tests; Close releases it either way.
func NewServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, logger: cfg.Logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.metrics, s.initErr = newMetrics(cfg.Registry, cfg.Ingest)
	page, err := newPage()
	s.page, s.initErr = page, errors.Join(s.initErr, err)
	s.hub = newHub(cfg.Ingest, cfg.Incidents, cfg.Now, cfg.StreamInterval)
	s.auth = newAuthService(cfg)
	s.crossOrigin = nethttp.NewCrossOriginProtection()
	s.handler = s.buildHandler()
	s.server = &nethttp.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second, // live streams extend it per frame
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler returns the server's root handler.
func (s *Server) Handler() nethttp.Handler { return s.handler }

// Open listens on addr (":0" picks a free port) and serves in the background.
func (s *Server) Open(addr string) error {
	if s.cfg.Ingest == nil || s.cfg.Logins == nil {
		return fmt.Errorf("open http server: Config.Ingest and Config.Logins are required")
	}
	if s.initErr != nil {
		return fmt.Errorf("open http server: %w", s.initErr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("open http server: %w", err)
	}
	s.ln = ln
	s.warnWithoutOperators()
	go func() {
		if err := s.server.Serve(ln); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			s.logger.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// URL returns the base URL the server listens on, or "" before Open.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Close ends live streams, then shuts the server down gracefully, waiting up
// to ShutdownTimeout for requests in flight.
func (s *Server) Close() error {
	s.cancel()
	if s.ln == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := s.server.Shutdown(ctx); err != nil {
		return fmt.Errorf("close http server: %w", err)
	}
	return nil
}
