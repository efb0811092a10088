package http

import (
	"context"
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"firebreak"
)

// Communication serves an incident's communication: the outbox, appeals,
// notice previews and metrics (the server's wiring provides it).
type Communication interface {
	ListNotices(ctx context.Context, f firebreak.NoticeFilter) (*firebreak.NoticePage, error)
	FindNotice(ctx context.Context, id int64) (*firebreak.Notice, error)
	ListAppeals(ctx context.Context, f firebreak.AppealFilter) (*firebreak.AppealList, error)
	// DecideAppeal lifts (through containment's rollback machinery) or rejects an open appeal, audited.
	DecideAppeal(ctx context.Context, id int64, lift bool, reason, actor string) (*firebreak.Appeal, error)
	Preview(ctx context.Context, incidentID int64, tier firebreak.Tier, ch firebreak.Channel, locale string) (*firebreak.NoticePreview, error)
	// Metrics returns an incident's communication metrics. The outbox page
	// asks for incident 0 when it shows every incident: the notices of all
	// of them, Appeals and Tiers empty.
	Metrics(ctx context.Context, incidentID int64) (*firebreak.CommunicationMetrics, error)
}

// DecisionRequest is the body of POST /api/v1/appeals/{id}/decision.
type DecisionRequest struct {
	Decision string `json:"decision"` // "lift" or "reject"
	Reason   string `json:"reason"`
}

// Appeal decisions as requests and forms spell them.
const (
	decisionLift   = "lift"
	decisionReject = "reject"
)

// previewLocale is the locale of a preview that names none.
const previewLocale = "en"

// validate checks a decision and reports whether it lifts the appeal. The
// reason is free text up to MaxTextLen bytes, as other reasons are.
func (d *DecisionRequest) validate() (lift bool, err error) {
	var errs fieldErrors
	if d.Decision != decisionLift && d.Decision != decisionReject {
		errs = append(errs, firebreak.FieldError{Field: "decision", Reason: `must be "lift" or "reject"`})
	}
	if fe := checkReason(d.Reason); fe != nil {
		errs = append(errs, *fe)
	}
	if len(errs) > 0 {
		return false, errs
	}
	return d.Decision == decisionLift, nil
}

// checkReason checks a decision's reason: required, valid UTF-8, at most
// MaxTextLen bytes, no control characters but line breaks and tabs.
func checkReason(reason string) *firebreak.FieldError {
	switch {
	case reason == "":
		return &firebreak.FieldError{Field: "reason", Reason: "required: say why, for the audit trail and the person"}
	case len(reason) > firebreak.MaxTextLen:
		return &firebreak.FieldError{Field: "reason", Reason: "longer than " + strconv.Itoa(firebreak.MaxTextLen) + " bytes"}
	case !utf8.ValidString(reason):
		return &firebreak.FieldError{Field: "reason", Reason: "invalid UTF-8"}
	}
	for _, r := range reason {
		if (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f {
			return &firebreak.FieldError{Field: "reason", Reason: "control character not allowed"}
		}
	}
	return nil
}

// comms returns the configured service, or writes 503 and returns nil.
func (s *Server) comms(w nethttp.ResponseWriter, r *nethttp.Request) Communication {
	if s.cfg.Communication == nil {
		s.writeError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE,
			"Communication is not available: this server runs without a notice service."))
		return nil
	}
	return s.cfg.Communication
}

// parseNoticeFilter reads incident_id, state, channel, cursor and limit;
// NoticeFilter.Validate judges what parses.
func parseNoticeFilter(q url.Values) (firebreak.NoticeFilter, error) {
	f := firebreak.NoticeFilter{State: firebreak.NoticeState(q.Get("state")), Channel: firebreak.Channel(q.Get("channel"))}
	var errs fieldErrors
	if v := q.Get("incident_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, firebreak.FieldError{Field: "incident_id", Reason: "must be an incident's id"})
		}
		f.IncidentID = id
	}
	var perrs fieldErrors
	f.Cursor, f.Limit, perrs = parsePage(q)
	if errs = append(errs, perrs...); len(errs) > 0 {
		return f, errs
	}
	return f, f.Validate()
}

// parseAppealFilter reads the {id} path value and state, cursor and limit.
func parseAppealFilter(r *nethttp.Request) (firebreak.AppealFilter, error) {
	var errs fieldErrors
	id, err := parseIncidentID(r)
	if err != nil {
		errs = append(errs, err.(fieldErrors)...)
	}
	q := r.URL.Query()
	f := firebreak.AppealFilter{IncidentID: id, State: firebreak.AppealState(q.Get("state"))}
	if f.State != "" && !slices.Contains(firebreak.AppealStates, f.State) {
		errs = append(errs, oneOf("state", firebreak.AppealStates))
	}
	var perrs fieldErrors
	f.Cursor, f.Limit, perrs = parsePage(q)
	if errs = append(errs, perrs...); len(errs) > 0 {
		return f, errs
	}
	return f, nil
}

// previewRequest is what a preview shows: a tier, channel and locale.
type previewRequest struct {
	Tier    firebreak.Tier
	Channel firebreak.Channel
	Locale  string
}

// parsePreview reads tier, channel (both required) and locale (default
// "en": a BCP 47 tag such as "de" or "pt-BR").
func parsePreview(q url.Values) (previewRequest, error) {
	p := previewRequest{Tier: firebreak.Tier(q.Get("tier")), Channel: firebreak.Channel(q.Get("channel")), Locale: q.Get("locale")}
	var errs fieldErrors
	if !slices.Contains(firebreak.Tiers, p.Tier) {
		errs = append(errs, oneOf("tier", firebreak.Tiers))
	}
	if !slices.Contains(firebreak.Channels, p.Channel) {
		errs = append(errs, oneOf("channel", firebreak.Channels))
	}
	if p.Locale == "" {
		p.Locale = previewLocale
	}
	if !validLocale(p.Locale) {
		errs = append(errs, firebreak.FieldError{Field: "locale",
			Reason: "must be a language tag such as en or de, up to " + strconv.Itoa(firebreak.MaxLocaleLen) + " bytes"})
	}
	if len(errs) > 0 {
		return p, errs
	}
	return p, nil
}

// validLocale reports whether s looks like a BCP 47 tag: letters, digits
// and hyphens, starting with a letter.
func validLocale(s string) bool {
	if s == "" || len(s) > firebreak.MaxLocaleLen {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c != '-' && (c < '0' || c > '9')) {
			return false
		}
	}
	return true
}

func (s *Server) handleListNotices(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.comms(w, r)
	if svc == nil {
		return
	}
	f, err := parseNoticeFilter(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := svc.ListNotices(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page.Notices = nonNilSlice(page.Notices)
	writeJSON(w, nethttp.StatusOK, page)
}

func (s *Server) handleGetNotice(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.comms(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := svc.FindNotice(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, n)
}

func (s *Server) handleListAppeals(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.comms(w, r)
	if svc == nil {
		return
	}
	f, err := parseAppealFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := svc.ListAppeals(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list.Appeals, list.Counts = nonNil(list.Appeals), nonNilSlice(list.Counts)
	writeJSON(w, nethttp.StatusOK, list)
}

func (s *Server) handleDecideAppeal(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.comms(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req DecisionRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	lift, err := req.validate()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := svc.DecideAppeal(r.Context(), id, lift, req.Reason, s.actor(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, a)
}

func (s *Server) handleNoticePreview(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.comms(w, r)
	if svc == nil {
		return
	}
	var errs fieldErrors
	id, err := parseIncidentID(r)
	if err != nil {
		errs = append(errs, err.(fieldErrors)...)
	}
	p, err := parsePreview(r.URL.Query())
	if err != nil {
		errs = append(errs, err.(fieldErrors)...)
	}
	if len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	pv, err := svc.Preview(r.Context(), id, p.Tier, p.Channel, p.Locale)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, pv)
}

func (s *Server) handleCommunicationMetrics(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.comms(w, r)
	if svc == nil {
		return
	}
	id, err := parseIncidentID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := svc.Metrics(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, nonNilMetrics(m))
}

// nonNilMetrics gives m empty lists and maps instead of nil, so that the
// JSON holds [] and {} rather than null.
func nonNilMetrics(m *firebreak.CommunicationMetrics) *firebreak.CommunicationMetrics {
	if m.Notices == nil {
		m.Notices = firebreak.NoticeCounts{}
	}
	m.Appeals, m.Tiers = nonNilSlice(m.Appeals), nonNilSlice(m.Tiers)
	return m
}
