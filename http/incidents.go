package http

import (
	nethttp "net/http"
	"strconv"

	"firebreak"
)

// APIActor is the actor recorded on the timeline for changes made with the
// static Config.Token, which identifies no one in particular. Operators are
// recorded by name and API tokens as "token:NAME".
const APIActor = "api"

// TimelineResponse is the body of GET /api/v1/incidents/{id}/timeline:
// every entry, oldest first.
type TimelineResponse struct {
	Entries []firebreak.TimelineEntry `json:"entries"`
}

// MoveRequest is the body of POST /api/v1/incidents/{id}/accounts/{account}/move.
type MoveRequest struct {
	Tier   firebreak.Tier `json:"tier"`
	Reason string         `json:"reason"`
}

// incidentService returns the configured incident service, or writes 503 and
// returns nil when the server runs without one.
func (s *Server) incidentService(w nethttp.ResponseWriter, r *nethttp.Request) firebreak.IncidentService {
	if s.cfg.Incidents == nil {
		s.writeError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE,
			"Incidents are not available: this server runs without an incident store."))
		return nil
	}
	return s.cfg.Incidents
}

func (s *Server) handleListIncidents(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.incidentService(w, r)
	if svc == nil {
		return
	}
	filter, err := parseIncidentFilter(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := svc.List(r.Context(), filter)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if page == nil {
		page = &firebreak.IncidentPage{}
	}
	if page.Incidents == nil {
		page.Incidents = []*firebreak.Incident{}
	}
	writeJSON(w, nethttp.StatusOK, page)
}

func (s *Server) handleGetIncident(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.incidentService(w, r)
	if svc == nil {
		return
	}
	id, err := parseIncidentID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	inc, err := svc.Find(r.Context(), id)
	s.writeIncident(w, r, id, inc, err)
}

// writeIncident writes inc, or err, or 404 when there is neither.
func (s *Server) writeIncident(w nethttp.ResponseWriter, r *nethttp.Request, id int64, inc *firebreak.Incident, err error) {
	if err == nil && inc == nil {
		err = firebreak.Errorf(firebreak.ENOTFOUND, "Incident %d not found.", id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, inc)
}

func (s *Server) handleIncidentAccounts(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.incidentService(w, r)
	if svc == nil {
		return
	}
	id, filter, err := parseAccountsRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := svc.ListAccounts(r.Context(), id, filter)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if page == nil {
		page = &firebreak.AccountPage{}
	}
	if page.Accounts == nil {
		page.Accounts = []firebreak.AffectedAccount{}
	}
	writeJSON(w, nethttp.StatusOK, page)
}

func (s *Server) handleIncidentTimeline(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.incidentService(w, r)
	if svc == nil {
		return
	}
	id, err := parseIncidentID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, err := svc.Timeline(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if entries == nil {
		entries = []firebreak.TimelineEntry{}
	}
	writeJSON(w, nethttp.StatusOK, &TimelineResponse{Entries: entries})
}

func (s *Server) handleUpdateIncident(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.incidentService(w, r)
	if svc == nil {
		return
	}
	id, err := parseIncidentID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var upd firebreak.IncidentUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := upd.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, firebreak.AuditIncidentUpdated, "incident/"+strconv.FormatInt(id, 10), upd); err != nil {
		s.writeError(w, r, err)
		return
	}
	inc, err := svc.Update(r.Context(), id, upd, s.actor(r))
	s.writeIncident(w, r, id, inc, err)
}

// audit appends an operator's step to the audit trail before it is taken:
// if the trail cannot be written, the step is refused (503).
func (s *Server) audit(r *nethttp.Request, action, object string, data any) error {
	if s.cfg.Auditor == nil {
		return nil
	}
	_, err := s.cfg.Auditor.Append(r.Context(), firebreak.AuditRecord{Time: s.cfg.Now(), Actor: s.actor(r),
		Action: action, Object: object, Data: firebreak.AuditData(data)})
	if err != nil {
		s.logger.Error("audit trail write failed; refusing the step", "action", action, "object", object, "err", err)
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "The audit trail cannot be written, so the change was not made.")
	}
	return nil
}

func (s *Server) handleMoveAccount(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.incidentService(w, r)
	if svc == nil {
		return
	}
	id, err := parseIncidentID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req MoveRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	move := firebreak.TierMove{Account: r.PathValue("account"), To: req.Tier, Reason: req.Reason, Actor: s.actor(r)}
	if err := validateMove(&move); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, firebreak.AuditTierMoved, "incident/"+strconv.FormatInt(id, 10), move); err != nil {
		s.writeError(w, r, err)
		return
	}
	acct, err := svc.MoveAccount(r.Context(), id, move)
	if err == nil && acct == nil {
		err = firebreak.Errorf(firebreak.ENOTFOUND, "Account %q is not in incident %d.", move.Account, id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, acct)
}
