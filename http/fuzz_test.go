package http_test

import (
	"net/http/httptest"
	"testing"

	fbhttp "firebreak/http"
)

// FuzzEvents checks that no body makes POST /api/v1/events fail with a
// server error, and that the counts always add up.
func FuzzEvents(f *testing.F) {
	for _, seed := range []string{
		event("u1"),
		string(lines(event("u1"), "bad", event("u2"))),
		"\xEF\xBB\xBF" + event("u1"),
		`{"time":"2026-03-02T08:15:04Z","account":"u1","outcome":"success","ip":"::ffff:1.2.3.4"}`,
		`{"time":"NaN","account":[[[[[[[]]]]]]],"lat":1e999}`,
		"\x00\n\r\n{}",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	fx := newFixture(f, func(c *fbhttp.Config) { c.MaxEvents = 50; c.MaxBodyBytes = 1 << 16 })
	fx.engine.IngestFn = nil // accept without keeping
	h := fx.server.Handler()
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ct := "application/x-ndjson"
		if asJSON {
			ct = "application/json"
		}
		w := serve(h, "POST", "/api/v1/events", body, "Content-Type", ct)
		switch w.Code {
		case 202, 400, 413:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		res := decode[fbhttp.EventsResponse](t, w)
		if res.Accepted < 0 || res.Rejected < len(res.Errors) || (w.Code != 202 && res.Accepted != 0) {
			t.Fatalf("inconsistent response %+v for %q", res, body)
		}
	})
}

// FuzzLoginsQuery checks that no query string makes GET /api/v1/logins fail
// with anything but 200 or a 400 naming the fields.
func FuzzLoginsQuery(f *testing.F) {
	for _, seed := range []string{"", "limit=10", "limit=0&min_decision=x", "since=2026-01-01T00:00:00Z", "account=%00", "limit=99999999999999999999"} {
		f.Add(seed)
	}
	h := newFixture(f).server.Handler()
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/api/v1/logins", nil)
		r.Header.Set("Authorization", "Bearer "+testToken)
		r.URL.RawQuery = query
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200:
		case 400:
			if res := decode[fbhttp.ErrorResponse](t, w); len(res.Errors) == 0 {
				t.Fatalf("400 without field errors for %q: %s", query, w.Body)
			}
		default:
			t.Fatalf("status %d for %q", w.Code, query)
		}
	})
}
