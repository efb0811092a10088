package http_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"firebreak"
)

// FuzzDashboardQuery checks that no query string makes the incident pages
// answer anything but 200 or a 400 page, and that whatever reaches the
// service passes the domain's own validation.
func FuzzDashboardQuery(f *testing.F) {
	for _, seed := range []string{"", "state=triaged&kind=brute_force", "tier=at_risk&cursor=abc", "cursor=x",
		"tier=bogus", "limit=0&state=x", "cursor=%00&tier=targeted"} {
		f.Add(seed)
	}
	fx, svc := newIncidentFixture(f)
	svc.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) { return incident(id), nil }
	svc.ListFn = func(_ context.Context, filter firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
		return &firebreak.IncidentPage{Next: filter.Cursor + "n"}, filter.Validate()
	}
	svc.ListAccountsFn = func(_ context.Context, _ int64, filter firebreak.AccountFilter) (*firebreak.AccountPage, error) {
		return &firebreak.AccountPage{Next: filter.Cursor + "n"}, filter.Validate()
	}
	h := fx.server.Handler()
	f.Fuzz(func(t *testing.T, query string) {
		for _, path := range []string{"/incidents", "/incidents/1"} {
			r := httptest.NewRequest("GET", path, nil)
			r.Header.Set("Authorization", "Bearer "+testToken)
			r.URL.RawQuery = query
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 && w.Code != 400 {
				t.Fatalf("%s?%s: status %d: %s", path, query, w.Code, w.Body)
			}
		}
	})
}
