package http

import (
	nethttp "net/http"
	"time"
)

// route is one entry of the route table.
type route struct {
	pattern string // "METHOD /path", as nethttp.ServeMux reads it
	handler nethttp.HandlerFunc
	auth    bool // requires the bearer token when one is configured
}

// routes is the whole HTTP surface in one table.
func (s *Server) routes() []route {
	return []route{
		{"POST /api/v1/events", s.handleEvents, true},
		{"POST /api/v1/score", s.handleScore, true},
		{"GET /api/v1/stats", s.handleStats, true},
		{"GET /api/v1/logins", s.handleLogins, true},
		{"GET /api/v1/stream", s.handleStream, true},
		{"GET /api/v1/incidents", s.handleListIncidents, true},
		{"GET /api/v1/incidents/{id}", s.handleGetIncident, true},
		{"PATCH /api/v1/incidents/{id}", s.handleUpdateIncident, true},
		{"GET /api/v1/incidents/{id}/accounts", s.handleIncidentAccounts, true},
		{"POST /api/v1/incidents/{id}/accounts/{account}/move", s.handleMoveAccount, true},
		{"GET /api/v1/incidents/{id}/timeline", s.handleIncidentTimeline, true},
		{"GET /api/v1/openapi.yaml", s.handleOpenAPI, false},

		{"GET /healthz", s.handleHealthz, false},
		{"GET /readyz", s.handleReadyz, false},
		{"GET /metrics", s.handleMetrics, false},

		{"GET /{$}", s.handleIndex, true},
		{"GET /partials/risky", s.handleRiskyPartial, true},
		{"GET /incidents", s.handleIncidentsPage, true},
		{"GET /incidents/{id}", s.handleIncidentPage, true},
		{"GET /accounts/{account}", s.handleAccountPage, true},
		{"GET /assets/{file}", s.handleAsset, false},
	}
}

// Routes returns the pattern of every route the server serves, in table
// order, for documentation and tests.
func (s *Server) Routes() []string {
	var patterns []string
	for _, rt := range s.routes() {
		patterns = append(patterns, rt.pattern)
	}
	return patterns
}

// buildHandler registers the route table on a mux, each route wrapped in
// authentication (where the table asks for it) and instrumentation.
func (s *Server) buildHandler() nethttp.Handler {
	mux := nethttp.NewServeMux()
	for _, rt := range s.routes() {
		var h nethttp.Handler = rt.handler
		if rt.auth {
			h = s.authenticate(h)
		}
		mux.Handle(rt.pattern, s.instrument(rt.pattern, h))
	}
	return mux
}

// instrument records the count and duration of requests to one route.
func (s *Server) instrument(pattern string, next nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: nethttp.StatusOK}
		next.ServeHTTP(sw, r)
		s.metrics.observeRequest(pattern, sw.status, time.Since(start))
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	nethttp.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets nethttp.ResponseController reach the connection for flushing
// and write deadlines.
func (w *statusWriter) Unwrap() nethttp.ResponseWriter { return w.ResponseWriter }
