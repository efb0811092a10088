package http_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
	"firebreak/sqlite"
)

// commsFake is a hand-written fbhttp.Communication: a func per method,
// and a record of the decisions it was asked for.
type commsFake struct {
	ListNoticesFn  func(ctx context.Context, f firebreak.NoticeFilter) (*firebreak.NoticePage, error)
	FindNoticeFn   func(ctx context.Context, id int64) (*firebreak.Notice, error)
	ListAppealsFn  func(ctx context.Context, f firebreak.AppealFilter) (*firebreak.AppealList, error)
	DecideAppealFn func(ctx context.Context, id int64, lift bool, reason, actor string) (*firebreak.Appeal, error)
	PreviewFn      func(ctx context.Context, incidentID int64, tier firebreak.Tier, ch firebreak.Channel, locale string) (*firebreak.NoticePreview, error)
	MetricsFn      func(ctx context.Context, incidentID int64) (*firebreak.CommunicationMetrics, error)

	mu        sync.Mutex
	decisions []decision
	metrics   int // calls of Metrics
}

var _ fbhttp.Communication = (*commsFake)(nil)

// decision is one call of DecideAppeal.
type decision struct {
	ID     int64
	Lift   bool
	Reason string
	Actor  string
}

func (c *commsFake) ListNotices(ctx context.Context, f firebreak.NoticeFilter) (*firebreak.NoticePage, error) {
	return c.ListNoticesFn(ctx, f)
}

func (c *commsFake) FindNotice(ctx context.Context, id int64) (*firebreak.Notice, error) {
	return c.FindNoticeFn(ctx, id)
}

func (c *commsFake) ListAppeals(ctx context.Context, f firebreak.AppealFilter) (*firebreak.AppealList, error) {
	return c.ListAppealsFn(ctx, f)
}

func (c *commsFake) DecideAppeal(ctx context.Context, id int64, lift bool, reason, actor string) (*firebreak.Appeal, error) {
	c.mu.Lock()
	c.decisions = append(c.decisions, decision{id, lift, reason, actor})
	c.mu.Unlock()
	return c.DecideAppealFn(ctx, id, lift, reason, actor)
}

func (c *commsFake) Preview(ctx context.Context, incidentID int64, tier firebreak.Tier, ch firebreak.Channel, locale string) (*firebreak.NoticePreview, error) {
	return c.PreviewFn(ctx, incidentID, tier, ch, locale)
}

func (c *commsFake) Metrics(ctx context.Context, incidentID int64) (*firebreak.CommunicationMetrics, error) {
	c.mu.Lock()
	c.metrics++
	c.mu.Unlock()
	return c.MetricsFn(ctx, incidentID)
}

func (c *commsFake) decided() []decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.decisions)
}

func (c *commsFake) metricsCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metrics
}

// Errors the fake answers with, as the real service words them.
var (
	errNoNotice      = firebreak.Errorf(firebreak.ENOTFOUND, "Notice 99 not found.")
	errNoAppeal      = firebreak.Errorf(firebreak.ENOTFOUND, "Appeal 99 not found.")
	errAppealDecided = firebreak.Errorf(firebreak.ECONFLICT, "Appeal 5 is lifted already.")
)

// newComms returns a fake with one incident (3), its notices, appeals,
// preview and metrics; every other id is unknown.
func newComms() *commsFake {
	c := &commsFake{}
	c.ListNoticesFn = func(_ context.Context, f firebreak.NoticeFilter) (*firebreak.NoticePage, error) {
		if f.Cursor == "bogus" {
			return nil, &firebreak.FieldError{Field: "cursor", Reason: "not a cursor from this list"}
		}
		return &firebreak.NoticePage{Notices: []firebreak.Notice{sampleNotice(7)}, Next: "after-7"}, nil
	}
	c.FindNoticeFn = func(_ context.Context, id int64) (*firebreak.Notice, error) {
		if id != 7 {
			return nil, errNoNotice
		}
		n := sampleNotice(7)
		return &n, nil
	}
	c.ListAppealsFn = func(_ context.Context, f firebreak.AppealFilter) (*firebreak.AppealList, error) {
		if f.IncidentID != 3 {
			return nil, errNoIncident
		}
		return sampleAppeals(), nil
	}
	c.DecideAppealFn = func(_ context.Context, id int64, lift bool, reason, actor string) (*firebreak.Appeal, error) {
		switch id {
		case 5:
			a := sampleAppeals().Appeals[0]
			a.State, a.Reason, a.DecidedBy, a.DecidedAt = firebreak.AppealRejected, reason, actor, now
			if lift {
				a.State = firebreak.AppealLifted
			}
			return a, nil
		case 6:
			return nil, errAppealDecided
		}
		return nil, errNoAppeal
	}
	c.PreviewFn = func(_ context.Context, id int64, tier firebreak.Tier, ch firebreak.Channel, locale string) (*firebreak.NoticePreview, error) {
		if id != 3 {
			return nil, errNoIncident
		}
		return &firebreak.NoticePreview{IncidentID: id, Tier: tier, Channel: ch, Locale: locale, Template: locale + "/" + string(ch) + "/" + string(tier),
			Account: "c0", Subject: "Your account was signed in by someone else", Text: "We reset your password.\nNext update by 10:00.",
			HTML: "<p>We reset your password.</p>"}, nil
	}
	c.MetricsFn = func(_ context.Context, id int64) (*firebreak.CommunicationMetrics, error) {
		if id != 3 && id != 0 {
			return nil, errNoIncident
		}
		return sampleMetrics(id), nil
	}
	return c
}

// sampleNotice is a failed email notice of incident 3.
func sampleNotice(id int64) firebreak.Notice {
	return firebreak.Notice{ID: id, IncidentID: 3, Account: "c0", Template: "email/compromised", Channel: firebreak.ChannelEmail,
		Locale: "en", Subject: "Your account was signed in by someone else", Text: "We reset your password.",
		HTML: "<p>We reset your password.</p>", State: firebreak.NoticeFailed, Reason: "550 mailbox unavailable",
		Attempts: 2, CreatedAt: now.Add(-10 * time.Minute)}
}

// sampleAppeals is incident 3's appeals: one open, one lifted.
func sampleAppeals() *firebreak.AppealList {
	return &firebreak.AppealList{
		Appeals: []*firebreak.Appeal{
			{ID: 5, IncidentID: 3, Account: "r1", Tier: firebreak.TierAtRisk, Comment: "I was travelling.", State: firebreak.AppealQueued, CreatedAt: now.Add(-time.Minute)},
			{ID: 4, IncidentID: 3, Account: "c2", Tier: firebreak.TierCompromised, Comment: "That was me in Lisbon.", State: firebreak.AppealLifted,
				Reason: "Known device.", CreatedAt: now.Add(-time.Hour), DecidedAt: now.Add(-30 * time.Minute), DecidedBy: "bob"},
		},
		Counts: []firebreak.AppealCount{
			{Tier: firebreak.TierAtRisk, State: firebreak.AppealQueued, Count: 1},
			{Tier: firebreak.TierCompromised, State: firebreak.AppealLifted, Count: 1},
		},
	}
}

// sampleMetrics is what incident 3 told people and what they answered.
func sampleMetrics(id int64) *firebreak.CommunicationMetrics {
	return &firebreak.CommunicationMetrics{IncidentID: id,
		Notices: firebreak.NoticeCounts{
			firebreak.ChannelEmail: {Queued: 1200, Sent: 3400, Failed: 12},
			firebreak.ChannelInApp: {Sent: 4612},
		},
		Appeals: sampleAppeals().Counts,
		Tiers: []firebreak.TierFalsePositives{
			{Tier: firebreak.TierCompromised, ActedOn: 4, Appealed: 1, Lifted: 1, Rate: 0.25},
			{Tier: firebreak.TierAtRisk, ActedOn: 10, Appealed: 1},
			{Tier: firebreak.TierTargeted},
		}}
}

// newCommsFixture returns a server (static admin token) over c.
func newCommsFixture(t testing.TB, c *commsFake) *fixture {
	t.Helper()
	return newFixture(t, func(cfg *fbhttp.Config) { cfg.Communication = c })
}

func TestListNotices(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		status int
		filter firebreak.NoticeFilter
		field  string
	}{
		{name: "no filter", status: 200, filter: firebreak.NoticeFilter{Limit: 50}},
		{name: "every filter", query: "?incident_id=3&state=failed&channel=email&cursor=c1&limit=10", status: 200,
			filter: firebreak.NoticeFilter{IncidentID: 3, State: firebreak.NoticeFailed, Channel: firebreak.ChannelEmail, Cursor: "c1", Limit: 10}},
		{name: "bad state", query: "?state=delivered", status: 400, field: "state"},
		{name: "bad channel", query: "?channel=pigeon", status: 400, field: "channel"},
		{name: "limit zero", query: "?limit=0", status: 400, field: "limit"},
		{name: "limit too big", query: "?limit=1001", status: 400, field: "limit"},
		{name: "limit not a number", query: "?limit=ten", status: 400, field: "limit"},
		{name: "cursor too long", query: "?cursor=" + strings.Repeat("x", 1025), status: 400, field: "cursor"},
		{name: "cursor the store refuses", query: "?cursor=bogus", status: 400, field: "cursor"},
		{name: "incident not a number", query: "?incident_id=three", status: 400, field: "incident_id"},
		{name: "negative incident", query: "?incident_id=-1", status: 400, field: "incident_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newComms()
			var got []firebreak.NoticeFilter
			list := c.ListNoticesFn
			c.ListNoticesFn = func(ctx context.Context, f firebreak.NoticeFilter) (*firebreak.NoticePage, error) {
				got = append(got, f)
				return list(ctx, f)
			}
			w := newCommsFixture(t, c).do("GET", "/api/v1/notices"+tt.query, nil)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				checkError(t, decode[fbhttp.ErrorResponse](t, w), firebreak.EINVALID, tt.field)
				return
			}
			if len(got) != 1 || got[0] != tt.filter {
				t.Errorf("filters = %+v, want %+v", got, tt.filter)
			}
			page := decode[firebreak.NoticePage](t, w)
			if len(page.Notices) != 1 || page.Notices[0].ID != 7 || page.Notices[0].Reason != "550 mailbox unavailable" || page.Next != "after-7" {
				t.Errorf("page = %+v", page)
			}
		})
	}
}

// TestListNoticesStore pages through notices in a real SQLite notice
// store: every notice once, in order, filters applied, and a forged cursor
// refused naming the field.
func TestListNoticesStore(t *testing.T) {
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "notices.db"))
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing", FirstSeen: now.Add(-time.Hour), LastSeen: now}
	if err := sqlite.NewIncidentStore(db).Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	store := sqlite.NewNoticeStore(db)
	var notices []firebreak.Notice
	for i := range 7 {
		n := firebreak.Notice{IncidentID: inc.ID, Account: fmt.Sprintf("u%d", i), Template: "inapp/compromised", Locale: "en",
			Channel: firebreak.ChannelInApp, Text: "We signed you out."}
		if i%3 == 0 {
			n.Channel, n.Template, n.Subject = firebreak.ChannelEmail, "email/compromised", "Check your account"
		}
		notices = append(notices, n)
	}
	if added, err := store.Enqueue(ctx, notices); err != nil || added != 7 {
		t.Fatalf("Enqueue = %d, %v", added, err)
	}
	c := newComms()
	c.ListNoticesFn = store.List
	f := newCommsFixture(t, c)

	var accounts []string
	target := fmt.Sprintf("/api/v1/notices?incident_id=%d&limit=2", inc.ID)
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatalf("more than 4 pages of 2 for 7 notices")
		}
		w := f.do("GET", target, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s = %d %s", target, w.Code, w.Body)
		}
		page := decode[firebreak.NoticePage](t, w)
		for _, n := range page.Notices {
			accounts = append(accounts, n.Account)
			if n.State != firebreak.NoticeQueued {
				t.Errorf("notice %d state %q, want queued", n.ID, n.State)
			}
		}
		if page.Next == "" {
			break
		}
		target = fmt.Sprintf("/api/v1/notices?incident_id=%d&limit=2&cursor=%s", inc.ID, page.Next)
	}
	if want := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6"}; !slices.Equal(accounts, want) {
		t.Errorf("accounts = %q, want %q", accounts, want)
	}

	w := f.do("GET", "/api/v1/notices?channel=email", nil)
	page := decode[firebreak.NoticePage](t, w)
	if len(page.Notices) != 3 || page.Notices[0].Subject != "Check your account" {
		t.Errorf("email notices = %+v, want u0, u3, u6", page.Notices)
	}
	w = f.do("GET", "/api/v1/notices?channel=sms", nil)
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, `"notices":[]`) {
		t.Errorf("no sms notices = %d %s, want an empty list", w.Code, body)
	}
	w = f.do("GET", "/api/v1/notices?cursor=eyJmb3JnZWQiOnRydWV9", nil)
	if w.Code != 400 {
		t.Fatalf("forged cursor = %d %s, want 400", w.Code, w.Body)
	}
	checkError(t, decode[fbhttp.ErrorResponse](t, w), firebreak.EINVALID, "cursor")
}

func TestGetNotice(t *testing.T) {
	f := newCommsFixture(t, newComms())
	w := f.do("GET", "/api/v1/notices/7", nil)
	if w.Code != 200 {
		t.Fatalf("GET notice = %d %s", w.Code, w.Body)
	}
	if n := decode[firebreak.Notice](t, w); n.ID != 7 || n.Subject == "" || n.HTML == "" || n.Attempts != 2 {
		t.Errorf("notice = %+v", n)
	}
	wantError(t, f.do("GET", "/api/v1/notices/99", nil), 404, "Notice 99")
	for _, id := range []string{"0", "x", "-3"} {
		res := wantError(t, f.do("GET", "/api/v1/notices/"+id, nil), 400)
		checkError(t, res, firebreak.EINVALID, "id")
	}
}

func TestListAppeals(t *testing.T) {
	c := newComms()
	var got []firebreak.AppealFilter
	c.ListAppealsFn = func(_ context.Context, f firebreak.AppealFilter) (*firebreak.AppealList, error) {
		got = append(got, f)
		if f.IncidentID == 4 {
			return &firebreak.AppealList{}, nil // nil lists: the JSON says []
		}
		if f.IncidentID != 3 {
			return nil, errNoIncident
		}
		return sampleAppeals(), nil
	}
	f := newCommsFixture(t, c)
	w := f.do("GET", "/api/v1/incidents/3/appeals?state=queued_for_review&cursor=c9&limit=5", nil)
	if w.Code != 200 {
		t.Fatalf("GET appeals = %d %s", w.Code, w.Body)
	}
	want := firebreak.AppealFilter{IncidentID: 3, State: firebreak.AppealQueued, Cursor: "c9", Limit: 5}
	if len(got) != 1 || got[0] != want {
		t.Errorf("filters = %+v, want %+v", got, want)
	}
	list := decode[firebreak.AppealList](t, w)
	if len(list.Appeals) != 2 || list.Appeals[0].Comment != "I was travelling." || list.Lifted(firebreak.TierCompromised) != 1 {
		t.Errorf("list = %+v", list)
	}
	w = f.do("GET", "/api/v1/incidents/4/appeals", nil)
	if body := w.Body.String(); !strings.Contains(body, `"appeals":[]`) || !strings.Contains(body, `"counts":[]`) {
		t.Errorf("empty list = %s, want [] for appeals and counts", body)
	}
	wantError(t, f.do("GET", "/api/v1/incidents/99/appeals", nil), 404)
	for query, field := range map[string]string{"?state=open": "state", "?limit=-1": "limit"} {
		checkError(t, wantError(t, f.do("GET", "/api/v1/incidents/3/appeals"+query, nil), 400), firebreak.EINVALID, field)
	}
	checkError(t, wantError(t, f.do("GET", "/api/v1/incidents/x/appeals", nil), 400), firebreak.EINVALID, "id")
}

func TestDecideAppeal(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		body   string
		status int
		field  string
		want   *decision // the service's call, if any
	}{
		{name: "lift", id: "5", body: `{"decision":"lift","reason":"Known device.\nChecked with the person."}`, status: 200,
			want: &decision{5, true, "Known device.\nChecked with the person.", fbhttp.APIActor}},
		{name: "reject", id: "5", body: `{"decision":"reject","reason":"Login from a botnet."}`, status: 200,
			want: &decision{5, false, "Login from a botnet.", fbhttp.APIActor}},
		{name: "no reason", id: "5", body: `{"decision":"lift"}`, status: 400, field: "reason"},
		{name: "blank reason", id: "5", body: `{"decision":"lift","reason":""}`, status: 400, field: "reason"},
		{name: "reason too long", id: "5", body: `{"decision":"lift","reason":"` + strings.Repeat("x", firebreak.MaxTextLen+1) + `"}`, status: 400, field: "reason"},
		{name: "control character", id: "5", body: `{"decision":"lift","reason":"a\u0000b"}`, status: 400, field: "reason"},
		{name: "bad decision", id: "5", body: `{"decision":"approve","reason":"ok"}`, status: 400, field: "decision"},
		{name: "unknown field", id: "5", body: `{"decision":"lift","reason":"ok","state":"lifted"}`, status: 400, field: "state"},
		{name: "not JSON", id: "5", body: `lift`, status: 400},
		{name: "bad id", id: "abc", body: `{"decision":"lift","reason":"ok"}`, status: 400, field: "id"},
		{name: "decided already", id: "6", body: `{"decision":"reject","reason":"ok"}`, status: 409,
			want: &decision{6, false, "ok", fbhttp.APIActor}},
		{name: "unknown appeal", id: "99", body: `{"decision":"lift","reason":"ok"}`, status: 404,
			want: &decision{99, true, "ok", fbhttp.APIActor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newComms()
			f := newCommsFixture(t, c)
			w := f.do("POST", "/api/v1/appeals/"+tt.id+"/decision", []byte(tt.body), "Content-Type", ctJSON)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			got := c.decided()
			if tt.want == nil && len(got) > 0 {
				t.Errorf("service asked to decide %+v, want nothing", got)
			}
			if tt.want != nil && (len(got) != 1 || got[0] != *tt.want) {
				t.Errorf("decisions = %+v, want %+v", got, *tt.want)
			}
			switch {
			case tt.status == 200:
				a := decode[firebreak.Appeal](t, w)
				if a.ID != 5 || a.State.Open() || a.Reason != tt.want.Reason {
					t.Errorf("appeal = %+v", a)
				}
			case tt.field != "":
				checkError(t, decode[fbhttp.ErrorResponse](t, w), firebreak.EINVALID, tt.field)
			default:
				wantError(t, w, tt.status)
			}
		})
	}
}

// TestDecideAppealRoles checks that deciding needs the approver role, and
// that the decision is recorded under the approver's name.
func TestDecideAppealRoles(t *testing.T) {
	c := newComms()
	f := newAuthFixture(t, func(cfg *fbhttp.Config) { cfg.Communication = c })
	body := []byte(`{"decision":"lift","reason":"Known device."}`)
	for _, role := range []firebreak.Role{firebreak.RoleViewer, firebreak.RoleResponder} {
		tok := f.token(t, "tok-"+string(role), role)
		w := f.do("POST", "/api/v1/appeals/5/decision", body, "Authorization", "Bearer "+tok, "Content-Type", ctJSON)
		wantError(t, w, 403, "approver")
		// Reading is for viewers.
		if w := f.do("GET", "/api/v1/incidents/3/appeals", nil, "Authorization", "Bearer "+tok); w.Code != 200 {
			t.Errorf("%s lists appeals: %d %s", role, w.Code, w.Body)
		}
	}
	if got := c.decided(); len(got) != 0 {
		t.Fatalf("refused roles reached the service: %+v", got)
	}
	tok := f.token(t, "ci", firebreak.RoleApprover)
	if w := f.do("POST", "/api/v1/appeals/5/decision", body, "Authorization", "Bearer "+tok, "Content-Type", ctJSON); w.Code != 200 {
		t.Fatalf("approver decides = %d %s", w.Code, w.Body)
	}
	if got := c.decided(); len(got) != 1 || got[0].Actor != "token:ci" {
		t.Errorf("decisions = %+v, want one by token:ci", got)
	}
}

func TestNoticePreview(t *testing.T) {
	c := newComms()
	type call struct {
		id     int64
		tier   firebreak.Tier
		ch     firebreak.Channel
		locale string
	}
	var got []call
	preview := c.PreviewFn
	c.PreviewFn = func(ctx context.Context, id int64, tier firebreak.Tier, ch firebreak.Channel, locale string) (*firebreak.NoticePreview, error) {
		got = append(got, call{id, tier, ch, locale})
		return preview(ctx, id, tier, ch, locale)
	}
	f := newCommsFixture(t, c)
	w := f.do("GET", "/api/v1/incidents/3/notice-preview?tier=at_risk&channel=sms&locale=de", nil)
	if w.Code != 200 {
		t.Fatalf("preview = %d %s", w.Code, w.Body)
	}
	if p := decode[firebreak.NoticePreview](t, w); p.Template != "de/sms/at_risk" || p.Text == "" || p.Account != "c0" {
		t.Errorf("preview = %+v", p)
	}
	if w := f.do("GET", "/api/v1/incidents/3/notice-preview?tier=targeted&channel=email", nil); w.Code != 200 {
		t.Fatalf("preview without locale = %d %s", w.Code, w.Body)
	}
	want := []call{{3, firebreak.TierAtRisk, firebreak.ChannelSMS, "de"}, {3, firebreak.TierTargeted, firebreak.ChannelEmail, "en"}}
	if !slices.Equal(got, want) {
		t.Errorf("calls = %+v, want %+v", got, want)
	}
	wantError(t, f.do("GET", "/api/v1/incidents/99/notice-preview?tier=targeted&channel=email", nil), 404)
	for query, fields := range map[string][]string{
		"":                             {"tier", "channel"},
		"?tier=everyone&channel=email": {"tier"},
		"?tier=targeted&channel=fax":   {"channel"},
		"?tier=targeted&channel=sms&locale=e%20n":                      {"locale"},
		"?tier=targeted&channel=sms&locale=" + strings.Repeat("a", 36): {"locale"},
	} {
		res := wantError(t, f.do("GET", "/api/v1/incidents/3/notice-preview"+query, nil), 400)
		if got := fieldNames(res); !slices.Equal(got, fields) {
			t.Errorf("%q: fields %q, want %q", query, got, fields)
		}
	}
	if len(got) != 3 { // the two above and the unknown incident
		t.Errorf("calls = %+v: bad requests reached the service", got)
	}
}

func TestCommunicationMetrics(t *testing.T) {
	c := newComms()
	f := newCommsFixture(t, c)
	w := f.do("GET", "/api/v1/incidents/3/communication", nil)
	if w.Code != 200 {
		t.Fatalf("metrics = %d %s", w.Code, w.Body)
	}
	m := decode[firebreak.CommunicationMetrics](t, w)
	if m.IncidentID != 3 || m.Notices[firebreak.ChannelEmail].Failed != 12 || len(m.Appeals) != 2 || m.Tiers[0].Rate != 0.25 {
		t.Errorf("metrics = %+v", m)
	}
	if !strings.Contains(w.Body.String(), `"false_positive_rate":0.25`) {
		t.Errorf("body lacks the false-positive rate: %s", w.Body)
	}
	c.MetricsFn = func(_ context.Context, id int64) (*firebreak.CommunicationMetrics, error) {
		return &firebreak.CommunicationMetrics{IncidentID: id}, nil
	}
	body := f.do("GET", "/api/v1/incidents/4/communication", nil).Body.String()
	for _, want := range []string{`"notices":{}`, `"appeals":[]`, `"tiers":[]`} {
		if !strings.Contains(body, want) {
			t.Errorf("empty metrics %s lack %s", body, want)
		}
	}
	c.MetricsFn = newComms().MetricsFn
	wantError(t, f.do("GET", "/api/v1/incidents/99/communication", nil), 404)
	checkError(t, wantError(t, f.do("GET", "/api/v1/incidents/0/communication", nil), 400), firebreak.EINVALID, "id")
}

// TestCommunicationUnavailable checks that every communication route
// answers 503 on a server without the service.
func TestCommunicationUnavailable(t *testing.T) {
	f := newFixture(t)
	for _, rt := range []struct{ method, target, body string }{
		{"GET", "/api/v1/notices", ""},
		{"GET", "/api/v1/notices/7", ""},
		{"GET", "/api/v1/incidents/3/appeals", ""},
		{"POST", "/api/v1/appeals/5/decision", `{"decision":"lift","reason":"ok"}`},
		{"GET", "/api/v1/incidents/3/notice-preview?tier=targeted&channel=email", ""},
		{"GET", "/api/v1/incidents/3/communication", ""},
	} {
		w := f.do(rt.method, rt.target, []byte(rt.body), "Content-Type", ctJSON)
		wantError(t, w, 503, "Communication is not available")
		if w.Header().Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", rt.method, rt.target)
		}
	}
}
