package http

import (
	nethttp "net/http"
	"strconv"
	"time"

	"firebreak"
)

// AuditStatusPublished is the audit action of a published status update.
const AuditStatusPublished = "status.published"

// StatusUpdateRequest is the body of POST /api/v1/status-updates.
type StatusUpdateRequest struct {
	IncidentID   int64           `json:"incident_id"` // 0: a general notice
	Phase        firebreak.Phase `json:"phase"`
	Title        string          `json:"title"`
	Body         string          `json:"body"`
	NextUpdateBy time.Time       `json:"next_update_by,omitzero"`
}

// OverdueResponse is the body of GET /api/v1/status-updates/overdue: the
// latest update of each thread whose promised next update is late.
type OverdueResponse struct {
	Overdue []firebreak.StatusUpdate `json:"overdue"`
}

func (s *Server) statusService(w nethttp.ResponseWriter, r *nethttp.Request) firebreak.StatusService {
	if s.cfg.Status == nil {
		s.writeError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE, "The status page is not available on this server."))
		return nil
	}
	return s.cfg.Status
}

// handleStatusPage serves the public status page under /status/.
func (s *Server) handleStatusPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.cfg.StatusPage == nil {
		nethttp.NotFound(w, r)
		return
	}
	nethttp.StripPrefix("/status", s.cfg.StatusPage).ServeHTTP(w, r)
}

func (s *Server) handleStatusRoot(w nethttp.ResponseWriter, r *nethttp.Request) {
	nethttp.Redirect(w, r, "/status/", nethttp.StatusMovedPermanently)
}

func (s *Server) handlePublishStatus(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.statusService(w, r)
	if svc == nil {
		return
	}
	var req StatusUpdateRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u := firebreak.StatusUpdate{IncidentID: req.IncidentID, Phase: req.Phase, Title: req.Title, Body: req.Body,
		NextUpdateBy: req.NextUpdateBy, Author: s.actor(r)}
	if err := u.Validate(s.cfg.Now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, AuditStatusPublished, "status/"+strconv.FormatInt(req.IncidentID, 10), u); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := svc.Publish(r.Context(), &u); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.cfg.OnStatusPublished != nil {
		s.cfg.OnStatusPublished(u)
	}
	writeJSON(w, nethttp.StatusCreated, u)
}

func (s *Server) handleStatusHistory(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.statusService(w, r)
	if svc == nil {
		return
	}
	cursor, limit, errs := parsePage(r.URL.Query())
	if len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	page, err := svc.History(r.Context(), firebreak.StatusFilter{Cursor: cursor, Limit: limit})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page.Updates = nonNilSlice(page.Updates)
	writeJSON(w, nethttp.StatusOK, page)
}

func (s *Server) handleStatusOverdue(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.statusService(w, r)
	if svc == nil {
		return
	}
	late, err := svc.Overdue(r.Context(), s.cfg.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, OverdueResponse{Overdue: nonNilSlice(late)})
}

// handleSelfService serves the public self-service pages, mounted with their
// own /self-service prefix.
func (s *Server) handleSelfService(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.cfg.SelfService == nil {
		nethttp.NotFound(w, r)
		return
	}
	s.cfg.SelfService.ServeHTTP(w, r)
}
