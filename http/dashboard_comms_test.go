package http_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"firebreak"
	fbhttp "firebreak/http"
)

// commsPages is a server with operators and sessions over a fake
// communication service: vera views, alice responds, bob approves.
type commsPages struct {
	*authFixture
	comms    *commsFake
	sessions map[string][2]string // name → cookie, CSRF token
}

func newCommsPages(t testing.TB) *commsPages {
	t.Helper()
	f := &commsPages{comms: newComms(), sessions: map[string][2]string{}}
	f.authFixture = newAuthFixture(t, func(c *fbhttp.Config) { c.Communication = f.comms })
	f.incidents.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) { return incident(id), nil }
	for name, role := range map[string]firebreak.Role{"vera": firebreak.RoleViewer, "alice": firebreak.RoleResponder, "bob": firebreak.RoleApprover} {
		f.operator(t, name, role)
		cookie, csrf := f.session(t, name)
		f.sessions[name] = [2]string{cookie, csrf}
	}
	return f
}

// get fetches a page as name's session.
func (f *commsPages) get(name, target string) *httptest.ResponseRecorder {
	return f.do("GET", target, nil, sessionHeaders(f.sessions[name][0], "")...)
}

// post posts a form as name's session, with its CSRF token in the form
// unless noCSRF.
func (f *commsPages) post(name, target string, form url.Values, noCSRF bool) *httptest.ResponseRecorder {
	if !noCSRF {
		form.Set("csrf", f.sessions[name][1])
	}
	return f.do("POST", target, []byte(form.Encode()),
		append(sessionHeaders(f.sessions[name][0], ""), "Content-Type", "application/x-www-form-urlencoded")...)
}

func TestOutboxPage(t *testing.T) {
	f := newCommsPages(t)
	var filters []firebreak.NoticeFilter
	var metricsOf []int64
	f.comms.ListNoticesFn = func(_ context.Context, nf firebreak.NoticeFilter) (*firebreak.NoticePage, error) {
		filters = append(filters, nf)
		n := sampleNotice(7)
		n.Reason = hostile // a provider's answer is not ours to trust
		sent := sampleNotice(8)
		sent.State, sent.Reason, sent.SentAt, sent.Channel, sent.Subject, sent.HTML = firebreak.NoticeSent, "", now, firebreak.ChannelInApp, "", ""
		return &firebreak.NoticePage{Notices: []firebreak.Notice{n, sent}, Next: "after/8"}, nil
	}
	f.comms.MetricsFn = func(_ context.Context, id int64) (*firebreak.CommunicationMetrics, error) {
		metricsOf = append(metricsOf, id)
		return sampleMetrics(id), nil
	}
	t.Run("every incident", func(t *testing.T) {
		body := checkPage(t, f.get("vera", "/outbox"), 200)
		containsAll(t, body, `<a href="/outbox" aria-current="page">Outbox</a>`, "(every incident)",
			`<tr data-channel="email">`, ">1,200<", ">3,400<", ">12<", ">4,612<", // email total
			`<tr data-channel="all">`, ">9,224<", // every channel and state
			`<tr id="notice-7">`, `<a href="/outbox/7">7</a>`, `<a href="/incidents/3">3</a>`, `href="/accounts/c0"`, "email/compromised",
			`badge-deny">failed</span>`, escapedHostile, ">2<", "2026-03-02 08:50:00",
			`<tr id="notice-8">`, `badge-allow">sent</span>`, "2026-03-02 09:00:00",
			`href="/outbox?cursor=after%2F8" rel="next"`)
		if strings.Contains(body, hostile) {
			t.Errorf("the notice's reason is not escaped")
		}
		if strings.Contains(body, "First page") {
			t.Errorf("the first page links to the first page")
		}
	})
	t.Run("filtered and paged", func(t *testing.T) {
		filters, metricsOf = nil, nil
		body := checkPage(t, f.get("vera", "/outbox?incident_id=3&state=failed&channel=email&cursor=after%2F8"), 200)
		want := firebreak.NoticeFilter{IncidentID: 3, State: firebreak.NoticeFailed, Channel: firebreak.ChannelEmail, Cursor: "after/8", Limit: 50}
		if len(filters) != 1 || filters[0] != want {
			t.Errorf("filters = %+v, want %+v", filters, want)
		}
		if len(metricsOf) != 1 || metricsOf[0] != 3 {
			t.Errorf("metrics asked for %v, want incident 3", metricsOf)
		}
		containsAll(t, body, "(incident 3)", `<option value="failed" selected>`, `<option value="email" selected>`, `value="3"`,
			`<a href="/outbox?channel=email&amp;incident_id=3&amp;state=failed">First page</a>`,
			`href="/outbox?channel=email&amp;cursor=after%2F8&amp;incident_id=3&amp;state=failed" rel="next"`)
	})
	t.Run("counts fail, the list stays", func(t *testing.T) {
		f.comms.MetricsFn = func(context.Context, int64) (*firebreak.CommunicationMetrics, error) {
			return nil, firebreak.Errorf(firebreak.EUNAVAILABLE, "The notice store is busy.")
		}
		body := checkPage(t, f.get("vera", "/outbox"), 200)
		containsAll(t, body, "Counts not available: The notice store is busy.", `<tr id="notice-7">`)
	})
	t.Run("bad filters name the field", func(t *testing.T) {
		for query, want := range map[string]string{
			"?state=lost": "state", "?channel=fax": "channel", "?limit=5000": "limit", "?incident_id=x": "incident_id",
		} {
			containsAll(t, checkPage(t, f.get("vera", "/outbox"+query), 400), `<span class="mono">`+want+`</span>`)
		}
	})
}

func TestNoticePage(t *testing.T) {
	f := newCommsPages(t)
	f.comms.FindNoticeFn = func(_ context.Context, id int64) (*firebreak.Notice, error) {
		if id != 7 {
			return nil, errNoNotice
		}
		n := sampleNotice(7)
		n.Subject = "Sign in again " + hostile
		n.Text = "We reset your password.\n" + hostile
		n.HTML = `<p onclick="x()">Hi</p>` + hostile
		return &n, nil
	}
	body := checkPage(t, f.get("vera", "/outbox/7"), 200)
	containsAll(t, body, "Notice 7", `href="/accounts/c0"`, `<a href="/incidents/3">incident 3</a>`, "550 mailbox unavailable",
		"Sign in again "+escapedHostile,
		`<pre class="notice-text" id="notice-text">We reset your password.`+"\n"+escapedHostile+"</pre>",
		`<iframe class="notice-html" sandbox srcdoc="&lt;p onclick=&#34;x()&#34;&gt;Hi&lt;/p&gt;`+escapedHostile+`"`)
	if strings.Contains(body, hostile) || strings.Contains(body, `<p onclick`) {
		t.Errorf("the notice's text or HTML is on the page unescaped")
	}
	containsAll(t, checkPage(t, f.get("vera", "/outbox/99"), 404), "Notice 99 not found.")
	containsAll(t, checkPage(t, f.get("vera", "/outbox/x"), 400), `<span class="mono">id</span>`)
}

func TestAppealsPage(t *testing.T) {
	f := newCommsPages(t)
	f.comms.ListAppealsFn = func(_ context.Context, af firebreak.AppealFilter) (*firebreak.AppealList, error) {
		if af.IncidentID != 3 {
			return nil, errNoIncident
		}
		list := sampleAppeals()
		list.Appeals[0].Comment = hostile
		list.Next = "older"
		return list, nil
	}
	t.Run("approver", func(t *testing.T) {
		body := checkPage(t, f.get("bob", "/incidents/3/appeals"), 200)
		containsAll(t, body, "Appeals of incident 3", `<tr data-tier="at_risk">`, `<th scope="col" class="num">queued for review</th>`,
			`<tr id="appeal-5">`, `href="/accounts/r1"`, "at risk", `approval-wait">queued for review</span>`, escapedHostile,
			`<form method="post" action="/incidents/3/appeals/5/decide"`, `name="csrf" value="`+f.sessions["bob"][1]+`"`,
			`name="decision" value="lift"`, `name="decision" value="reject"`, `name="reason"`,
			`<tr id="appeal-4">`, `approval-ok">lifted</span>`, "That was me in Lisbon.", "Known device.", "bob",
			`href="/incidents/3/appeals?cursor=older" rel="next"`, `href="/incidents/3/appeals?state=lifted"`)
		if strings.Contains(body, "/appeals/4/decide") {
			t.Errorf("a decided appeal offers the decide form")
		}
		if strings.Contains(body, hostile) {
			t.Errorf("the appeal's comment is not escaped")
		}
	})
	t.Run("viewer sees no form", func(t *testing.T) {
		body := checkPage(t, f.get("vera", "/incidents/3/appeals"), 200)
		containsAll(t, body, `<tr id="appeal-5">`, "open: an approver decides")
		if strings.Contains(body, "/decide") {
			t.Errorf("a viewer is offered the decide form")
		}
	})
	t.Run("errors", func(t *testing.T) {
		checkPage(t, f.get("vera", "/incidents/99/appeals"), 404)
		containsAll(t, checkPage(t, f.get("vera", "/incidents/3/appeals?state=open"), 400), `<span class="mono">state</span>`)
	})
}

func TestDecideAppealForm(t *testing.T) {
	f := newCommsPages(t)
	t.Run("lift", func(t *testing.T) {
		w := f.post("bob", "/incidents/3/appeals/5/decide", url.Values{"decision": {"lift"}, "reason": {"Known device."}}, false)
		if w.Code != 303 || w.Header().Get("Location") != "/incidents/3/appeals?decided=5" {
			t.Fatalf("decide = %d Location %q; body %.300s", w.Code, w.Header().Get("Location"), w.Body)
		}
		if got := f.comms.decided(); len(got) != 1 || got[0] != (decision{5, true, "Known device.", "bob"}) {
			t.Errorf("decisions = %+v", got)
		}
	})
	t.Run("the flash comes from the stored appeal", func(t *testing.T) {
		f.comms.ListAppealsFn = func(context.Context, firebreak.AppealFilter) (*firebreak.AppealList, error) {
			list := sampleAppeals()
			list.Appeals[0].State, list.Appeals[0].Reason = firebreak.AppealLifted, "Known device."
			return list, nil
		}
		body := checkPage(t, f.get("bob", "/incidents/3/appeals?decided=5"), 200)
		containsAll(t, body, `<p class="callout" role="status" id="flash">Appeal 5 of r1 is lifted.</p>`)
		f.comms.ListAppealsFn = newComms().ListAppealsFn
	})
	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name   string
			path   string
			form   url.Values
			status int
			says   string
		}{
			{"no reason", "/incidents/3/appeals/5/decide", url.Values{"decision": {"lift"}}, 400, "reason: required"},
			{"bad decision", "/incidents/3/appeals/5/decide", url.Values{"decision": {"maybe"}, "reason": {"x"}}, 400, "decision: must be"},
			{"decided already", "/incidents/3/appeals/6/decide", url.Values{"decision": {"reject"}, "reason": {"x"}}, 409, "Appeal 5 is lifted already."},
			{"unknown appeal", "/incidents/3/appeals/99/decide", url.Values{"decision": {"reject"}, "reason": {"x"}}, 404, "Appeal 99 not found."},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				body := checkPage(t, f.post("bob", tt.path, tt.form, false), tt.status)
				containsAll(t, body, `<p class="notice" role="alert">Appeal `, tt.says, `<tr id="appeal-5">`)
			})
		}
		checkPage(t, f.post("bob", "/incidents/3/appeals/x/decide", url.Values{"decision": {"lift"}, "reason": {"x"}}, false), 400)
	})
	t.Run("without the CSRF token", func(t *testing.T) {
		before := len(f.comms.decided())
		w := f.post("bob", "/incidents/3/appeals/5/decide", url.Values{"decision": {"lift"}, "reason": {"Known device."}}, true)
		if w.Code != 403 || !strings.Contains(w.Body.String(), "CSRF") {
			t.Errorf("decide without CSRF = %d %.300s", w.Code, w.Body)
		}
		w = f.post("bob", "/incidents/3/appeals/5/decide", url.Values{"decision": {"lift"}, "reason": {"Known device."}, "csrf": {"forged"}}, true)
		if w.Code != 403 {
			t.Errorf("decide with a forged CSRF token = %d", w.Code)
		}
		if got := f.comms.decided(); len(got) != before {
			t.Errorf("refused posts reached the service: %+v", got[before:])
		}
	})
	t.Run("not an approver", func(t *testing.T) {
		before := len(f.comms.decided())
		for _, name := range []string{"vera", "alice"} {
			w := f.post(name, "/incidents/3/appeals/5/decide", url.Values{"decision": {"lift"}, "reason": {"x"}}, false)
			containsAll(t, checkPage(t, w, 403), "This needs the approver role")
		}
		if got := f.comms.decided(); len(got) != before {
			t.Errorf("refused posts reached the service: %+v", got[before:])
		}
	})
}

func TestPreviewPage(t *testing.T) {
	f := newCommsPages(t)
	type call struct {
		tier   firebreak.Tier
		ch     firebreak.Channel
		locale string
	}
	var calls []call
	preview := f.comms.PreviewFn
	f.comms.PreviewFn = func(ctx context.Context, id int64, tier firebreak.Tier, ch firebreak.Channel, locale string) (*firebreak.NoticePreview, error) {
		calls = append(calls, call{tier, ch, locale})
		p, err := preview(ctx, id, tier, ch, locale)
		if p != nil {
			p.HTML += hostile
		}
		return p, err
	}
	t.Run("a fresh form", func(t *testing.T) {
		body := checkPage(t, f.get("vera", "/incidents/3/preview"), 200)
		if len(calls) != 1 || calls[0] != (call{firebreak.TierCompromised, firebreak.ChannelEmail, "en"}) {
			t.Errorf("calls = %+v, want the compromised tier's email in English", calls)
		}
		containsAll(t, body, `<form method="get" action="/incidents/3/preview"`,
			`<option value="compromised" selected>compromised</option>`, `<option value="email" selected>email</option>`,
			`<option value="en" selected>en</option>`, `<option value="de">de</option>`,
			"en/email/compromised", `href="/accounts/c0"`, "Your account was signed in by someone else",
			"We reset your password.\nNext update by 10:00.", `sandbox srcdoc="&lt;p&gt;We reset your password.&lt;/p&gt;`+escapedHostile)
		if strings.Contains(body, hostile) {
			t.Errorf("the preview's HTML is on the page unescaped")
		}
	})
	t.Run("chosen", func(t *testing.T) {
		calls = nil
		body := checkPage(t, f.get("vera", "/incidents/3/preview?tier=at_risk&channel=sms&locale=de"), 200)
		if len(calls) != 1 || calls[0] != (call{firebreak.TierAtRisk, firebreak.ChannelSMS, "de"}) {
			t.Errorf("calls = %+v", calls)
		}
		containsAll(t, body, `<option value="at_risk" selected>at risk</option>`, `<option value="de" selected>de</option>`, "de/sms/at_risk")
	})
	t.Run("refused", func(t *testing.T) {
		calls = nil
		containsAll(t, checkPage(t, f.get("vera", "/incidents/3/preview?tier=everyone"), 400), "No preview: field tier: must be one of")
		if len(calls) != 0 {
			t.Errorf("a bad tier reached the service: %+v", calls)
		}
		containsAll(t, checkPage(t, f.get("vera", "/incidents/99/preview"), 404), "No preview: Incident 99 not found.")
	})
}

func TestCommsPartial(t *testing.T) {
	f := newCommsPages(t)
	w := f.get("vera", "/partials/incidents/3/communication")
	body := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(body, `<section class="panel" id="communication"`) {
		t.Fatalf("partial = %d %.300s", w.Code, body)
	}
	containsAll(t, body, `<tr data-channel="email">`, ">1,200<", ">4,612<", `<tr data-tier="compromised">`,
		`<td class="num" data-tier="compromised">25.00%</td>`, `<td class="num" data-tier="targeted">0.00%</td>`,
		`href="/outbox?incident_id=3"`, `href="/incidents/3/appeals"`, `href="/incidents/3/preview"`)
	if strings.Contains(body, "<html") {
		t.Errorf("the partial is a whole page")
	}
	w = f.get("vera", "/partials/incidents/99/communication")
	if w.Code != 404 || w.Header().Get("Firebreak-Fragment") == "" || !strings.Contains(w.Body.String(), "Incident 99 not found.") {
		t.Errorf("unknown incident = %d %q %.300s", w.Code, w.Header().Get("Firebreak-Fragment"), w.Body)
	}
}

// TestIncidentPageLoadsComms checks that the incident page includes the
// communication section by reference only: htmx fetches it once loaded.
func TestIncidentPageLoadsComms(t *testing.T) {
	f := newCommsPages(t)
	f.incidents.TimelineFn = func(context.Context, int64) ([]firebreak.TimelineEntry, error) { return nil, nil }
	f.incidents.ListAccountsFn = func(context.Context, int64, firebreak.AccountFilter) (*firebreak.AccountPage, error) {
		return &firebreak.AccountPage{}, nil
	}
	body := checkPage(t, f.get("vera", "/incidents/3"), 200)
	containsAll(t, body, `hx-get="/partials/incidents/3/communication" hx-trigger="load"`, `href="/outbox?incident_id=3"`)
	if n := f.comms.metricsCalls(); n != 0 {
		t.Errorf("the incident page asked for metrics %d times, want none", n)
	}
}

// TestCommsPagesWithoutService checks the pages on a server without the
// communication service: 503 pages, and a 503 fragment for the partial.
func TestCommsPagesWithoutService(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/outbox", "/outbox/7", "/incidents/3/appeals", "/incidents/3/preview"} {
		containsAll(t, checkPage(t, f.do("GET", path, nil), 503), "Communication is not available")
	}
	w := f.do("GET", "/partials/incidents/3/communication", nil)
	if w.Code != 503 || w.Header().Get("Firebreak-Fragment") == "" || !strings.Contains(w.Body.String(), "Communication is not available") {
		t.Errorf("partial = %d %.300s", w.Code, w.Body)
	}
}
