package http_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
)

// hostile is text an attacker controls that would run if it were not escaped.
const hostile = `<script>alert("x")</script>`

// escapedHostile is hostile as html/template writes it in text.
const escapedHostile = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"

// checkPage checks that w is an HTML page with the given status, the strict
// CSP and both nav links, and returns its body.
func checkPage(t *testing.T, w *httptest.ResponseRecorder, status int) string {
	t.Helper()
	body := w.Body.String()
	if w.Code != status || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status = %d %s, want %d text/html; body %s", w.Code, w.Header().Get("Content-Type"), status, body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	for _, want := range []string{`<nav class="nav"`, `<a href="/"`, `<a href="/incidents"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks nav link %q", want)
		}
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("page refers to an external URL")
	}
	return body
}

func containsAll(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestIncidentsPage(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		filter firebreak.IncidentFilter
		next   string
		wants  []string
	}{
		{name: "first page", filter: firebreak.IncidentFilter{Limit: 50}, next: "c2",
			wants: []string{`href="/incidents?cursor=c2"`}},
		{name: "filters and cursor passed through", query: "?state=triaged&kind=password_spraying&cursor=c2",
			filter: firebreak.IncidentFilter{State: firebreak.StateTriaged, Kind: firebreak.KindPasswordSpraying, Cursor: "c2", Limit: 50}, next: "c3",
			wants: []string{
				`href="/incidents?cursor=c3&amp;kind=password_spraying&amp;state=triaged" rel="next">Older`,
				`href="/incidents?kind=password_spraying&amp;state=triaged">Newest`,
				`href="/incidents?kind=password_spraying&amp;state=contained"`, // a state link keeps the kind
				`href="/incidents?state=triaged">all`,                          // a kind link keeps the state
				`href="/incidents?kind=password_spraying&amp;state=triaged" aria-current="true" class="current">triaged`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newIncidentFixture(t)
			var got *firebreak.IncidentFilter
			svc.ListFn = func(_ context.Context, filter firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
				got = &filter
				return &firebreak.IncidentPage{Incidents: []*firebreak.Incident{incident(8), incident(7)}, Next: tt.next}, nil
			}
			body := checkPage(t, f.do("GET", "/incidents"+tt.query, nil), 200)
			if got == nil || *got != tt.filter {
				t.Errorf("filter = %+v, want %+v", got, tt.filter)
			}
			containsAll(t, body, append([]string{`href="/incidents/7"`, `href="/incidents/8"`, "Stuffing from AS 64500",
				"credential stuffing", "high", "detected", "2026-03-02 08:00:00", "2026-03-02 09:00:00", ">3<", ">7<", "1,190"}, tt.wants...)...)
			if strings.Index(body, `href="/incidents/8"`) > strings.Index(body, `href="/incidents/7"`) {
				t.Errorf("incidents are not in the store's order (newest first)")
			}
		})
	}
}

func TestIncidentsPageEmpty(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"nothing yet", "", "No incidents yet."},
		{"nothing matches", "?state=resolved", "No incidents match these filters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newIncidentFixture(t)
			svc.ListFn = func(context.Context, firebreak.IncidentFilter) (*firebreak.IncidentPage, error) { return nil, nil }
			body := checkPage(t, f.do("GET", "/incidents"+tt.query, nil), 200)
			containsAll(t, body, tt.want)
			if strings.Contains(body, "Older") {
				t.Errorf("empty last page links to older incidents")
			}
		})
	}
}

func TestIncidentPage(t *testing.T) {
	f, svc := newIncidentFixture(t)
	svc.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) { return incident(id), nil }
	var filters []firebreak.AccountFilter
	svc.ListAccountsFn = func(_ context.Context, id int64, filter firebreak.AccountFilter) (*firebreak.AccountPage, error) {
		filters = append(filters, filter)
		acct := firebreak.AffectedAccount{IncidentID: id, Account: "u-" + string(filter.Tier), Tier: filter.Tier, Confidence: 0.9,
			Evidence: "evidence for " + string(filter.Tier), FirstSeen: now.Add(-time.Hour), LastSeen: now}
		next := ""
		if filter.Tier == firebreak.TierTargeted {
			next = "t2"
		}
		return &firebreak.AccountPage{Accounts: []firebreak.AffectedAccount{acct}, Next: next}, nil
	}
	svc.TimelineFn = func(context.Context, int64) ([]firebreak.TimelineEntry, error) {
		return []firebreak.TimelineEntry{{Time: now, Actor: "system", Kind: "opened", Message: "Opened from 12 findings."}}, nil
	}
	t.Run("first accounts of each tier", func(t *testing.T) {
		filters = nil
		body := checkPage(t, f.do("GET", "/incidents/12", nil), 200)
		containsAll(t, body, "Incident 12: Stuffing from AS 64500", "credential stuffing", "high", "detected", "1,200 accounts tried",
			"2026-03-02 08:10:00", ">1,190<", `href="/accounts/u-compromised"`, `href="/accounts/u-at_risk"`, "evidence for targeted", "90.00%",
			`href="/incidents/12?cursor=t2&amp;tier=targeted#tier-targeted-h"`,
			"asn", "64500", "5,000", "4,900", "98% failures", "system", "opened", "Opened from 12 findings.")
		want := []firebreak.AccountFilter{{Tier: firebreak.TierCompromised, Limit: 50}, {Tier: firebreak.TierAtRisk, Limit: 50}, {Tier: firebreak.TierTargeted, Limit: 50}}
		if !slices.Equal(filters, want) {
			t.Errorf("account filters = %+v, want %+v", filters, want)
		}
	})
	t.Run("more of one tier", func(t *testing.T) {
		filters = nil
		body := checkPage(t, f.do("GET", "/incidents/12?tier=targeted&cursor=t2", nil), 200)
		if len(filters) != 3 || filters[2].Cursor != "t2" || filters[0].Cursor != "" || filters[1].Cursor != "" {
			t.Errorf("account filters = %+v, want the cursor on targeted only", filters)
		}
		containsAll(t, body, "Back to the first accounts")
	})
}

func TestPageErrors(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		status int
		wants  []string
	}{
		{"unknown incident", "/incidents/99", 404, []string{"Incident 99 not found."}},
		{"unknown incident from the store", "/incidents/98", 404, []string{"Incident 99 not found."}},
		{"id not a number", "/incidents/abc", 400, []string{"id", "must be a positive integer"}},
		{"id zero", "/incidents/0", 400, []string{"id"}},
		{"unknown tier", "/incidents/12?tier=pwned", 400, []string{"tier", "must be one of compromised, at_risk, targeted"}},
		{"cursor without tier", "/incidents/12?cursor=x", 400, []string{"cursor", "needs the tier"}},
		{"unknown state filter", "/incidents?state=open&kind=ddos", 400, []string{"state", "kind"}},
		{"forged cursor", "/incidents?cursor=forged", 400, []string{"cursor", "not a cursor from this list"}},
		{"account too long", "/accounts/" + strings.Repeat("a", 257), 400, []string{"account"}},
		{"store failure", "/incidents/13", 500, []string{"Internal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newIncidentFixture(t)
			svc.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) {
				switch id {
				case 98:
					return nil, errNoIncident
				case 13:
					return nil, errors.New("disk I/O error: secret detail")
				case 12:
					t.Errorf("service called for a bad request")
				}
				return nil, nil
			}
			svc.ListFn = func(context.Context, firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
				return nil, &firebreak.FieldError{Field: "cursor", Reason: "not a cursor from this list"}
			}
			body := checkPage(t, f.do("GET", tt.path, nil), tt.status)
			containsAll(t, body, tt.wants...)
			if strings.Contains(body, "secret detail") {
				t.Errorf("error page shows internal detail")
			}
		})
	}
}

func TestIncidentPagesWithoutStore(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/incidents", "/incidents/1"} {
		t.Run(path, func(t *testing.T) {
			w := f.do("GET", path, nil)
			containsAll(t, checkPage(t, w, 503), "runs without an incident store")
		})
	}
	if body := f.do("GET", "/", nil).Body.String(); strings.Contains(body, "Open incidents") {
		t.Errorf("overview shows an incident count without an incident service")
	}
}

func TestAccountPage(t *testing.T) {
	f := newFixture(t)
	var got []firebreak.LoginFilter
	f.logins.FindScoredFn = func(_ context.Context, filter firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error) {
		got = append(got, filter)
		if filter.Account == "nobody" {
			return nil, nil
		}
		chg := scored(2, filter.Account, "198.51.100.4", 0, firebreak.Allow)
		chg.Event.Type, chg.Event.DeviceID = firebreak.TypeMFAEnroll, "d-attacker"
		return []*firebreak.ScoredLogin{chg, scored(1, filter.Account, "203.0.113.9", 0.93, firebreak.Deny, "new ASN 64500")}, nil
	}
	t.Run("logins", func(t *testing.T) {
		body := checkPage(t, f.do("GET", "/accounts/u0012345", nil), 200)
		containsAll(t, body, "u0012345", "203.0.113.9", "BR", "0.93", "deny", "new ASN 64500", "2026-03-02 08:59:00")
		logins, changes, ok := strings.Cut(body, `id="changes-h"`)
		if !ok {
			t.Fatal("no account changes section")
		}
		containsAll(t, changes, "mfa enroll", "198.51.100.4", "d-attacker")
		if strings.Contains(logins, "198.51.100.4") || strings.Contains(changes, "203.0.113.9") {
			t.Error("the change is listed with the high-risk logins, or the login with the changes")
		}
	})
	t.Run("account holding a slash", func(t *testing.T) {
		got = nil
		body := checkPage(t, f.do("GET", "/accounts/corp%2Falice", nil), 200)
		want := []firebreak.LoginFilter{{Account: "corp/alice", Limit: 50}}
		if !slices.Equal(got, want) {
			t.Errorf("filters = %+v, want %+v", got, want)
		}
		containsAll(t, body, `href="/accounts/corp%2Falice"`)
	})
	t.Run("no logins", func(t *testing.T) {
		body := checkPage(t, f.do("GET", "/accounts/nobody", nil), 200)
		containsAll(t, body, "No high-risk logins recorded for this account.", "No account changes recorded")
	})
}

func TestDashboardEscapes(t *testing.T) {
	f, svc := newIncidentFixture(t)
	evil := func() *firebreak.Incident {
		inc := incident(5)
		inc.Title, inc.Summary = hostile, hostile
		inc.Sources[0].Evidence = hostile
		return inc
	}
	svc.ListFn = func(context.Context, firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
		return &firebreak.IncidentPage{Incidents: []*firebreak.Incident{evil()}}, nil
	}
	svc.FindFn = func(context.Context, int64) (*firebreak.Incident, error) { return evil(), nil }
	svc.ListAccountsFn = func(_ context.Context, _ int64, filter firebreak.AccountFilter) (*firebreak.AccountPage, error) {
		return &firebreak.AccountPage{Accounts: []firebreak.AffectedAccount{{Account: hostile, Tier: filter.Tier, Evidence: hostile, MovedBy: hostile}}}, nil
	}
	svc.TimelineFn = func(context.Context, int64) ([]firebreak.TimelineEntry, error) {
		return []firebreak.TimelineEntry{{Time: now, Actor: hostile, Kind: "note", Message: hostile}}, nil
	}
	f.logins.FindScoredFn = func(_ context.Context, filter firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error) {
		return []*firebreak.ScoredLogin{scored(1, hostile, "203.0.113.9", 0.9, firebreak.Deny, hostile)}, nil
	}
	for _, path := range []string{"/incidents", "/incidents/5", "/accounts/%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E", "/accounts/%22%3E%3Cimg%20src=x%3E"} {
		t.Run(path, func(t *testing.T) {
			body := checkPage(t, f.do("GET", path, nil), 200)
			if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img") {
				t.Errorf("%s contains unescaped hostile input:\n%s", path, body)
			}
			if !strings.Contains(body, escapedHostile) {
				t.Errorf("%s lacks the escaped hostile text", path)
			}
		})
	}
	t.Run("account link", func(t *testing.T) {
		body := f.do("GET", "/incidents/5", nil).Body.String()
		containsAll(t, body, `href="/accounts/%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E"`)
	})
}

func TestOverviewOpenIncidents(t *testing.T) {
	resolved, merged := incident(3), incident(2)
	resolved.State = firebreak.StateResolved
	merged.MergedInto = 4
	tests := []struct {
		name string
		next string
		err  error
		want string
	}{
		{name: "count", want: `id="open-incidents">2</a>`},
		{name: "more than looked through", next: "c", want: `id="open-incidents">2+</a>`},
		{name: "store failure", err: errors.New("database is locked"), want: "Could not load incidents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newIncidentFixture(t)
			var got firebreak.IncidentFilter
			svc.ListFn = func(_ context.Context, filter firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
				got = filter
				if tt.err != nil {
					return nil, tt.err
				}
				return &firebreak.IncidentPage{Incidents: []*firebreak.Incident{incident(5), incident(4), resolved, merged}, Next: tt.next}, nil
			}
			body := checkPage(t, f.do("GET", "/", nil), 200)
			containsAll(t, body, tt.want)
			if got.Limit < 1 || got.Limit > 1000 || got.State != "" {
				t.Errorf("overview listed incidents with %+v", got)
			}
			if strings.Contains(body, "locked") {
				t.Errorf("overview shows internal detail")
			}
		})
	}
}

func TestPagesRequireToken(t *testing.T) {
	f, svc := newIncidentFixture(t, func(c *fbhttp.Config) { c.Token = "s3cret" })
	svc.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) { return incident(id), nil }
	for _, path := range []string{"/incidents", "/incidents/1", "/accounts/u1"} {
		t.Run(path, func(t *testing.T) {
			if w := f.do("GET", path, nil); w.Code != 401 {
				t.Errorf("without token: %d, want 401", w.Code)
			}
			if w := f.do("GET", path, nil, "Authorization", "Bearer s3cret"); w.Code != 200 {
				t.Errorf("with token: %d, want 200; body %s", w.Code, w.Body)
			}
		})
	}
}
