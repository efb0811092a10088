package http_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"firebreak"
	fbhttp "firebreak/http"
)

func TestScore(t *testing.T) {
	verdict := firebreak.Assessment{Score: 0.91, Decision: firebreak.Challenge, Reasons: []string{"country BR never seen in 212 earlier logins of this account"}}
	thresholds := firebreak.Thresholds{Challenge: 0.7, Deny: 0.97, Source: "budget", Observed: 5000}
	tests := []struct {
		name       string
		headers    []string
		body       []byte
		scoreErr   error
		status     int
		code       string
		field      string // of the first field error
		retryAfter string
	}{
		{name: "verdict", body: []byte(event("u1")), status: 200},
		{name: "gzip", headers: []string{"Content-Encoding", "gzip"}, body: gzipped(t, []byte(event("u1"))), status: 200},
		{name: "bad field", body: []byte(`{"time":"2026-03-02T08:15:04Z","account":"u1","outcome":"success","ip":"fe80::1%eth0"}`),
			status: 400, code: firebreak.EINVALID, field: "ip"},
		{name: "two events", body: lines(event("u1"), event("u2")), status: 400, code: firebreak.EINVALID},
		{name: "explicit login", body: []byte(`{"time":"2026-03-02T08:15:04Z","account":"u1","outcome":"success","ip":"81.23.4.56","type":"login"}`),
			status: 200},
		{name: "unknown type", body: []byte(`{"time":"2026-03-02T08:15:04Z","account":"u1","outcome":"success","ip":"81.23.4.56","type":"logout"}`),
			status: 400, code: firebreak.EINVALID, field: "type"},
		{name: "empty", body: nil, status: 400, code: firebreak.EINVALID},
		{name: "NDJSON content type", headers: []string{"Content-Type", "application/x-ndjson"}, body: []byte(event("u1")),
			status: 415, code: firebreak.EUNSUPPORTED},
		{name: "too large", body: []byte(`{"account":"` + strings.Repeat("a", 70<<10) + `"}`), status: 413, code: firebreak.ETOOLARGE},
		{name: "overloaded", body: []byte(event("u1")), scoreErr: firebreak.Errorf(firebreak.ETOOMANYREQUEST, "Busy."),
			status: 429, code: firebreak.ETOOMANYREQUEST, retryAfter: "1"},
		{name: "unavailable", body: []byte(event("u1")), scoreErr: firebreak.Errorf(firebreak.EUNAVAILABLE, "Replaying."),
			status: 503, code: firebreak.EUNAVAILABLE, retryAfter: "1"},
		{name: "internal", body: []byte(event("u1")), scoreErr: errors.New("secret detail"), status: 500, code: firebreak.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var got firebreak.Event
			f.engine.ScoreFn = func(_ context.Context, e firebreak.Event) (firebreak.Assessment, firebreak.Thresholds, error) {
				got = e
				return verdict, thresholds, tt.scoreErr
			}
			w := f.do("POST", "/api/v1/score", tt.body, append([]string{"Content-Type", "application/json"}, tt.headers...)...)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if got, want := w.Header().Get("Retry-After"), tt.retryAfter; got != want {
				t.Errorf("Retry-After = %q, want %q", got, want)
			}
			if tt.status != 200 {
				checkError(t, decode[fbhttp.ErrorResponse](t, w), tt.code, tt.field)
				return
			}
			res := decode[fbhttp.ScoreResponse](t, w)
			if res.Score != 0.91 || res.Decision != "challenge" || !slices.Equal(res.Reasons, verdict.Reasons) || res.Thresholds != thresholds {
				t.Errorf("response = %+v", res)
			}
			if got.Account != "u1" || got.IP.String() != "81.23.4.56" {
				t.Errorf("scored event = %+v", got)
			}
		})
	}
}

// TestScoreRefusesAccountChanges: an account change has no login to decide
// on. It is refused with a field error that says where to send it, and the
// engine (which journals what it scores) never sees it.
func TestScoreRefusesAccountChanges(t *testing.T) {
	for _, typ := range firebreak.EventTypes {
		if typ == firebreak.TypeLogin {
			continue
		}
		t.Run(typ, func(t *testing.T) {
			f := newFixture(t)
			scored := false
			f.engine.ScoreFn = func(context.Context, firebreak.Event) (firebreak.Assessment, firebreak.Thresholds, error) {
				scored = true
				return firebreak.Assessment{}, firebreak.Thresholds{}, nil
			}
			body := `{"time":"2026-03-02T08:15:04Z","account":"u1","outcome":"success","ip":"81.23.4.56","type":"` + typ + `"}`
			w := f.do("POST", "/api/v1/score", []byte(body), "Content-Type", "application/json")
			if w.Code != 400 {
				t.Fatalf("status = %d, want 400; body %s", w.Code, w.Body)
			}
			res := decode[fbhttp.ErrorResponse](t, w)
			checkError(t, res, firebreak.EINVALID, "type")
			if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Reason, "/api/v1/events") || res.Errors[0].Line != 0 {
				t.Errorf("errors = %+v, want line 0 pointing to /api/v1/events", res.Errors)
			}
			if scored {
				t.Error("the account change reached the engine")
			}
		})
	}
}

// TestScoreReasonsNeverNull checks that a verdict without reasons still has
// an array, so that clients can iterate without a null check.
func TestScoreReasonsNeverNull(t *testing.T) {
	f := newFixture(t)
	w := f.do("POST", "/api/v1/score", []byte(event("u1")), "Content-Type", "application/json")
	if !strings.Contains(w.Body.String(), `"reasons":[]`) || !strings.Contains(w.Body.String(), `"decision":"allow"`) {
		t.Errorf("body = %s, want an empty reasons array and decision allow", w.Body)
	}
}

// checkError checks an error response's code, message and first field.
func checkError(t *testing.T, res fbhttp.ErrorResponse, code, field string) {
	t.Helper()
	if res.Code != code {
		t.Errorf("code = %q, want %q", res.Code, code)
	}
	if res.Error == "" {
		t.Errorf("empty error message")
	}
	if code == firebreak.EINTERNAL && res.Error != "Internal error." {
		t.Errorf("internal error message = %q, want the generic one", res.Error)
	}
	if field != "" && (len(res.Errors) == 0 || res.Errors[0].Field != field) {
		t.Errorf("errors = %+v, want first field %q", res.Errors, field)
	}
}
