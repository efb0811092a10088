package http_test

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"

	"firebreak"
	fbhttp "firebreak/http"
)

const ctJSON = "application/json"

func TestUpdateIncident(t *testing.T) {
	f, svc := newIncidentFixture(t, func(c *fbhttp.Config) { c.Token = "tok" })
	var gotID int64
	var gotUpd firebreak.IncidentUpdate
	var gotActor string
	svc.UpdateFn = func(_ context.Context, id int64, upd firebreak.IncidentUpdate, actor string) (*firebreak.Incident, error) {
		gotID, gotUpd, gotActor = id, upd, actor
		inc := incident(id)
		inc.State, inc.Severity, inc.Title = *upd.State, *upd.Severity, *upd.Title
		return inc, nil
	}
	body := `{"state":"triaged","severity":"critical","title":"Spraying, 40k accounts"}`
	w := f.do("PATCH", "/api/v1/incidents/8", []byte(body), "Content-Type", ctJSON, "Authorization", "Bearer tok")
	if w.Code != 200 {
		t.Fatalf("PATCH = %d %s", w.Code, w.Body)
	}
	if gotID != 8 || *gotUpd.State != firebreak.StateTriaged || *gotUpd.Severity != firebreak.SeverityCritical ||
		*gotUpd.Title != "Spraying, 40k accounts" {
		t.Errorf("Update(%d, %+v)", gotID, gotUpd)
	}
	if gotActor != fbhttp.APIActor {
		t.Errorf("actor = %q, want %q", gotActor, fbhttp.APIActor)
	}
	got := decode[firebreak.Incident](t, w)
	if got.ID != 8 || got.State != firebreak.StateTriaged || got.Severity != firebreak.SeverityCritical {
		t.Errorf("response = %+v", got)
	}
}

// TestUpdateIncidentPartial checks that absent fields reach the service as
// nil, meaning "leave as it is".
func TestUpdateIncidentPartial(t *testing.T) {
	f, svc := newIncidentFixture(t)
	var got firebreak.IncidentUpdate
	var gotActor string
	svc.UpdateFn = func(_ context.Context, id int64, upd firebreak.IncidentUpdate, actor string) (*firebreak.Incident, error) {
		got, gotActor = upd, actor
		return incident(id), nil
	}
	w := f.do("PATCH", "/api/v1/incidents/8", []byte(`{"severity":"low"}`), "Content-Type", ctJSON)
	if w.Code != 200 || got.State != nil || got.Title != nil || got.Severity == nil || *got.Severity != firebreak.SeverityLow {
		t.Errorf("PATCH = %d, update %+v", w.Code, got)
	}
	if gotActor != fbhttp.APIActor {
		t.Errorf("actor on an open API = %q, want %q", gotActor, fbhttp.APIActor)
	}
}

func TestUpdateIncidentErrors(t *testing.T) {
	tests := []struct {
		name   string
		target string
		body   string
		ct     string
		err    error // from the service
		status int
		fields []string
		msg    string // the error message contains it
	}{
		{name: "bad id", target: "/api/v1/incidents/x", body: `{"state":"triaged"}`, status: 400, fields: []string{"id"}},
		{name: "unknown state", body: `{"state":"closed"}`, status: 400, fields: []string{"state"}},
		{name: "unknown severity", body: `{"severity":"meh"}`, status: 400, fields: []string{"severity"}},
		{name: "empty title", body: `{"title":""}`, status: 400, fields: []string{"title"}},
		{name: "title too long", body: `{"title":"` + strings.Repeat("t", 201) + `"}`, status: 400, fields: []string{"title"}},
		{name: "nothing to update", body: `{}`, status: 400, fields: []string{""}, msg: "nothing to update"},
		{name: "unknown field", body: `{"state":"triaged","owner":"eve"}`, status: 400, fields: []string{"owner"}},
		{name: "wrong type", body: `{"severity":3}`, status: 400, fields: []string{"severity"}},
		{name: "not JSON", body: `{"state":`, status: 400, msg: "not valid JSON"},
		{name: "not an object", body: `["triaged"]`, status: 400, msg: "JSON object"},
		{name: "two values", body: `{"state":"triaged"}{"state":"resolved"}`, status: 400, msg: "more than one"},
		{name: "empty body", body: ``, status: 400, msg: "empty"},
		{name: "too large", body: `{"title":"` + strings.Repeat("t", 70<<10) + `"}`, status: 413},
		{name: "wrong content type", body: `{"state":"triaged"}`, ct: "text/plain", status: 415},
		{name: "unknown incident", body: `{"state":"triaged"}`, err: errNoIncident, status: 404},
		{name: "refused transition", body: `{"state":"recovered"}`,
			err: firebreak.CanTransition(firebreak.StateDetected, firebreak.StateRecovered), status: 409, msg: "triaged, resolved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newIncidentFixture(t)
			called := false
			svc.UpdateFn = func(context.Context, int64, firebreak.IncidentUpdate, string) (*firebreak.Incident, error) {
				called = true
				return nil, tt.err
			}
			target, ct := cmp.Or(tt.target, "/api/v1/incidents/8"), cmp.Or(tt.ct, ctJSON)
			w := f.do("PATCH", target, []byte(tt.body), "Content-Type", ct)
			res, fields := errorOf(t, w)
			if w.Code != tt.status || !slices.Equal(fields, tt.fields) || !strings.Contains(res.Error, tt.msg) {
				t.Errorf("status = %d %+v; want %d, fields %q, message with %q", w.Code, res, tt.status, tt.fields, tt.msg)
			}
			if called != (tt.err != nil) {
				t.Errorf("service called = %v, want %v", called, tt.err != nil)
			}
		})
	}
}

func TestMoveAccount(t *testing.T) {
	f, svc := newIncidentFixture(t)
	var gotID int64
	var got firebreak.TierMove
	svc.MoveAccountFn = func(_ context.Context, id int64, move firebreak.TierMove) (*firebreak.AffectedAccount, error) {
		gotID, got = id, move
		return &firebreak.AffectedAccount{IncidentID: id, Account: move.Account, Tier: move.To, Confidence: 1,
			Evidence: "moved", FirstSeen: now, LastSeen: now, MovedBy: move.Actor}, nil
	}
	body := `{"tier":"targeted","reason":"Password was reset before the attempt."}`
	w := f.do("POST", "/api/v1/incidents/4/accounts/ann%2Fb@example.com/move", []byte(body), "Content-Type", ctJSON)
	if w.Code != 200 {
		t.Fatalf("move = %d %s", w.Code, w.Body)
	}
	want := firebreak.TierMove{Account: "ann/b@example.com", To: firebreak.TierTargeted,
		Reason: "Password was reset before the attempt.", Actor: fbhttp.APIActor}
	if gotID != 4 || got != want {
		t.Errorf("MoveAccount(%d, %+v), want (4, %+v)", gotID, got, want)
	}
	res := decode[map[string]any](t, w)
	if res["account"] != "ann/b@example.com" || res["tier"] != "targeted" || res["moved_by"] != "api" {
		t.Errorf("response = %v", res)
	}
}

func TestMoveAccountErrors(t *testing.T) {
	tests := []struct {
		name   string
		target string
		body   string
		err    error
		status int
		fields []string
	}{
		{name: "bad id", target: "/api/v1/incidents/0/accounts/u1/move", body: `{"tier":"targeted","reason":"r"}`, status: 400, fields: []string{"id"}},
		{name: "unknown tier", body: `{"tier":"safe","reason":"r"}`, status: 400, fields: []string{"tier"}},
		{name: "missing tier", body: `{"reason":"r"}`, status: 400, fields: []string{"tier"}},
		{name: "missing reason", body: `{"tier":"targeted"}`, status: 400, fields: []string{"reason"}},
		{name: "account too long", target: "/api/v1/incidents/4/accounts/" + strings.Repeat("a", 300) + "/move",
			body: `{"tier":"targeted","reason":"r"}`, status: 400, fields: []string{"account"}},
		{name: "unknown field", body: `{"tier":"targeted","reason":"r","to":"compromised"}`, status: 400, fields: []string{"to"}},
		{name: "unknown account", body: `{"tier":"targeted","reason":"r"}`,
			err: firebreak.Errorf(firebreak.ENOTFOUND, `Account "u1" is not in incident 4.`), status: 404},
		{name: "same tier", body: `{"tier":"targeted","reason":"r"}`,
			err: firebreak.Errorf(firebreak.ECONFLICT, "Account u1 is already targeted."), status: 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, svc := newIncidentFixture(t)
			called := false
			svc.MoveAccountFn = func(context.Context, int64, firebreak.TierMove) (*firebreak.AffectedAccount, error) {
				called = true
				return nil, tt.err
			}
			target := cmp.Or(tt.target, "/api/v1/incidents/4/accounts/u1/move")
			w := f.do("POST", target, []byte(tt.body), "Content-Type", ctJSON)
			res, fields := errorOf(t, w)
			if w.Code != tt.status || !slices.Equal(fields, tt.fields) {
				t.Errorf("status = %d %+v; want %d, fields %q", w.Code, res, tt.status, tt.fields)
			}
			if called != (tt.err != nil) {
				t.Errorf("service called = %v, want %v", called, tt.err != nil)
			}
		})
	}
}

// incidentRoutes is one request to each incident route.
var incidentRoutes = []struct{ method, target, body string }{
	{"GET", "/api/v1/incidents", ""},
	{"GET", "/api/v1/incidents/1", ""},
	{"PATCH", "/api/v1/incidents/1", `{"state":"triaged"}`},
	{"GET", "/api/v1/incidents/1/accounts", ""},
	{"POST", "/api/v1/incidents/1/accounts/u1/move", `{"tier":"targeted","reason":"r"}`},
	{"GET", "/api/v1/incidents/1/timeline", ""},
}

func TestIncidentsRequireToken(t *testing.T) {
	f, _ := newIncidentFixture(t, func(c *fbhttp.Config) { c.Token = "tok" })
	for _, rt := range incidentRoutes {
		t.Run(rt.method+" "+rt.target, func(t *testing.T) {
			w := f.do(rt.method, rt.target, []byte(rt.body), "Content-Type", ctJSON)
			if res, _ := errorOf(t, w); w.Code != 401 || res.Code != firebreak.EUNAUTHORIZED {
				t.Errorf("without token: %d %+v, want 401", w.Code, res)
			}
			w = f.do(rt.method, rt.target, []byte(rt.body), "Content-Type", ctJSON, "Authorization", "Bearer wrong")
			if w.Code != 401 {
				t.Errorf("wrong token: %d, want 401", w.Code)
			}
		})
	}
}

func TestIncidentsUnavailable(t *testing.T) {
	f := newFixture(t) // no incident service
	for _, rt := range incidentRoutes {
		t.Run(rt.method+" "+rt.target, func(t *testing.T) {
			w := f.do(rt.method, rt.target, []byte(rt.body), "Content-Type", ctJSON)
			res, _ := errorOf(t, w)
			if w.Code != 503 || res.Code != firebreak.EUNAVAILABLE || !strings.Contains(res.Error, "incident store") {
				t.Errorf("%d %+v, want 503 naming the incident store", w.Code, res)
			}
		})
	}
}
