package http

import (
	"context"
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"firebreak"
)

// Page sizes of the dashboard.
const (
	// tierSample is how many accounts of each tier the incident page lists.
	tierSample = 50
	// accountLogins is how many logins the account page lists.
	accountLogins = 50
	// openIncidentScan is how many of the newest incidents the overview
	// looks through to count the open ones.
	openIncidentScan = 100
)

// errorPageData is what error.html renders.
type errorPageData struct {
	layout
	Status  int
	Title   string
	Message string
	Fields  []firebreak.FieldError
}

// openIncidents is the overview's incident card.
type openIncidents struct {
	Count int
	More  bool // more incidents exist than were looked through
	Error string
}

// incidentListData is what incidents.html renders.
type incidentListData struct {
	layout
	Incidents []*firebreak.Incident
	States    []filterLink
	Kinds     []filterLink
	Filtered  bool   // a state or kind filter is in force
	Paged     bool   // this is not the first page
	Newest    string // link to the first page, on later pages
	Older     string // link to the next page, if there is one
}

// filterLink is one choice of a filter on the incident list.
type filterLink struct {
	Label   string
	Href    string
	Current bool
}

// accountPageData is what account.html renders.
type accountPageData struct {
	layout
	Account string
	Logins  []*firebreak.ScoredLogin // high-risk logins
	Changes []*firebreak.ScoredLogin // account changes (decision 0007)
}

// pageError renders err as an HTML page with the status its code maps to.
// Internal details are logged, never shown.
func (s *Server) pageError(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	code, msg, fields := s.describe(w, r, err)
	status := ErrorStatusCode(code)
	data := &errorPageData{Status: status, Title: nethttp.StatusText(status), Message: msg, Fields: fields}
	if status == nethttp.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="firebreak"`)
	}
	s.renderStatus(w, r, status, "error.html", data)
}

// pageIncidents returns the incident service, or renders a 503 page and
// returns nil when the server runs without one.
func (s *Server) pageIncidents(w nethttp.ResponseWriter, r *nethttp.Request) firebreak.IncidentService {
	if s.cfg.Incidents == nil {
		s.pageError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE,
			"Incidents are not available: this server runs without an incident store."))
	}
	return s.cfg.Incidents
}

func (s *Server) handleIncidentsPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.pageIncidents(w, r)
	if svc == nil {
		return
	}
	filter, err := parseIncidentFilter(r.URL.Query())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	page, err := svc.List(r.Context(), filter)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if page == nil {
		page = &firebreak.IncidentPage{}
	}
	s.render(w, r, "incidents.html", newIncidentListData(filter, page))
}

// newIncidentListData builds the incident list's links from the filter in
// force: each filter choice keeps the other filter and starts again at the
// newest incident.
func newIncidentListData(f firebreak.IncidentFilter, page *firebreak.IncidentPage) *incidentListData {
	first := f
	first.Cursor = ""
	d := &incidentListData{Incidents: page.Incidents, Filtered: f.State != "" || f.Kind != "", Paged: f.Cursor != ""}
	if d.Paged {
		d.Newest = incidentsURL(first)
	}
	if page.Next != "" {
		next := f
		next.Cursor = page.Next
		d.Older = incidentsURL(next)
	}
	for _, st := range append([]firebreak.State{""}, firebreak.States...) {
		g := first
		g.State = st
		d.States = append(d.States, filterLink{Label: filterLabel(st), Href: incidentsURL(g), Current: st == f.State})
	}
	for _, k := range append([]firebreak.IncidentKind{""}, firebreak.IncidentKinds...) {
		g := first
		g.Kind = k
		d.Kinds = append(d.Kinds, filterLink{Label: filterLabel(k), Href: incidentsURL(g), Current: k == f.Kind})
	}
	return d
}

// filterLabel names a filter choice; the empty choice is "all".
func filterLabel[T ~string](v T) string {
	if v == "" {
		return "all"
	}
	return label(string(v))
}

// incidentsURL is the incident list's URL for a filter.
func incidentsURL(f firebreak.IncidentFilter) string {
	q := url.Values{}
	if f.State != "" {
		q.Set("state", string(f.State))
	}
	if f.Kind != "" {
		q.Set("kind", string(f.Kind))
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format("2006-01-02T15:04:05Z07:00"))
	}
	if f.Limit != 0 && f.Limit != firebreak.DefaultPageLimit {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	if len(q) == 0 {
		return "/incidents"
	}
	return "/incidents?" + q.Encode()
}

// incidentURL is the incident page's URL.
func incidentURL(id int64) string { return "/incidents/" + strconv.FormatInt(id, 10) }

// accountURL is the account page's URL; the account is escaped as one path
// segment, so that one holding "/" or "?" still links to its own page.
func accountURL(account string) string { return "/accounts/" + url.PathEscape(account) }

// label turns an enumeration value such as "at_risk" into "at risk".
func label(v string) string { return strings.ReplaceAll(v, "_", " ") }

func (s *Server) handleAccountPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	account := r.PathValue("account")
	if account == "" || len(account) > firebreak.MaxAccountLen {
		s.pageError(w, r, fieldErrors{{Field: "account", Reason: "must be 1 to " + strconv.Itoa(firebreak.MaxAccountLen) + " bytes"}})
		return
	}
	logins, err := s.cfg.Logins.FindScored(r.Context(), firebreak.LoginFilter{Account: account, Limit: accountLogins})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data := &accountPageData{Account: account}
	for _, l := range logins {
		if l.Event.IsLogin() {
			data.Logins = append(data.Logins, l)
		} else {
			data.Changes = append(data.Changes, l)
		}
	}
	s.render(w, r, "account.html", data)
}

// countOpenIncidents looks through the newest incidents for the overview and
// counts those not resolved nor merged into another. It returns nil when the
// server runs without incidents.
func (s *Server) countOpenIncidents(ctx context.Context) *openIncidents {
	if s.cfg.Incidents == nil {
		return nil
	}
	page, err := s.cfg.Incidents.List(ctx, firebreak.IncidentFilter{Limit: openIncidentScan})
	if err != nil {
		s.logger.Error("overview: list incidents", "err", err)
		return &openIncidents{Error: firebreak.ErrorMessage(err)}
	}
	if page == nil {
		return &openIncidents{}
	}
	open := &openIncidents{More: page.Next != ""}
	for _, inc := range page.Incidents {
		if inc != nil && inc.State != firebreak.StateResolved && inc.MergedInto == 0 {
			open.Count++
		}
	}
	return open
}

// isTier reports whether t is a known tier.
func isTier(t firebreak.Tier) bool { return slices.Contains(firebreak.Tiers, t) }
