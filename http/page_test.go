package http_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"firebreak"
)

func pageFixture(t *testing.T, logins ...*firebreak.ScoredLogin) *fixture {
	f := newFixture(t)
	f.engine.StatsFn = func() firebreak.EngineStats {
		return firebreak.EngineStats{Events: 48213, Accounts: 1200, Decisions: map[string]int64{"allow": 40000, "challenge": 380, "deny": 21},
			Challenged: 0.0099, Budget: 0.01, Thresholds: firebreak.Thresholds{Challenge: 0.734, Deny: 0.981, Source: "budget", Observed: 40401}, Ready: true}
	}
	f.logins.FindScoredFn = func(_ context.Context, filter firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error) {
		if filter.MinDecision != firebreak.Challenge {
			t.Errorf("page asked for min decision %v, want challenge", filter.MinDecision)
		}
		return logins, nil
	}
	return f
}

func TestPage(t *testing.T) {
	f := pageFixture(t, scored(1, "u0012345", "203.0.113.9", 0.93, firebreak.Deny, "country BR never seen in 212 earlier logins of this account"))
	w := f.do("GET", "/", nil)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	for _, want := range []string{
		"48,213", "40,000", "1,200", ">380<", "0.99%", "1.00%", "0.73", "0.98", "budget", "40,401",
		"u0012345", "203.0.113.9", "BR", "0.93", "deny", "country BR never seen in 212 earlier logins of this account",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("page refers to an external URL")
	}
}

func TestPageEscapes(t *testing.T) {
	hostile := `<script>alert("x")</script>`
	f := pageFixture(t, scored(1, hostile, "203.0.113.9", 0.93, firebreak.Deny, "new device "+hostile, `"><img src=x onerror=alert(1)>`))
	for _, path := range []string{"/", "/partials/risky"} {
		t.Run(path, func(t *testing.T) {
			body := f.do("GET", path, nil).Body.String()
			if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img") {
				t.Errorf("%s contains unescaped hostile input:\n%s", path, body)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
				t.Errorf("%s lacks the escaped account name", path)
			}
		})
	}
}

func TestRiskyPartial(t *testing.T) {
	t.Run("rows", func(t *testing.T) {
		f := pageFixture(t, scored(2, "u2", "198.51.100.7", 0.81, firebreak.Challenge, "new ASN"), scored(1, "u1", "203.0.113.9", 0.95, firebreak.Deny))
		body := f.do("GET", "/partials/risky", nil).Body.String()
		if got, want := strings.Count(body, "<tr>"), 2; got != want {
			t.Errorf("%d rows, want %d:\n%s", got, want, body)
		}
		if strings.Index(body, "u2") > strings.Index(body, "u1") {
			t.Errorf("rows are not in the store's order (newest first)")
		}
		if strings.Contains(body, "<html") {
			t.Errorf("partial is a whole page")
		}
	})
	t.Run("empty", func(t *testing.T) {
		body := pageFixture(t).do("GET", "/partials/risky", nil).Body.String()
		if !strings.Contains(body, "No high-risk logins yet.") {
			t.Errorf("empty partial = %q", body)
		}
	})
	t.Run("store failure", func(t *testing.T) {
		f := pageFixture(t)
		f.logins.FindScoredFn = func(context.Context, firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error) {
			return nil, errors.New("database is locked")
		}
		if w := f.do("GET", "/partials/risky", nil); w.Code != 500 {
			t.Errorf("partial status = %d, want 500", w.Code)
		}
		w := f.do("GET", "/", nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "Could not load high-risk logins") || strings.Contains(w.Body.String(), "locked") {
			t.Errorf("page with a failing store = %d; want 200 with a generic notice", w.Code)
		}
	})
}

func TestAssets(t *testing.T) {
	f := pageFixture(t)
	page := f.do("GET", "/", nil).Body.String()
	urls := regexp.MustCompile(`/assets/[a-z]+\.[0-9a-f]{12}\.(css|js)`).FindAllString(page, -1)
	if len(urls) != 2 {
		t.Fatalf("page links %d hashed assets, want 2: %q", len(urls), urls)
	}
	for _, u := range urls {
		w := f.do("GET", u, nil)
		if w.Code != 200 || w.Body.Len() == 0 {
			t.Errorf("GET %s = %d", u, w.Code)
		}
		if got := w.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Errorf("GET %s Cache-Control = %q", u, got)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") && !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("GET %s Content-Type = %q", u, ct)
		}
	}
	for _, path := range []string{"/assets/app.css", "/assets/app.000000000000.css", "/assets/..%2fhttp.go"} {
		if w := f.do("GET", path, nil); w.Code != 404 {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}
}
