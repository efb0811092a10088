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
	"firebreak/mock"
)

// newIncidentFixture returns a fixture whose server has a fake incident
// service; set its funcs to script it.
func newIncidentFixture(t testing.TB, opts ...func(*fbhttp.Config)) (*fixture, *mock.IncidentService) {
	t.Helper()
	svc := &mock.IncidentService{}
	withIncidents := func(c *fbhttp.Config) { c.Incidents = svc }
	return newFixture(t, append([]func(*fbhttp.Config){withIncidents}, opts...)...), svc
}

// errorOf decodes an error response and returns its code and the fields its
// field errors name, in order.
func errorOf(t testing.TB, w *httptest.ResponseRecorder) (fbhttp.ErrorResponse, []string) {
	t.Helper()
	res := decode[fbhttp.ErrorResponse](t, w)
	var fields []string
	for _, e := range res.Errors {
		fields = append(fields, e.Field)
	}
	return res, fields
}

// incident returns a stored-looking incident with one source and counts.
func incident(id int64) *firebreak.Incident {
	return &firebreak.Incident{
		ID: id, Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		State: firebreak.StateDetected, Title: "Stuffing from AS 64500", Summary: "1,200 accounts tried",
		FirstSeen: now.Add(-time.Hour), LastSeen: now, OpenedAt: now.Add(-50 * time.Minute), UpdatedAt: now,
		Sources: []firebreak.IncidentSource{{Kind: firebreak.SourceASN, Value: "64500", Attempts: 5000,
			Failures: 4900, Accounts: 1200, Evidence: "98% failures"}},
		Counts: firebreak.TierCounts{Compromised: 3, AtRisk: 7, Targeted: 1190},
	}
}

var errNoIncident = firebreak.Errorf(firebreak.ENOTFOUND, "Incident 99 not found.")

func TestListIncidents(t *testing.T) {
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		query  string
		status int
		filter firebreak.IncidentFilter
		fields []string
	}{
		{name: "defaults", status: 200, filter: firebreak.IncidentFilter{Limit: 50}},
		{name: "every parameter passed through", query: "?state=triaged&kind=password_spraying&since=2026-03-01T00:00:00Z&cursor=abc_-&limit=1000",
			status: 200, filter: firebreak.IncidentFilter{State: firebreak.StateTriaged, Kind: firebreak.KindPasswordSpraying,
				Since: since, Cursor: "abc_-", Limit: 1000}},
		{name: "unknown state", query: "?state=open", status: 400, fields: []string{"state"}},
		{name: "unknown kind", query: "?kind=ddos", status: 400, fields: []string{"kind"}},
		{name: "bad since", query: "?since=yesterday", status: 400, fields: []string{"since"}},
		{name: "limit zero", query: "?limit=0", status: 400, fields: []string{"limit"}},
		{name: "limit too big", query: "?limit=1001", status: 400, fields: []string{"limit"}},
		{name: "cursor too long", query: "?cursor=" + strings.Repeat("c", 1025), status: 400, fields: []string{"cursor"}},
		{name: "every bad parameter named", query: "?state=x&kind=y&since=z&limit=w&cursor=" + strings.Repeat("c", 2000),
			status: 400, fields: []string{"state", "kind", "since", "cursor", "limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newIncidentFixture(t)
			var got *firebreak.IncidentFilter
			svc.ListFn = func(_ context.Context, filter firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
				got = &filter
				inc := incident(7)
				inc.Sources = nil
				return &firebreak.IncidentPage{Incidents: []*firebreak.Incident{inc}, Next: "next-page"}, nil
			}
			w := f.do("GET", "/api/v1/incidents"+tt.query, nil)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				res, fields := errorOf(t, w)
				if res.Code != firebreak.EINVALID || !slices.Equal(fields, tt.fields) || got != nil {
					t.Errorf("error = %+v, service called: %v; want code invalid, fields %q, no call", res, got != nil, tt.fields)
				}
				return
			}
			if got == nil || *got != tt.filter {
				t.Errorf("filter = %+v, want %+v", got, tt.filter)
			}
			page := decode[map[string]any](t, w)
			list, _ := page["incidents"].([]any)
			if len(list) != 1 || page["next"] != "next-page" {
				t.Fatalf("page = %v, want one incident and next", page)
			}
			first := list[0].(map[string]any)
			if first["id"] != 7.0 || first["kind"] != "credential_stuffing" || first["state"] != "detected" {
				t.Errorf("incident = %v", first)
			}
		})
	}
}

func TestListIncidentsEmpty(t *testing.T) {
	f, svc := newIncidentFixture(t)
	svc.ListFn = func(context.Context, firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
		return &firebreak.IncidentPage{}, nil
	}
	w := f.do("GET", "/api/v1/incidents", nil)
	if got, want := strings.TrimSpace(w.Body.String()), `{"incidents":[]}`; w.Code != 200 || got != want {
		t.Errorf("GET /api/v1/incidents = %d %s, want 200 %s", w.Code, got, want)
	}
}

// TestListIncidentsBadCursor checks that the store's refusal of a cursor
// reaches the client as a 400 naming the field.
func TestListIncidentsBadCursor(t *testing.T) {
	f, svc := newIncidentFixture(t)
	svc.ListFn = func(context.Context, firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
		return nil, &firebreak.FieldError{Field: "cursor", Reason: "not a cursor from this list"}
	}
	w := f.do("GET", "/api/v1/incidents?cursor=forged", nil)
	if res, fields := errorOf(t, w); w.Code != 400 || !slices.Equal(fields, []string{"cursor"}) {
		t.Errorf("status = %d, error %+v; want 400 naming cursor", w.Code, res)
	}
}

func TestGetIncident(t *testing.T) {
	f, svc := newIncidentFixture(t)
	var gotID int64
	svc.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) {
		gotID = id
		return incident(id), nil
	}
	w := f.do("GET", "/api/v1/incidents/42", nil)
	if w.Code != 200 || gotID != 42 {
		t.Fatalf("status = %d, id %d; want 200, 42; body %s", w.Code, gotID, w.Body)
	}
	got := decode[map[string]any](t, w)
	counts, _ := got["counts"].(map[string]any)
	sources, _ := got["sources"].([]any)
	if got["id"] != 42.0 || got["severity"] != "high" || counts["compromised"] != 3.0 || counts["at_risk"] != 7.0 || counts["targeted"] != 1190.0 {
		t.Errorf("incident = %v", got)
	}
	if len(sources) != 1 || sources[0].(map[string]any)["value"] != "64500" || sources[0].(map[string]any)["accounts"] != 1200.0 {
		t.Errorf("sources = %v", sources)
	}
}

func TestIncidentErrors(t *testing.T) {
	paths := []string{"/api/v1/incidents/%s", "/api/v1/incidents/%s/accounts", "/api/v1/incidents/%s/timeline"}
	tests := []struct {
		name   string
		id     string
		err    error
		status int
		code   string
	}{
		{name: "id not a number", id: "abc", status: 400, code: firebreak.EINVALID},
		{name: "id zero", id: "0", status: 400, code: firebreak.EINVALID},
		{name: "id negative", id: "-3", status: 400, code: firebreak.EINVALID},
		{name: "id overflows", id: "99999999999999999999", status: 400, code: firebreak.EINVALID},
		{name: "unknown incident", id: "99", err: errNoIncident, status: 404, code: firebreak.ENOTFOUND},
		{name: "storage failure", id: "99", err: errors.New("disk on fire"), status: 500, code: firebreak.EINTERNAL},
	}
	for _, tt := range tests {
		for _, p := range paths {
			target := strings.Replace(p, "%s", tt.id, 1)
			t.Run(tt.name+" "+target, func(t *testing.T) {
				f, svc := newIncidentFixture(t)
				svc.FindFn = func(context.Context, int64) (*firebreak.Incident, error) { return nil, tt.err }
				svc.ListAccountsFn = func(context.Context, int64, firebreak.AccountFilter) (*firebreak.AccountPage, error) {
					return nil, tt.err
				}
				svc.TimelineFn = func(context.Context, int64) ([]firebreak.TimelineEntry, error) { return nil, tt.err }
				w := f.do("GET", target, nil)
				res, fields := errorOf(t, w)
				if w.Code != tt.status || res.Code != tt.code {
					t.Fatalf("status = %d %+v, want %d %s", w.Code, res, tt.status, tt.code)
				}
				if tt.status == 400 && !slices.Equal(fields, []string{"id"}) {
					t.Errorf("fields = %q, want [id]", fields)
				}
				if tt.status == 500 && strings.Contains(res.Error, "disk") {
					t.Errorf("internal detail leaked: %q", res.Error)
				}
			})
		}
	}
}

func TestIncidentAccounts(t *testing.T) {
	tests := []struct {
		name   string
		target string
		status int
		filter firebreak.AccountFilter
		fields []string
	}{
		{name: "defaults", target: "/api/v1/incidents/5/accounts", status: 200, filter: firebreak.AccountFilter{Limit: 50}},
		{name: "every parameter passed through", target: "/api/v1/incidents/5/accounts?tier=at_risk&cursor=xyz&limit=2",
			status: 200, filter: firebreak.AccountFilter{Tier: firebreak.TierAtRisk, Cursor: "xyz", Limit: 2}},
		{name: "unknown tier", target: "/api/v1/incidents/5/accounts?tier=maybe", status: 400, fields: []string{"tier"}},
		{name: "bad limit", target: "/api/v1/incidents/5/accounts?limit=lots", status: 400, fields: []string{"limit"}},
		{name: "bad id and parameters named together", target: "/api/v1/incidents/x/accounts?tier=maybe&limit=0",
			status: 400, fields: []string{"id", "tier", "limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newIncidentFixture(t)
			var gotID int64
			var got firebreak.AccountFilter
			svc.ListAccountsFn = func(_ context.Context, id int64, filter firebreak.AccountFilter) (*firebreak.AccountPage, error) {
				gotID, got = id, filter
				return &firebreak.AccountPage{Accounts: []firebreak.AffectedAccount{{IncidentID: id, Account: "u1",
					Tier: firebreak.TierAtRisk, Confidence: 0.8, Evidence: "success from a campaign source",
					FirstSeen: now, LastSeen: now}}, Counts: firebreak.TierCounts{AtRisk: 1, Targeted: 4}, Next: "more"}, nil
			}
			w := f.do("GET", tt.target, nil)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				if res, fields := errorOf(t, w); !slices.Equal(fields, tt.fields) || gotID != 0 {
					t.Errorf("error = %+v, service id %d; want fields %q, no call", res, gotID, tt.fields)
				}
				return
			}
			if gotID != 5 || got != tt.filter {
				t.Errorf("ListAccounts(%d, %+v), want (5, %+v)", gotID, got, tt.filter)
			}
			page := decode[firebreak.AccountPage](t, w)
			if len(page.Accounts) != 1 || page.Accounts[0].Evidence == "" || page.Accounts[0].Confidence != 0.8 ||
				page.Counts.Targeted != 4 || page.Next != "more" {
				t.Errorf("page = %+v", page)
			}
		})
	}
}

func TestIncidentTimeline(t *testing.T) {
	f, svc := newIncidentFixture(t)
	svc.TimelineFn = func(_ context.Context, id int64) ([]firebreak.TimelineEntry, error) {
		return []firebreak.TimelineEntry{
			{ID: 1, IncidentID: id, Time: now.Add(-time.Hour), Actor: firebreak.SystemActor, Kind: firebreak.EntryOpened, Message: "Opened."},
			{ID: 2, IncidentID: id, Time: now, Actor: fbhttp.APIActor, Kind: firebreak.EntryStateChanged,
				Message: "detected → triaged", Data: map[string]any{"from": "detected", "to": "triaged"}},
		}, nil
	}
	w := f.do("GET", "/api/v1/incidents/3/timeline", nil)
	res := decode[fbhttp.TimelineResponse](t, w)
	if w.Code != 200 || len(res.Entries) != 2 || res.Entries[0].Kind != "opened" || res.Entries[1].Data["to"] != "triaged" || res.Entries[1].IncidentID != 3 {
		t.Errorf("GET timeline = %d %+v", w.Code, res)
	}

	svc.TimelineFn = func(context.Context, int64) ([]firebreak.TimelineEntry, error) { return nil, nil }
	w = f.do("GET", "/api/v1/incidents/3/timeline", nil)
	if got, want := strings.TrimSpace(w.Body.String()), `{"entries":[]}`; got != want {
		t.Errorf("empty timeline = %s, want %s", got, want)
	}
}
