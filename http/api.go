package http

import (
	_ "embed"
	"io"
	nethttp "net/http"
	"net/url"
	"strconv"
	"time"

	"firebreak"
)

// openAPI is the reference description of the API.
//
//go:embed openapi.yaml
var openAPI []byte

// Login is one scored login as GET /api/v1/logins returns it.
type Login struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Account   string    `json:"account"`
	Outcome   string    `json:"outcome"`
	IP        string    `json:"ip"`
	Country   string    `json:"country,omitempty"`
	City      string    `json:"city,omitempty"`
	ASN       uint32    `json:"asn,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	DeviceID  string    `json:"device_id,omitempty"`
	Score     float64   `json:"score"`
	Decision  string    `json:"decision"`
	Reasons   []string  `json:"reasons"`
	Type      string    `json:"type,omitempty"` // an account change; "" for a login
}

// LoginsResponse is the body of GET /api/v1/logins: newest first.
type LoginsResponse struct {
	Logins []Login `json:"logins"`
}

func (s *Server) handleStats(w nethttp.ResponseWriter, r *nethttp.Request) {
	writeJSON(w, nethttp.StatusOK, s.cfg.Ingest.Stats())
}

func (s *Server) handleLogins(w nethttp.ResponseWriter, r *nethttp.Request) {
	filter, err := parseLoginFilter(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	logins, err := s.cfg.Logins.FindScored(r.Context(), filter)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := &LoginsResponse{Logins: make([]Login, 0, len(logins))}
	for _, l := range logins {
		res.Logins = append(res.Logins, newLogin(l))
	}
	writeJSON(w, nethttp.StatusOK, res)
}

func newLogin(l *firebreak.ScoredLogin) Login {
	e, a := &l.Event, &l.Assessment
	reasons := a.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	out := Login{
		Seq: l.Seq, Time: e.Time, Account: e.Account, Outcome: e.Outcome.String(),
		IP: e.IP.String(), Country: e.Country, City: e.City, ASN: e.ASN,
		UserAgent: e.UserAgent, DeviceID: e.DeviceID,
		Score: a.Score, Decision: a.Decision.String(), Reasons: reasons,
	}
	if !e.IsLogin() {
		out.Type = e.Type
	}
	return out
}

// parseLoginFilter reads account, min_decision, since and limit, reporting
// every bad parameter at once.
func parseLoginFilter(q url.Values) (firebreak.LoginFilter, error) {
	f := firebreak.LoginFilter{Account: q.Get("account"), Limit: 50}
	var errs fieldErrors
	if len(f.Account) > firebreak.MaxAccountLen {
		errs = append(errs, firebreak.FieldError{Field: "account", Reason: "longer than 256 bytes"})
	}
	if v := q.Get("min_decision"); v != "" {
		d, ok := parseDecision(v)
		if !ok {
			errs = append(errs, firebreak.FieldError{Field: "min_decision", Reason: "must be one of allow, challenge, deny"})
		}
		f.MinDecision = d
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, firebreak.FieldError{Field: "since", Reason: "must be an RFC 3339 time"})
		}
		f.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, firebreak.FieldError{Field: "limit", Reason: "must be an integer from 1 to 1000"})
		}
		f.Limit = n
	}
	if len(errs) > 0 {
		return f, errs
	}
	return f, nil
}

// parseDecision parses a decision's wire name.
func parseDecision(s string) (firebreak.Decision, bool) {
	for _, d := range []firebreak.Decision{firebreak.Allow, firebreak.Challenge, firebreak.Deny} {
		if s == d.String() {
			return d, true
		}
	}
	return firebreak.Allow, false
}

// handleHealthz says the process is alive and serving.
func (s *Server) handleHealthz(w nethttp.ResponseWriter, r *nethttp.Request) {
	writeText(w, nethttp.StatusOK, "ok\n")
}

// handleReadyz says whether the engine has finished replaying its journal.
func (s *Server) handleReadyz(w nethttp.ResponseWriter, r *nethttp.Request) {
	if !s.cfg.Ingest.Stats().Ready {
		w.Header().Set("Retry-After", retryAfter(s.cfg.RetryAfter))
		writeText(w, nethttp.StatusServiceUnavailable, "not ready: replaying the journal\n")
		return
	}
	writeText(w, nethttp.StatusOK, "ready\n")
}

func (s *Server) handleMetrics(w nethttp.ResponseWriter, r *nethttp.Request) {
	s.metrics.handler.ServeHTTP(w, r)
}

func (s *Server) handleOpenAPI(w nethttp.ResponseWriter, r *nethttp.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPI)
}

func writeText(w nethttp.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}
