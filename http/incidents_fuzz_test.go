package http_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"firebreak"
)

// FuzzIncidentsQuery checks that no query string makes the incident and
// account lists answer anything but 200 or a 400 naming the fields, and that
// whatever reaches the service passes the domain's own validation.
func FuzzIncidentsQuery(f *testing.F) {
	for _, seed := range []string{"", "state=triaged&kind=brute_force", "limit=0&state=x", "since=2026-01-01T00:00:00Z",
		"tier=at_risk&cursor=abc", "limit=99999999999999999999", "cursor=%00", "state=detected&state=bogus"} {
		f.Add(seed)
	}
	fx, svc := newIncidentFixture(f)
	svc.ListFn = func(_ context.Context, filter firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
		return &firebreak.IncidentPage{}, filter.Validate()
	}
	svc.ListAccountsFn = func(_ context.Context, _ int64, filter firebreak.AccountFilter) (*firebreak.AccountPage, error) {
		return &firebreak.AccountPage{}, filter.Validate()
	}
	h := fx.server.Handler()
	f.Fuzz(func(t *testing.T, query string) {
		for _, path := range []string{"/api/v1/incidents", "/api/v1/incidents/1/accounts"} {
			r := httptest.NewRequest("GET", path, nil)
			r.Header.Set("Authorization", "Bearer "+testToken)
			r.URL.RawQuery = query
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			switch w.Code {
			case 200:
			case 400:
				if res, fields := errorOf(t, w); len(fields) == 0 {
					t.Fatalf("%s: 400 without field errors for %q: %+v", path, query, res)
				}
			default:
				t.Fatalf("%s: status %d for %q: %s", path, w.Code, query, w.Body)
			}
		}
	})
}

// FuzzIncidentBodies checks that no body makes PATCH or a tier move fail
// with a server error, and that whatever reaches the service is valid.
func FuzzIncidentBodies(f *testing.F) {
	for _, seed := range []string{`{"state":"triaged"}`, `{"tier":"targeted","reason":"r"}`, `{}`, `null`, `[]`,
		`{"state":null,"title":"\u0000"}`, `{"severity":"high"} x`, `{"tier":1e999}`, "\xff"} {
		f.Add([]byte(seed))
	}
	fx, svc := newIncidentFixture(f)
	svc.UpdateFn = func(_ context.Context, id int64, upd firebreak.IncidentUpdate, actor string) (*firebreak.Incident, error) {
		return incident(id), upd.Validate()
	}
	svc.MoveAccountFn = func(_ context.Context, id int64, move firebreak.TierMove) (*firebreak.AffectedAccount, error) {
		return &firebreak.AffectedAccount{IncidentID: id, Account: move.Account, Tier: move.To}, move.Validate()
	}
	h := fx.server.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, rt := range []struct{ method, path string }{
			{"PATCH", "/api/v1/incidents/1"}, {"POST", "/api/v1/incidents/1/accounts/u1/move"},
		} {
			w := serve(h, rt.method, rt.path, body, "Content-Type", "application/json")
			switch w.Code {
			case 200, 400, 413:
			default:
				t.Fatalf("%s %s: status %d for %q: %s", rt.method, rt.path, w.Code, body, w.Body)
			}
		}
	})
}
