package http

import (
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

// statusSection is the incident page's view of the public status page: the
// incident's updates and, for responders, a form to publish the next one.
type statusSection struct {
	IncidentID int64
	Updates    []firebreak.StatusUpdate // newest first
	CanPublish bool
	CSRF       string
	Error      string // why the last publish was refused
	Phases     []firebreak.Phase
}

// Late reports whether the latest update's promise has passed.
func (s *statusSection) Late(now time.Time) bool {
	if len(s.Updates) == 0 {
		return false
	}
	u := s.Updates[0]
	return u.Phase != firebreak.PhaseResolved && !u.NextUpdateBy.IsZero() && now.After(u.NextUpdateBy)
}

// loadStatusSection reads the incident's status updates; nil when the
// server has no status page.
func (s *Server) loadStatusSection(r *nethttp.Request, inc *firebreak.Incident) *statusSection {
	if s.cfg.Status == nil || inc == nil {
		return nil
	}
	lay := layoutFor(r)
	sec := &statusSection{IncidentID: inc.ID, CSRF: lay.CSRF, Phases: firebreak.Phases,
		CanPublish: lay.Role.Allows(firebreak.RoleResponder) && lay.CSRF != ""}
	if t, err := s.cfg.Status.Thread(r.Context(), inc.ID); err == nil && t != nil {
		sec.Updates = t.Updates
	}
	if msg := r.URL.Query().Get("status_error"); msg != "" && len(msg) < 500 {
		sec.Error = msg
	}
	return sec
}

// handlePublishStatusForm publishes a status update from the incident
// page's form: phase, title, body and the next update in minutes.
func (s *Server) handlePublishStatusForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.cfg.Status == nil {
		s.pageError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE, "The status page is not available on this server."))
		return
	}
	id, err := parseIncidentID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	r.Body = nethttp.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, firebreak.Errorf(firebreak.EINVALID, "The form could not be read."))
		return
	}
	u := firebreak.StatusUpdate{IncidentID: id, Phase: firebreak.Phase(r.PostFormValue("phase")),
		Title: strings.TrimSpace(r.PostFormValue("title")), Body: strings.TrimSpace(r.PostFormValue("body")), Author: s.actor(r)}
	back := "/incidents/" + strconv.FormatInt(id, 10)
	refuse := func(err error) {
		nethttp.Redirect(w, r, back+"?status_error="+url.QueryEscape(firebreak.ErrorMessage(err))+"#status", nethttp.StatusSeeOther)
	}
	if u.Phase != firebreak.PhaseResolved {
		mins, err := strconv.Atoi(r.PostFormValue("next_minutes"))
		if err != nil || mins < 1 {
			refuse(&firebreak.FieldError{Field: "next_update_by", Reason: "say in how many minutes the next update comes"})
			return
		}
		u.NextUpdateBy = s.cfg.Now().Add(time.Duration(mins) * time.Minute)
	}
	if err := u.Validate(s.cfg.Now()); err != nil {
		refuse(err)
		return
	}
	if err := s.audit(r, firebreak.AuditStatusPublished, "status/"+strconv.FormatInt(id, 10), u); err != nil {
		refuse(err)
		return
	}
	if err := s.cfg.Status.Publish(r.Context(), &u); err != nil {
		refuse(err)
		return
	}
	if s.cfg.OnStatusPublished != nil {
		s.cfg.OnStatusPublished(u)
	}
	nethttp.Redirect(w, r, back+"#status", nethttp.StatusSeeOther)
}
