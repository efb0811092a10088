package http

import (
	nethttp "net/http"
	"time"
)

// route is one entry of the route table.
type route struct {
	pattern string // "METHOD /path", as nethttp.ServeMux reads it
	handler nethttp.HandlerFunc
	access  access // who may use it; the zero value lets no one in
}

// routes is the whole HTTP surface in one table. Every route says who may
// use it: anyone, or the least role that may (each role may do what the
// roles before it may). A route that says nothing is refused to everyone.
func (s *Server) routes() []route {
	return []route{
		{"POST /api/v1/events", s.handleEvents, responders},
		{"POST /api/v1/score", s.handleScore, responders},
		{"GET /api/v1/stats", s.handleStats, viewers},
		{"GET /api/v1/logins", s.handleLogins, viewers},
		{"GET /api/v1/stream", s.handleStream, viewers},
		{"GET /api/v1/incidents", s.handleListIncidents, viewers},
		{"GET /api/v1/incidents/{id}", s.handleGetIncident, viewers},
		{"PATCH /api/v1/incidents/{id}", s.handleUpdateIncident, responders},
		{"GET /api/v1/incidents/{id}/accounts", s.handleIncidentAccounts, viewers},
		{"POST /api/v1/incidents/{id}/accounts/{account}/move", s.handleMoveAccount, responders},
		{"GET /api/v1/incidents/{id}/timeline", s.handleIncidentTimeline, viewers},
		{"GET /api/v1/incidents/{id}/plans", s.handleListPlans, viewers},
		{"POST /api/v1/incidents/{id}/plans", s.handleCreatePlan, responders},
		{"GET /api/v1/plans/{id}", s.handleGetPlan, viewers},
		{"PUT /api/v1/plans/{id}", s.handleRevisePlan, responders},
		{"GET /api/v1/plans/{id}/targets", s.handlePlanTargets, viewers},
		{"POST /api/v1/plans/{id}/approvals", s.handleApprove, approvers},
		{"POST /api/v1/plans/{id}/runs", s.handleStartRun, responders},
		{"GET /api/v1/runs", s.handleListRuns, viewers},
		{"GET /api/v1/runs/{id}", s.handleGetRun, viewers},
		{"GET /api/v1/runs/{id}/items", s.handleRunItems, viewers},
		{"POST /api/v1/runs/{id}/pause", s.handleRunControl("pause"), responders},
		{"POST /api/v1/runs/{id}/resume", s.handleRunControl("resume"), responders},
		{"POST /api/v1/runs/{id}/kill", s.handleRunControl("kill"), responders},
		{"POST /api/v1/runs/{id}/rollback", s.handleRollback, responders},
		{"GET /api/v1/notices", s.handleListNotices, viewers},
		{"GET /api/v1/notices/{id}", s.handleGetNotice, viewers},
		{"GET /api/v1/incidents/{id}/appeals", s.handleListAppeals, viewers},
		{"POST /api/v1/appeals/{id}/decision", s.handleDecideAppeal, approvers},
		{"GET /api/v1/incidents/{id}/notice-preview", s.handleNoticePreview, viewers},
		{"GET /api/v1/incidents/{id}/communication", s.handleCommunicationMetrics, viewers},
		{"GET /api/v1/feed/{account}", s.handleFeed, viewers},
		{"GET /api/v1/status-updates", s.handleStatusHistory, viewers},
		{"POST /api/v1/status-updates", s.handlePublishStatus, responders},
		{"GET /api/v1/status-updates/overdue", s.handleStatusOverdue, viewers},
		{"GET /api/v1/audit", s.handleAudit, viewers},
		{"GET /api/v1/audit/checkpoint", s.handleAuditCheckpoint, viewers},
		{"GET /api/v1/me", s.handleMe, viewers},
		{"GET /api/v1/operators", s.handleListOperators, admins},
		{"POST /api/v1/operators", s.handleCreateOperator, admins},
		{"PATCH /api/v1/operators/{name}", s.handleUpdateOperator, admins},
		{"GET /api/v1/tokens", s.handleListTokens, admins},
		{"POST /api/v1/tokens", s.handleCreateToken, admins},
		{"DELETE /api/v1/tokens/{id}", s.handleRevokeToken, admins},
		{"GET /api/v1/openapi.yaml", s.handleOpenAPI, anyone},

		{"GET /healthz", s.handleHealthz, anyone},
		{"GET /readyz", s.handleReadyz, anyone},
		{"GET /metrics", s.handleMetrics, anyone},

		{"GET /login", s.handleLoginPage, anyone},
		{"POST /login", s.handleLogin, anyone},
		{"POST /logout", s.handleLogout, viewers},
		{"GET /{$}", s.handleIndex, viewers},
		{"GET /partials/risky", s.handleRiskyPartial, viewers},
		{"GET /incidents", s.handleIncidentsPage, viewers},
		{"GET /incidents/{id}", s.handleIncidentContainPage, viewers},
		{"POST /incidents/{id}/plans", s.handleCreatePlanForm, responders},
		{"POST /incidents/{id}/state", s.handleStateForm, responders},
		{"POST /incidents/{id}/accounts/{account}/move", s.handleMoveForm, responders},
		{"GET /plans/{id}", s.handlePlanPage, viewers},
		{"POST /plans/{id}/approve", s.handleApproveForm, approvers},
		{"POST /plans/{id}/run", s.handleRunForm, responders},
		{"GET /runs/{id}", s.handleRunPage, viewers},
		{"GET /partials/runs/{id}", s.handleRunPartial, viewers},
		{"POST /runs/{id}/pause", s.handleRunControlForm("pause"), responders},
		{"POST /runs/{id}/resume", s.handleRunControlForm("resume"), responders},
		{"POST /runs/{id}/kill", s.handleRunControlForm("kill"), responders},
		{"POST /runs/{id}/rollback", s.handleRunControlForm("rollback"), responders},
		{"GET /accounts/{account}", s.handleAccountPage, viewers},
		{"GET /assets/{file}", s.handleAsset, anyone},
		{"POST /incidents/{id}/status", s.handlePublishStatusForm, responders},
		{"GET /outbox", s.handleOutboxPage, viewers},
		{"GET /outbox/{id}", s.handleNoticePage, viewers},
		{"GET /incidents/{id}/appeals", s.handleAppealsPage, viewers},
		{"POST /incidents/{id}/appeals/{appeal}/decide", s.handleDecideAppealForm, approvers},
		{"GET /incidents/{id}/preview", s.handlePreviewPage, viewers},
		{"GET /partials/incidents/{id}/communication", s.handleCommsPartial, viewers},
		{"GET /status", s.handleStatusRoot, anyone},
		{"GET /status/{path...}", s.handleStatusPage, anyone},
		{"POST /status/{path...}", s.handleStatusPage, anyone},
		{"GET /self-service/{path...}", s.handleSelfService, anyone},
		{"POST /self-service/{path...}", s.handleSelfService, anyone},
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

// RouteAccess is who may use one route: Access is "public", a role name
// (that role and every stronger one), or "nobody".
type RouteAccess struct {
	Pattern string
	Access  string
}

// Access returns who may use each route, in table order, for docs/access.md
// and its test.
func (s *Server) Access() []RouteAccess {
	var out []RouteAccess
	for _, rt := range s.routes() {
		out = append(out, RouteAccess{Pattern: rt.pattern, Access: rt.access.String()})
	}
	return out
}

// buildHandler registers the route table on a mux, each route wrapped in
// access control and instrumentation.
func (s *Server) buildHandler() nethttp.Handler {
	mux := nethttp.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.instrument(rt.pattern, s.authorize(rt.pattern, rt.access, rt.handler)))
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
