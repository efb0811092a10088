package http

import (
	nethttp "net/http"
	"strconv"
	"time"

	"firebreak"
)

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
	if err := s.audit(r, firebreak.AuditStatusPublished, "status/"+strconv.FormatInt(req.IncidentID, 10), u); err != nil {
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

// FeedResponse is the body of GET /api/v1/feed/{account}: the account's
// in-app notices, oldest first. Next is the "after" of the next page.
type FeedResponse struct {
	Entries []FeedEntry `json:"entries"`
	Next    int64       `json:"next,omitempty"`
}

// FeedEntry is one in-app notice.
type FeedEntry struct {
	ID      int64             `json:"id"`
	Subject string            `json:"subject,omitempty"`
	Text    string            `json:"text"`
	Meta    map[string]string `json:"meta,omitempty"` // e.g. the self-service link
	Created time.Time         `json:"created"`
}

func (s *Server) handleFeed(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.cfg.Feed == nil {
		s.writeError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE, "The in-app feed is not available on this server."))
		return
	}
	account := r.PathValue("account")
	q := r.URL.Query()
	var errs fieldErrors
	if account == "" || len(account) > firebreak.MaxAccountLen {
		errs = append(errs, firebreak.FieldError{Field: "account", Reason: "required: 1 to " + strconv.Itoa(firebreak.MaxAccountLen) + " bytes"})
	}
	after, limit := int64(0), firebreak.DefaultPageLimit
	var err error
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			errs = append(errs, firebreak.FieldError{Field: "after", Reason: "must be the next of a previous page"})
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > firebreak.MaxPageLimit {
			errs = append(errs, firebreak.FieldError{Field: "limit", Reason: "must be an integer from 1 to " + strconv.Itoa(firebreak.MaxPageLimit)})
		}
	}
	if len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	entries, err := s.cfg.Feed.List(r.Context(), account, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := FeedResponse{Entries: []FeedEntry{}}
	for _, e := range entries {
		res.Entries = append(res.Entries, FeedEntry{ID: e.ID, Subject: e.Message.Subject, Text: e.Message.Text, Meta: e.Message.Meta, Created: e.Created})
	}
	if len(entries) == limit {
		res.Next = entries[len(entries)-1].ID
	}
	writeJSON(w, nethttp.StatusOK, res)
}
