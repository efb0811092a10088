package http

import (
	"errors"
	nethttp "net/http"
	"strconv"
	"strings"

	"firebreak"
)

// The dashboard's containment forms post here. Each handler parses the
// form, calls the service with the signed-in operator as the actor (the
// service checks and audits), and then either sends the browser on (303,
// or HX-Redirect for htmx) or shows the refusal: htmx requests get a
// fragment to swap in, marked with fragmentHeader; plain posts get the
// whole page again with the refusal on it.

// fragmentHeader marks an error response that is a fragment meant for the
// page (a refused form, a notice), which the page's script swaps in even
// though its status is 4xx or 5xx.
const fragmentHeader = "Firebreak-Fragment"

// noticeText is a refusal in words: the message, or every field error
// ("version: required ...; hash: required ...").
func noticeText(msg string, fields []firebreak.FieldError) string {
	if len(fields) < 2 {
		return msg
	}
	parts := make([]string, len(fields))
	for i, fe := range fields {
		parts[i] = fe.Error()
	}
	return strings.Join(parts, "; ")
}

// isHTMX reports whether htmx sent the request.
func isHTMX(r *nethttp.Request) bool { return r.Header.Get("HX-Request") == "true" }

// readForm parses a posted form, bounded like the sign-in form.
func readForm(w nethttp.ResponseWriter, r *nethttp.Request) error {
	r.Body = nethttp.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *nethttp.MaxBytesError
		if errors.As(err, &tooLarge) {
			return firebreak.Errorf(firebreak.ETOOLARGE, "The form is larger than %d bytes.", maxFormBytes)
		}
		return fieldErrors{{Reason: "the form could not be read"}}
	}
	return nil
}

// sendTo sends the browser to url after a form did what it asked.
func sendTo(w nethttp.ResponseWriter, r *nethttp.Request, url string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", url)
		w.WriteHeader(nethttp.StatusOK)
		return
	}
	nethttp.Redirect(w, r, url, nethttp.StatusSeeOther)
}

// refused answers a refused action: a notice fragment for htmx, or the page
// again (page renders it with the status and the message).
func (s *Server) refused(w nethttp.ResponseWriter, r *nethttp.Request, err error, page func(status int, msg string)) {
	code, msg, fields := s.describe(w, r, err)
	status, msg := ErrorStatusCode(code), noticeText(msg, fields)
	if isHTMX(r) {
		w.Header().Set(fragmentHeader, "notice")
		s.renderStatus(w, r, status, "contain-notice", msg)
		return
	}
	page(status, msg)
}

func (s *Server) handleCreatePlanForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc, incidents := s.pageContainment(w, r), s.cfg.Incidents
	if svc == nil {
		return
	}
	if incidents == nil {
		s.pageError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE, "Incidents are not available: this server runs without an incident store."))
		return
	}
	id, err := parseIncidentID(r)
	if err == nil {
		err = readForm(w, r)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	inc, err := incidents.Find(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	form := newPlanForm(inc)
	form.fill(r.PostForm)
	spec, rowOf := form.spec(r.PostForm)
	status := nethttp.StatusBadRequest
	if !form.HasErrors() {
		p, err := svc.CreatePlan(r.Context(), id, spec, s.actor(r))
		if err == nil {
			sendTo(w, r, "/plans/"+strconv.FormatInt(p.ID, 10))
			return
		}
		code, msg, fields := s.describe(w, r, err)
		status = ErrorStatusCode(code)
		form.refuse(msg, fields, rowOf)
	}
	if isHTMX(r) {
		form.CSRF = layoutFor(r).CSRF
		w.Header().Set(fragmentHeader, "plan-form")
		s.renderStatus(w, r, status, "plan-form", form)
		return
	}
	s.renderIncident(w, r, status, id, form)
}

// planAction reads the plan id and the exact version the page showed
// (version, hash), then runs act; on refusal it shows the plan page again.
func (s *Server) planAction(w nethttp.ResponseWriter, r *nethttp.Request, act func(svc Containment, id int64, version int, hash string) (string, error)) {
	svc := s.pageContainment(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err == nil {
		err = readForm(w, r)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	version, hash, err := parseBinding(r)
	next := ""
	if err == nil {
		next, err = act(svc, id, version, hash)
	}
	if err != nil {
		s.refused(w, r, err, func(status int, msg string) {
			data, lerr := s.loadPlanPage(r.Context(), svc, id, 0)
			if lerr != nil {
				s.pageError(w, r, lerr)
				return
			}
			data.Notice = msg
			s.renderStatus(w, r, status, "plan.html", data)
		})
		return
	}
	sendTo(w, r, next)
}

// parseBinding reads the plan version and hash a form was shown.
func parseBinding(r *nethttp.Request) (int, string, error) {
	var errs fieldErrors
	version, err := strconv.Atoi(r.PostForm.Get("version"))
	if err != nil || version < 1 {
		errs = append(errs, firebreak.FieldError{Field: "version", Reason: "required: the plan version you reviewed"})
	}
	hash := r.PostForm.Get("hash")
	if len(hash) != 64 {
		errs = append(errs, firebreak.FieldError{Field: "hash", Reason: "required: the 64-hex-digit hash of the plan version you reviewed"})
	}
	if len(errs) > 0 {
		return 0, "", errs
	}
	return version, hash, nil
}

func (s *Server) handleApproveForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	s.planAction(w, r, func(svc Containment, id int64, version int, hash string) (string, error) {
		_, err := svc.Approve(r.Context(), id, version, hash, s.actor(r), r.PostForm.Get("comment"))
		return "/plans/" + strconv.FormatInt(id, 10), err
	})
}

func (s *Server) handleRunForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	s.planAction(w, r, func(svc Containment, id int64, version int, hash string) (string, error) {
		run, err := svc.StartRun(r.Context(), id, version, hash, s.actor(r))
		if err != nil {
			return "", err
		}
		return "/runs/" + strconv.FormatInt(run.ID, 10), nil
	})
}

// handleRunControlForm serves the pause, resume, kill and rollback buttons.
func (s *Server) handleRunControlForm(verb string) nethttp.HandlerFunc {
	return func(w nethttp.ResponseWriter, r *nethttp.Request) {
		svc := s.pageContainment(w, r)
		if svc == nil {
			return
		}
		id, err := pathID(r, "id")
		if err == nil {
			err = readForm(w, r)
		}
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		next, err := s.controlRun(r, svc, verb, id)
		if err != nil {
			s.refused(w, r, err, func(status int, msg string) {
				data, lerr := s.loadRunPage(r.Context(), svc, id, nil)
				if lerr != nil {
					s.pageError(w, r, lerr)
					return
				}
				data.Notice = msg
				s.renderStatus(w, r, status, "run.html", data)
			})
			return
		}
		sendTo(w, r, next)
	}
}

// controlRun asks the service to pause, resume, kill or roll back a run
// and returns the page to show next: the run, or the rollback's run.
func (s *Server) controlRun(r *nethttp.Request, svc Containment, verb string, id int64) (string, error) {
	ctx, actor := r.Context(), s.actor(r)
	var run *firebreak.Run
	var err error
	switch verb {
	case "pause":
		run, err = svc.Pause(ctx, id, actor)
	case "resume":
		run, err = svc.Resume(ctx, id, actor)
	case "kill":
		run, err = svc.Kill(ctx, id, actor)
	case "rollback":
		stage := -1 // the whole run
		if v := r.PostForm.Get("stage"); v != "" && v != "all" {
			if stage, err = strconv.Atoi(v); err != nil || stage < 0 {
				return "", fieldErrors{{Field: "stage", Reason: `must be "all" or a stage index from 0`}}
			}
		}
		run, err = svc.Rollback(ctx, id, stage, actor)
	}
	if err != nil {
		return "", err
	}
	return "/runs/" + strconv.FormatInt(run.ID, 10), nil
}
