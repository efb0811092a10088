package http

import (
	"context"
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"

	"firebreak"
)

// The dashboard's communication pages: the outbox and one notice, an
// incident's appeals with the form that decides them, a notice preview,
// and the incident page's communication fragment.

// previewLocales are the locales the preview form offers.
var previewLocales = []string{"en", "de"}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// options lists set as choices with cur selected; all adds a first "all"
// choice with the empty value.
func options[T ~string](set []T, cur T, all bool) []option {
	var out []option
	if all {
		out = append(out, option{Label: "all", Selected: cur == ""})
	}
	for _, v := range set {
		out = append(out, option{Value: string(v), Label: label(string(v)), Selected: v == cur})
	}
	return out
}

// noticeCountRow is one channel's notices by state.
type noticeCountRow struct {
	Channel firebreak.Channel
	firebreak.NoticeStateCounts
}

// Total is the row's notices in every state.
func (r noticeCountRow) Total() int64 { return r.Queued + r.Sent + r.Failed }

// noticeCounts is the notices-by-channel-and-state table: a row per
// channel that has notices, in Channels order, and their total.
type noticeCounts struct {
	Rows  []noticeCountRow
	Total noticeCountRow
}

func newNoticeCounts(c firebreak.NoticeCounts) *noticeCounts {
	t := &noticeCounts{}
	for _, ch := range firebreak.Channels {
		n, ok := c[ch]
		if !ok {
			continue
		}
		t.Rows = append(t.Rows, noticeCountRow{Channel: ch, NoticeStateCounts: n})
		t.Total.Queued, t.Total.Sent, t.Total.Failed = t.Total.Queued+n.Queued, t.Total.Sent+n.Sent, t.Total.Failed+n.Failed
	}
	return t
}

// appealCountRow is one tier's appeals, a count per state in AppealStates
// order.
type appealCountRow struct {
	Tier   firebreak.Tier
	Counts []int64
	Total  int64
}

// appealTable is the appeals-by-tier-and-state table: a column per
// state, a row per tier.
type appealTable struct {
	States []firebreak.AppealState
	Rows   []appealCountRow
}

func newAppealTable(counts []firebreak.AppealCount) *appealTable {
	t := &appealTable{States: firebreak.AppealStates, Rows: make([]appealCountRow, len(firebreak.Tiers))}
	for i, tier := range firebreak.Tiers {
		t.Rows[i] = appealCountRow{Tier: tier, Counts: make([]int64, len(t.States))}
	}
	for _, c := range counts {
		i, j := slices.Index(firebreak.Tiers, c.Tier), slices.Index(t.States, c.State)
		if i >= 0 && j >= 0 {
			t.Rows[i].Counts[j] += c.Count
			t.Rows[i].Total += c.Count
		}
	}
	return t
}

// pageComms returns the communication service, or renders a 503 page and
// returns nil when the server runs without one.
func (s *Server) pageComms(w nethttp.ResponseWriter, r *nethttp.Request) Communication {
	if s.cfg.Communication == nil {
		s.pageError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE,
			"Communication is not available: this server runs without a notice service."))
	}
	return s.cfg.Communication
}

// outboxPageData is what outbox.html renders.
type outboxPageData struct {
	layout
	Filter   firebreak.NoticeFilter
	States   []option
	Channels []option
	Counts   *noticeCounts
	// CountsError says why the counts are missing; the list is shown anyway.
	CountsError string
	Notices     []firebreak.Notice
	First       string // link to the first page, on later pages
	Next        string // link to the next page, if there is one
}

// outboxURL is the outbox's URL for a filter.
func outboxURL(f firebreak.NoticeFilter) string {
	q := url.Values{}
	if f.IncidentID != 0 {
		q.Set("incident_id", strconv.FormatInt(f.IncidentID, 10))
	}
	if f.State != "" {
		q.Set("state", string(f.State))
	}
	if f.Channel != "" {
		q.Set("channel", string(f.Channel))
	}
	if f.Limit != 0 && f.Limit != firebreak.DefaultPageLimit {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	if len(q) == 0 {
		return "/outbox"
	}
	return "/outbox?" + q.Encode()
}

func (s *Server) handleOutboxPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.pageComms(w, r)
	if svc == nil {
		return
	}
	f, err := parseNoticeFilter(r.URL.Query())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	page, err := svc.ListNotices(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := &outboxPageData{Filter: f, Notices: page.Notices,
		States: options(firebreak.NoticeStates, f.State, true), Channels: options(firebreak.Channels, f.Channel, true)}
	// The counts are a summary above the list: a failed read loses them,
	// never the list.
	if m, err := svc.Metrics(r.Context(), f.IncidentID); err != nil {
		if firebreak.ErrorCode(err) == firebreak.EINTERNAL {
			s.logger.Error("outbox page: read the counts", "incident", f.IncidentID, "err", err)
		}
		d.CountsError = firebreak.ErrorMessage(err)
	} else {
		d.Counts = newNoticeCounts(m.Notices)
	}
	if f.Cursor != "" {
		first := f
		first.Cursor = ""
		d.First = outboxURL(first)
	}
	if page.Next != "" {
		next := f
		next.Cursor = page.Next
		d.Next = outboxURL(next)
	}
	s.render(w, r, "outbox.html", d)
}

// noticePageData is what notice.html renders.
type noticePageData struct {
	layout
	Notice *firebreak.Notice
}

func (s *Server) handleNoticePage(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.pageComms(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	n, err := svc.FindNotice(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "notice.html", &noticePageData{Notice: n})
}

// appealsPageData is what appeals.html renders.
type appealsPageData struct {
	layout
	IncidentID int64
	Filter     firebreak.AppealFilter
	States     []filterLink
	Appeals    []*firebreak.Appeal
	Counts     *appealTable
	First      string // link to the first page, on later pages
	Next       string // link to the next page, if there is one
	Flash      string // what the last decision did
	Notice     string // why the last decision was refused
}

// CanDecide reports whether the page offers the decide forms: to
// approvers signed in with a session (the forms carry its CSRF token).
func (d *appealsPageData) CanDecide() bool {
	return d.Role.Allows(firebreak.RoleApprover) && d.CSRF != ""
}

// appealsURL is the appeals page's URL for a filter.
func appealsURL(f firebreak.AppealFilter) string {
	q := url.Values{}
	if f.State != "" {
		q.Set("state", string(f.State))
	}
	if f.Limit != 0 && f.Limit != firebreak.DefaultPageLimit {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	u := incidentURL(f.IncidentID) + "/appeals"
	if len(q) == 0 {
		return u
	}
	return u + "?" + q.Encode()
}

// loadAppealsPage reads one page of an incident's appeals and builds the
// page's links.
func (s *Server) loadAppealsPage(ctx context.Context, svc Communication, f firebreak.AppealFilter) (*appealsPageData, error) {
	list, err := svc.ListAppeals(ctx, f)
	if err != nil {
		return nil, err
	}
	d := &appealsPageData{IncidentID: f.IncidentID, Filter: f, Appeals: list.Appeals,
		Counts: newAppealTable(list.Counts)}
	first := f
	first.Cursor = ""
	if f.Cursor != "" {
		d.First = appealsURL(first)
	}
	if list.Next != "" {
		next := f
		next.Cursor = list.Next
		d.Next = appealsURL(next)
	}
	for _, st := range append([]firebreak.AppealState{""}, firebreak.AppealStates...) {
		g := first
		g.State = st
		d.States = append(d.States, filterLink{Label: filterLabel(st), Href: appealsURL(g), Current: st == f.State})
	}
	return d, nil
}

func (s *Server) handleAppealsPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.pageComms(w, r)
	if svc == nil {
		return
	}
	f, err := parseAppealFilter(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d, err := s.loadAppealsPage(r.Context(), svc, f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if v := r.URL.Query().Get("decided"); v != "" {
		d.Flash = decidedFlash(d.Appeals, v)
	}
	s.render(w, r, "appeals.html", d)
}

// decidedFlash says what happened to the appeal a decision redirected
// with, in the words of its stored state, so that the URL cannot put words
// on the page.
func decidedFlash(appeals []*firebreak.Appeal, v string) string {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return ""
	}
	for _, a := range appeals {
		if a.ID == id && !a.State.Open() {
			return "Appeal " + v + " of " + a.Account + " is " + label(string(a.State)) + "."
		}
	}
	return "Appeal " + v + " is decided."
}

// handleDecideAppealForm decides an appeal from the appeals page: the
// decision (lift or reject) and the reason; back to the page with a flash,
// or the page again with the refusal.
func (s *Server) handleDecideAppealForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.pageComms(w, r)
	if svc == nil {
		return
	}
	incidentID, err := parseIncidentID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	id, err := pathID(r, "appeal")
	if err == nil {
		err = readForm(w, r)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	req := DecisionRequest{Decision: r.PostForm.Get("decision"), Reason: r.PostForm.Get("reason")}
	lift, err := req.validate()
	var a *firebreak.Appeal
	if err == nil {
		a, err = svc.DecideAppeal(r.Context(), id, lift, req.Reason, s.actor(r))
	}
	if err != nil {
		s.refused(w, r, err, func(status int, msg string) {
			d, lerr := s.loadAppealsPage(r.Context(), svc, firebreak.AppealFilter{IncidentID: incidentID})
			if lerr != nil {
				s.pageError(w, r, lerr)
				return
			}
			d.Notice = "Appeal " + strconv.FormatInt(id, 10) + " not decided: " + msg
			s.renderStatus(w, r, status, "appeals.html", d)
		})
		return
	}
	// The appeal's own incident, whatever the form's URL said.
	sendTo(w, r, appealsURL(firebreak.AppealFilter{IncidentID: a.IncidentID})+"?decided="+strconv.FormatInt(a.ID, 10))
}

// previewPageData is what preview.html renders.
type previewPageData struct {
	layout
	IncidentID int64
	Tiers      []option
	Channels   []option
	Locales    []option
	Preview    *firebreak.NoticePreview
	Notice     string // why there is no preview
}

func (s *Server) handlePreviewPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.pageComms(w, r)
	if svc == nil {
		return
	}
	id, err := parseIncidentID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	// A fresh form shows the compromised tier's email in English.
	q := r.URL.Query()
	for name, def := range map[string]string{"tier": string(firebreak.TierCompromised), "channel": string(firebreak.ChannelEmail), "locale": previewLocale} {
		if q.Get(name) == "" {
			q.Set(name, def)
		}
	}
	req, perr := parsePreview(q)
	locales := previewLocales
	if validLocale(req.Locale) && !slices.Contains(locales, req.Locale) {
		locales = append(slices.Clip(locales), req.Locale)
	}
	d := &previewPageData{IncidentID: id, Tiers: options(firebreak.Tiers, req.Tier, false),
		Channels: options(firebreak.Channels, req.Channel, false), Locales: options(locales, req.Locale, false)}
	err = perr
	if err == nil {
		d.Preview, err = svc.Preview(r.Context(), id, req.Tier, req.Channel, req.Locale)
	}
	status := nethttp.StatusOK
	if err != nil {
		code, msg, fields := s.describe(w, r, err)
		status, d.Notice = ErrorStatusCode(code), noticeText(msg, fields)
	}
	s.renderStatus(w, r, status, "preview.html", d)
}

// commsPart is what the incident page's communication fragment renders.
type commsPart struct {
	IncidentID int64
	Notices    *noticeCounts
	Appeals    *appealTable
	Tiers      []firebreak.TierFalsePositives
	Error      string // why the metrics are missing
}

// handleCommsPartial renders the incident page's communication section,
// which the page fetches once loaded. Refusals are fragments too.
func (s *Server) handleCommsPartial(w nethttp.ResponseWriter, r *nethttp.Request) {
	id, err := parseIncidentID(r)
	if err == nil && s.cfg.Communication == nil {
		err = firebreak.Errorf(firebreak.EUNAVAILABLE, "Communication is not available: this server runs without a notice service.")
	}
	var m *firebreak.CommunicationMetrics
	if err == nil {
		m, err = s.cfg.Communication.Metrics(r.Context(), id)
	}
	if err != nil {
		code, msg, fields := s.describe(w, r, err)
		w.Header().Set(fragmentHeader, "communication")
		s.renderStatus(w, r, ErrorStatusCode(code), "comms-part", &commsPart{IncidentID: id, Error: noticeText(msg, fields)})
		return
	}
	s.render(w, r, "comms-part", &commsPart{IncidentID: id, Notices: newNoticeCounts(m.Notices),
		Appeals: newAppealTable(m.Appeals), Tiers: m.Tiers})
}
