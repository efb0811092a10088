package statuspage_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/statuspage"
)

func TestIndexAllNormal(t *testing.T) {
	e := newEnv(t)
	r := e.get(t, "/")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "All systems normal", `action="/subscribe"`)
	headers := map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "public, max-age=10",
	}
	for name, want := range headers {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'none' and no script source", csp)
	}
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "style=") {
		t.Error("the page holds a script or an inline style, which the CSP blocks")
	}
	etag := r.header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := e.get(t, "/", "If-None-Match", etag)
	wantStatus(t, again, http.StatusNotModified)
	if again.body != "" || again.header.Get("ETag") != etag {
		t.Errorf("304 carried body %q, ETag %q", again.body, again.header.Get("ETag"))
	}
}

func TestIndexShowsPublished(t *testing.T) {
	e := newEnv(t)
	id := e.incident(t)
	first := e.publish(t, id, firebreak.PhaseInvestigating, "Sign-in <problems> & resets",
		"We see failed sign-ins.\n\nSome accounts must reset their password. <script>alert(1)</script>")
	e.clock.Add(10 * time.Minute)
	second := e.publish(t, id, firebreak.PhaseIdentified, "Credential stuffing identified", "Blocked at the edge.")
	r := e.get(t, "/")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "Current incidents", "Credential stuffing identified",
		"Sign-in &lt;problems&gt; &amp; resets", "&lt;script&gt;alert(1)&lt;/script&gt;",
		"<p>We see failed sign-ins.</p>", "Next update by", second.NextUpdateBy.Format("2006-01-02 15:04 UTC"),
		"(in 30 minutes)", `href="/incidents/`)
	if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "All systems normal") {
		t.Fatal("the page shows unescaped input or claims all is normal")
	}
	newer, older := strings.Index(r.body, `id="update-`+itoa(second.ID)), strings.Index(r.body, `id="update-`+itoa(first.ID))
	if newer < 0 || older < 0 || newer > older {
		t.Errorf("updates at %d (newer) and %d (older), want newest first", newer, older)
	}
	e.publish(t, id, firebreak.PhaseResolved, "Resolved", "All accounts are safe.")
	wantContains(t, e.get(t, "/").body, "All systems normal")
}

func TestIndexOverdue(t *testing.T) {
	e := newEnv(t)
	u := e.publish(t, e.incident(t), firebreak.PhaseMonitoring, "Watching", "Watching.")
	e.clock.Add(45 * time.Minute)
	r := e.get(t, "/")
	wantContains(t, r.body, "is late", u.NextUpdateBy.Format("2006-01-02 15:04 UTC"), "(15 minutes ago)")
}

// TestIndexCache checks that the page is reused for CacheFor, and shows a
// publish at once when the publisher invalidates it.
func TestIndexCache(t *testing.T) {
	e := newEnv(t)
	before := e.get(t, "/").body
	u := &firebreak.StatusUpdate{Phase: firebreak.PhaseInvestigating, Title: "Notice A", Body: "b",
		Author: "alice", NextUpdateBy: t0.Add(time.Hour)}
	if err := e.status.Publish(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, "/").body; got != before {
		t.Fatal("the cached page changed before it expired")
	}
	e.clock.Add(time.Second)
	wantContains(t, e.get(t, "/").body, "Notice A")
	e.publish(t, 0, firebreak.PhaseMonitoring, "Notice B", "b")
	wantContains(t, e.get(t, "/").body, "Notice B")
}

func TestThreadPages(t *testing.T) {
	e := newEnv(t)
	id := e.incident(t)
	silent := e.incident(t) // has no public updates
	e.publish(t, id, firebreak.PhaseInvestigating, "Looking", "First.")
	e.publish(t, id, firebreak.PhaseResolved, "Fixed", "Last.")
	e.publish(t, 0, firebreak.PhaseMonitoring, "Notices are genuine", "Yes, we sent them.")
	r := e.get(t, "/incidents/"+itoa(id))
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "<h1>Fixed</h1>", "First.", "Last.", "No further updates are planned")
	wantContains(t, e.get(t, "/notices").body, "Notices are genuine")
	for _, path := range []string{"/incidents/" + itoa(silent), "/incidents/999", "/incidents/0", "/incidents/-1", "/incidents/abc", "/nope"} {
		t.Run(path, func(t *testing.T) {
			r := e.get(t, path)
			wantStatus(t, r, http.StatusNotFound)
			if strings.Contains(r.body, "internal title") {
				t.Error("a 404 reveals the incident")
			}
		})
	}
}

func TestHistory(t *testing.T) {
	e := newEnv(t, func(c *statuspage.Config) { c.HistoryPageSize = 2 })
	id := e.incident(t)
	for _, title := range []string{"one", "two", "three", "four", "five"} {
		e.publish(t, id, firebreak.PhaseInvestigating, "update "+title, "b")
	}
	next := regexp.MustCompile(`rel="next" href="([^"]+)"`)
	var titles []string
	path := "/history"
	for range 4 {
		r := e.get(t, path)
		wantStatus(t, r, http.StatusOK)
		titles = append(titles, regexp.MustCompile(`update (\w+)`).FindAllString(r.body, -1)...)
		m := next.FindStringSubmatch(r.body)
		if m == nil {
			break
		}
		path = strings.ReplaceAll(m[1], "&amp;", "&")
	}
	if got := strings.Join(titles, ","); got != "update five,update four,update three,update two,update one" {
		t.Fatalf("history = %s, want every update once, newest first", got)
	}
	wantStatus(t, e.get(t, "/history?cursor=bogus"), http.StatusBadRequest)
}

// TestMountedUnderPrefix checks that links carry BaseURL's path.
func TestMountedUnderPrefix(t *testing.T) {
	e := newEnv(t, func(c *statuspage.Config) { c.BaseURL = "https://example.com/status/" })
	mux := http.NewServeMux()
	mux.Handle("/status/", http.StripPrefix("/status", e.h))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/status/", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /status/ = %d", w.Code)
	}
	css := regexp.MustCompile(`href="(/status/assets/status\.[0-9a-f]+\.css)"`).FindStringSubmatch(w.Body.String())
	if css == nil {
		t.Fatalf("no stylesheet under /status/assets in\n%s", w.Body)
	}
	wantContains(t, w.Body.String(), `href="/status/history"`, `action="/status/subscribe"`)
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", css[1], nil))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/css; charset=utf-8" ||
		!strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("stylesheet: %d %v", w.Code, w.Header())
	}
}

func TestNewConfigErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		cfg  statuspage.Config
		want string
	}{
		{"no store", statuspage.Config{BaseURL: baseURL}, "Status"},
		{"no base URL", statuspage.Config{Status: e.status}, "BaseURL"},
		{"relative base URL", statuspage.Config{Status: e.status, BaseURL: "/status"}, "BaseURL"},
		{"negative limit", statuspage.Config{Status: e.status, BaseURL: baseURL, RateLimit: -1}, "RateLimit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := statuspage.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
