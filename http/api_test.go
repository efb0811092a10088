package http_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
)

func TestStats(t *testing.T) {
	f := newFixture(t)
	want := firebreak.EngineStats{Events: 1234, Accounts: 99, Decisions: map[string]int64{"allow": 1000, "challenge": 9},
		Challenged: 0.009, Budget: 0.01, Thresholds: firebreak.Thresholds{Challenge: 0.7, Source: "budget"}, Ready: true}
	f.engine.StatsFn = func() firebreak.EngineStats { return want }
	w := f.do("GET", "/api/v1/stats", nil)
	got := decode[firebreak.EngineStats](t, w)
	if w.Code != 200 || got.Events != want.Events || got.Decisions["challenge"] != 9 || got.Thresholds != want.Thresholds {
		t.Errorf("GET /api/v1/stats = %d %+v, want %+v", w.Code, got, want)
	}
}

func TestLogins(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		status int
		filter firebreak.LoginFilter
		fields []string // of the field errors, in order
	}{
		{name: "defaults", query: "", status: 200, filter: firebreak.LoginFilter{Limit: 50}},
		{name: "all parameters", query: "?account=u1&min_decision=challenge&limit=10&since=2026-03-01T00:00:00Z", status: 200,
			filter: firebreak.LoginFilter{Account: "u1", MinDecision: firebreak.Challenge, Limit: 10, Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "limit bounds", query: "?limit=1000", status: 200, filter: firebreak.LoginFilter{Limit: 1000}},
		{name: "limit zero", query: "?limit=0", status: 400, fields: []string{"limit"}},
		{name: "limit too big", query: "?limit=1001", status: 400, fields: []string{"limit"}},
		{name: "limit not a number", query: "?limit=ten", status: 400, fields: []string{"limit"}},
		{name: "every bad parameter named", query: "?min_decision=maybe&since=yesterday&limit=-1&account=" + strings.Repeat("a", 300),
			status: 400, fields: []string{"account", "min_decision", "since", "limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var got firebreak.LoginFilter
			f.logins.FindScoredFn = func(_ context.Context, filter firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error) {
				got = filter
				return []*firebreak.ScoredLogin{scored(7, "u1", "203.0.113.9", 0.93, firebreak.Deny, "new country")}, nil
			}
			w := f.do("GET", "/api/v1/logins"+tt.query, nil)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				res := decode[fbhttp.ErrorResponse](t, w)
				var fields []string
				for _, e := range res.Errors {
					fields = append(fields, e.Field)
				}
				if res.Code != firebreak.EINVALID || !slices.Equal(fields, tt.fields) {
					t.Errorf("error = %+v, want code invalid and fields %q", res, tt.fields)
				}
				return
			}
			if got != tt.filter {
				t.Errorf("filter = %+v, want %+v", got, tt.filter)
			}
			res := decode[fbhttp.LoginsResponse](t, w)
			if len(res.Logins) != 1 || res.Logins[0].Decision != "deny" || res.Logins[0].IP != "203.0.113.9" || res.Logins[0].Seq != 7 {
				t.Errorf("logins = %+v", res.Logins)
			}
		})
	}
}

// An account change is listed with its type; a login has none.
func TestLoginsListChanges(t *testing.T) {
	f := newFixture(t)
	chg := scored(8, "u1", "203.0.113.9", 0, firebreak.Allow)
	chg.Event.Type = firebreak.TypeRecoveryChange
	f.logins.FindScoredFn = func(context.Context, firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error) {
		return []*firebreak.ScoredLogin{chg, scored(7, "u1", "203.0.113.9", 0.93, firebreak.Deny, "new country")}, nil
	}
	w := f.do("GET", "/api/v1/logins?account=u1", nil)
	res := decode[fbhttp.LoginsResponse](t, w)
	if len(res.Logins) != 2 || res.Logins[0].Type != firebreak.TypeRecoveryChange || res.Logins[1].Type != "" {
		t.Fatalf("logins = %+v, want the change typed and the login not", res.Logins)
	}
	if strings.Contains(w.Body.String(), `"type":""`) {
		t.Errorf("body %s: a login carries an empty type", w.Body)
	}
}

func TestLoginsErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		status int
	}{
		{"invalid filter from the store", firebreak.Errorf(firebreak.EINVALID, "Bad filter."), 400},
		{"store failure", errors.New("database is locked"), 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.logins.FindScoredFn = func(context.Context, firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error) { return nil, tt.err }
			w := f.do("GET", "/api/v1/logins", nil)
			if w.Code != tt.status || strings.Contains(w.Body.String(), "locked") {
				t.Errorf("status = %d, body %s; want %d without detail", w.Code, w.Body, tt.status)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	withToken := func(c *fbhttp.Config) { c.Token = "s3cret-token" }
	tests := []struct {
		name   string
		method string
		path   string
		auth   string
		status int
	}{
		{"no token", "GET", "/api/v1/stats", "", 401},
		{"wrong token", "GET", "/api/v1/stats", "Bearer s3cret-tokeN", 401},
		{"token prefix", "GET", "/api/v1/stats", "Bearer s3cret", 401},
		{"wrong scheme", "GET", "/api/v1/stats", "Basic s3cret-token", 401},
		{"right token", "GET", "/api/v1/stats", "Bearer s3cret-token", 200},
		{"scheme is case-insensitive", "GET", "/api/v1/stats", "bearer s3cret-token", 200},
		{"events need the token", "POST", "/api/v1/events", "", 401},
		{"score needs the token", "POST", "/api/v1/score", "", 401},
		{"logins need the token", "GET", "/api/v1/logins", "", 401},
		{"stream needs the token", "GET", "/api/v1/stream", "", 401},
		{"page needs the token", "GET", "/", "", 401},
		{"partial needs the token", "GET", "/partials/risky", "", 401},
		{"healthz is open", "GET", "/healthz", "", 200},
		{"readyz is open", "GET", "/readyz", "", 200},
		{"metrics are open", "GET", "/metrics", "", 200},
		{"openapi is open", "GET", "/api/v1/openapi.yaml", "", 200},
		{"healthz ignores a wrong token", "GET", "/healthz", "Bearer nope", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, withToken)
			w := f.do(tt.method, tt.path, nil, "Authorization", tt.auth)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 401 {
				return
			}
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if tt.path == "/" {
				// A page: without operators to sign in, a 401 page.
				if !strings.Contains(w.Body.String(), "<html") {
					t.Errorf("page 401 is not HTML: %s", w.Body)
				}
				return
			}
			checkError(t, decode[fbhttp.ErrorResponse](t, w), firebreak.EUNAUTHORIZED, "")
		})
	}
}

// TestClosedWithoutOperators checks that a server with neither operators
// nor a static token lets nobody in, and says how to create the first admin.
func TestClosedWithoutOperators(t *testing.T) {
	f := newFixture(t, func(c *fbhttp.Config) { c.Token = "" })
	for _, path := range []string{"/api/v1/stats", "/", "/incidents"} {
		w := f.do("GET", path, nil, "Authorization", "")
		if w.Code != 401 || !strings.Contains(w.Body.String(), "firebreak operator add") {
			t.Errorf("GET %s = %d %s, want 401 saying how to create the first admin", path, w.Code, w.Body)
		}
	}
	if w := f.do("GET", "/healthz", nil, "Authorization", ""); w.Code != 200 {
		t.Errorf("GET /healthz = %d, want 200", w.Code)
	}
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		ready      bool
		status     int
		body       string
		retryAfter string
	}{
		{"alive while replaying", "/healthz", false, 200, "ok\n", ""},
		{"ready", "/readyz", true, 200, "ready\n", ""},
		{"not ready", "/readyz", false, 503, "not ready: replaying the journal\n", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.engine.StatsFn = func() firebreak.EngineStats { return firebreak.EngineStats{Ready: tt.ready} }
			w := f.do("GET", tt.path, nil)
			if w.Code != tt.status || w.Body.String() != tt.body || w.Header().Get("Retry-After") != tt.retryAfter {
				t.Errorf("GET %s = %d %q Retry-After %q; want %d %q %q", tt.path, w.Code, w.Body, w.Header().Get("Retry-After"), tt.status, tt.body, tt.retryAfter)
			}
		})
	}
}

func TestUnknownRoute(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct{ method, path string }{{"GET", "/nope"}, {"DELETE", "/api/v1/events"}} {
		if w := f.do(tt.method, tt.path, nil); w.Code != 404 && w.Code != 405 {
			t.Errorf("%s %s = %d, want 404 or 405", tt.method, tt.path, w.Code)
		}
	}
}

func TestOpen(t *testing.T) {
	t.Run("says how to get in when nobody can", func(t *testing.T) {
		var logs strings.Builder
		f := newFixture(t, func(c *fbhttp.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)); c.Token = "" })
		openServer(t, f)
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "firebreak operator add") {
			t.Errorf("log = %q, want a warning saying how to create the first admin", logs.String())
		}
		if !strings.HasPrefix(f.server.URL(), "http://127.0.0.1:") || strings.HasSuffix(f.server.URL(), ":0") {
			t.Errorf("URL = %q, want the real loopback address", f.server.URL())
		}
	})
	t.Run("quiet with a token", func(t *testing.T) {
		var logs strings.Builder
		f := newFixture(t, func(c *fbhttp.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)); c.Token = "t" })
		openServer(t, f)
		if strings.Contains(logs.String(), "WARN") {
			t.Errorf("log = %q, want no warning", logs.String())
		}
	})
	t.Run("missing services", func(t *testing.T) {
		s := fbhttp.NewServer(fbhttp.Config{})
		defer s.Close()
		if err := s.Open("127.0.0.1:0"); err == nil {
			t.Error("Open without services: no error")
		}
	})
	t.Run("registry shared by two servers", func(t *testing.T) {
		first := newFixture(t)
		second := newFixture(t, func(c *fbhttp.Config) { c.Registry = first.registry })
		if err := second.server.Open("127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "register metrics") {
			t.Errorf("Open = %v, want a metrics registration error", err)
		}
	})
}
